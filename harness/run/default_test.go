package run

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/forkfuzz/forkfuzz/harness/python"
	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

// TestExecuteDefault runs a lock held across a fork under the default start
// method on every interpreter found: fork, and so a deadlock, up to 3.13;
// forkserver, and so ok, from 3.14 (CPython's own change on Linux). The
// result records the method used.
func TestExecuteDefault(t *testing.T) {
	ins, _, err := python.Resolve(context.Background(), []string{"all"})
	if err != nil || len(ins) == 0 {
		t.Skipf("no python interpreter: %v", err)
	}
	for _, in := range ins {
		t.Run(in.Version, func(t *testing.T) {
			t.Parallel()
			want, verdict := scenario.MethodFork, scenario.Deadlock
			var major, minor int
			fmt.Sscanf(in.Minor, "%d.%d", &major, &minor)
			if major == 3 && minor >= 14 {
				want, verdict = scenario.MethodForkserver, scenario.OK
			}
			r := Execute(context.Background(), Execution{Program: program(t, "child_lock"), Python: in.Path,
				Method: scenario.MethodDefault, Timeout: 30 * time.Second})
			if r.Method != scenario.MethodDefault || r.MethodUsed != want || r.Verdict != verdict {
				t.Fatalf("method %s, used %q, verdict %s (%s); want default, %s, %s", r.Method, r.MethodUsed, r.Verdict, r.Reason, want, verdict)
			}
		})
	}
}
