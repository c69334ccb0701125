// Package render owns turning a Scenario into the standalone Python program
// that runs it: readable by a person, deterministic by parking (no sleeps),
// runnable with a plain python3 (3.8 to 3.13, standard library only) under
// --start-method fork|spawn|forkserver, and reporting its progress with the
// trace protocol of scenarios/FORMAT.md. It also says on which line of the
// program each step blocks, for certificates.
package render

import (
	"fmt"

	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

// Options says how to render. The zero value renders the scenario as is.
type Options struct {
	// Source is the scenario file named in the program's header; "" names none.
	Source string
	// ReinitAtFork adds an os.register_at_fork(after_in_child=...) hook that
	// re-creates every resource in the child: the mitigation `prove` checks.
	ReinitAtFork bool
}

// Program is a rendered scenario.
type Program struct {
	Source []byte     // the Python program
	Steps  []StepLine // one per step of main, the child and every thread, in that order
}

// StepLine says where a step's blocking operation is in the program.
type StepLine struct {
	Who   string // "main", "child" or "thread/NAME"
	Index int    // 0-based index of the step in Who's list (as in the trace)
	Op    scenario.Op
	Line  int // 1-based line of the operation that can block (for a park inside a resource, that operation)
}

// Write renders s. It expects a validated scenario, but returns an error
// rather than panicking on anything it cannot render.
func Write(s *scenario.Scenario, opts Options) (*Program, error) {
	if s == nil {
		return nil, fmt.Errorf("render: no scenario")
	}
	g, err := newGen(s, opts)
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", s.Name, err)
	}
	if err := g.program(); err != nil {
		return nil, fmt.Errorf("render %s: %w", s.Name, err)
	}
	return &Program{Source: []byte(g.e.b.String()), Steps: g.steps}, nil
}
