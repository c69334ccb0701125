package render

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// A run of one rendered program, for the tests. The real runner
// (harness/run) proves deadlocks from /proc; here a short timeout stands in.
type pyRun struct {
	exit   int  // exit status; -1 when hung
	hung   bool // still running at the timeout
	stdout string
	stderr string   // without trace lines
	trace  []string // "ROLE EVENT ARGS" of every @forkfuzz line, pid dropped
	pids   map[string][]int
}

var traceRE = regexp.MustCompile(`^@forkfuzz (\d+) (parent|child|worker) (.*)$`)

// runLimit bounds every run, hung or not.
const runLimit = 60 * time.Second

var python3 struct {
	once sync.Once
	path string
}

// python3Path is the real interpreter behind "python3": a pyenv shim is a
// shell script that costs a startup on every run and sits between the
// process group leader and Python.
func python3Path(t *testing.T) string {
	python3.once.Do(func() {
		out, err := exec.Command("python3", "-c", "import sys; print(sys.executable)").Output()
		if err == nil {
			python3.path = strings.TrimSpace(string(out))
		}
	})
	if python3.path == "" {
		t.Skip("no python3")
	}
	return python3.path
}

// cleanEnv drops every PYTHON* variable: PYTHONUNBUFFERED=1 (set on this
// machine) turns sys.stdout's buffered writer into a FileIO and changes verdicts.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PYTHON") && !strings.HasPrefix(kv, "FORKFUZZ") {
			env = append(env, kv)
		}
	}
	return append(env, "FORKFUZZ_TRACE=1", "PYTHONDONTWRITEBYTECODE=1")
}

// runPython runs src with python under method in its own process group and
// kills the whole group when done. With idle > 0 the run counts as hung once
// its stderr (where the trace goes) has not grown for idle: slow starts on a
// loaded machine do not count. onHang, if set, runs at the hang; when it
// returns true the run goes on (it unblocked something), otherwise the group
// is killed.
func runPython(t *testing.T, python string, src []byte, method string, idle time.Duration, onHang func(*pyRun, string) bool) *pyRun {
	t.Helper()
	dir := t.TempDir()
	prog := filepath.Join(dir, "prog.py")
	if err := os.WriteFile(prog, src, 0o644); err != nil {
		t.Fatal(err)
	}
	// Files, not pipes: a stuck grandchild holding a pipe would keep Wait waiting.
	outF, err := os.Create(filepath.Join(dir, "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	errPath := filepath.Join(dir, "stderr")
	errF, err := os.Create(errPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, prog, "--start-method", method)
	// TMPDIR: a killed program cannot remove its ffmod_* module directory.
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, append(cleanEnv(), "TMPDIR="+dir), outF, errF
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pgid := cmd.Process.Pid
	defer syscall.Kill(-pgid, syscall.SIGKILL) // leftovers: forkserver, resource tracker
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	r := &pyRun{exit: -1}
	if waitOrIdle(done, errPath, idle) {
		r.exit = cmd.ProcessState.ExitCode()
	} else {
		r.hung = true
		goOn := false
		if onHang != nil {
			r.parse(readFile(t, errPath))
			goOn = onHang(r, errPath)
		}
		if goOn && waitOrIdle(done, errPath, 0) {
			r.hung, r.exit = false, cmd.ProcessState.ExitCode()
		} else {
			syscall.Kill(-pgid, syscall.SIGKILL)
			<-done
		}
	}
	outF.Close()
	errF.Close()
	r.stdout = readFile(t, filepath.Join(dir, "stdout"))
	r.parse(readFile(t, errPath))
	return r
}

// waitOrIdle waits for done, or (idle > 0) until path stops growing for
// idle, or runLimit passes. It reports whether the program ended.
func waitOrIdle(done chan error, path string, idle time.Duration) bool {
	limit := time.After(runLimit)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	size, since := int64(-1), time.Now()
	for {
		select {
		case <-done:
			return true
		case <-limit:
			return false
		case <-tick.C:
			if idle <= 0 {
				continue
			}
			// Quiet counts only once the program has said something: a
			// slow start is not a hang.
			if fi, err := os.Stat(path); err == nil && fi.Size() != size {
				size, since = fi.Size(), time.Now()
			} else if size > 0 && time.Since(since) >= idle {
				return false
			}
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func (r *pyRun) parse(stderr string) {
	r.trace, r.pids, r.stderr = nil, map[string][]int{}, ""
	var rest []string
	for _, l := range strings.SplitAfter(stderr, "\n") {
		m := traceRE.FindStringSubmatch(strings.TrimSuffix(l, "\n"))
		if m == nil {
			rest = append(rest, l)
			continue
		}
		r.trace = append(r.trace, m[2]+" "+m[3])
		pid, _ := strconv.Atoi(m[1])
		if ps := r.pids[m[2]]; len(ps) == 0 || ps[len(ps)-1] != pid {
			r.pids[m[2]] = append(ps, pid)
		}
	}
	r.stderr = strings.Join(rest, "")
}

// has reports whether a trace line starts with prefix ("child step child:0").
func (r *pyRun) has(prefix string) bool {
	for _, l := range r.trace {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}

func (r *pyRun) String() string {
	return "exit " + strconv.Itoa(r.exit) + " hung " + strconv.FormatBool(r.hung) +
		"\ntrace:\n  " + strings.Join(r.trace, "\n  ") + "\nstderr:\n" + r.stderr
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
