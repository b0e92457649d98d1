package orders_test

// Integration tests against DynamoDB Local, with the tables created from template.yaml,
// products written through the catalog's own store and carts through the cart's own
// service. Run them with `make test` or
// `go run ./infra/cmd/etalase env -- go test ./shared/commerce/orders`; a plain
// `go test` skips them.

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
	"github.com/google/go-cmp/cmp"

	"github.com/etalase/etalase/infra/localaccount"
	"github.com/etalase/etalase/infra/provision"
	"github.com/etalase/etalase/infra/samtemplate"
	"github.com/etalase/etalase/infra/testenv"
	"github.com/etalase/etalase/infra/testenv/ddbcount"
	"github.com/etalase/etalase/shared/commerce/cart"
	"github.com/etalase/etalase/shared/commerce/catalog"
	"github.com/etalase/etalase/shared/commerce/ledger"
	"github.com/etalase/etalase/shared/commerce/order"
	"github.com/etalase/etalase/shared/commerce/orders"
	"github.com/etalase/etalase/shared/commerce/outbox"
	"github.com/etalase/etalase/shared/contract"
	"github.com/etalase/etalase/shared/contract/schemacheck"
)

const seller = "seller-kopi-nusantara"

// env is one test's fresh commerce tables in DynamoDB Local.
type env struct {
	db      *dynamodb.Client
	count   *ddbcount.Counter
	tables  orders.Tables
	catalog *catalog.Service
	carts   *cart.Service
	key     ed25519.PrivateKey
	store   *orders.Store
	ledger  *ledger.DynamoStore
}

func newEnv(t *testing.T, opts ...func(*dynamodb.Options)) *env {
	t.Helper()
	db := testenv.DynamoDB(t, localaccount.Commerce)
	tpl, err := samtemplate.Load("../../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	res, err := provision.Provision(context.Background(), provision.Options{
		Template: tpl, Account: localaccount.Commerce,
		Params: map[string]string{"JwtIssuer": "https://id.etalase.example", "JwtAudience": "etalase-commerce"},
		Prefix: testenv.Prefix(t), DynamoDB: db, SQS: testenv.SQS(t, localaccount.Commerce),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, tb := range res.Tables {
			_, _ = db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(tb.Name)})
		}
	})
	e := &env{db: db, count: ddbcount.New(), tables: orders.Tables{
		Orders: res.Tables["OrdersTable"].Name, Catalog: res.Tables["CatalogTable"].Name, Cart: res.Tables["CartTable"].Name,
		Ledger: res.Tables["LedgerTable"].Name, Outbox: res.Tables["OutboxTable"].Name,
	}}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	e.key = priv
	e.catalog = catalog.NewService(catalog.NewDynamoStore(db, e.tables.Catalog, e.tables.Outbox))
	e.carts = cart.NewService(cart.NewDynamoStore(db, e.tables.Cart, e.tables.Catalog), contract.HandoffVerifier{PublicKey: pub})
	e.ledger = ledger.NewDynamoStore(db, e.tables.Ledger, e.tables.Orders)
	e.use(opts...)
	return e
}

// use rebuilds the store over a client with extra options (fault injection) and the counter.
func (e *env) use(opts ...func(*dynamodb.Options)) {
	e.store = orders.NewStore(dynamodb.New(e.db.Options(), append(opts, e.count.Option())...), e.tables)
}

func (e *env) product(t *testing.T, title string, price, stock int64) string {
	t.Helper()
	p, err := e.catalog.Create(context.Background(), seller, catalog.NewProduct{Title: title, ImageURL: "/assets/x.jpg", Price: idr(price), Stock: stock})
	if err != nil {
		t.Fatal(err)
	}
	return p.ID
}

// add puts qty units of a product into the buyer's cart, directly.
func (e *env) add(t *testing.T, buyer, productID string, qty int) {
	t.Helper()
	if _, err := e.carts.Add(context.Background(), cart.Buyer(buyer), cart.AddInput{ProductID: productID, Quantity: qty}); err != nil {
		t.Fatal(err)
	}
}

// addPromoted puts qty units into the buyer's cart through a hand-off token of a
// creator's promotion, as the buyer coming from social does.
func (e *env) addPromoted(t *testing.T, buyer, productID, promotion, creator string, qty int) {
	t.Helper()
	tok, err := contract.SignHandoff(e.key, contract.HandoffClaims{
		PromotionID: promotion, CreatorID: creator, ProductID: productID, DisplayedPrice: contract.Price{Amount: 1, Currency: "IDR"},
	}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.carts.Add(context.Background(), cart.Buyer(buyer), cart.AddInput{HandoffToken: tok, Quantity: qty}); err != nil {
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

// cart returns the buyer's stored cart (version 0 if none).
func (e *env) cart(t *testing.T, buyer string) cart.PricedCart {
	t.Helper()
	c, err := e.carts.Get(context.Background(), cart.Buyer(buyer))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (e *env) scan(t *testing.T, table string) []map[string]types.AttributeValue {
	t.Helper()
	var items []map[string]types.AttributeValue
	in := &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)}
	for {
		out, err := e.db.Scan(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, out.Items...)
		if len(out.LastEvaluatedKey) == 0 {
			return items
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// outbox returns the outbox records of an aggregate, by type.
func (e *env) outbox(t *testing.T, aggregate string) map[string][]outbox.Record {
	t.Helper()
	out := map[string][]outbox.Record{}
	for _, it := range e.scan(t, e.tables.Outbox) {
		r, err := outbox.FromItem(it)
		if err != nil {
			t.Fatal(err)
		}
		if r.AggregateID == aggregate {
			out[r.EventType] = append(out[r.EventType], r)
		}
	}
	return out
}

// verified returns an order's ledger entry types, failing unless the chain verifies
// against the head on the order.
func (e *env) verified(t *testing.T, orderID string) []string {
	t.Helper()
	ctx := context.Background()
	entries, err := e.ledger.Read(ctx, orderID)
	if err != nil {
		t.Fatal(err)
	}
	head, err := e.ledger.Head(ctx, orderID)
	if err != nil {
		t.Fatal(err)
	}
	if v := ledger.VerifyHead(entries, head, true); !v.OK {
		t.Errorf("ledger of %s does not verify: %+v", orderID, v)
	}
	var types []string
	for _, en := range entries {
		types = append(types, en.Type)
	}
	return types
}

// inject returns a client option that calls f before every call of operation op (n
// counts them from 1); an error from f fails the call without sending it.
func inject(op string, f func(n int) error) func(*dynamodb.Options) {
	var n atomic.Int32
	return func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
			return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("inject"+op,
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					if middleware.GetOperationName(ctx) == op {
						if err := f(int(n.Add(1))); err != nil {
							return middleware.InitializeOutput{}, middleware.Metadata{}, err
						}
					}
					return next.HandleInitialize(ctx, in)
				}), middleware.Before)
		})
	}
}

// conflict is what DynamoDB answers a transaction that collided with another.
func conflict(items int) error {
	rs := make([]types.CancellationReason, items)
	for i := range rs {
		rs[i].Code = aws.String("None")
	}
	rs[0].Code = aws.String("TransactionConflict")
	return &types.TransactionCanceledException{Message: aws.String("Transaction cancelled [TransactionConflict]"), CancellationReasons: rs}
}

const window = 15 * time.Minute

func (e *env) checkout(t *testing.T, buyer string) order.Order {
	t.Helper()
	o, err := e.store.Checkout(context.Background(), orders.CheckoutInput{BuyerID: buyer, Window: window, Provider: order.ProviderMidtrans})
	if err != nil {
		t.Fatalf("checkout of %s: %v", buyer, err)
	}
	return o
}

func TestCheckoutCommitsEverythingInOneTransaction(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	kopi, teh := e.product(t, "Kopi Gayo", 85000, 10), e.product(t, "Teh Melati", 30000, 5)
	e.addPromoted(t, "buyer-1", kopi, "promo-live-1", "creator-sari", 2)
	e.add(t, "buyer-1", teh, 1)
	e.count.Reset()

	before := time.Now()
	o := e.checkout(t, "buyer-1")
	if got := e.count.Take(); got.Requests["GetItem"] != 1 || got.Requests["BatchGetItem"] != 1 || got.Requests["TransactWriteItems"] != 1 || got.Total() != 3 {
		t.Errorf("checkout cost %v, want GetItem=1 BatchGetItem=1 TransactWriteItems=1", got.Requests)
	}
	stored, err := e.store.Get(context.Background(), o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(o, stored); diff != "" {
		t.Errorf("stored order differs from the returned one (-returned +stored):\n%s", diff)
	}
	if stored.Status != order.StatusPendingPayment || stored.Total != idr(200000) || stored.Version != 1 || len(stored.Lines) != 2 ||
		!contract.ValidOrderRef(stored.OrderRef) || stored.BuyerID != "buyer-1" {
		t.Errorf("order = %+v", stored)
	}
	if a := stored.Lines[0].Attribution; stored.Lines[0].ProductID != kopi || a == nil || a.PromotionID != "promo-live-1" || a.CreatorID != "creator-sari" {
		t.Errorf("line 0 = %+v", stored.Lines[0])
	}
	if stored.Lines[1].Attribution != nil {
		t.Errorf("a direct purchase got an attribution: %+v", stored.Lines[1])
	}
	if d := stored.Deadline.Sub(before); d < window || d > window+5*time.Second {
		t.Errorf("deadline %v is %v after the request, want the %v window", stored.Deadline, d, window)
	}
	if e.stock(t, kopi) != 8 || e.stock(t, teh) != 4 {
		t.Errorf("stock = %d, %d; want 8, 4", e.stock(t, kopi), e.stock(t, teh))
	}
	if c := e.cart(t, "buyer-1"); c.Cart.Version != 0 || len(c.Lines) != 0 {
		t.Errorf("cart still there: %+v", c.Cart)
	}
	if types := e.verified(t, o.ID); !slices.Equal(types, []string{ledger.TypeOrderCreated}) {
		t.Errorf("ledger = %v", types)
	}
	recs := e.outbox(t, o.ID)
	if len(recs) != 1 || len(recs[orders.EventOrderCreated]) != 1 {
		t.Fatalf("outbox = %v", recs)
	}
	var created orders.OrderCreated
	if err := json.Unmarshal([]byte(recs[orders.EventOrderCreated][0].Payload), &created); err != nil || created.OrderID != o.ID || created.Total != 200000 ||
		!created.Deadline.Equal(o.Deadline) || !slices.Equal(created.ProductIDs, orders.ProductIDs(stored)) || len(created.ProductIDs) != 2 {
		t.Errorf("OrderCreated = %+v, %v; the relay needs the deadline (expiry) and the products (stock snapshots)", created, err)
	}
	// The product's version moved, so a seller's compare-and-swap write of a stale
	// product fails instead of overwriting the reservation.
	p, err := e.catalog.Get(context.Background(), kopi)
	if err != nil || p.Version != 2 {
		t.Errorf("product version = %d, %v; want 2", p.Version, err)
	}
	// The buyer's cart is gone: checking out again is cart_empty.
	if _, err := e.store.Checkout(context.Background(), orders.CheckoutInput{BuyerID: "buyer-1", Window: window}); !errors.Is(err, orders.ErrCartEmpty) {
		t.Errorf("second checkout: err = %v, want ErrCartEmpty", err)
	}
}

// nothingWritten checks that a refused checkout left every table as it was.
func (e *env) nothingWritten(t *testing.T, buyer string, cartVersion int64, outboxBefore int, stock map[string]int64) {
	t.Helper()
	if n := len(e.scan(t, e.tables.Orders)); n != 0 {
		t.Errorf("%d orders written", n)
	}
	if n := len(e.scan(t, e.tables.Ledger)); n != 0 {
		t.Errorf("%d ledger entries written", n)
	}
	if n := len(e.scan(t, e.tables.Outbox)); n != outboxBefore {
		t.Errorf("outbox holds %d records, %d before", n, outboxBefore)
	}
	if c := e.cart(t, buyer); c.Cart.Version != cartVersion {
		t.Errorf("cart at version %d, was %d", c.Cart.Version, cartVersion)
	}
	for id, want := range stock {
		if got := e.stock(t, id); got != want {
			t.Errorf("stock of %s = %d, was %d", id, got, want)
		}
	}
}

func TestCheckoutInsufficientStockWritesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("known at read", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		kopi, teh, gula := e.product(t, "Kopi Gayo", 85000, 10), e.product(t, "Teh Melati", 30000, 5), e.product(t, "Gula Aren", 20000, 5)
		e.add(t, "buyer-1", kopi, 3)
		e.add(t, "buyer-1", teh, 5)
		e.add(t, "buyer-1", gula, 2)
		// The seller sells elsewhere: kopi and teh fall below the cart's quantities.
		if _, err := e.catalog.SetStock(ctx, seller, kopi, 2); err != nil {
			t.Fatal(err)
		}
		if _, err := e.catalog.SetStock(ctx, seller, teh, 4); err != nil {
			t.Fatal(err)
		}
		version, outboxBefore := e.cart(t, "buyer-1").Cart.Version, len(e.scan(t, e.tables.Outbox))
		_, err := e.store.Checkout(ctx, orders.CheckoutInput{BuyerID: "buyer-1", Window: window})
		var short *orders.InsufficientStockError
		if !errors.As(err, &short) || !errors.Is(err, orders.ErrInsufficientStock) {
			t.Fatalf("err = %v, want *InsufficientStockError", err)
		}
		if !slices.Equal(slices.Sorted(slices.Values(short.ProductIDs)), slices.Sorted(slices.Values([]string{kopi, teh}))) {
			t.Errorf("short = %v, want %s and %s", short.ProductIDs, kopi, teh)
		}
		e.nothingWritten(t, "buyer-1", version, outboxBefore, map[string]int64{kopi: 2, teh: 4, gula: 5})
	})

	// Stock taken by another checkout between the read and the commit: the
	// transaction's condition refuses it, and the cancellation reasons name the product.
	t.Run("lost at commit", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		kopi, teh := e.product(t, "Kopi Gayo", 85000, 10), e.product(t, "Teh Melati", 30000, 5)
		e.add(t, "buyer-1", kopi, 3)
		e.add(t, "buyer-1", teh, 1)
		version, outboxBefore := e.cart(t, "buyer-1").Cart.Version, len(e.scan(t, e.tables.Outbox))
		e.use(inject("TransactWriteItems", func(n int) error {
			if n == 1 {
				_, err := e.catalog.SetStock(ctx, seller, kopi, 1) // just before the commit
				return err
			}
			return nil
		}))
		_, err := e.store.Checkout(ctx, orders.CheckoutInput{BuyerID: "buyer-1", Window: window})
		var short *orders.InsufficientStockError
		if !errors.As(err, &short) || !slices.Equal(short.ProductIDs, []string{kopi}) {
			t.Fatalf("err = %v, want *InsufficientStockError naming %s", err, kopi)
		}
		if got := e.count.Snapshot().Requests["TransactWriteItems"]; got != 1 {
			t.Errorf("%d transactions, want 1 (short stock is final)", got)
		}
		e.nothingWritten(t, "buyer-1", version, outboxBefore+1 /* the SetStock event */, map[string]int64{kopi: 1, teh: 5})
	})
}

func TestCheckoutRefusals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	if _, err := e.store.Checkout(ctx, orders.CheckoutInput{BuyerID: "nobody", Window: window}); !errors.Is(err, orders.ErrCartEmpty) {
		t.Errorf("no cart: err = %v", err)
	}
	kopi, teh := e.product(t, "Kopi Gayo", 85000, 10), e.product(t, "Teh Melati", 30000, 5)
	e.add(t, "buyer-2", kopi, 1)
	e.add(t, "buyer-2", teh, 1)
	if _, err := e.catalog.Delist(ctx, seller, teh); err != nil {
		t.Fatal(err)
	}
	_, err := e.store.Checkout(ctx, orders.CheckoutInput{BuyerID: "buyer-2", Window: window})
	var bad *orders.UnavailableError
	if !errors.As(err, &bad) || len(bad.Lines) != 1 || bad.Lines[0] != (orders.UnavailableLine{teh, cart.ReasonDelisted}) {
		t.Errorf("delisted line: err = %v", err)
	}
	if e.stock(t, kopi) != 10 || len(e.scan(t, e.tables.Orders)) != 0 {
		t.Error("a refused checkout wrote something")
	}
}

// The cart changes, the price changes, or DynamoDB reports a transaction conflict
// between the read and the commit: checkout reads again and orders what is there now.
func TestCheckoutRetriesLostRaces(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name   string
		before func(e *env, kopi, teh string) error // runs before the first commit
		want   int64                                // the order's total
	}{
		{"cart changed", func(e *env, _, teh string) error {
			_, err := e.carts.Add(ctx, cart.Buyer("buyer-1"), cart.AddInput{ProductID: teh, Quantity: 1})
			return err
		}, 85000 + 30000},
		{"price changed", func(e *env, kopi, _ string) error {
			_, err := e.catalog.Update(ctx, seller, kopi, catalog.Changes{Price: ptr(idr(90000))})
			return err
		}, 90000},
		{"transaction conflict", func(*env, string, string) error { return conflict(5) }, 85000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			kopi, teh := e.product(t, "Kopi Gayo", 85000, 10), e.product(t, "Teh Melati", 30000, 5)
			e.add(t, "buyer-1", kopi, 1)
			e.use(inject("TransactWriteItems", func(n int) error {
				if n == 1 {
					return tt.before(e, kopi, teh)
				}
				return nil
			}))
			o, err := e.store.Checkout(ctx, orders.CheckoutInput{BuyerID: "buyer-1", Window: window})
			if err != nil {
				t.Fatal(err)
			}
			if o.Total.Amount != tt.want {
				t.Errorf("total = %d, want %d", o.Total.Amount, tt.want)
			}
			if n := len(e.scan(t, e.tables.Orders)); n != 1 {
				t.Errorf("%d orders", n)
			}
			if got := e.stock(t, kopi); got != 9 {
				t.Errorf("stock = %d, want 9", got)
			}
			e.verified(t, o.ID)
		})
	}
}

func ptr[T any](v T) *T { return &v }

// paidEvent is the payments consumer's decision for a settlement.
func paid(o order.Order) (order.Decision, error) {
	return order.Transition(o.Status, order.Event{Kind: order.EventPaid, Provider: order.ProviderMidtrans, ProviderStatus: "settlement"})
}

var paidLedger = orders.LedgerEvent{Type: ledger.TypeStatusChanged, Data: map[string]any{"event": "paid", "provider": "midtrans", "status": "settlement"}}

func TestApplyPaidOnceWithSaleEvents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	kopi, teh := e.product(t, "Kopi Gayo", 85000, 10), e.product(t, "Teh Melati", 30000, 5)
	e.addPromoted(t, "buyer-1", kopi, "promo-live-1", "creator-sari", 2)
	e.add(t, "buyer-1", teh, 1)
	o := e.checkout(t, "buyer-1")
	e.count.Reset()

	r, err := e.store.Apply(ctx, o.ID, paid, paidLedger)
	if err != nil || !r.Applied || r.Order.Status != order.StatusPaid || r.Decision.Next != order.StatusPaid {
		t.Fatalf("apply paid = %+v, %v", r, err)
	}
	if got := e.count.Take(); got.Requests["GetItem"] != 1 || got.Requests["TransactWriteItems"] != 1 || got.Total() != 2 {
		t.Errorf("apply cost %v, want GetItem=1 TransactWriteItems=1", got.Requests)
	}
	stored, err := e.store.Get(ctx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(r.Order, stored); diff != "" {
		t.Errorf("Result.Order differs from the stored order (-result +stored):\n%s", diff)
	}
	if types := e.verified(t, o.ID); !slices.Equal(types, []string{ledger.TypeOrderCreated, ledger.TypeStatusChanged}) {
		t.Errorf("ledger = %v", types)
	}
	entries, _ := e.ledger.Read(ctx, o.ID)
	var data map[string]any
	if err := json.Unmarshal(entries[1].Data, &data); err != nil || data["from"] != "PENDING_PAYMENT" || data["to"] != "PAID" || data["status"] != "settlement" {
		t.Errorf("entry data = %s", entries[1].Data)
	}
	if e.stock(t, kopi) != 8 || e.stock(t, teh) != 4 {
		t.Error("a payment changed the stock")
	}
	recs := e.outbox(t, o.ID)
	if len(recs[contract.EventSaleAttributed]) != 1 || len(recs[orders.EventOrderStatusChanged]) != 1 {
		t.Fatalf("outbox = %v", recs)
	}
	// The sale event names the order by its opaque reference only, and passes the
	// contract's schema as the relay would send it.
	v, err := schemacheck.New()
	if err != nil {
		t.Fatal(err)
	}
	rec := recs[contract.EventSaleAttributed][0]
	env, _ := json.Marshal(contract.Envelope{EventID: rec.EventID, Type: rec.EventType, SchemaVersion: rec.SchemaVersion, OccurredAt: rec.OccurredAt, CorrelationID: rec.EventID, Payload: json.RawMessage(rec.Payload)})
	if err := v.ValidateMessage(env); err != nil {
		t.Errorf("SaleAttributed breaks the contract: %v", err)
	}
	var sale contract.SaleAttributed
	if err := json.Unmarshal([]byte(rec.Payload), &sale); err != nil {
		t.Fatal(err)
	}
	if sale.OrderRef != o.OrderRef || sale.LineRef != kopi || sale.Quantity != 2 || sale.Amount.Amount != 170000 ||
		sale.CreatorID != "creator-sari" || strings.Contains(rec.Payload, o.ID) || strings.Contains(rec.Payload, "buyer-1") {
		t.Errorf("SaleAttributed = %s", rec.Payload)
	}

	// The same notification again (a provider retry): NoOp, nothing written.
	outboxBefore := len(e.scan(t, e.tables.Outbox))
	r, err = e.store.Apply(ctx, o.ID, paid, paidLedger)
	if err != nil || r.Applied || !r.Decision.NoOp || r.Order.Version != stored.Version {
		t.Errorf("replayed paid = %+v, %v", r, err)
	}
	if got := e.count.Take(); got.Writes() != 0 {
		t.Errorf("a NoOp wrote: %v", got.Requests)
	}
	if n := len(e.scan(t, e.tables.Outbox)); n != outboxBefore {
		t.Errorf("outbox grew from %d to %d on a replay", outboxBefore, n)
	}

	// A refund of the paid order reverses the attributed line.
	r, err = e.store.Apply(ctx, o.ID, func(o order.Order) (order.Decision, error) {
		return order.Transition(o.Status, order.Event{Kind: order.EventRefunded})
	}, orders.LedgerEvent{})
	if err != nil || r.Order.Status != order.StatusRefunded || r.Order.Refunded != o.Total {
		t.Fatalf("refund = %+v, %v", r.Order, err)
	}
	recs = e.outbox(t, o.ID)
	if len(recs[contract.EventSaleReversed]) != 1 || len(recs[orders.EventOrderStatusChanged]) != 2 {
		t.Errorf("outbox after refund = %v", recs)
	}
	if types := e.verified(t, o.ID); len(types) != 3 {
		t.Errorf("ledger = %v", types)
	}
}

func TestApplyRejectedAndMissing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	kopi := e.product(t, "Kopi Gayo", 85000, 10)
	e.add(t, "buyer-1", kopi, 1)
	o := e.checkout(t, "buyer-1")
	// A refund of an order never paid contradicts its history: rejected, nothing written.
	r, err := e.store.Apply(ctx, o.ID, func(o order.Order) (order.Decision, error) {
		return order.Transition(o.Status, order.Event{Kind: order.EventRefunded})
	}, orders.LedgerEvent{})
	if !errors.Is(err, order.ErrRejected) || r.Applied || r.Order.ID != o.ID {
		t.Errorf("rejected: %+v, %v", r, err)
	}
	if stored, _ := e.store.Get(ctx, o.ID); stored.Version != o.Version || stored.LedgerSeq != 1 {
		t.Errorf("a rejected event changed the order: %+v", stored)
	}
	for _, id := range []string{"o_aaaaaaaaaaaaaaaaaaaaaaaaaa", "not-an-order"} {
		if _, err := e.store.Apply(ctx, id, paid, paidLedger); !errors.Is(err, orders.ErrOrderNotFound) {
			t.Errorf("apply to %s: err = %v", id, err)
		}
	}
}

// Concurrent deliveries of the same settlement: exactly one transition, one ledger
// entry, one sale event.
func TestApplyConcurrentSameEvent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	kopi := e.product(t, "Kopi Gayo", 85000, 10)
	e.addPromoted(t, "buyer-1", kopi, "promo-1", "creator-1", 1)
	o := e.checkout(t, "buyer-1")
	const n = 10
	var applied atomic.Int32
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := e.store.Apply(ctx, o.ID, paid, paidLedger)
			if err != nil {
				t.Errorf("apply: %v", err)
			}
			if r.Applied {
				applied.Add(1)
			}
		}()
	}
	wg.Wait()
	if applied.Load() != 1 {
		t.Errorf("%d of %d concurrent applies changed the order, want 1", applied.Load(), n)
	}
	if types := e.verified(t, o.ID); len(types) != 2 {
		t.Errorf("ledger = %v", types)
	}
	if recs := e.outbox(t, o.ID); len(recs[contract.EventSaleAttributed]) != 1 || len(recs[orders.EventOrderStatusChanged]) != 1 {
		t.Errorf("outbox = %v", recs)
	}
}

// DynamoDB Local never reports TransactionConflict nor loses a race on its own here:
// the middleware injects a conflict, then a concurrent write, and Apply re-reads.
func TestApplyRetries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("transaction conflict", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		kopi := e.product(t, "Kopi Gayo", 85000, 10)
		e.add(t, "buyer-1", kopi, 1)
		o := e.checkout(t, "buyer-1")
		e.use(inject("TransactWriteItems", func(n int) error {
			if n <= 2 {
				return conflict(3)
			}
			return nil
		}))
		e.count.Reset()
		r, err := e.store.Apply(ctx, o.ID, paid, paidLedger)
		if err != nil || !r.Applied {
			t.Fatalf("apply = %+v, %v", r, err)
		}
		if got := e.count.Take(); got.Calls["TransactWriteItems"] != 3 || got.Calls["GetItem"] != 3 {
			t.Errorf("calls %v, want 3 reads and 3 transactions (2 conflicts)", got.Calls)
		}
		e.verified(t, o.ID)
	})
	t.Run("lost race", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		kopi := e.product(t, "Kopi Gayo", 85000, 10)
		e.add(t, "buyer-1", kopi, 2)
		o := e.checkout(t, "buyer-1")
		// The expiry wins against a settlement between its read and its write: the
		// settlement re-reads, finds EXPIRED and becomes PAID_LATE (needs refund),
		// and the stock returned by the expiry is not taken again.
		other := orders.NewStore(e.db, e.tables)
		e.use(inject("TransactWriteItems", func(n int) error {
			if n == 1 {
				_, err := other.Apply(ctx, o.ID, func(o order.Order) (order.Decision, error) { return order.Expire(o, o.Deadline) }, orders.LedgerEvent{})
				return err
			}
			return nil
		}))
		r, err := e.store.Apply(ctx, o.ID, paid, paidLedger)
		if err != nil || !r.Applied || r.Order.Status != order.StatusPaidLate || !r.Order.NeedsRefund {
			t.Fatalf("apply = %+v, %v", r.Order, err)
		}
		if got := e.stock(t, kopi); got != 10 {
			t.Errorf("stock = %d, want 10 (released once by the expiry)", got)
		}
		if types := e.verified(t, o.ID); len(types) != 3 {
			t.Errorf("ledger = %v", types)
		}
		if recs := e.outbox(t, o.ID); len(recs[contract.EventSaleAttributed]) != 0 {
			t.Error("a late payment attributed a sale")
		}
	})
}

// The expiry, delivered twice (SQS delivers at least once), releases stock once.
func TestExpireReleasesStockOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	kopi, teh := e.product(t, "Kopi Gayo", 85000, 10), e.product(t, "Teh Melati", 30000, 5)
	e.add(t, "buyer-1", kopi, 3)
	e.add(t, "buyer-1", teh, 2)
	o := e.checkout(t, "buyer-1")
	expire := func(now time.Time) func(order.Order) (order.Decision, error) {
		return func(o order.Order) (order.Decision, error) { return order.Expire(o, now) }
	}
	if _, err := e.store.Apply(ctx, o.ID, expire(time.Now()), orders.LedgerEvent{}); !errors.Is(err, order.ErrNotDue) {
		t.Errorf("early expiry: err = %v, want ErrNotDue", err)
	}
	var wg sync.WaitGroup
	var applied atomic.Int32
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := e.store.Apply(ctx, o.ID, expire(o.Deadline.Add(time.Second)), orders.LedgerEvent{})
			if err != nil {
				t.Errorf("expire: %v", err)
			}
			if r.Applied {
				applied.Add(1)
			}
		}()
	}
	wg.Wait()
	r, err := e.store.Apply(ctx, o.ID, expire(o.Deadline.Add(time.Minute)), orders.LedgerEvent{})
	if err != nil || r.Applied || r.Order.Status != order.StatusExpired {
		t.Errorf("third expiry = %+v, %v", r, err)
	}
	if applied.Load() != 1 || e.stock(t, kopi) != 10 || e.stock(t, teh) != 5 {
		t.Errorf("applied %d times; stock %d, %d; want once, 10, 5", applied.Load(), e.stock(t, kopi), e.stock(t, teh))
	}
	if types := e.verified(t, o.ID); len(types) != 2 {
		t.Errorf("ledger = %v", types)
	}
	if p, _ := e.catalog.Get(ctx, kopi); p.Version != 3 {
		t.Errorf("product version %d, want 3 (created, reserved, released)", p.Version)
	}
	// The release's record names the products, for the relay's stock snapshots.
	changed := e.outbox(t, o.ID)[orders.EventOrderStatusChanged]
	var sc orders.OrderStatusChanged
	if len(changed) != 1 || json.Unmarshal([]byte(changed[0].Payload), &sc) != nil || !sc.ReleaseStock || !slices.Equal(sc.ProductIDs, orders.ProductIDs(o)) {
		t.Errorf("OrderStatusChanged records %v, want one releasing %v", changed, orders.ProductIDs(o))
	}
}

func TestAttachPayment(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	kopi := e.product(t, "Kopi Gayo", 85000, 10)
	e.add(t, "buyer-1", kopi, 1)
	o := e.checkout(t, "buyer-1")
	e.count.Reset()
	ps := orders.PaymentSession{Provider: order.ProviderMidtrans, Ref: "snap-token-1", URL: "https://app.sandbox.midtrans.com/snap/v4/redirection/snap-token-1"}
	got, err := e.store.AttachPayment(ctx, o, ps)
	if err != nil || got.PaymentURL != ps.URL || got.PaymentRef != ps.Ref || got.Version != 2 || got.Status != order.StatusPendingPayment {
		t.Fatalf("attach = %+v, %v", got, err)
	}
	if c := e.count.Take(); c.Total() != 1 || c.Requests["TransactWriteItems"] != 1 {
		t.Errorf("attach cost %v, want one TransactWriteItems", c.Requests)
	}
	if types := e.verified(t, o.ID); !slices.Equal(types, []string{ledger.TypeOrderCreated, ledger.TypePaymentOpened}) {
		t.Errorf("ledger = %v", types)
	}
	// From a stale copy: re-read, the same provider's session stands (no write).
	again, err := e.store.AttachPayment(ctx, o, orders.PaymentSession{Provider: order.ProviderMidtrans, Ref: "snap-token-2", URL: "https://x/2"})
	if err != nil || again.PaymentRef != "snap-token-1" || again.Version != 2 {
		t.Errorf("second attach = %+v, %v", again, err)
	}
	if _, err := e.store.AttachPayment(ctx, got, orders.PaymentSession{Provider: order.ProviderXendit, Ref: "inv", URL: "https://x/3"}); !errors.Is(err, orders.ErrPaymentOpened) {
		t.Errorf("another provider: err = %v", err)
	}
	if _, err := e.store.Apply(ctx, o.ID, paid, paidLedger); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.AttachPayment(ctx, o, ps); !errors.Is(err, orders.ErrNotPending) {
		t.Errorf("paid order: err = %v", err)
	}
}

func TestListByBuyer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	kopi := e.product(t, "Kopi Gayo", 85000, 100)
	var ids []string
	for range 5 {
		e.add(t, "buyer-1", kopi, 1)
		ids = append(ids, e.checkout(t, "buyer-1").ID)
	}
	e.add(t, "buyer-2", kopi, 1)
	e.checkout(t, "buyer-2")
	slices.Reverse(ids) // newest first
	var got []string
	after := ""
	for page := 0; ; page++ {
		p, err := e.store.ListByBuyer(ctx, "buyer-1", after, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range p.Orders {
			got = append(got, o.ID)
		}
		if p.Next == "" {
			break
		}
		if page > 5 {
			t.Fatal("too many pages")
		}
		after = p.Next
	}
	if diff := cmp.Diff(ids, got); diff != "" {
		t.Errorf("orders of buyer-1, newest first (-want +got):\n%s", diff)
	}
	if _, err := e.store.ListByBuyer(ctx, "buyer-1", "garbage", 2); !errors.Is(err, orders.ErrInvalidCursor) {
		t.Errorf("bad cursor: err = %v", err)
	}
}

// The stock test of issue #5: 100 buyers with one unit each check out at once
// against a stock of 10, three times. Each round ends with exactly 10 orders, stock
// 0 (never negative), 90 refusals naming the product, and every order's ledger
// verifying.
func TestConcurrentCheckoutsNeverOversell(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	const buyers, stock, rounds = 100, 10, 3
	for round := range rounds {
		kopi := e.product(t, fmt.Sprintf("Kopi Gayo round %d", round), 85000, stock)
		for i := range buyers {
			e.add(t, fmt.Sprintf("buyer-%d-%d", round, i), kopi, 1)
		}
		var placed, short atomic.Int32
		var mu sync.Mutex
		var ids []string
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range buyers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				o, err := e.store.Checkout(ctx, orders.CheckoutInput{BuyerID: fmt.Sprintf("buyer-%d-%d", round, i), Window: window})
				var se *orders.InsufficientStockError
				switch {
				case err == nil:
					placed.Add(1)
					mu.Lock()
					ids = append(ids, o.ID)
					mu.Unlock()
				case errors.As(err, &se) && slices.Equal(se.ProductIDs, []string{kopi}):
					short.Add(1)
				default:
					t.Errorf("checkout: %v", err)
				}
			}()
		}
		close(start)
		wg.Wait()
		if placed.Load() != stock || short.Load() != buyers-stock {
			t.Errorf("round %d: %d orders and %d refusals, want %d and %d", round, placed.Load(), short.Load(), stock, buyers-stock)
		}
		if got := e.stock(t, kopi); got != 0 {
			t.Errorf("round %d: stock %d, want 0", round, got)
		}
		for _, id := range ids {
			e.verified(t, id)
		}
	}
	if n := len(e.scan(t, e.tables.Orders)); n != rounds*stock {
		t.Errorf("%d orders in all, want %d", n, rounds*stock)
	}
	// No product anywhere went negative.
	for _, it := range e.scan(t, e.tables.Catalog) {
		var p struct {
			Stock int64 `dynamodbav:"stock"`
		}
		if err := attributevalue.UnmarshalMap(it, &p); err != nil || p.Stock < 0 {
			t.Errorf("product stock %d (%v)", p.Stock, err)
		}
	}
}
