package scenario

import (
	"testing"
)

// bytePicker turns fuzz bytes into choices; past the end every choice is 0.
type bytePicker struct{ b []byte }

func (p *bytePicker) n(max int) int {
	if len(p.b) == 0 || max <= 0 {
		return 0
	}
	v := int(p.b[0]) % max
	p.b = p.b[1:]
	return v
}

func (p *bytePicker) pick(from []string) string { return from[p.n(len(from))] }

// count picks a number for a count option: 0 (the default) first, then
// values around and outside the valid range.
func (p *bytePicker) count(max int) int {
	if v := p.n(max + 4); v != 0 {
		return v - 2
	}
	return 0
}

// Few names, so that references often hit something declared, plus the
// hostile ones that must never pass the name rule.
var fuzzNames = []string{"L", "M", "t", "ev", "held", "", "ff_x", "a b", "x\n", "é", "__import__('os')",
	"L\x00", "Lock_with_a_very_long_name_over_32", "t"}

var fuzzKinds = append(append([]Kind{}, Kinds...), "", "padlock")
var fuzzOps = []Op{OpTake, OpRelease, OpUse, OpPark, OpSignal, OpWait, OpStart, OpFork, OpExit, "", "jump"}

func (p *bytePicker) steps(depth int) []Step {
	n := p.n(6)
	if n == 0 {
		return nil // as Parse leaves an empty list
	}
	steps := make([]Step, n)
	for i := range steps {
		st := &steps[i]
		st.Op = fuzzOps[p.n(len(fuzzOps))]
		if p.n(2) == 1 {
			st.Resource = p.pick(fuzzNames)
		}
		if p.n(2) == 1 {
			st.Event = p.pick(fuzzNames)
		}
		if p.n(3) == 1 {
			st.Thread = p.pick(fuzzNames)
		}
		if st.Op == OpFork || p.n(8) == 1 {
			st.Fork = p.fork(depth)
		}
	}
	return steps
}

func (p *bytePicker) fork(depth int) *Fork {
	vias := []Via{ViaOSFork, ViaProcess, ViaPool, "", "spawn"}
	f := &Fork{Via: vias[p.n(len(vias))], Processes: p.count(MaxProcesses), Tasks: p.count(MaxTasks)}
	if depth < 2 {
		f.Child = p.steps(depth + 1)
	}
	return f
}

// fuzzScenario builds a scenario from data. Choice 0 is always a sensible
// one, so short inputs build small valid scenarios (no bytes: a bare fork)
// and mutations reach the rules from there.
func fuzzScenario(data []byte) *Scenario {
	p := &bytePicker{b: data}
	s := &Scenario{Name: []string{"x", "ok-name", "", "Bad", "a\nb"}[p.n(5)], About: []string{"", "about", "a\x00b", "\u202e", "\"\"\""}[p.n(5)]}
	for i := p.n(5); i > 0; i-- {
		r := Resource{Name: p.pick(fuzzNames), Kind: fuzzKinds[p.n(len(fuzzKinds))]}
		switch p.n(4) {
		case 1:
			r.Target = []string{TargetPipe, TargetStdout, "file"}[p.n(3)]
		case 2:
			r.Workers = p.count(MaxWorkers)
		}
		s.Resources = append(s.Resources, r)
	}
	for i := p.n(4); i > 0; i-- {
		s.Threads = append(s.Threads, Thread{Name: p.pick(fuzzNames), Steps: p.steps(0)})
	}
	s.Main = p.steps(0)
	// Usually start every thread and wait for every park, as a valid
	// scenario must: without this, almost no input with threads is valid.
	for _, t := range s.Threads {
		if p.n(4) != 3 {
			s.Main = append(s.Main, Step{Op: OpStart, Thread: t.Name})
		}
		for _, st := range t.Steps {
			if st.Op == OpPark && p.n(4) != 3 {
				s.Main = append(s.Main, Step{Op: OpWait, Event: st.Event})
			}
		}
	}
	if p.n(8) != 7 {
		s.Main = append(s.Main, Step{Op: OpFork, Fork: p.fork(0)})
	}
	s.Unguarded = p.n(4) == 1
	for i := p.n(3); i > 0; i-- {
		e := Expect{Python: []string{"", "3.12", ">=3.8", "3.13-3.8", "x"}[p.n(5)], Verdicts: map[string]Verdict{}}
		for j := p.n(4); j > 0; j-- {
			e.Verdicts[[]string{"fork", "spawn", "forkserver", "vfork"}[p.n(4)]] = Verdicts[p.n(len(Verdicts))]
		}
		s.Expect = append(s.Expect, e)
	}
	return s
}

// FuzzValidate builds scenarios in memory from the fuzz bytes, as the
// generator and the shrinker do, with nil forks, empty and hostile names and
// unknown kinds. Validate must never panic; what it accepts has only names
// the renderer may paste into Python, and survives Marshal and Parse.
func FuzzValidate(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("\x01\x00\x01\x00\x00\x01\x00\x03\x00\x00\x00\x07\x01\x02\x01\x00\x00"))
	f.Add([]byte("valid-ish scenario bytes: take park release start wait fork"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s := fuzzScenario(data)
		err := s.Validate()
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		for _, n := range namesOf(s) {
			if !nameRE.MatchString(n) || len(n) >= 3 && n[:3] == "ff_" {
				t.Fatalf("Validate accepted the name %q", n)
			}
		}
		roundTrip(t, s)
	})
}

// namesOf lists every resource, thread and event name in s.
func namesOf(s *Scenario) []string {
	var names []string
	var steps func([]Step)
	steps = func(list []Step) {
		for _, st := range list {
			for _, n := range []string{st.Resource, st.Event, st.Thread} {
				if n != "" {
					names = append(names, n)
				}
			}
			if st.Fork != nil {
				steps(st.Fork.Child)
			}
		}
	}
	for _, r := range s.Resources {
		names = append(names, r.Name)
	}
	for _, t := range s.Threads {
		names = append(names, t.Name)
		steps(t.Steps)
	}
	steps(s.Main)
	return names
}

// TestFuzzScenarioBase: no bytes build a valid scenario, so FuzzValidate
// starts from what Validate accepts rather than from a wall of errors.
func TestFuzzScenarioBase(t *testing.T) {
	if err := fuzzScenario(nil).Validate(); err != nil {
		t.Fatalf("fuzzScenario(nil): %v", err)
	}
}
