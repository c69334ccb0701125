package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/forkfuzz/forkfuzz/harness/atomicfile"
	"github.com/forkfuzz/forkfuzz/harness/trace"
)

func init() {
	register(command{name: "trace", summary: "run any Python program and prove (or predict) its fork deadlocks", run: traceMain})
}

const traceUsage = `
Usage: forkfuzz trace [flags] -- PROGRAM [ARGS...]

Runs PROGRAM unchanged (python3 script.py, python3 -m pytest, a script whose
name ends in .py is run with python3) with instrumentation injected through
the environment. At every fork it records which other threads held which
locks; it proves a deadlock from /proc (not a timeout) in any process of the
run, and writes a certificate: what was held at the fork, by which thread and
where, and where the child blocks. A run that did not hang still reports
hazards: resources a fork left held in a child.

The report goes to stdout (Markdown, or JSON with --json) and the program's
output to stderr; with -o the report goes to FILE and the program keeps its
own stdout and stderr.

Exit code: the program's own, except 1 when a deadlock was proved (or the run
hung and was killed, or no process could be traced: python -I, -E and -S
ignore the injected instrumentation), and 2 for bad usage.`

func traceMain(args []string) int {
	fs := newFlags("trace", traceUsage)
	asJSON := fs.Bool("json", false, "write the report as JSON")
	timeout := fs.Duration("timeout", trace.DefaultTimeout, "kill a run that neither ends nor deadlocks provably after `DUR` (verdict hang)")
	out := fs.String("o", "", "write the report to `FILE` (default: stdout)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	argv := fs.Args()
	if len(argv) == 0 {
		errorf("trace", "want a program to run: forkfuzz trace [flags] -- PROGRAM [ARGS...]")
		return exitUsage
	}
	if *timeout <= 0 {
		errorf("trace", "--timeout must be positive")
		return exitUsage
	}
	if strings.HasSuffix(argv[0], ".py") {
		argv = append([]string{"python3"}, argv...)
	}
	opts := trace.Options{Argv: argv, Timeout: *timeout, Stdout: os.Stderr, Stderr: os.Stderr}
	if *out != "" {
		opts.Stdout = os.Stdout
	}
	ctx, stop := interruptContext(func() {}) // cancelling ctx kills the traced tree
	defer stop()
	rep, err := trace.Run(ctx, opts)
	if err != nil {
		errorf("trace", "%v", err)
		return exitUsage
	}
	text := []byte(rep.Markdown())
	if *asJSON {
		if text, err = json.MarshalIndent(rep, "", "  "); err != nil {
			errorf("trace", "%v", err)
			return exitUsage
		}
		text = append(text, '\n')
	}
	if err := writeReport(*out, text); err != nil {
		errorf("trace", "%v", err)
		return exitUsage
	}
	fmt.Fprintf(os.Stderr, "forkfuzz trace: %s", rep.Verdict)
	if rep.Where != "" {
		fmt.Fprintf(os.Stderr, " (%s)", rep.Where)
	}
	fmt.Fprintf(os.Stderr, ", exit code %d\n", rep.ExitCode)
	if rep.Verdict == trace.VerdictDeadlock {
		return exitMismatch
	}
	return rep.ExitCode
}

// writeReport writes the report to path, or to stdout when path is "".
func writeReport(path string, text []byte) error {
	if path == "" {
		_, err := os.Stdout.Write(text)
		return err
	}
	return atomicfile.Write(path, text, 0o644)
}
