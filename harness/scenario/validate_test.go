package scenario

import (
	"testing"
)

// built is what the generator would build: no file, no positions.
func built() *Scenario {
	return &Scenario{
		Name:      "built",
		Resources: []Resource{{Name: "L", Kind: Lock}},
		Threads: []Thread{{Name: "holder", Steps: []Step{
			{Op: OpTake, Resource: "L"}, {Op: OpPark, Event: "held"}, {Op: OpRelease, Resource: "L"},
		}}},
		Main: []Step{
			{Op: OpStart, Thread: "holder"},
			{Op: OpWait, Event: "held"},
			{Op: OpFork, Fork: &Fork{Via: ViaPool, Child: []Step{{Op: OpUse, Resource: "L"}}}},
		},
	}
}

// TestValidate checks rules on scenarios built in memory, whose errors
// carry a path instead of a position.
func TestValidate(t *testing.T) {
	if err := built().Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	for _, tc := range []struct {
		name   string
		break_ func(s *Scenario)
		want   string
	}{
		{"release not held", func(s *Scenario) { s.Threads[0].Steps = s.Threads[0].Steps[1:] },
			`threads.holder[1].resource: release of "L", which this thread does not hold here`},
		{"stray field", func(s *Scenario) { s.Main[0].Resource = "L" },
			`main[0].resource: start takes no resource`},
		{"missing operand", func(s *Scenario) { s.Main[1].Event = "" },
			"main[1].event: wait needs an event\nthreads.holder[1].event: main never waits for park \"held\" before the fork"},
		{"fork without fork", func(s *Scenario) { s.Main[2].Fork = nil },
			"main[2].fork: fork needs a fork"},
		{"unknown op", func(s *Scenario) { s.Main[0].Op = "spawn" },
			"main[0]: unknown step \"spawn\" (want one of take, release, use, park, signal, wait, start, fork, exit)\nthreads.holder: thread \"holder\" is never started"},
		{"duplicate resource", func(s *Scenario) { s.Resources = append(s.Resources, Resource{Name: "L", Kind: RLock}) },
			`resources.L: duplicate resource name "L"`},
		{"duplicate thread", func(s *Scenario) { s.Threads = append(s.Threads, Thread{Name: "holder"}) },
			`threads.holder: duplicate thread name "holder"`},
		{"negative processes", func(s *Scenario) { s.Main[2].Fork.Processes = -1 },
			"main[2].fork.processes: processes -1 is out of range 1 to 8 (MaxProcesses)"},
		{"empty kind", func(s *Scenario) { s.Resources[0].Kind = "" },
			`resources.L.kind: resource "L" has no kind`},
		{"invalid utf-8 about", func(s *Scenario) { s.About = "\xff" },
			"about: about is not valid UTF-8"},
		{"line separator in about", func(s *Scenario) { s.About = "a\u2028b" },
			"about: about contains the control character U+2028 (only newline and tab are allowed)"},
		{"no verdicts", func(s *Scenario) { s.Expect = []Expect{{Python: "3.12"}} },
			"expect[0]: expect block names no start method (fork, spawn, forkserver, default)"},
		{"unknown method", func(s *Scenario) { s.Expect = []Expect{{Verdicts: map[string]Verdict{"vfork": OK}}} },
			`expect[0].vfork: unknown key "vfork" in expect (allowed: python, fork, spawn, forkserver, default)`},
		{"wait for a child's signal", func(s *Scenario) {
			s.Main = append(s.Main, Step{Op: OpWait, Event: "done"})
			s.Main[2].Fork.Child = append(s.Main[2].Fork.Child, Step{Op: OpSignal, Event: "done"})
		}, `main[3].event: wait for event "done", which no park or signal sets`},
		{"mp-lock taken twice", func(s *Scenario) {
			s.Resources[0].Kind = MPLock
			s.Threads[0].Steps = append([]Step{{Op: OpTake, Resource: "L"}}, s.Threads[0].Steps...)
		}, `threads.holder[1].resource: take of "L", which this thread already holds: a mp-lock is not reentrant (self-deadlock)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := built()
			tc.break_(s)
			err := s.Validate()
			if err == nil {
				t.Fatalf("Validate accepted %+v", s)
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("Validate:\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestValidateNil(t *testing.T) {
	var s *Scenario
	if s.Validate() == nil {
		t.Errorf("Validate(nil) accepted")
	}
	if (&Scenario{}).Validate() == nil {
		t.Errorf("Validate(empty) accepted")
	}
}

func TestErrorFormat(t *testing.T) {
	for _, tc := range []struct {
		e    Error
		want string
	}{
		{Error{File: "f.yaml", Pos: Pos{3, 5}, Path: "main[0]", Msg: "m"}, "f.yaml:3:5: m"},
		{Error{File: "f.yaml", Pos: Pos{3, 0}, Msg: "m"}, "f.yaml:3: m"},
		{Error{File: "f.yaml", Path: "main[0]", Msg: "m"}, "f.yaml:main[0]: m"},
		{Error{Path: "main[0]", Msg: "m"}, "main[0]: m"},
		{Error{Msg: "m"}, "m"},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("%+v: got %q, want %q", tc.e, got, tc.want)
		}
	}
}

func TestLookups(t *testing.T) {
	s := built()
	if r := s.Resource("L"); r == nil || r.Kind != Lock {
		t.Errorf("Resource(L) = %v", r)
	}
	if s.Resource("M") != nil || s.Thread("nobody") != nil {
		t.Errorf("lookup of an unknown name found something")
	}
	if th := s.Thread("holder"); th == nil || len(th.Steps) != 3 {
		t.Errorf("Thread(holder) = %v", th)
	}
	if f := s.ForkStep(); f == nil || f.Fork.Via != ViaPool {
		t.Errorf("ForkStep() = %v", f)
	}
	if (&Scenario{}).ForkStep() != nil {
		t.Errorf("ForkStep of an empty scenario")
	}
}
