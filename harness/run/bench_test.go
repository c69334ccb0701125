package run

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/forkfuzz/forkfuzz/harness/scenario"
)

// BenchmarkDetect runs the child deadlock 24 times, 4 at a time on the
// machine's cores, and reports the block-to-verdict latency (DetectMS: proof
// time minus the stuck child's last step event) at p50 and p95, and the run
// time with the proof (compare BenchmarkTimeoutBaseline).
func BenchmarkDetect(b *testing.B) {
	py := pythons(b)["python3"]
	x := Execution{Program: program(b, "child_lock"), Python: py, Method: "fork", Timeout: 20 * time.Second}
	var detect, elapsed []float64
	for b.Loop() {
		xs := make([]Execution, 24)
		for i := range xs {
			xs[i] = x
		}
		for _, r := range ExecuteAll(context.Background(), xs, 4, nil) {
			if r.Verdict != scenario.Deadlock {
				b.Fatalf("verdict %s, want deadlock: %s", r.Verdict, r.Reason)
			}
			detect = append(detect, r.DetectMS)
			elapsed = append(elapsed, r.ElapsedMS)
		}
	}
	b.ReportMetric(quantile(detect, 0.50), "detect-p50-ms")
	b.ReportMetric(quantile(detect, 0.95), "detect-p95-ms")
	b.ReportMetric(quantile(elapsed, 0.50), "run-p50-ms")
}

// BenchmarkTimeoutBaseline is the same deadlocking program without the
// proof: a plain 5 s timeout is all that ends it.
func BenchmarkTimeoutBaseline(b *testing.B) {
	x := Execution{Program: program(b, "child_lock"), Python: pythons(b)["python3"], Method: "fork"}
	proofOff.Store(true)
	defer proofOff.Store(false)
	x.Timeout = 5 * time.Second
	for b.Loop() {
		r := Execute(context.Background(), x)
		if r.Verdict != scenario.Hang {
			b.Fatalf("without proof: verdict %s, want hang", r.Verdict)
		}
		b.ReportMetric(r.ElapsedMS, "run-ms")
	}
}

func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[int(q*float64(len(s)-1))]
}
