package expiry_test

// Integration test against DynamoDB Local and the SQS emulator, with the tables and
// ExpiryQueue created from template.yaml. Run it with `make test` or
// `go run ./infra/cmd/etalase env -- go test ./shared/commerce/expiry`.

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/etalase/etalase/infra/localaccount"
	"github.com/etalase/etalase/infra/provision"
	"github.com/etalase/etalase/infra/samtemplate"
	"github.com/etalase/etalase/infra/testenv"
	"github.com/etalase/etalase/shared/commerce/cart"
	"github.com/etalase/etalase/shared/commerce/catalog"
	"github.com/etalase/etalase/shared/commerce/expiry"
	"github.com/etalase/etalase/shared/commerce/ledger"
	"github.com/etalase/etalase/shared/commerce/money"
	"github.com/etalase/etalase/shared/commerce/order"
	"github.com/etalase/etalase/shared/commerce/orders"
	"github.com/etalase/etalase/shared/contract"
)

// clock is an adjustable clock.
type clock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.off = time.Until(t)
}

// receive waits up to wait for one message on the queue and deletes it.
func receive(t *testing.T, q *sqs.Client, url string, wait time.Duration) (events.SQSMessage, bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		out, err := q.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(url), MaxNumberOfMessages: 1, WaitTimeSeconds: 1,
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 1 {
			m := out.Messages[0]
			if _, err := q.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
			return events.SQSMessage{MessageId: aws.ToString(m.MessageId), Body: aws.ToString(m.Body)}, true
		}
	}
	return events.SQSMessage{}, false
}

// An order placed with a 3-second window: checkout's message arrives no earlier than
// the deadline (SQS delays it), a message that arrives early is sent again with the
// remaining delay, and at the deadline the order expires and its stock returns, once,
// even when the message is delivered twice.
func TestExpiryThroughSQS(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DynamoDB(t, localaccount.Commerce)
	q := testenv.SQS(t, localaccount.Commerce)
	tpl, err := samtemplate.Load("../../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	res, err := provision.Provision(ctx, provision.Options{
		Template: tpl, Account: localaccount.Commerce,
		Params: map[string]string{"JwtIssuer": "https://id.etalase.example", "JwtAudience": "etalase-commerce"},
		Prefix: testenv.Prefix(t), DynamoDB: db, SQS: q,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, tb := range res.Tables {
			_, _ = db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(tb.Name)})
		}
	})
	queue := res.Queues["ExpiryQueue"].URL
	if queue == "" {
		t.Fatalf("no ExpiryQueue: %+v", res.Queues)
	}
	tables := orders.Tables{
		Orders: res.Tables["OrdersTable"].Name, Catalog: res.Tables["CatalogTable"].Name, Cart: res.Tables["CartTable"].Name,
		Ledger: res.Tables["LedgerTable"].Name, Outbox: res.Tables["OutboxTable"].Name,
	}
	cat := catalog.NewService(catalog.NewDynamoStore(db, tables.Catalog, tables.Outbox))
	p, err := cat.Create(ctx, "seller-1", catalog.NewProduct{Title: "Kopi Gayo", ImageURL: "/x.jpg", Price: money.Money{Amount: 85000, Currency: "IDR"}, Stock: 5})
	if err != nil {
		t.Fatal(err)
	}
	carts := cart.NewService(cart.NewDynamoStore(db, tables.Cart, tables.Catalog), contract.HandoffVerifier{})
	if _, err := carts.Add(ctx, cart.Buyer("buyer-1"), cart.AddInput{ProductID: p.ID, Quantity: 2}); err != nil {
		t.Fatal(err)
	}
	store := orders.NewStore(db, tables)
	o, err := store.Checkout(ctx, orders.CheckoutInput{BuyerID: "buyer-1", Window: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{}
	sched := expiry.NewScheduler(q, queue, clk.Now)
	h := expiry.NewHandler(store, sched, slog.New(slog.DiscardHandler), clk.Now)

	// Checkout schedules the message; SQS holds it until the deadline.
	if err := sched.Schedule(ctx, o.ID, o.Deadline); err != nil {
		t.Fatal(err)
	}
	msg, ok := receive(t, q, queue, 6*time.Second)
	if !ok {
		t.Fatal("the expiry message never arrived")
	}
	if now := time.Now(); now.Before(o.Deadline) {
		t.Errorf("the message arrived %v before the deadline", o.Deadline.Sub(now))
	}

	// Delivered early (the clock says 2 s before the deadline): sent again, delayed.
	clk.Set(o.Deadline.Add(-2 * time.Second))
	resp, _ := h.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{msg}})
	if len(resp.BatchItemFailures) != 0 {
		t.Fatalf("failures %+v", resp.BatchItemFailures)
	}
	sent := time.Now()
	if st, _ := store.Get(ctx, o.ID); st.Status != order.StatusPendingPayment {
		t.Fatalf("an early message changed the order: %s", st.Status)
	}
	again, ok := receive(t, q, queue, 6*time.Second)
	if !ok {
		t.Fatal("the re-sent message never arrived")
	}
	if d := time.Since(sent); d < time.Second {
		t.Errorf("the re-sent message arrived after %v, want the remaining 2 s delay", d)
	}
	if m, err := expiry.Parse(again.Body); err != nil || m.OrderID != o.ID || !m.Deadline.Equal(o.Deadline) {
		t.Errorf("re-sent %+v, %v", m, err)
	}

	// At the deadline, delivered twice (SQS is at least once): expired once.
	clk.Set(o.Deadline.Add(time.Second))
	resp, _ = h.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{again, again}})
	if len(resp.BatchItemFailures) != 0 {
		t.Fatalf("failures %+v", resp.BatchItemFailures)
	}
	resp, _ = h.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{again}})
	if len(resp.BatchItemFailures) != 0 {
		t.Fatalf("failures %+v", resp.BatchItemFailures)
	}
	st, err := store.Get(ctx, o.ID)
	if err != nil || st.Status != order.StatusExpired {
		t.Fatalf("order = %s, %v; want EXPIRED", st.Status, err)
	}
	if got, _ := cat.Get(ctx, p.ID); got.Stock != 5 {
		t.Errorf("stock = %d, want 5 (released exactly once)", got.Stock)
	}
	led := ledger.NewDynamoStore(db, tables.Ledger, tables.Orders)
	entries, _ := led.Read(ctx, o.ID)
	head, _ := led.Head(ctx, o.ID)
	if v := ledger.VerifyHead(entries, head, true); !v.OK || len(entries) != 2 {
		t.Errorf("ledger: %d entries, %+v", len(entries), v)
	}
	if _, ok := receive(t, q, queue, 2*time.Second); ok {
		t.Error("an expired order's message was sent again")
	}
}
