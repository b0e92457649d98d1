package expiry_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/etalase/etalase/shared/commerce/expiry"
	"github.com/etalase/etalase/shared/commerce/order"
	"github.com/etalase/etalase/shared/commerce/orders"
)

func TestDelay(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		until time.Duration
		want  int32
	}{
		{-time.Hour, 0}, {0, 0}, {time.Millisecond, 1}, {time.Second, 1}, {1500 * time.Millisecond, 2},
		{14*time.Minute + 59*time.Second, 899}, {15 * time.Minute, 900}, {15*time.Minute + time.Millisecond, 900}, {24 * time.Hour, 900},
	}
	for _, tt := range tests {
		if got := expiry.Delay(now.Add(tt.until), now); got != tt.want {
			t.Errorf("Delay(now+%v) = %d, want %d", tt.until, got, tt.want)
		}
	}
}

func TestParse(t *testing.T) {
	for _, body := range []string{"", "{", `{"orderId":"o_x","deadline":"2026-01-01T00:00:00Z"}`, `{"orderId":"o_mfrggzdfmztwq2lknnwg23tpob"}`, `[]`} {
		if _, err := expiry.Parse(body); err == nil {
			t.Errorf("Parse(%q) accepted", body)
		}
	}
	m, err := expiry.Parse(`{"orderId":"o_mfrggzdfmztwq2lknnwg23tpob","deadline":"2026-01-01T00:27:10Z"}`)
	if err != nil || m.OrderID != "o_mfrggzdfmztwq2lknnwg23tpob" || !m.Deadline.Equal(time.Date(2026, 1, 1, 0, 27, 10, 0, time.UTC)) {
		t.Errorf("Parse = %+v, %v", m, err)
	}
}

// fakeSQS records SendMessage calls.
type fakeSQS struct {
	mu   sync.Mutex
	sent []*sqs.SendMessageInput
	err  error
}

func (f *fakeSQS) SendMessage(_ context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	f.sent = append(f.sent, in)
	return &sqs.SendMessageOutput{MessageId: aws.String("m")}, nil
}

// fakeApplier answers Apply by order id.
type fakeApplier struct {
	mu      sync.Mutex
	orders  map[string]order.Order
	err     error
	applied []string
}

func (f *fakeApplier) Apply(_ context.Context, id string, decide func(order.Order) (order.Decision, error), _ orders.LedgerEvent) (orders.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return orders.Result{}, f.err
	}
	o, ok := f.orders[id]
	if !ok {
		return orders.Result{}, orders.ErrOrderNotFound
	}
	d, err := decide(o)
	if err != nil || d.NoOp {
		return orders.Result{Order: o, Decision: d}, err
	}
	o = o.Apply(d, time.Now())
	f.orders[id] = o
	f.applied = append(f.applied, id)
	return orders.Result{Order: o, Decision: d, Applied: true}, nil
}

func fixture(t *testing.T) events.SQSEvent {
	t.Helper()
	raw, err := os.ReadFile("../../../events/commerce/expiry/expiry-batch.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev events.SQSEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

func TestHandle(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 30, 0, 0, time.UTC)
	const due, early = "o_mfrggzdfmztwq2lknnwg23tpob", "o_nbswy3dpeb3w64tmmqqq2lkn2a"
	newOrder := func(id string, deadline time.Time) order.Order {
		return order.Order{ID: id, Status: order.StatusPendingPayment, Deadline: deadline, Version: 1}
	}
	setup := func() (*fakeApplier, *fakeSQS, *expiry.Handler) {
		ap := &fakeApplier{orders: map[string]order.Order{
			due:   newOrder(due, time.Date(2026, 1, 1, 0, 27, 10, 0, time.UTC)),
			early: newOrder(early, time.Date(2099, 1, 1, 23, 59, 59, 0, time.UTC)),
		}}
		q := &fakeSQS{}
		clock := func() time.Time { return now }
		return ap, q, expiry.NewHandler(ap, expiry.NewScheduler(q, "https://sqs/expiry", clock), slog.New(slog.DiscardHandler), clock)
	}

	// The fixture: one message past its deadline (expired), one far ahead (sent again
	// with SQS's longest delay). A second delivery of the first changes nothing.
	ap, q, h := setup()
	ev := fixture(t)
	ev.Records = append(ev.Records, ev.Records[0])
	resp, err := h.Handle(context.Background(), ev)
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("Handle = %+v, %v", resp, err)
	}
	if len(ap.applied) != 1 || ap.applied[0] != due || ap.orders[due].Status != order.StatusExpired {
		t.Errorf("applied %v; due order %s", ap.applied, ap.orders[due].Status)
	}
	if len(q.sent) != 1 || q.sent[0].DelaySeconds != 900 || aws.ToString(q.sent[0].QueueUrl) != "https://sqs/expiry" {
		t.Fatalf("sent %+v", q.sent)
	}
	m, err := expiry.Parse(aws.ToString(q.sent[0].MessageBody))
	if err != nil || m.OrderID != early || !m.Deadline.Equal(ap.orders[early].Deadline) {
		t.Errorf("re-sent %+v, %v", m, err)
	}

	// A paid order: nothing happens.
	ap, q, h = setup()
	o := ap.orders[due]
	o.Status = order.StatusPaid
	ap.orders[due] = o
	if out, err := h.Process(context.Background(), expiry.Message{OrderID: due, Deadline: o.Deadline}); err != nil || out != expiry.OutcomeUnchanged {
		t.Errorf("paid order: %s, %v", out, err)
	}
	// The order's own deadline is later than the message's: follow the order.
	later := now.Add(10 * time.Minute)
	ap.orders[early] = newOrder(early, later)
	if out, err := h.Process(context.Background(), expiry.Message{OrderID: early, Deadline: now.Add(-time.Minute)}); err != nil || out != expiry.OutcomeRescheduled {
		t.Errorf("deadline moved: %s, %v", out, err)
	}
	if len(q.sent) != 1 || q.sent[0].DelaySeconds != 600 {
		t.Errorf("sent %+v", q.sent)
	}
	// A missing order is acknowledged.
	if out, err := h.Process(context.Background(), expiry.Message{OrderID: "o_aaaaaaaaaaaaaaaaaaaaaaaaaa", Deadline: now}); err != nil || out != expiry.OutcomeMissing {
		t.Errorf("missing order: %s, %v", out, err)
	}

	// Failures are reported per message: a malformed body, a store that fails, a queue
	// that fails.
	ap, q, h = setup()
	ap.err, q.err = errors.New("dynamodb down"), errors.New("sqs down")
	ev = fixture(t)
	ev.Records = append(ev.Records, events.SQSMessage{MessageId: "bad", Body: "{"})
	resp, _ = h.Handle(context.Background(), ev)
	var failed []string
	for _, f := range resp.BatchItemFailures {
		failed = append(failed, f.ItemIdentifier)
	}
	if len(failed) != 3 || failed[2] != "bad" {
		t.Errorf("failures = %v, want all three", failed)
	}
}
