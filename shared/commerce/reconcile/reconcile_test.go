package reconcile_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/etalase/etalase/shared/commerce/ledger"
	"github.com/etalase/etalase/shared/commerce/money"
	"github.com/etalase/etalase/shared/commerce/order"
	"github.com/etalase/etalase/shared/commerce/payment"
	"github.com/etalase/etalase/shared/commerce/paymentevents"
	"github.com/etalase/etalase/shared/commerce/payments"
	"github.com/etalase/etalase/shared/commerce/payments/paytest"
	"github.com/etalase/etalase/shared/commerce/reconcile"
)

var now = time.Date(2026, 1, 1, 1, 0, 0, 0, time.UTC)

type fakeOrders struct {
	orders []order.Order
	limit  int
	err    error
}

func (f *fakeOrders) Pending(_ context.Context, limit int) ([]order.Order, error) {
	f.limit = limit
	return f.orders, f.err
}

// fakeProvider answers status queries from a map of order id to status.
type fakeProvider struct {
	mu      sync.Mutex
	name    string
	answers map[string]payment.Notification
	errs    map[string]error
	asked   []payment.StatusQuery
}

func (f *fakeProvider) Status(_ context.Context, q payment.StatusQuery) (payment.Notification, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, q)
	if err := f.errs[q.OrderID]; err != nil {
		return payment.Notification{}, err
	}
	n, ok := f.answers[q.OrderID]
	if !ok {
		return payment.Notification{}, payment.ErrNotFound
	}
	return n, nil
}

type fakeApplier struct {
	mu      sync.Mutex
	applied []paymentevents.Event
	sources []string
	outcome payments.Outcome
	err     error
}

func (f *fakeApplier) Apply(_ context.Context, e paymentevents.Event, source string) (payments.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return payments.Result{}, f.err
	}
	f.applied = append(f.applied, e)
	f.sources = append(f.sources, source)
	return payments.Result{Outcome: f.outcome}, nil
}

type fakeLedger struct {
	entries []map[string]any
}

func (f *fakeLedger) Append(_ context.Context, id, typ string, data any) (ledger.Entry, error) {
	b, _ := json.Marshal(data)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	m["_type"], m["_order"] = typ, id
	f.entries = append(f.entries, m)
	return ledger.Entry{}, nil
}

func answer(o order.Order, status string, outcome payment.Outcome, amount money.Money) payment.Notification {
	return payment.Notification{Provider: o.PaymentProvider, NotificationID: "tx-" + o.ID + ":" + status, OrderID: o.ID,
		Amount: amount, Status: status, Outcome: outcome, ProviderRef: "tx-" + o.ID}
}

func TestRun(t *testing.T) {
	old := func(provider string) order.Order { return paytest.Order(provider, now.Add(-15*time.Minute)) }
	paid, pending, unknown, failing, mismatch := old(order.ProviderMidtrans), old(order.ProviderMidtrans), old(order.ProviderMidtrans), old(order.ProviderMidtrans), old(order.ProviderMidtrans)
	xpaid := old(order.ProviderXendit)
	xpaid.PaymentRef = "inv-1"
	recent := paytest.Order(order.ProviderMidtrans, now.Add(-time.Minute))
	overdue := paytest.Order(order.ProviderMidtrans, now.Add(-2*time.Minute))
	overdue.Deadline = now.Add(-time.Second)
	noSession := old("")
	closed := old(order.ProviderMidtrans)
	closed.Status = order.StatusPaid // paid since the index was read

	mt := &fakeProvider{name: "midtrans", answers: map[string]payment.Notification{
		paid.ID:     answer(paid, "settlement", payment.OutcomePaid, paid.Total),
		pending.ID:  answer(pending, "pending", payment.OutcomePending, pending.Total),
		overdue.ID:  answer(overdue, "expire", payment.OutcomeExpired, overdue.Total),
		mismatch.ID: answer(mismatch, "settlement", payment.OutcomePaid, paytest.IDR(1000)),
		recent.ID:   answer(recent, "settlement", payment.OutcomePaid, recent.Total),
		closed.ID:   answer(closed, "settlement", payment.OutcomePaid, closed.Total),
	}, errs: map[string]error{failing.ID: payment.ErrUnavailable}}
	xd := &fakeProvider{name: "xendit", answers: map[string]payment.Notification{xpaid.ID: answer(xpaid, "PAID", payment.OutcomePaid, xpaid.Total)}}
	src := &fakeOrders{orders: []order.Order{paid, pending, unknown, failing, mismatch, xpaid, recent, overdue, noSession, closed}}
	app, led := &fakeApplier{outcome: payments.OutcomeChanged}, &fakeLedger{}
	r, err := reconcile.New(reconcile.Config{
		Orders: src, Providers: map[string]payment.StatusChecker{order.ProviderMidtrans: mt, order.ProviderXendit: xd},
		Applier: app, Ledger: led, MaxOrders: 40, Now: func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile("../../../events/commerce/reconcile/schedule.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev events.EventBridgeEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	s, err := r.Handle(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	want := reconcile.Summary{Listed: 10, TooRecent: 1, NoSession: 1, Asked: 7, Unknown: 1, Pending: 1, Applied: 3, Rejected: 1, Failed: 1}
	if s != want {
		t.Errorf("summary\n got %+v\nwant %+v", s, want)
	}
	if src.limit != 40 {
		t.Errorf("asked the index for %d", src.limit)
	}
	var appliedTo []string
	for i, e := range app.applied {
		appliedTo = append(appliedTo, e.OrderID)
		if app.sources[i] != payments.SourceReconcile || !e.ReceivedAt.Equal(now) {
			t.Errorf("applied %+v from %s", e, app.sources[i])
		}
	}
	if wantIDs := []string{paid.ID, xpaid.ID, overdue.ID}; !slices.Equal(appliedTo, wantIDs) {
		t.Errorf("applied to %v, want %v", appliedTo, wantIDs)
	}
	for _, q := range mt.asked {
		if q.ProviderRef != "" {
			t.Errorf("midtrans asked with ProviderRef %q (a Snap token is not a transaction id)", q.ProviderRef)
		}
	}
	if len(xd.asked) != 1 || xd.asked[0] != (payment.StatusQuery{OrderID: xpaid.ID, ProviderRef: "inv-1"}) {
		t.Errorf("xendit asked %+v", xd.asked)
	}
	if len(led.entries) != 1 || led.entries[0]["_order"] != mismatch.ID || led.entries[0]["_type"] != ledger.TypeNotificationRejected ||
		led.entries[0]["reason"] != "amount_mismatch" || led.entries[0]["source"] != "reconcile" || led.entries[0]["amount"] != 1000.0 {
		t.Errorf("ledger %v", led.entries)
	}
}

func TestRunBounds(t *testing.T) {
	o := paytest.Order(order.ProviderMidtrans, now.Add(-time.Hour))
	mk := func(src reconcile.OrderSource, app reconcile.Applier, max int) *reconcile.Reconciler {
		r, err := reconcile.New(reconcile.Config{Orders: src, Applier: app, Ledger: &fakeLedger{}, MaxOrders: max,
			Providers: map[string]payment.StatusChecker{order.ProviderMidtrans: &fakeProvider{answers: map[string]payment.Notification{
				o.ID: answer(o, "settlement", payment.OutcomePaid, o.Total)}}},
			Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	t.Run("defaults and cap", func(t *testing.T) {
		src := &fakeOrders{}
		if _, err := mk(src, &fakeApplier{}, 0).Run(context.Background()); err != nil || src.limit != reconcile.DefaultMaxOrders {
			t.Errorf("limit %d, %v", src.limit, err)
		}
		if _, _ = mk(src, &fakeApplier{}, 5000).Run(context.Background()); src.limit != reconcile.MaxMaxOrders {
			t.Errorf("limit %d", src.limit)
		}
	})
	t.Run("stops when the time runs short", func(t *testing.T) {
		app := &fakeApplier{}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		s, err := mk(&fakeOrders{orders: []order.Order{o, o}}, app, 10).Run(ctx)
		if err != nil || s.Skipped != 2 || len(app.applied) != 0 {
			t.Errorf("summary %+v, applied %d, %v", s, len(app.applied), err)
		}
	})
	t.Run("a listing failure fails the run", func(t *testing.T) {
		if _, err := mk(&fakeOrders{err: errors.New("throttled")}, &fakeApplier{}, 10).Run(context.Background()); err == nil {
			t.Error("no error")
		}
	})
	t.Run("an apply failure is counted, not fatal", func(t *testing.T) {
		s, err := mk(&fakeOrders{orders: []order.Order{o}}, &fakeApplier{err: errors.New("conflict")}, 10).Run(context.Background())
		if err != nil || s.Failed != 1 {
			t.Errorf("summary %+v, %v", s, err)
		}
	})
}
