package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/forkfuzz/forkfuzz/harness/run"
)

// forkLoop forks for argv[1] seconds: each child exits at once, the parent
// reaps it. It prints forks per second.
const forkLoop = `import os, sys, time
d = float(sys.argv[1]); n = 0; t0 = time.perf_counter()
while time.perf_counter() - t0 < d:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    n += 1
print(n / (time.perf_counter() - t0))
`

// floors measures the bare fork loop (one loop, one core) and interpreter
// start-ups, one at a time.
func floors(ctx context.Context, opts Options) (Floors, error) {
	var f Floors
	opts.Progress(fmt.Sprintf("floor: os.fork loop for %s", opts.Duration))
	ctx1, cancel := context.WithTimeout(ctx, opts.Duration+30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx1, opts.Python.Path, "-c", forkLoop, strconv.FormatFloat(opts.Duration.Seconds(), 'f', 3, 64)).Output()
	if err != nil {
		return f, fmt.Errorf("fork floor: %w", err)
	}
	if f.ForkPerSec, err = strconv.ParseFloat(strings.TrimSpace(string(out)), 64); err != nil {
		return f, fmt.Errorf("fork floor: %q: %w", out, err)
	}
	if f.StartMS, err = startMedian(ctx, opts, "pass"); err != nil {
		return f, err
	}
	if f.MPStartMS, err = startMedian(ctx, opts, "import multiprocessing"); err != nil {
		return f, err
	}
	prog := filepath.Join(opts.Dir, "spawn_floor.py")
	if err := os.WriteFile(prog, []byte(spawnRoundTrip), 0o644); err != nil {
		return f, fmt.Errorf("spawn floor: %w", err)
	}
	if f.SpawnMS, err = startMedian(ctx, opts, prog); err != nil {
		return f, err
	}
	return f, nil
}

// spawnRoundTrip is the least a spawn case can cost: an interpreter that
// starts one spawn child doing nothing and joins it. Spawn itself starts
// three interpreters (the parent, multiprocessing's resource tracker, the
// child) and pickles its way across; none of that is forkfuzz's to save.
const spawnRoundTrip = `import multiprocessing


def f():
    pass


if __name__ == "__main__":
    p = multiprocessing.get_context("spawn").Process(target=f)
    p.start()
    p.join()
`

// startMedian times `python -c CODE`, or `python FILE` when code is a path,
// StartRuns times, as a caller sees it (fork, exec, start, exit, wait), and
// returns the median.
func startMedian(ctx context.Context, opts Options, code string) (float64, error) {
	args := []string{"-c", code}
	if filepath.IsAbs(code) {
		args = []string{code}
	}
	var ms []float64
	for i := range opts.StartRuns {
		opts.Progress(fmt.Sprintf("floor: python %s, %d/%d", strings.Join(args, " "), i+1, opts.StartRuns))
		cmd := exec.CommandContext(ctx, opts.Python.Path, args...)
		cmd.Env = plainEnv()
		start := time.Now()
		if err := cmd.Run(); err != nil {
			return 0, fmt.Errorf("start floor: python %s: %w", strings.Join(args, " "), err)
		}
		ms = append(ms, float64(time.Since(start).Microseconds())/1000)
	}
	return Median(ms), nil
}

// spawnCase times one-child spawn cases through forkfuzz, one at a time
// (as the floor is), StartRuns of them round robin, and returns the median.
func spawnCase(ctx context.Context, opts Options, cs []benchCase) (float64, int, error) {
	var ms []float64
	for i := range opts.StartRuns {
		opts.Progress(fmt.Sprintf("spawn cases one at a time: %d/%d", i+1, opts.StartRuns))
		c := cs[i%len(cs)]
		r := run.Execute(ctx, opts.execution(c))
		if err := ctx.Err(); err != nil {
			return 0, 0, err
		}
		if r.Verdict != c.want {
			return 0, 0, fmt.Errorf("spawn case %s: verdict %s, want %s: %s", c.name, r.Verdict, c.want, r.Reason)
		}
		ms = append(ms, r.ElapsedMS)
	}
	return Median(ms), len(ms), nil
}
