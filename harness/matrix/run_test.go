package matrix

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/forkfuzz/forkfuzz/harness/python"
	"github.com/forkfuzz/forkfuzz/harness/run"
	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

// TestRun runs two library scenarios on python3 under fork and spawn and
// checks every cell: the held lock deadlocks the fork child only, the
// negative control completes everywhere.
func TestRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Python")
	}
	ctx := context.Background()
	py, err := python.Default(ctx)
	if err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	var cases []Case
	for _, f := range []string{"lock-held-by-thread.yaml", "threads-holding-nothing.yaml"} {
		s, err := scenario.ParseFile(filepath.Join("../../scenarios", f))
		if err != nil {
			t.Fatal(err)
		}
		c, err := FromScenario(s, dir)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, c)
	}
	var done atomic.Int32
	m := Run(ctx, cases, []python.Interpreter{py}, []string{"fork", "spawn"},
		Options{Jobs: 2, Timeout: 20 * time.Second, Each: func(_ run.Result) { done.Add(1) }})
	if n := done.Load(); n != 4 {
		t.Errorf("progress called %d times, want 4", n)
	}
	label := Labels([]python.Interpreter{py})[0]
	if len(m.Pythons) != 1 || m.Pythons[0] != label {
		t.Fatalf("pythons %v, want [%s]", m.Pythons, label)
	}
	want := map[string]map[string]string{
		"lock-held-by-thread":     {"fork": "DL", "spawn": "ok"},
		"threads-holding-nothing": {"fork": "ok", "spawn": "ok"},
	}
	for i, r := range m.Rows {
		if r.Kind != scenario.Lock {
			t.Errorf("%s: kind %s, want lock", r.Name, r.Kind)
		}
		for meth, code := range want[r.Name] {
			if c := m.Cell(i, label, meth); c.Code() != code {
				t.Errorf("%s %s %s: %s (%s), want %s", r.Name, label, meth, c.Code(), c.Reason, code)
			}
		}
	}
}
