package bench

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/etalase/etalase/infra/fuzzhttp"
	"github.com/etalase/etalase/infra/localrun"
	"github.com/etalase/etalase/infra/localrun/gateway"
	"github.com/etalase/etalase/infra/localrun/localtest"
	"github.com/etalase/etalase/infra/samtemplate"
	"github.com/etalase/etalase/shared/commerce/payment/midtrans"
	"github.com/etalase/etalase/shared/commerce/payment/xendit"
)

// latencyTemplateRoutes returns every HttpApi route of template.yaml (both sides):
// route key → function and route.
func latencyTemplateRoutes(t *testing.T) (map[string]string, map[string]fuzzhttp.Route) {
	t.Helper()
	tpl, err := samtemplate.Load(localtest.Root() + "/template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fns, routes := map[string]string{}, map[string]fuzzhttp.Route{}
	for _, id := range tpl.ResourceIDs(samtemplate.TypeFunction) {
		fn, err := tpl.Function(id)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range fuzzhttp.EventRoutes(fn) {
			fns[r.Key], routes[r.Key] = id, r
		}
	}
	if len(routes) == 0 {
		t.Fatal("template.yaml has no HttpApi route")
	}
	return fns, routes
}

// TestLatencyDriversCoverEveryRoute needs no emulators: every route of the template
// has a latency driver (a new route must get one before it ships), every driver a
// route, and the drivers agree with their routes.
func TestLatencyDriversCoverEveryRoute(t *testing.T) {
	fns, routes := latencyTemplateRoutes(t)
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range routes {
			if !yield(k) {
				return
			}
		}
	})
	for _, key := range keys {
		if latencyDrivers[key] == nil {
			t.Errorf("route %s (%s) has no latency driver: add one to latencyDrivers (infra/bench/latency_drivers.go) "+
				"with the state its requests need", key, fns[key])
		}
	}
	names := map[string]string{}
	for key, d := range latencyDrivers {
		r, ok := routes[key]
		if !ok {
			t.Errorf("latencyDrivers has %s, which is no route of template.yaml: remove it", key)
			continue
		}
		if d.name == "" || d.prepare == nil {
			t.Errorf("%s: the driver needs a name and a prepare function", key)
		}
		if prev, dup := names[d.name]; dup {
			t.Errorf("%s and %s are both named %q", prev, key, d.name)
		}
		names[d.name] = key
		// The payment webhooks are the routes without a JWT under /webhooks/.
		isHook := strings.Contains(key, "/webhooks/") && r.Authorizer == ""
		if d.webhook != isHook {
			t.Errorf("%s: webhook = %v, want %v", key, d.webhook, isHook)
		}
		if d.order == 0 {
			t.Errorf("%s: the driver has no order", key)
		}
		if latencyReferences[key] != nil {
			t.Errorf("%s is both a route and a reference", key)
		}
	}
	// Every function behind a route can be warmed up.
	byFn := map[string][]string{}
	for key, fn := range fns {
		byFn[fn] = append(byFn[fn], key)
	}
	for fn, keys := range byFn {
		if latencyWarmOf(keys) == nil {
			t.Errorf("%s has no route whose driver has a warm request: give one a read that changes nothing", fn)
		}
	}
	// An operation that takes another's state comes after it.
	for _, c := range []struct{ before, after string }{
		{"POST /commerce/v1/cart/merge", "POST /commerce/v1/checkout"},
		{"POST /commerce/v1/checkout", "POST /commerce/v1/webhooks/midtrans"},
		{"POST /commerce/v1/checkout", "POST /commerce/v1/webhooks/xendit"},
		{"POST /commerce/v1/webhooks/midtrans", "POST /commerce/v1/orders/{orderId}/cancel"},
	} {
		if b, a := latencyDrivers[c.before], latencyDrivers[c.after]; b == nil || a == nil || b.order >= a.order {
			t.Errorf("%s must be measured before %s, which takes the state it leaves", c.before, c.after)
		}
	}
}

// TestLatencyOps: the operations come from the runner's routes, in measuring order; a
// route without a driver is listed, not measured.
func TestLatencyOps(t *testing.T) {
	r := &localrun.Runner{
		Functions: map[string]*localrun.Function{
			"CommerceCheckoutFunction": {Account: "commerce"},
			"CommerceCartFunction":     {Account: "commerce"},
			"SocialPromotionFunction":  {Account: "social"},
		},
		Routes: []gateway.Route{
			{FunctionID: "CommerceCheckoutFunction", Method: "POST", Path: "/commerce/v1/checkout"},
			{FunctionID: "SocialPromotionFunction", Method: "GET", Path: "/social/v1/feed"},
			{FunctionID: "CommerceCartFunction", Method: "post", Path: "/commerce/v1/cart/merge"},
			{FunctionID: "CommerceCartFunction", Method: "GET", Path: "/commerce/v1/cart/new-route"},
		},
	}
	ops := LatencyOps(r)
	var got []string
	for _, op := range ops {
		got = append(got, op.Route)
	}
	want := []string{"GET /social/v1/feed", "POST /commerce/v1/cart/merge", "POST /commerce/v1/checkout", "GET /commerce/v1/cart/new-route"}
	if !slices.Equal(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
	feed, merge, newRoute := ops[0], ops[1], ops[3]
	if !feed.Measured || feed.Kind != LatencyRead || feed.Account != "social" || feed.Name != "feed" {
		t.Errorf("feed: %+v", feed)
	}
	if merge.Kind != LatencyWrite || merge.Function != "CommerceCartFunction" {
		t.Errorf("merge: %+v", merge)
	}
	if newRoute.Measured || newRoute.Name != "" {
		t.Errorf("a route without a driver: %+v, want not measured", newRoute)
	}
}

func TestLatencyKind(t *testing.T) {
	for _, c := range []struct{ method, want string }{
		{"GET", LatencyRead}, {"get", LatencyRead}, {"POST", LatencyWrite}, {"PUT", LatencyWrite},
		{"PATCH", LatencyWrite}, {"DELETE", LatencyWrite}, {"ANY", LatencyWrite},
	} {
		if got := latencyKind(c.method); got != c.want {
			t.Errorf("latencyKind(%s) = %s, want %s", c.method, got, c.want)
		}
	}
}

func TestLatencyVerdict(t *testing.T) {
	nan := Float(math.NaN())
	for _, c := range []struct {
		name string
		r    LatencyResult
		want string
	}{
		{"within 3×", LatencyResult{LatencyOp: LatencyOp{Measured: true}, Latency: Summary{N: 200, P99: 29}, P99Ratio: 2.9}, VerdictPass},
		{"exactly 3×", LatencyResult{LatencyOp: LatencyOp{Measured: true}, Latency: Summary{N: 200, P99: 30}, P99Ratio: 3}, VerdictPass},
		{"over 3×", LatencyResult{LatencyOp: LatencyOp{Measured: true}, Latency: Summary{N: 200, P99: 31}, P99Ratio: 3.01}, VerdictMiss},
		{"p50 does not count", LatencyResult{LatencyOp: LatencyOp{Measured: true}, Latency: Summary{N: 200}, P50Ratio: 9, P99Ratio: 1}, VerdictPass},
		{"no baseline", LatencyResult{LatencyOp: LatencyOp{Measured: true}, Latency: Summary{N: 200, P99: 5}, P99Ratio: nan}, VerdictError},
		{"errors are flagged, not judged", LatencyResult{LatencyOp: LatencyOp{Measured: true}, Latency: Summary{N: 190, P99: 5}, P99Ratio: 1, Errors: 10}, VerdictPass},
		{"every request failed", LatencyResult{LatencyOp: LatencyOp{Measured: true}, Errors: 200, P99Ratio: nan}, VerdictError},
		{"webhook under 1 s", LatencyResult{LatencyOp: LatencyOp{Measured: true, Webhook: true}, Latency: Summary{N: 200, P99: 999}, P99Ratio: 50}, VerdictPass},
		{"webhook at 1 s", LatencyResult{LatencyOp: LatencyOp{Measured: true, Webhook: true}, Latency: Summary{N: 200, P99: 1000}, P99Ratio: 1}, VerdictMiss},
		{"webhook without baseline", LatencyResult{LatencyOp: LatencyOp{Measured: true, Webhook: true}, Latency: Summary{N: 200, P99: 10}, P99Ratio: nan}, VerdictPass},
		{"no driver", LatencyResult{LatencyOp: LatencyOp{}}, VerdictNotMeasured},
		{"out of time", LatencyResult{LatencyOp: LatencyOp{Measured: true}, Note: "the stage ran out of time", P99Ratio: nan}, VerdictNotMeasured},
		{"reference", LatencyResult{LatencyOp: LatencyOp{Measured: true, Reference: true}, Latency: Summary{N: 200, P99: 100}, P99Ratio: 40}, VerdictReference},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := latencyVerdict(&c.r); got != c.want {
				t.Errorf("verdict %s, want %s", got, c.want)
			}
		})
	}
}

func TestLatencyTargetCell(t *testing.T) {
	for _, c := range []struct {
		r    LatencyResult
		want string
	}{
		{LatencyResult{LatencyOp: LatencyOp{Measured: true}, Verdict: VerdictPass}, "PASS"},
		{LatencyResult{LatencyOp: LatencyOp{Measured: true}, Verdict: VerdictMiss, Errors: 3}, "MISS ⚠ 3 errors"},
		{LatencyResult{LatencyOp: LatencyOp{Measured: true}, Verdict: VerdictPass, Errors: 1}, "PASS ⚠ 1 errors"},
		{LatencyResult{Verdict: VerdictNotMeasured}, "NOT MEASURED"},
	} {
		if got := latencyTarget(&c.r); got != c.want {
			t.Errorf("target %q, want %q", got, c.want)
		}
	}
}

// TestLatencyFinish: the summaries, ratios and verdict from the samples.
func TestLatencyFinish(t *testing.T) {
	ms := func(vals ...float64) []time.Duration {
		var out []time.Duration
		for _, v := range vals {
			out = append(out, time.Duration(v*float64(time.Millisecond)))
		}
		return out
	}
	seq := func(n int, scale float64) []time.Duration {
		var v []float64
		for i := 1; i <= n; i++ {
			v = append(v, float64(i)*scale)
		}
		return ms(v...)
	}
	for _, c := range []struct {
		name                 string
		webhook              bool
		op, base             []time.Duration
		p50, p99, p50x, p99x float64
		verdict              string
	}{
		// 1..200 ms against 0.5..100 ms: every percentile is twice the baseline's.
		{"twice the baseline", false, seq(200, 1), seq(200, 0.5), 100.5, 198.01, 2, 2, VerdictPass},
		{"four times", false, seq(200, 2), seq(200, 0.5), 201, 396.02, 4, 4, VerdictMiss},
		{"no baseline", false, seq(10, 1), nil, 5.5, 9.91, math.NaN(), math.NaN(), VerdictError},
		{"webhook over a second", true, ms(100, 200, 1500), ms(1, 1, 1), 200, 1474, 200, 1474, VerdictMiss},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := &LatencyResult{LatencyOp: LatencyOp{Measured: true, Webhook: c.webhook}}
			r.finish(c.op, c.base)
			near := func(got, want float64) bool {
				return (math.IsNaN(want) && math.IsNaN(got)) || math.Abs(got-want) < 1e-6*math.Max(1, math.Abs(want))
			}
			if !near(r.Latency.Median, c.p50) || !near(r.Latency.P99, c.p99) {
				t.Errorf("p50 %v p99 %v, want %v %v", r.Latency.Median, r.Latency.P99, c.p50, c.p99)
			}
			if !near(float64(r.P50Ratio), c.p50x) || !near(float64(r.P99Ratio), c.p99x) {
				t.Errorf("ratios %v %v, want %v %v", r.P50Ratio, r.P99Ratio, c.p50x, c.p99x)
			}
			if r.Latency.N != len(c.op) || r.Baseline.N != len(c.base) {
				t.Errorf("n %d and %d", r.Latency.N, r.Baseline.N)
			}
			if r.Verdict != c.verdict {
				t.Errorf("verdict %s, want %s", r.Verdict, c.verdict)
			}
		})
	}
}

func TestLatencyPlan(t *testing.T) {
	for _, c := range []struct {
		n, batches int
		sizes      []int
	}{
		{200, 4, []int{50, 50, 50, 50}},
		{200, 2, []int{100, 100}},
		{10, 3, []int{3, 3, 4}},
		{8, 1, []int{8}},
		{5, 0, []int{5}},
		{3, 10, []int{1, 1, 1}},
	} {
		plan := latencyPlan(c.n, c.batches)
		var sizes []int
		next := 0
		for i, b := range plan {
			sizes = append(sizes, b.Size)
			if b.First != next {
				t.Errorf("plan(%d, %d): batch %d starts at %d, want %d", c.n, c.batches, i, b.First, next)
			}
			if b.BaselineFirst != (i%2 == 0) {
				t.Errorf("plan(%d, %d): batch %d baseline first = %v: the order must alternate", c.n, c.batches, i, b.BaselineFirst)
			}
			next += b.Size
		}
		if !slices.Equal(sizes, c.sizes) || next != c.n {
			t.Errorf("plan(%d, %d) sizes %v (sum %d), want %v", c.n, c.batches, sizes, next, c.sizes)
		}
	}
}

// TestLatencyBatches: a batch holds at least ten requests and three times the
// clients; one client alternates every ten requests, more clients at most four times.
func TestLatencyBatches(t *testing.T) {
	c := latencyCountsFor(&Env{})
	for _, tc := range []struct{ clients, want int }{{1, 20}, {8, 4}, {32, 2}} {
		if got := c.Batches(tc.clients); got != tc.want {
			t.Errorf("full counts, %d clients: %d batches, want %d", tc.clients, got, tc.want)
		}
	}
	q := latencyCountsFor(&Env{Quick: true})
	if got := q.Batches(32); got != 1 {
		t.Errorf("quick counts, 32 clients: %d batches, want 1", got)
	}
	if c.N < 200 {
		t.Errorf("full counts measure %d requests per route and level; a p99 needs at least 200", c.N)
	}
}

// TestLatencyLoop: every index runs once, never more at once than the clients, and
// nothing starts after the deadline.
func TestLatencyLoop(t *testing.T) {
	for _, c := range []struct{ clients, count int }{{1, 5}, {4, 50}, {32, 10}, {8, 0}} {
		var running, peak atomic.Int64
		seen := make([]atomic.Int32, c.count)
		latencyLoop(context.Background(), c.clients, c.count, time.Now().Add(time.Minute), func(i int) {
			n := running.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			time.Sleep(time.Millisecond)
			seen[i].Add(1)
			running.Add(-1)
		})
		for i := range seen {
			if seen[i].Load() != 1 {
				t.Errorf("%d clients, %d calls: index %d ran %d times", c.clients, c.count, i, seen[i].Load())
			}
		}
		if p := peak.Load(); p > int64(c.clients) {
			t.Errorf("%d clients: %d calls at once", c.clients, p)
		}
	}
	var calls atomic.Int64
	latencyLoop(context.Background(), 4, 100, time.Now().Add(-time.Second), func(int) { calls.Add(1) })
	if calls.Load() != 0 {
		t.Errorf("%d calls after the deadline", calls.Load())
	}
}

func TestLatencyErrorCode(t *testing.T) {
	for _, c := range []struct {
		status int
		err    error
		want   string
	}{
		{409, &latencyHTTPError{status: 409, code: "conflict"}, "409 conflict"},
		{429, &latencyHTTPError{status: 429}, "429"},
		{0, errors.New("connection refused"), "no answer"},
		{200, errors.New("read body"), "200"},
	} {
		if got := latencyErrorCode(c.status, c.err); got != c.want {
			t.Errorf("latencyErrorCode(%d, %v) = %q, want %q", c.status, c.err, got, c.want)
		}
	}
}

// TestLatencyNotifications: the webhook drivers' notifications verify with the
// adapters the webhook uses, for the order and amount they name.
func TestLatencyNotifications(t *testing.T) {
	w := &latencyWorld{midtransKey: "SB-Mid-server-test", xenditToken: "callback-token-test"}
	mt, err := midtrans.New(midtrans.Config{ServerKey: w.midtransKey})
	if err != nil {
		t.Fatal(err)
	}
	const id = "o_abcdefghijklmnopqrstuvwxyz"
	n, err := mt.VerifyAndParse(nil, w.midtransNotification(id, 85000, "pending"))
	if err != nil {
		t.Fatalf("midtrans: %v", err)
	}
	if n.OrderID != id || n.Amount.Amount != 85000 || n.Amount.Currency != "IDR" || n.Status != "pending" {
		t.Errorf("midtrans notification %+v", n)
	}
	if _, err := mt.VerifyAndParse(nil, (&latencyWorld{midtransKey: "another key"}).midtransNotification(id, 85000, "pending")); err == nil {
		t.Error("midtrans: a notification signed with another key verified")
	}
	xd, err := xendit.New(xendit.Config{CallbackToken: w.xenditToken})
	if err != nil {
		t.Fatal(err)
	}
	req := latencyRequest{Header: []string{"X-Callback-Token", w.xenditToken}, Body: latencyXenditPaid(latencyOrder{ID: id, Amount: 85000, Invoice: "65a1f0c2b3d4e5f60718293a"})}
	x, err := xd.VerifyAndParse(map[string]string{strings.ToLower(req.Header[0]): req.Header[1]}, req.Body)
	if err != nil {
		t.Fatalf("xendit: %v", err)
	}
	if x.OrderID != id || x.Amount.Amount != 85000 || x.Status != "PAID" || x.ProviderRef != "65a1f0c2b3d4e5f60718293a" {
		t.Errorf("xendit callback %+v", x)
	}
}

// TestLatencyPlaced reads checkout answers, with the Xendit invoice from the payment URL.
func TestLatencyPlaced(t *testing.T) {
	body := []byte(`{"orderId":"o_x","status":"PENDING_PAYMENT","amount":{"amount":25000,"currency":"IDR"},` +
		`"paymentProvider":"xendit","paymentUrl":"http://127.0.0.1:3000/_local/pay/page/xendit/65a1f0c2b3d4e5f6"}`)
	o, err := latencyPlaced(body, "tok", latencyXendit)
	if err != nil || o.ID != "o_x" || o.Amount != 25000 || o.Invoice != "65a1f0c2b3d4e5f6" || o.Buyer != "tok" {
		t.Errorf("placed %+v, %v", o, err)
	}
	if _, err := latencyPlaced([]byte(`{"error":{"code":"cart_empty"}}`), "tok", latencyMidtrans); err == nil {
		t.Error("an answer without an order id was read")
	}
}

// TestLatencySection renders a small result set: the verdict counts, a row per
// result, the flags, the charts and the JSON.
func TestLatencySection(t *testing.T) {
	ops := append(latencyReferenceOps(),
		LatencyOp{Route: "GET /commerce/v1/products/{productId}", Name: "get product", Function: "CommerceCatalogFunction", Account: "commerce", Kind: LatencyRead, Measured: true},
		LatencyOp{Route: "POST /commerce/v1/webhooks/xendit", Name: "Xendit callback", Function: "CommercePaymentWebhookFunction", Account: "commerce", Kind: LatencyWrite, Webhook: true, Measured: true},
		LatencyOp{Route: "GET /commerce/v1/new", Function: "CommerceCatalogFunction", Account: "commerce", Kind: LatencyRead},
	)
	ms := func(v ...float64) []time.Duration {
		var out []time.Duration
		for _, x := range v {
			out = append(out, time.Duration(x*float64(time.Millisecond)))
		}
		return out
	}
	var results []*LatencyResult
	for _, c := range LatencyLevels {
		for _, op := range ops {
			r := &LatencyResult{LatencyOp: op, Clients: c}
			switch {
			case !op.Measured:
				r.Note = "no latency driver for this route"
			case op.Webhook && c == 32:
				r.Errors, r.ErrorCodes = 2, map[string]int{"500 internal": 2}
				r.finish(ms(900, 1100, 1200), ms(2, 2, 2))
				results = append(results, r)
				continue
			}
			if op.Measured {
				r.finish(ms(2, 3, 4), ms(1, 1, 1.5))
			} else {
				r.finish(nil, nil)
			}
			results = append(results, r)
		}
	}
	sec := LatencySection(results, ops, 3, 90*time.Second)
	rep := &Report{Title: "t", Sections: []*Section{sec}}
	md := rep.Markdown()
	// get product: p99 3.98 over 1.49: PASS at every level; the webhook passes at 1 and
	// 8 clients and misses at 32 (p99 1198 ms), with its errors flagged.
	for _, want := range []string{
		"**5 of 6 results PASS** (2 of 2 at 1 client, 2 of 2 at 8 clients, 1 of 2 at 32 clients)",
		"1 results had errors (⚠)",
		"**Not measured (no driver):** GET /commerce/v1/new.",
		"| Xendit callback | `POST /commerce/v1/webhooks/xendit` | CommercePaymentWebhookFunction | commerce | 32 | 3 |",
		"MISS ⚠ 2 errors |",
		"2 × 500 internal",
		"| bare transaction, 2 Puts | `" + latencyTxRoute + "` | (benchmark process) |",
		"| reference |",
		"](latency-p99-ratio.svg)", "](latency-webhook-p99.svg)", "](latency-ms-32.svg)",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the section lacks %q:\n%s", want, md)
		}
	}
	var rows int
	for _, b := range sec.Blocks {
		if tb, ok := b.(*Table); ok {
			rows = len(tb.Rows)
		}
		if c, ok := b.(*Chart); ok {
			if _, err := c.SVG(); err != nil {
				t.Errorf("chart %s: %v", c.Name, err)
			}
			if c.Name == "webhook-p99" && (len(c.Groups) != 1 || !c.Groups[0].Miss[2] || c.Groups[0].Miss[0]) {
				t.Errorf("webhook chart groups %+v: one group, missing at 32 clients only", c.Groups)
			}
		}
	}
	if want := len(ops) * len(LatencyLevels); rows != want {
		t.Errorf("%d table rows, want %d (every route and reference at every level)", rows, want)
	}
	js, err := rep.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Sections []struct {
			Data struct {
				Pass    int `json:"pass"`
				Results []struct {
					Route    string   `json:"route"`
					Verdict  string   `json:"verdict"`
					P99Ratio *float64 `json:"p99Ratio"`
				} `json:"results"`
			} `json:"data"`
		} `json:"sections"`
	}
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	d := back.Sections[0].Data
	if d.Pass != 5 || len(d.Results) != rows {
		t.Errorf("report.json: pass %d, %d results", d.Pass, len(d.Results))
	}
	for _, r := range d.Results {
		if r.Route == "GET /commerce/v1/new" && (r.P99Ratio != nil || r.Verdict != VerdictNotMeasured) {
			t.Errorf("a route not measured: ratio %v, verdict %s; want null and %s", r.P99Ratio, r.Verdict, VerdictNotMeasured)
		}
	}
}

// TestLatencyCodesOrder: the most frequent error first.
func TestLatencyCodesOrder(t *testing.T) {
	got := latencyCodes(map[string]int{"409 conflict": 2, "429": 5, "500 internal": 2})
	if want := []string{"429", "409 conflict", "500 internal"}; !slices.Equal(got, want) {
		t.Errorf("codes %v, want %v", got, want)
	}
}

// TestLatencySendExpect: a reference's expected status is a success; any other, or a
// non-2xx without one, is an error with the envelope's code.
func TestLatencySendExpect(t *testing.T) {
	var mu sync.Mutex
	var paths []string
	srv := newLatencyTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		switch r.URL.Path {
		case "/missing":
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"error":{"code":"not_found"}}`))
		default:
			_, _ = w.Write([]byte(`{"ok":true}`))
		}
	})
	w := &latencyWorld{r: &localrun.Runner{URL: srv}, hc: http.DefaultClient}
	var after []byte
	ctx := context.Background()
	if _, _, err := w.send(ctx, latencyRequest{Method: "GET", Path: "/ok", After: func(b []byte) { after = b }}); err != nil || string(after) != `{"ok":true}` {
		t.Errorf("2xx: %v, after got %q", err, after)
	}
	if _, _, err := w.send(ctx, latencyRequest{Method: "GET", Path: "/missing", Expect: 404}); err != nil {
		t.Errorf("expected 404: %v", err)
	}
	_, status, err := w.send(ctx, latencyRequest{Method: "GET", Path: "/missing"})
	if status != 404 || latencyErrorCode(status, err) != "404 not_found" {
		t.Errorf("unexpected 404: %d %v", status, err)
	}
	if _, _, err := w.send(ctx, latencyRequest{Method: "GET", Path: "/ok", Expect: 404}); err == nil {
		t.Error("a 200 where 404 was expected passed")
	}
	sort.Strings(paths)
	if len(paths) != 4 {
		t.Errorf("requests %v", paths)
	}
}

// newLatencyTestServer serves h on 127.0.0.1 for the test and returns its URL.
func newLatencyTestServer(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}
