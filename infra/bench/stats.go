package bench

import (
	"math"
	"slices"
	"time"
)

// Quantile returns the q-quantile (0 <= q <= 1) of xs by linear interpolation between
// the closest ranks (the "type 7" estimator of R and NumPy's default): the median of an
// even count is the mean of the two middle values, and p90 of 1..10 is 9.1. It returns
// NaN for an empty slice and does not change xs.
func Quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 || math.IsNaN(q) {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	q = min(max(q, 0), 1)
	pos := q * float64(len(s)-1)
	lo := int(math.Floor(pos))
	hi := int(math.Ceil(pos))
	return s[lo] + (s[hi]-s[lo])*(pos-float64(lo))
}

// Median is Quantile(xs, 0.5).
func Median(xs []float64) float64 { return Quantile(xs, 0.5) }

// P90 is Quantile(xs, 0.9).
func P90(xs []float64) float64 { return Quantile(xs, 0.9) }

// Summary describes a sample of measurements in one unit (the caller's: milliseconds
// for durations here).
type Summary struct {
	N      int     `json:"n"`
	Min    float64 `json:"min"`
	Median float64 `json:"median"`
	P90    float64 `json:"p90"`
	P99    float64 `json:"p99"`
	Max    float64 `json:"max"`
	Mean   float64 `json:"mean"`
}

// Summarize returns the summary of xs; all fields are zero for an empty slice.
func Summarize(xs []float64) Summary {
	if len(xs) == 0 {
		return Summary{}
	}
	sum := 0.0
	for _, x := range xs {
		sum += x
	}
	return Summary{
		N:      len(xs),
		Min:    slices.Min(xs),
		Median: Median(xs),
		P90:    P90(xs),
		P99:    Quantile(xs, 0.99),
		Max:    slices.Max(xs),
		Mean:   sum / float64(len(xs)),
	}
}

// Ratio returns a/b, or NaN when b is not a positive number.
func Ratio(a, b float64) float64 {
	if !(b > 0) {
		return math.NaN()
	}
	return a / b
}

// Millis converts a duration to (fractional) milliseconds.
func Millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// millisOf converts each duration to milliseconds.
func millisOf(ds []time.Duration) []float64 {
	out := make([]float64, len(ds))
	for i, d := range ds {
		out[i] = Millis(d)
	}
	return out
}
