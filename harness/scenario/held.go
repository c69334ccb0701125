package scenario

// Hold is a resource held at the moment of the fork.
type Hold struct {
	Resource string
	Thread   string // the holding thread's name, or "main" for the forking thread
	Inside   bool   // parked inside an operation on it; else taken and not yet released
	Step     int    // index, in the holder's steps, of the take or of the park
}

// HeldAtFork lists what is held at the fork. The parent forks only once every
// park is reached and resumes them only after the fork, so a started thread
// holds what it took and did not release before its first park, plus what it
// parks inside; main holds what it took and did not release before the fork.
// A thread that never parks is not known to hold anything. The order is that
// of the threads' starts, then main; each holder's takes in take order, then
// what it parks inside.
func (s *Scenario) HeldAtFork() []Hold {
	var out []Hold
	fork := len(s.Main)
	for i, st := range s.Main {
		if st.Op == OpFork {
			fork = i
			break
		}
	}
	for _, st := range s.Main[:fork] {
		if st.Op != OpStart {
			continue
		}
		if t := s.Thread(st.Thread); t != nil {
			for i, step := range t.Steps {
				if step.Op == OpPark {
					out = append(out, held(t.Name, t.Steps[:i])...)
					if step.Resource != "" {
						out = append(out, Hold{Resource: step.Resource, Thread: t.Name, Inside: true, Step: i})
					}
					break
				}
			}
		}
	}
	return append(out, held("main", s.Main[:fork])...)
}

// held lists what steps took and did not release, in take order.
func held(thread string, steps []Step) []Hold {
	at := map[string]int{} // resource -> index of its take
	var order []string
	for i, st := range steps {
		switch st.Op {
		case OpTake:
			if _, ok := at[st.Resource]; !ok {
				order = append(order, st.Resource)
			}
			at[st.Resource] = i
		case OpRelease:
			delete(at, st.Resource)
		}
	}
	var out []Hold
	for _, r := range order {
		if i, ok := at[r]; ok {
			out = append(out, Hold{Resource: r, Thread: thread, Step: i})
		}
	}
	return out
}
