package bench

import (
	"math"
	"strings"
	"testing"
)

func TestMinPerUnit(t *testing.T) {
	relay, ok := minimumOf("relay")
	if !ok {
		t.Fatal("no relay minimum")
	}
	// 2 OrderCreated (BatchGetItem + 2 sends each), 1 paid status change (nothing),
	// 1 SaleAttributed (1 send): 4 records.
	got := relay.MinPerUnit(map[string]int{"OrderCreated": 2, "OrderStatusChanged (paid)": 1, "SaleAttributed": 1})
	want := map[string]float64{
		"dynamodb BatchGetItem CatalogTable":    0.5,
		"sqs SendMessageBatch ExpiryQueue":      0.5,
		"sqs SendMessageBatch SocialInboxQueue": 0.75,
	}
	if len(got) != len(want) {
		t.Errorf("got %d request kinds, want %d: %v", len(got), len(want), got)
	}
	for k, c := range got {
		name := k.Service + " " + k.Operation + " " + k.Resource
		if w, ok := want[name]; !ok || math.Abs(c.Count-w) > 1e-9 {
			t.Errorf("%s: %v per record, want %v", name, c.Count, w)
		}
	}
	if c := got[CallKey{Service: ServiceSQS, Operation: "SendMessageBatch", Resource: "SocialInboxQueue"}]; !strings.Contains(c.Why, "snapshots") || !strings.Contains(c.Why, "sale") {
		t.Errorf("the social inbox send's reason %q should name both variants' reasons", c.Why)
	}
	if n := len(relay.MinPerUnit(nil)); n != 0 {
		t.Errorf("no units: %d request kinds", n)
	}
}

func TestCompareOp(t *testing.T) {
	mo := MinOp{ID: "x", Op: "X", Function: "F", Unit: "thing",
		Variants: []MinVariant{{Name: "thing", Calls: []MinCall{
			{ServiceDynamoDB, "GetItem", "T", 1, 1, 0, "read"},
			{ServiceDynamoDB, "TransactWriteItems", "T+U", 1, 0, 4, "write"},
			{ServiceSQS, "SendMessage", "Q", 1, 0, 0, "send"},
		}}},
		Beyond: map[string]string{"dynamodb Query T": "the same as the read"},
	}
	k := func(svc, op, res string) CallKey {
		return CallKey{Function: "F", Service: svc, Operation: op, Resource: res}
	}
	tests := []struct {
		name       string
		counts     Counts
		units      int
		wantExcess int
		want       PerUnit
	}{
		{"at the minimum", Counts{
			k(ServiceDynamoDB, "GetItem", "T"):              {Requests: 10, ReadUnits: 10, Reported: 10},
			k(ServiceDynamoDB, "TransactWriteItems", "T+U"): {Requests: 10, WriteUnits: 40, Computed: 10},
			k(ServiceSQS, "SendMessage", "Q"):               {Requests: 10},
		}, 10, 0, PerUnit{DynamoDB: 2, SQS: 1, RRU: 1, WRU: 4}},
		{"a retried read and a request the minimum lacks", Counts{
			k(ServiceDynamoDB, "GetItem", "T"):              {Requests: 12, ReadUnits: 12, Reported: 12},
			k(ServiceDynamoDB, "Query", "T"):                {Requests: 10, ReadUnits: 5, Reported: 10},
			k(ServiceDynamoDB, "TransactWriteItems", "T+U"): {Requests: 10, WriteUnits: 40, Computed: 10},
			k(ServiceSQS, "SendMessage", "Q"):               {Requests: 10},
		}, 10, 2, PerUnit{DynamoDB: 3.2, SQS: 1, RRU: 1.7, WRU: 4}},
		{"batched below the minimum is no excess", Counts{
			k(ServiceSQS, "SendMessage", "Q"): {Requests: 3},
		}, 10, 0, PerUnit{SQS: 0.3}},
		{"within the tolerance", Counts{
			k(ServiceDynamoDB, "GetItem", "T"):              {Requests: 101},
			k(ServiceDynamoDB, "TransactWriteItems", "T+U"): {Requests: 100},
			k(ServiceSQS, "SendMessage", "Q"):               {Requests: 100},
		}, 100, 0, PerUnit{DynamoDB: 2.01, SQS: 1}},
	}
	for _, tt := range tests {
		r := CompareOp(mo, tt.counts, tt.units, map[string]int{"thing": tt.units})
		if len(r.Excess) != tt.wantExcess {
			t.Errorf("%s: excess %v, want %d", tt.name, r.Excess, tt.wantExcess)
		}
		approx := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
		if !approx(r.Measured.DynamoDB, tt.want.DynamoDB) || !approx(r.Measured.SQS, tt.want.SQS) || !approx(r.Measured.RRU, tt.want.RRU) || !approx(r.Measured.WRU, tt.want.WRU) {
			t.Errorf("%s: measured %+v, want %+v", tt.name, r.Measured, tt.want)
		}
		if (r.Minimum != PerUnit{DynamoDB: 2, SQS: 1, RRU: 1, WRU: 4}) {
			t.Errorf("%s: minimum %+v", tt.name, r.Minimum)
		}
		for _, c := range r.Calls {
			if c.Operation == "Query" && !strings.HasPrefix(c.Why, "not needed: the same") {
				t.Errorf("%s: the extra request's reason is %q", tt.name, c.Why)
			}
			if c.Operation == "TransactWriteItems" && c.Measured > 0 && c.Units != "computed" && tt.counts[k(ServiceDynamoDB, "TransactWriteItems", "T+U")].Computed > 0 {
				t.Errorf("%s: transaction units %q, want computed", tt.name, c.Units)
			}
		}
	}
}

// TestDesignMinimums checks the minimum table's arithmetic: each call's units agree
// with its reason's item count, and every operation has a function and a unit.
func TestDesignMinimums(t *testing.T) {
	seen := map[string]bool{}
	for _, mo := range designMinimums {
		if seen[mo.ID] || mo.Function == "" || mo.Unit == "" || mo.Reason == "" || len(mo.Variants) == 0 {
			t.Errorf("%s: duplicate or incomplete", mo.ID)
		}
		seen[mo.ID] = true
		for _, v := range mo.Variants {
			for _, c := range v.Calls {
				if c.Count <= 0 || c.Why == "" {
					t.Errorf("%s/%s: %s %s needs a count and a reason", mo.ID, v.Name, c.Operation, c.Resource)
				}
				isRead := map[string]bool{"GetItem": true, "BatchGetItem": true, "Query": true}[c.Operation]
				if c.Service == ServiceDynamoDB && isRead != (c.RRU > 0) || c.Service == ServiceDynamoDB && !isRead != (c.WRU > 0) {
					t.Errorf("%s: %s %s has RRU %v, WRU %v", mo.ID, c.Operation, c.Resource, c.RRU, c.WRU)
				}
				if c.Operation == "TransactWriteItems" {
					items := len(strings.Split(c.Resource, "+"))
					if c.WRU < 2*float64(items) {
						t.Errorf("%s: a transaction of %d tables' items costs at least %d WRU, not %v", mo.ID, items, 2*items, c.WRU)
					}
				}
			}
		}
	}
	for _, id := range []string{"handoff", "add-to-cart", "checkout", "webhook", "payment-apply", "expiry", "expiry-noop", "relay", "inbox"} {
		if !seen[id] {
			t.Errorf("no minimum for %s", id)
		}
	}
}

func TestFormatting(t *testing.T) {
	for _, tt := range []struct {
		got, want string
	}{
		{fmtPer(2), "2"}, {fmtPer(0.245), "0.24"}, {fmtPer(math.NaN()), "–"},
		{fmtQty(0), "0"}, {fmtQty(0.0125), "0.013"}, {fmtQty(1.5), "1.5"}, {fmtQty(36.04), "36.0"}, {fmtQty(12992.4), "12,992"},
		{fmtQty(36000000), "36,000,000"}, {fmtQty(0.004), "0.004"},
		{fmtUSD(44.414), "$44.41"}, {fmtUSD(1234.5), "$1,234.50"}, {fmtUSD(0.5), "$0.50"}, {fmtUSD(0), "$0"}, {fmtUSD(0.0012), "$0.0012"},
		{fmtPrice(0.0000133334), "$0.0000133334"}, {fmtPrice(0.125), "$0.125"}, {fmtPrice(0.2), "$0.20"}, {fmtPrice(1), "$1.00"},
		{shortID("CommercePaymentWebhookFunction"), "commerce/paymentwebhook"}, {shortID("SocialInboxFunction"), "social/inbox"},
		{unitsOf("add", 2), "adds"}, {unitsOf("add", 1), "add"}, {unitsOf("outbox record", 3), "outbox records"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}
