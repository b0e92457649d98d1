package webhook_test

// Unit tests of the webhook over the real-shaped fixtures in events/commerce/paymentwebhook
// (signed with fixtureServerKey and fixtureCallbackToken), with in-memory fakes for the
// order table, the event store, the queue and the ledger.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/etalase/etalase/infra/samtemplate"
	"github.com/etalase/etalase/shared/commerce/ledger"
	"github.com/etalase/etalase/shared/commerce/money"
	"github.com/etalase/etalase/shared/commerce/payment/midtrans"
	"github.com/etalase/etalase/shared/commerce/payment/xendit"
	"github.com/etalase/etalase/shared/commerce/paymentevents"
	"github.com/etalase/etalase/shared/commerce/webhook"
	"github.com/etalase/etalase/shared/platform/httpapi"
)

const (
	fixtureServerKey     = "SB-Mid-server-fixture-key"
	fixtureCallbackToken = "fixture-xendit-callback-token"
	fixtureOrder         = "o_rocsknolsez4jj42y44l7ga3ou"
	midtransKey          = "midtrans/4f6a9c1e-2b7d-4e3a-9f10-8c5d2e7b1a64:settlement:200"
	xenditKey            = "xendit/65a1f0c2b3d4e5f60718293a:PAID"
)

var now = time.Date(2026, 1, 1, 0, 15, 3, 0, time.UTC)

// fakeOrders knows one order.
type fakeOrders struct {
	mu    sync.Mutex
	total map[string]money.Money
	reads int
	err   error
}

func (f *fakeOrders) OrderTotal(_ context.Context, id string) (money.Money, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	if f.err != nil {
		return money.Money{}, f.err
	}
	t, ok := f.total[id]
	if !ok {
		return money.Money{}, webhook.ErrOrderNotFound
	}
	return t, nil
}

// fakeEvents is a store-once map.
type fakeEvents struct {
	mu     sync.Mutex
	stored map[string]paymentevents.Stored
	puts   int
	err    error
}

func (f *fakeEvents) PutOnce(_ context.Context, e paymentevents.Event, body []byte) (paymentevents.Stored, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.puts++
	if f.err != nil {
		return paymentevents.Stored{}, false, f.err
	}
	if err := e.Validate(); err != nil {
		return paymentevents.Stored{}, false, err
	}
	if s, ok := f.stored[e.Key]; ok {
		return s, false, nil
	}
	f.stored[e.Key] = paymentevents.Stored{Event: e, Body: append([]byte(nil), body...)}
	return paymentevents.Stored{}, true, nil
}

func (f *fakeEvents) markProcessed(key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.stored[key]
	s.ProcessedAt = now
	f.stored[key] = s
}

// fakeQueue records sends, failing while err is set.
type fakeQueue struct {
	mu   sync.Mutex
	sent []paymentevents.Event
	err  error
}

func (f *fakeQueue) Send(_ context.Context, e paymentevents.Event) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	if _, err := paymentevents.MarshalMessage(e); err != nil {
		return err
	}
	f.sent = append(f.sent, e)
	return nil
}

// fakeLedger records appends.
type fakeLedger struct {
	mu      sync.Mutex
	entries []appended
	err     error
}

type appended struct {
	orderID, typ string
	data         map[string]any
}

func (f *fakeLedger) Append(_ context.Context, orderID, typ string, data any) (ledger.Entry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return ledger.Entry{}, f.err
	}
	// Through JSON, as the real ledger canonicalizes it: no floats may survive.
	b, err := json.Marshal(data)
	if err != nil {
		return ledger.Entry{}, err
	}
	if _, err := ledger.Canonicalize(b); err != nil {
		return ledger.Entry{}, err
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	f.entries = append(f.entries, appended{orderID, typ, m})
	return ledger.Entry{OrderID: orderID, Type: typ}, nil
}

type env struct {
	h      *webhook.Handler
	orders *fakeOrders
	events *fakeEvents
	queue  *fakeQueue
	ledger *fakeLedger
}

func newEnv(t *testing.T) *env {
	t.Helper()
	mt, err := midtrans.New(midtrans.Config{ServerKey: fixtureServerKey})
	if err != nil {
		t.Fatal(err)
	}
	xd, err := xendit.New(xendit.Config{CallbackToken: fixtureCallbackToken})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{
		orders: &fakeOrders{total: map[string]money.Money{fixtureOrder: {Amount: 170000, Currency: "IDR"}}},
		events: &fakeEvents{stored: map[string]paymentevents.Stored{}},
		queue:  &fakeQueue{},
		ledger: &fakeLedger{},
	}
	e.h, err = webhook.NewHandler(webhook.Config{
		Midtrans: mt, Xendit: xd, Orders: e.orders, Events: e.events, Queue: e.queue, Ledger: e.ledger,
		Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// fixture loads an API Gateway HTTP API v2 event from events/commerce/paymentwebhook.
func fixture(t *testing.T, name string) httpapi.Request {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("../../../events/commerce/paymentwebhook", name))
	if err != nil {
		t.Fatal(err)
	}
	var req httpapi.Request
	if err := json.Unmarshal(raw, &req); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return req
}

func (e *env) call(t *testing.T, req httpapi.Request) (int, string) {
	t.Helper()
	resp, err := e.h.Handle(context.Background(), req)
	if err != nil {
		t.Fatalf("Handle returned an error: %v", err)
	}
	return resp.StatusCode, resp.Body
}

func errCode(t *testing.T, body string) string {
	t.Helper()
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("body %s: %v", body, err)
	}
	return e.Error.Code
}

func answer(t *testing.T, body string) string {
	t.Helper()
	var a struct {
		Status string `json:"status"`
	}
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		t.Fatalf("body %s: %v", body, err)
	}
	return a.Status
}

// counts says what a request touched: order reads, puts, sends, ledger appends.
func (e *env) counts() [4]int {
	return [4]int{e.orders.reads, e.events.puts, len(e.queue.sent), len(e.ledger.entries)}
}

func TestFixtures(t *testing.T) {
	tests := []struct {
		fixture    string
		status     int
		code       string // error code, or the 200 answer
		counts     [4]int // order reads, puts, sends, ledger appends
		key        string // the stored and sent notification
		refund     money.Money
		ledgerType string
	}{
		{fixture: "midtrans-settlement.json", status: 200, code: webhook.StatusAccepted, counts: [4]int{1, 1, 1, 0}, key: midtransKey},
		{fixture: "midtrans-pending.json", status: 200, code: webhook.StatusAccepted, counts: [4]int{1, 1, 1, 0},
			key: "midtrans/4f6a9c1e-2b7d-4e3a-9f10-8c5d2e7b1a64:pending:201"},
		{fixture: "midtrans-partial-refund.json", status: 200, code: webhook.StatusAccepted, counts: [4]int{1, 1, 1, 0},
			key: "midtrans/4f6a9c1e-2b7d-4e3a-9f10-8c5d2e7b1a64:partial_refund:200:50000.00", refund: money.Money{Amount: 50000, Currency: "IDR"}},
		{fixture: "xendit-paid.json", status: 200, code: webhook.StatusAccepted, counts: [4]int{1, 1, 1, 0}, key: xenditKey},
		{fixture: "xendit-expired.json", status: 200, code: webhook.StatusAccepted, counts: [4]int{1, 1, 1, 0}, key: "xendit/65a1f0c2b3d4e5f60718293a:EXPIRED"},
		// Header names in any case, and a body API Gateway base64-encoded.
		{fixture: "xendit-paid-mixed-case-base64.json", status: 200, code: webhook.StatusAccepted, counts: [4]int{1, 1, 1, 0}, key: xenditKey},

		// Forgeries: nothing read, stored, sent or recorded.
		{fixture: "midtrans-bad-signature.json", status: 401, code: webhook.CodeInvalidSignature},
		{fixture: "xendit-wrong-token.json", status: 401, code: webhook.CodeInvalidSignature},
		{fixture: "xendit-no-token.json", status: 401, code: webhook.CodeInvalidSignature},
		// Verified but not a whole notification.
		{fixture: "midtrans-malformed.json", status: 400, code: webhook.CodeInvalidNotification},
		// Correctly signed, but not the order's total: recorded, not stored.
		{fixture: "midtrans-amount-mismatch.json", status: 422, code: webhook.CodeAmountMismatch, counts: [4]int{1, 0, 0, 1},
			ledgerType: ledger.TypeNotificationRejected},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			e := newEnv(t)
			status, body := e.call(t, fixture(t, tt.fixture))
			if status != tt.status {
				t.Fatalf("status = %d %s, want %d", status, body, tt.status)
			}
			if status == 200 {
				if got := answer(t, body); got != tt.code {
					t.Errorf("answer = %q, want %q", got, tt.code)
				}
			} else if got := errCode(t, body); got != tt.code {
				t.Errorf("code = %q, want %q", got, tt.code)
			}
			if got := e.counts(); got != tt.counts {
				t.Errorf("order reads, puts, sends, ledger appends = %v, want %v", got, tt.counts)
			}
			if tt.key != "" {
				s, ok := e.events.stored[tt.key]
				if !ok {
					t.Fatalf("stored %v, want %s", keys(e.events.stored), tt.key)
				}
				if s.OrderID != fixtureOrder || s.Amount != (money.Money{Amount: 170000, Currency: "IDR"}) || !s.ReceivedAt.Equal(now) ||
					s.RefundAmount != tt.refund || len(s.Body) == 0 || !json.Valid(s.Body) {
					t.Errorf("stored %+v", s)
				}
				if sent := e.queue.sent[0]; sent.Key != tt.key || sent != s.Event {
					t.Errorf("sent %+v, stored %+v", sent, s.Event)
				}
			}
			if tt.ledgerType != "" {
				a := e.ledger.entries[0]
				want := map[string]any{
					"reason": "amount_mismatch", "source": "webhook", "provider": "midtrans",
					"notificationKey": midtransKey, "providerStatus": "settlement", "fraudStatus": "accept",
					"amount": 150000.0, "currency": "IDR", "expectedAmount": 170000.0, "expectedCurrency": "IDR",
				}
				if a.orderID != fixtureOrder || a.typ != tt.ledgerType {
					t.Errorf("ledger entry %s %s", a.orderID, a.typ)
				}
				if diff := cmp.Diff(want, a.data); diff != "" {
					t.Errorf("ledger data (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Signatures checked at the webhook: a body changed after signing, in any signed field,
// is a forgery; so is the right body signed with another key.
func TestTamperedNotifications(t *testing.T) {
	settlement := fixture(t, "midtrans-settlement.json")
	xenditPaid := fixture(t, "xendit-paid.json")
	tests := []struct {
		name string
		req  func() httpapi.Request
	}{
		{"midtrans order_id", func() httpapi.Request {
			r := settlement
			r.Body = strings.Replace(r.Body, fixtureOrder, "o_aaaaaaaaaaaaaaaaaaaaaaaaaa", 1)
			return r
		}},
		{"midtrans status_code", func() httpapi.Request {
			r := settlement
			r.Body = strings.Replace(r.Body, `"status_code":"200"`, `"status_code":"201"`, 1)
			return r
		}},
		{"midtrans gross_amount", func() httpapi.Request {
			r := settlement
			r.Body = strings.Replace(r.Body, `"gross_amount":"170000.00"`, `"gross_amount":"1700000.00"`, 1)
			return r
		}},
		{"midtrans gross_amount respelled", func() httpapi.Request {
			r := settlement
			r.Body = strings.Replace(r.Body, `"gross_amount":"170000.00"`, `"gross_amount":"170000"`, 1)
			return r
		}},
		{"midtrans signature flipped", func() httpapi.Request {
			r := settlement
			i := strings.Index(r.Body, `"signature_key":"`) + len(`"signature_key":"`)
			c := "0"
			if r.Body[i] == '0' {
				c = "1"
			}
			r.Body = r.Body[:i] + c + r.Body[i+1:]
			return r
		}},
		{"xendit token one byte off", func() httpapi.Request {
			r := xenditPaid
			r.Headers = map[string]string{"x-callback-token": fixtureCallbackToken[:len(fixtureCallbackToken)-1] + "X"}
			return r
		}},
		{"xendit token prefix", func() httpapi.Request {
			r := xenditPaid
			r.Headers = map[string]string{"x-callback-token": fixtureCallbackToken[:10]}
			return r
		}},
		{"xendit midtrans body on the xendit route", func() httpapi.Request {
			r := settlement
			r.RouteKey = webhook.RouteXendit
			return r
		}},
		{"xendit token in another header", func() httpapi.Request {
			r := xenditPaid
			r.Headers = map[string]string{"authorization": fixtureCallbackToken}
			return r
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			status, body := e.call(t, tt.req())
			if status != http.StatusUnauthorized || errCode(t, body) != webhook.CodeInvalidSignature {
				t.Errorf("got %d %s, want 401 invalid_signature", status, body)
			}
			if got := e.counts(); got != [4]int{} {
				t.Errorf("a forgery touched storage: %v", got)
			}
			if strings.Contains(body, fixtureServerKey) || strings.Contains(body, fixtureCallbackToken) {
				t.Error("the answer holds a secret")
			}
		})
	}
}

func TestUnknownOrder(t *testing.T) {
	e := newEnv(t)
	delete(e.orders.total, fixtureOrder)
	status, body := e.call(t, fixture(t, "midtrans-settlement.json"))
	if status != http.StatusNotFound || errCode(t, body) != webhook.CodeOrderNotFound {
		t.Errorf("got %d %s", status, body)
	}
	if got := e.counts(); got != [4]int{1, 0, 0, 0} {
		t.Errorf("order reads, puts, sends, ledger = %v; an unknown order has no ledger", got)
	}
}

func TestCurrencyMismatch(t *testing.T) {
	e := newEnv(t)
	e.orders.total[fixtureOrder] = money.Money{Amount: 170000, Currency: "VND"}
	status, body := e.call(t, fixture(t, "xendit-paid.json"))
	if status != http.StatusUnprocessableEntity || errCode(t, body) != webhook.CodeAmountMismatch {
		t.Fatalf("got %d %s", status, body)
	}
	if len(e.ledger.entries) != 1 || e.ledger.entries[0].data["expectedCurrency"] != "VND" || len(e.events.stored) != 0 {
		t.Errorf("ledger %+v, stored %v", e.ledger.entries, keys(e.events.stored))
	}
}

func TestDuplicates(t *testing.T) {
	e := newEnv(t)
	req := fixture(t, "midtrans-settlement.json")
	if status, body := e.call(t, req); status != 200 || answer(t, body) != webhook.StatusAccepted {
		t.Fatalf("first delivery: %d %s", status, body)
	}
	// Not yet processed: sent again, for SQS to drop (same deduplication id).
	status, body := e.call(t, req)
	if status != 200 || answer(t, body) != webhook.StatusDuplicate {
		t.Fatalf("second delivery: %d %s", status, body)
	}
	if len(e.queue.sent) != 2 || paymentevents.DedupID(e.queue.sent[0].Key) != paymentevents.DedupID(e.queue.sent[1].Key) ||
		e.queue.sent[1] != e.queue.sent[0] {
		t.Errorf("sent %+v", e.queue.sent)
	}
	// Processed: a duplicate sends nothing, stores nothing.
	e.events.markProcessed(midtransKey)
	for range 3 {
		status, body = e.call(t, req)
		if status != 200 || answer(t, body) != webhook.StatusDuplicate {
			t.Fatalf("later delivery: %d %s", status, body)
		}
	}
	if len(e.queue.sent) != 2 || len(e.events.stored) != 1 || len(e.ledger.entries) != 0 {
		t.Errorf("sent %d, stored %d, ledger %d", len(e.queue.sent), len(e.events.stored), len(e.ledger.entries))
	}
}

// An enqueue that fails after the put answers 5xx; the provider's retry gets the
// stored notification through.
func TestEnqueueFailureRecovers(t *testing.T) {
	e := newEnv(t)
	req := fixture(t, "xendit-paid.json")
	e.queue.err = errors.New("sqs: service unavailable")
	status, body := e.call(t, req)
	if status != http.StatusInternalServerError || errCode(t, body) != httpapi.CodeInternal || strings.Contains(body, "sqs") {
		t.Fatalf("got %d %s, want 500 internal without the cause", status, body)
	}
	if len(e.events.stored) != 1 || len(e.queue.sent) != 0 {
		t.Fatalf("stored %d, sent %d", len(e.events.stored), len(e.queue.sent))
	}
	e.queue.err = nil
	status, body = e.call(t, req)
	if status != 200 || answer(t, body) != webhook.StatusDuplicate {
		t.Fatalf("retry: %d %s", status, body)
	}
	if len(e.queue.sent) != 1 || e.queue.sent[0].Key != xenditKey {
		t.Errorf("sent %+v", e.queue.sent)
	}
}

func TestStorageFailures(t *testing.T) {
	t.Run("order read", func(t *testing.T) {
		e := newEnv(t)
		e.orders.err = errors.New("dynamodb: throttled")
		if status, _ := e.call(t, fixture(t, "midtrans-settlement.json")); status != 500 {
			t.Errorf("status %d", status)
		}
		if e.events.puts != 0 || len(e.queue.sent) != 0 {
			t.Error("went on after a failed read")
		}
	})
	t.Run("put", func(t *testing.T) {
		e := newEnv(t)
		e.events.err = errors.New("dynamodb: throttled")
		if status, _ := e.call(t, fixture(t, "midtrans-settlement.json")); status != 500 {
			t.Errorf("status %d", status)
		}
		if len(e.queue.sent) != 0 {
			t.Error("sent a notification that was not stored")
		}
	})
	t.Run("ledger", func(t *testing.T) {
		e := newEnv(t)
		e.ledger.err = fmt.Errorf("append: %w", ledger.ErrConflict)
		if status, _ := e.call(t, fixture(t, "midtrans-amount-mismatch.json")); status != 500 {
			t.Errorf("status %d: a rejection that is not recorded must be retried", status)
		}
	})
}

// The handler serves exactly the routes template.yaml gives
// CommercePaymentWebhookFunction, without an authorizer.
func TestRoutesMatchTemplate(t *testing.T) {
	tpl, err := samtemplate.Load("../../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fn, err := tpl.Function("CommercePaymentWebhookFunction")
	if err != nil {
		t.Fatal(err)
	}
	var fromTemplate []string
	for _, ev := range fn.Events() {
		if ev.Type != "HttpApi" {
			continue
		}
		if _, ok := ev.Properties["Auth"]; ok {
			t.Errorf("%s has an Auth block; providers send no token", ev.Name)
		}
		fromTemplate = append(fromTemplate, fmt.Sprintf("%v %v", ev.Properties["Method"], ev.Properties["Path"]))
	}
	slices.Sort(fromTemplate)
	e := newEnv(t)
	if diff := cmp.Diff(fromTemplate, e.h.RouteKeys()); diff != "" {
		t.Errorf("routes (-template +handler):\n%s", diff)
	}
}
