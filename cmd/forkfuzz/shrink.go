package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/forkfuzz/forkfuzz/harness/atomicfile"
	"github.com/forkfuzz/forkfuzz/harness/fuzz"
	"github.com/forkfuzz/forkfuzz/harness/guard"
	"github.com/forkfuzz/forkfuzz/harness/render"
	"github.com/forkfuzz/forkfuzz/harness/run"
	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

func init() {
	register(command{name: "shrink", summary: "reduce a fork-deadlocking scenario to a minimal one with the same signature", run: shrinkMain})
}

const shrinkUsage = `
Usage: forkfuzz shrink [-o OUT] [--python P] FILE

Runs the scenario in FILE under fork, takes the signature of its deadlock
(the resource kind, how it was held at the fork, where the stuck process
blocked), and cuts threads, resources and steps while the signature stays the
same. Prints the minimal scenario and its rendered program, or writes
OUT.yaml and OUT.py.

It is an error when FILE does not deadlock under fork (it says what happened
instead), or when its signature does not repeat (a flake).

Exit code 0 when the minimal scenario was printed or written; 1 when the
signature did not repeat (a flake), a run failed, or on interruption; 2 for
bad usage or input: a bad flag, a FILE that does not load or does not
deadlock under fork, or an OUT that cannot be written.`

func shrinkMain(args []string) int {
	fs := newFlags("shrink", shrinkUsage)
	out := fs.String("o", "", "write `OUT`.yaml and OUT.py instead of printing")
	py := fs.String("python", "", "interpreter: a version (3.12) or a path (default: python3 on PATH)")
	timeout := fs.Duration("timeout", fuzz.DefaultTimeout, "give up on an execution without proof after `DUR`")
	useExecutor := fs.Bool("executor", true, executorUsage)
	files, code, ok := parseInterspersed(fs, args)
	if !ok {
		return code
	}
	if len(files) != 1 {
		errorf("shrink", "want exactly one scenario FILE, got %d%s (run 'forkfuzz shrink --help')", len(files), listed(files))
		return exitUsage
	}
	// OUT.yaml and OUT.py go to one folder: checked before the runs.
	stem := strings.TrimSuffix(strings.TrimSuffix(*out, ".yaml"), ".py")
	if *out != "" {
		if err := checkOutput("-o", stem+".yaml"); err != nil {
			errorf("shrink", "%v", err)
			return exitUsage
		}
	}
	s, err := scenario.ParseFile(files[0])
	if err != nil {
		sayScenarioError("shrink", err)
		return exitUsage
	}
	ctx, stop := interruptContext(run.KillAll)
	defer stop()
	interp, err := onePython(ctx, *py)
	if err != nil {
		errorf("shrink", "%v", err)
		return exitUsage
	}
	dir, cleanup, err := guard.TempDir("forkfuzz-shrink-")
	if err != nil {
		errorf("shrink", "%v", err)
		return exitUsage
	}
	defer cleanup()

	pool, stopExecutor := startExecutor(ctx, *useExecutor)
	defer stopExecutor()
	red, err := fuzz.Reduce(ctx, &fuzz.Runner{Python: interp, Dir: dir, Timeout: *timeout, Executor: pool}, s)
	var nd *fuzz.NotDeadlockError
	switch {
	case errors.As(err, &nd):
		errorf("shrink", "%s on Python %s %s", files[0], interp.Version, nd.Error())
		return exitUsage
	case errors.Is(err, fuzz.ErrFlake):
		errorf("shrink", "%s on Python %s: %v", files[0], interp.Version, err)
		return exitMismatch
	case err != nil:
		errorf("shrink", "%s: %v", files[0], err)
		return exitMismatch
	}
	// The original's about describes what was cut away: say what this is.
	red.Minimal.About = fmt.Sprintf("Shrunk by forkfuzz from %s (%s): %d -> %d threads, %d -> %d resources. Signature: %s.",
		s.Name, filepath.Base(files[0]), len(s.Threads), len(red.Minimal.Threads), len(s.Resources), len(red.Minimal.Resources), red.Signature)
	prog, err := render.Write(red.Minimal, render.Options{})
	if err != nil {
		errorf("shrink", "%v", err)
		return exitUsage
	}
	st := red.Stats
	fmt.Fprintf(os.Stderr, "forkfuzz shrink: %s on Python %s\n  signature: %s\n  %d -> %d threads, %d -> %d resources; %d executions, %d candidates (%d invalid, %d cached), %s\n  minimal under spawn: %s\n",
		files[0], interp.Version, red.Signature, len(s.Threads), len(red.Minimal.Threads), len(s.Resources), len(red.Minimal.Resources),
		st.Executions, st.Candidates, st.Invalid, st.CacheHits, st.Elapsed.Round(time.Millisecond), red.Spawn.Verdict)
	yml := scenario.Marshal(red.Minimal)
	if *out == "" {
		os.Stdout.Write(yml)
		fmt.Println("# ---- rendered program ----")
		os.Stdout.Write(prog.Source)
		return exitOK
	}
	if err := atomicfile.Write(stem+".yaml", yml, 0o644); err != nil {
		errorf("shrink", "%v", err)
		return exitUsage
	}
	if err := atomicfile.Write(stem+".py", prog.Source, 0o755); err != nil {
		errorf("shrink", "%v", err)
		return exitUsage
	}
	fmt.Fprintf(os.Stderr, "  wrote %s.yaml and %s.py\n", stem, stem)
	return exitOK
}
