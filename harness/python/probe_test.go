package python

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fakePython is a shell script that answers the probe as a Python would.
func fakePython(version, impl string, freeThreaded bool) string {
	ft := "false"
	if freeThreaded {
		ft = "true"
	}
	return "#!/bin/sh\necho '{\"version\": \"" + version + "\", \"implementation\": \"" + impl +
		"\", \"free_threaded\": " + ft + ", \"debug\": false, \"executable\": \"'\"$0\"'\"}'\n"
}

func writeFile(t *testing.T, path, text string, mode os.FileMode) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), mode); err != nil {
		t.Fatal(err)
	}
	return path
}

// Each broken candidate, passed as a path, gives one clear error naming it,
// within the probe timeout.
func TestProbeBrokenPaths(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "child.pid")
	tests := []struct {
		name, text string
		mode       os.FileMode
		want       string
	}{
		// The background sleep must die with the script: the whole group is killed.
		{"sleeps", "#!/bin/sh\nsleep 1000 &\necho $! > " + pidFile + "\nwait\n", 0o755, "no answer within 3s (killed)"},
		{"exits1", "#!/bin/sh\necho 'it broke' >&2\nexit 1\n", 0o755, "exit status 1: it broke"},
		{"text", "just some text\n", 0o755, "cannot run: not a program (exec format error)"},
		{"noexec", "#!/bin/sh\n", 0o644, "not executable"},
		{"shell", "#!/bin/sh\necho hello\n", 0o755, `not a Python: unexpected output "hello"`},
		{"pypy", fakePython("3.10.14", "PyPy", false), 0o755, "PyPy 3.10.14 is not CPython"},
		{"old", fakePython("3.7.16", "CPython", false), 0o755, "Python 3.7.16 is older than 3.8"},
		{"missing", "", 0, "no such file"},
	}
	// Every script is written before any runs: a file still open for writing
	// when another subtest forks cannot be executed (ETXTBSY).
	for _, tt := range tests {
		if tt.mode != 0 {
			writeFile(t, filepath.Join(dir, tt.name), tt.text, tt.mode)
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(dir, tt.name)
			start := time.Now()
			_, _, err := Resolve(context.Background(), []string{path})
			if took := time.Since(start); took > probeTimeout+10*time.Second {
				t.Errorf("took %v, want at most the timeout %v", took, probeTimeout)
			}
			if err == nil {
				t.Fatalf("Resolve(%s) gave no error", path)
			}
			want := "--python " + path + ": not a working CPython >= 3.8: " + tt.want
			if !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q, want one line starting %q", err, want)
			}
		})
	}
	t.Cleanup(func() {
		b, err := os.ReadFile(pidFile)
		if err != nil {
			t.Errorf("the sleeping script did not start its child: %v", err)
			return
		}
		pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		if alive(pid, time.Second) {
			t.Errorf("the sleeping script's child %d survived the probe", pid)
		}
	})
}

// alive reports whether pid is still running (not gone, not a zombie) after wait.
func alive(pid int, wait time.Duration) bool {
	for deadline := time.Now().Add(wait); ; time.Sleep(20 * time.Millisecond) {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return false
		}
		if i := strings.LastIndexByte(string(b), ')'); i > 0 && strings.HasPrefix(string(b[i:]), ") Z") {
			return false
		}
		if time.Now().After(deadline) {
			return true
		}
	}
}

// A free-threaded build (python3.14t) is an interpreter of its own minor.
func TestProbeFreeThreaded(t *testing.T) {
	path := writeFile(t, filepath.Join(t.TempDir(), "python3.14t"), fakePython("3.14.0", "CPython", true), 0o755)
	got, _, err := Resolve(context.Background(), []string{path})
	if err != nil {
		t.Fatal(err)
	}
	want := Interpreter{Path: path, Version: "3.14.0", Minor: "3.14t", Source: SourceFlag, Implementation: "CPython", FreeThreaded: true}
	if len(got) != 1 || got[0] != want {
		t.Errorf("Resolve(%s) = %+v, want %+v", path, got, want)
	}
}

// A Python 2.7 under pyenv is named and refused, not reported as broken.
func TestProbePython27(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join(pyenvRoot(context.Background()), "versions", "2.7*", "bin", "python"))
	if len(paths) == 0 {
		t.Skip("no Python 2.7 under pyenv")
	}
	_, _, err := Resolve(context.Background(), paths[:1])
	if err == nil || !strings.Contains(err.Error(), "is older than 3.8") || !strings.Contains(err.Error(), "Python 2.7.") {
		t.Errorf("Resolve(%s) = %v, want an error saying Python 2.7 is older than 3.8", paths[0], err)
	}
}

// A candidate still open for writing (ETXTBSY) is retried until the writer
// closes it, not reported as broken.
func TestProbeWaitsForWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "python3")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(fakePython("3.12.4", "CPython", false)); err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(100 * time.Millisecond)
		f.Close()
	}()
	got, _, err := Resolve(context.Background(), []string{path})
	if err != nil {
		t.Fatalf("Resolve(%s) while a writer held it briefly: %v", path, err)
	}
	if len(got) != 1 || got[0].Version != "3.12.4" {
		t.Errorf("Resolve(%s) = %+v, want one 3.12.4", path, got)
	}
}
