package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/etalase/etalase/infra/localrun"
	"github.com/etalase/etalase/infra/localrun/localtest"
	"github.com/etalase/etalase/infra/testenv"
)

// TestLatencyStage runs the latency stage with quick counts against the emulators and
// the real template: every route is measured at every level, with the state it needs
// (no errors), after a warm-up (no cold start, no throttle). It checks what was
// measured, never how long it took.
func TestLatencyStage(t *testing.T) {
	r, log := localtest.StartWith(t, localrun.Options{DefaultConcurrency: RunnerConcurrency})
	dynamo, sqs := testenv.Endpoints(t)
	root := localtest.Root()
	var progress strings.Builder
	env := &Env{
		Root: root, Template: filepath.Join(root, "template.yaml"), Runner: r, Quick: true,
		DynamoDBEndpoint: dynamo, SQSEndpoint: sqs, Prefix: testenv.Prefix(t),
		WorkDir: t.TempDir(), Log: log, progress: &lockedWriter{w: &progress}, start: time.Now(),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	secs, err := LatencyStage(ctx, env)
	t.Logf("progress:\n%s", progress.String())
	if err != nil {
		t.Fatal(err)
	}
	if len(secs) != 1 || secs[0].ID != "latency" {
		t.Fatalf("sections %v, want one: latency", secs)
	}
	md := (&Report{Title: "t", Sections: secs}).Markdown()
	if testing.Verbose() {
		t.Logf("section:\n%s", md)
	}
	data, ok := secs[0].Data.(map[string]any)
	if !ok {
		t.Fatalf("data %T", secs[0].Data)
	}
	results, _ := data["results"].([]*LatencyResult)
	n := latencyCountsFor(env).N
	ops := len(r.Routes) + len(latencyReferenceOps())
	if want := ops * len(LatencyLevels); len(results) != want {
		t.Fatalf("%d results, want %d: %d routes and references at %v clients", len(results), want, ops, LatencyLevels)
	}
	seen := map[string]int{}
	for _, res := range results {
		seen[res.Route]++
		where := fmt.Sprintf("%s at %d clients", res.Route, res.Clients)
		switch {
		case !res.Measured:
			t.Errorf("%s: not measured (%s)", where, res.Note)
			continue
		case res.Latency.N != n || res.Baseline.N != n:
			t.Errorf("%s: %d requests and %d baseline calls measured, want %d each (%s)", where, res.Latency.N, res.Baseline.N, n, res.Note)
		case res.Errors > 0 || res.BaselineErrors > 0:
			t.Errorf("%s: errors %v, %d baseline calls failed: every request must have the state it needs", where, res.ErrorCodes, res.BaselineErrors)
		case res.ColdStarts > 0 || res.Throttles > 0:
			t.Errorf("%s: %d cold starts, %d throttles during the measurement: the warm-up must prevent them", where, res.ColdStarts, res.Throttles)
		}
		want := []string{VerdictPass, VerdictMiss}
		if res.Reference {
			want = []string{VerdictReference}
		}
		if !slices.Contains(want, res.Verdict) {
			t.Errorf("%s: verdict %s, want one of %v", where, res.Verdict, want)
		}
		if !res.Reference && res.Function != "" && res.Processes < res.InFlight {
			t.Errorf("%s: %d processes when the measurement began, want at least the clients", where, res.Processes)
		}
	}
	for _, rt := range r.Routes {
		if k := latencyRouteKey(rt); seen[k] != len(LatencyLevels) {
			t.Errorf("route %s has %d results, want one per level", k, seen[k])
		}
	}
	// The chained operations ran on the state the previous one left: all orders placed
	// were notified, all pending ones cancelled.
	if !strings.Contains(md, "| cancel order |") || !strings.Contains(md, "| Xendit callback |") {
		t.Errorf("the section lacks the chained operations:\n%s", md)
	}
}
