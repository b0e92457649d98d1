package checkout_test

// Integration tests against DynamoDB Local and the SQS emulator, with the tables and
// queues created from template.yaml: the handler with the real orders store and the
// real idempotency store; the payment providers are fakes (the end-to-end test uses the
// payment sandbox). Checkout sends nothing to SQS: the order's expiry is its
// OrderCreated outbox record, which the relay turns into the ExpiryQueue message (the
// relay's tests follow it there), and the tests check that ExpiryQueue stays empty. Run them with `make test` or
// `go run ./infra/cmd/etalase env -- go test ./shared/commerce/checkout`.

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
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
	"github.com/etalase/etalase/shared/commerce/cart"
	"github.com/etalase/etalase/shared/commerce/catalog"
	"github.com/etalase/etalase/shared/commerce/checkout"
	"github.com/etalase/etalase/shared/commerce/money"
	"github.com/etalase/etalase/shared/commerce/order"
	"github.com/etalase/etalase/shared/commerce/orders"
	"github.com/etalase/etalase/shared/commerce/outbox"
	"github.com/etalase/etalase/shared/commerce/payment"
	"github.com/etalase/etalase/shared/contract"
	"github.com/etalase/etalase/shared/platform/httpapi"
	"github.com/etalase/etalase/shared/platform/idempotency"
)

// fakeProvider opens sessions, or fails with err.
type fakeProvider struct {
	name  string
	calls atomic.Int32
	mu    sync.Mutex
	err   error
	got   []payment.SessionRequest
}

func (p *fakeProvider) CreateSession(_ context.Context, req payment.SessionRequest) (payment.Session, error) {
	p.calls.Add(1)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.got = append(p.got, req)
	if p.err != nil {
		return payment.Session{}, fmt.Errorf("%s: %w", p.name, p.err)
	}
	return payment.Session{RedirectURL: "https://pay.example/" + p.name + "/" + req.OrderID, ProviderRef: p.name + "-ref-" + req.OrderID}, nil
}

func (p *fakeProvider) fail(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.err = err
}

type env struct {
	db        *dynamodb.Client
	count     *ddbcount.Counter
	sqs       *sqs.Client
	queue     string
	tables    orders.Tables
	store     *orders.Store
	catalog   *catalog.Service
	carts     *cart.Service
	midtrans  *fakeProvider
	xendit    *fakeProvider
	handler   *checkout.Handler
	idemTable string
}

func newEnv(t *testing.T) *env {
	t.Helper()
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
		for _, qu := range res.Queues {
			_, _ = q.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: aws.String(qu.URL)})
		}
	})
	e := &env{
		db: db, count: ddbcount.New(), sqs: q, queue: res.Queues["ExpiryQueue"].URL,
		tables: orders.Tables{
			Orders: res.Tables["OrdersTable"].Name, Catalog: res.Tables["CatalogTable"].Name, Cart: res.Tables["CartTable"].Name,
			Ledger: res.Tables["LedgerTable"].Name, Outbox: res.Tables["OutboxTable"].Name,
		},
		idemTable: res.Tables["IdempotencyTable"].Name,
		midtrans:  &fakeProvider{name: order.ProviderMidtrans}, xendit: &fakeProvider{name: order.ProviderXendit},
	}
	counted := e.count.Wrap(db)
	e.store = orders.NewStore(counted, e.tables)
	e.catalog = catalog.NewService(catalog.NewDynamoStore(db, e.tables.Catalog, e.tables.Outbox))
	e.carts = cart.NewService(cart.NewDynamoStore(db, e.tables.Cart, e.tables.Catalog), contract.HandoffVerifier{})
	keeper, err := idempotency.NewDynamoStore(counted, e.idemTable)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	svc, err := checkout.NewService(e.store, map[string]payment.SessionCreator{order.ProviderMidtrans: e.midtrans, order.ProviderXendit: e.xendit},
		15*time.Minute, log)
	if err != nil {
		t.Fatal(err)
	}
	e.handler = checkout.NewHandler(svc, idempotency.NewMiddleware(keeper, log), log)
	return e
}

func (e *env) product(t *testing.T, stock int64) string {
	t.Helper()
	p, err := e.catalog.Create(context.Background(), "seller-1", catalog.NewProduct{Title: "Kopi Gayo", ImageURL: "/x.jpg", Price: money.Money{Amount: 85000, Currency: "IDR"}, Stock: stock})
	if err != nil {
		t.Fatal(err)
	}
	return p.ID
}

func (e *env) add(t *testing.T, buyer, product string, qty int) {
	t.Helper()
	if _, err := e.carts.Add(context.Background(), cart.Buyer(buyer), cart.AddInput{ProductID: product, Quantity: qty}); err != nil {
		t.Fatal(err)
	}
}

func (e *env) stock(t *testing.T, id string) int64 {
	t.Helper()
	p, err := e.catalog.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return p.Stock
}

// created returns the OrderCreated outbox records, by order id: the orders' expiry
// schedules, which the relay sends to ExpiryQueue.
func (e *env) created(t *testing.T) map[string]orders.OrderCreated {
	t.Helper()
	out, err := e.db.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(e.tables.Outbox), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]orders.OrderCreated{}
	for _, it := range out.Items {
		rec, err := outbox.FromItem(it)
		if err != nil {
			t.Fatal(err)
		}
		if rec.EventType != orders.EventOrderCreated {
			continue
		}
		var p orders.OrderCreated
		if err := json.Unmarshal([]byte(rec.Payload), &p); err != nil {
			t.Fatal(err)
		}
		if _, dup := got[p.OrderID]; dup || rec.AggregateID != p.OrderID {
			t.Errorf("OrderCreated record %s: a second one, or aggregate id %s", p.OrderID, rec.AggregateID)
		}
		got[p.OrderID] = p
	}
	return got
}

// queued is how many messages ExpiryQueue holds (visible, in flight or delayed).
func (e *env) queued(t *testing.T) int {
	t.Helper()
	out, err := e.sqs.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(e.queue),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, a := range []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages,
		sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible, sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed} {
		v, ok := out.Attributes[string(a)]
		if !ok {
			t.Fatalf("ExpiryQueue has no %s attribute: %v", a, out.Attributes)
		}
		k, err := strconv.Atoi(v)
		if err != nil {
			t.Fatal(err)
		}
		n += k
	}
	return n
}

func (e *env) orderCount(t *testing.T) int {
	t.Helper()
	out, err := e.db.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(e.tables.Orders), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.Items)
}

// request is the checkout fixture as buyer, with an Idempotency-Key and a body.
func request(t *testing.T, fixtureName, buyer, key, body string) httpapi.Request {
	t.Helper()
	raw, err := os.ReadFile("../../../events/commerce/checkout/" + fixtureName)
	if err != nil {
		t.Fatal(err)
	}
	var req httpapi.Request
	if err := json.Unmarshal(raw, &req); err != nil {
		t.Fatal(err)
	}
	req.RequestContext.Authorizer.JWT.Claims["sub"] = buyer
	delete(req.Headers, "idempotency-key")
	if key != "" {
		req.Headers["idempotency-key"] = key
	}
	if body != "" {
		req.Body = body
	}
	return req
}

// result is the wire form of a checkout answer.
type result struct {
	OrderID string `json:"orderId"`
	Status  string `json:"status"`
	Amount  struct {
		Amount   int64
		Currency string
	} `json:"amount"`
	PaymentProvider *string                         `json:"paymentProvider"`
	PaymentURL      *string                         `json:"paymentUrl"`
	Deadline        time.Time                       `json:"deadline"`
	PaymentError    *struct{ Code, Message string } `json:"paymentError"`
}

func decode(t *testing.T, resp httpapi.Response, status int) result {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d %s, want %d", resp.StatusCode, resp.Body, status)
	}
	var r result
	dec := json.NewDecoder(strings.NewReader(resp.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("body %s: %v", resp.Body, err)
	}
	return r
}

func code(t *testing.T, resp httpapi.Response) string {
	t.Helper()
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &e); err != nil {
		t.Fatalf("body %s: %v", resp.Body, err)
	}
	return e.Error.Code
}

func TestCheckoutIdempotentAndItsCost(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	kopi := e.product(t, 10)
	e.add(t, "buyer-1", kopi, 2)
	e.count.Reset()
	const key = "6f1c1f0e-3c5e-4a55-9a43-8b0f6d2b7e11"

	resp, _ := e.handler.Handle(ctx, request(t, "checkout-midtrans.json", "buyer-1", key, ""))
	r := decode(t, resp, http.StatusCreated)
	if r.Status != "PENDING_PAYMENT" || r.Amount.Amount != 170000 || r.PaymentURL == nil || *r.PaymentURL != "https://pay.example/midtrans/"+r.OrderID ||
		r.PaymentProvider == nil || *r.PaymentProvider != "midtrans" || r.PaymentError != nil || resp.Headers["Location"] != "/commerce/v1/orders/"+r.OrderID {
		t.Errorf("checkout = %s %v", resp.Body, resp.Headers)
	}
	// What one checkout costs: the idempotency record's claim and completion, the cart
	// and product reads, the order's transaction and the payment session's record; no
	// SQS message: the transaction's OrderCreated record (naming the deadline and the
	// products) is the expiry's schedule, sent by the relay.
	got := e.count.Take()
	want := map[string]int{"PutItem": 1, "GetItem": 1, "BatchGetItem": 1, "TransactWriteItems": 2, "UpdateItem": 1}
	for op, n := range want {
		if got.Requests[op] != n {
			t.Errorf("%s = %d, want %d (all: %v)", op, got.Requests[op], n, got.Requests)
		}
	}
	if got.Total() != 6 {
		t.Errorf("checkout cost %d DynamoDB requests (%v), want 6", got.Total(), got.Requests)
	}
	if n := e.queued(t); n != 0 {
		t.Errorf("ExpiryQueue holds %d messages; checkout must send none (the relay does, from the outbox)", n)
	}
	st, err := e.store.Get(ctx, r.OrderID)
	if err != nil || st.PaymentURL != *r.PaymentURL || st.PaymentRef != "midtrans-ref-"+r.OrderID || st.Version != 2 {
		t.Errorf("stored order = %+v, %v", st, err)
	}
	if c, ok := e.created(t)[r.OrderID]; !ok || !c.Deadline.Equal(st.Deadline) || !slices.Equal(c.ProductIDs, []string{kopi}) {
		t.Errorf("OrderCreated record = %+v (found %v), want the deadline %v and product %s", c, ok, st.Deadline, kopi)
	}
	if req := e.midtrans.got[0]; req.OrderID != r.OrderID || req.Amount.Amount != 170000 || !req.ExpiresAt.Equal(st.Deadline) || len(req.Items) != 1 {
		t.Errorf("session request = %+v", req)
	}

	// The same request again: the same response, replayed, and no second order.
	again, _ := e.handler.Handle(ctx, request(t, "checkout-midtrans.json", "buyer-1", key, ""))
	if again.StatusCode != http.StatusCreated || again.Body != resp.Body || again.Headers[idempotency.HeaderReplayed] != "true" {
		t.Errorf("replay = %d %s %v", again.StatusCode, again.Body, again.Headers)
	}
	if c := e.count.Take(); c.Requests["TransactWriteItems"] != 0 {
		t.Errorf("a replay wrote: %v", c.Requests)
	}
	// The same key with another request: 422.
	other, _ := e.handler.Handle(ctx, request(t, "checkout-midtrans.json", "buyer-1", key, `{"provider":"xendit"}`))
	if other.StatusCode != 422 || code(t, other) != idempotency.CodeKeyReused {
		t.Errorf("reused key = %d %s", other.StatusCode, other.Body)
	}
	// Another key: the cart is gone, 409 cart_empty.
	empty, _ := e.handler.Handle(ctx, request(t, "checkout-midtrans.json", "buyer-1", "another-key-0001", ""))
	if empty.StatusCode != 409 || code(t, empty) != checkout.CodeCartEmpty {
		t.Errorf("second checkout = %d %s", empty.StatusCode, empty.Body)
	}
	if e.orderCount(t) != 1 || len(e.created(t)) != 1 || e.stock(t, kopi) != 8 || e.midtrans.calls.Load() != 1 {
		t.Errorf("%d orders, %d OrderCreated records, stock %d, %d sessions; want 1, 1, 8, 1",
			e.orderCount(t), len(e.created(t)), e.stock(t, kopi), e.midtrans.calls.Load())
	}
	// Without a key: 400, and nothing happens.
	nokey, _ := e.handler.Handle(ctx, request(t, "checkout-without-key.json", "buyer-1", "", ""))
	if nokey.StatusCode != 400 || code(t, nokey) != idempotency.CodeKeyRequired {
		t.Errorf("no key = %d %s", nokey.StatusCode, nokey.Body)
	}
}

// Ten identical requests at once (a double tap, an app retrying): exactly one order.
func TestConcurrentIdenticalCheckouts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	kopi := e.product(t, 10)
	e.add(t, "buyer-1", kopi, 1)
	const n = 10
	var wg sync.WaitGroup
	resps := make([]httpapi.Response, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			resps[i], _ = e.handler.Handle(ctx, request(t, "checkout-midtrans.json", "buyer-1", "double-tap-key-0001", ""))
		}()
	}
	close(start)
	wg.Wait()
	ids := map[string]bool{}
	created, inProgress := 0, 0
	for _, resp := range resps {
		switch {
		case resp.StatusCode == http.StatusCreated:
			created++
			ids[decode(t, resp, http.StatusCreated).OrderID] = true
		case resp.StatusCode == http.StatusConflict && code(t, resp) == idempotency.CodeInProgress:
			inProgress++
		default:
			t.Errorf("response %d %s", resp.StatusCode, resp.Body)
		}
	}
	if created < 1 || len(ids) != 1 || created+inProgress != n {
		t.Errorf("%d created (%d order ids), %d in progress", created, len(ids), inProgress)
	}
	if got := e.orderCount(t); got != 1 {
		t.Errorf("%d orders, want exactly 1", got)
	}
	if got := e.stock(t, kopi); got != 9 {
		t.Errorf("stock %d, want 9", got)
	}
	// After the first finished, the same request replays its order.
	resp, _ := e.handler.Handle(ctx, request(t, "checkout-midtrans.json", "buyer-1", "double-tap-key-0001", ""))
	if r := decode(t, resp, http.StatusCreated); !ids[r.OrderID] {
		t.Errorf("replay names order %s, not %v", r.OrderID, ids)
	}
}

// The provider is down at checkout: the order stands (201, no payment URL), its stock
// stays reserved and its expiry scheduled; the payment route opens the session later.
func TestProviderDownThenPaymentRoute(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	kopi := e.product(t, 10)
	e.add(t, "buyer-1", kopi, 3)
	e.midtrans.fail(payment.ErrUnavailable)

	resp, _ := e.handler.Handle(ctx, request(t, "checkout-midtrans.json", "buyer-1", "provider-down-key-1", ""))
	r := decode(t, resp, http.StatusCreated)
	if r.PaymentURL != nil || r.PaymentProvider != nil || r.PaymentError == nil || r.PaymentError.Code != checkout.CodeProviderUnavailable ||
		!strings.Contains(r.PaymentError.Message, "/commerce/v1/orders/"+r.OrderID+"/payment") {
		t.Errorf("checkout with the provider down = %s", resp.Body)
	}
	if _, scheduled := e.created(t)[r.OrderID]; e.stock(t, kopi) != 7 || !scheduled {
		t.Error("the order's stock or expiry (its OrderCreated record) is missing")
	}

	pay := func(buyer, provider string) httpapi.Response {
		req := request(t, "open-payment.json", buyer, "", `{"provider":"`+provider+`"}`)
		req.PathParameters = map[string]string{"orderId": r.OrderID}
		resp, _ := e.handler.Handle(ctx, req)
		return resp
	}
	if resp := pay("buyer-1", "midtrans"); resp.StatusCode != 503 || code(t, resp) != checkout.CodeProviderUnavailable {
		t.Errorf("still down = %d %s", resp.StatusCode, resp.Body)
	}
	e.midtrans.fail(nil)
	if resp := pay("buyer-2", "midtrans"); resp.StatusCode != 404 || code(t, resp) != orders.CodeOrderNotFound {
		t.Errorf("another buyer = %d %s", resp.StatusCode, resp.Body)
	}
	p := decode(t, pay("buyer-1", "midtrans"), http.StatusOK)
	if p.PaymentURL == nil || *p.PaymentURL != "https://pay.example/midtrans/"+r.OrderID || p.OrderID != r.OrderID {
		t.Errorf("payment route = %+v", p)
	}
	calls := e.midtrans.calls.Load()
	if again := decode(t, pay("buyer-1", "midtrans"), http.StatusOK); *again.PaymentURL != *p.PaymentURL || e.midtrans.calls.Load() != calls {
		t.Errorf("second call opened another session: %+v", again)
	}
	if resp := pay("buyer-1", "xendit"); resp.StatusCode != 409 || code(t, resp) != checkout.CodePaymentOpened {
		t.Errorf("another provider = %d %s", resp.StatusCode, resp.Body)
	}
	// Once cancelled, no session opens.
	if _, err := e.store.Apply(ctx, r.OrderID, order.Cancel, orders.LedgerEvent{}); err != nil {
		t.Fatal(err)
	}
	if resp := pay("buyer-1", "midtrans"); resp.StatusCode != 409 || code(t, resp) != checkout.CodeOrderNotPending {
		t.Errorf("cancelled order = %d %s", resp.StatusCode, resp.Body)
	}
	if e.stock(t, kopi) != 10 {
		t.Errorf("stock %d after the cancellation, want 10", e.stock(t, kopi))
	}
}

// Too little stock: 409 naming the product, nothing written, and the key freed so
// that the same request can be retried once stock is back.
func TestInsufficientStockFreesTheKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	kopi := e.product(t, 5)
	e.add(t, "buyer-1", kopi, 4)
	if _, err := e.catalog.SetStock(ctx, "seller-1", kopi, 3); err != nil {
		t.Fatal(err)
	}
	resp, _ := e.handler.Handle(ctx, request(t, "checkout-midtrans.json", "buyer-1", "short-stock-key-1", ""))
	var body struct {
		Error struct {
			Code    string
			Message string
			Details []httpapi.FieldError
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &body); err != nil || resp.StatusCode != 409 || body.Error.Code != checkout.CodeInsufficientStock ||
		len(body.Error.Details) != 1 || body.Error.Details[0].Field != "lines."+kopi || !strings.Contains(body.Error.Message, kopi) {
		t.Errorf("short stock = %d %s", resp.StatusCode, resp.Body)
	}
	if e.orderCount(t) != 0 || e.stock(t, kopi) != 3 || len(e.created(t)) != 0 || e.queued(t) != 0 || e.midtrans.calls.Load() != 0 {
		t.Error("a refused checkout did something")
	}
	if _, err := e.catalog.SetStock(ctx, "seller-1", kopi, 4); err != nil {
		t.Fatal(err)
	}
	resp, _ = e.handler.Handle(ctx, request(t, "checkout-midtrans.json", "buyer-1", "short-stock-key-1", ""))
	decode(t, resp, http.StatusCreated)
	if e.stock(t, kopi) != 0 {
		t.Errorf("stock %d, want 0", e.stock(t, kopi))
	}
}
