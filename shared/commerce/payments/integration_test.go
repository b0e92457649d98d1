package payments_test

// Integration tests against DynamoDB Local and the SQS emulator: notifications go
// through the real webhook into the real FIFO queue, and the consumer applies what it
// receives with the real orders.Store, as CommercePaymentsFunction does.

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/etalase/etalase/infra/localaccount"
	"github.com/etalase/etalase/infra/provision"
	"github.com/etalase/etalase/infra/samtemplate"
	"github.com/etalase/etalase/infra/testenv"
	"github.com/etalase/etalase/shared/commerce/ledger"
	"github.com/etalase/etalase/shared/commerce/order"
	"github.com/etalase/etalase/shared/commerce/orders"
	"github.com/etalase/etalase/shared/commerce/outbox"
	"github.com/etalase/etalase/shared/commerce/payment/midtrans"
	"github.com/etalase/etalase/shared/commerce/payment/xendit"
	"github.com/etalase/etalase/shared/commerce/paymentevents"
	"github.com/etalase/etalase/shared/commerce/paymentevents/eventqueue"
	"github.com/etalase/etalase/shared/commerce/payments"
	"github.com/etalase/etalase/shared/commerce/payments/paytest"
	"github.com/etalase/etalase/shared/commerce/webhook"
	"github.com/etalase/etalase/shared/contract"
)

const (
	itKey   = "SB-Mid-server-integration"
	itToken = "integration-callback-token"
)

type pipe struct {
	db       *dynamodb.Client
	q        *sqs.Client
	res      *provision.Resources
	queue    string
	webhook  *webhook.Handler
	consumer *payments.Handler
	store    *orders.Store
	ledger   *ledger.DynamoStore
	events   *paymentevents.Store
}

func newPipe(t *testing.T) *pipe {
	t.Helper()
	ctx := context.Background()
	db, q := testenv.DynamoDB(t, localaccount.Commerce), testenv.SQS(t, localaccount.Commerce)
	tpl, err := samtemplate.Load("../../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	res, err := provision.Provision(ctx, provision.Options{
		Template: tpl, Account: localaccount.Commerce,
		Params: map[string]string{"JwtIssuer": "https://id.etalase.example", "JwtAudience": "etalase"},
		Prefix: testenv.Prefix(t), DynamoDB: db, SQS: q,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, qu := range res.Queues {
			_, _ = q.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: aws.String(qu.URL)})
		}
	})
	tb := func(id string) string { return res.Tables[id].Name }
	p := &pipe{db: db, q: q, res: res, queue: res.Queues["PaymentEventsQueue"].URL}
	p.store = orders.NewStore(db, orders.Tables{Orders: tb("OrdersTable"), Catalog: tb("CatalogTable"), Ledger: tb("LedgerTable"), Outbox: tb("OutboxTable")})
	p.ledger = ledger.NewDynamoStore(db, tb("LedgerTable"), tb("OrdersTable"))
	p.events = paymentevents.NewStore(db, tb("PaymentEventsTable"))
	mt, _ := midtrans.New(midtrans.Config{ServerKey: itKey})
	xd, _ := xendit.New(xendit.Config{CallbackToken: itToken})
	log := slog.New(slog.DiscardHandler)
	p.webhook, err = webhook.NewHandler(webhook.Config{
		Midtrans: mt, Xendit: xd, Orders: webhook.NewDynamoOrders(db, tb("OrdersTable")),
		Events: p.events, Queue: eventqueue.New(q, p.queue), Ledger: p.ledger, Log: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	p.consumer = payments.NewHandler(payments.NewApplier(p.store, p.ledger, log), p.events, log)
	return p
}

func (p *pipe) place(t *testing.T, provider string) order.Order {
	t.Helper()
	o, err := paytest.Place(context.Background(), p.db, paytest.Tables{
		Orders: p.res.Tables["OrdersTable"].Name, Ledger: p.res.Tables["LedgerTable"].Name, Catalog: p.res.Tables["CatalogTable"].Name,
	}, paytest.Order(provider, time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// midtrans posts a Midtrans notification for o to the webhook and wants 200.
func (p *pipe) midtrans(t *testing.T, o order.Order, status string, refund string) {
	t.Helper()
	body := paytest.Midtrans{OrderID: o.ID, Status: status, TransactionID: "tx-" + o.ID, Gross: "200000.00", Refund: refund, Key: itKey}.Body()
	p.post(t, webhook.RouteMidtrans, body, nil)
}

func (p *pipe) post(t *testing.T, route string, body []byte, headers map[string]string) {
	t.Helper()
	resp, err := p.webhook.Handle(context.Background(), paytest.Request(route, body, headers))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("webhook: %d %s %v", resp.StatusCode, resp.Body, err)
	}
}

// consume receives every queued message, FIFO (one message per group per receive, as
// the emulator delivers), hands each batch to the consumer as Lambda would, deletes
// what it does not report, and returns the messages it was given.
func (p *pipe) consume(t *testing.T) []events.SQSMessage {
	t.Helper()
	ctx := context.Background()
	var all []events.SQSMessage
	for {
		r, err := p.q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(p.queue), MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll}})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Messages) == 0 {
			return all
		}
		ev := events.SQSEvent{}
		for _, m := range r.Messages {
			ev.Records = append(ev.Records, events.SQSMessage{
				MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle), Body: aws.ToString(m.Body),
				Attributes: m.Attributes, EventSource: "aws:sqs", EventSourceARN: p.res.Queues["PaymentEventsQueue"].Arn,
			})
		}
		resp, err := p.consumer.Handle(ctx, ev)
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("consumer: %+v, %v", resp.BatchItemFailures, err)
		}
		for _, m := range r.Messages {
			if _, err := p.q.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(p.queue), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
		all = append(all, ev.Records...)
	}
}

func (p *pipe) order(t *testing.T, id string) order.Order {
	t.Helper()
	o, err := p.store.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// entries returns the order's ledger, checked against the head on the order.
func (p *pipe) entries(t *testing.T, id string) []ledger.Entry {
	t.Helper()
	ctx := context.Background()
	es, err := p.ledger.Read(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	head, err := p.ledger.Head(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if v := ledger.VerifyHead(es, head, true); !v.OK {
		t.Errorf("ledger of %s does not verify: %+v", id, v)
	}
	return es
}

func types_(es []ledger.Entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Type
	}
	return out
}

func data(t *testing.T, e ledger.Entry) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(e.Data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// outboxTypes lists the event types of the order's outbox records, sorted.
func (p *pipe) outboxTypes(t *testing.T, o order.Order) []string {
	t.Helper()
	out, err := p.db.Scan(context.Background(), &dynamodb.ScanInput{
		TableName: aws.String(p.res.Tables["OutboxTable"].Name), ConsistentRead: aws.Bool(true),
		FilterExpression:          aws.String("aggregateId = :id"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":id": &types.AttributeValueMemberS{Value: o.ID}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var typs []string
	for _, it := range out.Items {
		r, err := outbox.FromItem(it)
		if err != nil {
			t.Fatal(err)
		}
		typs = append(typs, r.EventType)
		if r.EventType == contract.EventSaleAttributed || r.EventType == contract.EventSaleReversed {
			var s struct {
				OrderRef string `json:"orderRef"`
				Quantity int    `json:"quantity"`
			}
			if err := json.Unmarshal([]byte(r.Payload), &s); err != nil || s.OrderRef != o.OrderRef || s.Quantity != 2 {
				t.Errorf("%s payload %s", r.EventType, r.Payload)
			}
		}
	}
	slices.Sort(typs)
	return typs
}

// stock returns the catalog stock of the order's products.
func (p *pipe) stock(t *testing.T, o order.Order) []int64 {
	t.Helper()
	var out []int64
	for _, l := range o.Lines {
		r, err := p.db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(p.res.Tables["CatalogTable"].Name),
			Key: map[string]types.AttributeValue{"productId": &types.AttributeValueMemberS{Value: l.ProductID}}, ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		n, _ := strconv.ParseInt(r.Item["stock"].(*types.AttributeValueMemberN).Value, 10, 64)
		out = append(out, n)
	}
	return out
}

func TestPaymentsIntegration(t *testing.T) {
	t.Parallel()
	p := newPipe(t)
	ctx := context.Background()

	t.Run("settlement, duplicated, pays once with SaleAttributed", func(t *testing.T) {
		o := p.place(t, order.ProviderMidtrans)
		for range 3 {
			p.midtrans(t, o, "settlement", "")
		}
		msgs := p.consume(t)
		if len(msgs) != 1 {
			t.Errorf("consumed %d messages, want the settlement once", len(msgs))
		}
		got := p.order(t, o.ID)
		if got.Status != order.StatusPaid || got.Version != 2 {
			t.Fatalf("order %s v%d", got.Status, got.Version)
		}
		es := p.entries(t, o.ID)
		if !slices.Equal(types_(es), []string{ledger.TypeOrderCreated, ledger.TypeStatusChanged}) {
			t.Fatalf("ledger %v", types_(es))
		}
		d := data(t, es[1])
		if d["from"] != "PENDING_PAYMENT" || d["to"] != "PAID" || d["event"] != "payment_paid" || d["provider"] != "midtrans" ||
			d["notificationKey"] != "midtrans/tx-"+o.ID+":settlement:200" || d["amount"] != 200000.0 {
			t.Errorf("status_changed data %v", d)
		}
		if typs := p.outboxTypes(t, o); !slices.Equal(typs, []string{orders.EventOrderStatusChanged, contract.EventSaleAttributed}) {
			t.Errorf("outbox %v, want SaleAttributed for the attributed line and OrderStatusChanged", typs)
		}
		if st := p.stock(t, o); !slices.Equal(st, []int64{paytest.Stock, paytest.Stock}) {
			t.Errorf("stock %v", st)
		}
		stored, err := p.events.Get(ctx, "midtrans/tx-"+o.ID+":settlement:200")
		if err != nil || !stored.Processed() || stored.Outcome != string(payments.OutcomeChanged) {
			t.Errorf("stored %+v, %v", stored, err)
		}

		// The same message delivered again (a redelivery after a lost delete): nothing.
		resp, err := p.consumer.Handle(ctx, events.SQSEvent{Records: msgs})
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatal(resp, err)
		}
		if again := p.order(t, o.ID); again.Version != 2 || len(p.entries(t, o.ID)) != 2 || len(p.outboxTypes(t, o)) != 2 {
			t.Errorf("a replay changed the order: v%d", again.Version)
		}
	})

	t.Run("stale notifications after settlement change no state", func(t *testing.T) {
		o := p.place(t, order.ProviderMidtrans)
		p.midtrans(t, o, "settlement", "")
		p.midtrans(t, o, "pending", "")
		p.midtrans(t, o, "expire", "")
		if n := len(p.consume(t)); n != 3 {
			t.Errorf("consumed %d", n)
		}
		got := p.order(t, o.ID)
		if got.Status != order.StatusPaid || got.Version != 2 {
			t.Errorf("order %s v%d", got.Status, got.Version)
		}
		es := p.entries(t, o.ID)
		// pending is a no-op; the expire contradicts the payment and is recorded as rejected.
		if !slices.Equal(types_(es), []string{ledger.TypeOrderCreated, ledger.TypeStatusChanged, ledger.TypeNotificationRejected}) {
			t.Fatalf("ledger %v", types_(es))
		}
		if d := data(t, es[2]); d["reason"] != payments.ReasonTransitionRejected || d["providerStatus"] != "expire" || d["orderStatus"] != "PAID" {
			t.Errorf("rejection %v", d)
		}
		if st := p.stock(t, o); !slices.Equal(st, []int64{paytest.Stock, paytest.Stock}) {
			t.Errorf("stock released for a paid order: %v", st)
		}
	})

	t.Run("paid after expiry is PAID_LATE, flagged, stock not taken again", func(t *testing.T) {
		o := p.place(t, order.ProviderMidtrans)
		p.midtrans(t, o, "expire", "")
		p.consume(t)
		if got := p.order(t, o.ID); got.Status != order.StatusExpired {
			t.Fatalf("after expire: %s", got.Status)
		}
		released := []int64{paytest.Stock + 2, paytest.Stock + 1}
		if st := p.stock(t, o); !slices.Equal(st, released) {
			t.Errorf("stock after expiry %v, want %v", st, released)
		}
		p.midtrans(t, o, "settlement", "")
		p.midtrans(t, o, "settlement", "")
		p.consume(t)
		got := p.order(t, o.ID)
		if got.Status != order.StatusPaidLate || !got.NeedsRefund {
			t.Fatalf("order %s needsRefund %v", got.Status, got.NeedsRefund)
		}
		es := p.entries(t, o.ID)
		if !slices.Equal(types_(es), []string{ledger.TypeOrderCreated, ledger.TypeStatusChanged, ledger.TypeStatusChanged}) {
			t.Fatalf("ledger %v", types_(es))
		}
		if d := data(t, es[2]); d["to"] != "PAID_LATE" || d["needsRefund"] != true || d["releaseStock"] != nil {
			t.Errorf("PAID_LATE entry %v", d)
		}
		if st := p.stock(t, o); !slices.Equal(st, released) {
			t.Errorf("stock %v after the late payment, want %v", st, released)
		}
		if typs := p.outboxTypes(t, o); slices.Contains(typs, contract.EventSaleAttributed) {
			t.Errorf("a late payment attributed a sale: %v", typs)
		}
	})

	t.Run("refund reverses the sale", func(t *testing.T) {
		o := p.place(t, order.ProviderMidtrans)
		p.midtrans(t, o, "settlement", "")
		p.consume(t)
		p.midtrans(t, o, "refund", "200000.00")
		p.consume(t)
		got := p.order(t, o.ID)
		if got.Status != order.StatusRefunded || got.Refunded != paytest.IDR(200000) {
			t.Fatalf("order %s refunded %v", got.Status, got.Refunded)
		}
		want := []string{orders.EventOrderStatusChanged, orders.EventOrderStatusChanged, contract.EventSaleAttributed, contract.EventSaleReversed}
		if typs := p.outboxTypes(t, o); !slices.Equal(typs, want) {
			t.Errorf("outbox %v, want %v", typs, want)
		}
		if es := p.entries(t, o.ID); data(t, es[len(es)-1])["event"] != "payment_refunded" || data(t, es[len(es)-1])["refundAmount"] != 200000.0 {
			t.Errorf("refund entry %s", es[len(es)-1].Data)
		}
	})

	t.Run("partial refunds are recorded with their amount", func(t *testing.T) {
		o := p.place(t, order.ProviderMidtrans)
		p.midtrans(t, o, "settlement", "")
		p.midtrans(t, o, "partial_refund", "50000.00")
		p.midtrans(t, o, "partial_refund", "50000.00") // a retry
		p.consume(t)
		got := p.order(t, o.ID)
		if got.Status != order.StatusPaid || got.Refunded != paytest.IDR(50000) {
			t.Fatalf("order %s refunded %v", got.Status, got.Refunded)
		}
		p.midtrans(t, o, "partial_refund", "80000.00")
		p.consume(t)
		if got = p.order(t, o.ID); got.Refunded != paytest.IDR(80000) || got.Status != order.StatusPaid {
			t.Errorf("after the second partial refund: %s %v", got.Status, got.Refunded)
		}
		es := p.entries(t, o.ID)
		want := []string{ledger.TypeOrderCreated, ledger.TypeStatusChanged, ledger.TypeNotificationRecorded, ledger.TypeNotificationRecorded}
		if !slices.Equal(types_(es), want) {
			t.Fatalf("ledger %v, want %v", types_(es), want)
		}
		if d := data(t, es[2]); d["event"] != "payment_partially_refunded" || d["refundAmount"] != 50000.0 {
			t.Errorf("partial refund entry %v", d)
		}
		if typs := p.outboxTypes(t, o); slices.Contains(typs, contract.EventSaleReversed) {
			t.Errorf("a partial refund reversed the sale: %v", typs)
		}
	})

	t.Run("xendit PAID then SETTLED pays once", func(t *testing.T) {
		o := p.place(t, order.ProviderXendit)
		for _, st := range []string{"PENDING", "PAID", "SETTLED", "PAID"} {
			body := paytest.Xendit{InvoiceID: "inv-" + o.ID[2:14], OrderID: o.ID, Status: st, Amount: 200000}.Body()
			p.post(t, webhook.RouteXendit, body, map[string]string{"x-callback-token": itToken})
		}
		p.consume(t)
		got := p.order(t, o.ID)
		if got.Status != order.StatusPaid || got.Version != 2 {
			t.Errorf("order %s v%d", got.Status, got.Version)
		}
		if es := p.entries(t, o.ID); len(es) != 2 || data(t, es[1])["providerStatus"] != "PAID" {
			t.Errorf("ledger %v", types_(es))
		}
	})

	t.Run("orders interleaved in one queue stay in order each", func(t *testing.T) {
		a, b := p.place(t, order.ProviderMidtrans), p.place(t, order.ProviderMidtrans)
		p.midtrans(t, a, "settlement", "")
		p.midtrans(t, b, "deny", "")
		p.midtrans(t, a, "expire", "")
		p.midtrans(t, b, "settlement", "")
		p.consume(t)
		if sa, sb := p.order(t, a.ID).Status, p.order(t, b.ID).Status; sa != order.StatusPaid || sb != order.StatusPaidLate {
			t.Errorf("statuses %s, %s; want PAID and PAID_LATE (denied, then paid)", sa, sb)
		}
	})
}
