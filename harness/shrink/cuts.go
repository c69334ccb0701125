package shrink

import "github.com/forkfuzz/forkfuzz/harness/scenario"

// A pass lists every candidate of one kind of cut of s, in a stable order.
// Each candidate is a fresh clone; none of them is s.
type pass func(s *scenario.Scenario) []*scenario.Scenario

// passes, biggest cuts first, simplifications last.
var passes = []pass{dropThreads, dropResources, dropRanges, dropSteps, simplify}

// dropThreads removes one thread with its start step, and every wait for an
// event only it set.
func dropThreads(s *scenario.Scenario) []*scenario.Scenario {
	var out []*scenario.Scenario
	for i := range s.Threads {
		c := s.Clone()
		name := c.Threads[i].Name
		c.Threads = append(c.Threads[:i:i], c.Threads[i+1:]...)
		c.Main = filter(c.Main, func(st scenario.Step) bool {
			return !(st.Op == scenario.OpStart && st.Thread == name)
		})
		out = append(out, tidy(c))
	}
	return out
}

// dropResources removes one resource and every step on it; a park inside it
// becomes a plain park, so that the waits for it stay satisfied.
func dropResources(s *scenario.Scenario) []*scenario.Scenario {
	var out []*scenario.Scenario
	for i := range s.Resources {
		c := s.Clone()
		name := c.Resources[i].Name
		c.Resources = append(c.Resources[:i:i], c.Resources[i+1:]...)
		forEachList(c, func(steps *[]scenario.Step) {
			kept := (*steps)[:0]
			for _, st := range *steps {
				switch {
				case st.Op == scenario.OpPark && st.Resource == name:
					st.Resource = ""
				case st.Resource == name:
					continue
				}
				kept = append(kept, st)
			}
			*steps = kept
		})
		out = append(out, tidy(c))
	}
	return out
}

// dropRanges removes runs of consecutive steps from one list, halving the run
// length from half the list down to 2 (single steps are the next pass).
func dropRanges(s *scenario.Scenario) []*scenario.Scenario {
	var out []*scenario.Scenario
	lists := countLists(s)
	for li := 0; li < lists; li++ {
		n := len(*listOf(s, li))
		for size := n / 2; size >= 2; size /= 2 {
			for from := 0; from+size <= n; from += size {
				if c, ok := cut(s, li, from, from+size); ok {
					out = append(out, c)
				}
			}
		}
	}
	return out
}

// dropSteps removes one step.
func dropSteps(s *scenario.Scenario) []*scenario.Scenario {
	var out []*scenario.Scenario
	lists := countLists(s)
	for li := 0; li < lists; li++ {
		for i := range *listOf(s, li) {
			if c, ok := cut(s, li, i, i+1); ok {
				out = append(out, c)
			}
		}
	}
	return out
}

// simplify makes one thing simpler without removing it: fewer pool tasks and
// processes, pool -> process -> os.fork, no exit step, one executor worker.
func simplify(s *scenario.Scenario) []*scenario.Scenario {
	var out []*scenario.Scenario
	add := func(f func(c *scenario.Scenario) bool) {
		c := s.Clone()
		if f(c) {
			out = append(out, c)
		}
	}
	fork := forkOf
	if f := fork(s); f != nil {
		if f.Via == scenario.ViaPool {
			add(func(c *scenario.Scenario) bool {
				return lower(&fork(c).Tasks, scenario.DefaultTasks, scenario.MinTasks)
			})
			add(func(c *scenario.Scenario) bool {
				return lower(&fork(c).Processes, scenario.DefaultProcesses, scenario.MinProcesses)
			})
		}
		add(func(c *scenario.Scenario) bool {
			f := fork(c)
			switch f.Via {
			case scenario.ViaPool:
				f.Via, f.Processes, f.Tasks = scenario.ViaProcess, 0, 0
			case scenario.ViaProcess:
				f.Via = scenario.ViaOSFork
			default:
				return false
			}
			return true
		})
		add(func(c *scenario.Scenario) bool {
			f := fork(c)
			if n := len(f.Child); n > 0 && f.Child[n-1].Op == scenario.OpExit {
				f.Child = f.Child[:n-1]
				return true
			}
			return false
		})
	}
	for i := range s.Resources {
		add(func(c *scenario.Scenario) bool {
			r := &c.Resources[i]
			return r.Kind == scenario.Executor && lower(&r.Workers, scenario.DefaultWorkers, scenario.MinWorkers)
		})
	}
	return out
}

// lower sets *n (0 meaning def) to min, and reports whether that changed it.
func lower(n *int, def, min int) bool {
	v := *n
	if v == 0 {
		v = def
	}
	if v <= min {
		return false
	}
	*n = min
	return true
}

// cut removes steps [from, to) of list li of a clone of s, never the fork.
func cut(s *scenario.Scenario, li, from, to int) (*scenario.Scenario, bool) {
	c := s.Clone()
	steps := listOf(c, li)
	for _, st := range (*steps)[from:to] {
		if st.Op == scenario.OpFork {
			return nil, false
		}
	}
	*steps = append((*steps)[:from:from], (*steps)[to:]...)
	return tidy(c), true
}

// Lists are numbered: threads in order, then main, then the child.
func countLists(s *scenario.Scenario) int { return len(s.Threads) + 2 }

func listOf(s *scenario.Scenario, li int) *[]scenario.Step {
	switch {
	case li < len(s.Threads):
		return &s.Threads[li].Steps
	case li == len(s.Threads):
		return &s.Main
	}
	if f := forkOf(s); f != nil {
		return &f.Child
	}
	return new([]scenario.Step)
}

func forkOf(s *scenario.Scenario) *scenario.Fork {
	for i := range s.Main {
		if s.Main[i].Op == scenario.OpFork {
			return s.Main[i].Fork
		}
	}
	return nil
}

func forEachList(s *scenario.Scenario, f func(*[]scenario.Step)) {
	for li := 0; li < countLists(s); li++ {
		f(listOf(s, li))
	}
}

func filter(steps []scenario.Step, keep func(scenario.Step) bool) []scenario.Step {
	out := steps[:0]
	for _, st := range steps {
		if keep(st) {
			out = append(out, st)
		}
	}
	return out
}

// tidy removes the steps a cut left dangling, so that more cuts are valid:
// waits for events that nothing sets any more, releases of resources the
// list no longer holds, and starts of threads that no longer exist. It only
// removes steps, so every candidate stays smaller than the scenario it came
// from.
func tidy(s *scenario.Scenario) *scenario.Scenario {
	set := map[string]bool{}
	threads := map[string]bool{}
	forEachList(s, func(steps *[]scenario.Step) {
		for _, st := range *steps {
			if st.Op == scenario.OpPark || st.Op == scenario.OpSignal {
				set[st.Event] = true
			}
		}
	})
	for _, t := range s.Threads {
		threads[t.Name] = true
	}
	forEachList(s, func(steps *[]scenario.Step) {
		held := map[string]int{}
		*steps = filter(*steps, func(st scenario.Step) bool {
			switch st.Op {
			case scenario.OpWait:
				return set[st.Event]
			case scenario.OpStart:
				return threads[st.Thread]
			case scenario.OpTake:
				held[st.Resource]++
			case scenario.OpRelease:
				if held[st.Resource] == 0 {
					return false
				}
				held[st.Resource]--
			}
			return true
		})
	})
	return s
}
