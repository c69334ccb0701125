package main

import (
	"errors"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/forkfuzz/forkfuzz/harness/corpus"
)

// TestSignalsLeaveNothing starts run, replay and fuzz on real scenarios,
// stops each in the middle with SIGINT, SIGTERM or SIGKILL, and checks that
// no process of theirs is left and that the exit says what happened.
func TestSignalsLeaveNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("runs forkfuzz and Python")
	}
	seed := time.Now().UnixNano()
	if s := os.Getenv("FORKFUZZ_TEST_SEED"); s != "" {
		seed = int64(len(s)) // any fixed value reproduces the delays closely enough
	}
	t.Logf("seed %d (delays before each signal)", seed)
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
// forked child is alive: the child's parent dies by the parent-death signal,
// and the child must not outlive them (it would be a deadlocked orphan).
func TestKillWithForkedChild(t *testing.T) {
	if testing.Short() {
		t.Skip("runs forkfuzz and Python")
	}
	lib, _ := filepath.Abs(filepath.Join("..", "..", "scenarios"))
	for _, scen := range []string{"lock-held-by-thread.yaml", "ci-runner-pool.yaml"} {
		t.Run(scen, func(t *testing.T) {
			r := startTool(t, nil, "run", "--runs", "200", "--jobs", "1", "--method", "fork", "--timeout", "60s", filepath.Join(lib, scen))
			deadline := time.Now().Add(30 * time.Second)
			for {
				n := 0
				for _, p := range r.others() {
					if strings.Contains(p.cmdline, "--start-method fork") {
						n++
					}
				}
				if n >= 2 { // the program and its forked child (or a pool worker)
					break
				}
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

// TestCorpusAddKilled kills `forkfuzz corpus add` with SIGKILL at random
// moments, several times into one corpus: every entry there loads (complete
// or absent), and no process of the killed runs is left.
func TestCorpusAddKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("runs forkfuzz and Python")
	}
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewSource(seed))
	lib, _ := filepath.Abs(filepath.Join("..", "..", "scenarios"))
	dst := filepath.Join(t.TempDir(), "corpus")
	for i := 0; i < 5; i++ {
		r := startTool(t, nil, "corpus", "add", "--jobs", "2", "-o", dst, lib)
		if !r.waitChildren(30*time.Second, "--start-method") {
			t.Fatalf("forkfuzz started no program\n%s", r.stderr.String())
		}
		time.Sleep(time.Duration(rng.Intn(3000)) * time.Millisecond)
		r.cmd.Process.Signal(syscall.SIGKILL)
		if !r.waitExit(10 * time.Second) {
			t.Fatal("forkfuzz still running 10 s after SIGKILL")
		}
		if left := r.leftAfter(5 * time.Second); len(left) > 0 {
			t.Errorf("kill %d: %d processes left: %v", i, len(left), left)
		}
		if _, errs := corpus.Load(dst); len(errs) > 0 && !os.IsNotExist(errors.Unwrap(errs[0])) {
			t.Fatalf("kill %d: corpus does not load: %q", i, errs)
		}
	}
	entries, _ := corpus.Load(dst)
	t.Logf("%d entries after 5 kills", len(entries))
}
