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
	for _, h := range s.HeldAtFork() {
		held[h.Resource] = true
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
