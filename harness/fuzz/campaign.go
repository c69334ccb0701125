package fuzz

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/sourcegraph/conc/pool"

	"github.com/forkfuzz/forkfuzz/harness/corpus"
	"github.com/forkfuzz/forkfuzz/harness/render"
	"github.com/forkfuzz/forkfuzz/harness/scenario"
	"github.com/forkfuzz/forkfuzz/harness/shrink"
	"github.com/forkfuzz/forkfuzz/harness/signature"
)

// Config is one fuzzing campaign. Zero values are documented per field.
type Config struct {
	Seed     int64         // campaign seed; case i's seed is CaseSeed(Seed, i)
	Cases    int           // cases to run; 0: no limit (then Duration must bound it)
	Duration time.Duration // start no case after this; 0: no limit. Findings in flight are still shrunk.
	Runner   *Runner
	Confirm  []string // methods a finding must complete under; nil: spawn and forkserver
	Jobs     int      // cases judged in parallel; 0 means 1
	// Corpus is the folder each new signature is written to as it is found;
	// the signatures already there are not shrunk again. "" keeps findings
	// in memory only.
	Corpus string
	// OnFinding, if set, is called in case order for each new signature,
	// after it was written.
	OnFinding func(Finding)
	// OnNotable, if set, is called in case order for each case that is not
	// a finding but deserves a look: a logic deadlock, an unproven hang, an
	// error, a deadlock whose stuck step is not named.
	OnNotable func(Notable)
	// Shard and Shards split one campaign over machines: this one runs the
	// cases whose index i has i mod Shards == Shard-1 (Shard is 1-based).
	// Zero Shards runs every case. Cases counts this shard's cases.
	Shard, Shards int
}

// Notable is one case worth a look that is not a finding, with what it
// takes to reproduce it.
type Notable struct {
	Case     int                `json:"case"`
	Seed     int64              `json:"seed"` // Generate(Seed) regenerates Scenario
	Class    Class              `json:"class"`
	Reason   string             `json:"reason,omitempty"`
	Scenario *scenario.Scenario `json:"-"`
}

// Finding is one new signature: a fork-only deadlock, shrunk and recorded.
type Finding struct {
	Case      int                         `json:"case"`
	Seed      int64                       `json:"seed"` // Generate(Seed) regenerates the original scenario
	Key       string                      `json:"key"`
	Signature signature.Signature         `json:"signature"`
	Original  *scenario.Scenario          `json:"-"`
	Minimal   *scenario.Scenario          `json:"-"`
	Program   []byte                      `json:"-"`        // the minimal scenario rendered
	Verdicts  map[string]scenario.Verdict `json:"verdicts"` // of the minimal scenario, per method
	ID        string                      `json:"id,omitempty"`
	Path      string                      `json:"path,omitempty"`    // the minimal scenario in the corpus
	ProgPath  string                      `json:"program,omitempty"` // its rendered program in the corpus
	Shrink    shrink.Stats                `json:"shrink"`
}

// Summary counts what a campaign did. A finding is a case that deadlocks
// under fork only; Signatures counts the distinct ones recorded.
type Summary struct {
	Cases      int           `json:"cases"`
	Executions int64         `json:"executions"`
	Findings   int           `json:"findings"`
	Signatures int           `json:"signatures"`
	Logic      int           `json:"logic_deadlocks"` // deadlock under every method: counted, not recorded
	Hangs      int           `json:"hangs"`           // unproven hangs under fork
	Errors     int           `json:"errors"`          // error or crash: a generator bug if common
	NoSig      int           `json:"no_signature"`    // deadlocks the trace did not explain
	Flakes     int           `json:"flakes"`          // findings whose signature did not repeat
	InCorpus   int           `json:"in_corpus"`       // signatures the corpus held before the campaign
	Failures   []string      `json:"failures,omitempty"`
	Elapsed    time.Duration `json:"elapsed_ns"`
	Stopped    bool          `json:"interrupted"`
	Found      []Finding     `json:"found,omitempty"`
}

// CaseSeed derives case i's seed from the campaign seed (splitmix64), so
// that every case regenerates alone and neighbouring seeds do not overlap.
func CaseSeed(seed int64, i int) int64 {
	z := uint64(seed) + uint64(i+1)*0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return int64(z ^ (z >> 31))
}

// Campaign runs cases in parallel and handles their judgements in case order,
// so the same seed and number of cases give the same findings whatever order
// the executions complete in.
type Campaign struct {
	cfg   Config
	start time.Time

	mu       sync.Mutex
	sum      Summary
	recorded map[string]bool // signature keys recorded so far
}

// New returns a campaign for cfg.
func New(cfg Config) *Campaign {
	if cfg.Confirm == nil {
		cfg.Confirm = []string{scenario.MethodSpawn, scenario.MethodForkserver}
	}
	if cfg.Jobs < 1 {
		cfg.Jobs = 1
	}
	c := &Campaign{cfg: cfg, start: time.Now(), recorded: map[string]bool{}}
	c.loadCorpus()
	return c
}

// loadCorpus marks the signatures already in the corpus as recorded, so a
// second campaign on one corpus spends no time shrinking them again. A bad
// entry is reported and the others still count.
func (c *Campaign) loadCorpus() {
	if c.cfg.Corpus == "" {
		return
	}
	if _, err := os.Stat(c.cfg.Corpus); err != nil {
		return // a new corpus
	}
	entries, errs := corpus.Load(c.cfg.Corpus)
	for _, e := range entries {
		c.recorded[e.Meta.Signature.Key()] = true
	}
	c.sum.InCorpus = len(c.recorded)
	for _, err := range errs {
		c.fail("corpus: %v", err)
	}
}

// fail notes a failure for the summary (the first few are kept). Call with
// c.mu held or before Run.
func (c *Campaign) fail(format string, a ...any) {
	if len(c.sum.Failures) < maxFailures {
		c.sum.Failures = append(c.sum.Failures, fmt.Sprintf(format, a...))
	}
}

// maxFailures bounds the failures a summary lists.
const maxFailures = 5

// Progress is a snapshot of the counts so far.
func (c *Campaign) Progress() Summary {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.sum
	s.Executions = c.cfg.Runner.Executions()
	s.Elapsed = time.Since(c.start)
	s.Found = append([]Finding(nil), s.Found...)
	return s
}

// judged is one case's judgement, on its way to the in-order handler.
type judged struct {
	i    int // order within this run
	g    int // the case index in the whole campaign (differs when sharded)
	seed int64
	s    *scenario.Scenario
	j    Judgement
}

// Run runs the campaign until its budget is spent or ctx is cancelled, and
// returns the summary. Everything recorded before a cancel stays recorded.
func (c *Campaign) Run(ctx context.Context) Summary {
	c.mu.Lock()
	c.start = time.Now()
	c.mu.Unlock()
	results := make(chan judged, 256)
	go func() {
		p := pool.New().WithMaxGoroutines(c.cfg.Jobs)
		for i := 0; c.more(ctx, i); i++ {
			i := i
			p.Go(func() {
				g := c.caseIndex(i)
				seed := CaseSeed(c.cfg.Seed, g)
				s := Generate(seed)
				results <- judged{i: i, g: g, seed: seed, s: s, j: Judge(ctx, c.cfg.Runner, s, c.cfg.Confirm, c.isRecorded)}
			})
		}
		p.Wait()
		close(results)
	}()
	// A reorder buffer: case i is handled only after every case before it.
	waiting := map[int]judged{}
	next := 0
	for r := range results {
		waiting[r.i] = r
		for {
			r, ok := waiting[next]
			if !ok {
				break
			}
			delete(waiting, next)
			next++
			c.handle(ctx, r)
		}
	}
	sum := c.Progress()
	sum.Stopped = ctx.Err() != nil
	return sum
}

// caseIndex maps this run's i-th case to its index in the whole campaign.
func (c *Campaign) caseIndex(i int) int {
	if c.cfg.Shards <= 1 {
		return i
	}
	return i*c.cfg.Shards + c.cfg.Shard - 1
}

// more says whether case i should start.
func (c *Campaign) more(ctx context.Context, i int) bool {
	switch {
	case ctx.Err() != nil:
		return false
	case c.cfg.Cases > 0 && i >= c.cfg.Cases:
		return false
	case c.cfg.Duration > 0 && time.Since(c.start) >= c.cfg.Duration:
		return false
	}
	return true
}

func (c *Campaign) isRecorded(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.recorded[key]
}

// count adds one case's class to the summary.
func (c *Campaign) count(r judged) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r.j.Class == ClassStopped {
		return
	}
	c.sum.Cases++
	switch r.j.Class {
	case ClassFinding, ClassKnown:
		c.sum.Findings++
	case ClassLogic:
		c.sum.Logic++
	case ClassHang:
		c.sum.Hangs++
	case ClassError:
		c.sum.Errors++
		c.fail("case %d (seed %d): %s", r.g, r.seed, r.j.Reason)
	case ClassNoSig:
		c.sum.NoSig++
	}
}

// handle takes one judgement in case order. A finding whose signature is
// new is shrunk and written now, so a crash or a Ctrl-C later loses nothing.
// A case judged before an earlier case recorded its key was confirmed in
// vain, and is counted as a known finding here.
func (c *Campaign) handle(ctx context.Context, r judged) {
	c.count(r)
	switch r.j.Class {
	case ClassLogic, ClassHang, ClassError, ClassNoSig:
		if c.cfg.OnNotable != nil {
			c.cfg.OnNotable(Notable{Case: r.g, Seed: r.seed, Class: r.j.Class, Reason: r.j.Reason, Scenario: r.s})
		}
	}
	if r.j.Class != ClassFinding || c.isRecorded(r.j.Key) || ctx.Err() != nil {
		return
	}
	f, err := c.record(ctx, r)
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case errors.Is(err, ErrFlake):
		c.sum.Flakes++
		return
	case err != nil:
		if ctx.Err() == nil {
			c.fail("case %d (seed %d): %v", r.g, r.seed, err)
		}
		return
	}
	// The oracle's run and the shrinker's agree on the key unless a run
	// flaked between them; either way both now name this finding.
	c.recorded[r.j.Key] = true
	c.recorded[f.Key] = true
	c.sum.Signatures++
	c.sum.Found = append(c.sum.Found, *f)
	if c.cfg.OnFinding != nil {
		c.cfg.OnFinding(*f)
	}
}

// record shrinks a finding, runs the minimal scenario under the other
// confirming methods, and writes it to the corpus.
func (c *Campaign) record(ctx context.Context, r judged) (*Finding, error) {
	red, err := Reduce(ctx, c.cfg.Runner, r.s)
	if err != nil {
		return nil, err
	}
	f := &Finding{Case: r.g, Seed: r.seed, Key: red.Signature.Key(), Signature: red.Signature, Original: r.s,
		Minimal: red.Minimal.Clone(), Shrink: red.Stats, Verdicts: map[string]scenario.Verdict{
			scenario.MethodFork:  red.Fork.Verdict,
			scenario.MethodSpawn: red.Spawn.Verdict,
		}}
	f.Minimal.Name = fmt.Sprintf("fuzz-%s-%s", f.Signature.Kind, f.Minimal.Hash()[:8])
	f.Minimal.About = fmt.Sprintf("Found by forkfuzz fuzz, case %d (seed %d); shrunk from %d to %d steps. Signature: %s.",
		r.g, r.seed, stepCount(r.s), stepCount(f.Minimal), f.Signature)
	for _, m := range c.cfg.Confirm {
		if _, ok := f.Verdicts[m]; ok {
			continue
		}
		res, err := c.cfg.Runner.Run(ctx, f.Minimal, m)
		if err != nil {
			return nil, err
		}
		f.Verdicts[m] = res.Verdict
	}
	p, err := render.Write(f.Minimal, render.Options{})
	if err != nil {
		return nil, err
	}
	f.Program = p.Source
	if c.cfg.Corpus == "" {
		return f, nil
	}
	seed := r.seed
	e := corpus.NewEntry(f.Minimal, f.Program, f.Signature, &seed)
	for m, v := range f.Verdicts {
		e.Record(c.cfg.Runner.Python.Key(), m, v)
	}
	e.Meta.Stack = c.recordedStack(ctx, f, red)
	id, err := corpus.Write(c.cfg.Corpus, e)
	if err != nil {
		return nil, err
	}
	f.ID, f.Path = id, filepath.Join(c.cfg.Corpus, id+corpus.ScenarioExt)
	f.ProgPath = filepath.Join(c.cfg.Corpus, id+corpus.ProgramExt)
	return f, nil
}

// recordedStack is the stuck stack of the program as the corpus keeps it,
// from one more run under fork: the shrinker's runs had another about (the
// docstring), so their line numbers are off. Paths name the entry's own
// program file. A run that does not show the same signature again (a flake)
// leaves the shrinker's stack, as it was.
func (c *Campaign) recordedStack(ctx context.Context, f *Finding, red *Reduction) string {
	res, err := c.cfg.Runner.Run(ctx, f.Minimal, scenario.MethodFork)
	if err != nil {
		return red.Fork.Stack
	}
	if g, ok := signature.Of(f.Minimal, res); !ok || g.Key() != f.Key {
		return red.Fork.Stack
	}
	prog, err := c.cfg.Runner.write(f.Minimal)
	if err != nil {
		return res.Stack
	}
	return strings.ReplaceAll(res.Stack, prog, f.Minimal.Hash()[:corpus.IDLen]+corpus.ProgramExt)
}

// stepCount is the number of steps in every list of s.
func stepCount(s *scenario.Scenario) int {
	n := len(s.Main)
	for _, t := range s.Threads {
		n += len(t.Steps)
	}
	if f := s.ForkStep(); f != nil && f.Fork != nil {
		n += len(f.Fork.Child)
	}
	return n
}
