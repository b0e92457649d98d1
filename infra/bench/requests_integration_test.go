package bench

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/etalase/etalase/infra/localrun/localtest"
	"github.com/etalase/etalase/infra/testenv"
)

// TestRequestsAndCostStages runs the requests and cost stages with quick counts
// against the emulators: a metered runner of the real template, real function
// processes. It checks what was counted, never how long anything took.
func TestRequestsAndCostStages(t *testing.T) {
	dynamo, sqs := testenv.Endpoints(t)
	root := localtest.Root()
	log := &lockedWriter{w: &strings.Builder{}}
	env := &Env{
		Root: root, Template: filepath.Join(root, "template.yaml"), Quick: true,
		DynamoDBEndpoint: dynamo, SQSEndpoint: sqs, Prefix: testenv.Prefix(t),
		WorkDir: t.TempDir(), Log: log,
	}
	// A longer payment window than the benchmark's: under make test's load a payment
	// may take seconds to apply, and an order expired first would never be PAID.
	defer func(w time.Duration) { MeteredWindow = w }(MeteredWindow)
	MeteredWindow = 10 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	defer env.runDeferred()
	defer func() {
		if t.Failed() {
			log.mu.Lock()
			out := log.w.(*strings.Builder).String()
			log.mu.Unlock()
			t.Logf("function log (last 4000 bytes):\n%s", out[max(0, len(out)-4000):])
		}
	}()

	secs, err := RequestsStage(ctx, env)
	if err != nil {
		t.Fatalf("requests stage: %v", err)
	}
	if len(secs) != 1 || secs[0].ID != "requests" {
		t.Fatalf("requests stage returned %d sections", len(secs))
	}
	data := secs[0].Data.(map[string]any)
	results := data["operations"].([]OpResult)
	byID := map[string]OpResult{}
	for _, r := range results {
		byID[r.ID] = r
	}
	// The single-item operations ran on every unit: at least their minimum of each
	// request kind (the meter lost nothing), and their DynamoDB units counted.
	for _, id := range []string{"handoff", "add-to-cart", "checkout", "webhook", "payment-apply", "expiry", "expiry-noop"} {
		r, ok := byID[id]
		if !ok {
			t.Errorf("no result for %s", id)
			continue
		}
		if r.Units == 0 {
			t.Errorf("%s: no units of work", id)
		}
		for _, c := range r.Calls {
			if c.Measured < c.Minimum-excessTolerance {
				t.Errorf("%s: %s %s %s measured %.2f per %s, below its minimum %.2f", id, c.Service, c.Operation, c.Resource, c.Measured, r.Unit, c.Minimum)
			}
			if c.Service == ServiceDynamoDB && c.Measured > 0 && c.RRU+c.WRU == 0 {
				t.Errorf("%s: %s %s has no capacity units", id, c.Operation, c.Resource)
			}
		}
	}
	for _, id := range []string{"relay", "inbox"} {
		if r := byID[id]; r.Units == 0 || r.Measured.DynamoDB+r.Measured.SQS == 0 {
			t.Errorf("%s: %+v, want units and requests", id, r)
		}
	}
	if c := byID["checkout"]; c.Measured.WRU < c.Minimum.WRU-0.5 {
		t.Errorf("checkout: %.1f WRU per checkout, the transactions alone make %.1f", c.Measured.WRU, c.Minimum.WRU)
	}

	secs, err = CostStage(ctx, env)
	if err != nil {
		t.Fatalf("cost stage: %v", err)
	}
	cd := secs[0].Data.(map[string]any)
	model := cd["model"].(CostModel)
	lines := map[string]float64{}
	for _, l := range model.Lines {
		lines[l.Account+" "+l.Service+" "+l.Item] = l.PerOrder
	}
	// The buyer model is one social request (the hand-off) and six commerce ones (add,
	// cart, checkout, two order reads, the provider's notification).
	if lines["social API Gateway HTTP API requests"] != 1 || lines["commerce API Gateway HTTP API requests"] != 6 {
		t.Errorf("HTTP API requests per order: %v, want 1 social and 6 commerce", lines)
	}
	for _, name := range []string{"commerce Lambda requests", "commerce Lambda GB-seconds (arm64)", "commerce DynamoDB write request units",
		"social DynamoDB write request units", "commerce SQS FIFO requests", "social SQS standard requests"} {
		if lines[name] <= 0 {
			t.Errorf("%s: %v per order, want some", name, lines[name])
		}
	}
	if total := cd["totalUsd"].(float64); total <= 0 || math.IsNaN(total) {
		t.Errorf("total $%v", total)
	}
	md := (&Report{Title: "t", Sections: secs}).Markdown()
	if !strings.Contains(md, "per million paid orders") || !strings.Contains(md, "unverified") {
		t.Errorf("cost section:\n%s", md)
	}
}
