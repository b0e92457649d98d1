package relay_test

// End-to-end through the local runner (the real template, function processes, the
// OutboxTable stream, the cross-account inbox queue): stock that checkouts take and
// cancellations return reaches social's promotion and feed through the relay.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/etalase/etalase/infra/localrun"
	"github.com/etalase/etalase/infra/localrun/localtest"
)

// api is a client of the runner's one origin.
type api struct {
	t *testing.T
	r *localrun.Runner
}

func (a api) token(sub string, scopes ...string) string {
	a.t.Helper()
	tok, err := a.r.IdP.Mint(sub, scopes, time.Hour, nil)
	if err != nil {
		a.t.Fatal(err)
	}
	return "Bearer " + tok
}

// do sends a request; headers are name, value pairs. A 429 (the runner's emulated
// throttling: every function process busy) is retried, as a client of API Gateway does.
func (a api) do(method, path, body string, headers ...string) (int, map[string]any) {
	a.t.Helper()
	for attempt := 1; ; attempt++ {
		req, err := http.NewRequest(method, a.r.URL+path, strings.NewReader(body))
		if err != nil {
			a.t.Fatal(err)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			a.t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests && attempt < 50 {
			time.Sleep(200 * time.Millisecond)
			continue
		}
		var m map[string]any
		_ = json.Unmarshal(raw, &m)
		if m == nil {
			m = map[string]any{"raw": string(raw)}
		}
		return resp.StatusCode, m
	}
}

func (a api) must(what string, want int, method, path, body string, headers ...string) map[string]any {
	a.t.Helper()
	status, m := a.do(method, path, body, headers...)
	if status != want {
		a.t.Fatalf("%s: %d %v, want %d", what, status, m, want)
	}
	return m
}

// within polls check until it returns nil, or fails the test after d.
func within(t *testing.T, d time.Duration, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v: %v", what, d, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// shown is what social shows of a promotion's product: on its page and in the feed.
func (a api) shown(promotionID string) (page, feed map[string]any) {
	a.t.Helper()
	p := a.must("get promotion", 200, "GET", "/social/v1/promotions/"+promotionID, "")
	page, _ = p["product"].(map[string]any)
	f := a.must("feed", 200, "GET", "/social/v1/feed?limit=50", "")
	items, _ := f["items"].([]any)
	for _, it := range items {
		if m, _ := it.(map[string]any); m["promotionId"] == promotionID {
			feed, _ = m["product"].(map[string]any)
		}
	}
	return page, feed
}

// inStock waits until the promotion's page and feed entry both show the product's
// in-stock flag as want.
func (a api) inStock(promotionID string, want bool, d time.Duration) {
	a.t.Helper()
	within(a.t, d, fmt.Sprintf("social shows inStock %v", want), func() error {
		page, feed := a.shown(promotionID)
		if page["inStock"] != want || page["available"] != want || feed == nil || feed["inStock"] != want {
			return fmt.Errorf("promotion page %v, feed %v", page, feed)
		}
		return nil
	})
}

// After a checkout takes the last unit, social's promotion page and feed show the
// product out of stock (and a hand-off is refused) within a bounded wait; after the
// buyer cancels, in stock again. The relay logs no warning for the order records.
func TestEndToEndStockReachesSocial(t *testing.T) {
	r, logs := localtest.Start(t)
	a := api{t: t, r: r}
	run := fmt.Sprint(time.Now().UnixNano())
	seller, creator, buyer := a.token("seller-stock-"+run, "seller"), a.token("creator-stock-"+run, "creator"), a.token("buyer-stock-"+run, "buyer")

	p := a.must("create product", 201, "POST", "/commerce/v1/products",
		`{"title":"Kopi Gayo edisi terbatas","imageUrl":"/assets/kopi.jpg","price":{"amount":85000,"currency":"IDR"},"stock":1}`, "Authorization", seller)
	productID, _ := p["productId"].(string)

	// The listing reaches social; then the creator can promote it.
	var promotionID string
	within(t, 60*time.Second, "promote the listed product", func() error {
		status, m := a.do("POST", "/social/v1/promotions", fmt.Sprintf(
			`{"productId":%q,"kind":"showcase","caption":"Tinggal satu","commissionBps":500,"endsAt":%q}`,
			productID, time.Now().Add(48*time.Hour).UTC().Format(time.RFC3339)), "Authorization", creator)
		if status != http.StatusCreated {
			return fmt.Errorf("%d %v", status, m)
		}
		promotionID, _ = m["promotionId"].(string)
		return nil
	})
	a.inStock(promotionID, true, 10*time.Second)

	// The buyer takes the last unit.
	a.must("add to cart", 201, "POST", "/commerce/v1/cart/items", fmt.Sprintf(`{"productId":%q,"quantity":1}`, productID), "Authorization", buyer)
	placed := a.must("checkout", 201, "POST", "/commerce/v1/checkout", `{"provider":"xendit"}`,
		"Authorization", buyer, "Idempotency-Key", "stock-e2e-"+run)
	orderID, _ := placed["orderId"].(string)
	a.inStock(promotionID, false, 30*time.Second)
	if status, m := a.do("POST", "/social/v1/promotions/"+promotionID+"/handoff", ""); status != http.StatusConflict || fmt.Sprint(m["error"]) == "" ||
		!strings.Contains(fmt.Sprint(m["error"]), "product_unavailable") {
		t.Errorf("hand-off of a sold-out product = %d %v, want 409 product_unavailable", status, m)
	}

	// The buyer cancels: the stock returns, and so does the flag.
	a.must("cancel", 200, "POST", "/commerce/v1/orders/"+orderID+"/cancel", "", "Authorization", buyer)
	a.inStock(promotionID, true, 30*time.Second)

	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "[commerce/CommerceRelayFunction]") && (strings.Contains(line, `"level":"WARN"`) || strings.Contains(line, `"level":"ERROR"`)) {
			t.Errorf("relay: %s", line)
		}
	}
	if !strings.Contains(logs.String(), `"type":"OrderCreated"`) {
		t.Error("the relay logged no OrderCreated (its expiry message)")
	}
}
