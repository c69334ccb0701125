package executor_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/forkfuzz/forkfuzz/harness/executor"
	"github.com/forkfuzz/forkfuzz/harness/python"
	"github.com/forkfuzz/forkfuzz/harness/render"
	"github.com/forkfuzz/forkfuzz/harness/run"
	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

// library renders every scenario of scenarios/ into a temporary folder and
// returns the programs by scenario name.
func library(t testing.TB) map[string]string {
	t.Helper()
	files, err := filepath.Glob("../../scenarios/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	dir := t.TempDir()
	progs := map[string]string{}
	for _, file := range files {
		s, err := scenario.ParseFile(file)
		if err != nil {
			t.Fatal(err)
		}
		p, err := render.Write(s, render.Options{Source: file})
		if err != nil {
			t.Fatal(err)
		}
		prog := filepath.Join(dir, s.Name+".py")
		if err := os.WriteFile(prog, p.Source, 0o644); err != nil {
			t.Fatal(err)
		}
		progs[s.Name] = prog
	}
	return progs
}

func interpreters(t testing.TB) []python.Interpreter {
	t.Helper()
	ins, _, err := python.Resolve(context.Background(), []string{"all"})
	if err != nil || len(ins) == 0 {
		t.Skipf("no python interpreter: %v", err)
	}
	return ins
}

// outcome is what must not change with the executor: the verdict, where the
// deadlock is, and the step the stuck process blocked in. Not the stack:
// executor-one-worker blocks in submit() or in result() by a race of its own
// (the submitting thread may not have left submit() at the fork), 8 and 6
// times in 40 on 3.8 with and without the executor.
func outcome(r run.Result) string {
	blocked := ""
	if r.Evidence != nil {
		for _, e := range r.Events {
			if e.Pid == r.Evidence.Pid && e.Event == "step" {
				blocked = e.Args
			}
		}
	}
	return fmt.Sprintf("%s where=%q blocked=%q", r.Verdict, r.Where, blocked)
}

// TestScenarioLibrarySame runs every scenario under the fork method on every
// interpreter found, with a fresh interpreter and on the executor, and wants
// the same verdict, Where and blocked step.
func TestScenarioLibrarySame(t *testing.T) {
	progs := library(t)
	ins := interpreters(t)
	ctx := context.Background()
	pool := executor.NewPool(ctx)
	defer pool.Close()
	var xs []run.Execution
	for _, in := range ins {
		for name, prog := range progs {
			x := run.Execution{Name: name, Program: prog, Python: in.Path, PythonVersion: in.Version,
				Method: scenario.MethodFork, Timeout: 20 * time.Second}
			xs = append(xs, x)
			x.Executor = pool
			xs = append(xs, x)
		}
	}
	rs := run.ExecuteAll(ctx, xs, 2, nil)
	deadlocks := 0
	for i := 0; i < len(rs); i += 2 {
		fresh, exec := rs[i], rs[i+1]
		if outcome(fresh) != outcome(exec) {
			t.Errorf("%s on %s:\nfresh:    %s %s\nexecutor: %s %s", fresh.Scenario, fresh.PythonVersion,
				outcome(fresh), fresh.Reason, outcome(exec), exec.Reason)
		}
		if exec.Verdict == scenario.Deadlock {
			deadlocks++
			// The stack reads as a fresh interpreter's: no frame of the server.
			if strings.Contains(exec.Stack, `File "<stdin>"`) || exec.Stack == "" {
				t.Errorf("%s on %s: executor stack with the server's frames, or none:\n%s", exec.Scenario, exec.PythonVersion, exec.Stack)
			}
		}
	}
	t.Logf("%d scenarios x %d interpreters, %d executor deadlocks", len(progs), len(ins), deadlocks)
	if deadlocks == 0 {
		t.Errorf("no deadlock proved: the comparison proves nothing")
	}
}
