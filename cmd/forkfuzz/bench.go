package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/forkfuzz/forkfuzz/harness/atomicfile"
	"github.com/forkfuzz/forkfuzz/harness/bench"
	"github.com/forkfuzz/forkfuzz/harness/executor"
	"github.com/forkfuzz/forkfuzz/harness/guard"
	"github.com/forkfuzz/forkfuzz/harness/python"
	"github.com/forkfuzz/forkfuzz/harness/run"
)

func init() {
	register(command{name: "bench", summary: "measure executions/s, deadlock verdict latency and the floors, against the targets", run: benchMain})
}

const benchUsage = `
Usage: forkfuzz bench [flags]

Measures, side by side in one run on this machine and one interpreter:
executions/s of the library's fork, spawn and forkserver cases (with and
without the persistent executor, when it is available); the latency from a
deadlock's block to its proof, p50 and p95, executions in parallel; the same
deadlocking cases under a plain 5 s timeout (the naive way); the floors (a
bare os.fork loop, 'python -c pass'); their ratios; and the targets, each
PASS or MISS: >= 300 fork executions/s with the executor, a spawn case within
1.25x of its floor (a program that starts one spawn child doing nothing and
joins it: three interpreter starts, the parent, multiprocessing's resource
tracker and the child), deadlock p50 <= 10 ms and p95 <= 50 ms, >= 100x
faster than the naive way on deadlocking cases.

Writes the figures as JSON (-o); --compare OLD.json prints the changes.
Exit code 0 once measured (whatever the targets), 2 for bad usage or input, 1
when interrupted.`

func benchMain(args []string) int {
	fs := newFlags("bench", benchUsage)
	var pythons listFlag
	fs.Var(&pythons, "python", "the interpreter: a version (3.12) or a path (default: python3 on PATH)")
	duration := fs.Duration("duration", 5*time.Second, "length of each throughput measurement and of the fork floor loop")
	jobs := fs.Int("jobs", runtime.NumCPU(), "executions in parallel")
	out := fs.String("o", "bench.json", "write the figures as JSON to `FILE` (\"\" for none)")
	compare := fs.String("compare", "", "print the changes since the report in `OLD.json`")
	dir := fs.String("scenarios", "scenarios", "the scenario library `DIR` whose cases are measured")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if *jobs < 1 || *duration <= 0 || fs.NArg() > 0 {
		errorf("bench", "--jobs and --duration must be positive, and bench takes no arguments")
		return exitUsage
	}
	if err := checkOutput("-o", *out); err != nil {
		errorf("bench", "%v", err)
		return exitUsage
	}
	var old *bench.Report
	if *compare != "" {
		var err error
		if old, err = bench.ReadFile(*compare); err != nil {
			errorf("bench", "%v", err)
			return exitUsage
		}
	}
	library, bad := loadScenarios("bench", []string{*dir})
	if bad > 0 || len(library) == 0 {
		return exitUsage
	}
	ctx, stop := interruptContext(run.KillAll)
	defer stop()
	found, _, err := python.Resolve(ctx, pythons)
	if err != nil {
		errorf("bench", "%v", err)
		return exitUsage
	}
	if len(found) != 1 {
		errorf("bench", "bench measures one interpreter; --python names %d", len(found))
		return exitUsage
	}
	tmp, cleanup, err := guard.TempDir("forkfuzz-bench-")
	if err != nil {
		errorf("bench", "%v", err)
		return exitUsage
	}
	defer cleanup()

	status := newStatusLine("bench", 3*time.Second)
	r, err := bench.Run(ctx, bench.Options{Python: found[0], Scenarios: library, Dir: tmp, Duration: *duration,
		Jobs: *jobs, Executor: executorHook(), Progress: status.set})
	status.stop()
	if err != nil {
		errorf("bench", "%v", err)
		if ctx.Err() != nil {
			return exitMismatch
		}
		return exitUsage
	}
	fmt.Print(r.Text())
	if old != nil {
		fmt.Print("\n" + bench.Compare(old, r))
	}
	if *out != "" {
		data, err := r.JSON()
		if err != nil {
			errorf("bench", "encode %s: %v", *out, err)
			return exitUsage
		}
		if err := atomicfile.Write(*out, data, 0o644); err != nil {
			errorf("bench", "%v", err) // it says "write FILE: ..."
			return exitUsage
		}
		fmt.Fprintf(os.Stderr, "forkfuzz bench: wrote %s\n", *out)
	}
	return exitOK
}

// executorHook runs fork-method executions through the persistent executor
// (one pre-started server per interpreter, forking a fresh child per case).
func executorHook() bench.ExecutorHook {
	return func(ctx context.Context, py python.Interpreter) (bench.Runner, func() error, error) {
		pool := executor.NewPool(ctx)
		runner := func(ctx context.Context, x run.Execution) run.Result {
			x.Executor = pool
			return run.Execute(ctx, x)
		}
		return runner, pool.Close, nil
	}
}

// statusLine prints the latest status every few seconds (x/tools/cmd/stress
// style): overwritten in place on a terminal, one line each otherwise.
type statusLine struct {
	mu   sync.Mutex
	cur  string
	done chan struct{}
	wg   sync.WaitGroup
	tty  bool
}

func newStatusLine(cmd string, every time.Duration) *statusLine {
	s := &statusLine{done: make(chan struct{}), tty: isTerminal(os.Stderr)}
	start := time.Now()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-s.done:
				return
			case <-tick.C:
				s.mu.Lock()
				line := fmt.Sprintf("%s: %s: %s", cmd, time.Since(start).Round(time.Second), s.cur)
				s.mu.Unlock()
				if s.tty {
					fmt.Fprint(os.Stderr, "\r\033[K"+line)
				} else {
					fmt.Fprintln(os.Stderr, line)
				}
			}
		}
	}()
	return s
}

func (s *statusLine) set(status string) {
	s.mu.Lock()
	s.cur = status
	s.mu.Unlock()
}

func (s *statusLine) stop() {
	close(s.done)
	s.wg.Wait()
	if s.tty {
		fmt.Fprint(os.Stderr, "\r\033[K")
	}
}
