package run

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/forkfuzz/forkfuzz/harness/guard"
	"github.com/forkfuzz/forkfuzz/harness/proc"
	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

// Execute runs one program to its verdict. It never leaves a process behind:
// whatever happens, the whole tree is killed and reaped before it returns.
func Execute(ctx context.Context, x Execution) Result {
	r := Result{Scenario: x.Name, Python: x.Python, PythonVersion: x.PythonVersion, Method: x.Method, ExitCode: -1}
	env, recorded := environ(x.Env)
	r.Env = recorded
	if err := ctx.Err(); err != nil {
		r.Verdict, r.Reason = verdictError, "canceled: "+err.Error()
		return r
	}
	if x.Method == scenario.MethodDefault {
		used, err := DefaultMethod(ctx, x.Python)
		if err != nil {
			return failed(r, fmt.Errorf("run %s: %w", x.Name, err))
		}
		// The program gets the method itself: a corpus entry's frozen
		// program may predate --start-method default.
		x.Method, r.MethodUsed = used, used
	}
	dir, cleanup, err := guard.TempDir("forkfuzz-run-")
	if err != nil {
		return failed(r, fmt.Errorf("run %s: %w", x.Name, err))
	}
	defer cleanup()
	// Temp files the program makes (a scenario's module folder) go into the
	// run's folder, so that a killed run leaves nothing behind either.
	env = append(env, "TMPDIR="+dir)

	timeout := x.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	args := append([]string{x.Program, "--start-method", x.Method}, x.Args...)
	cmd := exec.Command(x.Python, args...)
	cmd.Env, cmd.Dir = env, dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}

	// Our own pipes, passed as files: os/exec's Wait then does not wait for
	// the copying, which a surviving grandchild holding the pipe would block.
	outR, outW, err := os.Pipe()
	if err != nil {
		return failed(r, fmt.Errorf("run %s: stdout pipe: %w", x.Name, err))
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return failed(r, fmt.Errorf("run %s: stderr pipe: %w", x.Name, err))
	}
	cmd.Stdout, cmd.Stderr = outW, errW

	live.Lock() // KillAll must see the run as soon as it exists
	start := time.Now()
	pid, wait, err := launch(x, cmd, outW, errW)
	outW.Close()
	if err != nil {
		live.Unlock()
		outR.Close()
		errR.Close()
		errW.Close()
		return failed(r, fmt.Errorf("run %s: start %s: %w", x.Name, x.Python, err))
	}
	limitErr := limit(pid)
	w := watcher.watch(pid, start)
	live.runs[w] = true
	live.Unlock()
	guard.Add(w.pgid)

	outs := newStream(outR, nil, start, false, nil)
	errs := newStream(errR, errW, start, true, func() {
		w.lastEvent.Store(time.Now().UnixNano())
		watcher.poke()
	})
	exited := make(chan struct{})
	var status syscall.WaitStatus
	var waitErr error
	go func() {
		status, waitErr = wait()
		close(exited)
	}()

	timer := time.NewTimer(timeout)
	defer timer.Stop()
	var settled time.Duration // spent in settle: not part of ElapsedMS
	select {
	case <-exited:
		judgeExit(&r, status, waitErr)
	case found := <-w.found:
		if x.Settle > 0 {
			// Before the stack too: a dump asked for while the parent
			// still writes would share lines with what it writes.
			t := time.Now()
			settle(ctx, w, exited, x.Settle)
			settled = time.Since(t)
		}
		proved(&r, found, errs)
	case n := <-w.crowd:
		r.Verdict, r.Reason = verdictError, fmt.Sprintf("more than %d processes (%d seen): killed", MaxProcesses, n)
	case <-timer.C:
		r.Verdict, r.Reason = scenario.Hang, fmt.Sprintf("no proof and no exit within %s", timeout)
		hangStacks(&r, w, errs)
	case <-ctx.Done():
		r.Verdict, r.Reason = verdictError, "canceled: "+ctx.Err().Error()
	}
	watcher.unwatch(w)
	r.ElapsedMS = ms(time.Since(start) - settled)
	reapErr := reapTree(w, exited)
	<-exited
	live.Lock()
	delete(live.runs, w)
	live.Unlock()
	// Reaped: the group's number may now be anyone's.
	guard.Remove(w.pgid)
	errW.Close() // our write end, kept for stream.sync; now the reader can see EOF
	finish(&r, outs, errs, outR, errR)
	if r.Verdict == "" { // exited, judged after the trace was complete
		judgeResult(&r)
	}
	if reapErr != nil {
		r.Reason = strings.TrimSpace(r.Reason + "; " + reapErr.Error())
	}
	if limitErr != nil && !errors.Is(limitErr, syscall.ESRCH) { // ESRCH: it had exited already
		r.Reason = strings.TrimSpace(r.Reason + "; resource limits not set: " + limitErr.Error())
	}
	return r
}

// proved fills a deadlock verdict from the stuck processes, first proved
// first, and takes the first one's stack.
func proved(r *Result, found []stuck, errs *stream) {
	// The stuck process wrote its last trace line before it blocked: once
	// the pipe is synced, its role and last step are known.
	errs.sync(dumpWait)
	first := found[0]
	r.Verdict = scenario.Deadlock
	r.Where = errs.role(first.pid)
	r.Proof = first.ev.String()
	ev := first.ev
	r.Evidence = &ev
	if t, ok := errs.lastStepOf(first.pid); ok {
		r.DetectMS = max(0, ms(first.ev.At.Sub(t))) // < 0 only when our reader lagged
	}
	for _, s := range found[1:] {
		r.AlsoStuck = append(r.AlsoStuck, errs.role(s.pid)+": "+s.ev.String())
	}
	if ps, ok := takeStack(first.pid, r.Where, errs, true); ok {
		r.Stack = ps.Text
		r.Frames = currentFrames(ps.Threads)
		r.Stacks = append(r.Stacks, ps)
	}
}

// settleGap is how long the whole tree must stay asleep to count as settled:
// a thread woken in between would have run and added CPU time, as in the proof.
const settleGap = 5 * time.Millisecond

// settle returns once every process of w's tree has stayed asleep across
// settleGap (see Execution.Settle), the leader has exited, ctx is done, or
// limit has passed.
func settle(ctx context.Context, w *watched, exited <-chan struct{}, limit time.Duration) {
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	tick := time.NewTicker(settleGap)
	defer tick.Stop()
	last, ok := asleep(w)
	for {
		select {
		case <-exited:
			return
		case <-ctx.Done():
			return
		case <-deadline.C:
			return
		case <-tick.C:
		}
		now, nowOK := asleep(w)
		if ok && nowOK && maps.Equal(last, now) {
			return
		}
		last, ok = now, nowOK
	}
}

// asleep reads the CPU time of every thread of w's tree, by thread id; ok is
// false when a thread is not asleep (state S: a runnable or preempted thread
// is R) or the tree cannot be read. Zombies are done and left out.
func asleep(w *watched) (map[int]uint64, bool) {
	known := map[int]bool{}
	for _, pid := range watcher.members(w) {
		known[pid] = pid != w.pgid // as in reapTree: the leader is found by its group
	}
	tree, err := watcher.scanner.Scan(map[int]bool{w.pgid: true}, known)
	if err != nil {
		return nil, false
	}
	runs := map[int]uint64{}
	for pid, st := range tree {
		if st.State == 'Z' {
			continue
		}
		threads, ok := proc.ThreadRuns(pid)
		if !ok {
			return nil, false
		}
		maps.Copy(runs, threads)
	}
	return runs, true
}

// hangStacks takes the stack of every process of the tree, one at a time so
// that each dump can be told apart on the shared stderr.
func hangStacks(r *Result, w *watched, errs *stream) {
	pids := watcher.members(w)
	sort.Ints(pids)
	var texts []string
	for _, pid := range pids {
		ps, ok := takeStack(pid, errs.role(pid), errs, false)
		if !ok {
			continue
		}
		r.Stacks = append(r.Stacks, ps)
		texts = append(texts, fmt.Sprintf("--- pid %d (%s) ---\n%s", pid, ps.Role, ps.Text))
	}
	r.Stack = strings.Join(texts, "")
}

// judgeExit judges a program that exited by itself: by signal now, the rest
// once the trace is complete (judgeResult).
func judgeExit(r *Result, ws syscall.WaitStatus, waitErr error) {
	if waitErr != nil {
		r.Verdict, r.Reason = verdictError, fmt.Sprintf("wait: %v", waitErr)
		return
	}
	r.ExitCode = ws.ExitStatus()
	if ws.Signaled() {
		r.Verdict, r.Signal = scenario.Crash, signalName(ws.Signal())
		r.Reason = "killed by " + r.Signal
	}
}

// judgeResult judges a normal exit with the program's own `result` event and
// its stderr: `result crash SIG` is a crash (a child was killed), `result
// error` or a non-zero exit an error whose reason is the last line of the
// last traceback.
func judgeResult(r *Result) {
	var verdict, detail string
	for _, e := range r.Events {
		if e.Event == "result" {
			verdict, detail, _ = strings.Cut(e.Args, " ")
		}
	}
	switch {
	case verdict == "crash":
		r.Verdict, r.Signal, r.Reason = scenario.Crash, detail, "a process was killed by "+detail
	case verdict == "error" || r.ExitCode != 0:
		r.Verdict, r.Reason = verdictError, lastTraceback(r.Stderr)
		if r.Reason == "" {
			r.Reason = detail
		}
		if r.Reason == "" {
			r.Reason = fmt.Sprintf("exit status %d", r.ExitCode)
		}
	default:
		r.Verdict = scenario.OK
	}
}

// lastTraceback returns the last line of the last Python traceback in text:
// the exception, e.g. "ValueError: boom".
func lastTraceback(text string) string {
	i := strings.LastIndex(text, "Traceback (most recent call last):")
	if i < 0 {
		return ""
	}
	for _, line := range strings.Split(text[i:], "\n")[1:] {
		if line != "" && line[0] != ' ' && line[0] != '\t' {
			return strings.TrimSpace(line)
		}
	}
	return ""
}

// finish waits (bounded) for both readers to reach EOF, which they do once
// the tree is dead, and copies the output into r.
func finish(r *Result, outs, errs *stream, outR, errR *os.File) {
	grace := time.After(time.Second)
	for _, s := range []*stream{outs, errs} {
		select {
		case <-s.done:
		case <-grace:
		}
	}
	outR.Close()
	errR.Close()
	r.Stdout, _ = outs.snapshot()
	r.Stderr, r.Events = errs.snapshot()
}

func failed(r Result, err error) Result {
	r.Verdict, r.Reason = verdictError, err.Error()
	return r
}
