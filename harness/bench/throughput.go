package bench

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/forkfuzz/forkfuzz/harness/run"
)

// throughput runs cs round robin, Jobs at a time, starting new executions
// until Duration has passed, and counts those that completed. It returns
// every result too (the fork run's deadlocks feed the latency figures).
func throughput(ctx context.Context, opts Options, cs []benchCase, method string, runner Runner) (Throughput, []run.Result, error) {
	t := Throughput{Method: method, Executor: runner != nil, Cases: len(cs)}
	if len(cs) == 0 {
		return t, nil, nil
	}
	if runner == nil {
		runner = run.Execute
	}
	label := method
	if t.Executor {
		label += " (executor)"
	}
	var mu sync.Mutex
	var results []run.Result
	next := 0
	start := time.Now()
	deadline := start.Add(opts.Duration)
	var wg sync.WaitGroup
	for range opts.Jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) && ctx.Err() == nil {
				mu.Lock()
				c := cs[next%len(cs)]
				next++
				mu.Unlock()
				r := runner(ctx, opts.execution(c))
				mu.Lock()
				if ctx.Err() == nil {
					results = append(results, r)
				}
				opts.Progress(fmt.Sprintf("%s: %d executions, %.0f/s", label, len(results), float64(len(results))/time.Since(start).Seconds()))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return t, nil, err
	}
	t.Seconds = time.Since(start).Seconds()
	t.Executions = len(results)
	t.PerSec = float64(t.Executions) / t.Seconds
	var runMS []float64
	for _, r := range results {
		runMS = append(runMS, r.ElapsedMS)
		if !sameCase(r, cs) {
			t.Unexpected++
		}
	}
	t.RunP50MS = Median(runMS)
	return t, results, nil
}

// sameCase reports whether r's verdict is what its scenario expects.
// Results arrive out of order, so the case is found by name.
func sameCase(r run.Result, cs []benchCase) bool {
	for _, c := range cs {
		if c.name == r.Scenario {
			return c.want == r.Verdict
		}
	}
	return false
}

func (o Options) execution(c benchCase) run.Execution {
	return run.Execution{Name: c.name, Program: c.program, Python: o.Python.Path,
		PythonVersion: o.Python.Version, Method: c.method, Timeout: o.Timeout}
}
