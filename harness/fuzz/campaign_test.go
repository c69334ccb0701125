package fuzz

import (
	"context"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/forkfuzz/forkfuzz/harness/corpus"
	"github.com/forkfuzz/forkfuzz/harness/python"
	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

// newRunner returns a Runner on the default python3, writing into a test folder.
func newRunner(t testing.TB) *Runner {
	t.Helper()
	py, err := python.Default(context.Background())
	if err != nil {
		t.Skipf("no python3: %v", err)
	}
	return &Runner{Python: py, Dir: t.TempDir(), Timeout: 10 * time.Second}
}

// outcome is what must repeat from a seed: which case found which signature,
// and the minimal scenario it shrank to.
type outcome struct {
	Case    int
	Key     string
	Minimal string
}

func campaign(t *testing.T, seed int64, cases int) (Summary, []outcome, string) {
	t.Helper()
	dir := t.TempDir()
	var notable []Notable
	c := New(Config{Seed: seed, Cases: cases, Runner: newRunner(t), Jobs: 2, Corpus: dir,
		OnNotable: func(n Notable) { notable = append(notable, n) }})
	sum := c.Run(context.Background())
	// Every case counted as worth a look was reported, with its scenario.
	if want := sum.Logic + sum.Hangs + sum.Errors + sum.NoSig; len(notable) != want {
		t.Errorf("%d notable cases reported, want %d (logic+hangs+errors+nosig)", len(notable), want)
	}
	for _, n := range notable {
		if n.Scenario == nil || n.Seed != CaseSeed(seed, n.Case) {
			t.Errorf("notable case %d: scenario %v, seed %d, want the case's seed %d", n.Case, n.Scenario != nil, n.Seed, CaseSeed(seed, n.Case))
		}
	}
	var out []outcome
	for _, f := range sum.Found {
		out = append(out, outcome{f.Case, f.Key, f.Minimal.Hash()})
	}
	t.Logf("%d cases: %d executions, %d findings, %d signatures, %d logic, %d hangs, %d errors, %d flakes, %s %v",
		sum.Cases, sum.Executions, sum.Findings, sum.Signatures, sum.Logic, sum.Hangs, sum.Errors, sum.Flakes, sum.Elapsed.Round(time.Millisecond), sum.Failures)
	return sum, out, dir
}

// TestCampaignDeterministic runs the same seed and budget twice: the same
// cases find the same signatures and shrink to the same minimal scenarios,
// whatever order the parallel executions completed in; each is in the corpus.
// FORKFUZZ_LONG=1 runs the full --budget 200 (minutes).
func TestCampaignDeterministic(t *testing.T) {
	seed := testSeed(t, 1)
	cases := 6
	if os.Getenv("FORKFUZZ_LONG") == "1" && !testing.Short() {
		cases = 200
	}
	sum1, first, dir := campaign(t, seed, cases)
	_, second, _ := campaign(t, seed, cases)
	if len(first) == 0 {
		t.Fatalf("seed %d, %d cases: no finding at all", seed, cases)
	}
	if !reflect.DeepEqual(first, second) {
		t.Errorf("two runs differ:\n%v\n%v", first, second)
	}
	if sum1.Cases != cases || sum1.Errors > cases/10 {
		t.Errorf("%d cases judged, %d errors: %v", sum1.Cases, sum1.Errors, sum1.Failures)
	}
	// A third run on the first run's corpus shrinks nothing again.
	c := New(Config{Seed: seed, Cases: 4, Runner: newRunner(t), Jobs: 2, Corpus: dir})
	if sum := c.Run(context.Background()); sum.Signatures != 0 || sum.InCorpus != sum1.Signatures {
		t.Errorf("on a full corpus: %d new signatures, %d in the corpus; want 0, %d", sum.Signatures, sum.InCorpus, sum1.Signatures)
	}
	entries, errs := corpus.Load(dir)
	if len(errs) > 0 || len(entries) != sum1.Signatures {
		t.Fatalf("corpus has %d entries (errors %v), want %d", len(entries), errs, sum1.Signatures)
	}
	for _, e := range entries {
		v, _ := e.Recorded(newRunner(t).Python.Version, scenario.MethodFork)
		if v != scenario.Deadlock || e.Meta.Seed == nil {
			t.Errorf("entry %s: fork verdict %q, seed %v", e.ID, v, e.Meta.Seed)
		}
		checkStackLines(t, e)
	}
}

// checkStackLines: every frame of the recorded stack in the entry's program
// names it by its own file name, at a line of code (not a blank line of a
// program with another docstring).
func checkStackLines(t *testing.T, e *corpus.Entry) {
	t.Helper()
	name := e.ID + corpus.ProgramExt
	lines := strings.Split(string(e.Program), "\n")
	frames := regexp.MustCompile(`File "([^"]*)", line (\d+) in (\S+)`).FindAllStringSubmatch(e.Meta.Stack, -1)
	mine := 0
	for _, m := range frames {
		if !strings.HasSuffix(m[1], ".py") || strings.Contains(m[1], "/lib/python") {
			continue // the standard library's
		}
		mine++
		n, _ := strconv.Atoi(m[2])
		if m[1] != name || n < 1 || n > len(lines) || strings.TrimSpace(lines[n-1]) == "" {
			t.Errorf("entry %s: frame %q, want %s at a line of code", e.ID, m[0], name)
		}
	}
	if mine == 0 {
		t.Errorf("entry %s: no frame of its program in the stack:\n%s", e.ID, e.Meta.Stack)
	}
}

// TestCampaignCancel: a cancel stops the campaign, says so, and keeps what
// was already written.
func TestCampaignCancel(t *testing.T) {
	seed := testSeed(t, 1)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := New(Config{Seed: seed, Cases: 100, Runner: newRunner(t), Jobs: 2, Corpus: dir,
		OnFinding: func(Finding) { cancel() }})
	sum := c.Run(ctx)
	if !sum.Stopped || sum.Signatures != 1 || sum.Cases >= 100 {
		t.Fatalf("stopped %v, %d signatures, %d cases; want stopped, 1, fewer than 100", sum.Stopped, sum.Signatures, sum.Cases)
	}
	if entries, errs := corpus.Load(dir); len(entries) != 1 || len(errs) > 0 {
		t.Errorf("corpus has %d entries (errors %v), want 1", len(entries), errs)
	}
}
