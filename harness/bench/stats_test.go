package bench

import (
	"strings"
	"testing"
)

func TestQuantile(t *testing.T) {
	xs := []float64{9, 1, 8, 2, 7, 3, 6, 4, 5, 10} // 1..10, unsorted
	for _, c := range []struct {
		xs   []float64
		q    float64
		want float64
	}{
		{nil, 0.5, 0},
		{[]float64{4}, 0.95, 4},
		{xs, 0, 1},
		{xs, 1, 10},
		{xs, 0.5, 6}, // index round(4.5) = 5 (round half away from zero)
		{xs, 0.95, 10},
		{[]float64{1, 2, 3}, 0.5, 2},
	} {
		if got := Quantile(c.xs, c.q); got != c.want {
			t.Errorf("Quantile(%v, %v) = %v, want %v", c.xs, c.q, got, c.want)
		}
	}
	if xs[0] != 9 {
		t.Error("Quantile sorted its argument in place")
	}
}

func TestRatios(t *testing.T) {
	r := &Report{
		Throughput:  []Throughput{{Method: "fork", PerSec: 50}, {Method: "spawn", PerSec: 5}},
		Detect:      Detect{Samples: 10, P50MS: 1, P95MS: 4, ElapsedP50MS: 40},
		Naive:       Naive{ElapsedP50MS: 5000},
		Floors:      Floors{ForkPerSec: 1000, SpawnMS: 80},
		SpawnCaseMS: 96,
	}
	computeRatios(r)
	if r.Ratios.NaiveOverForkfuzz != 125 || r.Ratios.SpawnOverFloor != 1.2 || r.Ratios.ForkOverFloor != 0.05 {
		t.Errorf("ratios %+v, want 125, 1.2, 0.05", r.Ratios)
	}
	// With the executor measured, the fork ratio is the executor's.
	r.Throughput = append(r.Throughput, Throughput{Method: "fork", Executor: true, PerSec: 400})
	computeRatios(r)
	if r.Ratios.ForkOverFloor != 0.4 {
		t.Errorf("fork over floor with the executor: %v, want 0.4", r.Ratios.ForkOverFloor)
	}
	// A missing figure gives 0, never Inf or NaN.
	empty := &Report{}
	computeRatios(empty)
	if empty.Ratios != (Ratios{}) {
		t.Errorf("ratios of nothing: %+v, want zeros", empty.Ratios)
	}
}

func TestJudge(t *testing.T) {
	good := func() *Report {
		r := &Report{
			Throughput:  []Throughput{{Method: "fork", PerSec: 50}, {Method: "fork", Executor: true, PerSec: 320}},
			Detect:      Detect{Samples: 10, P50MS: 2, P95MS: 20, ElapsedP50MS: 30},
			Naive:       Naive{ElapsedP50MS: 5000},
			Floors:      Floors{ForkPerSec: 1000, SpawnMS: 80},
			SpawnCaseMS: 90,
		}
		computeRatios(r)
		return r
	}
	for _, c := range []struct {
		name   string
		change func(*Report)
		want   []string // status per target, in Judge's order
	}{
		{"all pass", func(*Report) {}, []string{Pass, Pass, Pass, Pass}},
		{"no executor", func(r *Report) { r.Throughput = r.Throughput[:1] }, []string{NA, Pass, Pass, Pass}},
		{"slow executor", func(r *Report) { r.Throughput[1].PerSec = 299 }, []string{Miss, Pass, Pass, Pass}},
		{"spawn at the edge", func(r *Report) { r.SpawnCaseMS = 100 }, []string{Pass, Pass, Pass, Pass}},
		{"spawn over", func(r *Report) { r.SpawnCaseMS = 101 }, []string{Pass, Miss, Pass, Pass}},
		{"p95 over", func(r *Report) { r.Detect.P95MS = 51 }, []string{Pass, Pass, Miss, Pass}},
		{"p50 over", func(r *Report) { r.Detect.P50MS = 10.5 }, []string{Pass, Pass, Miss, Pass}},
		{"no deadlocks", func(r *Report) { r.Detect = Detect{ElapsedP50MS: 30} }, []string{Pass, Pass, NA, Pass}},
		{"only 50x", func(r *Report) { r.Detect.ElapsedP50MS = 100 }, []string{Pass, Pass, Pass, Miss}},
		{"naive not run", func(r *Report) { r.Naive = Naive{} }, []string{Pass, Pass, Pass, NA}},
	} {
		r := good()
		c.change(r)
		computeRatios(r)
		Judge(r)
		var got []string
		for _, tg := range r.Targets {
			got = append(got, tg.Status)
		}
		if strings.Join(got, " ") != strings.Join(c.want, " ") {
			t.Errorf("%s: statuses %v, want %v (%+v)", c.name, got, c.want, r.Targets)
		}
	}
}

func TestCompare(t *testing.T) {
	old := &Report{Throughput: []Throughput{{Method: "fork", PerSec: 100}}, Detect: Detect{P50MS: 2}}
	cur := &Report{Throughput: []Throughput{{Method: "fork", PerSec: 150}, {Method: "fork", Executor: true, PerSec: 400}}, Detect: Detect{P50MS: 3}}
	out := Compare(old, cur)
	for _, want := range []string{
		"fork executions/s  100.00  150.00 /s  +50.0%  better",
		"fork +executor executions/s  -  400.00 /s  new",
		"deadlock detect p50  2.00  3.00 ms  +50.0%  worse",
	} {
		if !strings.Contains(squeeze(out), want) {
			t.Errorf("compare lacks %q:\n%s", want, out)
		}
	}
}

// squeeze collapses runs of spaces to two, so that tests do not depend on
// column widths.
func squeeze(s string) string {
	for strings.Contains(s, "   ") {
		s = strings.ReplaceAll(s, "   ", "  ")
	}
	return s
}
