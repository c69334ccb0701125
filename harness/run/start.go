package run

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"github.com/forkfuzz/forkfuzz/harness/executor"
	"github.com/forkfuzz/forkfuzz/harness/guard"
)

// launch starts x: a fork-method run on x.Executor when there is one (a case
// forked by a pre-started interpreter, see package executor), else cmd. It
// returns the program's pid, also its process group, and how to wait for its
// status.
func launch(x Execution, cmd *exec.Cmd, stdout, stderr *os.File) (int, func() (syscall.WaitStatus, error), error) {
	if x.Executor != nil && x.Method == "fork" {
		c, err := x.Executor.Launch(x.Python, executor.Request{Program: x.Program, Args: cmd.Args[2:],
			Dir: cmd.Dir, Env: cmd.Env, Stdout: stdout, Stderr: stderr})
		var notFresh *executor.NotFreshError
		switch {
		case err == nil:
			return c.Pid, c.Wait, nil
		case !errors.As(err, &notFresh): // else a fresh interpreter, below
			return 0, nil, err
		}
	}
	if err := startLocked(cmd); err != nil {
		return 0, nil, err
	}
	return cmd.Process.Pid, func() (syscall.WaitStatus, error) {
		err := cmd.Wait()
		if cmd.ProcessState == nil {
			return 0, err
		}
		return cmd.ProcessState.Sys().(syscall.WaitStatus), nil
	}, nil
}

// startLocked starts a run's leader so that it dies with forkfuzz (see
// guard.Start), once forkfuzz is the subreaper of its runs' orphans.
func startLocked(cmd *exec.Cmd) error {
	subreaperOnce.Do(becomeSubreaper)
	return guard.Start(cmd)
}

// subreaperOnce makes forkfuzz the subreaper of its runs' orphans before the
// first run starts.
var subreaperOnce sync.Once

// becomeSubreaper makes orphans of a run (a forked child whose parent was
// killed) our children rather than init's, so they are killed and reaped
// too. Only pids known to belong to a run are ever reaped (wait4 on that pid),
// so os/exec's Wait on its own child is never confused.
func becomeSubreaper() {
	const prSetChildSubreaper = 36
	syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0)
}

// live lists every run started and not yet reaped, for KillAll.
var live = struct {
	sync.Mutex
	runs map[*watched]bool
}{runs: map[*watched]bool{}}

// KillAll kills every process tree this package started and has not reaped
// yet: for a SIGINT/SIGTERM handler. The Execute calls still reap them.
func KillAll() {
	live.Lock()
	defer live.Unlock()
	for w := range live.runs {
		killTree(w)
	}
}

func killTree(w *watched) {
	syscall.Kill(-w.pgid, syscall.SIGKILL)
	for _, pid := range watcher.members(w) {
		if pid != w.pgid { // the leader's pid may be reused once os/exec reaped it
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// reapTree kills the tree of w until nothing of it is left, reaping every
// process that became our child (an orphan) except the leader, whose status
// os/exec's Wait collects. It gives up after a few seconds and says so.
func reapTree(w *watched, leaderGone <-chan struct{}) error {
	self := os.Getpid()
	deadline := time.Now().Add(5 * time.Second)
	for {
		killTree(w)
		known := map[int]bool{}
		for _, pid := range watcher.members(w) {
			known[pid] = pid != w.pgid
		}
		// The shared scanner reads only the stats it has not cached: the
		// run's own processes, and pids it has not seen before.
		tree, err := watcher.scanner.Scan(map[int]bool{w.pgid: true}, known)
		if err != nil {
			return fmt.Errorf("reap group %d: %w", w.pgid, err)
		}
		left := 0
		for pid, st := range tree {
			if pid == w.pgid {
				continue
			}
			left++
			if st.State != 'Z' {
				syscall.Kill(pid, syscall.SIGKILL)
			}
			if st.PPid == self {
				var ws syscall.WaitStatus
				syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
			}
		}
		leaderDone := false
		select {
		case <-leaderGone:
			leaderDone = true
		default:
		}
		if left == 0 && leaderDone {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("reap group %d: %d processes still there after 5 s", w.pgid, left)
		}
		time.Sleep(time.Millisecond)
	}
}

// signalName names the usual signals the way Python and people do.
func signalName(s syscall.Signal) string {
	names := map[syscall.Signal]string{syscall.SIGABRT: "SIGABRT", syscall.SIGBUS: "SIGBUS",
		syscall.SIGFPE: "SIGFPE", syscall.SIGILL: "SIGILL", syscall.SIGINT: "SIGINT",
		syscall.SIGKILL: "SIGKILL", syscall.SIGPIPE: "SIGPIPE", syscall.SIGSEGV: "SIGSEGV",
		syscall.SIGTERM: "SIGTERM", syscall.SIGUSR1: "SIGUSR1", syscall.SIGUSR2: "SIGUSR2",
		syscall.SIGHUP: "SIGHUP", syscall.SIGQUIT: "SIGQUIT", syscall.SIGALRM: "SIGALRM"}
	if n, ok := names[s]; ok {
		return n
	}
	return fmt.Sprintf("signal %d", int(s))
}
