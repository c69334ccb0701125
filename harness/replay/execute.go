package replay

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/forkfuzz/forkfuzz/harness/corpus"
	"github.com/forkfuzz/forkfuzz/harness/guard"
	"github.com/forkfuzz/forkfuzz/harness/run"
)

// Run executes every case opts.Runs times, opts.Jobs executions at a time,
// and classifies each case as soon as its last run ends; each (may be nil) is
// then called, one call at a time. Deadlocks are proved from /proc, so a
// replay costs about its clean run times; only an unproven hang pays
// opts.Timeout. On interruption the cases not finished keep Status "" and
// Run returns ctx's error.
//
// The programs run from a temporary copy: a program writes its modules and
// caches next to itself, and a corpus kept in a repository stays clean.
func Run(ctx context.Context, cases []*Case, opts Options, each func(*Case)) error {
	dir, cleanup, err := guard.TempDir("forkfuzz-replay-")
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	defer cleanup()
	progs := map[*corpus.Entry]string{}
	for _, c := range cases {
		if _, ok := progs[c.Entry]; ok {
			continue
		}
		path := filepath.Join(dir, c.Entry.ID+".py")
		if err := os.WriteFile(path, c.Entry.Program, 0o644); err != nil {
			return fmt.Errorf("replay %s: %w", c.Entry.ID, err)
		}
		progs[c.Entry] = path
	}
	runs, jobs := max(opts.Runs, 1), max(opts.Jobs, 1)
	var execs []run.Execution
	var owner []*Case
	for _, c := range cases {
		c.Results, c.Got, c.Status, c.Reason = nil, "", "", ""
		for r := 0; r < runs; r++ {
			execs = append(execs, run.Execution{Name: c.Entry.ID, Program: progs[c.Entry],
				Python: c.Python.Path, PythonVersion: c.Python.Version, Method: c.Method,
				Timeout: opts.Timeout, Env: opts.Env, Executor: opts.Executor})
			owner = append(owner, c)
		}
	}
	var mu sync.Mutex
	run.ExecuteAll(ctx, execs, jobs, func(i int, r run.Result) {
		mu.Lock()
		defer mu.Unlock()
		if ctx.Err() != nil {
			return // a run cut short says nothing about the entry
		}
		c := owner[i]
		c.Results = append(c.Results, r)
		if len(c.Results) == runs {
			c.classify()
			if each != nil {
				each(c)
			}
		}
	})
	return ctx.Err()
}
