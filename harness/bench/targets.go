package bench

import "fmt"

// Target statuses.
const (
	Pass = "PASS"
	Miss = "MISS"
	NA   = "N/A" // not measured: a figure it needs is missing
)

// Target is one speed goal and whether this run met it.
type Target struct {
	Name   string  `json:"name"`
	Want   string  `json:"want"`
	Got    string  `json:"got"`
	Status string  `json:"status"`
	Value  float64 `json:"value"` // the figure judged (0 when N/A)
}

// The goals of issue 6.
const (
	TargetForkPerSec   = 300.0 // fork-method executions/s with the executor
	TargetSpawnRatio   = 1.25  // spawn case time / spawn floor, at most
	TargetDetectP50MS  = 10.0
	TargetDetectP95MS  = 50.0
	TargetNaiveSpeedup = 100.0 // naive time / forkfuzz time on deadlocking cases, at least
)

// Judge sets r.Targets from r's figures.
func Judge(r *Report) {
	r.Targets = nil
	add := func(name, want string, value float64, known, ok bool, got string) {
		t := Target{Name: name, Want: want, Got: got, Value: value, Status: Miss}
		switch {
		case !known:
			t.Status, t.Value = NA, 0
		case ok:
			t.Status = Pass
		}
		r.Targets = append(r.Targets, t)
	}

	fork := r.throughput("fork", true)
	got := "executor not available"
	if fork != nil {
		got = fmt.Sprintf("%.0f/s", fork.PerSec)
	} else if plain := r.throughput("fork", false); plain != nil {
		got += fmt.Sprintf(" (without it: %.0f/s)", plain.PerSec)
	}
	perSec := 0.0
	if fork != nil {
		perSec = fork.PerSec
	}
	add("fork executions/s with the executor", fmt.Sprintf(">= %.0f/s", TargetForkPerSec),
		perSec, fork != nil && perSec > 0, perSec >= TargetForkPerSec, got)

	sr := r.Ratios.SpawnOverFloor
	add("spawn case time / spawn floor", fmt.Sprintf("<= %.2fx", TargetSpawnRatio),
		sr, sr > 0, sr <= TargetSpawnRatio, fmt.Sprintf("%.2fx (%.0f ms / %.0f ms)", sr, r.SpawnCaseMS, r.Floors.SpawnMS))

	d := r.Detect
	add("deadlock verdict latency p50 / p95", fmt.Sprintf("<= %.0f ms / <= %.0f ms", TargetDetectP50MS, TargetDetectP95MS),
		d.P50MS, d.Samples > 0, d.P50MS <= TargetDetectP50MS && d.P95MS <= TargetDetectP95MS,
		fmt.Sprintf("%.2f ms / %.2f ms (%d deadlocks)", d.P50MS, d.P95MS, d.Samples))

	sp := r.Ratios.NaiveOverForkfuzz
	add("faster than a 5 s timeout on deadlocking cases", fmt.Sprintf(">= %.0fx", TargetNaiveSpeedup),
		sp, sp > 0, sp >= TargetNaiveSpeedup, fmt.Sprintf("%.0fx (%.0f ms vs %.0f ms)", sp, r.Detect.ElapsedP50MS, r.Naive.ElapsedP50MS))
}

// throughput returns the measurement of a method with or without the
// executor, or nil.
func (r *Report) throughput(method string, executor bool) *Throughput {
	for i := range r.Throughput {
		if t := &r.Throughput[i]; t.Method == method && t.Executor == executor {
			return t
		}
	}
	return nil
}

// computeRatios fills r.Ratios from the figures.
func computeRatios(r *Report) {
	r.Ratios.NaiveOverForkfuzz = ratio(r.Naive.ElapsedP50MS, r.Detect.ElapsedP50MS)
	r.Ratios.SpawnOverFloor = ratio(r.SpawnCaseMS, r.Floors.SpawnMS)
	best := r.throughput("fork", true)
	if best == nil {
		best = r.throughput("fork", false)
	}
	if best != nil {
		r.Ratios.ForkOverFloor = ratio(best.PerSec, r.Floors.ForkPerSec)
	}
}
