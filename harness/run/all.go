package run

import (
	"context"

	"github.com/sourcegraph/conc/pool"
)

// ExecuteAll runs xs with at most limit at a time (limit < 1 means 1) and
// returns their results in input order. each, if not nil, is called as each
// execution finishes, from its goroutine (for progress lines). Cancelling ctx
// kills every live tree promptly; the executions not yet started return at
// once with an "error" verdict saying they were cancelled.
func ExecuteAll(ctx context.Context, xs []Execution, limit int, each func(i int, r Result)) []Result {
	if limit < 1 {
		limit = 1
	}
	results := make([]Result, len(xs))
	p := pool.New().WithMaxGoroutines(limit)
	for i, x := range xs {
		p.Go(func() {
			results[i] = Execute(ctx, x)
			if each != nil {
				each(i, results[i])
			}
		})
	}
	p.Wait()
	return results
}
