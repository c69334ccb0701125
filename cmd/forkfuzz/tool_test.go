package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The forkfuzz binary, built once for the tests that run it as a user does
// (signals, kill -9, odd interpreters). TestMain removes it.
var tool struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if tool.dir != "" {
		os.RemoveAll(tool.dir)
	}
	os.Exit(code)
}

func forkfuzzBinary(t *testing.T) string {
	t.Helper()
	tool.once.Do(func() {
		if tool.dir, tool.err = os.MkdirTemp("", "forkfuzz-bin-"); tool.err != nil {
			return
		}
		tool.path = filepath.Join(tool.dir, "forkfuzz")
		out, err := exec.Command("go", "build", "-o", tool.path, ".").CombinedOutput()
		if err != nil {
			tool.err = &buildError{err, out}
		}
	})
	if tool.err != nil {
		t.Fatalf("go build: %v", tool.err)
	}
	return tool.path
}

type buildError struct {
	err error
	out []byte
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + string(e.out) }

// A process found by scanning /proc.
type procInfo struct {
	pid     int
	cmdline string
}

func (p procInfo) String() string { return strconv.Itoa(p.pid) + " " + p.cmdline }

// markedProcs lists the live processes (zombies have no environment) whose
// environment holds marker, or whose cwd is under dir.
func markedProcs(marker, dir string) []procInfo {
	ents, _ := os.ReadDir("/proc")
	var found []procInfo
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		base := filepath.Join("/proc", e.Name())
		env, _ := os.ReadFile(filepath.Join(base, "environ"))
		cwd, _ := os.Readlink(filepath.Join(base, "cwd"))
		if !bytes.Contains(env, []byte(marker)) && !strings.HasPrefix(cwd, dir+"/") && cwd != dir {
			continue
		}
		cmd, _ := os.ReadFile(filepath.Join(base, "cmdline"))
		found = append(found, procInfo{pid, strings.TrimSpace(string(bytes.ReplaceAll(cmd, []byte{0}, []byte{' '})))})
	}
	return found
}

// toolRun is one forkfuzz process started by a test, in its own folder
// (TMPDIR too, so every run folder is under it) with a marker variable that
// every process it starts inherits.
type toolRun struct {
	cmd    *exec.Cmd
	dir    string
	marker string
	stdout bytes.Buffer
	stderr bytes.Buffer
	done   chan struct{}
}

func startTool(t *testing.T, env []string, args ...string) *toolRun {
	t.Helper()
	r := &toolRun{dir: t.TempDir(), done: make(chan struct{})}
	// Not FORKFUZZ_*: the runner drops those from a program's environment.
	r.marker = "LEAKTEST_MARKER_" + strconv.Itoa(os.Getpid()) + "_" + strconv.FormatInt(time.Now().UnixNano(), 36) + "=1"
	r.cmd = exec.Command(forkfuzzBinary(t), args...)
	r.cmd.Dir = r.dir
	r.cmd.Env = append(append(os.Environ(), "TMPDIR="+r.dir, r.marker), env...)
	r.cmd.Stdout, r.cmd.Stderr = &r.stdout, &r.stderr
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.cmd.Wait(); close(r.done) }()
	t.Cleanup(func() {
		r.cmd.Process.Kill()
		<-r.done
		r.killLeft() // never leave a process behind, even when the test failed
	})
	return r
}

// others lists the processes of the run other than forkfuzz itself.
func (r *toolRun) others() []procInfo {
	var out []procInfo
	for _, p := range markedProcs(r.marker, r.dir) {
		if p.pid != r.cmd.Process.Pid {
			out = append(out, p)
		}
	}
	return out
}

func (r *toolRun) killLeft() {
	for _, p := range markedProcs(r.marker, r.dir) {
		syscall.Kill(p.pid, syscall.SIGKILL)
	}
}

// waitExit waits for forkfuzz to exit and reports whether it did in time.
func (r *toolRun) waitExit(d time.Duration) bool {
	select {
	case <-r.done:
		return true
	case <-time.After(d):
		return false
	}
}

// leftAfter polls until no process of the run is left, or d passes, and
// returns what is left.
func (r *toolRun) leftAfter(d time.Duration) []procInfo {
	deadline := time.Now().Add(d)
	for {
		left := markedProcs(r.marker, r.dir)
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitChildren waits until forkfuzz has started a process whose command
// line contains what, and reports whether it did within d.
func (r *toolRun) waitChildren(d time.Duration, what string) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		for _, p := range r.others() {
			if strings.Contains(p.cmdline, what) {
				return true
			}
		}
		select {
		case <-r.done:
			return false
		case <-time.After(5 * time.Millisecond):
		}
	}
	return false
}
