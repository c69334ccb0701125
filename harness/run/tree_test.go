package run

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/forkfuzz/forkfuzz/harness/guard"
	"github.com/forkfuzz/forkfuzz/harness/proc"
	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

// tagged copies the test programs into a fresh directory and returns it: the
// directory then names every process of the runs, in its command line or in
// its environment (FORKFUZZ_TEST_TAG, which spawned children inherit too).
func tagged(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files, _ := filepath.Glob("testdata/*.py")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// leftovers returns the pids whose command line or environment names dir,
// and our unreaped children (zombies have neither).
func leftovers(dir string) []int {
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid := 0
		for _, c := range e.Name() {
			if c < '0' || c > '9' {
				pid = -1
				break
			}
			pid = pid*10 + int(c-'0')
		}
		if pid <= 0 || pid == os.Getpid() || pid == guard.Pid() {
			continue
		}
		if st, err := proc.ReadStat(pid); err == nil && st.PPid == os.Getpid() {
			pids = append(pids, pid)
			continue
		}
		for _, f := range []string{"cmdline", "environ"} {
			b, _ := os.ReadFile(filepath.Join("/proc", e.Name(), f))
			if bytes.Contains(b, []byte(dir)) {
				pids = append(pids, pid)
				break
			}
		}
	}
	return pids
}

func TestExecuteCancel(t *testing.T) {
	dir := tagged(t)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	start := time.Now()
	r := Execute(ctx, Execution{Program: filepath.Join(dir, "sleeper.py"), Python: pythons(t)["python3"],
		Method: "fork", Timeout: 30 * time.Second, Env: []string{"FORKFUZZ_TEST_TAG=" + dir}})
	if d := time.Since(start); d > 15*time.Second { // far below the 30 s timeout: the cancel ended it
		t.Errorf("Execute took %s after a cancel at 300ms", d)
	}
	if r.Verdict != verdictError {
		t.Errorf("verdict %s (%s), want error", r.Verdict, r.Reason)
	}
	if left := leftovers(dir); len(left) > 0 {
		t.Errorf("processes left: %v", left)
	}
}

// TestExecuteAllBatch runs 50 mixed executions, 4 at a time: every verdict
// as expected, results in input order, and no process of the runs remains.
func TestExecuteAllBatch(t *testing.T) {
	dir := tagged(t)
	py := pythons(t)["python3"]
	kinds := []struct {
		program, method string
		timeout         time.Duration
		verdict         scenario.Verdict
	}{
		{"child_lock", "fork", 0, scenario.Deadlock},
		{"child_lock", "spawn", 0, scenario.OK},
		{"pool_worker", "fork", 0, scenario.Deadlock},
		{"parent_logging", "fork", 0, scenario.Deadlock},
		{"exit1", "fork", 0, verdictError},
		{"segv", "fork", 0, scenario.Crash},
		{"pipe_hang", "fork", 300 * time.Millisecond, scenario.Hang},
		{"child_lock", "forkserver", 0, scenario.OK},
		{"sleeper", "fork", 200 * time.Millisecond, scenario.Hang},
		{"mplock", "fork", 0, scenario.OK},
	}
	var xs []Execution
	for i := range 50 {
		k := kinds[i%len(kinds)]
		timeout := k.timeout
		if timeout == 0 {
			timeout = 20 * time.Second
		}
		xs = append(xs, Execution{Name: k.program, Program: filepath.Join(dir, k.program+".py"), Python: py,
			Method: k.method, Timeout: timeout, Env: []string{"FORKFUZZ_TEST_TAG=" + dir}})
	}
	var calls atomic.Int32
	rs := ExecuteAll(context.Background(), xs, 4, func(int, Result) { calls.Add(1) })
	if calls.Load() != 50 || len(rs) != 50 {
		t.Fatalf("each called %d times, %d results; want 50", calls.Load(), len(rs))
	}
	for i, r := range rs {
		k := kinds[i%len(kinds)]
		if r.Scenario != k.program || r.Verdict != k.verdict {
			t.Errorf("%d: %s %s %s, want %s %s (%s)", i, r.Scenario, r.Method, r.Verdict, k.program, k.verdict, r.Reason)
		}
	}
	if left := leftovers(dir); len(left) > 0 {
		t.Errorf("processes left: %v", left)
	}
}

func TestExecuteAllCancel(t *testing.T) {
	dir := tagged(t)
	py := pythons(t)["python3"]
	var xs []Execution
	for range 6 {
		xs = append(xs, Execution{Program: filepath.Join(dir, "sleeper.py"), Python: py, Method: "fork",
			Timeout: 30 * time.Second, Env: []string{"FORKFUZZ_TEST_TAG=" + dir}})
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	start := time.Now()
	rs := ExecuteAll(ctx, xs, 2, nil)
	if d := time.Since(start); d > 15*time.Second { // far below the 30 s timeout
		t.Errorf("ExecuteAll took %s after a cancel at 300ms", d)
	}
	for i, r := range rs {
		if r.Verdict != verdictError {
			t.Errorf("%d: verdict %s, want error (canceled)", i, r.Verdict)
		}
	}
	if left := leftovers(dir); len(left) > 0 {
		t.Errorf("processes left: %v", left)
	}
}

// TestKillAll: the CLI's signal handler kills every live tree; Execute still
// reaps it and returns at once.
func TestKillAll(t *testing.T) {
	dir := tagged(t)
	done := make(chan Result)
	go func() {
		done <- Execute(context.Background(), Execution{Program: filepath.Join(dir, "sleeper.py"),
			Python: pythons(t)["python3"], Method: "fork", Timeout: 30 * time.Second, Env: []string{"FORKFUZZ_TEST_TAG=" + dir}})
	}()
	time.Sleep(500 * time.Millisecond)
	KillAll()
	select {
	case r := <-done:
		if r.Verdict != scenario.Crash || r.Signal != "SIGKILL" {
			t.Errorf("verdict %s signal %q, want crash SIGKILL", r.Verdict, r.Signal)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Execute did not return after KillAll")
	}
	if left := leftovers(dir); len(left) > 0 {
		t.Errorf("processes left: %v", left)
	}
}
