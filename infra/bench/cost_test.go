package bench

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/etalase/etalase/infra/localrun/lambda"
)

func TestPriceLines(t *testing.T) {
	prices := []Price{
		{Key: "req", USD: 0.20, Unit: "1M requests", Per: 1e6},
		{Key: "gbs", USD: 0.0000133334, Unit: "GB-second", Per: 1},
		{Key: "wru", USD: 0.625, Unit: "1M WRU", Per: 1e6},
	}
	lines := []CostLine{
		{"Lambda", "requests", "social", "req", 2},
		{"Lambda", "GB-seconds", "commerce", "gbs", 0.05},
		{"DynamoDB", "WRU", "commerce", "wru", 36},
		{"DynamoDB", "WRU", "social", "wru", 0},
	}
	rows, err := PriceLines(lines, prices)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ perMillion, usd float64 }{
		{2e6, 0.40},       // 2M requests at $0.20/M
		{50_000, 0.66667}, // 50,000 GB-s at $0.0000133334
		{36e6, 22.50},     // 36M WRU at $0.625/M
		{0, 0},            // nothing used costs nothing
	}
	for i, w := range want {
		if math.Abs(rows[i].PerMillion-w.perMillion) > 1e-6 || math.Abs(rows[i].USD-w.usd) > 1e-5 {
			t.Errorf("row %d (%s %s): %v per 1M orders, $%v; want %v, $%v", i, rows[i].Service, rows[i].Item, rows[i].PerMillion, rows[i].USD, w.perMillion, w.usd)
		}
	}
	total, byAccount, byService := CostTotals(rows)
	if math.Abs(total-23.56667) > 1e-4 || math.Abs(byAccount["social"]-0.40) > 1e-9 || math.Abs(byService["DynamoDB"]-22.50) > 1e-9 {
		t.Errorf("totals %v, by account %v, by service %v", total, byAccount, byService)
	}
	if _, err := PriceLines([]CostLine{{"SQS", "x", "social", "nope", 1}}, prices); err == nil {
		t.Error("a line without a price was priced")
	}
}

// TestCostModelOf builds the model from a synthetic run of 10 orders and checks every
// line's arithmetic.
func TestCostModelOf(t *testing.T) {
	k := func(fn, svc, op, res string) CallKey {
		return CallKey{Function: fn, Service: svc, Operation: op, Resource: res}
	}
	run := &costRun{
		Orders: 10,
		Functions: map[string]costFunction{
			fnPromotion:               {Account: "social", MemoryMB: 256, HTTP: true},
			fnInbox:                   {Account: "social", MemoryMB: 256, Queue: "SocialInboxQueue"},
			fnCheckout:                {Account: "commerce", MemoryMB: 512, HTTP: true},
			fnWebhook:                 {Account: "commerce", MemoryMB: 256, HTTP: true},
			fnPayments:                {Account: "commerce", MemoryMB: 256, Queue: "PaymentEventsQueue"},
			fnRelay:                   {Account: "commerce", MemoryMB: 256},
			"CommerceCatalogFunction": {Account: "commerce", MemoryMB: 256, HTTP: true}, // idle: no line
		},
		Queues: map[string]costQueue{
			"SocialInboxQueue":   {Account: "social"},
			"PaymentEventsQueue": {Account: "commerce", FIFO: true},
			"ExpiryQueue":        {Account: "commerce"},
		},
		Pools: map[string]lambda.Stats{
			fnPromotion: {Invocations: 10, BilledDuration: 200 * time.Millisecond},
			fnInbox:     {Invocations: 8, BilledDuration: 400 * time.Millisecond},
			fnCheckout:  {Invocations: 10, BilledDuration: 1000 * time.Millisecond, ColdStarts: 1},
			fnWebhook:   {Invocations: 10, BilledDuration: 100 * time.Millisecond},
			fnPayments:  {Invocations: 10, BilledDuration: 300 * time.Millisecond},
			fnRelay:     {Invocations: 5, BilledDuration: 50 * time.Millisecond},
		},
		Calls: Snapshot{
			Calls: Counts{
				k(fnPromotion, ServiceDynamoDB, "UpdateItem", "p-promotions"):      {Requests: 10, WriteUnits: 30},
				k(fnInbox, ServiceDynamoDB, "TransactWriteItems", "p-commissions"): {Requests: 10, WriteUnits: 80},
				k(fnCheckout, ServiceDynamoDB, "GetItem", "p-cart"):                {Requests: 10, ReadUnits: 10},
				k(fnWebhook, ServiceSQS, "SendMessage", "p-payment-events.fifo"):   {Requests: 10, BilledRequests: 10},
				k(fnRelay, ServiceSQS, "SendMessageBatch", "p-social-inbox"):       {Requests: 6, BilledRequests: 6},
				k(fnRelay, ServiceSQS, "SendMessageBatch", "p-expiry"):             {Requests: 5, BilledRequests: 5},
				k(fnRelay, ServiceDynamoDB, "BatchGetItem", "p-catalog"):           {Requests: 5, ReadUnits: 5},
			},
			Overhead: map[string]time.Duration{fnCheckout: 200 * time.Millisecond},
		},
		name: func(p string) string {
			return map[string]string{"p-payment-events.fifo": "PaymentEventsQueue", "p-social-inbox": "SocialInboxQueue", "p-expiry": "ExpiryQueue"}[p]
		},
	}
	m := CostModelOf(run)
	got := map[string]float64{}
	for _, l := range m.Lines {
		got[l.Account+" "+l.Service+" "+l.Item] = l.PerOrder
	}
	gbs := func(ms float64, mb int) float64 { return ms / 1000 * float64(mb) / 1024 }
	want := map[string]float64{
		"social Lambda requests":                 1 + 0.8,
		"social Lambda GB-seconds (arm64)":       gbs(20, 256) + gbs(40, 256),
		"social API Gateway HTTP API requests":   1,
		"social DynamoDB read request units":     0,
		"social DynamoDB write request units":    3 + 8,
		"social SQS standard requests":           0.6 + 2*0.8, // the relay's sends to social's queue, the inbox's receives and deletes
		"social SQS FIFO requests":               0,
		"commerce Lambda requests":               1 + 1 + 1 + 0.5,
		"commerce Lambda GB-seconds (arm64)":     gbs(100-20, 512) + gbs(10, 256) + gbs(30, 256) + gbs(5, 256),
		"commerce API Gateway HTTP API requests": 2,
		"commerce DynamoDB read request units":   1 + 0.5,
		"commerce DynamoDB write request units":  0,
		"commerce SQS standard requests":         0.5,
		"commerce SQS FIFO requests":             1 + 2*1,
	}
	for name, w := range want {
		if g, ok := got[name]; !ok || math.Abs(g-w) > 1e-9 {
			t.Errorf("%s: %v per order, want %v", name, g, w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d lines, want %d", len(got), len(want))
	}
	for _, f := range m.Functions {
		if f.Function == "CommerceCatalogFunction" {
			t.Error("an idle function has a row")
		}
		if f.Function == fnCheckout && (f.NetMs != 80 || f.MeterMs != 20 || f.ColdStarts != 1) {
			t.Errorf("checkout: %+v, want 100 ms billed less 20 ms of proxy per order", f)
		}
	}
	// Unbatched: the relay once per record (3 per order, ran 0.5), the inbox once per
	// snapshot and sale (2, ran 0.8), with their queue requests and sends.
	run.Outbox = map[string]int{"OrderCreated": 10, "OrderStatusChanged": 10, "SaleAttributed": 10}
	extra := map[string]float64{}
	for _, l := range UnbatchedLines(run, m) {
		extra[l.Account+" "+l.Service+" "+l.Item] += l.PerOrder
	}
	wantExtra := map[string]float64{
		"commerce Lambda requests":           2.5,
		"commerce Lambda GB-seconds (arm64)": 2.5 * gbs(5, 256) / 0.5,
		"social Lambda requests":             1.2,
		"social Lambda GB-seconds (arm64)":   1.2 * gbs(40, 256) / 0.8,
		"social SQS standard requests":       2*1.2 + (2 - 0.6),
		"commerce SQS standard requests":     1 - 0.5,
	}
	for name, w := range wantExtra {
		if g := extra[name]; math.Abs(g-w) > 1e-9 {
			t.Errorf("unbatched %s: %v per order, want %v", name, g, w)
		}
	}
	if len(extra) != len(wantExtra) {
		t.Errorf("unbatched lines %v, want %d", extra, len(wantExtra))
	}

	rows, err := PriceLines(m.Lines, Prices)
	if err != nil {
		t.Fatal(err)
	}
	sec := CostSection(run, m, rows, false)
	md := (&Report{Title: "t", Sections: []*Section{sec}}).Markdown()
	for _, s := range []string{"per million paid orders", "If traffic were so low", "| HTTP API requests | commerce | 2 | 2,000,000 | $1.00 per 1M requests | $2.00 |", "unverified"} {
		if !strings.Contains(md, s) {
			t.Errorf("the section lacks %q:\n%s", s, md)
		}
	}
}

func TestPrices(t *testing.T) {
	keys := map[string]bool{}
	for _, p := range Prices {
		if p.USD <= 0 || p.Per <= 0 || p.Unit == "" || !strings.HasPrefix(p.Source, "https://") {
			t.Errorf("%s: incomplete %+v", p.Key, p)
		}
		if keys[p.Key] {
			t.Errorf("%s twice", p.Key)
		}
		keys[p.Key] = true
	}
	for _, k := range []string{PriceLambdaRequests, PriceLambdaArmGBs, PriceHTTPAPIRequests, PriceDynamoDBRRU, PriceDynamoDBWRU, PriceSQSStandard, PriceSQSFIFO} {
		if _, ok := PriceOf(k); !ok {
			t.Errorf("no price %s", k)
		}
	}
}
