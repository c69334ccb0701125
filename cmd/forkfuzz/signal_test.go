package main

import (
	"errors"
	"io/fs"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/forkfuzz/forkfuzz/harness/corpus"
)

// TestSignalsLeaveNothing starts run, replay, matrix and fuzz on real scenarios,
// stops each in the middle with SIGINT, SIGTERM or SIGKILL, and checks that
// no process of theirs is left and that the exit says what happened.
func TestSignalsLeaveNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("runs forkfuzz and Python")
	}
	seed := testSeed(t)
	rng := rand.New(rand.NewSource(seed))
	lib, err := filepath.Abs(filepath.Join("..", "..", "scenarios"))
	if err != nil {
		t.Fatal(err)
	}
	commands := []struct {
		name string
		args func(t *testing.T) []string
	}{
		{"run", func(t *testing.T) []string {
			return []string{"run", "--runs", "100", "--jobs", "2", filepath.Join(lib, "lock-held-by-thread.yaml"), filepath.Join(lib, "ci-runner-pool.yaml")}
		}},
		{"replay", func(t *testing.T) []string {
			dir, _ := replayCorpus(t)
			return []string{"replay", "--runs", "100", "--jobs", "2", dir}
		}},
		{"matrix", func(t *testing.T) []string {
			return []string{"matrix", "--python", "python3", "--jobs", "2", "-o", filepath.Join(t.TempDir(), "m.md"), lib}
		}},
		{"fuzz", func(t *testing.T) []string {
			return []string{"fuzz", "--budget", "60s", "--jobs", "2", "--seed", "7", "--corpus", filepath.Join(t.TempDir(), "corpus")}
		}},
	}
	for _, c := range commands {
		for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGKILL} {
			delay := time.Duration(rng.Intn(400)) * time.Millisecond
			t.Run(c.name+"/"+signalName(sig), func(t *testing.T) {
				r := startTool(t, nil, c.args(t)...)
				// A rendered program running: the middle of the work, past
				// the probes of the interpreters.
				if !r.waitChildren(30*time.Second, "--start-method") {
					t.Fatalf("forkfuzz started no process (exit %v)\n%s", r.cmd.ProcessState, r.stderr.String())
				}
				time.Sleep(delay)
				if err := r.cmd.Process.Signal(sig); err != nil {
					t.Fatal(err)
				}
				if !r.waitExit(20 * time.Second) {
					t.Fatalf("forkfuzz %s still running 20 s after %s", c.name, signalName(sig))
				}
				if left := r.leftAfter(5 * time.Second); len(left) > 0 {
					t.Errorf("%d processes left 5 s after forkfuzz %s exited on %s: %v", len(left), c.name, signalName(sig), left)
				}
				checkStopped(t, r, sig)
			})
		}
	}
}

// checkStopped checks how forkfuzz ended: killed by SIGKILL, or for SIGINT
// and SIGTERM a message saying it stopped and what it did, and a non-zero
// exit code.
func checkStopped(t *testing.T, r *toolRun, sig syscall.Signal) {
	t.Helper()
	ws := r.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if sig == syscall.SIGKILL {
		if !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			t.Errorf("after SIGKILL: %v", r.cmd.ProcessState)
		}
		return
	}
	stderr := r.stderr.String()
	if ws.Signaled() || !strings.Contains(stderr, "stopping, killing every process started") {
		t.Errorf("after %s: %v, want an exit with a message; stderr:\n%s", signalName(sig), r.cmd.ProcessState, stderr)
	}
	if out := stderr + r.stdout.String(); !strings.Contains(out, "interrupted") {
		t.Errorf("after %s: no 'interrupted' in the output:\n%s", signalName(sig), out)
	}
	if ws.ExitStatus() == exitOK {
		t.Errorf("after %s: exit 0, want non-zero for a run that did not finish", signalName(sig))
	}
}

func signalName(s syscall.Signal) string {
	return map[syscall.Signal]string{syscall.SIGINT: "SIGINT", syscall.SIGTERM: "SIGTERM", syscall.SIGKILL: "SIGKILL"}[s]
}

// TestKillWithForkedChild kills forkfuzz with SIGKILL while a program's
// forked child is alive, with a fresh interpreter per run and with the
// executor: the child's parent dies by the parent-death signal, and the
// child must not outlive it (it would be a deadlocked orphan).
func TestKillWithForkedChild(t *testing.T) {
	if testing.Short() {
		t.Skip("runs forkfuzz and Python")
	}
	lib, _ := filepath.Abs(filepath.Join("..", "..", "scenarios"))
	for _, executor := range []string{"--executor=false", "--executor=true"} {
		for _, scen := range []string{"lock-held-by-thread.yaml", "ci-runner-pool.yaml"} {
			t.Run(executor+"/"+scen, func(t *testing.T) {
				r := startTool(t, nil, "run", executor, "--runs", "200", "--jobs", "1", "--method", "fork", "--timeout", "60s", filepath.Join(lib, scen))
				for deadline := time.Now().Add(30 * time.Second); !r.hasForkedChild(); {
					if time.Now().After(deadline) || r.waitExit(time.Millisecond) {
						t.Fatalf("never saw a forked child\n%s", r.stderr.String())
					}
				}
				r.cmd.Process.Signal(syscall.SIGKILL)
				if !r.waitExit(10 * time.Second) {
					t.Fatal("forkfuzz still running 10 s after SIGKILL")
				}
				if left := r.leftAfter(5 * time.Second); len(left) > 0 {
					t.Errorf("%d processes left 5 s after SIGKILL of forkfuzz: %v", len(left), left)
				}
			})
		}
	}
}

// hasForkedChild reports whether a Python process of the run is a member,
// not the leader, of a process group that forkfuzz started: a forked child
// or a pool worker. A run's program, an executor server or case, and the
// guard each lead their own group; a probe's pyenv shim has members, but
// they are shells (the interpreter replaces the leader).
func (r *toolRun) hasForkedChild() bool {
	own, _ := syscall.Getpgid(r.cmd.Process.Pid)
	for _, p := range r.others() {
		pgid, err := syscall.Getpgid(p.pid)
		exe, _ := os.Readlink(filepath.Join("/proc", strconv.Itoa(p.pid), "exe"))
		if err == nil && pgid != p.pid && pgid != own && strings.HasPrefix(filepath.Base(exe), "python") {
			return true
		}
	}
	return false
}

// TestCorpusAddKilled kills `forkfuzz corpus add` with SIGKILL at random
// moments, several times into one corpus: every entry there loads (complete
// or absent), and no process of the killed runs is left. (The corpus
// package's TestWriterKilled aims the kills at the writes themselves.)
func TestCorpusAddKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("runs forkfuzz and Python")
	}
	rng := rand.New(rand.NewSource(testSeed(t)))
	lib, _ := filepath.Abs(filepath.Join("..", "..", "scenarios"))
	dst := filepath.Join(t.TempDir(), "corpus")
	const kills = 4
	for i := 0; i < kills; i++ {
		r := startTool(t, nil, "corpus", "add", "--jobs", "2", "-o", dst, lib)
		if !r.waitChildren(30*time.Second, "--start-method") {
			t.Fatalf("forkfuzz started no program\n%s", r.stderr.String())
		}
		time.Sleep(time.Duration(rng.Intn(2000)) * time.Millisecond)
		r.cmd.Process.Signal(syscall.SIGKILL)
		if !r.waitExit(10 * time.Second) {
			t.Fatal("forkfuzz still running 10 s after SIGKILL")
		}
		if left := r.leftAfter(5 * time.Second); len(left) > 0 {
			t.Errorf("kill %d: %d processes left: %v", i, len(left), left)
		}
		// No folder yet is fine: killed before the first entry.
		if _, errs := corpus.Load(dst); len(errs) > 0 && !errors.Is(errs[0], fs.ErrNotExist) {
			t.Fatalf("kill %d: corpus does not load: %q", i, errs)
		}
	}
	entries, _ := corpus.Load(dst)
	t.Logf("%d entries after %d kills", len(entries), kills)
}

// testSeed is the seed of a test's random delays: FORKFUZZ_TEST_SEED if set,
// else the clock; it is logged so that a failure can be replayed.
func testSeed(t *testing.T) int64 {
	seed := time.Now().UnixNano()
	if s, err := strconv.ParseInt(os.Getenv("FORKFUZZ_TEST_SEED"), 10, 64); err == nil {
		seed = s
	}
	t.Logf("seed %d (FORKFUZZ_TEST_SEED)", seed)
	return seed
}

// TestTraceSignals stops `forkfuzz trace` of a program that forked, with
// SIGINT and with SIGKILL: neither the program nor its child may be left.
func TestTraceSignals(t *testing.T) {
	if testing.Short() {
		t.Skip("runs forkfuzz and Python")
	}
	// The interpreter itself, not a pyenv shim whose helpers carry the same
	// arguments: the processes counted below are the program and its child.
	out, err := exec.Command("python3", "-c", "import sys; print(sys.executable)").Output()
	if err != nil {
		t.Skipf("no python3: %v", err)
	}
	python := strings.TrimSpace(string(out))
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGKILL} {
		t.Run(signalName(sig), func(t *testing.T) {
			r := startTool(t, nil, "trace", "--", python, "-c", "import os, time; os.fork(); time.sleep(600)")
			deadline := time.Now().Add(20 * time.Second)
			for n := 0; n < 2; {
				if time.Now().After(deadline) || r.waitExit(10*time.Millisecond) {
					t.Fatalf("never saw the program and its child\n%s", r.stderr.String())
				}
				n = 0
				for _, p := range r.others() {
					if strings.HasPrefix(p.cmdline, python+" -c") {
						n++
					}
				}
			}
			r.cmd.Process.Signal(sig)
			if !r.waitExit(10 * time.Second) {
				t.Fatalf("forkfuzz trace still running 10 s after %s", signalName(sig))
			}
			if left := r.leftAfter(5 * time.Second); len(left) > 0 {
				t.Errorf("%d processes left after %s: %v", len(left), signalName(sig), left)
			}
		})
	}
}
