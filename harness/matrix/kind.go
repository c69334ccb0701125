package matrix

import "github.com/forkfuzz/forkfuzz/harness/scenario"

// None files a scenario that declares no resource.
const None scenario.Kind = "none"

// KindOf says which resource kind a scenario is about: the first resource,
// in declaration order, that some thread or main holds at the fork (taken and
// not released, or parked inside); else the first the child uses; else the
// first declared. A scenario that mixes kinds (a telemetry lock next to a log
// handler) is filed under the one that is held, which is what it tests.
func KindOf(s *scenario.Scenario) scenario.Kind {
	held := map[string]bool{}
	for _, t := range s.Threads {
		for name := range heldAtPark(t.Steps) {
			held[name] = true
		}
	}
	for _, st := range s.Main {
		if st.Op == scenario.OpFork {
			break
		}
		switch st.Op {
		case scenario.OpTake:
			held[st.Resource] = true
		case scenario.OpRelease:
			delete(held, st.Resource)
		}
	}
	for _, r := range s.Resources {
		if held[r.Name] {
			return r.Kind
		}
	}
	if f := s.ForkStep(); f != nil {
		for _, st := range f.Fork.Child {
			if r := s.Resource(st.Resource); r != nil {
				return r.Kind
			}
		}
	}
	if len(s.Resources) > 0 {
		return s.Resources[0].Kind
	}
	return None
}

// heldAtPark returns what a thread holds at its first park: the parent
// forks only once every park is reached, so that is its state at the fork.
func heldAtPark(steps []scenario.Step) map[string]bool {
	held := map[string]bool{}
	for _, st := range steps {
		switch st.Op {
		case scenario.OpTake:
			held[st.Resource] = true
		case scenario.OpRelease:
			delete(held, st.Resource)
		case scenario.OpPark:
			if st.Resource != "" {
				held[st.Resource] = true
			}
			return held
		}
	}
	return map[string]bool{} // never parks: nothing is known to be held at the fork
}
