package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// naive runs deadlocking cases the way a CI job meets them: a fresh
// `python prog.py --start-method fork` with nothing watching it but a plain
// timeout (`timeout 5 python repro.py`), NaiveRuns of them, Jobs at a time.
func naive(ctx context.Context, opts Options, cs []benchCase) (Naive, error) {
	n := Naive{Runs: opts.NaiveRuns, TimeoutS: opts.NaiveTimeout.Seconds()}
	var mu sync.Mutex
	var elapsed []float64
	sem := make(chan struct{}, opts.Jobs)
	var wg sync.WaitGroup
	var firstErr error
	for i := range opts.NaiveRuns {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ms, timedOut, err := naiveOne(ctx, opts, cs[i%len(cs)])
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				firstErr = cmpErr(firstErr, err)
				return
			}
			elapsed = append(elapsed, ms)
			if timedOut {
				n.TimedOut++
			}
			opts.Progress(fmt.Sprintf("naive %s timeout: %d/%d runs", opts.NaiveTimeout, len(elapsed), opts.NaiveRuns))
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return n, err
	}
	if firstErr != nil {
		return n, firstErr
	}
	n.ElapsedP50MS = Median(elapsed)
	return n, nil
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// naiveOne runs one case under the plain timeout. The program runs in its
// own process group, which the timeout kills whole: a forked child stuck in
// a futex would otherwise outlive its parent.
func naiveOne(ctx context.Context, opts Options, c benchCase) (ms float64, timedOut bool, err error) {
	cmd := exec.Command(opts.Python.Path, c.program, "--start-method", c.method)
	cmd.Env = plainEnv()
	cmd.Dir = opts.Dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, false, fmt.Errorf("naive run of %s: %w", c.name, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	timer := time.NewTimer(opts.NaiveTimeout)
	defer timer.Stop()
	select {
	case <-exited:
	case <-timer.C:
		timedOut = true
	case <-ctx.Done():
	}
	ms = float64(time.Since(start).Microseconds()) / 1000
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // the group: the parent and every child it forked
	if !timedOut && ctx.Err() == nil {
		return ms, false, nil
	}
	<-exited
	return ms, timedOut, ctx.Err()
}

// plainEnv is the environment without PYTHON* variables, as harness/run
// runs programs (PYTHONUNBUFFERED alone changes verdicts).
func plainEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PYTHON") && !strings.HasPrefix(kv, "FORKFUZZ") {
			env = append(env, kv)
		}
	}
	return append(env, "PYTHONDONTWRITEBYTECODE=1")
}
