package bench

import (
	"math"
	"slices"
)

// Quantile is the nearest-rank quantile of xs (q in [0, 1]): the value at
// index q*(n-1) of the sorted samples, as harness/run's benchmarks report
// it; 0 for no samples.
func Quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	i := int(math.Round(q * float64(len(s)-1)))
	return s[max(0, min(i, len(s)-1))]
}

// Median is Quantile(xs, 0.5).
func Median(xs []float64) float64 { return Quantile(xs, 0.5) }

// ratio is a/b, or 0 when either is unknown (zero): a figure never becomes
// infinite because a measurement was skipped.
func ratio(a, b float64) float64 {
	if a == 0 || b == 0 {
		return 0
	}
	return a / b
}
