package trace

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/forkfuzz/forkfuzz/harness/guard"
	"github.com/forkfuzz/forkfuzz/harness/proc"
)

// Polling, adaptive as in harness/run: a block shows in /proc about 0.5 ms
// after it happens, so the tree is polled every pollMin while it changes (a
// process starts or ends, one changes state or thread count), and less often
// the longer it stays as it was, up to pollMax: a long idle program is
// looked at five times a second, and a deadlock is still proved at the first
// poll after the block.
const (
	pollMin = 2 * time.Millisecond
	pollMax = 200 * time.Millisecond
	// pollSlope: the interval grows by 1 ms per pollSlope of quiet.
	pollSlope = 10
)

const (
	dumpWait  = 300 * time.Millisecond // at most this long for one faulthandler dump
	drainWait = 500 * time.Millisecond // for output pipes after the tree is gone
	stderrCap = 256 << 10              // bytes of stderr kept for the warning scan
)

// prover proves that pid can never run again. It is proc.Blocked behind a
// variable so that a test can see what the poll loop does with a proof.
var prover = func(pid int) (proc.Evidence, bool) {
	ev, ok, err := proc.Blocked(pid)
	return ev, ok && err == nil
}

// outcome is what running the program left behind, before the trace records
// are read.
type outcome struct {
	root     int // pid of the program
	exitCode int // its own exit code; 128+signal when a signal ended it
	signaled bool
	timedOut bool
	canceled bool
	proofs   []proc.Evidence // processes proved deadlocked, in the order found
	stacks   map[int]string  // faulthandler dumps by pid
	stderr   string          // the last stderrCap bytes
	timeout  time.Duration
}

// execute runs the program in its own process group and polls every process
// of the group (this kernel has no /proc/PID/task/TID/children) with the
// proof until the program and all it forked are gone, a process is proved
// deadlocked, or the time is up. Then it dumps every live process's stacks and
// kills the whole tree: never a process left behind.
func execute(ctx context.Context, o Options, env []string, traceDir string) (outcome, error) {
	out := outcome{stacks: map[int]string{}, timeout: o.Timeout}
	errR, errW, err := os.Pipe()
	if err != nil {
		return out, fmt.Errorf("stderr pipe: %w", err)
	}
	defer errR.Close()
	cmd := exec.Command(o.Argv[0], o.Argv[1:]...)
	cmd.Env = env
	cmd.Stderr = errW // an *os.File: no copying goroutine that Wait would wait for
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var outW *os.File
	var outDone chan struct{}
	if o.Stdout != nil {
		var outR *os.File
		if outR, outW, err = os.Pipe(); err != nil {
			errW.Close()
			return out, fmt.Errorf("stdout pipe: %w", err)
		}
		defer outR.Close()
		cmd.Stdout = outW
		outDone = copyDone(o.Stdout, outR)
	}
	tail := &tailBuffer{max: stderrCap}
	errDst := io.Writer(tail)
	if o.Stderr != nil {
		errDst = io.MultiWriter(tail, o.Stderr)
	}
	errDone := copyDone(errDst, errR)
	err = cmd.Start()
	errW.Close()
	if outW != nil {
		outW.Close()
	}
	if err != nil {
		return out, fmt.Errorf("start: %w", err)
	}
	out.root = cmd.Process.Pid
	// The traced tree has no parent-death signal: if forkfuzz is killed
	// with SIGKILL, the guard kills the group instead.
	guard.Add(out.root)
	defer guard.Remove(out.root)
	exited := make(chan *os.ProcessState, 1)
	go func() {
		st, _ := cmd.Process.Wait()
		exited <- st
	}()

	poll(ctx, &out, exited, traceDir)

	if st := waitExit(&out, exited); st != nil {
		out.exitCode, out.signaled = exitCode(st)
	}
	for _, done := range []chan struct{}{errDone, outDone} {
		if done != nil {
			select {
			case <-done:
			case <-time.After(drainWait):
			}
		}
	}
	out.stderr = tail.String()
	return out, nil
}

// poll watches the tree until it is gone or something ends the watch; every
// way out but the tree's own end dumps stacks and kills the tree.
func poll(ctx context.Context, out *outcome, exited chan *os.ProcessState, traceDir string) {
	pgid := out.root
	scan := proc.NewScanner()
	scan.Forget(pgid)
	groups := map[int]bool{pgid: true}
	known := map[int]bool{pgid: true}
	deadline := time.NewTimer(out.timeout)
	defer deadline.Stop()
	tick := time.NewTimer(pollMin)
	defer tick.Stop()
	rootGone, exitedCh := false, exited
	var seen string // the tree as last polled
	quietSince := time.Now()
	for {
		select {
		case st := <-exitedCh:
			exited <- st // keep it for waitExit
			rootGone, exitedCh = true, nil
		case <-tick.C:
		case <-deadline.C:
			out.timedOut = true
		case <-ctx.Done():
			out.canceled = true
		}
		members, err := scan.Scan(groups, known)
		if err != nil {
			members = map[int]proc.Stat{}
		}
		live := liveMembers(members)
		for _, pid := range live {
			known[pid] = true
		}
		if now, fp := time.Now(), fingerprint(members); fp != seen {
			seen, quietSince = fp, now
		}
		tick.Reset(min(pollMin+time.Since(quietSince)/pollSlope, pollMax))
		if out.timedOut || out.canceled {
			finish(out, pgid, live, traceDir)
			return
		}
		for _, pid := range live {
			if ev, ok := prover(pid); ok {
				out.proofs = append(out.proofs, ev)
			}
		}
		if len(out.proofs) > 0 {
			finish(out, pgid, live, traceDir)
			return
		}
		if rootGone && len(live) == 0 {
			return
		}
	}
}

// fingerprint says what a poll can see change in the tree: its processes,
// their states and thread counts.
func fingerprint(members map[int]proc.Stat) string {
	pids := make([]int, 0, len(members))
	for pid := range members {
		pids = append(pids, pid)
	}
	sort.Ints(pids)
	var b strings.Builder
	for _, pid := range pids {
		st := members[pid]
		fmt.Fprintf(&b, "%d %c %d;", pid, st.State, st.NumThreads)
	}
	return b.String()
}

// liveMembers lists the pids that are not zombies, sorted.
func liveMembers(members map[int]proc.Stat) []int {
	var pids []int
	for pid, st := range members {
		if st.State != 'Z' && st.State != 'X' {
			pids = append(pids, pid)
		}
	}
	sort.Ints(pids)
	return pids
}

// finish asks every live process for its Python stacks, then kills the tree.
func finish(out *outcome, pgid int, live []int, traceDir string) {
	sigs := dumpSignals(traceDir)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, pid := range live {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if text := dumpStack(pid, sigs[pid], traceDir); text != "" {
				mu.Lock()
				out.stacks[pid] = text
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	syscall.Kill(-pgid, syscall.SIGKILL)
	for _, pid := range live { // those that left the group
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

// dumpSignals reads, per pid, the signal its instrumentation chose for stack
// dumps: a real-time signal that was free in that process, so that a
// program's own SIGUSR1 (a server's log reopening) is never sent to it.
func dumpSignals(traceDir string) map[int]syscall.Signal {
	recs, _ := readRecords(traceDir) // what could be read
	sigs := map[int]syscall.Signal{}
	for pid, rs := range recs {
		for _, r := range rs {
			if (r.Ev == "start" || r.Ev == "child") && r.Sig > 0 {
				sigs[pid] = syscall.Signal(r.Sig)
				break
			}
		}
	}
	return sigs
}

// dumpStack sends sig to pid, whose faulthandler (installed by the
// sitecustomize) writes every thread's stack to its own file, and waits until
// the file has stopped growing. A process with no signal recorded, or
// without a handler for it, is left alone: the signal would kill it.
func dumpStack(pid int, sig syscall.Signal, traceDir string) string {
	if sig == 0 || !proc.HandlesSignal(pid, sig) || syscall.Kill(pid, sig) != nil {
		return ""
	}
	path := filepath.Join(traceDir, fmt.Sprintf("stack.%d.txt", pid))
	var last int64 = -1
	stable := 0
	for start := time.Now(); time.Since(start) < dumpWait; time.Sleep(5 * time.Millisecond) {
		fi, err := os.Stat(path)
		if err != nil {
			continue
		}
		if fi.Size() > 0 && fi.Size() == last {
			if stable++; stable >= 2 {
				break
			}
		} else {
			stable = 0
		}
		last = fi.Size()
	}
	b, _ := os.ReadFile(path)
	return string(b)
}

// waitExit returns the root's exit status; after a kill it comes at once.
func waitExit(out *outcome, exited chan *os.ProcessState) *os.ProcessState {
	select {
	case st := <-exited:
		return st
	case <-time.After(5 * time.Second):
		syscall.Kill(out.root, syscall.SIGKILL)
		return <-exited
	}
}

func exitCode(st *os.ProcessState) (int, bool) {
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal()), true
	}
	return st.ExitCode(), false
}

// copyDone copies r to w in a goroutine and closes the channel at EOF.
func copyDone(w io.Writer, r io.Reader) chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		io.Copy(w, r) // ends at EOF, or with an error once r is closed
	}()
	return done
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf.Write(p)
	if over := t.buf.Len() - t.max; over > 0 {
		t.buf.Next(over)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.String()
}
