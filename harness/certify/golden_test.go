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

// proved is a certificate as Prove collects it for lock-held-by-thread on two
// interpreters, one of which failed under spawn.
func proved() *Certificate {
	c := &Certificate{Scenario: "lock-held-by-thread", About: "A worker thread holds a threading.Lock\nwhen the parent forks.",
		Source: "scenarios/lock-held-by-thread.yaml", Program: "lock-held-by-thread.py", Code: code, Runs: 1,
		Pythons: []string{"3.11.2", "3.12.1"}, Proved: true,
		Fork: Site{Line: 173, Code: "process.start()", Step: "main step 2: fork process"},
		Holders: []Holder{{Thread: "worker", Resource: "L", Kind: scenario.Lock, Inside: true,
			Site: Site{Line: 142, Code: "with lock_L:", Step: "thread/worker step 0: park holding in L"}}},
		Blocked: &Blocked{Python: "3.11.2", Where: "child", Resource: "L",
			Site:     Site{Line: 149, Code: "with lock_L:", Step: "child step 0: use L"},
			Proof:    "1 thread, futex wait op 0x189 (private, no timeout), no CPU time between two reads",
			DetectMS: 0.6,
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

// logic deadlocks under every start method: not a fork bug.
func logic() *Certificate {
	c := nothing()
	c.Scenario, c.Runs = "unguarded-module-level-thread", 1
	for i := range c.Cells {
		c.Cells[i].Verdicts = []scenario.Verdict{scenario.Hang}
		c.Cells[i].Where = "parent"
	}
	c.Cells[0].Verdicts, c.Cells[0].Where = []scenario.Verdict{scenario.Deadlock}, "child"
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
