package shrink

import (
	"testing"

	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

// planted is a scenario with one fork bug (thread holder parks holding L,
// the child uses L) surrounded by threads, resources and steps that do not
// matter.
func planted() *scenario.Scenario {
	st := func(op scenario.Op, res string) scenario.Step { return scenario.Step{Op: op, Resource: res} }
	return &scenario.Scenario{
		Name: "planted",
		Resources: []scenario.Resource{{Name: "A", Kind: scenario.RLock}, {Name: "L", Kind: scenario.Lock},
			{Name: "Q", Kind: scenario.Queue}, {Name: "X", Kind: scenario.Executor, Workers: 2}},
		Threads: []scenario.Thread{
			{Name: "noise", Steps: []scenario.Step{st(scenario.OpUse, "Q"), st(scenario.OpTake, "A"), {Op: scenario.OpPark, Event: "n"}, st(scenario.OpRelease, "A")}},
			{Name: "holder", Steps: []scenario.Step{st(scenario.OpUse, "A"), st(scenario.OpTake, "L"), st(scenario.OpUse, "Q"), {Op: scenario.OpPark, Event: "held"}, st(scenario.OpRelease, "L"), st(scenario.OpUse, "X")}},
			{Name: "other", Steps: []scenario.Step{{Op: scenario.OpPark, Event: "o", Resource: "X"}, {Op: scenario.OpSignal, Event: "sig"}}},
		},
		Main: []scenario.Step{
			{Op: scenario.OpStart, Thread: "noise"}, {Op: scenario.OpStart, Thread: "holder"}, {Op: scenario.OpStart, Thread: "other"},
			{Op: scenario.OpWait, Event: "n"}, {Op: scenario.OpWait, Event: "held"}, {Op: scenario.OpWait, Event: "o"},
			st(scenario.OpUse, "Q"),
			{Op: scenario.OpFork, Fork: &scenario.Fork{Via: scenario.ViaPool, Processes: 3, Tasks: 5, Child: []scenario.Step{
				st(scenario.OpUse, "Q"), st(scenario.OpTake, "A"), st(scenario.OpUse, "L"), st(scenario.OpRelease, "A"), st(scenario.OpUse, "X"), {Op: scenario.OpExit}}}},
			st(scenario.OpUse, "A"), {Op: scenario.OpWait, Event: "sig"},
		},
	}
}

// holdsAtFork reports whether some thread holds resource kind k at its park.
func holdsAtFork(s *scenario.Scenario, k scenario.Kind) bool {
	for _, t := range s.Threads {
		held := map[string]bool{}
	steps:
		for _, st := range t.Steps {
			switch st.Op {
			case scenario.OpTake:
				held[st.Resource] = true
			case scenario.OpRelease:
				delete(held, st.Resource)
			case scenario.OpPark:
				if st.Resource != "" {
					held[st.Resource] = true
				}
				for r := range held {
					if s.Resource(r).Kind == k {
						return true
					}
				}
				break steps
			}
		}
	}
	return false
}

// childUses reports whether the child takes or uses a resource of kind k.
func childUses(s *scenario.Scenario, k scenario.Kind) bool {
	for _, st := range s.ForkStep().Fork.Child {
		if (st.Op == scenario.OpUse || st.Op == scenario.OpTake) && s.Resource(st.Resource).Kind == k {
			return true
		}
	}
	return false
}

func TestMinimize(t *testing.T) {
	tests := []struct {
		name      string
		keep      func(*scenario.Scenario) bool
		threads   int
		resources int
		child     int
		main      int
		via       scenario.Via
	}{
		{
			name:    "lock held at the fork, child uses it",
			keep:    func(s *scenario.Scenario) bool { return holdsAtFork(s, scenario.Lock) && childUses(s, scenario.Lock) },
			threads: 1, resources: 1, child: 1, main: 3, via: scenario.ViaOSFork,
		},
		{
			name: "executor parked in, only under a pool",
			keep: func(s *scenario.Scenario) bool {
				return s.ForkStep().Fork.Via == scenario.ViaPool && holdsAtFork(s, scenario.Executor) && childUses(s, scenario.Executor)
			},
			threads: 1, resources: 1, child: 1, main: 3, via: scenario.ViaPool,
		},
		{
			name:    "anything with a fork",
			keep:    func(s *scenario.Scenario) bool { return true },
			threads: 0, resources: 0, child: 0, main: 1, via: scenario.ViaOSFork,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := planted()
			if err := in.Validate(); err != nil {
				t.Fatalf("planted scenario is invalid: %v", err)
			}
			if !tt.keep(in) {
				t.Fatal("predicate rejects the planted scenario")
			}
			seen := map[string]bool{}
			keep := func(c *scenario.Scenario) bool {
				if err := c.Validate(); err != nil {
					t.Errorf("keep called with an invalid candidate: %v", err)
				}
				if h := c.Hash(); seen[h] {
					t.Errorf("keep called twice with one scenario:\n%s", scenario.Marshal(c))
				} else {
					seen[h] = true
				}
				return tt.keep(c)
			}
			out, stats := Minimize(in, keep)
			t.Logf("%+v\n%s", stats, scenario.Marshal(out))
			f := out.ForkStep().Fork
			if len(out.Threads) != tt.threads || len(out.Resources) != tt.resources || len(f.Child) != tt.child || len(out.Main) != tt.main || f.Via != tt.via {
				t.Errorf("got %d threads, %d resources, %d child steps, %d main steps, via %s; want %d, %d, %d, %d, %s",
					len(out.Threads), len(out.Resources), len(f.Child), len(out.Main), f.Via, tt.threads, tt.resources, tt.child, tt.main, tt.via)
			}
			if f.Via == scenario.ViaPool && (f.Tasks != scenario.MinTasks || f.Processes != scenario.MinProcesses) {
				t.Errorf("pool not simplified: %d processes, %d tasks", f.Processes, f.Tasks)
			}
			if !tt.keep(out) {
				t.Error("the predicate rejects the result")
			}
			if planted().Hash() != in.Hash() {
				t.Error("Minimize changed its input")
			}
			// 1-minimal: no single cut of the result is valid and accepted.
			for _, p := range passes {
				for _, c := range p(out) {
					if c.Validate() == nil && c.Hash() != out.Hash() && tt.keep(c) {
						t.Errorf("result is not 1-minimal: this cut is accepted:\n%s", scenario.Marshal(c))
					}
				}
			}
			if stats.Calls == 0 || stats.Candidates < stats.Calls+stats.Invalid {
				t.Errorf("stats do not add up: %+v", stats)
			}
		})
	}
}

// TestMinimizeKeepsOriginal: when nothing smaller is accepted, the result is
// the input (a copy).
func TestMinimizeKeepsOriginal(t *testing.T) {
	in := planted()
	out, stats := Minimize(in, func(*scenario.Scenario) bool { return false })
	if out.Hash() != in.Hash() || out == in {
		t.Errorf("got a different scenario or the same pointer")
	}
	if stats.Accepted != 0 || stats.Rounds != 1 {
		t.Errorf("stats %+v, want no accepted cut and one round", stats)
	}
}
