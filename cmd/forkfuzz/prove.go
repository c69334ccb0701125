package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/forkfuzz/forkfuzz/harness/atomicfile"
	"github.com/forkfuzz/forkfuzz/harness/certify"
	"github.com/forkfuzz/forkfuzz/harness/corpus"
	"github.com/forkfuzz/forkfuzz/harness/python"
	"github.com/forkfuzz/forkfuzz/harness/run"
	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

func init() {
	register(command{name: "prove", summary: "write a root-cause certificate of a scenario's fork deadlock", run: proveMain})
}

const proveUsage = `
Usage: forkfuzz prove [flags] FILE

Runs one scenario (a scenario file, or a corpus entry's .yaml or .meta.yaml)
for real under fork, spawn and forkserver on every interpreter asked for, plus
fork with every resource re-created at fork (os.register_at_fork), and writes a
Markdown certificate: who held which resource at the fork and where, where the
child blocks (its stack), the verdict matrix, the mitigations checked, what
CPython's own warning and a pre-fork thread check would have said, and the
minimal program.

Exit code 0 when a fork deadlock was certified (deadlock under fork, completes
under spawn and forkserver), 1 when there is nothing to certify (the
certificate says what happened instead), 2 for bad usage or input.`

func proveMain(args []string) int {
	fs := newFlags("prove", proveUsage)
	var pythons listFlag
	out := fs.String("o", "", "write the certificate to `FILE` (default: stdout)")
	fs.Var(&pythons, "python", "interpreter: a version (3.12), a path, or all; repeatable (default: all)")
	runs := fs.Int("runs", 1, "run each cell `N` times")
	timeout := fs.Duration("timeout", 30*time.Second, "give up on a run without proof after `DUR` (verdict hang)")
	jobs := fs.Int("jobs", runtime.NumCPU(), "executions in parallel")
	files, code, ok := parseInterspersed(fs, args)
	if !ok {
		return code
	}
	if len(files) != 1 {
		errorf("prove", "want exactly one scenario FILE, got %d%s (run 'forkfuzz prove --help')", len(files), listed(files))
		return exitUsage
	}
	if *runs < 1 || *jobs < 1 || *timeout <= 0 {
		errorf("prove", "--runs, --jobs and --timeout must be positive")
		return exitUsage
	}
	if err := checkOutput("-o", *out); err != nil {
		errorf("prove", "%v", err)
		return exitUsage
	}
	path := scenarioPath(files[0])
	s, err := scenario.ParseFile(path)
	if err != nil {
		sayScenarioError("prove", err)
		return exitUsage
	}
	if len(pythons) == 0 {
		pythons = listFlag{"all"}
	}
	ctx, stop := interruptContext(run.KillAll)
	defer stop()
	found, _, err := python.Resolve(ctx, pythons)
	if err != nil {
		errorf("prove", "%v", err)
		return exitUsage
	}
	tty := isTerminal(os.Stderr)
	start := time.Now()
	cert, err := certify.Prove(ctx, s, certify.Options{Pythons: found, Runs: *runs, Timeout: *timeout, Jobs: *jobs,
		Entry: entryID(path),
		Each: func(done, total int, r run.Result) {
			if tty {
				fmt.Fprintf(os.Stderr, "\r\033[Kforkfuzz prove: %d/%d runs", done, total)
			}
		}})
	if tty {
		fmt.Fprint(os.Stderr, "\r\033[K")
	}
	if err != nil {
		errorf("prove", "%v", err)
		return exitUsage
	}
	md := []byte(cert.Markdown())
	if *out == "" {
		os.Stdout.Write(md)
	} else if err := atomicfile.Write(*out, md, 0o644); err != nil {
		errorf("prove", "%v", err)
		return exitUsage
	}
	verdict := "nothing to certify"
	if cert.Proved {
		verdict = "fork deadlock certified"
	}
	fmt.Fprintf(os.Stderr, "forkfuzz prove: %s: %s on %d interpreters, %s\n", s.Name, verdict, len(found),
		time.Since(start).Round(time.Millisecond))
	if !cert.Proved {
		return exitMismatch
	}
	return exitOK
}

// entryID is the ID of the corpus entry whose scenario file path is, or ""
// when it is a plain scenario file: an entry's stem is an ID and its meta
// file lies next to it.
func entryID(path string) string {
	if !strings.HasSuffix(path, corpus.ScenarioExt) {
		return ""
	}
	stem := strings.TrimSuffix(path, corpus.ScenarioExt)
	id := filepath.Base(stem)
	if len(id) != corpus.IDLen || strings.Trim(id, "0123456789abcdef") != "" {
		return ""
	}
	if _, err := os.Stat(stem + corpus.MetaExt); err != nil {
		return ""
	}
	return id
}

// scenarioPath maps a corpus entry's meta file to its scenario file; any other
// path is a scenario file (an entry's .yaml is one).
func scenarioPath(path string) string {
	if strings.HasSuffix(path, corpus.MetaExt) {
		return strings.TrimSuffix(path, corpus.MetaExt) + corpus.ScenarioExt
	}
	return path
}
