package fuzz

import (
	"context"
	"errors"
	"sort"
	"testing"
	"time"

	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

// plantedKinds deadlock under fork on every CPython 3.8-3.13 (FACTS.md).
var plantedKinds = []scenario.Kind{scenario.Lock, scenario.RLock, scenario.Condition, scenario.Semaphore, scenario.Queue,
	scenario.SQLite, scenario.Module, scenario.BufferedWriter, scenario.Executor}

// plantedScenario hides one fork-only deadlock on a resource B of kind k
// (thread holder takes it, or parks inside it, at the fork; the child uses
// it) among another thread, two more resources and steps that do not matter.
func plantedScenario(k scenario.Kind) *scenario.Scenario {
	st := func(op scenario.Op, res string) scenario.Step { return scenario.Step{Op: op, Resource: res} }
	hold := []scenario.Step{st(scenario.OpTake, "B"), {Op: scenario.OpPark, Event: "held"}, st(scenario.OpRelease, "B")}
	if !takeable[k] {
		hold = []scenario.Step{{Op: scenario.OpPark, Event: "held", Resource: "B"}}
	}
	b := scenario.Resource{Name: "B", Kind: k}
	if k == scenario.Executor {
		b.Workers = 1
	}
	return &scenario.Scenario{
		Name:      "planted-" + string(k),
		Resources: []scenario.Resource{{Name: "N", Kind: scenario.RLock}, b, {Name: "U", Kind: scenario.Lock}},
		Threads: []scenario.Thread{
			{Name: "noise", Steps: []scenario.Step{st(scenario.OpUse, "U"), st(scenario.OpTake, "N"), {Op: scenario.OpPark, Event: "n"}, st(scenario.OpRelease, "N"), st(scenario.OpUse, "U")}},
			{Name: "holder", Steps: append([]scenario.Step{st(scenario.OpUse, "U")}, hold...)},
		},
		Main: []scenario.Step{
			{Op: scenario.OpStart, Thread: "noise"}, {Op: scenario.OpStart, Thread: "holder"},
			{Op: scenario.OpWait, Event: "n"}, {Op: scenario.OpWait, Event: "held"}, st(scenario.OpUse, "U"),
			{Op: scenario.OpFork, Fork: &scenario.Fork{Via: scenario.ViaProcess, Child: []scenario.Step{
				st(scenario.OpUse, "U"), st(scenario.OpUse, "B"), st(scenario.OpUse, "U"), {Op: scenario.OpExit}}}},
			st(scenario.OpUse, "U"),
		},
	}
}

// TestReducePlanted shrinks a planted deadlock of each kind, for real on
// python3, to one holder thread, one resource, one fork and one child step.
func TestReducePlanted(t *testing.T) {
	r := newRunner(t)
	for _, k := range plantedKinds {
		t.Run(string(k), func(t *testing.T) {
			t.Parallel()
			s := plantedScenario(k)
			if err := s.Validate(); err != nil {
				t.Fatalf("planted scenario is invalid: %v", err)
			}
			red, err := Reduce(context.Background(), r, s)
			if err != nil {
				t.Fatalf("Reduce: %v", err)
			}
			m := red.Minimal
			t.Logf("%s: %d executions, %s\n%s", red.Signature, red.Stats.Executions, red.Stats.Elapsed.Round(time.Millisecond), scenario.Marshal(m))
			f := m.ForkStep()
			if len(m.Threads) != 1 || len(m.Resources) != 1 || m.Resources[0].Kind != k || len(f.Fork.Child) != 1 {
				t.Errorf("not minimal: %d threads, %d resources, %d child steps; want 1 %s, 1, 1", len(m.Threads), len(m.Resources), len(f.Fork.Child), k)
			}
			if red.Signature.Kind != k || red.Fork.Verdict != scenario.Deadlock || red.Spawn.Verdict != scenario.OK {
				t.Errorf("signature kind %s, fork %s, spawn %s; want %s, deadlock, ok", red.Signature.Kind, red.Fork.Verdict, red.Spawn.Verdict, k)
			}
		})
	}
}

// TestReduceNotDeadlock: a scenario that completes under fork is refused,
// saying what it did.
func TestReduceNotDeadlock(t *testing.T) {
	r := newRunner(t)
	s := plantedScenario(scenario.Lock)
	s.Resources[1].Kind = scenario.MPLock // shared: the child is woken when the holder releases
	_, err := Reduce(context.Background(), r, s)
	var nd *NotDeadlockError
	if !errors.As(err, &nd) || nd.Result.Verdict != scenario.OK {
		t.Fatalf("Reduce = %v, want a NotDeadlockError with verdict ok", err)
	}
}

// BenchmarkShrink shrinks each deadlocking scenario of the library
// (scenarios/*.yaml), then each planted scenario (bigger: two extra threads'
// worth of noise), and reports the p50 and p95 shrink time and the
// executions per shrink (targets: p50 <= 10 s, p95 <= 60 s).
func BenchmarkShrink(b *testing.B) {
	r := newRunner(b)
	library, _ := scenario.ParseDir("../../scenarios")
	var planted []*scenario.Scenario
	for _, k := range plantedKinds {
		planted = append(planted, plantedScenario(k))
	}
	for _, set := range []struct {
		name string
		all  []*scenario.Scenario
	}{{"library", library}, {"planted", planted}} {
		b.Run(set.name, func(b *testing.B) { benchShrink(b, r, set.all) })
	}
}

func benchShrink(b *testing.B, r *Runner, all []*scenario.Scenario) {
	var times []time.Duration
	execs, shrunk := 0, 0
	for i := 0; i < b.N; i++ {
		for _, s := range all {
			red, err := Reduce(context.Background(), r, s)
			if err != nil {
				b.Logf("%s: %v", s.Name, err) // not a fork deadlock here, or a flake
				continue
			}
			times = append(times, red.Stats.Elapsed)
			execs += red.Stats.Executions
			shrunk++
		}
	}
	if shrunk == 0 {
		b.Skip("no scenario deadlocks under fork")
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	pct := func(p float64) float64 { return times[int(p*float64(len(times)-1)+0.5)].Seconds() }
	b.ReportMetric(pct(0.50), "p50-s")
	b.ReportMetric(pct(0.95), "p95-s")
	b.ReportMetric(float64(execs)/float64(shrunk), "execs/shrink")
	b.Logf("%d shrinks of %d scenarios", shrunk, len(all))
}
