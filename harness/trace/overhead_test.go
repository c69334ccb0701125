package trace

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/forkfuzz/forkfuzz/harness/proc"
)

// overheadScript: a few hundred thousand lock operations and a fork, the
// worst case for the tracking wrappers (nothing but acquires and releases).
const overheadScript = `import os, queue, threading
L = threading.Lock()
R = threading.RLock()
for i in range(200000):
    with L:
        pass
for i in range(50000):
    with R:
        pass
q = queue.Queue()
for i in range(20000):
    q.put(i)
    q.get()
pid = os.fork()
if pid == 0:
    os._exit(0)
os.waitpid(pid, 0)
`

// TestOverhead compares the CPU time of the traced program (Python side and
// Go poller together) with the plain run, and logs both. The target (1.5x
// on a realistic program) is a figure for the note, not an assertion: this
// worst case measures 1.5-2.3x. The test fails only past maxOverhead, a
// wrapper gone pathological (a stack walk per acquire), far above what a
// loaded machine does to a ratio of CPU times.
func TestOverhead(t *testing.T) {
	script := filepath.Join(t.TempDir(), "overhead.py")
	if err := os.WriteFile(script, []byte(overheadScript), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, py := range pythons(t) {
		t.Run(py.version, func(t *testing.T) { overhead(t, py.path, script) })
	}
}

func overhead(t *testing.T, python, script string) {
	const runs, maxOverhead = 3, 5.0
	var plainCPU, tracedCPU, plainWall, tracedWall []time.Duration
	for range runs {
		cpu, wall := measure(t, func() {
			if err := exec.Command(python, script).Run(); err != nil {
				t.Fatalf("plain run: %v", err)
			}
		})
		plainCPU, plainWall = append(plainCPU, cpu), append(plainWall, wall)
		cpu, wall = measure(t, func() {
			rep, err := Run(context.Background(), Options{Argv: []string{python, script}})
			if err != nil || rep.Verdict != VerdictOK {
				t.Fatalf("traced run: %v %+v", err, rep)
			}
		})
		tracedCPU, tracedWall = append(tracedCPU, cpu), append(tracedWall, wall)
	}
	pc, tc, pw, tw := median(plainCPU), median(tracedCPU), median(plainWall), median(tracedWall)
	ratio := float64(tc) / float64(pc)
	t.Logf("CPU: plain %v, traced %v: %.2fx; wall: plain %v, traced %v: %.2fx",
		pc.Round(time.Millisecond), tc.Round(time.Millisecond), ratio,
		pw.Round(time.Millisecond), tw.Round(time.Millisecond), float64(tw)/float64(pw))
	if ratio > maxOverhead {
		t.Errorf("tracing costs %.2fx the CPU of the plain run, more than %.1fx", ratio, maxOverhead)
	}
}

// measure returns the CPU time of this process and its waited-for children
// spent in f, and the wall time.
func measure(t *testing.T, f func()) (cpu, wall time.Duration) {
	t.Helper()
	before, self0 := rusage(t, syscall.RUSAGE_CHILDREN), rusage(t, syscall.RUSAGE_SELF)
	start := time.Now()
	f()
	wall = time.Since(start)
	return rusage(t, syscall.RUSAGE_CHILDREN) - before + rusage(t, syscall.RUSAGE_SELF) - self0, wall
}

func rusage(t *testing.T, who int) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// TestIdlePolling: a program that sleeps changes nothing /proc shows, so
// the poll backs off: a 3 s sleep is looked at about 50 times, not 300
// (a fixed 10 ms poll). A slow machine only polls less.
func TestIdlePolling(t *testing.T) {
	script := filepath.Join(t.TempDir(), "idle.py")
	if err := os.WriteFile(script, []byte("import time\ntime.sleep(3)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var polls atomic.Int64
	defer func(p func(int) (proc.Evidence, bool)) { prover = p }(prover)
	real := prover
	prover = func(pid int) (proc.Evidence, bool) {
		polls.Add(1)
		return real(pid)
	}
	py := everyPython(t)[0].Path // the interpreter itself: a pyenv shim's start-up would count
	rep, err := Run(context.Background(), Options{Argv: []string{py, script}, Timeout: time.Minute})
	if err != nil || rep.Verdict != VerdictOK {
		t.Fatalf("traced run: %v %+v", err, rep)
	}
	t.Logf("%d polls in a 3 s sleep", polls.Load())
	if n := polls.Load(); n > 150 {
		t.Errorf("%d polls of an idle 3 s program, want at most 150", n)
	}
}
