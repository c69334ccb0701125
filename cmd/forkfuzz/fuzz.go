package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/forkfuzz/forkfuzz/harness/corpus"
	"github.com/forkfuzz/forkfuzz/harness/fuzz"
	"github.com/forkfuzz/forkfuzz/harness/guard"
	"github.com/forkfuzz/forkfuzz/harness/python"
	"github.com/forkfuzz/forkfuzz/harness/run"
	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

func init() {
	register(command{name: "fuzz", summary: "generate random scenarios, find fork-only deadlocks, shrink and record them", run: fuzzMain})
}

const fuzzUsage = `
Usage: forkfuzz fuzz [flags]

Generates random valid scenarios from --seed and runs each under fork. A
scenario that deadlocks under fork (proved) and completes under spawn and
forkserver is a finding; one that hangs under every method is a logic
deadlock, counted but not recorded. Each new signature is shrunk to a minimal
scenario and written to the corpus as soon as it is found, with its seed.

The same --seed and a --budget in cases give the same findings. Ctrl-C stops
cleanly and keeps what was written.

Exit code 0 when no new signature was recorded (findings whose signature the
corpus already held do not count), 1 when one was (or on interruption), 2 for
bad usage.`

type fuzzFlags struct {
	seed    int64
	budget  string
	python  string
	methods listFlag
	corpus  string
	jobs    int
	timeout time.Duration
	json    bool
	shard   string
	exec    bool
}

func fuzzMain(args []string) int {
	fs := newFlags("fuzz", fuzzUsage)
	var f fuzzFlags
	fs.Int64Var(&f.seed, "seed", 1, "campaign `SEED`: case i regenerates from (SEED, i) alone")
	fs.StringVar(&f.budget, "budget", "200", "a number of cases (200) or a duration (60s)")
	fs.StringVar(&f.python, "python", "", "interpreter: a version (3.12) or a path (default: python3 on PATH)")
	fs.Var(&f.methods, "method", "start `methods` a finding must complete under (default spawn,forkserver)")
	fs.StringVar(&f.corpus, "corpus", "corpus", "write findings to corpus folder `DIR`")
	fs.IntVar(&f.jobs, "jobs", runtime.NumCPU(), "cases judged in parallel")
	fs.DurationVar(&f.timeout, "timeout", fuzz.DefaultTimeout, "give up on an execution without proof after `DUR`")
	fs.BoolVar(&f.json, "json", false, "print one JSON object per finding and a final summary object")
	fs.BoolVar(&f.exec, "executor", true, executorUsage)
	fs.StringVar(&f.shard, "shard", "", "run only shard `k/n` of the campaign: cases i with i mod n = k-1 (for CI matrices; merge the corpora afterwards)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() != 0 {
		errorf("fuzz", "takes no arguments (run 'forkfuzz fuzz --help')")
		return exitUsage
	}
	cases, dur, err := parseBudget(f.budget)
	if err != nil {
		errorf("fuzz", "%v", err)
		return exitUsage
	}
	shard, shards := 0, 0
	if f.shard != "" {
		if shard, shards, err = corpus.ParseShard(f.shard); err != nil {
			errorf("fuzz", "--shard: %v", err)
			return exitUsage
		}
	}
	confirm, err := confirmMethods(f.methods)
	if err != nil || f.jobs < 1 || f.timeout <= 0 {
		errorf("fuzz", "%v", orElse(err, "--jobs and --timeout must be positive"))
		return exitUsage
	}
	if err := checkOutputFolder("--corpus", f.corpus); err != nil {
		errorf("fuzz", "%v", err)
		return exitUsage
	}
	ctx, stop := interruptContext(run.KillAll)
	defer stop()
	py, err := onePython(ctx, f.python)
	if err != nil {
		errorf("fuzz", "%v", err)
		return exitUsage
	}
	dir, cleanup, err := guard.TempDir("forkfuzz-fuzz-")
	if err != nil {
		errorf("fuzz", "%v", err)
		return exitUsage
	}
	defer cleanup()

	pool, stopExecutor := startExecutor(ctx, f.exec)
	defer stopExecutor()
	out := &fuzzOutput{json: f.json, enc: json.NewEncoder(os.Stdout), tty: !f.json && isTerminal(os.Stderr)}
	c := fuzz.New(fuzz.Config{Seed: f.seed, Cases: cases, Duration: dur, Confirm: confirm, Jobs: f.jobs,
		Corpus: f.corpus, Runner: &fuzz.Runner{Python: py, Dir: dir, Timeout: f.timeout, Executor: pool}, OnFinding: out.finding, OnNotable: out.notable,
		Shard: shard, Shards: shards})
	if !f.json {
		fmt.Fprintf(os.Stderr, "forkfuzz fuzz: seed %d, budget %s, Python %s (%s), %d jobs, corpus %s\n",
			f.seed, f.budget, py.Key(), py.Path, f.jobs, f.corpus)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	if out.tty {
		wg.Add(1)
		go func() { defer wg.Done(); out.progress(c, done) }()
	}
	sum := c.Run(ctx)
	close(done)
	wg.Wait()
	out.summary(f.seed, py, sum)
	// Interrupted is 1, as for run and replay: the budget was not spent.
	if sum.Signatures > 0 || sum.Stopped {
		return exitMismatch
	}
	return exitOK
}

// parseBudget reads "200" as cases and "60s" as a duration.
func parseBudget(s string) (int, time.Duration, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n < 1 {
			return 0, 0, fmt.Errorf("--budget %s: want a positive number of cases", s)
		}
		return n, 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, 0, fmt.Errorf("--budget %q: want a number of cases (200) or a duration (60s)", s)
	}
	return 0, d, nil
}

// confirmMethods checks --method for the oracle: fork is what is tested, so
// only spawn and forkserver can confirm.
func confirmMethods(list []string) ([]string, error) {
	if len(list) == 0 {
		return nil, nil
	}
	ms, err := parseMethods(list)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		if m == scenario.MethodFork {
			return nil, fmt.Errorf("--method names the methods that confirm a fork deadlock: spawn, forkserver")
		}
	}
	return ms, nil
}

// onePython resolves --python to one interpreter (python3 on PATH by default).
func onePython(ctx context.Context, spec string) (python.Interpreter, error) {
	if spec == "" {
		return python.Default(ctx)
	}
	ins, _, err := python.Resolve(ctx, []string{spec})
	if err != nil {
		return python.Interpreter{}, err
	}
	if len(ins) != 1 {
		return python.Interpreter{}, fmt.Errorf("--python %s: want exactly one interpreter, found %d", spec, len(ins))
	}
	return ins[0], nil
}

func orElse(err error, msg string) string {
	if err != nil {
		return err.Error()
	}
	return msg
}

// fuzzOutput prints findings as they are recorded, a progress line on a
// terminal, and the summary. One mutex keeps lines whole.
type fuzzOutput struct {
	mu   sync.Mutex
	json bool
	tty  bool
	enc  *json.Encoder
}

// findingRecord is what --json prints for one finding.
type findingRecord struct {
	Type string `json:"type"` // "finding"
	fuzz.Finding
	Minimal string `json:"minimal"` // canonical YAML of the minimal scenario
}

// summaryRecord is the final --json object.
type summaryRecord struct {
	Type   string `json:"type"` // "summary"
	Seed   int64  `json:"seed"`
	Python string `json:"python"`
	fuzz.Summary
}

func (o *fuzzOutput) finding(f fuzz.Finding) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.json {
		o.enc.Encode(findingRecord{Type: "finding", Finding: f, Minimal: string(scenario.Marshal(f.Minimal))})
		return
	}
	if o.tty {
		fmt.Fprint(os.Stderr, "\r\033[K")
	}
	fmt.Printf("finding: case %d (seed %d): %s\n  shrunk in %d executions, %s -> %s\n",
		f.Case, f.Seed, f.Signature, f.Shrink.Executions, f.Shrink.Elapsed.Round(time.Millisecond), orPath(f.ProgPath))
}

// notableRecord is one --json line for a case worth a look: its scenario
// is inline, so that it can be run again (forkfuzz run) without the seed.
type notableRecord struct {
	Type string `json:"type"` // "case"
	fuzz.Notable
	Scenario string `json:"scenario"`
}

// notable prints a case worth a look as a JSON record; a terminal gets the
// counts in the summary instead.
func (o *fuzzOutput) notable(n fuzz.Notable) {
	if !o.json {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.enc.Encode(notableRecord{Type: "case", Notable: n, Scenario: string(scenario.Marshal(n.Scenario))})
}

func orPath(p string) string {
	if p == "" {
		return "(not written)"
	}
	return p
}

// progress prints one status line a second until done is closed.
func (o *fuzzOutput) progress(c *fuzz.Campaign, done <-chan struct{}) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-done:
			o.mu.Lock()
			fmt.Fprint(os.Stderr, "\r\033[K")
			o.mu.Unlock()
			return
		case <-t.C:
			p := c.Progress()
			rate := float64(p.Executions) / p.Elapsed.Seconds()
			o.mu.Lock()
			fmt.Fprintf(os.Stderr, "\r\033[K%d cases, %.1f executions/s, %d findings, %d signatures, %d logic deadlocks, %s",
				p.Cases, rate, p.Findings, p.Signatures, p.Logic, p.Elapsed.Round(time.Second))
			o.mu.Unlock()
		}
	}
}

func (o *fuzzOutput) summary(seed int64, py python.Interpreter, s fuzz.Summary) {
	if o.json {
		found := s.Found
		s.Found = nil // each was printed as a finding record: left out here
		o.enc.Encode(summaryRecord{Type: "summary", Seed: seed, Python: py.Key(), Summary: s})
		s.Found = found
		return
	}
	state := "done"
	if s.Stopped {
		state = "interrupted"
	}
	fmt.Printf("\nforkfuzz fuzz %s: seed %d, %d cases in %s, %d executions on Python %s\n",
		state, seed, s.Cases, s.Elapsed.Round(time.Second), s.Executions, py.Key())
	fmt.Printf("%d fork-only deadlocks, %d new signatures recorded (the corpus held %d before); %d logic deadlocks, %d hangs, %d errors, %d flakes\n",
		s.Findings, s.Signatures, s.InCorpus, s.Logic, s.Hangs, s.Errors, s.Flakes)
	for _, msg := range s.Failures {
		fmt.Printf("  failure: %s\n", msg)
	}
	if len(s.Found) == 0 {
		return
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "\nKIND\tHELD AT FORK\tSTUCK\tFORK\tSPAWN\tFORKSERVER\tMINIMAL PROGRAM")
	for _, f := range s.Found {
		v := func(m string) string {
			if x, ok := f.Verdicts[m]; ok {
				return string(x)
			}
			return "-"
		}
		prog := orPath(f.ProgPath)
		fmt.Fprintf(w, "%s\t%s\t%s: %s\t%s\t%s\t%s\t%s\n", f.Signature.Kind, f.Signature.Held, f.Signature.Where,
			f.Signature.Blocked, v(scenario.MethodFork), v(scenario.MethodSpawn), v(scenario.MethodForkserver), prog)
	}
	w.Flush()
}
