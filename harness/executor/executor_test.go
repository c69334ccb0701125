package executor

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"syscall"
	"testing"

	"github.com/forkfuzz/forkfuzz/harness/python"
)

// interpreters returns python3 and every pyenv 3.8-3.13 found.
func interpreters(t testing.TB) []python.Interpreter {
	t.Helper()
	ins, _, err := python.Resolve(context.Background(), []string{"all"})
	if err != nil || len(ins) == 0 {
		t.Skipf("no python interpreter: %v", err)
	}
	return ins
}

func testEnv() []string {
	return append(os.Environ(), "FORKFUZZ_TRACE=1", "PYTHONDONTWRITEBYTECODE=1")
}

// TestFreshEquivalence runs a probe of everything a program can see at start
// (modules, threads, signal handlers and mask, fds, argv, sys.path[0], cwd,
// environment, process group, __main__, stdio) through the executor and as a
// fresh `python PROGRAM`, and wants the same on every interpreter.
func TestFreshEquivalence(t *testing.T) {
	probe, _ := filepath.Abs("testdata/probe.py")
	for _, in := range interpreters(t) {
		t.Run(in.Version, func(t *testing.T) {
			dir := t.TempDir()
			env := append(testEnv(), "PROBE=1")
			args := []string{"--start-method", "fork"}

			cmd := exec.Command(in.Path, append([]string{probe}, args...)...)
			cmd.Dir, cmd.Env = dir, env
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			var fresh bytes.Buffer
			cmd.Stdout = &fresh
			err := cmd.Run()
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 3 {
				t.Fatalf("fresh probe: %v", err)
			}

			s, err := Start(context.Background(), in.Path, env)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			c, err := s.Launch(Request{Program: probe, Args: args, Dir: dir, Env: env})
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			out.ReadFrom(c.Stdout)
			c.Stdout.Close()
			c.Stderr.Close()
			ws, err := c.Wait()
			if err != nil || ws.ExitStatus() != 3 {
				t.Fatalf("executor probe: status %v, %v", ws, err)
			}

			var want, got map[string]any
			if err := json.Unmarshal(fresh.Bytes(), &want); err != nil {
				t.Fatalf("fresh probe: %v: %s", err, fresh.String())
			}
			if err := json.Unmarshal(out.Bytes(), &got); err != nil {
				t.Fatalf("executor probe: %v: %s", err, out.String())
			}
			// The one difference by design: until the case has imported
			// what the server preloaded, the finder that hands it out is
			// first on sys.meta_path (after_popen_fork shows it gone).
			if mp, ok := got["meta_path"].([]any); ok && len(mp) > 0 && mp[0] == "_Preloaded" {
				got["meta_path"] = mp[1:]
			} else {
				t.Errorf("sys.meta_path of the case %v, want the _Preloaded finder first", got["meta_path"])
			}
			diff(t, "", want, got)
		})
	}
}

// TestCaseStatus checks exit statuses and a signal death as Wait reports them.
func TestCaseStatus(t *testing.T) {
	py := interpreters(t)[0].Path
	s, err := Start(context.Background(), py, testEnv())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	dir := t.TempDir()
	tests := []struct {
		name, source string
		code         int
		signal       syscall.Signal
		stderr       string
		stdout       string
	}{
		{"ok", "print('hi')", 0, 0, "", "hi"},
		// A case ends as Py_Finalize begins: non-daemon threads joined,
		// atexit callbacks run, std streams flushed.
		{"unflushed", "import sys; sys.stdout.write('tail')", 0, 0, "", "tail"},
		{"atexit", "import atexit, sys; atexit.register(lambda: sys.stderr.write('bye'))", 0, 0, "bye", ""},
		{"thread", "import sys, threading; go = threading.Event()\n" +
			"threading.Thread(target=lambda: (go.wait(), sys.stderr.write('late'))).start(); go.set()", 0, 0, "late", ""},
		{"exit-text", "import sys; sys.exit('no good')", 1, 0, "no good", ""},
		{"exit", "import sys; sys.exit(7)", 7, 0, "", ""},
		{"raise", "raise ValueError('boom')", 1, 0, "ValueError: boom", ""},
		{"killed", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)", -1, syscall.SIGKILL, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prog := filepath.Join(dir, tt.name+".py")
			os.WriteFile(prog, []byte(tt.source+"\n"), 0o644)
			c, err := s.Launch(Request{Program: prog, Dir: dir, Env: testEnv()})
			if err != nil {
				t.Fatal(err)
			}
			var stderr, stdout bytes.Buffer
			read := make(chan struct{})
			go func() { stdout.ReadFrom(c.Stdout); close(read) }()
			stderr.ReadFrom(c.Stderr)
			<-read
			c.Stdout.Close()
			c.Stderr.Close()
			ws, err := c.Wait()
			if err != nil {
				t.Fatal(err)
			}
			if tt.signal != 0 {
				if !ws.Signaled() || ws.Signal() != tt.signal {
					t.Errorf("status %v, want killed by %v", ws, tt.signal)
				}
			} else if ws.ExitStatus() != tt.code {
				t.Errorf("exit %d, want %d; stderr %s", ws.ExitStatus(), tt.code, stderr.String())
			}
			if !bytes.Contains(stdout.Bytes(), []byte(tt.stdout)) {
				t.Errorf("stdout %q, want %q in it", stdout.String(), tt.stdout)
			}
			if !bytes.Contains(stderr.Bytes(), []byte(tt.stderr)) {
				t.Errorf("stderr %q, want %q in it", stderr.String(), tt.stderr)
			}
			if bytes.Contains(stderr.Bytes(), []byte("<stdin>")) {
				t.Errorf("stderr shows the server's frames: %s", stderr.String())
			}
		})
	}
}

// diff reports every leaf where got differs from want, by its key path.
func diff(t *testing.T, path string, want, got any) {
	t.Helper()
	w, wok := want.(map[string]any)
	g, gok := got.(map[string]any)
	if !wok || !gok {
		if !reflect.DeepEqual(want, got) {
			t.Errorf("%s differs:\nfresh:    %v\nexecutor: %v", path, want, got)
		}
		return
	}
	for k := range w {
		diff(t, path+"/"+k, w[k], g[k])
	}
	for k := range g {
		if _, ok := w[k]; !ok {
			t.Errorf("%s/%s: only in the executor: %v", path, k, g[k])
		}
	}
}
