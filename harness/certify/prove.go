package certify

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/forkfuzz/forkfuzz/harness/guard"
	"github.com/forkfuzz/forkfuzz/harness/python"
	"github.com/forkfuzz/forkfuzz/harness/render"
	"github.com/forkfuzz/forkfuzz/harness/run"
	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

// Options says what Prove runs.
type Options struct {
	Pythons []python.Interpreter // interpreters to run on, in matrix order; at least one
	Runs    int                  // runs per cell; 0 means 1
	Timeout time.Duration        // a run without proof is a hang after this; 0 means 10s
	Jobs    int                  // executions at a time; 0 means 2
	// Entry is the corpus entry's ID when the scenario is one ("" for a
	// scenario file): the certificate is titled by it too.
	Entry string
	// Each, if not nil, is called as each execution finishes (for progress).
	Each func(done, total int, r run.Result)
}

// warnEnv shows the multiprocessing fork context's DeprecationWarning, which
// the default warning filters hide (FACTS.md).
const warnEnv = "PYTHONWARNINGS=default"

// warnSettle bounds how long a fork run whose stderr the warnings check reads
// lives on after its deadlock is proved (run.Execution.Settle): the parent
// prints the warning once fork() has returned, and the child is proved stuck
// a millisecond or two later, often before that. The parent then blocks
// (waiting for the child) within milliseconds; the bound is for one that
// does not.
const warnSettle = 2 * time.Second

// job is what one execution is for.
type job struct {
	python string
	method string // a Cell method, or "warn" for the warnings check
}

// Prove renders s (as is, and with every resource re-created at fork), runs
// it on every interpreter under fork, spawn, forkserver and the mitigation,
// plus one fork run with PYTHONWARNINGS=default, and collects the evidence.
// The error is for what stops it from running at all; a scenario that does
// not deadlock gives a Certificate with Proved false.
func Prove(ctx context.Context, s *scenario.Scenario, opts Options) (*Certificate, error) {
	if s == nil || s.ForkStep() == nil {
		return nil, fmt.Errorf("certify: no scenario with a fork step")
	}
	if len(opts.Pythons) == 0 {
		return nil, fmt.Errorf("certify %s: no interpreter to run on", s.Name)
	}
	if opts.Runs < 1 {
		opts.Runs = 1
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.Jobs < 1 {
		opts.Jobs = 2
	}
	plain, err := render.Write(s, render.Options{Source: s.File})
	if err != nil {
		return nil, fmt.Errorf("certify: %w", err)
	}
	reinit, err := render.Write(s, render.Options{Source: s.File, ReinitAtFork: true})
	if err != nil {
		return nil, fmt.Errorf("certify: %w", err)
	}
	dir, cleanup, err := guard.TempDir("forkfuzz-prove-")
	if err != nil {
		return nil, fmt.Errorf("certify %s: %w", s.Name, err)
	}
	defer cleanup()
	name := s.Name + ".py"
	// Same file name in two folders: the mitigation's stacks read like the plain one's.
	plainPath, reinitPath := filepath.Join(dir, name), filepath.Join(dir, "reinit", name)
	if err := writeProgram(plainPath, plain.Source); err != nil {
		return nil, fmt.Errorf("certify %s: %w", s.Name, err)
	}
	if err := writeProgram(reinitPath, reinit.Source); err != nil {
		return nil, fmt.Errorf("certify %s: %w", s.Name, err)
	}

	var execs []run.Execution
	var jobs []job
	for _, py := range opts.Pythons {
		x := run.Execution{Name: s.Name, Python: py.Path, PythonVersion: py.Key(), Timeout: opts.Timeout}
		for _, m := range append(append([]string{}, scenario.Methods...), MethodReinit) {
			x.Program, x.Method = plainPath, m
			if m == MethodReinit {
				x.Program, x.Method = reinitPath, scenario.MethodFork
			}
			x.Settle = 0
			if m == scenario.MethodFork {
				x.Settle = warnSettle
			}
			for i := 0; i < opts.Runs; i++ {
				execs, jobs = append(execs, x), append(jobs, job{py.Key(), m})
			}
		}
		x.Program, x.Method, x.Env, x.Settle = plainPath, scenario.MethodFork, []string{warnEnv}, warnSettle
		execs, jobs = append(execs, x), append(jobs, job{py.Key(), "warn"})
	}
	var mu sync.Mutex // ExecuteAll calls back from several goroutines
	done := 0
	results := run.ExecuteAll(ctx, execs, opts.Jobs, func(i int, r run.Result) {
		if opts.Each != nil {
			mu.Lock()
			defer mu.Unlock()
			done++
			opts.Each(done, len(execs), r)
		}
	})
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("certify %s: interrupted: %w", s.Name, err)
	}
	c := collect(s, newProgram(s, name, plain), opts, jobs, results)
	c.Hook = reinitHook(reinit.Source)
	return c, nil
}

func writeProgram(path string, src []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, src, 0o644)
}

// collect turns the results into a Certificate.
func collect(s *scenario.Scenario, p *program, opts Options, jobs []job, results []run.Result) *Certificate {
	c := &Certificate{Scenario: s.Name, Entry: opts.Entry, About: strings.TrimSpace(s.About), Source: s.File,
		Program: p.name, Code: strings.Join(p.lines, "\n"), Runs: opts.Runs, Via: s.ForkStep().Fork.Via}
	for _, py := range opts.Pythons {
		c.Pythons = append(c.Pythons, py.Key())
		for _, m := range append(append([]string{}, scenario.Methods...), MethodReinit) {
			c.Cells = append(c.Cells, Cell{Python: py.Key(), Method: m})
		}
		c.Warnings = append(c.Warnings, Warning{Python: py.Key()})
	}
	var firstDeadlock *run.Result
	for i, r := range results {
		j := jobs[i]
		if j.method == "warn" {
			w := c.warning(j.python)
			w.Default = setFrom(w, r.Stderr)
			continue
		}
		cell := c.Cell(j.python, j.method)
		cell.Verdicts = append(cell.Verdicts, r.Verdict)
		if r.Verdict != scenario.OK && cell.Where == "" {
			cell.Where, cell.Reason = r.Where, r.Reason
		}
		if j.method == scenario.MethodFork {
			if w := c.warning(j.python); setFrom(w, r.Stderr) {
				w.Plain++
			}
			if r.Verdict == scenario.Deadlock && firstDeadlock == nil {
				firstDeadlock = &results[i]
			}
		}
	}
	for _, py := range c.Pythons {
		fork := c.Cell(py, scenario.MethodFork)
		if fork.any(scenario.Deadlock) && c.Cell(py, scenario.MethodSpawn).all(scenario.OK) &&
			c.Cell(py, scenario.MethodForkserver).all(scenario.OK) {
			c.Proved = true
		}
	}
	c.Fork = p.site("main", forkIndex(s))
	c.Holders = holders(s, p)
	c.Alive = alive(s)
	if firstDeadlock != nil {
		c.Blocked = blocked(s, p, *firstDeadlock)
	}
	return c
}

func (c *Certificate) warning(python string) *Warning {
	for i := range c.Warnings {
		if c.Warnings[i].Python == python {
			return &c.Warnings[i]
		}
	}
	c.Warnings = append(c.Warnings, Warning{Python: python})
	return &c.Warnings[len(c.Warnings)-1]
}

// forkWarning is CPython's (3.12+) warning, as the warnings module prints it.
var forkWarning = regexp.MustCompile(`(?m)^(.*):(\d+): DeprecationWarning: This process \(pid=\d+\) is multi-threaded, use of fork\(\) may lead to deadlocks in the child`)

// setFrom reports whether stderr holds the fork warning, noting where it was
// attributed.
func setFrom(w *Warning, stderr string) bool {
	m := forkWarning.FindStringSubmatch(stderr)
	if m == nil {
		return false
	}
	if w.From == "" {
		file := warnedFile(m[1])
		w.From = filepath.Base(file) + ":" + m[2]
		if p := cleanPath(file); p != file {
			w.From = p + ":" + m[2]
		}
	}
	return true
}

// dumpHead is the start of a faulthandler thread header, as far as it may
// have been written when another process's line cut in.
var dumpHead = regexp.MustCompile(`^\s*(Current thread|Thread) 0x[0-9a-fA-F]*`)

// warnedFile is the file name a warning line starts with. The warning is one
// write(2), but the stuck process's faulthandler dump on the same stderr is
// written piecewise, and is asked for while the parent still runs when the
// settling ran into its bound: a dump line may have begun before the warning
// on the same line (`  File "/x/process.py`, `Thread 0x7f`). Such a start
// ends in a quote, a .py file, or a thread id.
func warnedFile(s string) string {
	if i := strings.LastIndexByte(s, '"'); i >= 0 {
		s = s[i+1:]
	}
	if i := strings.LastIndex(s, ".py/"); i >= 0 {
		s = s[i+len(".py"):]
	}
	return dumpHead.ReplaceAllString(s, "")
}

// blocked reads where the stuck process of r waits: its last step (from the
// trace) and its stack.
func blocked(s *scenario.Scenario, p *program, r run.Result) *Blocked {
	b := &Blocked{Python: r.PythonVersion, Where: r.Where, Proof: r.Proof, Frames: p.frames(r.Frames)}
	if r.Evidence == nil {
		return b
	}
	// The proof names the pid; the certificate names the process by role.
	if _, rest, ok := strings.Cut(b.Proof, ": "); ok {
		b.Proof = rest
	}
	for i := len(r.Events) - 1; i >= 0; i-- {
		e := r.Events[i]
		if e.Pid != r.Evidence.Pid || e.Event != "step" {
			continue
		}
		f := strings.Fields(e.Args)
		if len(f) == 0 {
			break
		}
		who, idx, ok := strings.Cut(f[0], ":")
		if !ok {
			break
		}
		var index int
		fmt.Sscan(idx, &index)
		b.Site = p.site(who, index)
		// The parent's last step is its fork: it never came back from it.
		b.InFork = r.Where == "parent" && who == "main" && index == forkIndex(s)
		for i := 0; i < index; i++ {
			b.Passed = append(b.Passed, p.label(who, i))
		}
		if st := stepOf(s, who, index); st != nil && st.Resource != "" {
			b.Resource = st.Resource
		}
		break
	}
	return b
}
