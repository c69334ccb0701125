package render

import (
	"fmt"
	"sort"

	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

// gen renders one scenario.
type gen struct {
	s    *scenario.Scenario
	opts Options
	e    emitter

	res     map[string]*scenario.Resource
	threads map[string]bool
	events  []string                      // in order of first use
	pipes   map[string]*scenario.Resource // park event -> the buffered writer it parks in
	pipeOrd []string                      // those events, in thread order
	fork    *scenario.Fork
	forkAt  int // index of the fork step in Main

	steps []StepLine
}

func newGen(s *scenario.Scenario, opts Options) (*gen, error) {
	g := &gen{s: s, opts: opts, res: map[string]*scenario.Resource{}, threads: map[string]bool{},
		pipes: map[string]*scenario.Resource{}, forkAt: -1}
	for i := range s.Resources {
		r := &s.Resources[i]
		if err := checkIdent("resource", r.Name); err != nil {
			return nil, err
		}
		if varName(r) == "" {
			return nil, fmt.Errorf("resource %s: unknown kind %q", r.Name, r.Kind)
		}
		if g.res[r.Name] != nil {
			return nil, fmt.Errorf("resource %s declared twice", r.Name)
		}
		g.res[r.Name] = r
	}
	for _, t := range s.Threads {
		if err := checkIdent("thread", t.Name); err != nil {
			return nil, err
		}
		if g.threads[t.Name] {
			return nil, fmt.Errorf("thread %s declared twice", t.Name)
		}
		g.threads[t.Name] = true
	}
	seen := map[string]bool{}
	note := func(steps []scenario.Step) error {
		for _, st := range steps {
			if st.Op == scenario.OpFork && st.Fork != nil {
				continue
			}
			if st.Event == "" || seen[st.Event] {
				continue
			}
			if err := checkIdent("event", st.Event); err != nil {
				return err
			}
			seen[st.Event] = true
			g.events = append(g.events, st.Event)
		}
		return nil
	}
	for _, t := range s.Threads {
		if err := note(t.Steps); err != nil {
			return nil, err
		}
		for _, st := range t.Steps {
			if r := g.res[st.Resource]; st.Op == scenario.OpPark && r != nil && r.Kind == scenario.BufferedWriter {
				g.pipes[st.Event] = r
				g.pipeOrd = append(g.pipeOrd, st.Event)
			}
		}
	}
	for i, st := range s.Main {
		if st.Op != scenario.OpFork {
			continue
		}
		if g.fork != nil {
			return nil, fmt.Errorf("main forks twice")
		}
		if st.Fork == nil {
			return nil, fmt.Errorf("main:%d: fork step without a fork", i)
		}
		g.fork, g.forkAt = st.Fork, i
	}
	if g.fork == nil {
		return nil, fmt.Errorf("main never forks")
	}
	if err := note(s.Main); err != nil {
		return nil, err
	}
	if err := note(g.fork.Child); err != nil {
		return nil, err
	}
	return g, nil
}

// has reports whether any resource is of kind k.
func (g *gen) has(k scenario.Kind) bool {
	for _, r := range g.s.Resources {
		if r.Kind == k {
			return true
		}
	}
	return false
}

func (g *gen) hasStdout() bool {
	for i := range g.s.Resources {
		if isStdout(&g.s.Resources[i]) {
			return true
		}
	}
	return false
}

func (g *gen) mpLocks() []string {
	var names []string
	for i := range g.s.Resources {
		if r := &g.s.Resources[i]; r.Kind == scenario.MPLock {
			names = append(names, varName(r))
		}
	}
	return names
}

// program writes the whole program, top to bottom.
func (g *gen) program() error {
	g.header()
	g.imports()
	g.prelude()
	if err := g.resources(); err != nil {
		return err
	}
	if g.opts.ReinitAtFork {
		g.reinitHook()
	}
	for _, t := range g.s.Threads {
		if err := g.thread(t); err != nil {
			return err
		}
	}
	if err := g.child(); err != nil {
		return err
	}
	if err := g.mainFunc(); err != nil {
		return err
	}
	g.sortSteps()
	return nil
}

// sortSteps orders the step lines main, child, then threads as declared.
func (g *gen) sortSteps() {
	rank := map[string]int{"main": 0, "child": 1}
	for i, t := range g.s.Threads {
		rank["thread/"+t.Name] = 2 + i
	}
	sort.SliceStable(g.steps, func(i, j int) bool {
		a, b := g.steps[i], g.steps[j]
		if rank[a.Who] != rank[b.Who] {
			return rank[a.Who] < rank[b.Who]
		}
		return a.Index < b.Index
	})
}
