package fuzz

import (
	"context"
	"testing"
	"time"

	"github.com/forkfuzz/forkfuzz/harness/python"
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

func TestCampaignExplore(t *testing.T) {
	r := newRunner(t)
	seed := testSeed(t, 1)
	c := New(Config{Seed: seed, Cases: 40, Runner: r, Jobs: 2, Corpus: t.TempDir()})
	sum := c.Run(context.Background())
	t.Logf("%+v", sum)
	for _, f := range sum.Found {
		t.Logf("case %d %s -> %s %v %+v", f.Case, f.Signature, f.Path, f.Verdicts, f.Shrink)
	}
}
