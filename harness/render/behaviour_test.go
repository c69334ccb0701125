package render

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

// What a run must show (FACTS.md measured these on 3.8 to 3.13).
const (
	wantOK         = "ok"          // exit 0, result ok, every step traced
	wantChildHang  = "child-hang"  // the parent forked; the child blocked in its steps
	wantParentHang = "parent-hang" // the parent blocked before any child ran a step
)

const (
	// A run that wants a hang counts as hung once its trace has been quiet
	// this long: these tests only; harness/run proves hangs from /proc.
	hangAfter = 1500 * time.Millisecond
)

var behaviours = []struct {
	file, method string
	reinit       bool
	want         string
}{
	{"lock-held", "fork", false, wantChildHang},
	{"lock-held", "spawn", false, wantOK},
	{"lock-held", "forkserver", false, wantOK},
	{"lock-held", "fork", true, wantOK},
	{"rlock-forking-thread", "fork", false, wantOK},
	{"condition-held", "fork", false, wantChildHang},
	{"condition-held", "fork", true, wantOK},
	{"semaphore-taken", "fork", false, wantChildHang}, // via os.fork
	{"semaphore-taken", "spawn", false, wantOK},
	{"queue-mutex", "fork", false, wantChildHang},
	{"queue-mutex", "fork", true, wantOK},
	{"sqlite-shared", "fork", false, wantChildHang},
	{"sqlite-shared", "spawn", false, wantOK},
	{"sqlite-shared", "fork", true, wantOK},
	{"module-import", "fork", false, wantChildHang},
	{"module-import", "forkserver", false, wantOK},
	{"module-import", "fork", true, wantOK},
	{"pipe-writer", "fork", false, wantChildHang},
	{"pipe-writer", "spawn", false, wantOK},
	{"pipe-writer", "fork", true, wantOK},
	{"stdout-writer", "fork", false, wantChildHang},   // via os.fork
	{"stdout-writer", "spawn", false, wantParentHang}, // Process.start() flushes sys.stdout
	{"stdout-writer", "fork", true, wantOK},
	{"logging-handler", "fork", false, wantOK},
	{"logging-module", "fork", false, wantParentHang},
	{"logging-module", "spawn", false, wantOK},
	{"logging-module", "fork", true, wantParentHang}, // logging's own before-fork hook blocks
	{"executor-busy", "fork", false, wantChildHang},
	{"executor-busy", "spawn", false, wantOK},
	{"executor-busy", "fork", true, wantOK},
	{"executor-two", "fork", false, wantOK},
	{"mp-lock", "fork", false, wantOK},
	{"mp-lock", "spawn", false, wantOK},
	{"pool-lock", "fork", false, wantChildHang},
	{"pool-lock", "spawn", false, wantOK},
	{"pool-lock", "fork", true, wantOK},
	{"unguarded-lock", "fork", false, wantChildHang},
	{"unguarded-lock", "spawn", false, wantChildHang}, // the child's own module-level thread holds it
	{"hostile-about", "fork", false, wantOK},
	{"pool-mplock", "fork", false, wantOK},
	{"pool-mplock", "spawn", false, wantOK},
}

func TestBehaviour(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Python")
	}
	for _, b := range behaviours {
		b := b
		name := fmt.Sprintf("%s/%s", b.file, b.method)
		if b.reinit {
			name += "/reinit"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			runCase(t, python3Path(t), b.file, b.method, b.reinit, b.want)
		})
	}
}

// TestVersions runs a few cases on every interpreter 3.8-3.13 found under
// $(pyenv root)/versions: the plain deadlock and its spawn control, and the
// mitigations that lean on private or version-dependent CPython details.
func TestVersions(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Python")
	}
	root := pyenvRoot()
	for _, v := range []string{"3.8", "3.9", "3.10", "3.11", "3.12", "3.13"} {
		matches, _ := filepath.Glob(filepath.Join(root, "versions", v+".*", "bin", "python"+v))
		if len(matches) == 0 {
			t.Logf("no Python %s", v)
			continue
		}
		python := matches[0]
		for _, b := range []struct {
			file, method string
			reinit       bool
			want         string
		}{
			{"lock-held", "fork", false, wantChildHang},
			{"lock-held", "spawn", false, wantOK},
			{"module-import", "fork", true, wantOK}, // importlib._bootstrap._module_locks
			{"stdout-writer", "fork", true, wantOK}, // a fresh sys.stdout, exit: normal
		} {
			b := b
			t.Run(fmt.Sprintf("%s/%s/%s/%v", v, b.file, b.method, b.reinit), func(t *testing.T) {
				t.Parallel()
				runCase(t, python, b.file, b.method, b.reinit, b.want)
			})
		}
	}
}

func runCase(t *testing.T, python, file, method string, reinit bool, want string) {
	t.Helper()
	p := renderFile(t, filepath.Join("testdata", file+".yaml"), Options{ReinitAtFork: reinit})
	idle := time.Duration(0)
	if want != wantOK {
		idle = hangAfter
	}
	var complaint string
	r := runPython(t, python, p.Source, method, idle, func(r *pyRun, errPath string) bool {
		complaint = checkStuckStack(t, p, r, errPath)
		return false
	})
	checkRun(t, p, want, r)
	if complaint != "" {
		t.Error(complaint)
	}
}

func checkRun(t *testing.T, p *Program, want string, r *pyRun) {
	t.Helper()
	forked := r.has("parent fork ")
	childSteps := r.has("child step child:") || r.has("worker step child:")
	switch want {
	case wantOK:
		if r.hung || r.exit != 0 {
			t.Fatalf("want ok, got %v", r)
		}
		if last := r.trace[len(r.trace)-1]; last != "parent result ok" {
			t.Errorf("last trace line %q, want parent result ok\n%v", last, r)
		}
		if !r.has("child done") && !r.has("worker done") {
			t.Errorf("no child done line\n%v", r)
		}
		for _, s := range p.Steps {
			if !stepTraced(r, s) {
				t.Errorf("step %s:%d %s not traced\n%v", s.Who, s.Index, s.Op, r)
			}
		}
	case wantChildHang:
		if !r.hung || !forked || !childSteps || r.has("child done") || r.has("worker done") {
			t.Fatalf("want the child stuck in its steps, got %v", r)
		}
	case wantParentHang:
		if !r.hung || !forked || childSteps {
			t.Fatalf("want the parent stuck at the fork, got %v", r)
		}
	}
}

// stepTraced: threads and main trace as the parent; the child's steps as
// the child, or as a worker in a pool.
func stepTraced(r *pyRun, s StepLine) bool {
	at := fmt.Sprintf(" step %s:%d %s ", s.Who, s.Index, s.Op)
	for _, l := range r.trace {
		if strings.Contains(l, at) {
			return true
		}
	}
	return false
}

// checkStuckStack asks the stuck process for its stack (SIGUSR1, installed
// by the program) and checks that it is blocked on the line StepLine names
// for the last step it traced. It returns a complaint, or "".
func checkStuckStack(t *testing.T, p *Program, r *pyRun, errPath string) string {
	role, who := "parent", "main"
	if r.has("child step child:") {
		role, who = "child", "child"
	} else if r.has("worker step child:") {
		role, who = "worker", "child"
	}
	pids := r.pids[role]
	if len(pids) == 0 {
		return "no pid to ask for a stack"
	}
	last := -1
	for _, l := range r.trace {
		var i int
		if _, err := fmt.Sscanf(l, role+" step "+who+":%d", &i); err == nil {
			last = i
		}
	}
	line := 0
	for _, s := range p.Steps {
		if s.Who == who && s.Index == last {
			line = s.Line
		}
	}
	if line == 0 {
		return fmt.Sprintf("no StepLine for %s:%d", who, last)
	}
	if role == "parent" && strings.Contains(string(p.Source), "pid, process = os.fork()") &&
		!r.has("parent fork os.fork fork") {
		// via os.fork under spawn/forkserver forks in process.start(), a line
		// below the os.fork() line that the fork's StepLine names.
		return ""
	}
	syscall.Kill(pids[len(pids)-1], syscall.SIGUSR1)
	want := fmt.Sprintf("prog.py\", line %d in ", line)
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile(errPath)
		if strings.Contains(string(b), want) {
			return ""
		}
		time.Sleep(20 * time.Millisecond) // polling a file from Go, not ordering Python
	}
	b, _ := os.ReadFile(errPath)
	return fmt.Sprintf("the stuck %s's stack does not show %s:%d at line %d:\n%s", role, who, last, line, b)
}

// TestExitStatus: a child's exception is exit 1 and "result error"; a child
// killed by a signal is exit 3 and "result crash SIGNAME".
func TestExitStatus(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Python")
	}
	for _, via := range scenario.Vias {
		via := via
		t.Run("error/"+string(via), func(t *testing.T) {
			t.Parallel()
			s := lockScenario()
			s.Main[0].Fork.Via = via
			s.Main[0].Fork.Child[0].Op = scenario.OpRelease // not held: RuntimeError
			p, err := Write(s, Options{})
			if err != nil {
				t.Fatal(err)
			}
			r := runPython(t, python3Path(t), p.Source, "fork", 0, nil)
			if r.exit != 1 || !r.has("parent result error ") || !strings.Contains(r.stderr, "RuntimeError") {
				t.Errorf("want exit 1 and result error, got %v", r)
			}
		})
	}
	t.Run("crash", func(t *testing.T) {
		t.Parallel()
		p := renderFile(t, filepath.Join("testdata", "lock-held.yaml"), Options{})
		r := runPython(t, python3Path(t), p.Source, "fork", hangAfter, func(r *pyRun, _ string) bool {
			if pids := r.pids["child"]; len(pids) > 0 {
				return syscall.Kill(pids[0], syscall.SIGKILL) == nil
			}
			return false
		})
		if r.hung || r.exit != 3 || !r.has("parent result crash SIGKILL") {
			t.Errorf("want exit 3 and result crash SIGKILL, got %v", r)
		}
	})
}
