package run

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

// Execution.Settle: what the parent writes after the child is proved stuck
// reaches Stderr once the parent is let run to its own block, and a parent
// that never blocks is killed at the bound.
func TestExecuteSettle(t *testing.T) {
	py := pythons(t)["python3"]
	const late = "late: the parent after the fork"
	for _, tc := range []struct {
		name   string
		busy   string        // how long the parent runs after the fork, ms
		settle time.Duration // Execution.Settle
		late   bool          // Stderr holds the parent's late line
		within time.Duration // Execute returns within this
	}{
		// The control: without Settle the tree dies with the proof, a
		// millisecond or two after the child blocks.
		{"no settle", "300", 0, false, 20 * time.Second},
		{"settle", "300", 2 * time.Second, true, 20 * time.Second},
		// A settled tree ends the wait: far below the 10 s bound.
		{"settles early", "100", 10 * time.Second, true, 9 * time.Second},
		{"bounded", "forever", time.Second, false, 20 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			r := Execute(context.Background(), Execution{Name: "late_parent", Program: program(t, "late_parent"),
				Python: py, Method: "fork", Timeout: 20 * time.Second, Args: []string{tc.busy}, Settle: tc.settle})
			took := time.Since(start)
			if r.Verdict != scenario.Deadlock || r.Where != "child" {
				t.Fatalf("verdict %s where %q (%s), want deadlock in the child\n%s", r.Verdict, r.Where, r.Reason, r.Stderr)
			}
			if len(r.Frames) == 0 || r.Frames[0].Func != "child" {
				t.Errorf("stuck stack not taken: frames %v", r.Frames)
			}
			if got := strings.Contains(r.Stderr, late); got != tc.late {
				t.Errorf("late line in stderr: %v, want %v\nstderr: %s", got, tc.late, r.Stderr)
			}
			if took > tc.within {
				t.Errorf("Execute took %s, want under %s", took, tc.within)
			}
			// Settling is not counted: what Execute took holds ElapsedMS and
			// the whole settle on top, however loaded the machine is.
			if tc.busy == "forever" && (took < tc.settle || time.Duration(r.ElapsedMS*float64(time.Millisecond)) > took-tc.settle) {
				t.Errorf("took %s, ElapsedMS %.0f: want the whole %s of settling, and not in ElapsedMS",
					took, r.ElapsedMS, tc.settle)
			}
			t.Logf("took %s, elapsed %.1f ms", took, r.ElapsedMS)
		})
	}
}
