package certify

import (
	"fmt"

	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

// forkIndex is the index of main's fork step (-1 when there is none).
func forkIndex(s *scenario.Scenario) int {
	for i, st := range s.Main {
		if st.Op == scenario.OpFork {
			return i
		}
	}
	return -1
}

// started lists the threads main starts before the fork, in order.
func started(s *scenario.Scenario) []*scenario.Thread {
	var out []*scenario.Thread
	for i := 0; i < forkIndex(s); i++ {
		if st := s.Main[i]; st.Op == scenario.OpStart {
			if t := s.Thread(st.Thread); t != nil {
				out = append(out, t)
			}
		}
	}
	return out
}

// firstPark is the index of t's first park (-1 when it never parks). A
// thread's state at the fork is its state there: the parent forks only once
// every park is reached, and resumes them only after the fork.
func firstPark(t *scenario.Thread) int {
	for i, st := range t.Steps {
		if st.Op == scenario.OpPark {
			return i
		}
	}
	return -1
}

// holders lists what every thread held at the fork (scenario.HeldAtFork),
// each with the line of the rendered program that holds it.
func holders(s *scenario.Scenario, p *program) []Holder {
	var out []Holder
	for _, h := range s.HeldAtFork() {
		who := "main"
		if h.Thread != "main" {
			who = "thread/" + h.Thread
		}
		out = append(out, holder(s, h.Thread, h.Resource, h.Inside, p.site(who, h.Step)))
	}
	return out
}

func holder(s *scenario.Scenario, thread, res string, inside bool, site Site) Holder {
	h := Holder{Thread: thread, Resource: res, Inside: inside, Site: site}
	if r := s.Resource(res); r != nil {
		h.Kind = r.Kind
	}
	return h
}

// alive lists the threads alive at the fork, as threading.enumerate() before
// the fork would have shown them: main, every parked thread, every executor
// worker started by then, and the started threads that may have finished.
func alive(s *scenario.Scenario) []string {
	out := []string{"MainThread"}
	executors := map[string]bool{}
	touch := func(steps []scenario.Step) {
		for _, st := range steps {
			if r := s.Resource(st.Resource); r != nil && r.Kind == scenario.Executor && st.Op != scenario.OpRelease {
				executors[r.Name] = true
			}
		}
	}
	if k := forkIndex(s); k >= 0 {
		touch(s.Main[:k])
	}
	for _, t := range started(s) {
		k := firstPark(t)
		if k < 0 {
			out = append(out, fmt.Sprintf("%s (started, never parks: may have finished)", t.Name))
			touch(t.Steps)
			continue
		}
		touch(t.Steps[:k+1])
		if r := t.Steps[k].Resource; r != "" {
			out = append(out, fmt.Sprintf("%s (parked inside %s)", t.Name, r))
		} else {
			out = append(out, fmt.Sprintf("%s (parked at %s)", t.Name, t.Steps[k].Event))
		}
	}
	for _, r := range s.Resources {
		if executors[r.Name] {
			out = append(out, fmt.Sprintf("the worker thread of executor %s (ThreadPoolExecutor)", r.Name))
		}
	}
	return out
}
