package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/forkfuzz/forkfuzz/harness/corpus"
	"github.com/forkfuzz/forkfuzz/harness/python"
	"github.com/forkfuzz/forkfuzz/harness/replay"
	"github.com/forkfuzz/forkfuzz/harness/run"
	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

func init() {
	register(command{name: "replay", summary: "replay a regression corpus on each interpreter and start method (CI)", run: replayMain})
}

const replayUsage = `
Usage: forkfuzz replay [flags] [DIR...]

Replays every entry of each corpus folder (default corpus/) under every start
method on every interpreter, and compares each verdict with the one recorded
for that Python version (or, if none, for the newest recorded patch release of
the same minor). A difference is a failure, one line naming the entry, Python
version and method, classified: fixed (recorded deadlock under fork, now ok),
regressed (recorded ok, now deadlock), flaky (--runs disagree) or changed.

A minor with nothing recorded for a case (a new Python release) is compared
with the nearest older recorded minor instead, and the case is unchanged
(passes), or fixed in, broke in or changed in the new minor: a failure naming
both versions. The summary says, per such minor, what it was compared with
and the counts. A case with no older minor recorded either is new: reported,
not a failure.

--update records the verdicts of those minors (and of new patch releases) in
the entry's meta; it is never implied. It never records an error or a hang
unless --update-allow names it (each is shown with its reason instead), nor a
difference from what the same minor recorded. An entry that does not
load is unreadable: each problem is reported by file name, the others replay,
and it is counted apart from the cases: "11 passed, 1 failed, 2 unreadable
entries" (--json prints one object with status "unreadable" per entry, JUnit
one <error>).

Exit code 0 when every verdict matches and every entry loaded; 1 when any
differs or any entry is unreadable (even if every case passed), or on
interruption; 2 for bad usage: a bad flag, a missing folder, no interpreter,
or no entries at all in the folders (a wrong path must not pass CI; see
--allow-empty).`

type replayFlags struct {
	methods listFlag
	pythons listFlag
	runs    int
	junit   string
	json    bool
	shard   string
	update  bool
	allow   listFlag
	jobs    int
	timeout time.Duration
	verbose bool
	exec    bool
	empty   bool
}

func replayMain(args []string) int {
	fs := newFlags("replay", replayUsage)
	var f replayFlags
	fs.Var(&f.pythons, "python", "interpreter: a version (3.12), a path, or all; repeatable (default: python3 on PATH)")
	fs.Var(&f.methods, "method", "start `methods`, comma-separated (default fork,spawn,forkserver)")
	fs.IntVar(&f.runs, "runs", 1, "run each case `N` times; every run must agree")
	fs.StringVar(&f.junit, "junit", "", "write a JUnit XML report to `FILE`")
	fs.BoolVar(&f.json, "json", false, "print one JSON object per case (the summary goes to stderr)")
	fs.StringVar(&f.shard, "shard", "", "replay only shard `k/n` of the entries (by ID hash)")
	fs.BoolVar(&f.update, "update", false, "record verdicts for Python versions not recorded yet (never an error or hang; see --update-allow)")
	fs.Var(&f.allow, "update-allow", "with --update, record these `verdicts` too: error, hang (comma-separated)")
	fs.IntVar(&f.jobs, "jobs", runtime.NumCPU(), "executions in parallel")
	fs.DurationVar(&f.timeout, "timeout", 10*time.Second, "give up on an execution without proof after `DUR` (verdict hang)")
	fs.BoolVar(&f.exec, "executor", true, executorUsage)
	fs.BoolVar(&f.verbose, "v", false, "print the proof and stack of every failure")
	fs.BoolVar(&f.empty, "allow-empty", false, "exit 0, not 2, when the folders hold no entries at all")
	dirs, code, ok := parseInterspersed(fs, args)
	if !ok {
		return code
	}
	methods, err := parseMethods(f.methods)
	if err != nil {
		errorf("replay", "%v", err)
		return exitUsage
	}
	if f.runs < 1 || f.jobs < 1 || f.timeout <= 0 {
		errorf("replay", "--runs, --jobs and --timeout must be positive")
		return exitUsage
	}
	allow, err := parseUpdateAllow(f.allow, f.update)
	if err != nil {
		errorf("replay", "%v", err)
		return exitUsage
	}
	// The report is written after every case ran: a path that cannot take
	// it must fail now, not after the whole replay.
	if err := checkOutput("--junit", f.junit); err != nil {
		errorf("replay", "%v", err)
		return exitUsage
	}
	k, n := 1, 1
	if f.shard != "" {
		if k, n, err = corpus.ParseShard(f.shard); err != nil {
			errorf("replay", "--shard: %v", err)
			return exitUsage
		}
	}
	if len(dirs) == 0 {
		dirs = []string{"corpus"}
	}
	entries, loadErrs, ok := loadCorpora("replay", dirs)
	if !ok {
		return exitUsage
	}
	// Counted before sharding: a small corpus leaves some shards empty.
	if len(entries) == 0 && len(loadErrs) == 0 && !f.empty {
		errorf("replay", "no corpus entries in %s (--allow-empty accepts that)", strings.Join(dirs, ", "))
		return exitUsage
	}
	entries = corpus.Shard(entries, k, n)
	ctx, stop := interruptContext(run.KillAll)
	defer stop()
	pythons, skipped, err := python.Resolve(ctx, f.pythons)
	if err != nil {
		errorf("replay", "%v", err)
		return exitUsage
	}
	saySkipped("replay", skipped)
	pool, stopExecutor := startExecutor(ctx, f.exec)
	defer stopExecutor()
	opts := replay.Options{Pythons: pythons, Methods: methods, Runs: f.runs, Jobs: f.jobs, Timeout: f.timeout, Executor: pool}
	cases := replay.Plan(entries, opts)
	return replayReport(ctx, cases, loadErrs, opts, f, replay.UpdateOptions{Allow: allow})
}

// parseUpdateAllow reads --update-allow: verdicts of replay.Unsure only, and
// only with --update, which it qualifies (it never implies it).
func parseUpdateAllow(list []string, update bool) ([]scenario.Verdict, error) {
	if len(list) == 0 {
		return nil, nil
	}
	if !update {
		return nil, fmt.Errorf("--update-allow needs --update")
	}
	var names []string
	for _, v := range replay.Unsure {
		names = append(names, string(v))
	}
	var out []scenario.Verdict
	for _, v := range list {
		if !slices.Contains(names, v) {
			return nil, fmt.Errorf("--update-allow: %q is not one of %s (other verdicts are recorded anyway)", v, strings.Join(names, ", "))
		}
		out = append(out, scenario.Verdict(v))
	}
	return out, nil
}

// loadCorpora loads every folder; each problem of a bad entry is printed by
// file. A folder that cannot be read is a usage error (ok false).
func loadCorpora(cmd string, dirs []string) ([]*corpus.Entry, []error, bool) {
	var entries []*corpus.Entry
	var bad []error
	for _, d := range dirs {
		if st, err := os.Stat(d); err != nil || !st.IsDir() {
			errorf(cmd, "%s: not a corpus folder", d)
			return nil, nil, false
		}
		es, errs := corpus.Load(d)
		for _, err := range errs {
			fmt.Fprintf(os.Stderr, "forkfuzz %s: %v\n", cmd, err)
		}
		entries = append(entries, es...)
		bad = append(bad, errs...)
	}
	return entries, bad, true
}

// replayReport runs the cases, printing each as it is known, then updates,
// writes the JUnit report and prints the summary.
func replayReport(ctx context.Context, cases []*replay.Case, loadErrs []error, opts replay.Options, f replayFlags, uo replay.UpdateOptions) int {
	var mu sync.Mutex
	done, failed := 0, 0
	tty := !f.json && isTerminal(os.Stderr)
	start := time.Now()
	enc := json.NewEncoder(os.Stdout)
	bad := replay.Unreadables(loadErrs)
	if f.json {
		for _, u := range bad {
			enc.Encode(unreadableRecord(u))
		}
	} else {
		fmt.Fprintf(os.Stderr, "forkfuzz replay: %s (%s), %d executions at a time\n", plural(len(cases), "case"), plural(len(opts.Pythons), "interpreter"), opts.Jobs)
	}
	err := replay.Run(ctx, cases, opts, func(c *replay.Case) {
		mu.Lock()
		defer mu.Unlock()
		done++
		if c.Failed() {
			failed++
		}
		if f.json {
			enc.Encode(caseRecord(c))
			return
		}
		if tty {
			fmt.Fprint(os.Stderr, "\r\033[K")
		}
		fmt.Println(caseLine(c))
		if f.verbose && c.Failed() {
			for _, r := range c.Results {
				if r.Proof != "" || r.Stack != "" {
					fmt.Println(indent(r.Proof+"\n"+r.Stack, "      "))
				}
			}
		}
		if tty {
			fmt.Fprintf(os.Stderr, "%d/%d cases, %d failed, %s", done, len(cases), failed, time.Since(start).Round(time.Second/10))
		}
	})
	if tty {
		fmt.Fprint(os.Stderr, "\r\033[K")
	}
	wall := time.Since(start)
	code := exitOK
	if err != nil {
		fmt.Fprintf(os.Stderr, "forkfuzz replay: interrupted after %d of %d cases\n", done, len(cases))
		code = exitMismatch
	}
	summary(cases, wall, f.update && err == nil, uo)
	if f.junit != "" {
		if err := replay.WriteJUnit(f.junit, cases, loadErrs); err != nil {
			errorf("replay", "%v", err)
			code = exitMismatch
		}
	}
	if failed > 0 || len(bad) > 0 {
		code = exitMismatch
	}
	out := os.Stdout
	if f.json {
		out = os.Stderr // stdout stays one JSON object per line
	}
	for _, nm := range replay.NewMinors(cases) {
		fmt.Fprintf(out, "forkfuzz replay: %s\n", nm)
	}
	fmt.Fprintln(out, summaryLine(countPassed(cases), failed, countNew(cases), len(bad)))
	return code
}

// summaryLine is the last line: cases, the new ones left unrecorded when
// there are any, then the entries that never became cases, counted apart
// ("11 passed, 1 failed, 6 unreadable entries"). Scripts read its first
// two counts: they stay first.
func summaryLine(passed, failed, fresh, unreadable int) string {
	line := fmt.Sprintf("%d passed, %d failed", passed, failed)
	if fresh > 0 {
		line += fmt.Sprintf(", %d new (not recorded; --update records them)", fresh)
	}
	switch {
	case unreadable == 1:
		line += ", 1 unreadable entry"
	case unreadable > 1:
		line += fmt.Sprintf(", %d unreadable entries", unreadable)
	}
	return line
}

// summary prints timing, and records the new versions with update, on
// stderr. The new cases left unrecorded are counted in the summary line.
func summary(cases []*replay.Case, wall time.Duration, update bool, uo replay.UpdateOptions) {
	var sumMS float64
	for _, c := range cases {
		for _, r := range c.Results {
			sumMS += r.ElapsedMS
		}
	}
	fmt.Fprintf(os.Stderr, "forkfuzz replay: %s wall, %.0f ms of executions\n", wall.Round(time.Millisecond), sumMS)
	if !update {
		return
	}
	n, held, errs := replay.Update(cases, uo)
	for _, err := range errs {
		errorf("replay", "update: %v", err)
	}
	if n > 0 {
		fmt.Fprintf(os.Stderr, "forkfuzz replay: recorded %s (--update)\n", plural(n, "new verdict"))
	}
	for _, c := range held {
		fmt.Fprintf(os.Stderr, "forkfuzz replay: not recorded (--update-allow %s records it): %s\n", c.Got, c.WhyHeld())
	}
}

// countNew counts the new cases (no verdict recorded for their minor nor an
// older one) that --update did not record.
func countNew(cases []*replay.Case) int {
	n := 0
	for _, c := range cases {
		if c.Status == replay.New && !c.Updated {
			n++
		}
	}
	return n
}

// countPassed counts the cases that matched: what was recorded, or for a
// new minor what the older one recorded.
func countPassed(cases []*replay.Case) int {
	n := 0
	for _, c := range cases {
		if c.Status == replay.Pass || c.Status == replay.Unchanged {
			n++
		}
	}
	return n
}

// caseLine is one case, one line.
func caseLine(c *replay.Case) string {
	var ms float64 // per run: the median with --runs
	var all []float64
	for _, r := range c.Results {
		all = append(all, r.ElapsedMS)
	}
	if len(all) > 0 {
		slices.Sort(all)
		ms = all[len(all)/2]
	}
	switch {
	case c.Failed():
		return fmt.Sprintf("FAIL  %s", c.Reason)
	case c.Status == replay.New:
		// The NEW column says it already: "NEW ... fork: not recorded, ...",
		// not "NEW ... fork: new: not recorded".
		return fmt.Sprintf("NEW   %s", strings.Replace(c.Reason, ": new: ", ": ", 1))
	}
	line := fmt.Sprintf("PASS  %s %-26s %-9s %4.0f ms", c.Entry.ID, c.Name(), c.Got, ms)
	if c.Status == replay.Unchanged {
		line += "  unchanged since " + c.ComparedWith
	}
	return line
}

// replayRecord is what --json prints for one case.
type replayRecord struct {
	ID         string `json:"id"`
	Python     string `json:"python"`
	Version    string `json:"python_version"`
	Method     string `json:"method"`
	Recorded   string `json:"recorded,omitempty"`
	RecordedOn string `json:"recorded_on,omitempty"`
	// A case of a minor with nothing recorded: the nearest older recorded
	// version it was compared with, and its verdict there.
	ComparedWith    string       `json:"compared_with,omitempty"`
	ComparedVerdict string       `json:"compared_verdict,omitempty"`
	Got             string       `json:"got,omitempty"`
	Status          string       `json:"status"`
	Reason          string       `json:"reason,omitempty"`
	Errors          []string     `json:"errors,omitempty"` // an unreadable entry's problems, each naming its file
	Results         []run.Result `json:"results"`
}

func caseRecord(c *replay.Case) replayRecord {
	return replayRecord{ID: c.Entry.ID, Python: c.Python.Path, Version: c.Version, Method: c.Method,
		Recorded: string(c.Recorded), RecordedOn: c.RecordedOn, ComparedWith: c.ComparedWith, ComparedVerdict: string(c.Older),
		Got: string(c.Got), Status: string(c.Status),
		Reason: c.Reason, Results: c.Results}
}

// unreadableRecord is what --json prints for an entry that did not load: no
// interpreter, no method, no results, status "unreadable".
func unreadableRecord(u replay.Unreadable) replayRecord {
	r := replayRecord{ID: u.ID(), Status: "unreadable", Reason: u.Errs[0].Error(), Results: []run.Result{}}
	for _, err := range u.Errs {
		r.Errors = append(r.Errors, err.Error())
	}
	return r
}
