package bench

import (
	"math"
	"slices"
	"testing"
)

func TestQuantile(t *testing.T) {
	oneToTen := []float64{10, 1, 9, 2, 8, 3, 7, 4, 6, 5} // unsorted on purpose
	tests := []struct {
		name string
		xs   []float64
		q    float64
		want float64
	}{
		{"median of odd count", []float64{5, 1, 3}, 0.5, 3},
		{"median of even count is the mean of the middle two", []float64{4, 1, 3, 2}, 0.5, 2.5},
		{"p90 of 1..10 interpolates", oneToTen, 0.9, 9.1},
		{"p99 of 1..10", oneToTen, 0.99, 9.91},
		{"min", oneToTen, 0, 1},
		{"max", oneToTen, 1, 10},
		{"q below 0 is the min", oneToTen, -1, 1},
		{"q above 1 is the max", oneToTen, 2, 10},
		{"single value", []float64{7}, 0.9, 7},
		{"ties", []float64{2, 2, 2, 9}, 0.5, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Quantile(tt.xs, tt.q); math.Abs(got-tt.want) > 1e-9 {
				t.Errorf("Quantile(%v, %v) = %v, want %v", tt.xs, tt.q, got, tt.want)
			}
		})
	}
}

func TestQuantileEmptyAndUnchanged(t *testing.T) {
	if got := Median(nil); !math.IsNaN(got) {
		t.Errorf("Median(nil) = %v, want NaN", got)
	}
	xs := []float64{3, 1, 2}
	orig := slices.Clone(xs)
	_ = P90(xs)
	if !slices.Equal(xs, orig) {
		t.Errorf("P90 reordered its input: %v", xs)
	}
	if got, want := Median(xs), 2.0; got != want {
		t.Errorf("Median = %v, want %v", got, want)
	}
}

func TestSummarize(t *testing.T) {
	s := Summarize([]float64{4, 1, 3, 2, 10})
	want := Summary{N: 5, Min: 1, Median: 3, P90: 7.6, P99: 9.76, Max: 10, Mean: 4}
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"Min", s.Min, want.Min}, {"Median", s.Median, want.Median}, {"P90", s.P90, want.P90},
		{"P99", s.P99, want.P99}, {"Max", s.Max, want.Max}, {"Mean", s.Mean, want.Mean},
	} {
		if math.Abs(c.got-c.want) > 1e-9 {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if s.N != 5 {
		t.Errorf("N = %d", s.N)
	}
	if (Summarize(nil) != Summary{}) {
		t.Error("Summarize(nil) is not zero")
	}
}

func TestRatio(t *testing.T) {
	if got := Ratio(3, 2); got != 1.5 {
		t.Errorf("Ratio(3, 2) = %v", got)
	}
	for _, b := range []float64{0, -1, math.NaN()} {
		if got := Ratio(1, b); !math.IsNaN(got) {
			t.Errorf("Ratio(1, %v) = %v, want NaN", b, got)
		}
	}
}
