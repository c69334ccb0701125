// Package bench owns forkfuzz's speed figures, measured side by side in one
// run on one machine: executions per second per start method (with and
// without the persistent executor), the block-to-verdict latency of a proved
// deadlock, the same deadlocks judged the naive way (a fresh interpreter
// under a plain timeout), and the floors they are compared with (a bare
// os.fork loop, an interpreter's start-up). It derives the ratios, judges the
// targets, and writes the figures as JSON so that later runs can be compared.
package bench

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"github.com/forkfuzz/forkfuzz/harness/python"
	"github.com/forkfuzz/forkfuzz/harness/run"
	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

// Runner runs one execution to its verdict: run.Execute, or the same through
// the persistent executor.
type Runner func(ctx context.Context, x run.Execution) run.Result

// ExecutorHook starts the persistent executor for one interpreter and returns
// its Runner and how to stop it.
type ExecutorHook func(ctx context.Context, py python.Interpreter) (Runner, func() error, error)

// Options says what to measure. Zero values mean the defaults named.
type Options struct {
	Python    python.Interpreter
	Scenarios []*scenario.Scenario // the library; its cases are rendered into Dir
	Dir       string               // where programs are written (required)
	Duration  time.Duration        // per throughput measurement and for the fork floor; 0 means 5 s
	Jobs      int                  // executions in parallel; 0 means runtime.NumCPU()
	// StartRuns is how many times each interpreter start-up is timed, and
	// how many spawn cases are timed one at a time; 0 means 20.
	StartRuns int
	// NaiveRuns is how many deadlocking cases run under the plain timeout, Jobs
	// at a time; 0 means 2 x Jobs. NaiveTimeout is that timeout; 0 means 5 s.
	NaiveRuns    int
	NaiveTimeout time.Duration
	Timeout      time.Duration // per forkfuzz execution before an unproven hang; 0 means 10 s
	// Executor, when set, is measured too; nil reports "not available".
	Executor ExecutorHook
	// Progress, if not nil, is told what is being measured, often (from
	// several goroutines, one call at a time).
	Progress func(status string)
}

// Report is every figure of one bench run. Times are in milliseconds.
type Report struct {
	Python        string    `json:"python"`
	PythonVersion string    `json:"python_version"`
	When          time.Time `json:"when"`
	CPUs          int       `json:"cpus"`
	Jobs          int       `json:"jobs"`
	DurationS     float64   `json:"duration_s"` // per throughput measurement
	Executor      string    `json:"executor"`   // "measured", "not available" or why it failed

	Throughput  []Throughput `json:"throughput"`
	Detect      Detect       `json:"detect"`
	Naive       Naive        `json:"naive"`
	Floors      Floors       `json:"floors"`
	SpawnCaseMS float64      `json:"spawn_case_ms"` // median run time of a one-child spawn case, one at a time
	SpawnCases  int          `json:"spawn_cases"`   // how many were timed
	Ratios      Ratios       `json:"ratios"`
	Targets     []Target     `json:"targets"`
}

// Throughput is one start method, with or without the executor, over the
// library's cases for that method, Jobs at a time for Duration.
type Throughput struct {
	Method     string  `json:"method"`
	Executor   bool    `json:"executor"`
	Cases      int     `json:"cases"`      // distinct library cases cycled through
	Executions int     `json:"executions"` // completed
	Seconds    float64 `json:"seconds"`    // wall time, until the last one finished
	PerSec     float64 `json:"per_sec"`
	Unexpected int     `json:"unexpected"` // verdicts that differ from the scenario's expect: block
	RunP50MS   float64 `json:"run_p50_ms"` // one execution's run time, in parallel
}

// Detect is the block-to-verdict latency of proved deadlocks (Result.DetectMS),
// from the fork cases, executions in parallel.
type Detect struct {
	Samples      int     `json:"samples"`
	P50MS        float64 `json:"p50_ms"`
	P95MS        float64 `json:"p95_ms"`
	MaxMS        float64 `json:"max_ms"`
	ElapsedP50MS float64 `json:"elapsed_p50_ms"` // whole run time of a deadlocking case, start to verdict and cleanup
	Executor     bool    `json:"executor"`       // measured through the executor
}

// Naive is the same deadlocking cases run as `timeout 5 python prog.py`.
type Naive struct {
	Runs         int     `json:"runs"`
	TimeoutS     float64 `json:"timeout_s"`
	TimedOut     int     `json:"timed_out"` // runs that only the timeout ended
	ElapsedP50MS float64 `json:"elapsed_p50_ms"`
}

// Floors are what the machine and interpreter cannot go below.
type Floors struct {
	ForkPerSec float64 `json:"fork_per_sec"` // os.fork + os._exit(0) + waitpid, one Python loop
	StartMS    float64 `json:"start_ms"`     // median of `python -c pass`
	MPStartMS  float64 `json:"mp_start_ms"`  // median of `python -c "import multiprocessing"`
	// SpawnMS is the floor of a spawn case: the median of a program that
	// starts one spawn child doing nothing and joins it, which costs three
	// interpreter starts (parent, resource tracker, child).
	SpawnMS float64 `json:"spawn_ms"`
}

// Ratios compare forkfuzz with the naive way and the floors.
type Ratios struct {
	NaiveOverForkfuzz float64 `json:"naive_over_forkfuzz"` // naive run time / forkfuzz run time on deadlocking cases
	SpawnOverFloor    float64 `json:"spawn_over_floor"`    // spawn case time / spawn floor
	ForkOverFloor     float64 `json:"fork_over_floor"`     // fork executions/s (executor if measured) / bare forks/s
}

// Run measures everything in Options and judges the targets.
func Run(ctx context.Context, opts Options) (*Report, error) {
	opts = withDefaults(opts)
	cs, err := makeCases(opts.Scenarios, opts.Python.Version, opts.Dir)
	if err != nil {
		return nil, err
	}
	r := &Report{Python: opts.Python.Path, PythonVersion: opts.Python.Version, When: time.Now().UTC().Truncate(time.Second),
		CPUs: runtime.NumCPU(), Jobs: opts.Jobs, DurationS: opts.Duration.Seconds(), Executor: "not available"}
	var deadlocks []run.Result
	for _, m := range scenario.Methods {
		t, res, err := throughput(ctx, opts, cs.byMethod[m], m, nil)
		if err != nil {
			return nil, err
		}
		r.Throughput = append(r.Throughput, t)
		if m == scenario.MethodFork {
			deadlocks = res
		}
	}
	if opts.Executor != nil {
		exRes, status := measureExecutor(ctx, opts, cs, r)
		r.Executor = status
		if exRes != nil {
			deadlocks = exRes
			r.Detect.Executor = true
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r.Detect = detect(deadlocks, r.Detect.Executor)
	if r.Naive, err = naive(ctx, opts, cs.deadlocks); err != nil {
		return nil, err
	}
	if r.Floors, err = floors(ctx, opts); err != nil {
		return nil, err
	}
	if r.SpawnCaseMS, r.SpawnCases, err = spawnCase(ctx, opts, cs.oneChildSpawn); err != nil {
		return nil, err
	}
	computeRatios(r)
	Judge(r)
	return r, nil
}

func withDefaults(o Options) Options {
	if o.Duration <= 0 {
		o.Duration = 5 * time.Second
	}
	if o.Jobs < 1 {
		o.Jobs = runtime.NumCPU()
	}
	if o.StartRuns < 1 {
		o.StartRuns = 20
	}
	if o.NaiveRuns < 1 {
		o.NaiveRuns = 2 * o.Jobs
	}
	if o.NaiveTimeout <= 0 {
		o.NaiveTimeout = 5 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Progress == nil {
		o.Progress = func(string) {}
	}
	return o
}

// measureExecutor measures every method through the executor. It returns
// the fork deadlocks it proved (for the latency figures), or nil and why it
// could not measure.
func measureExecutor(ctx context.Context, opts Options, cs cases, r *Report) ([]run.Result, string) {
	opts.Progress("starting the executor")
	runner, stop, err := opts.Executor(ctx, opts.Python)
	if err != nil {
		return nil, fmt.Sprintf("failed to start: %v", err)
	}
	defer stop()
	var deadlocks []run.Result
	for _, m := range scenario.Methods {
		t, res, err := throughput(ctx, opts, cs.byMethod[m], m, runner)
		if err != nil {
			return nil, fmt.Sprintf("failed: %v", err)
		}
		r.Throughput = append(r.Throughput, t)
		if m == scenario.MethodFork {
			deadlocks = res
		}
	}
	return deadlocks, "measured"
}

// detect summarises the proved deadlocks among results.
func detect(results []run.Result, executor bool) Detect {
	var d, el []float64
	for _, r := range results {
		if r.Verdict == scenario.Deadlock {
			d = append(d, r.DetectMS)
			el = append(el, r.ElapsedMS)
		}
	}
	return Detect{Samples: len(d), P50MS: Quantile(d, 0.5), P95MS: Quantile(d, 0.95), MaxMS: Quantile(d, 1),
		ElapsedP50MS: Median(el), Executor: executor}
}
