package run

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

// pythons returns the interpreters to test with: python3 from PATH, and
// pyenv's 3.8 and 3.13 when installed.
func pythons(t testing.TB) map[string]string {
	t.Helper()
	ps := map[string]string{}
	if p, err := exec.LookPath("python3"); err == nil {
		ps["python3"] = p
	}
	root := os.Getenv("PYENV_ROOT")
	if root == "" {
		if out, err := exec.Command("pyenv", "root").Output(); err == nil {
			root = strings.TrimSpace(string(out))
		}
	}
	for _, v := range []string{"3.8", "3.13"} {
		m, _ := filepath.Glob(filepath.Join(root, "versions", v+".*", "bin", "python"+v))
		if root != "" && len(m) > 0 {
			ps[v] = m[0]
		}
	}
	if len(ps) == 0 {
		t.Skip("no python interpreter")
	}
	return ps
}

func program(t testing.TB, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("testdata", name+".py"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestExecuteVerdicts(t *testing.T) {
	py := pythons(t)["python3"]
	tests := []struct {
		program, method string
		timeout         time.Duration
		verdict         scenario.Verdict
		where           string
		stack           string // a substring of Stack
		frame           string // "FILE:FUNC:MARKER": Frames holds FUNC at the line of MARKER in FILE
		reason          string // a substring of Reason
	}{
		{"child_lock", "fork", 0, scenario.Deadlock, "child", "child_lock.py", "child_lock:child:# the acquire line", ""},
		{"child_lock", "spawn", 0, scenario.OK, "", "", "", ""},
		{"parent_logging", "fork", 0, scenario.Deadlock, "parent", "in _acquireLock", "", ""},
		{"mplock", "fork", 0, scenario.OK, "", "", "", ""},
		{"churn", "fork", 0, scenario.OK, "", "", "", ""},
		{"exit1", "fork", 0, verdictError, "", "", "", "ValueError: boom"},
		{"segv", "fork", 0, scenario.Crash, "", "", "", "SIGSEGV"},
		{"pipe_hang", "fork", 3 * time.Second, scenario.Hang, "", "(child) ---", "", ""},
		{"pool_worker", "fork", 0, scenario.Deadlock, "worker", "in task", "pool_worker:task:# the acquire line", ""},
	}
	for _, tc := range tests {
		t.Run(tc.program+"/"+tc.method, func(t *testing.T) {
			t.Parallel()
			timeout := tc.timeout
			if timeout == 0 {
				timeout = 20 * time.Second
			}
			r := Execute(context.Background(), Execution{Name: tc.program, Program: program(t, tc.program),
				Python: py, Method: tc.method, Timeout: timeout})
			if r.Verdict != tc.verdict || r.Where != tc.where {
				t.Fatalf("verdict %s where %q, want %s %q\nproof: %s\nreason: %s\nstderr: %s",
					r.Verdict, r.Where, tc.verdict, tc.where, r.Proof, r.Reason, r.Stderr)
			}
			if !strings.Contains(r.Stack, tc.stack) {
				t.Errorf("stack lacks %q:\n%s", tc.stack, r.Stack)
			}
			if strings.Contains(r.Stderr, "@forkfuzz") || (tc.program != "sleeper" && len(r.Events) == 0) {
				t.Errorf("trace not split out: %d events, stderr %q", len(r.Events), r.Stderr)
			}
			if tc.frame != "" {
				checkFrame(t, r.Frames, tc.frame)
			}
			if !strings.Contains(r.Reason, tc.reason) {
				t.Errorf("reason %q lacks %q", r.Reason, tc.reason)
			}
			if tc.verdict == scenario.Deadlock && !strings.Contains(r.Proof, "private, no timeout") {
				t.Errorf("proof %q does not say private futex", r.Proof)
			}
			t.Logf("%s: %s where=%s detect=%.2fms elapsed=%.0fms proof=%q", tc.program, r.Verdict, r.Where, r.DetectMS, r.ElapsedMS, r.Proof)
		})
	}
}

// checkFrame wants a frame FILE.py, FUNC, at the line of MARKER in that file
// (spec "FILE:FUNC:MARKER").
func checkFrame(t *testing.T, frames []Frame, spec string) {
	t.Helper()
	parts := strings.SplitN(spec, ":", 3)
	file := program(t, parts[0])
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	line := 0
	for i, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, parts[2]) {
			line = i + 1
		}
	}
	for _, f := range frames {
		if f.File == file && f.Func == parts[1] && f.Line == line {
			return
		}
	}
	t.Errorf("no frame %s:%d in %s among %v", file, line, parts[1], frames)
}

// TestExecutePythons proves the child deadlock and its negative control on
// every interpreter found.
func TestExecutePythons(t *testing.T) {
	for name, py := range pythons(t) {
		for _, tc := range []struct {
			program, method string
			verdict         scenario.Verdict
		}{{"child_lock", "fork", scenario.Deadlock}, {"parent_logging", "fork", scenario.Deadlock},
			{"mplock", "fork", scenario.OK}, {"child_lock", "forkserver", scenario.OK}} {
			t.Run(name+"/"+tc.program+"/"+tc.method, func(t *testing.T) {
				t.Parallel()
				r := Execute(context.Background(), Execution{Program: program(t, tc.program), Python: py,
					Method: tc.method, Timeout: 20 * time.Second})
				if r.Verdict != tc.verdict {
					t.Fatalf("verdict %s, want %s (%s)\n%s", r.Verdict, tc.verdict, r.Reason, r.Stderr)
				}
				if tc.verdict == scenario.Deadlock && len(r.Frames) == 0 {
					t.Errorf("no frames in stack %q", r.Stack)
				}
			})
		}
	}
}
