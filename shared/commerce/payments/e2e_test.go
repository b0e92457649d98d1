package payments_test

// End-to-end through the local runner: the real template and function processes
// (catalog, cart, checkout, payment webhook, payments consumer on the FIFO queue,
// reconcile on its schedule, orders with the auditor's ledger route), the HTTP API with
// its JWT authorizer, the payment sandbox sending signed notifications to the webhook
// route, DynamoDB Local and the SQS emulator.

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/etalase/etalase/infra/localaccount"
	"github.com/etalase/etalase/infra/localrun"
	"github.com/etalase/etalase/infra/localrun/localtest"
	"github.com/etalase/etalase/infra/localrun/paysandbox"
	"github.com/etalase/etalase/infra/testenv"
	"github.com/etalase/etalase/shared/commerce/ledger"
	"github.com/etalase/etalase/shared/commerce/order"
	"github.com/etalase/etalase/shared/commerce/orders"
	"github.com/etalase/etalase/shared/commerce/payment"
	"github.com/etalase/etalase/shared/commerce/payment/midtrans"
	"github.com/etalase/etalase/shared/commerce/payments/paytest"
)

// call sends one request with a JSON body (or none); headers are name, value pairs.
func call(t *testing.T, method, url string, body any, headers ...string) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// notify asks the payment sandbox to send notifications, and returns what it sent.
func notify(t *testing.T, r *localrun.Runner, req paysandbox.NotifyRequest) []paysandbox.Delivery {
	t.Helper()
	status, b := call(t, http.MethodPost, r.URL+paysandbox.PathPrefix+"control/notify", req)
	var resp paysandbox.NotifyResponse
	if status != http.StatusOK || json.Unmarshal(b, &resp) != nil {
		t.Fatalf("control/notify: %d %s", status, b)
	}
	return resp.Deliveries
}

func responses(ds []paysandbox.Delivery) []int {
	out := make([]int, len(ds))
	for i, d := range ds {
		out[i] = d.ResponseStatus
	}
	return out
}

// waitFor polls cond until it holds, for at most a minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func entryTypes(es []ledger.Entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Type
	}
	return out
}

func TestEndToEnd(t *testing.T) {
	r, logs := localtest.Start(t)
	ctx := context.Background()
	api := r.URL + "/commerce/v1"
	mint := func(sub string, scopes ...string) string {
		tok, err := r.IdP.Mint(sub, scopes, time.Hour, nil)
		if err != nil {
			t.Fatal(err)
		}
		return "Bearer " + tok
	}
	seller, buyer, auditor := mint("seller-pay-e2e", "seller"), mint("buyer-pay-e2e", "buyer"), mint("auditor-e2e", "auditor")

	// Commerce's tables, read with commerce's credentials.
	db := testenv.DynamoDB(t, localaccount.Commerce)
	tables := r.Resources["commerce"].Tables
	tb := func(id string) string { return tables[id].Name }
	store := orders.NewStore(db, orders.Tables{Orders: tb("OrdersTable")})
	led := ledger.NewDynamoStore(db, tb("LedgerTable"), tb("OrdersTable"))
	get := func(id string) order.Order {
		o, err := store.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	ledgerOf := func(id string) []ledger.Entry {
		es, err := led.Read(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return es
	}
	storedEvents := func() int32 {
		out, err := db.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(tb("PaymentEventsTable")), Select: "COUNT", ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		return out.Count
	}

	// A seller lists a product; a buyer puts two in the cart and checks out with Midtrans.
	status, b := call(t, http.MethodPost, api+"/products", map[string]any{"title": "Kopi Gayo", "imageUrl": "/assets/kopi.jpg",
		"price": map[string]any{"amount": 85000, "currency": "IDR"}, "stock": 10}, "Authorization", seller)
	var product struct {
		ProductID string `json:"productId"`
	}
	if status != http.StatusCreated || json.Unmarshal(b, &product) != nil {
		t.Fatalf("create product: %d %s", status, b)
	}
	if status, b = call(t, http.MethodPost, api+"/cart/items", map[string]any{"productId": product.ProductID, "quantity": 2}, "Authorization", buyer); status != http.StatusCreated {
		t.Fatalf("add to cart: %d %s", status, b)
	}
	status, b = call(t, http.MethodPost, api+"/checkout", map[string]any{"provider": "midtrans"}, "Authorization", buyer, "Idempotency-Key", "e2e-pay-"+time.Now().Format("150405.000000"))
	var placed struct {
		OrderID    string  `json:"orderId"`
		Status     string  `json:"status"`
		PaymentURL *string `json:"paymentUrl"`
	}
	if status != http.StatusCreated || json.Unmarshal(b, &placed) != nil || placed.Status != "PENDING_PAYMENT" || placed.PaymentURL == nil {
		t.Fatalf("checkout: %d %s", status, b)
	}
	id := placed.OrderID
	before := len(ledgerOf(id)) // order_created, payment_opened

	t.Run("the sandbox pays; duplicates and stale notifications change nothing", func(t *testing.T) {
		sent := notify(t, r, paysandbox.NotifyRequest{Provider: "midtrans", OrderID: id, Status: "settlement", Duplicate: 2, ReorderWith: []string{"pending", "expire"}})
		if got := responses(sent); !slices.Equal(got, []int{200, 200, 200, 200, 200}) {
			t.Errorf("webhook answers %v, want 200 for each", got)
		}
		// The expire is the last one the consumer sees: once it is recorded, all were applied.
		waitFor(t, "the notifications to be applied", func() bool { return len(ledgerOf(id)) >= before+2 })
		time.Sleep(time.Second) // anything still to come would show now

		o := get(id)
		if o.Status != order.StatusPaid || o.NeedsRefund {
			t.Fatalf("order %s needsRefund %v", o.Status, o.NeedsRefund)
		}
		es := ledgerOf(id)
		var paid int
		for _, e := range es {
			if e.Type == ledger.TypeStatusChanged && strings.Contains(string(e.Data), `"to":"PAID"`) {
				paid++
			}
		}
		if paid != 1 {
			t.Errorf("%d status_changed entries to PAID, want 1: %v", paid, entryTypes(es))
		}
		if got := entryTypes(es[before:]); !slices.Equal(got, []string{ledger.TypeStatusChanged, ledger.TypeNotificationRejected}) {
			t.Errorf("entries after checkout %v: the payment, then the stale expire rejected", got)
		}
		if n := storedEvents(); n != 3 {
			t.Errorf("%d notifications stored, want 3 (settlement, pending, expire; duplicates once)", n)
		}

		// The auditor's route verifies the chain up to the head on the order.
		status, b := call(t, http.MethodGet, api+"/audit/orders/"+id+"/ledger", nil, "Authorization", auditor)
		var audit struct {
			Entries      []json.RawMessage `json:"entries"`
			Verification struct {
				OK      bool `json:"ok"`
				Entries int  `json:"entries"`
			} `json:"verification"`
		}
		if status != http.StatusOK || json.Unmarshal(b, &audit) != nil || !audit.Verification.OK || audit.Verification.Entries != len(es) {
			t.Errorf("audit: %d %s", status, b)
		}
		// The buyer sees it paid, and no payment URL any more.
		status, b = call(t, http.MethodGet, api+"/orders/"+id, nil, "Authorization", buyer)
		if status != http.StatusOK || !strings.Contains(string(b), `"status":"PAID"`) {
			t.Errorf("buyer's order: %d %s", status, b)
		}
	})

	// An order placed 20 minutes ago whose webhook never got through.
	late, err := paytest.Place(ctx, db, paytest.Tables{Orders: tb("OrdersTable"), Ledger: tb("LedgerTable"), Catalog: tb("CatalogTable")},
		paytest.Order(order.ProviderMidtrans, time.Now().Add(-20*time.Minute)))
	if err != nil {
		t.Fatal(err)
	}
	key, err := r.Secret(localrun.ParamMidtransServerKey)
	if err != nil {
		t.Fatal(err)
	}
	mt, err := midtrans.New(midtrans.Config{ServerKey: key, SnapBaseURL: r.URL + paysandbox.PathPrefix + "midtrans"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mt.CreateSession(ctx, payment.SessionRequest{OrderID: late.ID, Amount: late.Total, ExpiresAt: late.Deadline}); err != nil {
		t.Fatalf("open the sandbox session: %v", err)
	}

	t.Run("a forged notification is refused and changes nothing", func(t *testing.T) {
		storedBefore := storedEvents()
		sent := notify(t, r, paysandbox.NotifyRequest{Provider: "midtrans", OrderID: late.ID, Status: "settlement", BadSignature: true})
		if got := responses(sent); !slices.Equal(got, []int{401}) {
			t.Errorf("webhook answers %v, want 401", got)
		}
		all := r.Sandbox.Sent(late.ID)
		if len(all) != 1 || all[0].ResponseStatus != http.StatusUnauthorized || !all[0].BadSignature {
			t.Errorf("sandbox record %+v", all)
		}
		if storedEvents() != storedBefore || get(late.ID).Status != order.StatusPendingPayment || len(ledgerOf(late.ID)) != 1 {
			t.Error("a forgery left a trace beyond the log")
		}
		if strings.Contains(logs.String(), key) {
			t.Error("the server key is in the logs")
		}
	})

	t.Run("reconcile finds the payment the webhook refused", func(t *testing.T) {
		// The provider now says settlement, but the notification carries another amount,
		// so the webhook refuses it (and records that): only the status API can tell.
		sent := notify(t, r, paysandbox.NotifyRequest{Provider: "midtrans", OrderID: late.ID, Status: "settlement", AmountOverride: "150000"})
		if got := responses(sent); !slices.Equal(got, []int{http.StatusUnprocessableEntity}) {
			t.Errorf("webhook answers %v, want 422", got)
		}
		if o := get(late.ID); o.Status != order.StatusPendingPayment {
			t.Fatalf("order %s before reconcile", o.Status)
		}
		if err := r.FireSchedule(ctx, "CommerceReconcileFunction"); err != nil {
			t.Fatal(err)
		}
		o := get(late.ID)
		if o.Status != order.StatusPaid {
			t.Fatalf("order %s after reconcile, want PAID", o.Status)
		}
		es := ledgerOf(late.ID)
		if got := entryTypes(es); !slices.Equal(got, []string{ledger.TypeOrderCreated, ledger.TypeNotificationRejected, ledger.TypeStatusChanged}) {
			t.Fatalf("ledger %v", got)
		}
		if d := string(es[1].Data); !strings.Contains(d, `"reason":"amount_mismatch"`) || !strings.Contains(d, `"amount":150000`) {
			t.Errorf("rejection %s", d)
		}
		if d := string(es[2].Data); !strings.Contains(d, `"event":"reconciled_settlement"`) || !strings.Contains(d, `"source":"reconcile"`) {
			t.Errorf("reconciled entry %s", d)
		}
		head, err := led.Head(ctx, late.ID)
		if err != nil || !ledger.VerifyHead(es, head, true).OK {
			t.Errorf("ledger does not verify: %v", err)
		}
		// Again: nothing left to do.
		if err := r.FireSchedule(ctx, "CommerceReconcileFunction"); err != nil {
			t.Fatal(err)
		}
		if got := get(late.ID); got.Version != o.Version {
			t.Errorf("a second run changed the order: v%d → v%d", o.Version, got.Version)
		}
	})
}
