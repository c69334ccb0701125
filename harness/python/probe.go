package python

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/forkfuzz/forkfuzz/harness/guard"
)

// probeTimeout bounds one probe: a healthy interpreter answers in tens of
// milliseconds, a pyenv shim in a few hundred.
const probeTimeout = 3 * time.Second

// probeScript runs on Python 2.7 too, so that an old interpreter is named
// ("Python 2.7.18 is older than 3.8") rather than reported as broken.
const probeScript = `import sys, json, platform, sysconfig
print(json.dumps({"version": platform.python_version(),
 "implementation": platform.python_implementation(),
 "free_threaded": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
 "debug": hasattr(sys, "gettotalrefcount"),
 "executable": sys.executable}))`

// probeAnswer is what probeScript prints.
type probeAnswer struct {
	Version        string `json:"version"`
	Implementation string `json:"implementation"`
	FreeThreaded   bool   `json:"free_threaded"`
	Debug          bool   `json:"debug"`
	Executable     string `json:"executable"`
}

// probes caches each path's probe for the life of the process: discovery and
// every --python spec share them, and an interpreter does not change under us.
var probes = struct {
	sync.Mutex
	m map[string]*probeEntry
}{m: map[string]*probeEntry{}}

type probeEntry struct {
	done chan struct{}
	in   Interpreter
	err  error
}

// probe runs the interpreter at path (absolute) and describes it; its error
// is a reason fit for Skipped, without the path. Source is left empty.
func probe(ctx context.Context, path string) (Interpreter, error) {
	probes.Lock()
	e, ok := probes.m[path]
	if !ok {
		e = &probeEntry{done: make(chan struct{})}
		probes.m[path] = e
		probes.Unlock()
		e.in, e.err = probeUncached(ctx, path)
		if ctx.Err() != nil {
			// The caller gave up; that says nothing about the interpreter.
			probes.Lock()
			delete(probes.m, path)
			probes.Unlock()
		}
		close(e.done)
		return e.in, e.err
	}
	probes.Unlock()
	select {
	case <-e.done:
		return e.in, e.err
	case <-ctx.Done():
		return Interpreter{}, ctx.Err()
	}
}

func probeUncached(ctx context.Context, path string) (Interpreter, error) {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return Interpreter{}, errors.New("no such file")
	case err != nil:
		return Interpreter{}, err
	case st.IsDir():
		return Interpreter{}, errors.New("is a directory")
	case st.Mode()&0o111 == 0:
		return Interpreter{}, errors.New("not executable")
	}
	// -S -E: no site packages and no PYTHON* variables, so nothing from the
	// user's environment can break or slow the probe.
	out, err := runBounded(ctx, probeTimeout, path, "-S", "-E", "-c", probeScript)
	if err != nil {
		return Interpreter{}, err
	}
	var a probeAnswer
	if err := json.Unmarshal(bytes.TrimSpace(out), &a); err != nil || a.Version == "" {
		return Interpreter{}, fmt.Errorf("not a Python: unexpected output %q", firstLine(out))
	}
	v, err := parseVersion(a.Version)
	if err != nil {
		return Interpreter{}, err
	}
	real := path
	if filepath.IsAbs(a.Executable) {
		real = filepath.Clean(a.Executable)
	}
	return Interpreter{
		Path:           real,
		Version:        a.Version,
		Minor:          minorOf(v, a.FreeThreaded),
		Implementation: a.Implementation,
		FreeThreaded:   a.FreeThreaded,
		Debug:          a.Debug,
	}, nil
}

// runBounded runs name in its own process group and returns its stdout. On
// timeout or cancellation the whole group is killed, so that a shim's
// children die with it; its error is one line saying what went wrong.
func runBounded(ctx context.Context, timeout time.Duration, name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var cmd *exec.Cmd
	var stdout, stderr bytes.Buffer
	var err error
	// ETXTBSY means the file is still open for writing somewhere: a file just
	// written (an installer, a test) whose descriptor a concurrent fork in
	// this or another process copied for the moment before its exec. It
	// passes within milliseconds, so it is retried rather than reported.
	for try := 0; ; try++ {
		cmd = exec.CommandContext(ctx, name, args...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
		// A descendant that left the group could hold our pipes open forever.
		cmd.WaitDelay = 500 * time.Millisecond
		stdout.Reset()
		stderr.Reset()
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err = cmd.Start()
		if !errors.Is(err, syscall.ETXTBSY) || try == 50 || ctx.Err() != nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err == nil {
		guard.Add(cmd.Process.Pid) // a hung shim dies with forkfuzz, even on SIGKILL
		err = cmd.Wait()
	}
	if cmd.Process != nil {
		// Leave nothing behind, even a background child of a script that exited.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		guard.Remove(cmd.Process.Pid)
	}
	if err == nil {
		return stdout.Bytes(), nil
	}
	var pathErr *os.PathError
	var exitErr *exec.ExitError
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return nil, fmt.Errorf("no answer within %v (killed)", timeout)
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case errors.As(err, &pathErr):
		if errors.Is(pathErr.Err, syscall.ENOEXEC) {
			return nil, errors.New("cannot run: not a program (exec format error)")
		}
		return nil, fmt.Errorf("cannot run: %w", pathErr.Err)
	case errors.As(err, &exitErr):
		line := firstLine(stderr.Bytes())
		if strings.HasPrefix(line, "pyenv: ") && strings.HasSuffix(line, "command not found") {
			// A shim of a version that pyenv has but does not activate: the
			// interpreter itself is found in pyenv's versions folder.
			return nil, errors.New("pyenv shim of a version that is not active (found in pyenv's versions folder instead, if installed)")
		}
		if line != "" {
			return nil, fmt.Errorf("%v: %s", err, line)
		}
		return nil, err
	}
	return nil, err
}

// firstLine is the first non-blank line of b, trimmed and kept short; for
// a traceback, the last line (the exception) says more.
func firstLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	line := lines[0]
	if strings.HasPrefix(line, "Traceback") {
		line = lines[len(lines)-1]
	}
	line = strings.TrimSpace(line)
	if len(line) > 200 {
		line = line[:200] + "..."
	}
	return line
}
