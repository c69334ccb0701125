package certify

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const code = `#!/usr/bin/env python3
import threading
lock_L = threading.Lock()
`

const hook = `def _fresh_in_child():
    """The mitigation under test: every resource re-created in the child."""
    global lock_L
    lock_L = threading.Lock()


os.register_at_fork(after_in_child=_fresh_in_child)`

// proved is a certificate as Prove collects it for lock-held-by-thread on two
// interpreters, one of which failed under spawn.
func proved() *Certificate {
	c := &Certificate{Scenario: "lock-held-by-thread", About: "A worker thread holds a threading.Lock\nwhen the parent forks.",
		Source: "scenarios/lock-held-by-thread.yaml", Program: "lock-held-by-thread.py", Code: code, Runs: 1,
		Hook: hook, Via: scenario.ViaProcess,
		Pythons: []string{"3.11.2", "3.12.1"}, Proved: true,
		Fork: Site{Line: 173, Code: "process.start()", Step: "main step 2: fork process"},
		Holders: []Holder{{Thread: "worker", Resource: "L", Kind: scenario.Lock, Inside: true,
			Site: Site{Line: 142, Code: "with lock_L:", Step: "thread/worker step 0: park holding in L"}}},
		Blocked: &Blocked{Python: "3.11.2", Where: "child", Resource: "L",
			Site:  Site{Line: 149, Code: "with lock_L:", Step: "child step 0: use L"},
			Proof: "1 thread, futex wait op 0x189 (private, no timeout), no CPU time between two reads",
			Frames: []Frame{
				{File: "lock-held-by-thread.py", Line: 149, Func: "child", Code: "with lock_L:", Step: "child step 0: use L"},
				{File: "lock-held-by-thread.py", Line: 158, Func: "child_process", Code: "child()"},
				{File: "multiprocessing/process.py", Line: 108, Func: "run"},
				{File: "lock-held-by-thread.py", Line: 173, Func: "main", Code: "process.start()", Step: "main step 2: fork process"},
			}},
		Alive: []string{"MainThread", "worker (parked inside L)"},
		Warnings: []Warning{{Python: "3.11.2"},
			{Python: "3.12.1", Default: true, From: "multiprocessing/popen_fork.py:66"}},
	}
	verdicts := map[string][]scenario.Verdict{
		"3.11.2": {scenario.Deadlock, scenario.OK, scenario.OK, scenario.OK},
		"3.12.1": {scenario.Deadlock, scenario.Hang, scenario.OK, scenario.OK},
	}
	for _, py := range c.Pythons {
		for i, m := range []string{scenario.MethodFork, scenario.MethodSpawn, scenario.MethodForkserver, MethodReinit} {
			cell := Cell{Python: py, Method: m, Verdicts: []scenario.Verdict{verdicts[py][i]}}
			if verdicts[py][i] == scenario.Deadlock {
				cell.Where = "child"
			}
			c.Cells = append(c.Cells, cell)
		}
	}
	return c
}

// nothing is a scenario that completes everywhere, run three times per cell.
func nothing() *Certificate {
	c := &Certificate{Scenario: "threads-holding-nothing", Program: "threads-holding-nothing.py", Code: code, Runs: 3,
		Pythons: []string{"3.12.1"}, Fork: Site{Line: 90, Code: "process.start()", Step: "main step 3: fork process"},
		Alive:    []string{"MainThread"},
		Warnings: []Warning{{Python: "3.12.1"}}}
	for _, m := range []string{scenario.MethodFork, scenario.MethodSpawn, scenario.MethodForkserver, MethodReinit} {
		c.Cells = append(c.Cells, Cell{Python: "3.12.1", Method: m,
			Verdicts: []scenario.Verdict{scenario.OK, scenario.OK, scenario.OK}})
	}
	c.Cells[0].Verdicts[2] = scenario.Hang
	return c
}

// logic deadlocks under every start method: not a fork bug. It was proved
// from a corpus entry.
func logic() *Certificate {
	c := nothing()
	c.Scenario, c.Entry, c.Runs = "unguarded-module-level-thread", "3f2a9c0e1b7d4a55", 1
	for i := range c.Cells {
		c.Cells[i].Verdicts = []scenario.Verdict{scenario.Hang}
		c.Cells[i].Where = "parent"
	}
	c.Cells[0].Verdicts, c.Cells[0].Where = []scenario.Verdict{scenario.Deadlock}, "child"
	return c
}

// inFork is logging-module-lock-held: the parent hangs inside os.fork() in
// logging's before-fork hook, on two interpreters, three runs per cell. The
// fork never returns, so no warning is printed.
func inFork() *Certificate {
	c := &Certificate{Scenario: "logging-module-lock-held", Source: "scenarios/logging-module-lock-held.yaml",
		Program: "logging-module-lock-held.py", Code: code, Runs: 3, Via: scenario.ViaOSFork,
		Hook: `def _fresh_in_child():
    # logmod: logging re-creates its module lock in the child itself.
    pass


os.register_at_fork(after_in_child=_fresh_in_child)`,
		Pythons: []string{"3.11.7", "3.12.1"}, Proved: true,
		Fork: Site{Line: 207, Code: "pid, process = os.fork(), None", Step: "main step 2: fork os.fork"},
		Holders: []Holder{{Thread: "configurer", Resource: "logmod", Kind: scenario.LoggingModule, Inside: true,
			Site: Site{Line: 165, Code: "with logging._lock:", Step: "thread/configurer step 0: park configuring in logmod"}}},
		Blocked: &Blocked{Python: "3.11.7", Where: "parent", InFork: true, Resource: "",
			Site:  Site{Line: 207, Code: "pid, process = os.fork(), None", Step: "main step 2: fork os.fork"},
			Proof: "2 threads, futex wait op 0x189 (private, no timeout), no CPU time between two reads",
			Frames: []Frame{
				{File: "logging/__init__.py", Line: 225, Func: "_acquireLock"},
				{File: "logging-module-lock-held.py", Line: 207, Func: "main", Code: "pid, process = os.fork(), None", Step: "main step 2: fork os.fork"},
			},
			Passed: []string{"main step 0: start configurer", "main step 1: wait configuring"}},
		Alive:    []string{"MainThread", "configurer (parked inside logmod)"},
		Warnings: []Warning{{Python: "3.11.7"}, {Python: "3.12.1"}},
	}
	for _, py := range c.Pythons {
		for _, m := range []string{scenario.MethodFork, scenario.MethodSpawn, scenario.MethodForkserver, MethodReinit} {
			cell := Cell{Python: py, Method: m, Verdicts: []scenario.Verdict{scenario.OK, scenario.OK, scenario.OK}}
			if m == scenario.MethodFork || m == MethodReinit {
				cell.Verdicts = []scenario.Verdict{scenario.Deadlock, scenario.Deadlock, scenario.Deadlock}
				cell.Where = "parent"
			}
			c.Cells = append(c.Cells, cell)
		}
	}
	return c
}

func TestMarkdownGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		cert *Certificate
	}{
		{"proved", proved()},
		{"nothing", nothing()},
		{"logic", logic()},
		{"in-fork", inFork()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.cert.Markdown()
			path := filepath.Join("testdata", tc.name+".md.golden")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if got != string(want) {
				t.Errorf("Markdown differs from %s (go test -update to accept):\n%s", path, got)
			}
		})
	}
}

// A warning printed in only some of the plain fork runs says so: the table
// shows a flaky check rather than hiding it.
func TestPrinted(t *testing.T) {
	for _, tc := range []struct {
		n, runs int
		want    string
	}{
		{0, 3, "not printed"},
		{3, 3, "printed (`x.py:9`)"},
		{2, 3, "printed in 2 of 3 runs (`x.py:9`)"},
	} {
		if got := printed(tc.n, tc.runs, "x.py:9"); got != tc.want {
			t.Errorf("printed(%d, %d) = %q, want %q", tc.n, tc.runs, got, tc.want)
		}
	}
}
