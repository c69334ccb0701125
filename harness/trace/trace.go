// Package trace owns `forkfuzz trace -- PROGRAM`: it runs any Python program
// unchanged with instrumentation injected through the environment (a
// sitecustomize on PYTHONPATH, embedded here, that every Python process of the
// run loads, spawned children included), records at every fork which
// resources other threads held, proves deadlocks from /proc for every process
// of the run's tree, and explains what it found: a certificate for a proved
// deadlock, or hazards (predicted deadlocks) for a run that did not hang.
package trace

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/forkfuzz/forkfuzz/harness/guard"
)

// DefaultTimeout bounds a run whose Options.Timeout is zero. A deadlock is
// proved long before; the timeout only ends a hang that cannot be proved.
const DefaultTimeout = 2 * time.Minute

// Options says what to trace.
type Options struct {
	// Argv is the program and its arguments, e.g. {"python3", "-m", "pytest"}.
	Argv []string
	// Timeout ends a run that neither finishes nor deadlocks provably; the
	// verdict is then "hang". Zero means DefaultTimeout.
	Timeout time.Duration
	// Env is the program's environment; nil means this process's. The trace
	// adds FORKFUZZ_TRACE_DIR and puts its sitecustomize first on PYTHONPATH.
	Env []string
	// Stdout and Stderr receive the program's output; nil discards it.
	// Stderr is also read for the 3.12+ fork DeprecationWarning.
	Stdout, Stderr io.Writer
}

// Run runs the program of o in its own process group until it exits, a
// process of its tree is proved deadlocked, the timeout passes or ctx ends;
// then it kills what is left of the tree and reports. An error means the
// program could not be traced at all (bad options, no temporary directory,
// the program did not start).
func Run(ctx context.Context, o Options) (*Report, error) {
	if len(o.Argv) == 0 {
		return nil, fmt.Errorf("trace: no program to run")
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	work, cleanup, err := guard.TempDir("forkfuzz-trace-")
	if err != nil {
		return nil, fmt.Errorf("trace: %w", err)
	}
	defer cleanup()
	pyDir, err := instrumentation(work)
	if err != nil {
		return nil, fmt.Errorf("trace: %w", err)
	}
	traceDir := filepath.Join(work, "trace")
	if err := os.Mkdir(traceDir, 0o755); err != nil {
		return nil, fmt.Errorf("trace: %w", err)
	}
	env := o.Env
	if env == nil {
		env = os.Environ()
	}
	out, err := execute(ctx, o, withTrace(env, pyDir, traceDir), traceDir)
	if err != nil {
		return nil, fmt.Errorf("trace %s: %w", o.Argv[0], err)
	}
	recs, err := readRecords(traceDir)
	if err != nil {
		return nil, fmt.Errorf("trace %s: %w", o.Argv[0], err)
	}
	return analyze(recs, out), nil
}
