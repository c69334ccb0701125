package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"text/tabwriter"
)

// Figure is one named number of a report, for tables and comparisons.
type Figure struct {
	Name   string
	Value  float64
	Unit   string
	Higher bool // higher is better
}

// Figures lists the report's numbers in a fixed order, named stably so that
// two reports can be compared by name.
func (r *Report) Figures() []Figure {
	var fs []Figure
	for _, t := range r.Throughput {
		name := t.Method
		if t.Executor {
			name += " +executor"
		}
		fs = append(fs, Figure{name + " executions/s", t.PerSec, "/s", true})
	}
	return append(fs,
		Figure{"deadlock detect p50", r.Detect.P50MS, "ms", false},
		Figure{"deadlock detect p95", r.Detect.P95MS, "ms", false},
		Figure{"deadlocking case run time p50", r.Detect.ElapsedP50MS, "ms", false},
		Figure{"naive (plain timeout) run time p50", r.Naive.ElapsedP50MS, "ms", false},
		Figure{"floor: bare forks/s", r.Floors.ForkPerSec, "/s", true},
		Figure{"floor: python -c pass", r.Floors.StartMS, "ms", false},
		Figure{"floor: python -c 'import multiprocessing'", r.Floors.MPStartMS, "ms", false},
		Figure{"floor: spawn round trip", r.Floors.SpawnMS, "ms", false},
		Figure{"spawn case run time p50", r.SpawnCaseMS, "ms", false},
		Figure{"naive / forkfuzz on deadlocks", r.Ratios.NaiveOverForkfuzz, "x", true},
		Figure{"spawn case / spawn floor", r.Ratios.SpawnOverFloor, "x", false},
		Figure{"fork executions/s / bare forks/s", r.Ratios.ForkOverFloor, "x", true},
	)
}

// Text is the report for a person: the figures side by side, then targets.
func (r *Report) Text() string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "forkfuzz bench: Python %s (%s), %d CPUs, %d jobs, %gs per measurement, %s\n",
		r.PythonVersion, r.Python, r.CPUs, r.Jobs, r.DurationS, r.When.Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "executor: %s\n\n", r.Executor)
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "method\texecutor\tcases\texecutions\texec/s\trun p50 ms\tunexpected")
	for _, t := range r.Throughput {
		ex := "no"
		if t.Executor {
			ex = "yes"
		}
		fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%.1f\t%.1f\t%d\n", t.Method, ex, t.Cases, t.Executions, t.PerSec, t.RunP50MS, t.Unexpected)
	}
	w.Flush()
	fmt.Fprintf(&b, "\ndeadlock verdict latency (block to proof, %d deadlocks in parallel): p50 %.2f ms, p95 %.2f ms, max %.2f ms\n",
		r.Detect.Samples, r.Detect.P50MS, r.Detect.P95MS, r.Detect.MaxMS)
	fmt.Fprintf(&b, "deadlocking case, start to verdict: forkfuzz p50 %.0f ms; naive (%gs timeout, %d runs, %d timed out) p50 %.0f ms\n",
		r.Detect.ElapsedP50MS, r.Naive.TimeoutS, r.Naive.Runs, r.Naive.TimedOut, r.Naive.ElapsedP50MS)
	fmt.Fprintf(&b, "floors: %.0f bare forks/s (one loop); python -c pass %.1f ms; -c 'import multiprocessing' %.1f ms; spawn round trip %.1f ms\n",
		r.Floors.ForkPerSec, r.Floors.StartMS, r.Floors.MPStartMS, r.Floors.SpawnMS)
	fmt.Fprintf(&b, "spawn case (one child, one at a time, %d runs): p50 %.1f ms\n", r.SpawnCases, r.SpawnCaseMS)
	fmt.Fprintf(&b, "ratios: naive/forkfuzz %.0fx; spawn case/floor %.2fx; fork exec/s / bare forks/s %.3f\n\n",
		r.Ratios.NaiveOverForkfuzz, r.Ratios.SpawnOverFloor, r.Ratios.ForkOverFloor)
	w = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "target\twant\tgot\tstatus")
	for _, t := range r.Targets {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", t.Name, t.Want, t.Got, t.Status)
	}
	w.Flush()
	return b.String()
}

// Compare prints, per figure in both reports, the old value, the new one and
// the change, marking a change for the better or the worse.
func Compare(old, cur *Report) string {
	prev := map[string]float64{}
	for _, f := range old.Figures() {
		prev[f.Name] = f.Value
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "compared with %s (Python %s, %d jobs):\n", old.When.Format("2006-01-02 15:04 UTC"), old.PythonVersion, old.Jobs)
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "figure\told\tnew\tchange\t")
	for _, f := range cur.Figures() {
		o, ok := prev[f.Name]
		if !ok {
			fmt.Fprintf(w, "%s\t-\t%.2f %s\tnew\t\n", f.Name, f.Value, f.Unit)
			continue
		}
		fmt.Fprintf(w, "%s\t%.2f\t%.2f %s\t%s\t%s\n", f.Name, o, f.Value, f.Unit, change(o, f.Value), verdict(o, f.Value, f.Higher))
	}
	w.Flush()
	return b.String()
}

func change(old, cur float64) string {
	if old == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%+.1f%%", 100*(cur-old)/old)
}

// verdict calls a change of more than 5% better or worse.
func verdict(old, cur float64, higher bool) string {
	if old == 0 || math.Abs(cur-old)/old <= 0.05 {
		return ""
	}
	if (cur > old) == higher {
		return "better"
	}
	return "worse"
}

// ReadFile reads a report written by WriteFile (or -o).
func ReadFile(path string) (*Report, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read bench report: %w", err)
	}
	var r Report
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("read bench report %s: %w", path, err)
	}
	return &r, nil
}

// JSON is the report as indented JSON.
func (r *Report) JSON() ([]byte, error) {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("bench report: %w", err)
	}
	return append(data, '\n'), nil
}
