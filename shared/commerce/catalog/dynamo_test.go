package catalog_test

// Integration tests against DynamoDB Local, with the tables created from template.yaml.
// Run them with `make test` or `go run ./infra/cmd/etalase env -- go test ./shared/commerce/...`;
// a plain `go test` skips them.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
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
	"github.com/etalase/etalase/shared/commerce/catalog"
	"github.com/etalase/etalase/shared/commerce/outbox"
	"github.com/etalase/etalase/shared/contract"
	"github.com/etalase/etalase/shared/platform/httpapi"
)

// env is one test's fresh CatalogTable and OutboxTable in DynamoDB Local.
type env struct {
	db      *dynamodb.Client
	catalog string
	outbox  string
	store   *catalog.DynamoStore
	svc     *catalog.Service
	handler *catalog.Handler
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db := testenv.DynamoDB(t, localaccount.Commerce)
	tpl, err := samtemplate.Load("../../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	res, err := provision.Provision(ctx, provision.Options{
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
	e := &env{db: db, catalog: res.Tables["CatalogTable"].Name, outbox: res.Tables["OutboxTable"].Name}
	if e.catalog == "" || e.outbox == "" {
		t.Fatalf("template tables missing: %+v", res.Tables)
	}
	t.Cleanup(func() {
		for _, tb := range res.Tables {
			_, _ = db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(tb.Name)})
		}
	})
	e.use(db)
	return e
}

// use rebuilds the store, service and handler over client.
func (e *env) use(client catalog.DynamoAPI) {
	e.store = catalog.NewDynamoStore(client, e.catalog, e.outbox)
	e.svc = catalog.NewService(e.store)
	e.handler = catalog.NewHandler(e.svc, slog.New(slog.DiscardHandler))
}

func (e *env) scan(t *testing.T, table string) []map[string]types.AttributeValue {
	t.Helper()
	var items []map[string]types.AttributeValue
	p := dynamodb.NewScanPaginator(e.db, &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, page.Items...)
	}
	return items
}

// events returns the outbox records, oldest version first per product.
func (e *env) events(t *testing.T) []outbox.Record {
	t.Helper()
	var out []outbox.Record
	for _, it := range e.scan(t, e.outbox) {
		r, err := outbox.FromItem(it)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b outbox.Record) int { return a.OccurredAt.Compare(b.OccurredAt) })
	return out
}

// state is a comparable summary of both tables.
type state struct {
	products map[string]string // id → raw item
	events   int
}

func (e *env) state(t *testing.T) state {
	t.Helper()
	s := state{products: map[string]string{}}
	for _, it := range e.scan(t, e.catalog) {
		var m map[string]any
		if err := attributevalue.UnmarshalMap(it, &m); err != nil {
			t.Fatal(err)
		}
		raw, err := json.Marshal(m) // map keys sorted: a canonical form
		if err != nil {
			t.Fatal(err)
		}
		s.products[fmt.Sprint(m["productId"])] = string(raw)
	}
	s.events = len(e.scan(t, e.outbox))
	return s
}

// do sends a fixture (edited) through the handler.
func (e *env) do(t *testing.T, fixture string, edit func(*httpapi.Request)) (httpapi.Response, httpapi.Request) {
	t.Helper()
	req := event(t, fixture)
	if edit != nil {
		edit(&req)
	}
	resp, err := e.handler.Handle(context.Background(), req)
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	return resp, req
}

func forProduct(id string, more ...func(*httpapi.Request)) func(*httpapi.Request) {
	return func(r *httpapi.Request) {
		if r.PathParameters != nil {
			r.PathParameters["productId"] = id
		}
		for _, f := range more {
			f(r)
		}
	}
}

func wantStatus(t *testing.T, resp httpapi.Response, status int, code string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d: %s", resp.StatusCode, status, resp.Body)
	}
	if code != "" {
		var e wireError
		strictDecode(t, resp.Body, &e)
		if e.Error.Code != code {
			t.Fatalf("code %q, want %q: %s", e.Error.Code, code, resp.Body)
		}
	}
}

// checkEvents verifies the outbox holds exactly one record per version 1..n of the
// product, each describing the product at that version.
func checkEvents(t *testing.T, e *env, id string, wantTypes ...string) {
	t.Helper()
	var got []string
	for _, r := range e.events(t) {
		if r.AggregateID != id {
			continue
		}
		d := payload(t, r)
		got = append(got, fmt.Sprintf("v%d %s", d.Version, r.EventType))
		// expiresAt is stored in whole epoch seconds, as DynamoDB's TTL requires.
		ttl := r.ExpiresAt.Sub(r.OccurredAt)
		if d.ProductID != id || r.SchemaVersion != contract.CatalogSchemaVersion || ttl > outbox.Retention || ttl <= outbox.Retention-time.Second {
			t.Errorf("record %v: payload %+v", r, d)
		}
	}
	var want []string
	for i, typ := range wantTypes {
		want = append(want, fmt.Sprintf("v%d %s", i+1, typ))
	}
	if !slices.Equal(got, want) {
		t.Errorf("outbox for %s:\n got %v\nwant %v", id, got, want)
	}
}

func TestDynamoEveryRoute(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	resp, req := e.do(t, "create-product.json", nil)
	wantStatus(t, resp, 201, "")
	var p wireProduct
	strictDecode(t, resp.Body, &p)
	id := p.ProductID
	checkEvents(t, e, id, "ProductListed")
	if r := e.events(t)[0]; r.CorrelationID != req.RequestContext.RequestID {
		t.Errorf("correlation id %q, want %q", r.CorrelationID, req.RequestContext.RequestID)
	}

	resp, _ = e.do(t, "get-product.json", forProduct(id))
	wantStatus(t, resp, 200, "")
	var got wireProduct
	strictDecode(t, resp.Body, &got)
	if got != p {
		t.Errorf("GET = %+v\nPOST = %+v", got, p)
	}

	resp, _ = e.do(t, "update-product.json", forProduct(id))
	wantStatus(t, resp, 200, "")
	strictDecode(t, resp.Body, &p)
	if p.Title != "Kopi Arabika Gayo 500 g" || p.Price.Amount != 160000 || p.Version != 2 || p.Stock != 40 {
		t.Errorf("after PATCH: %+v", p)
	}

	resp, _ = e.do(t, "set-stock.json", forProduct(id))
	wantStatus(t, resp, 200, "")
	strictDecode(t, resp.Body, &p)
	if p.Stock != 25 || p.Version != 3 {
		t.Errorf("after PUT stock: %+v", p)
	}

	resp, _ = e.do(t, "adjust-stock.json", forProduct(id))
	wantStatus(t, resp, 200, "")
	strictDecode(t, resp.Body, &p)
	if p.Stock != 22 || p.Version != 4 {
		t.Errorf("after adjustment: %+v", p)
	}

	resp, _ = e.do(t, "adjust-stock.json", forProduct(id, func(r *httpapi.Request) { setBody(r, `{"delta":-22}`) }))
	wantStatus(t, resp, 200, "")
	strictDecode(t, resp.Body, &p)
	if p.Stock != 0 || p.InStock || p.Version != 5 {
		t.Errorf("after adjustment to zero: %+v", p)
	}

	resp, _ = e.do(t, "list-seller-products.json", nil)
	wantStatus(t, resp, 200, "")
	var l wireList
	strictDecode(t, resp.Body, &l)
	if len(l.Items) != 1 || l.Items[0] != p || l.NextCursor != "" {
		t.Errorf("list = %+v, want just %+v", l, p)
	}

	resp, _ = e.do(t, "delist-product.json", forProduct(id))
	wantStatus(t, resp, 200, "")
	strictDecode(t, resp.Body, &p)
	if p.Status != "DELISTED" || p.Version != 6 {
		t.Errorf("after DELETE: %+v", p)
	}
	before := e.state(t)
	resp, _ = e.do(t, "delist-product.json", forProduct(id))
	wantStatus(t, resp, 200, "")
	resp, _ = e.do(t, "update-product.json", forProduct(id))
	wantStatus(t, resp, 409, "product_delisted")
	resp, _ = e.do(t, "adjust-stock.json", forProduct(id, func(r *httpapi.Request) { setBody(r, `{"delta":5}`) }))
	wantStatus(t, resp, 409, "product_delisted")
	if after := e.state(t); !equalState(before, after) {
		t.Errorf("writes to a delisted product changed the tables")
	}
	resp, _ = e.do(t, "get-product.json", forProduct(id))
	wantStatus(t, resp, 200, "")
	strictDecode(t, resp.Body, &got)
	if got.Status != "DELISTED" || got.Version != 6 {
		t.Errorf("GET delisted = %+v", got)
	}
	checkEvents(t, e, id, "ProductListed", "ProductUpdated", "ProductUpdated", "ProductUpdated", "ProductUpdated", "ProductDelisted")

	// The last event says what social must show: delisted, not in stock.
	evs := e.events(t)
	last := payload(t, evs[len(evs)-1])
	if last.InStock || last.Title != "Kopi Arabika Gayo 500 g" || last.Price != (contract.Price{Amount: 160000, Currency: "IDR"}) {
		t.Errorf("ProductDelisted payload %+v", last)
	}
}

func equalState(a, b state) bool {
	if a.events != b.events || len(a.products) != len(b.products) {
		return false
	}
	for k, v := range a.products {
		if b.products[k] != v {
			return false
		}
	}
	return true
}

func TestDynamoRejectedRequestsWriteNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	resp, _ := e.do(t, "create-product.json", nil)
	wantStatus(t, resp, 201, "")
	var p wireProduct
	strictDecode(t, resp.Body, &p)
	id := p.ProductID

	other := func(r *httpapi.Request) { r.RequestContext.Authorizer.JWT.Claims["sub"] = "seller-other" }
	body := func(b string) func(*httpapi.Request) { return func(r *httpapi.Request) { setBody(r, b) } }
	tests := []struct {
		name    string
		fixture string
		edit    func(*httpapi.Request)
		status  int
		code    string
	}{
		{"create: broken JSON", "create-product.json", body(`{"title":`), 400, "invalid_json"},
		{"create: unknown field", "create-product.json", body(`{"title":"a","version":9}`), 400, "invalid_body"},
		{"create: invalid fields", "create-product.json", body(`{"title":"","imageUrl":"/a.jpg","price":{"amount":1,"currency":"IDR"}}`), 400, "validation_failed"},
		{"create: no token", "create-product.json", func(r *httpapi.Request) { r.RequestContext.Authorizer = nil }, 401, "unauthenticated"},
		{"create: no scope", "create-product.json", func(r *httpapi.Request) { r.RequestContext.Authorizer.JWT.Scopes = []string{"buyer"} }, 403, "forbidden"},
		{"update: other seller", "update-product.json", forProduct(id, other), 404, "product_not_found"},
		{"update: unknown product", "update-product.json", forProduct("p_aaaaaaaaaaaaaaaaaaaaaaaaaa"), 404, "product_not_found"},
		{"update: invalid", "update-product.json", forProduct(id, body(`{"imageUrl":"javascript:alert(1)"}`)), 400, "validation_failed"},
		{"set stock: other seller", "set-stock.json", forProduct(id, other), 404, "product_not_found"},
		{"set stock: negative", "set-stock.json", forProduct(id, body(`{"stock":-1}`)), 400, "validation_failed"},
		{"adjust: other seller", "adjust-stock.json", forProduct(id, other), 404, "product_not_found"},
		{"adjust: overdraw", "adjust-stock.json", forProduct(id, body(`{"delta":-41}`)), 409, "insufficient_stock"},
		{"adjust: zero", "adjust-stock.json", forProduct(id, body(`{"delta":0}`)), 400, "validation_failed"},
		{"delist: other seller", "delist-product.json", forProduct(id, other), 404, "product_not_found"},
		{"list: bad cursor", "list-seller-products.json", func(r *httpapi.Request) { r.QueryStringParameters["cursor"] = "!!" }, 400, "validation_failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.state(t)
			resp, _ := e.do(t, tt.fixture, tt.edit)
			wantStatus(t, resp, tt.status, tt.code)
			if after := e.state(t); !equalState(before, after) {
				t.Errorf("a rejected request changed the tables: %d→%d products, %d→%d outbox records",
					len(before.products), len(after.products), before.events, after.events)
			}
		})
	}
	checkEvents(t, e, id, "ProductListed")

	// The other seller sees none of it.
	resp, _ = e.do(t, "list-seller-products.json", other)
	wantStatus(t, resp, 200, "")
	if resp.Body != `{"items":[]}` {
		t.Errorf("other seller's list = %s", resp.Body)
	}
}

// The store's conditions hold on their own, without the service's read: a write that
// the service would have refused is refused by DynamoDB too, and writes nothing.
func TestDynamoStoreConditions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	// fresh creates a product for one case (stock 10, version 1), delisted if asked.
	fresh := func(t *testing.T, delist bool) catalog.Product {
		p, err := e.svc.Create(ctx, "seller-a", validNew())
		if err == nil && delist {
			p, err = e.svc.Delist(ctx, "seller-a", p.ID)
		}
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	next := func(q catalog.Product, f func(*catalog.Product)) catalog.Product {
		q.Version++
		q.UpdatedAt = time.Now()
		f(&q)
		return q
	}
	ev := func(q catalog.Product) outbox.Record {
		r, err := outbox.New(ctx, contract.EventProductUpdated, q.ID, 1, map[string]int64{"version": q.Version}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	tests := []struct {
		name   string
		delist bool
		write  func(p catalog.Product) error
		want   error
	}{
		{"replace: other seller", false, func(p catalog.Product) error {
			q := next(p, func(q *catalog.Product) { q.SellerID = "seller-b"; q.Title = "stolen" })
			return e.store.Replace(ctx, q, ev(q))
		}, catalog.ErrNotFound},
		{"replace: missing product", false, func(p catalog.Product) error {
			q := next(p, func(q *catalog.Product) { q.ID = "p_aaaaaaaaaaaaaaaaaaaaaaaaaa" })
			return e.store.Replace(ctx, q, ev(q))
		}, catalog.ErrNotFound},
		{"replace: stale version", false, func(p catalog.Product) error {
			q := next(p, func(q *catalog.Product) { q.Version = 7 })
			return e.store.Replace(ctx, q, ev(q))
		}, catalog.ErrConflict},
		{"replace: delisted", true, func(p catalog.Product) error {
			q := next(p, func(q *catalog.Product) { q.Status = catalog.StatusListed })
			return e.store.Replace(ctx, q, ev(q))
		}, catalog.ErrDelisted},
		{"adjust: overdraw", false, func(p catalog.Product) error {
			q := next(p, func(q *catalog.Product) { q.Stock = -1 })
			return e.store.AdjustStock(ctx, q, -11, ev(q))
		}, catalog.ErrInsufficientStock},
		{"adjust: other seller", false, func(p catalog.Product) error {
			q := next(p, func(q *catalog.Product) { q.SellerID = "seller-b" })
			return e.store.AdjustStock(ctx, q, -1, ev(q))
		}, catalog.ErrNotFound},
		{"adjust: stale version", false, func(p catalog.Product) error {
			q := next(p, func(q *catalog.Product) { q.Version = 0 })
			return e.store.AdjustStock(ctx, q, -1, ev(q))
		}, catalog.ErrConflict},
		{"adjust: delisted", true, func(p catalog.Product) error {
			q := next(p, func(q *catalog.Product) { q.Stock = 11 })
			return e.store.AdjustStock(ctx, q, 1, ev(q))
		}, catalog.ErrDelisted},
		{"create: id taken", false, func(p catalog.Product) error {
			return e.store.Create(ctx, p, ev(p))
		}, catalog.ErrConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := fresh(t, tt.delist)
			before := e.state(t)
			if err := tt.write(p); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if after := e.state(t); !equalState(before, after) {
				t.Error("a failed condition changed the tables")
			}
		})
	}

	p := fresh(t, false)
	if _, err := e.store.Get(ctx, "p_aaaaaaaaaaaaaaaaaaaaaaaaaa"); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("Get missing: %v, want ErrNotFound", err)
	}
	got, err := e.store.Get(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(p, got); diff != "" {
		t.Errorf("stored product (-created +read):\n%s", diff)
	}
}

func TestDynamoConcurrentAdjustmentsNeverOverdraw(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p, err := e.svc.Create(context.Background(), fixtureSeller, validNew()) // stock 10
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	statuses := make([]int, n)
	codes := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			req := event(t, "adjust-stock.json")
			req.PathParameters["productId"] = p.ID
			setBody(&req, `{"delta":-1}`)
			resp, err := e.handler.Handle(context.Background(), req)
			if err != nil {
				t.Error(err)
				return
			}
			statuses[i] = resp.StatusCode
			if resp.StatusCode != 200 {
				var we wireError
				_ = json.Unmarshal([]byte(resp.Body), &we)
				codes[i] = we.Error.Code
			}
		})
	}
	wg.Wait()
	ok, short := 0, 0
	for i := range n {
		switch {
		case statuses[i] == 200:
			ok++
		case statuses[i] == 409 && codes[i] == "insufficient_stock":
			short++
		default:
			t.Errorf("request %d: %d %s", i, statuses[i], codes[i])
		}
	}
	got, err := e.store.Get(context.Background(), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ok != 10 || short != 10 || got.Stock != 0 || got.Version != 11 {
		t.Errorf("%d succeeded, %d insufficient, stock %d, version %d; want 10, 10, 0, 11", ok, short, got.Stock, got.Version)
	}
	want := []string{"ProductListed"}
	for range 10 {
		want = append(want, "ProductUpdated")
	}
	checkEvents(t, e, p.ID, want...)
	// Each successful adjustment's event states the stock it left behind.
	for _, r := range e.events(t) {
		if d := payload(t, r); d.InStock != (d.Version < 11) {
			t.Errorf("v%d inStock=%v", d.Version, d.InStock)
		}
	}
}

func TestDynamoListPagination(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	var mine []string
	for i := range 7 {
		in := validNew()
		in.Title = fmt.Sprintf("Produk %d", i)
		p, err := e.svc.Create(ctx, fixtureSeller, in)
		if err != nil {
			t.Fatal(err)
		}
		mine = append(mine, p.ID)
		if _, err := e.svc.Create(ctx, "seller-other", in); err != nil {
			t.Fatal(err)
		}
	}
	slices.Reverse(mine) // newest first

	pageThrough := func(limit string) (ids []string, sizes []int) {
		cursor := ""
		for range 10 {
			resp, _ := e.do(t, "list-seller-products.json", func(r *httpapi.Request) {
				r.QueryStringParameters["limit"] = limit
				if cursor != "" {
					r.QueryStringParameters["cursor"] = cursor
				}
			})
			wantStatus(t, resp, 200, "")
			var l wireList
			strictDecode(t, resp.Body, &l)
			sizes = append(sizes, len(l.Items))
			for i, p := range l.Items {
				ids = append(ids, p.ProductID)
				if i > 0 && p.CreatedAt.After(l.Items[i-1].CreatedAt) {
					t.Errorf("not newest first: %v after %v", p.CreatedAt, l.Items[i-1].CreatedAt)
				}
			}
			if l.NextCursor == "" {
				return ids, sizes
			}
			cursor = l.NextCursor
		}
		t.Fatal("pagination does not end")
		return nil, nil
	}
	ids, sizes := pageThrough("3")
	if !slices.Equal(ids, mine) || !slices.Equal(sizes, []int{3, 3, 1}) {
		t.Errorf("limit 3: pages %v, ids %v, want %v", sizes, ids, mine)
	}
	ids, sizes = pageThrough("7")
	if !slices.Equal(ids, mine) || !slices.Equal(sizes, []int{7}) {
		t.Errorf("limit 7: pages %v (the last full page must have no cursor)", sizes)
	}

	// A cursor of another seller's list only positions the caller's own list.
	page, err := e.svc.ListBySeller(ctx, "seller-other", 2, "")
	if err != nil || page.NextCursor == "" {
		t.Fatalf("other seller's first page: %+v, %v", page, err)
	}
	resp, _ := e.do(t, "list-seller-products.json", func(r *httpapi.Request) {
		r.QueryStringParameters["cursor"] = page.NextCursor
	})
	wantStatus(t, resp, 200, "")
	var l wireList
	strictDecode(t, resp.Body, &l)
	for _, p := range l.Items {
		if p.SellerID != fixtureSeller {
			t.Errorf("a foreign cursor listed %s's product", p.SellerID)
		}
	}
}

// DynamoDB Local never reports TransactionConflict, so a middleware injects it: the
// service retries a lost race and writes exactly once, and gives up with 409 conflict.
func TestDynamoTransactionConflictIsRetried(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p, err := e.svc.Create(context.Background(), fixtureSeller, validNew())
	if err != nil {
		t.Fatal(err)
	}
	var remaining atomic.Int32
	inject := func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("injectTransactionConflict",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				if _, ok := in.Parameters.(*dynamodb.TransactWriteItemsInput); ok && remaining.Add(-1) >= 0 {
					return middleware.InitializeOutput{}, middleware.Metadata{}, &types.TransactionCanceledException{
						Message: aws.String("Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict, None]"),
						CancellationReasons: []types.CancellationReason{
							{Code: aws.String("TransactionConflict"), Message: aws.String("Transaction is ongoing for the item")},
							{Code: aws.String("None")},
						},
					}
				}
				return next.HandleInitialize(ctx, in)
			}), middleware.Before)
	}
	e.use(dynamodb.New(e.db.Options(), func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, inject) }))

	remaining.Store(3)
	resp, _ := e.do(t, "adjust-stock.json", forProduct(p.ID))
	wantStatus(t, resp, 200, "")
	checkEvents(t, e, p.ID, "ProductListed", "ProductUpdated")

	remaining.Store(catalog.DefaultMaxAttempts)
	before := e.state(t)
	resp, _ = e.do(t, "set-stock.json", forProduct(p.ID))
	wantStatus(t, resp, 409, "conflict")
	if after := e.state(t); !equalState(before, after) {
		t.Error("a write that lost every race changed the tables")
	}
}
