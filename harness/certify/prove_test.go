package certify

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/forkfuzz/forkfuzz/harness/python"
	"github.com/forkfuzz/forkfuzz/harness/render"
	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

func load(t *testing.T, name string) (*scenario.Scenario, *render.Program, *program) {
	t.Helper()
	s, err := scenario.ParseFile(filepath.Join("..", "..", "scenarios", name+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := render.Write(s, render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s, p, newProgram(s, s.Name+".py", p)
}

// Every step's blocking line maps back to that step, and the top-level call
// of main maps to none.
func TestEnclosingStep(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "scenarios", "*.yaml"))
	if len(files) < 10 {
		t.Fatalf("found %d scenarios", len(files))
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		_, rp, p := load(t, name)
		for _, st := range rp.Steps {
			if got, want := p.enclosing(st.Line), p.label(st.Who, st.Index); got != want {
				t.Errorf("%s: line %d (%s) maps to %q, want %q", name, st.Line, p.code(st.Line), got, want)
			}
		}
		for n := 1; n <= len(p.lines); n++ {
			if p.code(n) == "status = main()" && p.enclosing(n) != "" {
				t.Errorf("%s: line %d maps to %q, want no step", name, n, p.enclosing(n))
			}
		}
	}
}

func TestHolders(t *testing.T) {
	s, _, p := load(t, "ci-runner-pool")
	hs := holders(s, p)
	got := make([]string, len(hs))
	for i, h := range hs {
		got[i] = fmt.Sprintf("%s %s %v %s | %s", h.Thread, h.Resource, h.Inside, h.Site.Code, h.Site.Step)
	}
	want := []string{
		"flusher telemetry true with lock_telemetry: | thread/flusher step 0: park flushing in telemetry",
		`shipper log true log_log.warning("forkfuzz: park in log") | thread/shipper step 0: park shipping in log`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("holders:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	alive := strings.Join(alive(s), "; ")
	if want := "MainThread; flusher (parked inside telemetry); shipper (parked inside log); collector (parked at idle)"; alive != want {
		t.Errorf("alive = %q, want %q", alive, want)
	}
	if fork := p.site("main", forkIndex(s)); !strings.Contains(fork.Code, "ctx.Pool(2") {
		t.Errorf("fork site = %+v", fork)
	}
}

// The warning's file survives a faulthandler dump line begun before it on
// the same line of a shared stderr.
func TestSetFrom(t *testing.T) {
	const warn = "/py/lib/python3.12/multiprocessing/popen_fork.py:66: DeprecationWarning: This process (pid=7) " +
		"is multi-threaded, use of fork() may lead to deadlocks in the child.\n  self.pid = os.fork()\n"
	for _, before := range []string{
		"",
		"  File \"",
		"  File \"/py/lib/python3.12/multiprocessing/process.py",
		"Thread 0x00007f3a",
		"Current thread 0x",
	} {
		w := &Warning{}
		if !setFrom(w, "x\n"+before+warn) {
			t.Errorf("%q: warning not found", before)
			continue
		}
		if w.From != "multiprocessing/popen_fork.py:66" {
			t.Errorf("%q: From = %q", before, w.From)
		}
	}
	w := &Warning{}
	if setFrom(w, "/tmp/x/prog.py:211: DeprecationWarning: This process (pid=7) is multi-threaded, use of fork() "+
		"may lead to deadlocks in the child.\n") && w.From != "prog.py:211" {
		t.Errorf("From = %q, want prog.py:211", w.From)
	}
}

// The mitigation's hook is cut out whole from its program; the plain
// program has none.
func TestReinitHook(t *testing.T) {
	s, plain, _ := load(t, "lock-held-by-thread")
	reinit, err := render.Write(s, render.Options{ReinitAtFork: true})
	if err != nil {
		t.Fatal(err)
	}
	hook := reinitHook(reinit.Source)
	if !strings.HasPrefix(hook, "def _fresh_in_child():\n") || !strings.Contains(hook, "lock_L = threading.Lock()") ||
		!strings.HasSuffix(hook, "\nos.register_at_fork(after_in_child=_fresh_in_child)") {
		t.Errorf("hook:\n%s", hook)
	}
	if got := reinitHook(plain.Source); got != "" {
		t.Errorf("plain program's hook = %q, want none", got)
	}
}

func TestCleanPath(t *testing.T) {
	for in, want := range map[string]string{
		"/root/.pyenv/versions/3.12.1/lib/python3.12/multiprocessing/popen_fork.py": "multiprocessing/popen_fork.py",
		"/usr/lib/python3.11/threading.py":                                          "threading.py",
		"/tmp/x/prog.py":                                                            "/tmp/x/prog.py",
	} {
		if got := cleanPath(in); got != want {
			t.Errorf("cleanPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// Real runs on the default python3: the summary must name the resource, the
// holder's line in the program, and the mitigations' verdicts.
func TestProveReal(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Python")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	py, err := python.Default(ctx)
	if err != nil {
		t.Skip(err)
	}
	for _, tc := range []struct {
		name, resource, holder string
		proved                 bool
	}{
		{"lock-held-by-thread", "L", "thread/worker", true},
		{"sqlite-shared-connection", "db", "thread/query", true},
		{"threads-holding-nothing", "", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, rp, _ := load(t, tc.name)
			c, err := Prove(ctx, s, Options{Pythons: []python.Interpreter{py}, Timeout: 20 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			sum := c.Summary()
			t.Logf("%s", sum)
			if c.Proved != tc.proved {
				t.Fatalf("Proved = %v, want %v; matrix %v", c.Proved, tc.proved, c.Cells)
			}
			if !tc.proved {
				if !strings.HasPrefix(sum, "**Nothing to certify.**") {
					t.Errorf("summary does not say there is nothing to certify")
				}
				return
			}
			line := 0
			for _, st := range rp.Steps {
				if st.Who == tc.holder && st.Index == 0 {
					line = st.Line
				}
			}
			for _, want := range []string{
				"Resource `" + tc.resource + "`",
				fmt.Sprintf("%s.py:%d", tc.name, line),
				"Under spawn and forkserver the same program completes",
				"re-initialised at fork (os.register_at_fork) it completes too",
			} {
				if !strings.Contains(sum, want) {
					t.Errorf("summary lacks %q", want)
				}
			}
			if c.Blocked == nil || c.Blocked.Where != "child" || c.Blocked.Resource != tc.resource {
				t.Fatalf("blocked = %+v", c.Blocked)
			}
			if len(c.Blocked.Frames) == 0 || c.Blocked.Frames[0].Step != "child step 0: use "+tc.resource {
				t.Errorf("innermost frame = %+v", c.Blocked.Frames)
			}
			if md := c.Markdown(); !strings.Contains(md, "```python\n#!/usr/bin/env python3") {
				t.Errorf("certificate lacks the program")
			}
		})
	}
}

// A parent that hangs inside its own fork (logging's before-fork hook waits
// for the module lock another thread holds) is told as such: no child, and
// the re-init mitigation cannot help.
func TestProveParentInFork(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Python")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	py, err := python.Default(ctx)
	if err != nil {
		t.Skip(err)
	}
	s, _, _ := load(t, "logging-module-lock-held")
	c, err := Prove(ctx, s, Options{Pythons: []python.Interpreter{py}, Timeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if !c.Proved || c.Blocked == nil || !c.Blocked.InFork {
		t.Fatalf("proved %v, blocked %+v: want the parent stuck in its fork", c.Proved, c.Blocked)
	}
	md := c.Markdown()
	for _, want := range []string{
		"The parent itself hangs inside that call, before any child exists: logging's own before-fork hook",
		"which `configurer` holds",
		"There is no child",
		"## The parent, stuck in its fork",
		"It cannot help here: an `after_in_child` hook runs in a child",
		"This program calls `os.fork()` from `__main__`, which shows it by default",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("certificate lacks %q", want)
		}
	}
	for _, wrong := range []string{"does not exist in the child", "Multiprocessing's fork context shows"} {
		if strings.Contains(md, wrong) {
			t.Errorf("certificate says %q", wrong)
		}
	}
}

// The warnings table on 3.12+ is the same on every prove (FACTS.md): os.fork
// from __main__ prints the warning in a plain run, multiprocessing's fork
// context only with PYTHONWARNINGS=default. The parent prints it after fork()
// returns, while the child is proved stuck within a millisecond or two:
// without the settling (run.Execution.Settle) the kill raced the warning and
// the table changed from run to run. Several proves, several runs per cell.
func TestProveWarningStable(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Python")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	all, _ := python.Discover(ctx)
	var pys []python.Interpreter
	for _, py := range all {
		var major, minor int
		fmt.Sscanf(py.Version, "%d.%d", &major, &minor)
		if major == 3 && minor >= 12 && !py.FreeThreaded {
			pys = append(pys, py)
		}
	}
	if len(pys) == 0 {
		t.Skip("no CPython 3.12+ found")
	}
	for _, tc := range []struct {
		name  string
		plain bool // printed in a plain run
	}{
		{"rlock-held-os-fork", true},
		{"lock-held-by-thread", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _, _ := load(t, tc.name)
			for i := 0; i < 3; i++ {
				c, err := Prove(ctx, s, Options{Pythons: pys, Runs: 2, Jobs: 4, Timeout: 20 * time.Second})
				if err != nil {
					t.Fatal(err)
				}
				for _, w := range c.Warnings {
					want := 0
					if tc.plain {
						want = c.Runs
					}
					if w.Plain != want || !w.Default {
						t.Errorf("prove %d, %s: printed in %d of %d plain runs (want %d), with PYTHONWARNINGS=default: %v (want true)",
							i+1, w.Python, w.Plain, c.Runs, want, w.Default)
					}
				}
			}
		})
	}
}
