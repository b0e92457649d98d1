package cart_test

// Integration tests against DynamoDB Local, with the tables created from template.yaml
// and products written through the catalog's own store. Every route, the ownership
// rules, expiry, merge, concurrent writes, and the DynamoDB requests each operation
// costs (counted by an SDK middleware, infra/testenv/ddbcount). Run them with
// `make test` or `go run ./infra/cmd/etalase env -- go test ./shared/commerce/cart/...`;
// a plain `go test` skips them.

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
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
	"github.com/etalase/etalase/shared/commerce/money"
	"github.com/etalase/etalase/shared/platform/httpapi"
)

const seller = "seller-kopi-nusantara"

// clock is the service's adjustable clock (tokens are still checked against real time).
type clock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.off += d
}

// env is one test's fresh tables in DynamoDB Local and a handler over them.
type env struct {
	db        *dynamodb.Client
	count     *ddbcount.Counter
	cartTable string
	catTable  string
	catalog   *catalog.Service
	keys      keys
	clock     *clock
	svc       *cart.Service
	handler   *cart.Handler
}

func newEnv(t *testing.T, opts ...cart.Option) *env {
	t.Helper()
	db := testenv.DynamoDB(t, localaccount.Commerce)
	tpl, err := samtemplate.Load("../../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	res, err := provision.Provision(context.Background(), provision.Options{
		Template: tpl,
		Account:  localaccount.Commerce,
		Params:   map[string]string{"JwtIssuer": "https://id.etalase.example", "JwtAudience": "etalase-commerce"},
		Prefix:   testenv.Prefix(t),
		DynamoDB: db,
		SQS:      testenv.SQS(t, localaccount.Commerce),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, tb := range res.Tables {
			_, _ = db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(tb.Name)})
		}
	})
	e := &env{
		db: db, count: ddbcount.New(), cartTable: res.Tables["CartTable"].Name,
		keys: newKeys(t), clock: &clock{},
	}
	catalogTable, outboxTable := res.Tables["CatalogTable"].Name, res.Tables["OutboxTable"].Name
	if e.cartTable == "" || catalogTable == "" || outboxTable == "" {
		t.Fatalf("template tables missing: %+v", res.Tables)
	}
	e.catTable = catalogTable
	e.catalog = catalog.NewService(catalog.NewDynamoStore(db, catalogTable, outboxTable))
	e.use(e.count.Wrap(db), opts...)
	return e
}

// use rebuilds the service and handler over client.
func (e *env) use(client cart.DynamoAPI, opts ...cart.Option) {
	e.svc = cart.NewService(cart.NewDynamoStore(client, e.cartTable, e.catTable),
		e.keys.verifier(), append([]cart.Option{cart.WithClock(e.clock.Now)}, opts...)...)
	e.handler = cart.NewHandler(e.svc, slog.New(slog.DiscardHandler))
}

// product lists a product in the catalog.
func (e *env) product(t *testing.T, title string, price money.Money, stock int64) catalog.Product {
	t.Helper()
	p, err := e.catalog.Create(context.Background(), seller, catalog.NewProduct{
		Title: title, ImageURL: "/assets/" + strings.ReplaceAll(strings.ToLower(title), " ", "-") + ".jpg",
		Price: price, Stock: stock,
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func idr(n int64) money.Money { return money.Money{Amount: n, Currency: "IDR"} }

// A request is a fixture edited by options.
type opt func(*httpapi.Request)

func asBuyer(sub string) opt {
	return func(r *httpapi.Request) { r.RequestContext.Authorizer.JWT.Claims["sub"] = sub }
}

func withCookie(id string) opt {
	return func(r *httpapi.Request) { delete(r.Headers, "x-cart-id"); r.Cookies = []string{"etalase_cart=" + id} }
}

func withHeader(id string) opt {
	return func(r *httpapi.Request) { r.Cookies = nil; r.Headers["x-cart-id"] = id }
}

func noGuestID() opt {
	return func(r *httpapi.Request) { r.Cookies = nil; delete(r.Headers, "x-cart-id") }
}

func withBody(v any) opt {
	return func(r *httpapi.Request) {
		b, _ := json.Marshal(v)
		r.Body = string(b)
	}
}

func forProduct(id string) opt {
	return func(r *httpapi.Request) {
		r.PathParameters["productId"] = id
		r.RawPath = r.RawPath[:strings.LastIndex(r.RawPath, "/")+1] + id
	}
}

func (e *env) do(t *testing.T, fixture string, opts ...opt) httpapi.Response {
	t.Helper()
	req := event(t, fixture)
	for _, o := range opts {
		o(&req)
	}
	resp, err := e.handler.Handle(context.Background(), req)
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	return resp
}

// cost runs f and returns the DynamoDB requests it sent.
func (e *env) cost(f func()) ddbcount.Counts {
	e.count.Reset()
	f()
	return e.count.Take()
}

// wantCost checks a cost: reads, writes, and the exact operations.
func wantCost(t *testing.T, what string, got ddbcount.Counts, reads, writes int, ops string) {
	t.Helper()
	if got.Reads() != reads || got.Writes() != writes || got.String() != ops {
		t.Errorf("%s cost %s (%d reads, %d writes), want %s (%d reads, %d writes)", what, got, got.Reads(), got.Writes(), ops, reads, writes)
	}
	t.Logf("cost of %s: %s", what, got)
}

// Wire shapes, decoded strictly: an unknown or renamed field fails the test.

type wireMoney struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

type wireAttribution struct {
	PromotionID    string    `json:"promotionId"`
	CreatorID      string    `json:"creatorId"`
	DisplayedPrice wireMoney `json:"displayedPrice"`
	AttributedAt   time.Time `json:"attributedAt"`
}

type wireLine struct {
	ProductID         string           `json:"productId"`
	Title             string           `json:"title"`
	ImageURL          string           `json:"imageUrl"`
	Quantity          int              `json:"quantity"`
	UnitPrice         *wireMoney       `json:"unitPrice"`
	LineTotal         *wireMoney       `json:"lineTotal"`
	Available         bool             `json:"available"`
	UnavailableReason string           `json:"unavailableReason"`
	PriceChanged      bool             `json:"priceChanged"`
	Attribution       *wireAttribution `json:"attribution"`
	AddedAt           time.Time        `json:"addedAt"`
	UpdatedAt         time.Time        `json:"updatedAt"`
}

type wireSummary struct {
	Kind      string     `json:"kind"`
	Currency  string     `json:"currency"`
	LineCount int        `json:"lineCount"`
	ItemCount int        `json:"itemCount"`
	Version   int64      `json:"version"`
	ExpiresAt *time.Time `json:"expiresAt"`
}

type wireCart struct {
	Kind      string     `json:"kind"`
	Currency  string     `json:"currency"`
	Lines     []wireLine `json:"lines"`
	Total     *wireMoney `json:"total"`
	LineCount int        `json:"lineCount"`
	ItemCount int        `json:"itemCount"`
	Version   int64      `json:"version"`
	ExpiresAt *time.Time `json:"expiresAt"`
}

type wireLineResult struct {
	Line wireLine    `json:"line"`
	Cart wireSummary `json:"cart"`
}

type wireMerge struct {
	Cart          wireSummary `json:"cart"`
	MergedLines   int         `json:"mergedLines"`
	AlreadyMerged bool        `json:"alreadyMerged"`
}

func decode[T any](t *testing.T, resp httpapi.Response, status int) T {
	t.Helper()
	var v T
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d: %s", resp.StatusCode, status, resp.Body)
	}
	dec := json.NewDecoder(strings.NewReader(resp.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("body %s: %v", resp.Body, err)
	}
	return v
}

func (e *env) getCart(t *testing.T, sub string) wireCart {
	t.Helper()
	return decode[wireCart](t, e.do(t, "get-cart.json", asBuyer(sub)), 200)
}

func (e *env) addProduct(t *testing.T, sub, productID string, qty int) httpapi.Response {
	t.Helper()
	return e.do(t, "add-item-product.json", asBuyer(sub), withBody(map[string]any{"productId": productID, "quantity": qty}))
}

// item returns the raw stored cart item, or nil.
func (e *env) item(t *testing.T, key string) map[string]any {
	t.Helper()
	out, err := e.db.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(e.cartTable), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"cartId": &types.AttributeValueMemberS{Value: key}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Item) == 0 {
		return nil
	}
	var m map[string]any
	if err := attributevalue.UnmarshalMap(out.Item, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestAddByHandoffAndRead(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	kopi := e.product(t, "Kopi Gayo", idr(85000), 10)
	teh := e.product(t, "Teh Melati", idr(30000), 10)
	const sub = "buyer-ayu"

	// The token displayed 80000; the catalog says 85000, and that is the price.
	tok := e.keys.token(t, kopi.ID, 80000)
	var resp httpapi.Response
	cost := e.cost(func() {
		resp = e.do(t, "add-item-handoff.json", asBuyer(sub), withBody(map[string]any{"handoffToken": tok, "quantity": 2}))
	})
	wantCost(t, "add item (hand-off token, new cart)", cost, 1, 1, "BatchGetItem=1 PutItem=1")
	added := decode[wireLineResult](t, resp, 201)
	if l := added.Line; l.ProductID != kopi.ID || l.Quantity != 2 || *l.UnitPrice != (wireMoney{85000, "IDR"}) ||
		*l.LineTotal != (wireMoney{170000, "IDR"}) || !l.PriceChanged || !l.Available || l.Title != "Kopi Gayo" {
		t.Errorf("added line = %+v", l)
	}
	if a := added.Line.Attribution; a == nil || a.PromotionID != "promo_7d2kq9" || a.CreatorID != "creator_ayu" || a.DisplayedPrice != (wireMoney{80000, "IDR"}) {
		t.Errorf("attribution = %+v", a)
	}
	if c := added.Cart; c.Kind != "buyer" || c.Version != 1 || c.LineCount != 1 || c.ItemCount != 2 || c.Currency != "IDR" || c.ExpiresAt == nil {
		t.Errorf("summary = %+v", c)
	}
	if len(resp.Cookies) != 0 || resp.Headers["X-Cart-Id"] != "" {
		t.Errorf("a buyer cart got a guest cookie or header: %v %v", resp.Cookies, resp.Headers)
	}

	// The second add to an existing cart costs the same.
	cost = e.cost(func() { resp = e.addProduct(t, sub, teh.ID, 1) })
	wantCost(t, "add item (product id, existing cart)", cost, 1, 1, "BatchGetItem=1 PutItem=1")
	if l := decode[wireLineResult](t, resp, 201).Line; l.Attribution != nil || l.PriceChanged {
		t.Errorf("a direct purchase has attribution: %+v", l)
	}

	// Adding the same product directly adds to the line and keeps its attribution.
	resp = e.addProduct(t, sub, kopi.ID, 1)
	if l := decode[wireLineResult](t, resp, 200).Line; l.Quantity != 3 || l.Attribution == nil || l.Attribution.CreatorID != "creator_ayu" {
		t.Errorf("kopi after a direct add: %+v", l)
	}

	// Redeeming the same token again (a double submit) changes nothing: one read, no write.
	cost = e.cost(func() {
		resp = e.do(t, "add-item-handoff.json", asBuyer(sub), withBody(map[string]any{"handoffToken": tok, "quantity": 2}))
	})
	wantCost(t, "add item (token already redeemed)", cost, 1, 0, "BatchGetItem=1")
	if r := decode[wireLineResult](t, resp, 200); r.Line.Quantity != 3 || r.Cart.Version != 3 {
		t.Errorf("a redeemed token changed the cart: %+v", r)
	}

	// A newer token for the same product: its attribution wins.
	other, err := e.keysToken(kopi.ID, "promo_live_99", "creator_budi", 85000)
	if err != nil {
		t.Fatal(err)
	}
	resp = e.do(t, "add-item-handoff.json", asBuyer(sub), withBody(map[string]any{"handoffToken": other}))
	if l := decode[wireLineResult](t, resp, 200).Line; l.Quantity != 4 || l.Attribution.CreatorID != "creator_budi" || l.PriceChanged {
		t.Errorf("kopi after a newer token: %+v %+v", l, l.Attribution)
	}

	// The seller re-prices: the cart follows the catalog, never the token.
	newPrice := idr(90000)
	if _, err := e.catalog.Update(context.Background(), seller, kopi.ID, catalog.Changes{Price: &newPrice}); err != nil {
		t.Fatal(err)
	}
	var c wireCart
	cost = e.cost(func() { c = e.getCart(t, sub) })
	wantCost(t, "read cart", cost, 2, 0, "BatchGetItem=1 GetItem=1")
	want := wireCart{
		Kind: "buyer", Currency: "IDR", Total: &wireMoney{4*90000 + 30000, "IDR"}, LineCount: 2, ItemCount: 5, Version: 4,
	}
	got := c
	got.Lines, got.ExpiresAt = nil, nil
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("cart (-want +got):\n%s", diff)
	}
	if len(c.Lines) != 2 || c.Lines[0].ProductID != kopi.ID || c.Lines[1].ProductID != teh.ID {
		t.Fatalf("lines = %+v, want kopi then teh (the order added)", c.Lines)
	}
	if l := c.Lines[0]; *l.UnitPrice != (wireMoney{90000, "IDR"}) || *l.LineTotal != (wireMoney{360000, "IDR"}) || !l.PriceChanged ||
		l.Attribution.CreatorID != "creator_budi" || l.Attribution.DisplayedPrice.Amount != 85000 {
		t.Errorf("kopi line = %+v %+v", l, l.Attribution)
	}
	if l := c.Lines[1]; l.Attribution != nil || l.PriceChanged || *l.LineTotal != (wireMoney{30000, "IDR"}) {
		t.Errorf("teh line = %+v", l)
	}

	// Stored as documented: one item keyed by the subject, no prices in it.
	it := e.item(t, "buyer#"+sub)
	if it == nil || it["kind"] != "buyer" || it["ownerId"] != sub || it["version"] != float64(4) {
		t.Fatalf("stored item = %v", it)
	}
	raw, _ := json.Marshal(it)
	if strings.Contains(string(raw), "90000") || strings.Contains(string(raw), `"priceAmount"`) {
		t.Errorf("the cart item stores a catalog price: %s", raw)
	}

	// A buyer without a cart reads an empty one, at the cost of one read.
	cost = e.cost(func() { c = e.getCart(t, "buyer-new") })
	wantCost(t, "read empty cart", cost, 1, 0, "GetItem=1")
	if c.Version != 0 || len(c.Lines) != 0 || c.Total != nil || c.Currency != "" || c.ExpiresAt != nil {
		t.Errorf("empty cart = %+v", c)
	}
}

// keysToken signs a token with other promotion and creator ids.
func (e *env) keysToken(product, promotion, creator string, displayed int64) (string, error) {
	return signWith(e.keys, product, promotion, creator, displayed)
}

func TestRules(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	kopi := e.product(t, "Kopi Gayo", idr(85000), 150)
	teh := e.product(t, "Teh Melati", idr(30000), 3)
	sold := e.product(t, "Gula Aren", idr(15000), 0)
	gone := e.product(t, "Garam Bali", idr(5000), 10)
	if _, err := e.catalog.Delist(context.Background(), seller, gone.ID); err != nil {
		t.Fatal(err)
	}
	usd := e.product(t, "Vanilla Pods", money.Money{Amount: 1500, Currency: "USD"}, 10)
	const sub = "buyer-rules"

	wantError(t, e.addProduct(t, sub, gone.ID, 1), 409, cart.CodeProductDelisted)
	wantError(t, e.addProduct(t, sub, sold.ID, 1), 409, cart.CodeOutOfStock)
	wantError(t, e.addProduct(t, sub, teh.ID, 4), 409, cart.CodeOutOfStock)
	wantError(t, e.addProduct(t, sub, "p_aaaaaaaaaaaaaaaaaaaaaaaaaa", 1), 404, cart.CodeProductNotFound)
	delistedTok := e.keys.token(t, gone.ID, 5000)
	wantError(t, e.do(t, "add-item-handoff.json", asBuyer(sub), withBody(map[string]any{"handoffToken": delistedTok})), 409, cart.CodeProductDelisted)
	if it := e.item(t, "buyer#"+sub); it != nil {
		t.Fatalf("refused adds wrote a cart: %v", it)
	}

	decode[wireLineResult](t, e.addProduct(t, sub, teh.ID, 3), 201)
	wantError(t, e.addProduct(t, sub, teh.ID, 1), 409, cart.CodeOutOfStock)
	decode[wireLineResult](t, e.addProduct(t, sub, kopi.ID, 60), 201)
	wantError(t, e.addProduct(t, sub, kopi.ID, 40), 409, cart.CodeQuantityOutOfRange)
	decode[wireLineResult](t, e.addProduct(t, sub, kopi.ID, 39), 200)
	wantError(t, e.addProduct(t, sub, usd.ID, 1), 409, cart.CodeCurrencyMismatch)

	// PATCH: raising needs stock; lowering always works; 1..99 only.
	var resp httpapi.Response
	cost := e.cost(func() {
		resp = e.do(t, "set-quantity.json", asBuyer(sub), forProduct(kopi.ID), withBody(map[string]int{"quantity": 10}))
	})
	wantCost(t, "change quantity", cost, 1, 1, "BatchGetItem=1 PutItem=1")
	if r := decode[wireLineResult](t, resp, 200); r.Line.Quantity != 10 || *r.Line.LineTotal != (wireMoney{850000, "IDR"}) || r.Cart.ItemCount != 13 {
		t.Errorf("after PATCH: %+v", r)
	}
	wantError(t, e.do(t, "set-quantity.json", asBuyer(sub), forProduct(teh.ID), withBody(map[string]int{"quantity": 4})), 409, cart.CodeOutOfStock)
	wantError(t, e.do(t, "set-quantity.json", asBuyer(sub), forProduct(kopi.ID), withBody(map[string]int{"quantity": 100})), 400, cart.CodeQuantityOutOfRange)
	wantError(t, e.do(t, "set-quantity.json", asBuyer(sub), forProduct(sold.ID), withBody(map[string]int{"quantity": 1})), 404, cart.CodeLineNotFound)
	if _, err := e.catalog.SetStock(context.Background(), seller, teh.ID, 0); err != nil {
		t.Fatal(err)
	}
	if r := decode[wireLineResult](t, e.do(t, "set-quantity.json", asBuyer(sub), forProduct(teh.ID), withBody(map[string]int{"quantity": 1})), 200); r.Line.Quantity != 1 || r.Line.Available {
		t.Errorf("lowering a sold-out line: %+v", r.Line)
	}
	// Setting the current quantity writes nothing.
	cost = e.cost(func() {
		resp = e.do(t, "set-quantity.json", asBuyer(sub), forProduct(kopi.ID), withBody(map[string]int{"quantity": 10}))
	})
	wantCost(t, "change quantity to the same", cost, 1, 0, "BatchGetItem=1")

	// The sold-out line shows as unavailable and is left out of the total.
	c := e.getCart(t, sub)
	if c.Total == nil || *c.Total != (wireMoney{850000, "IDR"}) || c.Lines[0].ProductID != teh.ID ||
		c.Lines[0].Available || c.Lines[0].UnavailableReason != cart.CodeOutOfStock {
		t.Errorf("cart with a sold-out line: total %+v, lines %+v", c.Total, c.Lines)
	}

	// DELETE costs one write and no read.
	cost = e.cost(func() { resp = e.do(t, "remove-item.json", asBuyer(sub), forProduct(teh.ID)) })
	wantCost(t, "remove line", cost, 0, 1, "UpdateItem=1")
	if s := decode[wireSummary](t, resp, 200); s.LineCount != 1 || s.ItemCount != 10 || s.Currency != "IDR" {
		t.Errorf("after DELETE: %+v", s)
	}
	wantError(t, e.do(t, "remove-item.json", asBuyer(sub), forProduct(teh.ID)), 404, cart.CodeLineNotFound)
	wantError(t, e.do(t, "remove-item.json", asBuyer("buyer-nobody"), forProduct(teh.ID)), 404, cart.CodeLineNotFound)
	s := decode[wireSummary](t, e.do(t, "remove-item.json", asBuyer(sub), forProduct(kopi.ID)), 200)
	if s.LineCount != 0 || s.Currency != "" {
		t.Errorf("after removing the last line: %+v", s)
	}
	// An emptied cart takes any currency again.
	decode[wireLineResult](t, e.addProduct(t, sub, usd.ID, 1), 201)
}

func TestCartFull(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const sub = "buyer-full"
	var ids []string
	for i := range cart.MaxLines + 1 {
		ids = append(ids, e.product(t, fmt.Sprintf("Produk %02d", i), idr(1000+int64(i)), 5).ID)
	}
	for _, id := range ids[:cart.MaxLines] {
		decode[wireLineResult](t, e.addProduct(t, sub, id, 1), 201)
	}
	wantError(t, e.addProduct(t, sub, ids[cart.MaxLines], 1), 409, cart.CodeCartFull)
	decode[wireLineResult](t, e.addProduct(t, sub, ids[0], 1), 200) // an existing line still grows
	c := e.getCart(t, sub)
	if c.LineCount != cart.MaxLines || len(c.Lines) != cart.MaxLines || c.ItemCount != cart.MaxLines+1 {
		t.Errorf("full cart: %d lines, %d items", c.LineCount, c.ItemCount)
	}
	var want int64
	for i := range cart.MaxLines {
		want += 1000 + int64(i)
	}
	want += 1000 // ids[0] twice
	if c.Total.Amount != want {
		t.Errorf("total %d, want %d", c.Total.Amount, want)
	}
}

func TestGuestCart(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	kopi := e.product(t, "Kopi Gayo", idr(85000), 10)
	teh := e.product(t, "Teh Melati", idr(30000), 10)

	// The first add creates the cart and hands out its id.
	var resp httpapi.Response
	cost := e.cost(func() {
		resp = e.do(t, "add-guest-item.json", noGuestID(), withBody(map[string]any{"handoffToken": e.keys.token(t, kopi.ID, 85000)}))
	})
	wantCost(t, "add item (new guest cart)", cost, 1, 1, "BatchGetItem=1 PutItem=1")
	r := decode[wireLineResult](t, resp, 201)
	id := resp.Headers["X-Cart-Id"]
	if !cart.ValidGuestID(id) || r.Cart.Kind != "guest" || r.Line.Quantity != 1 || r.Line.Attribution == nil {
		t.Fatalf("guest add: id %q, %+v", id, r)
	}
	wantCookie := "etalase_cart=" + id + "; Path=/commerce; HttpOnly; Secure; SameSite=Lax; Max-Age=604800"
	if diff := cmp.Diff([]string{wantCookie}, resp.Cookies); diff != "" {
		t.Errorf("Set-Cookie (-want +got):\n%s", diff)
	}
	if strings.Contains(resp.Body, id) {
		t.Error("the guest cart id is in the body; it belongs in the cookie and header only")
	}

	// The cookie and the header both reach it; every write sends both again.
	cost = e.cost(func() {
		resp = e.do(t, "add-guest-item.json", withCookie(id), withBody(map[string]any{"productId": teh.ID, "quantity": 2}))
	})
	wantCost(t, "add item (existing guest cart)", cost, 1, 1, "BatchGetItem=1 PutItem=1")
	if r := decode[wireLineResult](t, resp, 201); r.Cart.LineCount != 2 || resp.Headers["X-Cart-Id"] != id || len(resp.Cookies) != 1 {
		t.Errorf("second guest add: %+v, header %q, cookies %v", r.Cart, resp.Headers["X-Cart-Id"], resp.Cookies)
	}
	for _, o := range []opt{withCookie(id), withHeader(id)} {
		c := decode[wireCart](t, e.do(t, "get-guest-cart.json", o), 200)
		if c.Kind != "guest" || c.LineCount != 2 || c.Total.Amount != 85000+60000 {
			t.Errorf("guest cart = %+v", c)
		}
	}
	r = decode[wireLineResult](t, e.do(t, "set-guest-quantity.json", withHeader(id), forProduct(teh.ID), withBody(map[string]int{"quantity": 5})), 200)
	if r.Line.Quantity != 5 || r.Cart.ItemCount != 6 {
		t.Errorf("guest PATCH: %+v", r)
	}
	resp = e.do(t, "remove-guest-item.json", withCookie(id), forProduct(kopi.ID))
	if s := decode[wireSummary](t, resp, 200); s.LineCount != 1 || len(resp.Cookies) != 1 {
		t.Errorf("guest DELETE: %+v %v", s, resp.Cookies)
	}
	wantError(t, e.do(t, "remove-guest-item.json", withCookie(id), forProduct(kopi.ID)), 404, cart.CodeLineNotFound)

	// Without its id, or with another (well-formed) id, a guest cart is not found: 404.
	other, err := cart.NewGuestID()
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []opt{noGuestID(), withCookie(other), withHeader(other)} {
		wantError(t, e.do(t, "get-guest-cart.json", o), 404, cart.CodeCartNotFound)
		wantError(t, e.do(t, "set-guest-quantity.json", o, forProduct(teh.ID), withBody(map[string]int{"quantity": 1})), 404, cart.CodeCartNotFound)
		wantError(t, e.do(t, "remove-guest-item.json", o, forProduct(teh.ID)), 404, cart.CodeCartNotFound)
	}
	if c := decode[wireCart](t, e.do(t, "get-guest-cart.json", withCookie(id)), 200); c.ItemCount != 5 {
		t.Errorf("requests without the id changed the cart: %+v", c)
	}

	// An add with an unknown id starts a new cart under a new id, never the client's.
	resp = e.do(t, "add-guest-item.json", withCookie(other), withBody(map[string]any{"productId": teh.ID}))
	fresh := resp.Headers["X-Cart-Id"]
	if decode[wireLineResult](t, resp, 201); fresh == other || fresh == id || !cart.ValidGuestID(fresh) {
		t.Errorf("new guest id %q (client sent %q, existing %q)", fresh, other, id)
	}
	if e.item(t, "guest#"+other) != nil {
		t.Error("a cart was stored under the client-chosen id")
	}
	if it := e.item(t, "guest#"+fresh); it == nil || it["kind"] != "guest" {
		t.Errorf("new guest cart item = %v", it)
	}
}

// A buyer reaches only their own cart: the subject is the key. Another buyer's requests
// for the same product find their own (empty) cart and change nothing.
func TestOwnership(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	kopi := e.product(t, "Kopi Gayo", idr(85000), 10)
	decode[wireLineResult](t, e.addProduct(t, "buyer-a", kopi.ID, 2), 201)
	before := e.item(t, "buyer#buyer-a")

	if c := e.getCart(t, "buyer-b"); c.LineCount != 0 {
		t.Errorf("buyer b sees %d lines", c.LineCount)
	}
	wantError(t, e.do(t, "set-quantity.json", asBuyer("buyer-b"), forProduct(kopi.ID), withBody(map[string]int{"quantity": 9})), 404, cart.CodeLineNotFound)
	wantError(t, e.do(t, "remove-item.json", asBuyer("buyer-b"), forProduct(kopi.ID)), 404, cart.CodeLineNotFound)
	// A subject that looks like another cart's key is just a subject.
	for _, sub := range []string{"buyer#buyer-a", "guest#x", "BUYER-A"} {
		if c := e.getCart(t, sub); c.LineCount != 0 {
			t.Errorf("subject %q sees buyer-a's cart", sub)
		}
	}
	// The guest routes cannot name a buyer cart.
	for _, id := range []string{"buyer-a", "buyer#buyer-a", "../buyer#buyer-a"} {
		wantError(t, e.do(t, "get-guest-cart.json", withCookie(id)), 404, cart.CodeCartNotFound)
		wantError(t, e.do(t, "remove-guest-item.json", withHeader(id), forProduct(kopi.ID)), 404, cart.CodeCartNotFound)
	}
	if diff := cmp.Diff(before, e.item(t, "buyer#buyer-a")); diff != "" {
		t.Errorf("buyer a's cart changed (-before +after):\n%s", diff)
	}
	if c := e.getCart(t, "buyer-a"); c.ItemCount != 2 {
		t.Errorf("buyer a's cart: %+v", c)
	}
}

func TestMerge(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	kopi := e.product(t, "Kopi Gayo", idr(85000), 500)
	teh := e.product(t, "Teh Melati", idr(30000), 500)
	gula := e.product(t, "Gula Aren", idr(15000), 500)
	const sub = "buyer-merge"

	// The buyer has kopi x60 (attributed earlier) and teh x1.
	tok1, _ := e.keysToken(kopi.ID, "promo_old", "creator_old", 85000)
	decode[wireLineResult](t, e.do(t, "add-item-handoff.json", asBuyer(sub), withBody(map[string]any{"handoffToken": tok1, "quantity": 60})), 201)
	decode[wireLineResult](t, e.addProduct(t, sub, teh.ID, 1), 201)
	// Later, logged out, a guest cart gets kopi x50 from a newer promotion and gula x3.
	e.clock.Advance(time.Minute)
	tok2, _ := e.keysToken(kopi.ID, "promo_new", "creator_new", 80000)
	resp := e.do(t, "add-guest-item.json", noGuestID(), withBody(map[string]any{"handoffToken": tok2, "quantity": 50}))
	guest := resp.Headers["X-Cart-Id"]
	decode[wireLineResult](t, resp, 201)
	decode[wireLineResult](t, e.do(t, "add-guest-item.json", withHeader(guest), withBody(map[string]any{"productId": gula.ID, "quantity": 3})), 201)

	// Another buyer cannot merge it without the id, nor with a wrong one.
	wantError(t, e.do(t, "merge.json", asBuyer("buyer-thief"), noGuestID()), 404, cart.CodeCartNotFound)
	wrong, _ := cart.NewGuestID()
	wantError(t, e.do(t, "merge.json", asBuyer("buyer-thief"), withCookie(wrong)), 404, cart.CodeCartNotFound)

	cost := e.cost(func() { resp = e.do(t, "merge.json", asBuyer(sub), withCookie(guest)) })
	wantCost(t, "merge", cost, 1, 1, "BatchGetItem=1 TransactWriteItems=1")
	m := decode[wireMerge](t, resp, 200)
	if m.MergedLines != 2 || m.AlreadyMerged || m.Cart.LineCount != 3 || m.Cart.Kind != "buyer" {
		t.Errorf("merge = %+v", m)
	}
	if len(resp.Cookies) != 1 || !strings.HasPrefix(resp.Cookies[0], "etalase_cart=;") || !strings.Contains(resp.Cookies[0], "Max-Age=0") {
		t.Errorf("merge must clear the cookie: %v", resp.Cookies)
	}
	if e.item(t, "guest#"+guest) != nil {
		t.Error("the guest cart still exists after the merge")
	}
	wantError(t, e.do(t, "get-guest-cart.json", withCookie(guest)), 404, cart.CodeCartNotFound)
	c := e.getCart(t, sub)
	byID := map[string]wireLine{}
	for _, l := range c.Lines {
		byID[l.ProductID] = l
	}
	if l := byID[kopi.ID]; l.Quantity != cart.MaxQuantity || l.Attribution.PromotionID != "promo_new" || !l.PriceChanged {
		t.Errorf("kopi: %d units, %+v; want 99 (capped) and the newer attribution", l.Quantity, l.Attribution)
	}
	if l := byID[teh.ID]; l.Quantity != 1 || l.Attribution != nil {
		t.Errorf("teh: %+v", l)
	}
	if l := byID[gula.ID]; l.Quantity != 3 {
		t.Errorf("gula: %+v", l)
	}

	// A retry (the response was lost) succeeds without change; no write.
	cost = e.cost(func() { resp = e.do(t, "merge.json", asBuyer(sub), withHeader(guest)) })
	wantCost(t, "merge retried", cost, 1, 0, "BatchGetItem=1")
	if m := decode[wireMerge](t, resp, 200); !m.AlreadyMerged || m.MergedLines != 0 || m.Cart.Version != c.Version {
		t.Errorf("retried merge = %+v", m)
	}
	wantError(t, e.do(t, "merge.json", asBuyer("buyer-thief"), withCookie(guest)), 404, cart.CodeCartNotFound)

	// A guest cart in another currency, or one that would overflow the buyer's, is not
	// merged and stays as it is.
	usd := e.product(t, "Vanilla Pods", money.Money{Amount: 1500, Currency: "USD"}, 10)
	resp = e.do(t, "add-guest-item.json", noGuestID(), withBody(map[string]any{"productId": usd.ID}))
	usdGuest := resp.Headers["X-Cart-Id"]
	wantError(t, e.do(t, "merge.json", asBuyer(sub), withCookie(usdGuest)), 409, cart.CodeCurrencyMismatch)
	if e.item(t, "guest#"+usdGuest) == nil {
		t.Error("a refused merge deleted the guest cart")
	}
	// Into a buyer with no cart: the guest's lines.
	m = decode[wireMerge](t, e.do(t, "merge.json", asBuyer("buyer-fresh"), withCookie(usdGuest)), 200)
	if m.MergedLines != 1 || m.Cart.Currency != "USD" || m.Cart.Version != 1 {
		t.Errorf("merge into no cart = %+v", m)
	}
}

// An expired cart counts as absent before DynamoDB's TTL deletes it; the TTL attribute
// is refreshed on every write.
func TestExpiry(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	kopi := e.product(t, "Kopi Gayo", idr(85000), 10)
	teh := e.product(t, "Teh Melati", idr(30000), 10)
	const sub = "buyer-expiry"

	ttl, err := e.db.DescribeTimeToLive(context.Background(), &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(e.cartTable)})
	if err != nil {
		t.Fatal(err)
	}
	if d := ttl.TimeToLiveDescription; d == nil || aws.ToString(d.AttributeName) != "expiresAt" || d.TimeToLiveStatus != types.TimeToLiveStatusEnabled {
		t.Fatalf("CartTable TTL = %+v", ttl.TimeToLiveDescription)
	}

	start := e.clock.Now()
	decode[wireLineResult](t, e.addProduct(t, sub, kopi.ID, 1), 201)
	exp := func(key string) int64 { return int64(e.item(t, key)["expiresAt"].(float64)) }
	if got, want := exp("buyer#"+sub), start.Add(cart.BuyerTTL).Unix(); got < want-2 || got > want+2 {
		t.Errorf("buyer expiresAt %d, want about %d (30 days)", got, want)
	}
	e.clock.Advance(20 * 24 * time.Hour)
	decode[wireLineResult](t, e.addProduct(t, sub, teh.ID, 1), 201)
	if got, want := exp("buyer#"+sub), start.Add(20*24*time.Hour+cart.BuyerTTL).Unix(); got < want-2 || got > want+2 {
		t.Errorf("a write did not refresh expiresAt: %d, want about %d", got, want)
	}
	e.clock.Advance(29 * 24 * time.Hour)
	if c := e.getCart(t, sub); c.LineCount != 2 {
		t.Fatalf("a cart written 29 days ago is gone: %+v", c)
	}
	e.clock.Advance(2 * 24 * time.Hour)
	if c := e.getCart(t, sub); c.LineCount != 0 || c.Version != 0 {
		t.Errorf("an expired cart is still read: %+v", c)
	}
	if e.item(t, "buyer#"+sub) == nil {
		t.Fatal("the test needs the expired item still stored")
	}
	wantError(t, e.do(t, "set-quantity.json", asBuyer(sub), forProduct(kopi.ID), withBody(map[string]int{"quantity": 2})), 404, cart.CodeLineNotFound)
	wantError(t, e.do(t, "remove-item.json", asBuyer(sub), forProduct(kopi.ID)), 404, cart.CodeLineNotFound)
	// The next add starts a fresh cart over the expired item, still versioned after it.
	r := decode[wireLineResult](t, e.addProduct(t, sub, teh.ID, 1), 201)
	if r.Cart.LineCount != 1 || r.Cart.ItemCount != 1 || r.Cart.Version != 3 {
		t.Errorf("add after expiry: %+v", r.Cart)
	}

	// A guest cart lives 7 days.
	resp := e.do(t, "add-guest-item.json", noGuestID(), withBody(map[string]any{"productId": kopi.ID}))
	guest := resp.Headers["X-Cart-Id"]
	decode[wireLineResult](t, resp, 201)
	e.clock.Advance(6 * 24 * time.Hour)
	decode[wireCart](t, e.do(t, "get-guest-cart.json", withCookie(guest)), 200)
	e.clock.Advance(24*time.Hour + time.Second)
	wantError(t, e.do(t, "get-guest-cart.json", withCookie(guest)), 404, cart.CodeCartNotFound)
	wantError(t, e.do(t, "remove-guest-item.json", withCookie(guest), forProduct(kopi.ID)), 404, cart.CodeCartNotFound)
	wantError(t, e.do(t, "set-guest-quantity.json", withCookie(guest), forProduct(kopi.ID), withBody(map[string]int{"quantity": 1})), 404, cart.CodeCartNotFound)
	wantError(t, e.do(t, "merge.json", asBuyer(sub), withCookie(guest)), 404, cart.CodeCartNotFound)
	resp = e.do(t, "add-guest-item.json", withCookie(guest), withBody(map[string]any{"productId": kopi.ID}))
	if decode[wireLineResult](t, resp, 201); resp.Headers["X-Cart-Id"] == guest {
		t.Error("an add to an expired guest cart reused its id")
	}
}

// Concurrent writes to one cart never lose an update: N requests at once, each adding
// a unit (some to the same line, some to new lines), leave exactly N units and a
// version of N.
func TestConcurrentWrites(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const same, distinct = 12, 12
	shared := e.product(t, "Kopi Gayo", idr(85000), 1000)
	var others []string
	for i := range distinct {
		others = append(others, e.product(t, fmt.Sprintf("Teh %02d", i), idr(30000), 100).ID)
	}

	run := func(t *testing.T, fixture string, o opt) {
		var wg sync.WaitGroup
		var failed atomic.Int32
		send := func(productID string) {
			defer wg.Done()
			req := event(t, fixture)
			o(&req)
			withBody(map[string]any{"productId": productID, "quantity": 1})(&req)
			resp, err := e.handler.Handle(context.Background(), req)
			if err != nil || (resp.StatusCode != 200 && resp.StatusCode != 201) {
				failed.Add(1)
				t.Errorf("concurrent add: %v %d %s", err, resp.StatusCode, resp.Body)
			}
		}
		for range same {
			wg.Add(1)
			go send(shared.ID)
		}
		for _, id := range others {
			wg.Add(1)
			go send(id)
		}
		wg.Wait()
		if failed.Load() > 0 {
			t.FailNow()
		}
	}

	t.Run("buyer", func(t *testing.T) {
		const sub = "buyer-race"
		decode[wireLineResult](t, e.addProduct(t, sub, shared.ID, 1), 201) // the cart exists
		e.count.Reset()
		run(t, "add-item-product.json", asBuyer(sub))
		cost := e.count.Take()
		c := e.getCart(t, sub)
		byID := map[string]int{}
		for _, l := range c.Lines {
			byID[l.ProductID] = l.Quantity
		}
		if byID[shared.ID] != same+1 || len(c.Lines) != distinct+1 || c.ItemCount != same+distinct+1 || c.Version != same+distinct+1 {
			t.Errorf("after %d concurrent adds: shared line %d (want %d), %d lines, %d items, version %d", same+distinct,
				byID[shared.ID], same+1, len(c.Lines), c.ItemCount, c.Version)
		}
		// Every request wrote once successfully; the lost races show as extra attempts.
		if cost.Calls["PutItem"] < same+distinct || cost.Calls["BatchGetItem"] != cost.Calls["PutItem"] {
			t.Errorf("concurrent cost %s: each attempt must be one read and one write", cost)
		}
		t.Logf("%d concurrent adds cost %s (%d lost races retried)", same+distinct, cost, cost.Calls["PutItem"]-(same+distinct))
	})

	t.Run("guest", func(t *testing.T) {
		resp := e.do(t, "add-guest-item.json", noGuestID(), withBody(map[string]any{"productId": shared.ID}))
		id := resp.Headers["X-Cart-Id"]
		decode[wireLineResult](t, resp, 201)
		run(t, "add-guest-item.json", withCookie(id))
		c := decode[wireCart](t, e.do(t, "get-guest-cart.json", withCookie(id)), 200)
		if c.ItemCount != same+distinct+1 || c.Version != same+distinct+1 || len(c.Lines) != distinct+1 {
			t.Errorf("guest cart after concurrent adds: %d items, %d lines, version %d", c.ItemCount, len(c.Lines), c.Version)
		}
	})

	t.Run("removes and adds", func(t *testing.T) {
		const sub = "buyer-race-2"
		for _, id := range others {
			decode[wireLineResult](t, e.addProduct(t, sub, id, 1), 201)
		}
		var wg sync.WaitGroup
		for _, id := range others {
			wg.Add(2)
			go func() {
				defer wg.Done()
				resp := e.do(t, "remove-item.json", asBuyer(sub), forProduct(id))
				if resp.StatusCode != 200 {
					t.Errorf("concurrent remove: %d %s", resp.StatusCode, resp.Body)
				}
			}()
			go func() {
				defer wg.Done()
				resp := e.addProduct(t, sub, shared.ID, 1)
				if resp.StatusCode != 200 && resp.StatusCode != 201 {
					t.Errorf("concurrent add: %d %s", resp.StatusCode, resp.Body)
				}
			}()
		}
		wg.Wait()
		c := e.getCart(t, sub)
		if len(c.Lines) != 1 || c.Lines[0].ProductID != shared.ID || c.ItemCount != distinct || c.Version != 3*distinct {
			t.Errorf("after concurrent removes and adds: %+v", c)
		}
	})
}

// DynamoDB Local never reports TransactionConflict, so a middleware injects it into the
// merge's transaction: the service retries and merges exactly once, or gives up with
// 409 conflict and changes nothing.
func TestMergeTransactionConflict(t *testing.T) {
	t.Parallel()
	e := newEnv(t, cart.WithMaxAttempts(4))
	kopi := e.product(t, "Kopi Gayo", idr(85000), 100)
	var remaining atomic.Int32
	inject := func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("injectTransactionConflict",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				if _, ok := in.Parameters.(*dynamodb.TransactWriteItemsInput); ok && remaining.Add(-1) >= 0 {
					return middleware.InitializeOutput{}, middleware.Metadata{}, &types.TransactionCanceledException{
						Message: aws.String("Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict, None]"),
						CancellationReasons: []types.CancellationReason{
							{Code: aws.String("TransactionConflict")}, {Code: aws.String("None")},
						},
					}
				}
				return next.HandleInitialize(ctx, in)
			}), middleware.Before)
	}
	// The counter goes in last, so that it sits in front of the injection and counts
	// the injected failures as calls.
	e.use(dynamodb.New(e.db.Options(), func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, inject) }, e.count.Option()),
		cart.WithMaxAttempts(4))

	guestWith := func(qty int) string {
		resp := e.do(t, "add-guest-item.json", noGuestID(), withBody(map[string]any{"productId": kopi.ID, "quantity": qty}))
		decode[wireLineResult](t, resp, 201)
		return resp.Headers["X-Cart-Id"]
	}
	g1 := guestWith(2)
	remaining.Store(2)
	cost := e.cost(func() {
		decode[wireMerge](t, e.do(t, "merge.json", asBuyer("buyer-tx"), withCookie(g1)), 200)
	})
	if cost.Calls["TransactWriteItems"] != 3 || cost.Calls["BatchGetItem"] != 3 {
		t.Errorf("two injected conflicts: %v, want 3 attempts of one read and one write", cost.Calls)
	}
	if c := e.getCart(t, "buyer-tx"); c.ItemCount != 2 {
		t.Errorf("merged %d items, want 2 exactly once", c.ItemCount)
	}

	g2 := guestWith(3)
	before := e.item(t, "buyer#buyer-tx")
	remaining.Store(100)
	wantError(t, e.do(t, "merge.json", asBuyer("buyer-tx"), withCookie(g2)), 409, cart.CodeConflict)
	if diff := cmp.Diff(before, e.item(t, "buyer#buyer-tx")); diff != "" {
		t.Errorf("a merge that lost every race changed the buyer cart:\n%s", diff)
	}
	if e.item(t, "guest#"+g2) == nil {
		t.Error("a merge that lost every race deleted the guest cart")
	}
}
