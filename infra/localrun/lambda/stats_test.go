package lambda

import (
	"context"
	"testing"
	"time"
)

// counts is s without the duration sums, which vary from run to run.
func counts(s Stats) Stats {
	s.BilledDuration, s.Duration, s.InitDuration = 0, 0, 0
	return s
}

// TestStatsSumReports checks that Stats adds up the REPORT figures of every ended
// invocation, cold, warm and failed, as the benchmark's cost model reads them.
func TestStatsSumReports(t *testing.T) {
	p, _ := newTestPool(t, "handlererror", nil)
	ctx := context.Background()
	var want Stats
	for i := range 3 {
		res, err := p.InvokeDetailed(ctx, []byte(`{}`))
		if err == nil {
			t.Fatalf("invoke %d: the handler's error was not returned", i)
		}
		if res.BilledDuration <= 0 || res.BilledDuration < res.Duration+res.InitDuration {
			t.Fatalf("invoke %d: billed %v for %v + init %v", i, res.BilledDuration, res.Duration, res.InitDuration)
		}
		want.Reported++
		want.BilledDuration += res.BilledDuration
		want.Duration += res.Duration
		want.InitDuration += res.InitDuration
	}
	got := p.Stats()
	if got.Reported != want.Reported || got.BilledDuration != want.BilledDuration || got.Duration != want.Duration || got.InitDuration != want.InitDuration {
		t.Errorf("Stats %+v, want the sums of the results: %+v", got, want)
	}
	if got.InitDuration <= 0 || got.BilledDuration%time.Millisecond != 0 {
		t.Errorf("Stats %+v: want the cold start's init and whole billed milliseconds", got)
	}
}
