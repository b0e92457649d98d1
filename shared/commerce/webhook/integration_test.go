package webhook_test

// Integration tests against DynamoDB Local and the SQS emulator, with the tables and
// the FIFO queue template.yaml declares: what a delivery stores, enqueues and records,
// and what it costs in requests.

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/etalase/etalase/infra/localaccount"
	"github.com/etalase/etalase/infra/provision"
	"github.com/etalase/etalase/infra/samtemplate"
	"github.com/etalase/etalase/infra/testenv"
	"github.com/etalase/etalase/infra/testenv/ddbcount"
	"github.com/etalase/etalase/shared/commerce/ledger"
	"github.com/etalase/etalase/shared/commerce/order"
	"github.com/etalase/etalase/shared/commerce/payment/midtrans"
	"github.com/etalase/etalase/shared/commerce/payment/xendit"
	"github.com/etalase/etalase/shared/commerce/paymentevents"
	"github.com/etalase/etalase/shared/commerce/paymentevents/eventqueue"
	"github.com/etalase/etalase/shared/commerce/payments/paytest"
	"github.com/etalase/etalase/shared/commerce/webhook"
)

const (
	itServerKey = "SB-Mid-server-integration"
	itToken     = "integration-callback-token"
)

// countingSQS counts SendMessage calls.
type countingSQS struct {
	*sqs.Client
	sends atomic.Int64
}

func (c *countingSQS) SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	c.sends.Add(1)
	return c.Client.SendMessage(ctx, in, opts...)
}

type itEnv struct {
	h       *webhook.Handler
	db      *dynamodb.Client
	q       *sqs.Client
	counter *ddbcount.Counter
	sqs     *countingSQS
	res     *provision.Resources
	events  *paymentevents.Store
	ledger  *ledger.DynamoStore
	queue   string
}

func newITEnv(t testing.TB) *itEnv {
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
	e := &itEnv{db: db, q: q, counter: ddbcount.New(), sqs: &countingSQS{Client: q}, res: res, queue: res.Queues["PaymentEventsQueue"].URL}
	counted := e.counter.Wrap(db)
	mt, _ := midtrans.New(midtrans.Config{ServerKey: itServerKey})
	xd, _ := xendit.New(xendit.Config{CallbackToken: itToken})
	e.events = paymentevents.NewStore(counted, res.Tables["PaymentEventsTable"].Name)
	e.ledger = ledger.NewDynamoStore(counted, res.Tables["LedgerTable"].Name, res.Tables["OrdersTable"].Name)
	e.h, err = webhook.NewHandler(webhook.Config{
		Midtrans: mt, Xendit: xd,
		Orders: webhook.NewDynamoOrders(counted, res.Tables["OrdersTable"].Name),
		Events: e.events, Queue: eventqueue.New(e.sqs, e.queue), Ledger: e.ledger,
		Log: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *itEnv) place(t testing.TB, provider string) order.Order {
	t.Helper()
	o, err := paytest.Place(context.Background(), e.db, paytest.Tables{
		Orders: e.res.Tables["OrdersTable"].Name, Ledger: e.res.Tables["LedgerTable"].Name, Catalog: e.res.Tables["CatalogTable"].Name,
	}, paytest.Order(provider, time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	e.counter.Reset()
	e.sqs.sends.Store(0)
	return o
}

// deliver posts a notification and returns the status, and the requests it cost.
func (e *itEnv) deliver(t testing.TB, route string, body []byte, headers map[string]string) (int, string, string) {
	t.Helper()
	resp, err := e.h.Handle(context.Background(), paytest.Request(route, body, headers))
	if err != nil {
		t.Fatal(err)
	}
	cost := e.counter.Take().String()
	if n := e.sqs.sends.Swap(0); n > 0 {
		cost = strings.TrimPrefix(fmt.Sprintf("%s SendMessage=%d", cost, n), "none ")
	}
	return resp.StatusCode, resp.Body, cost
}

// drain receives and deletes every message of the queue (one message group at a time,
// as FIFO delivers), and returns their bodies.
func (e *itEnv) drain(t testing.TB) []paymentevents.Event {
	t.Helper()
	ctx := context.Background()
	var out []paymentevents.Event
	for {
		r, err := e.q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(e.queue), MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll}})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Messages) == 0 {
			return out
		}
		for _, m := range r.Messages {
			ev, err := paymentevents.ParseMessage(aws.ToString(m.Body))
			if err != nil {
				t.Fatal(err)
			}
			if m.Attributes["MessageGroupId"] != ev.OrderID || m.Attributes["MessageDeduplicationId"] != paymentevents.DedupID(ev.Key) {
				t.Errorf("message attributes %v for %s", m.Attributes, ev.Key)
			}
			out = append(out, ev)
			if _, err := e.q.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(e.queue), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func (e *itEnv) storedCount(t testing.TB) int32 {
	t.Helper()
	out, err := e.db.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(e.res.Tables["PaymentEventsTable"].Name), Select: "COUNT", ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	return out.Count
}

func settlement(o order.Order, key string) []byte {
	return paytest.Midtrans{OrderID: o.ID, Status: "settlement", TransactionID: "tx-" + o.ID, Gross: "200000.00", Key: key}.Body()
}

func TestWebhookIntegration(t *testing.T) {
	t.Parallel()
	e := newITEnv(t)
	o := e.place(t, order.ProviderMidtrans)

	// A forgery: 401, nothing read, stored or enqueued.
	status, body, cost := e.deliver(t, webhook.RouteMidtrans, settlement(o, "SB-Mid-server-forged"), nil)
	if status != http.StatusUnauthorized || errCode(t, body) != webhook.CodeInvalidSignature || cost != "none" {
		t.Errorf("forgery: %d %s, cost %q", status, body, cost)
	}
	if n := e.storedCount(t); n != 0 {
		t.Errorf("forgery stored %d", n)
	}
	if msgs := e.drain(t); len(msgs) != 0 {
		t.Errorf("forgery enqueued %d", len(msgs))
	}

	// Signed, but for 150000 of a 200000 order: 422, and the ledger says so.
	wrong := paytest.Midtrans{OrderID: o.ID, Status: "settlement", TransactionID: "tx-" + o.ID, Gross: "150000.00", Key: itServerKey}.Body()
	status, body, _ = e.deliver(t, webhook.RouteMidtrans, wrong, nil)
	if status != http.StatusUnprocessableEntity || errCode(t, body) != webhook.CodeAmountMismatch {
		t.Errorf("amount mismatch: %d %s", status, body)
	}
	entries, err := e.ledger.Read(context.Background(), o.ID)
	if err != nil {
		t.Fatal(err)
	}
	head, err := e.ledger.Head(context.Background(), o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || entries[1].Type != ledger.TypeNotificationRejected || !ledger.VerifyHead(entries, head, true).OK {
		t.Errorf("ledger after the mismatch: %+v", entries)
	} else if d := string(entries[1].Data); d != `{"amount":150000,"currency":"IDR","expectedAmount":200000,"expectedCurrency":"IDR","fraudStatus":"accept",`+
		`"notificationKey":"midtrans/tx-`+o.ID+`:settlement:200","provider":"midtrans","providerStatus":"settlement","reason":"amount_mismatch","source":"webhook"}` {
		t.Errorf("rejection data %s", d)
	}
	if e.storedCount(t) != 0 || len(e.drain(t)) != 0 {
		t.Error("a mismatched notification was stored or enqueued")
	}

	// The real one: stored and enqueued once, in three requests.
	e.counter.Reset()
	status, body, cost = e.deliver(t, webhook.RouteMidtrans, settlement(o, itServerKey), nil)
	if status != 200 || answer(t, body) != webhook.StatusAccepted {
		t.Fatalf("first delivery: %d %s", status, body)
	}
	if cost != "GetItem=1 PutItem=1 SendMessage=1" {
		t.Errorf("a first delivery costs %q, want GetItem=1 PutItem=1 SendMessage=1", cost)
	}
	key := "midtrans/tx-" + o.ID + ":settlement:200"
	stored, err := e.events.Get(context.Background(), key)
	if err != nil || stored.OrderID != o.ID || string(stored.Body) != string(settlement(o, itServerKey)) || stored.Processed() {
		t.Errorf("stored %+v, %v", stored, err)
	}

	// Its retries, before the consumer ran: 200 duplicate, sent again, dropped by SQS.
	for range 2 {
		status, body, cost = e.deliver(t, webhook.RouteMidtrans, settlement(o, itServerKey), nil)
		if status != 200 || answer(t, body) != webhook.StatusDuplicate {
			t.Fatalf("duplicate: %d %s", status, body)
		}
	}
	if got := e.drain(t); len(got) != 1 || got[0].Key != key {
		t.Errorf("queue held %+v, want the notification once", got)
	}
	if e.storedCount(t) != 1 {
		t.Error("a duplicate was stored")
	}

	// Once processed, a duplicate is a read and a failed put, nothing else.
	if err := e.events.MarkProcessed(context.Background(), key, "changed", time.Now()); err != nil {
		t.Fatal(err)
	}
	e.counter.Reset()
	status, body, cost = e.deliver(t, webhook.RouteMidtrans, settlement(o, itServerKey), nil)
	if status != 200 || answer(t, body) != webhook.StatusDuplicate || cost != "GetItem=1 PutItem=1" {
		t.Errorf("processed duplicate: %d %s, cost %q", status, body, cost)
	}
	if got := e.drain(t); len(got) != 0 {
		t.Errorf("a processed duplicate was enqueued: %+v", got)
	}

	// An order that does not exist: 404 after one read, nothing else.
	ghost := paytest.Order(order.ProviderMidtrans, time.Now())
	status, body, cost = e.deliver(t, webhook.RouteMidtrans, settlement(ghost, itServerKey), nil)
	if status != http.StatusNotFound || errCode(t, body) != webhook.CodeOrderNotFound || cost != "GetItem=1" {
		t.Errorf("unknown order: %d %s, cost %q", status, body, cost)
	}
}

func TestXenditWebhookIntegration(t *testing.T) {
	t.Parallel()
	e := newITEnv(t)
	o := e.place(t, order.ProviderXendit)
	paid := paytest.Xendit{InvoiceID: "inv-" + o.ID[2:12], OrderID: o.ID, Status: "PAID", Amount: 200000}.Body()
	for _, headers := range []map[string]string{{"x-callback-token": "wrong"}, {}, {"X-Callback-Token": itToken + " "}} {
		if status, _, cost := e.deliver(t, webhook.RouteXendit, paid, headers); status != http.StatusUnauthorized || cost != "none" {
			t.Errorf("token %v: %d, cost %q", headers, status, cost)
		}
	}
	// Header names in any case.
	status, body, cost := e.deliver(t, webhook.RouteXendit, paid, map[string]string{"X-CALLBACK-TOKEN": itToken})
	if status != 200 || answer(t, body) != webhook.StatusAccepted || cost != "GetItem=1 PutItem=1 SendMessage=1" {
		t.Errorf("callback: %d %s, cost %q", status, body, cost)
	}
	got := e.drain(t)
	if len(got) != 1 || got[0].Key != "xendit/inv-"+o.ID[2:12]+":PAID" || got[0].Amount != paytest.IDR(200000) {
		t.Errorf("enqueued %+v", got)
	}
}

// BenchmarkWebhookAck measures the acknowledgement of a first delivery (verify, read
// the order, store, enqueue) against the emulators, and reports its p50 and p99. The
// target is a p99 under one second in AWS; locally it is a few milliseconds.
func BenchmarkWebhookAck(b *testing.B) {
	e := newITEnv(b)
	o := e.place(b, order.ProviderMidtrans)
	var lat []time.Duration
	for i := 0; b.Loop(); i++ {
		body := paytest.Midtrans{OrderID: o.ID, Status: "pending", TransactionID: fmt.Sprintf("tx-bench-%d", i), Gross: "200000.00", Key: itServerKey}.Body()
		start := time.Now()
		resp, err := e.h.Handle(context.Background(), paytest.Request(webhook.RouteMidtrans, body, nil))
		lat = append(lat, time.Since(start))
		if err != nil || resp.StatusCode != 200 {
			b.Fatalf("%d %s %v", resp.StatusCode, resp.Body, err)
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[min(len(lat)-1, len(lat)*99/100)].Microseconds())/1000, "p99-ms")
	}
}
