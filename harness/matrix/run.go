package matrix

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/forkfuzz/forkfuzz/harness/corpus"
	"github.com/forkfuzz/forkfuzz/harness/python"
	"github.com/forkfuzz/forkfuzz/harness/render"
	"github.com/forkfuzz/forkfuzz/harness/run"
	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

// FromScenario renders a library scenario into dir and makes its case.
func FromScenario(s *scenario.Scenario, dir string) (Case, error) {
	p, err := render.Write(s, render.Options{Source: s.File})
	if err != nil {
		return Case{}, fmt.Errorf("render %s: %w", s.Name, err)
	}
	prog := filepath.Join(dir, "scenario-"+s.Name+".py")
	if err := os.WriteFile(prog, p.Source, 0o644); err != nil {
		return Case{}, fmt.Errorf("write %s: %w", prog, err)
	}
	return Case{Kind: KindOf(s), Name: s.Name, Source: SourceScenario, Program: prog, Unguarded: s.Unguarded}, nil
}

// FromEntry makes the case of a corpus entry: its frozen program (written
// into dir, so that a run never touches the corpus), filed under its
// signature's kind.
func FromEntry(e *corpus.Entry, dir string) (Case, error) {
	prog := filepath.Join(dir, "corpus-"+e.ID+".py")
	if err := os.WriteFile(prog, e.Program, 0o644); err != nil {
		return Case{}, fmt.Errorf("write %s: %w", prog, err)
	}
	k := e.Meta.Signature.Kind
	if k == "" && e.Scenario != nil {
		k = KindOf(e.Scenario)
	}
	// The ID keeps two entries shrunk from one scenario apart.
	name := e.ID
	if e.Scenario != nil && e.Scenario.Name != "" {
		name = e.Scenario.Name + " " + e.ID[:min(8, len(e.ID))]
	}
	return Case{Kind: k, Name: name, Source: SourceCorpus, Program: prog, Unguarded: e.Scenario != nil && e.Scenario.Unguarded}, nil
}

// Options says how Run runs the cases.
type Options struct {
	Jobs    int           // executions in parallel; 0 means 1
	Timeout time.Duration // per execution, before an unproven hang; 0 means run.DefaultTimeout
	// Each, if not nil, is called as each execution finishes (from its
	// goroutine), for progress lines.
	Each func(r run.Result)
}

// Labels names each interpreter's column: its minor version, or its full
// version when another interpreter has the same minor.
func Labels(pythons []python.Interpreter) []string {
	count := map[string]int{}
	for _, p := range pythons {
		count[p.Minor]++
	}
	out := make([]string, len(pythons))
	for i, p := range pythons {
		out[i] = p.Minor
		if count[p.Minor] > 1 || p.Minor == "" {
			out[i] = p.Key()
		}
	}
	return out
}

// Run runs every case on every interpreter under every method, once, and
// fills the matrix. A cancelled ctx leaves the cells not yet run as "error"
// cells saying so; the caller decides whether to write them.
func Run(ctx context.Context, cases []Case, pythons []python.Interpreter, methods []string, opts Options) *Matrix {
	labels := Labels(pythons)
	m, rowOf := newMatrix(cases, labels, methods)
	type slot struct {
		row    int
		python string
	}
	var xs []run.Execution
	var slots []slot
	for ci, c := range cases {
		row := rowOf[ci]
		for i, py := range pythons {
			for _, meth := range methods {
				xs = append(xs, run.Execution{Name: c.Name, Program: c.Program, Python: py.Path,
					PythonVersion: py.Key(), Method: meth, Timeout: opts.Timeout})
				slots = append(slots, slot{row, labels[i]})
			}
		}
	}
	var each func(int, run.Result)
	if opts.Each != nil {
		each = func(_ int, r run.Result) { opts.Each(r) }
	}
	for i, r := range run.ExecuteAll(ctx, xs, opts.Jobs, each) {
		cell := Cell{Verdict: r.Verdict, Where: r.Where}
		if r.Verdict != scenario.OK && r.Verdict != scenario.Deadlock {
			cell.Reason = r.Reason
		}
		m.Set(slots[i].row, slots[i].python, xs[i].Method, cell)
	}
	return m
}
