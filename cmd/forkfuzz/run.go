package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/forkfuzz/forkfuzz/harness/executor"
	"github.com/forkfuzz/forkfuzz/harness/guard"
	"github.com/forkfuzz/forkfuzz/harness/python"
	"github.com/forkfuzz/forkfuzz/harness/render"
	"github.com/forkfuzz/forkfuzz/harness/run"
	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

func init() {
	register(command{name: "run", summary: "run scenarios under each start method and interpreter, with verdicts", run: runMain})
}

const runUsage = `
Usage: forkfuzz run [flags] FILE|DIR...

Renders each scenario, runs it under each start method on each interpreter, and
gives one verdict per execution: ok, deadlock (proved from /proc: which process
waits forever, and its Python stack), hang (timed out without proof), crash
(killed by a signal) or error (an exception or a non-zero exit).

Exit code 0 when every verdict matches the scenario's expect: block (or it has
none), 1 when any differs, 2 for bad usage or input.`

type runFlags struct {
	methods  listFlag
	pythons  listFlag
	runs     int
	timeout  time.Duration
	jobs     int
	json     bool
	verbose  bool
	executor bool
}

func runMain(args []string) int {
	fs := newFlags("run", runUsage)
	var f runFlags
	fs.Var(&f.methods, "method", "start `methods`, comma-separated (default fork,spawn,forkserver)")
	fs.Var(&f.pythons, "python", "interpreter: a version (3.12), a path, or all; repeatable (default: python3 on PATH)")
	fs.IntVar(&f.runs, "runs", 1, "run each execution `N` times")
	fs.DurationVar(&f.timeout, "timeout", 10*time.Second, "give up on an execution without proof after `DUR` (verdict hang)")
	fs.IntVar(&f.jobs, "jobs", runtime.NumCPU(), "executions in parallel")
	fs.BoolVar(&f.json, "json", false, "print one JSON object per execution")
	fs.BoolVar(&f.verbose, "v", false, "print the stack and proof of every deadlock")
	fs.BoolVar(&f.executor, "executor", true, executorUsage)
	paths, code, ok := parseInterspersed(fs, args)
	if !ok {
		return code
	}
	if len(paths) == 0 {
		errorf("run", "want one or more scenario files or folders (run 'forkfuzz run --help')")
		return exitUsage
	}
	methods, err := parseMethods(f.methods)
	if err != nil {
		errorf("run", "%v", err)
		return exitUsage
	}
	if f.runs < 1 || f.jobs < 1 || f.timeout <= 0 {
		errorf("run", "--runs, --jobs and --timeout must be positive")
		return exitUsage
	}
	scenarios, bad := loadScenarios("run", paths)
	if len(scenarios) == 0 {
		return exitUsage
	}
	ctx, stop := interruptContext(run.KillAll)
	defer stop()
	pythons, skipped, err := python.Resolve(ctx, f.pythons)
	if err != nil {
		errorf("run", "%v", err)
		return exitUsage
	}
	saySkipped("run", skipped)
	dir, cleanup, err := guard.TempDir("forkfuzz-run-")
	if err != nil {
		errorf("run", "%v", err)
		return exitUsage
	}
	defer cleanup()
	pool, stopExecutor := startExecutor(ctx, f.executor)
	defer stopExecutor()
	execs, expects, err := plan(scenarios, pythons, methods, f, dir, pool)
	if err != nil {
		errorf("run", "%v", err)
		return exitUsage
	}
	code = report(ctx, execs, expects, f)
	if bad > 0 && code == exitOK {
		code = exitUsage
	}
	return code
}

// parseMethods checks the --method list; empty means every method.
func parseMethods(list []string) ([]string, error) {
	if len(list) == 0 {
		return scenario.Methods, nil
	}
	for _, m := range list {
		if !slices.Contains(scenario.AllMethods, m) {
			return nil, fmt.Errorf("unknown start method %q (want %s)", m, strings.Join(scenario.AllMethods, ", "))
		}
	}
	return list, nil
}

// loadScenarios parses every scenario named by args (files, or folders of
// *.yaml). Each bad file's errors are printed, as cmd's; the others are
// returned.
func loadScenarios(cmd string, args []string) ([]*scenario.Scenario, int) {
	var out []*scenario.Scenario
	bad := 0
	for _, a := range args {
		files := []string{a}
		if st, err := os.Stat(a); err == nil && st.IsDir() {
			files, _ = filepath.Glob(filepath.Join(a, "*.yaml"))
			if len(files) == 0 {
				errorf(cmd, "%s: no *.yaml scenario files", a)
				bad++
			}
		}
		for _, file := range files {
			s, err := scenario.ParseFile(file)
			if err != nil {
				sayScenarioError(cmd, err)
				bad++
				continue
			}
			out = append(out, s)
		}
	}
	return out, bad
}

// plan renders every scenario into dir and lists its executions: scenario x
// interpreter x method x runs, and the verdict each one expects ("" for none).
func plan(scenarios []*scenario.Scenario, pythons []python.Interpreter, methods []string, f runFlags, dir string, pool *executor.Pool) ([]run.Execution, []scenario.Verdict, error) {
	var execs []run.Execution
	var expects []scenario.Verdict
	for _, s := range scenarios {
		p, err := render.Write(s, render.Options{Source: s.File})
		if err != nil {
			return nil, nil, fmt.Errorf("render %s: %w", s.File, err)
		}
		prog := filepath.Join(dir, s.Name+".py")
		if err := os.WriteFile(prog, p.Source, 0o644); err != nil {
			return nil, nil, err
		}
		for _, py := range pythons {
			for _, m := range methods {
				used := ""
				if m == scenario.MethodDefault {
					if used, err = run.DefaultMethod(context.Background(), py.Path); err != nil {
						return nil, nil, err
					}
				}
				want, _ := s.ExpectedUsed(py.Version, m, used)
				for i := 0; i < f.runs; i++ {
					execs = append(execs, run.Execution{Name: s.Name, Program: prog, Python: py.Path,
						PythonVersion: py.Version, Method: m, Timeout: f.timeout, Executor: pool})
					expects = append(expects, want)
				}
			}
		}
	}
	return execs, expects, nil
}

// runRecord is what --json prints for one execution.
type runRecord struct {
	run.Result
	Expected scenario.Verdict `json:"expected,omitempty"`
	Match    bool             `json:"match"`
}

// report runs execs, printing each verdict as it arrives and a summary.
func report(ctx context.Context, execs []run.Execution, expects []scenario.Verdict, f runFlags) int {
	var mu sync.Mutex
	done, failed := 0, 0
	tty := !f.json && isTerminal(os.Stderr)
	start := time.Now()
	if !f.json {
		fmt.Fprintf(os.Stderr, "forkfuzz run: %s, %d at a time\n", plural(len(execs), "execution"), f.jobs)
	}
	enc := json.NewEncoder(os.Stdout)
	run.ExecuteAll(ctx, execs, f.jobs, func(i int, r run.Result) {
		mu.Lock()
		defer mu.Unlock()
		done++
		match := expects[i] == "" || expects[i] == r.Verdict
		if !match {
			failed++
		}
		if f.json {
			enc.Encode(runRecord{Result: r, Expected: expects[i], Match: match})
			return
		}
		if tty {
			fmt.Fprint(os.Stderr, "\r\033[K")
		}
		fmt.Println(resultLine(r, expects[i], match))
		if (f.verbose && r.Verdict == scenario.Deadlock) || (!match && r.Stack != "") {
			fmt.Println(indent(r.Proof+"\n"+r.Stack, "      "))
		}
		if tty {
			fmt.Fprintf(os.Stderr, "%d/%d done, %d differ, %s", done, len(execs), failed, time.Since(start).Round(time.Second/10))
		}
	})
	if tty {
		fmt.Fprint(os.Stderr, "\r\033[K")
	}
	if ctx.Err() != nil {
		fmt.Fprintf(os.Stderr, "forkfuzz run: interrupted after %d of %d executions\n", done, len(execs))
	}
	passed := done - failed
	fmt.Fprintf(os.Stderr, "forkfuzz run: %s\n", time.Since(start).Round(time.Millisecond))
	// The plain closing line: on stdout for a person, on stderr under --json so
	// that stdout stays one JSON object per line.
	if f.json {
		fmt.Fprintf(os.Stderr, "%d passed, %d failed\n", passed, failed)
	} else {
		fmt.Printf("%d passed, %d failed\n", passed, failed)
	}
	if failed > 0 || ctx.Err() != nil {
		return exitMismatch
	}
	return exitOK
}

// resultLine is one execution, one line: status, scenario, python, method,
// verdict (where), and how fast it was known.
func resultLine(r run.Result, want scenario.Verdict, match bool) string {
	status := "PASS"
	if !match {
		status = "FAIL"
	}
	v := string(r.Verdict)
	if r.Where != "" && r.Verdict != scenario.OK {
		v += " (" + r.Where + ")"
	}
	var extra []string
	if r.Verdict == scenario.Deadlock && r.DetectMS > 0 {
		extra = append(extra, fmt.Sprintf("proved %.1f ms after the block", r.DetectMS))
	}
	extra = append(extra, fmt.Sprintf("%.0f ms", r.ElapsedMS))
	if !match {
		extra = append(extra, "expected "+string(want))
	}
	if r.Reason != "" && r.Verdict != scenario.OK && r.Verdict != scenario.Deadlock {
		extra = append(extra, r.Reason)
	}
	method := r.Method
	if r.MethodUsed != "" && r.MethodUsed != r.Method {
		method += "=" + r.MethodUsed // default=forkserver
	}
	return fmt.Sprintf("%s  %-34s %-8s %-18s %-18s %s", status, r.Scenario, r.PythonVersion, method, v, strings.Join(extra, ", "))
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = prefix + l
	}
	return strings.Join(lines, "\n")
}
