package fuzz

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/forkfuzz/forkfuzz/harness/atomicfile"
	"github.com/forkfuzz/forkfuzz/harness/executor"
	"github.com/forkfuzz/forkfuzz/harness/python"
	"github.com/forkfuzz/forkfuzz/harness/render"
	"github.com/forkfuzz/forkfuzz/harness/run"
	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

// DefaultTimeout bounds one execution without proof. Deadlocks are proved
// within milliseconds, so only unproven hangs (a full pipe, say) wait for it.
const DefaultTimeout = 10 * time.Second

// Runner renders scenarios and runs them on one interpreter, counting the
// executions. It is safe for concurrent use.
type Runner struct {
	Python  python.Interpreter
	Dir     string        // where rendered programs are written; must exist
	Timeout time.Duration // per execution; 0 means DefaultTimeout
	// Executor, when not nil, runs fork-method executions by forking a
	// pre-started interpreter (same verdicts, no start-up paid); nil starts
	// a fresh interpreter each time.
	Executor *executor.Pool

	executions atomic.Int64
}

// Executions is the number of programs run so far.
func (r *Runner) Executions() int64 { return r.executions.Load() }

// Run renders s and runs it under method.
func (r *Runner) Run(ctx context.Context, s *scenario.Scenario, method string) (run.Result, error) {
	return r.runFor(ctx, s, method, 0)
}

// runFor is Run with a shorter timeout than the Runner's, when positive.
func (r *Runner) runFor(ctx context.Context, s *scenario.Scenario, method string, timeout time.Duration) (run.Result, error) {
	prog, err := r.write(s)
	if err != nil {
		return run.Result{}, err
	}
	limit := r.Timeout
	if limit == 0 {
		limit = DefaultTimeout
	}
	if timeout <= 0 || timeout > limit {
		timeout = limit
	}
	r.executions.Add(1)
	res := run.Execute(ctx, run.Execution{Name: s.Name, Program: prog, Python: r.Python.Path,
		PythonVersion: r.Python.Key(), Method: method, Timeout: timeout, Executor: r.Executor})
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("run %s under %s: %w", s.Name, method, err)
	}
	return res, nil
}

// write renders s into Dir, named by a hash of the whole program so that
// equal programs share one file and concurrent runs never write each
// other's. The whole program, not the scenario's Hash: its name and about
// (the docstring) shift the line numbers a stack shows.
func (r *Runner) write(s *scenario.Scenario) (string, error) {
	p, err := render.Write(s, render.Options{})
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(p.Source)
	path := filepath.Join(r.Dir, hex.EncodeToString(sum[:8])+".py")
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	if err := atomicfile.Write(path, p.Source, 0o644); err != nil {
		return "", fmt.Errorf("write program of %s: %w", s.Name, err)
	}
	return path, nil
}
