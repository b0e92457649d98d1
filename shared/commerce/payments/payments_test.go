package payments_test

// Unit tests of the applier and the consumer with an in-memory store that writes what
// the state machine decides, as orders.Store does (without DynamoDB).

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
	"github.com/etalase/etalase/shared/commerce/orders"
	"github.com/etalase/etalase/shared/commerce/paymentevents"
	"github.com/etalase/etalase/shared/commerce/payments"
)

const (
	orderA = "o_rocsknolsez4jj42y44l7ga3ou"
	orderB = "o_mfrggzdfmztwq2lknnwg23tpob"
)

var t0 = time.Date(2026, 1, 1, 0, 15, 3, 0, time.UTC)

func idr(a int64) money.Money { return money.Money{Amount: a, Currency: "IDR"} }

// memStore is orders.Store's ApplyChange in memory.
type memStore struct {
	mu      sync.Mutex
	orders  map[string]order.Order
	entries map[string][]orders.LedgerEvent // written with a transition
	fail    map[string]error                // per order
}

func newMemStore(os ...order.Order) *memStore {
	s := &memStore{orders: map[string]order.Order{}, entries: map[string][]orders.LedgerEvent{}, fail: map[string]error{}}
	for _, o := range os {
		s.orders[o.ID] = o
	}
	return s
}

func (s *memStore) ApplyChange(_ context.Context, id string, decide func(order.Order) (order.Decision, error), ev orders.LedgerEvent,
	change func(before order.Order, after *order.Order),
) (orders.Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail[id]; err != nil {
		return orders.Result{}, err
	}
	o, ok := s.orders[id]
	if !ok {
		return orders.Result{}, orders.ErrOrderNotFound
	}
	d, err := decide(o)
	if err != nil || d.NoOp {
		return orders.Result{Order: o, Decision: d}, err
	}
	after := o.Apply(d, t0)
	if d.Next == order.StatusRefunded {
		after.Refunded = o.Total
	}
	if change != nil {
		change(o, &after)
	}
	after.LedgerSeq++
	s.orders[id] = after
	s.entries[id] = append(s.entries[id], ev)
	return orders.Result{Order: after, Decision: d, Applied: true}, nil
}

// memLedger records Append's entries.
type memLedger struct {
	mu      sync.Mutex
	entries map[string][]map[string]any
	types   map[string][]string
	err     error
}

func newMemLedger() *memLedger {
	return &memLedger{entries: map[string][]map[string]any{}, types: map[string][]string{}}
}

func (l *memLedger) Append(_ context.Context, id, typ string, data any) (ledger.Entry, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return ledger.Entry{}, l.err
	}
	b, err := json.Marshal(data)
	if err != nil {
		return ledger.Entry{}, err
	}
	if _, err := ledger.Canonicalize(b); err != nil {
		return ledger.Entry{}, err
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	l.entries[id] = append(l.entries[id], m)
	l.types[id] = append(l.types[id], typ)
	return ledger.Entry{OrderID: id, Type: typ}, nil
}

// memMarker records marks; it fails the first failFirst calls, and every call with err.
type memMarker struct {
	mu        sync.Mutex
	marked    map[string]string
	err       error
	failFirst int
	calls     int
}

func (m *memMarker) MarkProcessed(_ context.Context, key, outcome string, _ time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	if m.calls <= m.failFirst {
		return errors.New("TransactionConflictException: Operation was rejected because there is an ongoing transaction for the item")
	}
	if m.marked == nil {
		m.marked = map[string]string{}
	}
	m.marked[key] = outcome
	return m.err
}

func newOrder(id string, status order.Status) order.Order {
	return order.Order{
		ID: id, BuyerID: "buyer-1", OrderRef: "or_test", Currency: "IDR",
		Lines: []order.Line{{ProductID: "p_1", Title: "Kopi", Quantity: 2, UnitPrice: idr(85000),
			Attribution: &order.Attribution{PromotionID: "promo_1", CreatorID: "creator_1"}}},
		Subtotal: idr(170000), Total: idr(170000), Refunded: idr(0), Status: status,
		PaymentProvider: order.ProviderMidtrans, Deadline: t0.Add(time.Hour), Version: 1, LedgerSeq: 1,
		CreatedAt: t0.Add(-time.Minute), UpdatedAt: t0.Add(-time.Minute),
	}
}

func midtransEvent(id, status, fraud string) paymentevents.Event {
	nid := "tx-1:" + status + ":200"
	return paymentevents.Event{Key: "midtrans/" + nid, Provider: "midtrans", NotificationID: nid, OrderID: id,
		Status: status, FraudStatus: fraud, Amount: idr(170000), ProviderRef: "tx-1", ReceivedAt: t0}
}

func TestApply(t *testing.T) {
	partial := func(amount int64) paymentevents.Event {
		e := midtransEvent(orderA, "partial_refund", "accept")
		e.RefundAmount = idr(amount)
		e.NotificationID += ":" + string(rune('0'+amount/10000))
		e.Key = "midtrans/" + e.NotificationID
		return e
	}
	tests := []struct {
		name       string
		status     order.Status
		prepare    func(*order.Order)
		ev         paymentevents.Event
		outcome    payments.Outcome
		next       order.Status
		refunded   int64
		needs      [2]bool // needsRefund, needsReview
		event      string  // data.event of the written or rejected entry
		rejectType string  // the Append entry's type and reason, if any
		reason     string
	}{
		{name: "settlement pays", status: order.StatusPendingPayment, ev: midtransEvent(orderA, "settlement", "accept"),
			outcome: payments.OutcomeChanged, next: order.StatusPaid, event: "payment_paid"},
		{name: "capture accepted pays", status: order.StatusPendingPayment, ev: midtransEvent(orderA, "capture", "accept"),
			outcome: payments.OutcomeChanged, next: order.StatusPaid, event: "payment_paid"},
		{name: "capture challenged is recorded for review", status: order.StatusPendingPayment, ev: midtransEvent(orderA, "capture", "challenge"),
			outcome: payments.OutcomeRecorded, next: order.StatusPendingPayment, needs: [2]bool{false, true}, event: "payment_challenge"},
		{name: "a second challenge changes nothing", status: order.StatusPendingPayment, prepare: func(o *order.Order) { o.NeedsReview = true },
			ev: midtransEvent(orderA, "capture", "challenge"), outcome: payments.OutcomeNoOp, next: order.StatusPendingPayment, needs: [2]bool{false, true}},
		{name: "deny fails", status: order.StatusPendingPayment, ev: midtransEvent(orderA, "deny", ""),
			outcome: payments.OutcomeChanged, next: order.StatusFailed, event: "payment_denied"},
		{name: "cancel cancels", status: order.StatusPendingPayment, ev: midtransEvent(orderA, "cancel", ""),
			outcome: payments.OutcomeChanged, next: order.StatusCancelled, event: "payment_cancelled"},
		{name: "expire expires", status: order.StatusPendingPayment, ev: midtransEvent(orderA, "expire", ""),
			outcome: payments.OutcomeChanged, next: order.StatusExpired, event: "payment_expired"},
		{name: "pending after settlement", status: order.StatusPaid, ev: midtransEvent(orderA, "pending", ""),
			outcome: payments.OutcomeNoOp, next: order.StatusPaid},
		{name: "settlement again", status: order.StatusPaid, ev: midtransEvent(orderA, "settlement", "accept"),
			outcome: payments.OutcomeNoOp, next: order.StatusPaid},
		{name: "expire after settlement is rejected", status: order.StatusPaid, ev: midtransEvent(orderA, "expire", ""),
			outcome: payments.OutcomeRejected, next: order.StatusPaid, event: "payment_expired",
			rejectType: ledger.TypeNotificationRejected, reason: payments.ReasonTransitionRejected},
		{name: "paid after expiry is PAID_LATE, to refund", status: order.StatusExpired, ev: midtransEvent(orderA, "settlement", "accept"),
			outcome: payments.OutcomeChanged, next: order.StatusPaidLate, needs: [2]bool{true, false}, event: "payment_paid"},
		{name: "refund", status: order.StatusPaid, ev: midtransEvent(orderA, "refund", "accept"),
			outcome: payments.OutcomeChanged, next: order.StatusRefunded, refunded: 170000, event: "payment_refunded"},
		{name: "refund of an unpaid order is rejected", status: order.StatusPendingPayment, ev: midtransEvent(orderA, "refund", "accept"),
			outcome: payments.OutcomeRejected, next: order.StatusPendingPayment, event: "payment_refunded",
			rejectType: ledger.TypeNotificationRejected, reason: payments.ReasonTransitionRejected},
		{name: "partial refund recorded with its amount", status: order.StatusPaid, ev: partial(50000),
			outcome: payments.OutcomeRecorded, next: order.StatusPaid, refunded: 50000, event: "payment_partially_refunded"},
		{name: "a larger partial refund", status: order.StatusPaid, prepare: func(o *order.Order) { o.Refunded = idr(50000) }, ev: partial(80000),
			outcome: payments.OutcomeRecorded, next: order.StatusPaid, refunded: 80000, event: "payment_partially_refunded"},
		{name: "a partial refund already recorded", status: order.StatusPaid, prepare: func(o *order.Order) { o.Refunded = idr(50000) }, ev: partial(50000),
			outcome: payments.OutcomeNoOp, next: order.StatusPaid, refunded: 50000},
		{name: "unknown status", status: order.StatusPendingPayment, ev: midtransEvent(orderA, "something_new", ""),
			outcome: payments.OutcomeUnmapped, next: order.StatusPendingPayment, event: "payment_something_new",
			rejectType: ledger.TypeNotificationRejected, reason: payments.ReasonUnknownProviderStatus},
		{name: "xendit PAID", status: order.StatusPendingPayment, ev: paymentevents.Event{Key: "xendit/inv-1:PAID", Provider: "xendit",
			NotificationID: "inv-1:PAID", OrderID: orderA, Status: "PAID", Amount: idr(170000), ReceivedAt: t0},
			outcome: payments.OutcomeChanged, next: order.StatusPaid, event: "payment_paid"},
		{name: "xendit SETTLED after PAID", status: order.StatusPaid, ev: paymentevents.Event{Key: "xendit/inv-1:SETTLED", Provider: "xendit",
			NotificationID: "inv-1:SETTLED", OrderID: orderA, Status: "SETTLED", Amount: idr(170000), ReceivedAt: t0},
			outcome: payments.OutcomeNoOp, next: order.StatusPaid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOrder(orderA, tt.status)
			if tt.prepare != nil {
				tt.prepare(&o)
			}
			store, led := newMemStore(o), newMemLedger()
			res, err := payments.NewApplier(store, led, nil).Apply(context.Background(), tt.ev, payments.SourceNotification)
			if err != nil {
				t.Fatal(err)
			}
			got := store.orders[orderA]
			if res.Outcome != tt.outcome || got.Status != tt.next || got.Refunded.Amount != tt.refunded ||
				[2]bool{got.NeedsRefund, got.NeedsReview} != tt.needs {
				t.Errorf("outcome %s, order %s refunded %d needs %v/%v; want %s, %s, %d, %v",
					res.Outcome, got.Status, got.Refunded.Amount, got.NeedsRefund, got.NeedsReview, tt.outcome, tt.next, tt.refunded, tt.needs)
			}
			written := store.entries[orderA]
			switch {
			case tt.outcome == payments.OutcomeChanged || tt.outcome == payments.OutcomeRecorded:
				if len(written) != 1 || written[0].Type != "" || written[0].Data["event"] != tt.event ||
					written[0].Data["notificationKey"] != tt.ev.Key || written[0].Data["source"] != "notification" {
					t.Errorf("transition entries %+v", written)
				}
				if tt.ev.RefundAmount.Amount > 0 && written[0].Data["refundAmount"] != tt.ev.RefundAmount.Amount {
					t.Errorf("refundAmount %v", written[0].Data["refundAmount"])
				}
			case len(written) != 0:
				t.Errorf("wrote %+v", written)
			}
			appended := led.entries[orderA]
			if tt.rejectType == "" {
				if len(appended) != 0 {
					t.Errorf("appended %v", appended)
				}
				return
			}
			if len(appended) != 1 || led.types[orderA][0] != tt.rejectType || appended[0]["reason"] != tt.reason ||
				appended[0]["event"] != tt.event || appended[0]["notificationKey"] != tt.ev.Key {
				t.Errorf("appended %s %v", led.types[orderA], appended)
			}
			if tt.reason == payments.ReasonTransitionRejected && appended[0]["orderStatus"] != string(tt.status) {
				t.Errorf("orderStatus %v", appended[0]["orderStatus"])
			}
		})
	}
}

func TestApplyFromReconcile(t *testing.T) {
	store := newMemStore(newOrder(orderA, order.StatusPendingPayment))
	res, err := payments.NewApplier(store, newMemLedger(), nil).Apply(context.Background(), midtransEvent(orderA, "settlement", "accept"), payments.SourceReconcile)
	if err != nil || res.Outcome != payments.OutcomeChanged {
		t.Fatalf("%+v, %v", res, err)
	}
	if d := store.entries[orderA][0].Data; d["event"] != "reconciled_settlement" || d["source"] != "reconcile" {
		t.Errorf("data %v", d)
	}
}

func TestApplyErrors(t *testing.T) {
	ctx := context.Background()
	t.Run("transient store error", func(t *testing.T) {
		store := newMemStore(newOrder(orderA, order.StatusPendingPayment))
		store.fail[orderA] = orders.ErrConflict
		if _, err := payments.NewApplier(store, newMemLedger(), nil).Apply(ctx, midtransEvent(orderA, "settlement", "accept"), payments.SourceNotification); !errors.Is(err, orders.ErrConflict) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("a rejection that cannot be recorded", func(t *testing.T) {
		store, led := newMemStore(newOrder(orderA, order.StatusPaid)), newMemLedger()
		led.err = ledger.ErrConflict
		if _, err := payments.NewApplier(store, led, nil).Apply(ctx, midtransEvent(orderA, "deny", ""), payments.SourceNotification); !errors.Is(err, ledger.ErrConflict) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("unknown order", func(t *testing.T) {
		res, err := payments.NewApplier(newMemStore(), newMemLedger(), nil).Apply(ctx, midtransEvent(orderA, "settlement", "accept"), payments.SourceNotification)
		if err != nil || res.Outcome != payments.OutcomeOrderNotFound {
			t.Errorf("%+v, %v", res, err)
		}
	})
}

func fixture(t *testing.T, name string) events.SQSEvent {
	t.Helper()
	raw, err := os.ReadFile("../../../events/commerce/payments/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var ev events.SQSEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

func failures(resp events.SQSEventResponse) []string {
	var out []string
	for _, f := range resp.BatchItemFailures {
		out = append(out, f.ItemIdentifier)
	}
	slices.Sort(out)
	return out
}

func TestHandlerBatch(t *testing.T) {
	batch := fixture(t, "fifo-batch.json") // A settlement, B PAID (xendit), A pending
	ctx := context.Background()

	t.Run("all applied", func(t *testing.T) {
		b := newOrder(orderB, order.StatusPendingPayment)
		b.PaymentProvider, b.Lines[0].UnitPrice, b.Lines[0].Quantity, b.Subtotal, b.Total = order.ProviderXendit, idr(30000), 1, idr(30000), idr(30000)
		store, marker := newMemStore(newOrder(orderA, order.StatusPendingPayment), b), &memMarker{}
		resp, err := payments.NewHandler(payments.NewApplier(store, newMemLedger(), nil), marker, nil).Handle(ctx, batch)
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("failures %v, %v", failures(resp), err)
		}
		if store.orders[orderA].Status != order.StatusPaid || store.orders[orderB].Status != order.StatusPaid {
			t.Errorf("statuses %s %s", store.orders[orderA].Status, store.orders[orderB].Status)
		}
		want := map[string]string{
			"midtrans/4f6a9c1e-2b7d-4e3a-9f10-8c5d2e7b1a64:settlement:200": "changed",
			"midtrans/4f6a9c1e-2b7d-4e3a-9f10-8c5d2e7b1a64:pending:201":    "noop",
			"xendit/65a1f0c2b3d4e5f60718293a:PAID":                         "changed",
		}
		if len(marker.marked) != 3 {
			t.Errorf("marked %v", marker.marked)
		}
		for k, v := range want {
			if marker.marked[k] != v {
				t.Errorf("marked %s %q, want %q", k, marker.marked[k], v)
			}
		}
	})

	t.Run("a failure holds back the rest of its group only", func(t *testing.T) {
		b := newOrder(orderB, order.StatusPendingPayment)
		b.Lines[0].UnitPrice, b.Lines[0].Quantity, b.Subtotal, b.Total = idr(30000), 1, idr(30000), idr(30000)
		store, marker := newMemStore(newOrder(orderA, order.StatusPendingPayment), b), &memMarker{}
		store.fail[orderA] = errors.New("dynamodb: throttled")
		resp, _ := payments.NewHandler(payments.NewApplier(store, newMemLedger(), nil), marker, nil).Handle(ctx, batch)
		want := []string{batch.Records[0].MessageId, batch.Records[2].MessageId}
		slices.Sort(want)
		if got := failures(resp); !slices.Equal(got, want) {
			t.Errorf("failures %v, want A's two messages %v", got, want)
		}
		if store.orders[orderB].Status != order.StatusPaid || len(marker.marked) != 1 {
			t.Errorf("B %s, marked %v", store.orders[orderB].Status, marker.marked)
		}
	})

	t.Run("an unreadable message fails, later ones of its group wait", func(t *testing.T) {
		bad := fixture(t, "fifo-batch.json")
		bad.Records[0].Body = `{"v":1}`
		store := newMemStore(newOrder(orderA, order.StatusPendingPayment), newOrder(orderB, order.StatusPendingPayment))
		resp, _ := payments.NewHandler(payments.NewApplier(store, newMemLedger(), nil), &memMarker{}, nil).Handle(ctx, bad)
		if got := failures(resp); len(got) != 2 || slices.Contains(got, bad.Records[1].MessageId) {
			t.Errorf("failures %v", got)
		}
		if store.orders[orderA].Status != order.StatusPendingPayment {
			t.Error("a later message of the failed group was applied")
		}
	})

	t.Run("a failed mark is not a failure", func(t *testing.T) {
		store := newMemStore(newOrder(orderA, order.StatusPendingPayment), newOrder(orderB, order.StatusPendingPayment))
		resp, _ := payments.NewHandler(payments.NewApplier(store, newMemLedger(), nil), &memMarker{err: errors.New("throttled")}, nil).Handle(ctx, batch)
		if len(resp.BatchItemFailures) != 0 {
			t.Errorf("failures %v", failures(resp))
		}
	})

	// Found by the reliability suite (infra/reliability, TestFaults): a mark that failed
	// once on a transaction conflict left the stored notification unprocessed for good,
	// as the webhook's re-send of a duplicate fell into SQS's deduplication window.
	t.Run("a mark that failed on a transient error is tried again", func(t *testing.T) {
		b := newOrder(orderB, order.StatusPendingPayment)
		b.PaymentProvider, b.Lines[0].UnitPrice, b.Lines[0].Quantity, b.Subtotal, b.Total = order.ProviderXendit, idr(30000), 1, idr(30000), idr(30000)
		store := newMemStore(newOrder(orderA, order.StatusPendingPayment), b)
		marker := &memMarker{failFirst: 2}
		resp, _ := payments.NewHandler(payments.NewApplier(store, newMemLedger(), nil), marker, nil).Handle(ctx, batch)
		if len(resp.BatchItemFailures) != 0 || len(marker.marked) != 3 || marker.calls != 5 {
			t.Errorf("failures %v, marked %v after %d calls; want all 3 marked after 2 failed calls", failures(resp), marker.marked, marker.calls)
		}
	})
}

func TestHandlerPartialRefundFixture(t *testing.T) {
	store := newMemStore(newOrder(orderA, order.StatusPaid))
	resp, err := payments.NewHandler(payments.NewApplier(store, newMemLedger(), nil), &memMarker{}, nil).Handle(context.Background(), fixture(t, "partial-refund.json"))
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("%v %v", failures(resp), err)
	}
	if o := store.orders[orderA]; o.Status != order.StatusPaid || o.Refunded != idr(50000) {
		t.Errorf("order %s refunded %v", o.Status, o.Refunded)
	}
}
