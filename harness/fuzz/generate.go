// Package fuzz owns the search for fork-only deadlocks: generating random
// valid scenarios, the differential oracle that judges each one (deadlock
// under fork, completes under spawn and forkserver), the predicate that lets
// package shrink reduce a finding without changing its signature, and the
// campaign that runs all of it in parallel and records each new signature in
// the corpus.
package fuzz

import (
	"fmt"
	"math/rand"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"

	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

// Generate returns the scenario of one case seed. The same seed gives the
// same scenario, whatever else was generated before: a case regenerates alone.
func Generate(seed int64) *scenario.Scenario {
	params := &gopter.GenParameters{MaxSize: 8, Rng: rand.New(rand.NewSource(seed))}
	v, ok := Scenarios()(params).Retrieve()
	if !ok {
		return nil
	}
	s := v.(*scenario.Scenario)
	s.Name = fmt.Sprintf("fuzz-%016x", uint64(seed))
	return s
}

// Scenarios is the gopter generator of valid scenarios. Each draw picks the
// resources, the 1 to 3 threads with what each holds where it parks (the
// moment of the fork), how the parent forks and what the child does.
//
// It keeps away from logic deadlocks that would stop the parent before the
// fork: each resource is held at the fork by at most one holder, and before
// its park a thread touches only resources that no one holds at the fork.
func Scenarios() gopter.Gen {
	return func(p *gopter.GenParameters) *gopter.GenResult {
		b := &builder{p: p, s: &scenario.Scenario{Name: "fuzz"}, claimed: map[string]bool{}}
		b.build()
		return gopter.NewGenResult(b.s, gopter.NoShrinker)
	}
}

// builder draws one scenario; every choice goes through a gopter generator
// on the same parameters, so the seed alone decides the result.
type builder struct {
	p       *gopter.GenParameters
	s       *scenario.Scenario
	claimed map[string]bool // resources held at the fork by a thread or main
}

func (b *builder) intn(lo, hi int) int {
	v, _ := gen.IntRange(lo, hi)(b.p).Retrieve()
	return v.(int)
}

// chance is true with probability num/den.
func (b *builder) chance(num, den int) bool { return b.intn(1, den) <= num }

func (b *builder) kind() scenario.Kind {
	v, _ := gen.OneConstOf(anyKinds()...)(b.p).Retrieve()
	return v.(scenario.Kind)
}

func anyKinds() []interface{} {
	out := make([]interface{}, len(scenario.Kinds))
	for i, k := range scenario.Kinds {
		out[i] = k
	}
	return out
}

// Kinds whose take holds something.
var takeable = map[scenario.Kind]bool{scenario.Lock: true, scenario.RLock: true, scenario.Condition: true, scenario.Semaphore: true, scenario.Queue: true, scenario.LoggingModule: true, scenario.MPLock: true}

func (b *builder) build() {
	b.resources()
	n := b.intn(1, 3)
	for i := 0; i < n; i++ {
		b.thread(i)
	}
	b.mainSteps()
}

func (b *builder) resources() {
	n := b.intn(1, 4)
	stdout, logmod := false, false
	for i := 0; i < n; i++ {
		r := scenario.Resource{Name: fmt.Sprintf("R%d", i), Kind: b.kind()}
		switch r.Kind {
		case scenario.LoggingModule:
			if logmod { // one logging module: a second would alias it
				r.Kind = scenario.Lock
			}
			logmod = true
		case scenario.BufferedWriter:
			if !stdout && b.chance(1, 8) {
				r.Target, stdout = scenario.TargetStdout, true
			}
		case scenario.Executor:
			r.Workers = b.intn(1, 2)
		}
		b.s.Resources = append(b.s.Resources, r)
	}
}

// pick returns a resource that ok accepts, or nil.
func (b *builder) pick(ok func(*scenario.Resource) bool) *scenario.Resource {
	var c []*scenario.Resource
	for i := range b.s.Resources {
		if ok(&b.s.Resources[i]) {
			c = append(c, &b.s.Resources[i])
		}
	}
	if len(c) == 0 {
		return nil
	}
	return c[b.intn(0, len(c)-1)]
}

// thread draws one thread: takes, a park (inside a resource or not), then
// releases in reverse order and maybe one more use after the fork.
func (b *builder) thread(i int) {
	t := scenario.Thread{Name: fmt.Sprintf("T%d", i)}
	var held []string
	for k := b.intn(0, 2); k > 0; k-- {
		r := b.pick(func(r *scenario.Resource) bool { return takeable[r.Kind] && !b.claimed[r.Name] })
		if r == nil {
			break
		}
		b.claimed[r.Name] = true
		held = append(held, r.Name)
		t.Steps = append(t.Steps, scenario.Step{Op: scenario.OpTake, Resource: r.Name})
	}
	park := scenario.Step{Op: scenario.OpPark, Event: fmt.Sprintf("E%d", i)}
	if len(held) == 0 || b.chance(1, 2) {
		if r := b.pick(func(r *scenario.Resource) bool { return !b.claimed[r.Name] }); r != nil {
			b.claimed[r.Name] = true
			park.Resource = r.Name
		}
	}
	t.Steps = append(t.Steps, park)
	for k := len(held) - 1; k >= 0; k-- {
		t.Steps = append(t.Steps, scenario.Step{Op: scenario.OpRelease, Resource: held[k]})
	}
	if b.chance(1, 4) {
		r := b.s.Resources[b.intn(0, len(b.s.Resources)-1)]
		if r.Kind != scenario.BufferedWriter || r.Target != scenario.TargetStdout {
			t.Steps = append(t.Steps, scenario.Step{Op: scenario.OpUse, Resource: r.Name})
		}
	}
	b.s.Threads = append(b.s.Threads, t)
}

// mainSteps starts every thread, waits for every park, maybe takes a free
// resource itself, forks, and releases it afterwards.
func (b *builder) mainSteps() {
	s := b.s
	for _, t := range s.Threads {
		s.Main = append(s.Main, scenario.Step{Op: scenario.OpStart, Thread: t.Name})
	}
	for _, t := range s.Threads {
		for _, st := range t.Steps {
			if st.Op == scenario.OpPark {
				s.Main = append(s.Main, scenario.Step{Op: scenario.OpWait, Event: st.Event})
			}
		}
	}
	// Before the fork, main uses only what nobody holds (else it would wait
	// for a parked thread forever) and may take one free resource.
	if r := b.pick(func(r *scenario.Resource) bool { return !b.claimed[r.Name] }); r != nil && b.chance(1, 4) {
		s.Main = append(s.Main, scenario.Step{Op: scenario.OpUse, Resource: r.Name})
	}
	var mainHeld string
	if r := b.pick(func(r *scenario.Resource) bool { return takeable[r.Kind] && !b.claimed[r.Name] }); r != nil && b.chance(1, 4) {
		mainHeld = r.Name
		s.Main = append(s.Main, scenario.Step{Op: scenario.OpTake, Resource: r.Name})
	}
	s.Main = append(s.Main, scenario.Step{Op: scenario.OpFork, Fork: b.fork()})
	if mainHeld != "" {
		s.Main = append(s.Main, scenario.Step{Op: scenario.OpRelease, Resource: mainHeld})
	}
}

func (b *builder) fork() *scenario.Fork {
	f := &scenario.Fork{Via: scenario.Vias[b.intn(0, len(scenario.Vias)-1)]}
	if f.Via == scenario.ViaPool {
		f.Processes = b.intn(1, 3)
		f.Tasks = b.intn(1, 4)
	}
	for k := b.intn(1, 3); k > 0; k-- {
		r := b.s.Resources[b.intn(0, len(b.s.Resources)-1)]
		if takeable[r.Kind] && b.chance(1, 3) {
			// take ... release keeps a pool worker, which runs the child
			// steps once per task, from taking a lock it still holds.
			f.Child = append(f.Child, scenario.Step{Op: scenario.OpTake, Resource: r.Name},
				scenario.Step{Op: scenario.OpRelease, Resource: r.Name})
			continue
		}
		f.Child = append(f.Child, scenario.Step{Op: scenario.OpUse, Resource: r.Name})
	}
	if b.chance(1, 5) {
		f.Child = append(f.Child, scenario.Step{Op: scenario.OpExit})
	}
	return f
}
