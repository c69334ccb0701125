package run

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

// TestLimits runs programs that take too much of something: each must end
// quickly with the verdict error and a reason that says what.
func TestLimits(t *testing.T) {
	py := pythons(t)["python3"]
	if py == "" {
		t.Skip("no python3")
	}
	tests := []struct {
		name, src string
		verdict   scenario.Verdict
		want      string // in Reason, or for ok in Stdout
	}{
		{"limits applied", "import resource\nfor n in ('RLIMIT_AS', 'RLIMIT_CPU', 'RLIMIT_NOFILE'):\n    print(n, *resource.getrlimit(getattr(resource, n)))\n",
			scenario.OK, fmt.Sprintf("RLIMIT_AS %d %d\nRLIMIT_CPU %d %d\nRLIMIT_NOFILE", LimitAddressSpace, LimitAddressSpace, LimitCPUSeconds, LimitCPUSeconds+5)},
		{"memory", "b = bytearray(8 << 30)\n", scenario.ErrorVerdict, "MemoryError"},
		{"open files", "fs = [open('/dev/null') for _ in range(5000)]\n", scenario.ErrorVerdict, "Too many open files"},
		{"processes", "import os, time\nfor _ in range(100):\n    if os.fork() == 0:\n        time.sleep(60)\n        os._exit(0)\ntime.sleep(60)\n",
			scenario.ErrorVerdict, fmt.Sprintf("more than %d processes", MaxProcesses)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			prog := filepath.Join(t.TempDir(), "p.py")
			if err := os.WriteFile(prog, []byte(tc.src), 0o644); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			r := Execute(context.Background(), Execution{Name: tc.name, Program: prog, Python: py, Method: "fork", Timeout: 30 * time.Second})
			if r.Verdict != tc.verdict {
				t.Fatalf("verdict %s (%s), want %s\nstderr: %s", r.Verdict, r.Reason, tc.verdict, r.Stderr)
			}
			if got := r.Reason + r.Stdout; !strings.Contains(got, tc.want) {
				t.Errorf("reason %q, stdout %q: want %q", r.Reason, r.Stdout, tc.want)
			}
			if d := time.Since(start); d > 25*time.Second { // below the 30 s timeout: the limit ended it
				t.Errorf("took %v", d)
			}
		})
	}
}
