package checkout_test

// End-to-end through the local runner: the real template and function processes
// (catalog, cart, checkout, orders, payment webhook, payments consumer, relay, expiry), the
// HTTP API with its JWT authorizer, the payment sandbox, DynamoDB Local and the SQS
// emulator. Everything here goes through the HTTP API, as a client would.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/etalase/etalase/infra/localrun"
	"github.com/etalase/etalase/infra/localrun/localtest"
	"github.com/etalase/etalase/infra/localrun/paysandbox"
	"github.com/etalase/etalase/shared/contract"
)

// client talks to the runner's HTTP API.
type client struct {
	t   *testing.T
	r   *localrun.Runner
	api string
}

func newClient(t *testing.T, r *localrun.Runner) *client {
	return &client{t: t, r: r, api: r.URL + "/commerce/v1"}
}

// token mints a bearer token for sub with scopes.
func (c *client) token(sub string, scopes ...string) string {
	c.t.Helper()
	tok, err := c.r.IdP.Mint(sub, scopes, time.Hour, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	return "Bearer " + tok
}

// do sends a request with a JSON body (or none); headers are name, value pairs. A 429
// (every function process busy: Lambda's throttling, which the runner emulates) is
// retried after a pause, as a client of API Gateway does; the function never ran.
func (c *client) do(method, url string, body any, headers ...string) (int, []byte) {
	c.t.Helper()
	for attempt := 1; ; attempt++ {
		status, b := c.send(method, url, body, headers...)
		if status != http.StatusTooManyRequests || attempt == 50 {
			return status, b
		}
		time.Sleep(time.Duration(50+rand.IntN(200)) * time.Millisecond)
	}
}

func (c *client) send(method, url string, body any, headers ...string) (int, []byte) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp.StatusCode, b
}

// must decodes a response that must have status.
func must[T any](t *testing.T, what string, status int, b []byte, want int) T {
	t.Helper()
	var v T
	if status != want {
		t.Fatalf("%s: %d %s, want %d", what, status, b, want)
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %s: %v", what, b, err)
	}
	return v
}

func (c *client) product(seller string, stock int) string {
	c.t.Helper()
	status, b := c.do(http.MethodPost, c.api+"/products", map[string]any{"title": "Kopi Gayo", "imageUrl": "/assets/kopi.jpg",
		"price": map[string]any{"amount": 85000, "currency": "IDR"}, "stock": stock}, "Authorization", seller)
	return must[struct {
		ProductID string `json:"productId"`
	}](c.t, "create product", status, b, http.StatusCreated).ProductID
}

func (c *client) stock(id string) int64 {
	c.t.Helper()
	status, b := c.do(http.MethodGet, c.api+"/products/"+id, nil)
	return must[struct {
		Stock int64 `json:"stock"`
	}](c.t, "get product", status, b, http.StatusOK).Stock
}

type orderBody struct {
	OrderID    string  `json:"orderId"`
	Status     string  `json:"status"`
	PaymentURL *string `json:"paymentUrl"`
	Total      struct {
		Amount int64 `json:"amount"`
	} `json:"total"`
	Amount struct {
		Amount int64 `json:"amount"`
	} `json:"amount"`
	Lines []struct {
		ProductID string `json:"productId"`
		Quantity  int64  `json:"quantity"`
	} `json:"lines"`
}

func (c *client) order(buyer, id string) (int, orderBody) {
	c.t.Helper()
	status, b := c.do(http.MethodGet, c.api+"/orders/"+id, nil, "Authorization", buyer)
	var o orderBody
	_ = json.Unmarshal(b, &o)
	return status, o
}

// waitStatus polls the buyer's order until it has status, for at most a minute.
func (c *client) waitStatus(buyer, id, status string) orderBody {
	c.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		code, o := c.order(buyer, id)
		if code == http.StatusOK && o.Status == status {
			return o
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("order %s is %d %s, still not %s after a minute", id, code, o.Status, status)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

type auditBody struct {
	Entries []struct {
		Seq  int64           `json:"seq"`
		Type string          `json:"type"`
		Data json.RawMessage `json:"data"`
	} `json:"entries"`
	Verification struct {
		OK      bool   `json:"ok"`
		Entries int    `json:"entries"`
		Reason  string `json:"reason"`
	} `json:"verification"`
}

func (c *client) audit(auditor, id string) auditBody {
	c.t.Helper()
	status, b := c.do(http.MethodGet, c.api+"/audit/orders/"+id+"/ledger", nil, "Authorization", auditor)
	a := must[auditBody](c.t, "audit ledger", status, b, http.StatusOK)
	if !a.Verification.OK {
		c.t.Errorf("ledger of %s does not verify: %+v", id, a.Verification)
	}
	return a
}

func types(a auditBody) []string {
	var out []string
	for _, e := range a.Entries {
		out = append(out, e.Type)
	}
	return out
}

func TestEndToEnd(t *testing.T) {
	r, logs := localtest.Start(t)
	c := newClient(t, r)
	seller, buyer, other, auditor := c.token("seller-co-e2e", "seller"), c.token("buyer-co-e2e", "buyer"), c.token("buyer-other-e2e", "buyer"), c.token("auditor-e2e", "auditor")
	kopi := c.product(seller, 5)

	// The buyer comes from a creator's promotion: social's hand-off token, signed with
	// the key the runner generated for the social account.
	priv, err := r.HandoffPrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	tok, err := contract.SignHandoff(priv, contract.HandoffClaims{
		PromotionID: "promo-live-e2e", CreatorID: "creator-sari", ProductID: kopi, DisplayedPrice: contract.Price{Amount: 85000, Currency: "IDR"},
	}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if status, b := c.do(http.MethodPost, c.api+"/cart/items", map[string]any{"handoffToken": tok, "quantity": 2}, "Authorization", buyer); status != http.StatusCreated {
		t.Fatalf("add to cart: %d %s", status, b)
	}

	// Checkout: 201 with the sandbox's payment page; a retry with the same key answers
	// the same order.
	key := fmt.Sprintf("e2e-checkout-%d", time.Now().UnixNano())
	status, b := c.do(http.MethodPost, c.api+"/checkout", map[string]any{"provider": "midtrans"}, "Authorization", buyer, "Idempotency-Key", key)
	placed := must[orderBody](t, "checkout", status, b, http.StatusCreated)
	if placed.Status != "PENDING_PAYMENT" || placed.Amount.Amount != 170000 || placed.PaymentURL == nil ||
		!strings.HasPrefix(*placed.PaymentURL, r.URL+paysandbox.PathPrefix) {
		t.Fatalf("checkout = %s", b)
	}
	status, again := c.do(http.MethodPost, c.api+"/checkout", map[string]any{"provider": "midtrans"}, "Authorization", buyer, "Idempotency-Key", key)
	if status != http.StatusCreated || !bytes.Equal(again, b) {
		t.Errorf("retried checkout = %d %s", status, again)
	}
	if got := c.stock(kopi); got != 3 {
		t.Errorf("stock %d after checkout, want 3", got)
	}

	// The buyer reads it (with the payment URL while pending); another buyer cannot.
	if code, o := c.order(buyer, placed.OrderID); code != 200 || o.PaymentURL == nil || len(o.Lines) != 1 || o.Lines[0].Quantity != 2 {
		t.Errorf("get order = %d %+v", code, o)
	}
	if code, _ := c.order(other, placed.OrderID); code != http.StatusNotFound {
		t.Errorf("another buyer's read = %d, want 404", code)
	}
	status, b = c.do(http.MethodGet, c.api+"/orders", nil, "Authorization", buyer)
	if list := must[struct{ Orders []orderBody }](t, "list", status, b, 200); len(list.Orders) > 1 {
		t.Errorf("list = %s", b)
	}

	// The sandbox pays (as a click on its page would): webhook → FIFO queue → payments
	// consumer → PAID, and the payment URL is no longer shown.
	status, b = c.do(http.MethodPost, r.URL+paysandbox.PathPrefix+"control/notify",
		paysandbox.NotifyRequest{Provider: "midtrans", OrderID: placed.OrderID, Status: "settlement"})
	if status != http.StatusOK {
		t.Fatalf("sandbox notify: %d %s", status, b)
	}
	paid := c.waitStatus(buyer, placed.OrderID, "PAID")
	if paid.PaymentURL != nil {
		t.Errorf("a paid order shows its payment URL")
	}
	// A paid order cannot be cancelled.
	if status, b := c.do(http.MethodPost, c.api+"/orders/"+placed.OrderID+"/cancel", nil, "Authorization", buyer); status != http.StatusConflict {
		t.Errorf("cancel a paid order = %d %s", status, b)
	}

	// The auditor reads the ledger: order created, payment opened, paid; the chain verifies.
	a := c.audit(auditor, placed.OrderID)
	if got := types(a); len(got) < 3 || got[0] != "order_created" || got[1] != "payment_opened" || got[2] != "status_changed" {
		t.Errorf("ledger = %v", got)
	}
	if status, _ := c.do(http.MethodGet, c.api+"/audit/orders/"+placed.OrderID+"/ledger", nil, "Authorization", buyer); status != http.StatusForbidden {
		t.Errorf("a buyer read the audit route: %d", status)
	}

	// A second order, cancelled by the buyer: its stock returns.
	if status, b := c.do(http.MethodPost, c.api+"/cart/items", map[string]any{"productId": kopi, "quantity": 3}, "Authorization", buyer); status != http.StatusCreated {
		t.Fatalf("add to cart: %d %s", status, b)
	}
	status, b = c.do(http.MethodPost, c.api+"/checkout", map[string]any{"provider": "xendit"}, "Authorization", buyer, "Idempotency-Key", key+"-2")
	second := must[orderBody](t, "second checkout", status, b, http.StatusCreated)
	if got := c.stock(kopi); got != 0 {
		t.Errorf("stock %d, want 0", got)
	}
	if status, _ := c.do(http.MethodPost, c.api+"/orders/"+second.OrderID+"/cancel", nil, "Authorization", other); status != http.StatusNotFound {
		t.Errorf("another buyer's cancel = %d, want 404", status)
	}
	status, b = c.do(http.MethodPost, c.api+"/orders/"+second.OrderID+"/cancel", nil, "Authorization", buyer)
	if o := must[orderBody](t, "cancel", status, b, http.StatusOK); o.Status != "CANCELLED" {
		t.Errorf("cancelled = %s", b)
	}
	if got := c.stock(kopi); got != 3 {
		t.Errorf("stock %d after the cancellation, want 3", got)
	}
	if got := types(c.audit(auditor, second.OrderID)); len(got) != 3 || got[2] != "status_changed" {
		t.Errorf("ledger of the cancelled order = %v", got)
	}

	// Twenty buyers, one unit each, check out at once against a stock of five.
	t.Run("concurrent checkouts never oversell", func(t *testing.T) {
		c := newClient(t, r)
		const buyers, stock = 20, 5
		teh := c.product(seller, stock)
		tokens := make([]string, buyers)
		for i := range buyers {
			tokens[i] = c.token(fmt.Sprintf("buyer-rush-%d", i), "buyer")
			if status, b := c.do(http.MethodPost, c.api+"/cart/items", map[string]any{"productId": teh, "quantity": 1}, "Authorization", tokens[i]); status != http.StatusCreated {
				t.Fatalf("add to cart: %d %s", status, b)
			}
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		codes := map[string]int{}
		for i := range buyers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				status, b := c.do(http.MethodPost, c.api+"/checkout", map[string]any{"provider": "xendit"}, "Authorization", tokens[i], "Idempotency-Key", fmt.Sprintf("rush-%d-%s", i, key))
				var e struct {
					Error struct{ Code string } `json:"error"`
				}
				_ = json.Unmarshal(b, &e)
				mu.Lock()
				codes[fmt.Sprintf("%d %s", status, e.Error.Code)]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		if codes["201 "] != stock || codes["409 insufficient_stock"] != buyers-stock {
			t.Errorf("answers %v, want %d × 201 and %d × 409 insufficient_stock", codes, stock, buyers-stock)
		}
		if got := c.stock(teh); got != 0 {
			t.Errorf("stock %d, want 0", got)
		}
	})

	if !strings.Contains(logs.String(), "[commerce/CommerceCheckoutFunction] REPORT RequestId:") {
		t.Error("no REPORT line from the checkout process")
	}
}

// With a 3-second payment window, an unpaid order expires, and its stock returns
// exactly once: the relay turns the checkout transaction's OrderCreated outbox record
// into the expiry message (checkout sends none), the expiry consumer expires it.
func TestEndToEndExpiry(t *testing.T) {
	params, err := localrun.LoadParams(filepath.Join(localtest.Root(), localrun.ParamsFile))
	if err != nil {
		t.Fatal(err)
	}
	params["PaymentWindowSeconds"] = "3"
	r, logs := localtest.StartWith(t, localrun.Options{Params: params})
	c := newClient(t, r)
	seller, buyer, auditor := c.token("seller-exp-e2e", "seller"), c.token("buyer-exp-e2e", "buyer"), c.token("auditor-exp", "auditor")
	kopi := c.product(seller, 4)
	if status, b := c.do(http.MethodPost, c.api+"/cart/items", map[string]any{"productId": kopi, "quantity": 3}, "Authorization", buyer); status != http.StatusCreated {
		t.Fatalf("add to cart: %d %s", status, b)
	}
	// Xendit: Midtrans's Snap refuses a session shorter than a minute.
	status, b := c.do(http.MethodPost, c.api+"/checkout", map[string]any{"provider": "xendit"}, "Authorization", buyer, "Idempotency-Key", fmt.Sprintf("e2e-expiry-%d", time.Now().UnixNano()))
	placed := must[struct {
		OrderID  string    `json:"orderId"`
		Deadline time.Time `json:"deadline"`
	}](t, "checkout", status, b, http.StatusCreated)
	if d := time.Until(placed.Deadline); d > 3*time.Second {
		t.Errorf("deadline in %v, want at most the 3 s window", d)
	}
	if got := c.stock(kopi); got != 1 {
		t.Errorf("stock %d after checkout, want 1", got)
	}
	c.waitStatus(buyer, placed.OrderID, "EXPIRED")
	if time.Now().Before(placed.Deadline) {
		t.Error("the order expired before its deadline")
	}
	time.Sleep(2 * time.Second) // a second expiry, if any, would show now
	if got := c.stock(kopi); got != 4 {
		t.Errorf("stock %d after the expiry, want 4 (released exactly once)", got)
	}
	a := c.audit(auditor, placed.OrderID)
	expired := 0
	for _, e := range a.Entries {
		if e.Type == "status_changed" && strings.Contains(string(e.Data), `"to":"EXPIRED"`) {
			expired++
		}
	}
	if expired != 1 {
		t.Errorf("%d expiries in the ledger %v, want 1", expired, types(a))
	}
	scheduled := false
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "[commerce/CommerceRelayFunction]") && strings.Contains(line, `"type":"OrderCreated"`) &&
			strings.Contains(line, `"orderId":"`+placed.OrderID+`"`) {
			scheduled = true
		}
		if strings.Contains(line, "[commerce/CommerceCheckoutFunction]") && strings.Contains(line, "expiry") {
			t.Errorf("checkout logged about the expiry: %s", line)
		}
	}
	if !scheduled {
		t.Error("the relay did not log the order's expiry message (OrderCreated)")
	}
}
