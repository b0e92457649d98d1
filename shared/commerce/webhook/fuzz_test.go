package webhook_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/etalase/etalase/infra/fuzzhttp"
	"github.com/etalase/etalase/shared/commerce/ledger"
	"github.com/etalase/etalase/shared/commerce/money"
	"github.com/etalase/etalase/shared/commerce/payment/midtrans"
	"github.com/etalase/etalase/shared/commerce/payment/xendit"
	"github.com/etalase/etalase/shared/commerce/paymentevents"
	"github.com/etalase/etalase/shared/commerce/webhook"
	"github.com/etalase/etalase/shared/platform/httpapi"
)

// The fixtures' secrets, order and Xendit notification key (events/commerce/paymentwebhook
// is signed with these).
const (
	fuzzServerKey     = "SB-Mid-server-fixture-key"
	fuzzCallbackToken = "fixture-xendit-callback-token"
	fuzzOrder         = "o_rocsknolsez4jj42y44l7ga3ou"
	fuzzXenditKey     = "xendit/65a1f0c2b3d4e5f60718293a:PAID"
)

// FuzzWebhookHandler sends fuzzed provider notifications (both routes of
// CommercePaymentWebhookFunction, built from events/commerce/paymentwebhook: body,
// base64, headers with the Xendit callback token, query, path) through Handler.Handle
// with the real Midtrans and Xendit verifiers and in-memory orders, event store, queue
// and ledger (a Xendit notification stored and processed before). For any input: no
// panic, no 5xx, the error envelope on every 4xx; a 401 reads nothing; a 4xx stores
// and enqueues nothing, and only 422 amount_mismatch appends (one ledger entry, by
// design); a 200 has its notification stored.
func FuzzWebhookHandler(f *testing.F) {
	tg := fuzzhttp.New(f, "../../../template.yaml", "CommercePaymentWebhookFunction", "../../../events/commerce/paymentwebhook")
	tg.Seed(f,
		fuzzhttp.Input{Fixture: 5, Body: `{"order_id":"` + fuzzOrder + `","status_code":"200","gross_amount":"170000.00","signature_key":"00"}`},
		fuzzhttp.Input{Fixture: 9, Headers: "X-Callback-Token: " + fuzzCallbackToken + "\nx-callback-token: wrong"},
		fuzzhttp.Input{Fixture: 9, Body: `{"id":"x","external_id":"` + fuzzOrder + `","status":"PAID","amount":-1,"currency":"IDR"}`, Headers: "x-callback-token: " + fuzzCallbackToken},
		fuzzhttp.Input{Fixture: 9, Body: `{"id":"65a1f0c2b3d4e5f60718293a","external_id":"o_unknownunknownunknownunkno","status":"PAID","amount":170000,"paid_amount":170000,"currency":"IDR"}`, Headers: "x-callback-token: " + fuzzCallbackToken, Base64: true},
		fuzzhttp.Input{Fixture: 9, Body: `{"id":"65a1f0c2b3d4e5f60718293b","external_id":"` + fuzzOrder + `","status":"PAID","amount":170000,"paid_amount":170000,"currency":"USD"}`, Headers: "x-callback-token: " + fuzzCallbackToken},
	)
	mt, err := midtrans.New(midtrans.Config{ServerKey: fuzzServerKey})
	if err != nil {
		f.Fatal(err)
	}
	xd, err := xendit.New(xendit.Config{CallbackToken: fuzzCallbackToken})
	if err != nil {
		f.Fatal(err)
	}
	at := time.Date(2026, 1, 1, 0, 15, 3, 0, time.UTC)
	tg.Fuzz(f, func(t *testing.T, req httpapi.Request) {
		fk := &fuzzWebhookFakes{stored: map[string]paymentevents.Stored{
			fuzzXenditKey: {ProcessedAt: at.Add(-time.Minute), Outcome: "applied"},
		}}
		h, err := webhook.NewHandler(webhook.Config{
			Midtrans: mt, Xendit: xd, Orders: fk, Events: fk, Queue: fk, Ledger: fk,
			Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return at },
		})
		if err != nil {
			t.Fatal(err)
		}

		resp, err := h.Handle(context.Background(), req)
		code := fuzzhttp.Check(t, req, resp, err)

		fk.mu.Lock()
		defer fk.mu.Unlock()
		switch {
		case resp.StatusCode == 401 && fk.reads+fk.puts+fk.sends+fk.appends > 0:
			t.Fatalf("%s: 401 after %d reads, %d puts, %d sends, %d appends", req.RouteKey, fk.reads, fk.puts, fk.sends, fk.appends)
		case resp.StatusCode >= 400 && (fk.fresh > 0 || fk.sends > 0):
			t.Fatalf("%s: %d %s stored %d and enqueued %d", req.RouteKey, resp.StatusCode, code, fk.fresh, fk.sends)
		case fk.appends > 0 && !(resp.StatusCode == 422 && code == webhook.CodeAmountMismatch && fk.appends == 1):
			t.Fatalf("%s: %d %s appended %d ledger entries", req.RouteKey, resp.StatusCode, code, fk.appends)
		case resp.StatusCode == 200 && fk.puts != 1:
			t.Fatalf("%s: 200 after %d puts", req.RouteKey, fk.puts)
		}
	})
}

// fuzzWebhookFakes are the webhook's order table (one order), event store, queue and
// ledger, counting what a request did. None of them fails: an event that does not
// validate, a message that does not marshal or ledger data that does not canonicalize
// is refused as the real ones refuse it, and the handler's 500 shows the bug.
type fuzzWebhookFakes struct {
	mu                                 sync.Mutex
	stored                             map[string]paymentevents.Stored
	reads, puts, fresh, sends, appends int
}

func (f *fuzzWebhookFakes) OrderTotal(_ context.Context, id string) (money.Money, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	if id != fuzzOrder {
		return money.Money{}, webhook.ErrOrderNotFound
	}
	return money.Money{Amount: 170000, Currency: "IDR"}, nil
}

func (f *fuzzWebhookFakes) PutOnce(_ context.Context, e paymentevents.Event, body []byte) (paymentevents.Stored, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.puts++
	if err := e.Validate(); err != nil {
		return paymentevents.Stored{}, false, err
	}
	if s, ok := f.stored[e.Key]; ok {
		return s, false, nil
	}
	f.stored[e.Key] = paymentevents.Stored{Event: e, Body: append([]byte(nil), body...)}
	f.fresh++
	return paymentevents.Stored{}, true, nil
}

func (f *fuzzWebhookFakes) Send(_ context.Context, e paymentevents.Event) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := paymentevents.MarshalMessage(e); err != nil {
		return err
	}
	f.sends++
	return nil
}

func (f *fuzzWebhookFakes) Append(_ context.Context, orderID, typ string, data any) (ledger.Entry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if orderID != fuzzOrder {
		return ledger.Entry{}, ledger.ErrOrderNotFound
	}
	b, err := json.Marshal(data)
	if err != nil {
		return ledger.Entry{}, err
	}
	if _, err := ledger.Canonicalize(b); err != nil {
		return ledger.Entry{}, err
	}
	f.appends++
	return ledger.Entry{OrderID: orderID, Type: typ}, nil
}
