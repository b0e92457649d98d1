package promotion_test

// Integration tests of every route against DynamoDB Local, with the tables created from
// template.yaml and requests built from the fixtures in events/social/promotion. Run
// them with `make test` or `go run ./infra/cmd/etalase env -- go test ./shared/social/...`.

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/google/go-cmp/cmp"

	"github.com/etalase/etalase/infra/localaccount"
	"github.com/etalase/etalase/infra/provision"
	"github.com/etalase/etalase/infra/samtemplate"
	"github.com/etalase/etalase/infra/testenv"
	"github.com/etalase/etalase/shared/contract"
	"github.com/etalase/etalase/shared/platform/httpapi"
	"github.com/etalase/etalase/shared/social/commission"
	"github.com/etalase/etalase/shared/social/money"
	"github.com/etalase/etalase/shared/social/promotion"
	"github.com/etalase/etalase/shared/social/snapshot"
)

const (
	creatorA = "creator-a"
	creatorB = "creator-b"
	productA = "p_aaaaaaaaaaaaaaaaaaaaaaaaaa"
	productB = "p_bbbbbbbbbbbbbbbbbbbbbbbbbb"
	soldOut  = "p_cccccccccccccccccccccccccc"
	delisted = "p_dddddddddddddddddddddddddd"
	unknown  = "p_eeeeeeeeeeeeeeeeeeeeeeeeee"
)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// env is one test's social tables, services and handler.
type env struct {
	db        *dynamodb.Client
	tables    map[string]string
	clock     *clock
	pub       ed25519.PublicKey
	snapshots *snapshot.DynamoStore
	store     *promotion.DynamoStore
	ledger    *commission.Ledger
	svc       *promotion.Service
	handler   *promotion.Handler
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db := testenv.DynamoDB(t, localaccount.Social)
	tpl, err := samtemplate.Load("../../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	res, err := provision.Provision(context.Background(), provision.Options{
		Template: tpl, Account: localaccount.Social,
		Params: map[string]string{"JwtIssuer": "https://id.etalase.example", "JwtAudience": "etalase-social"},
		Prefix: testenv.Prefix(t), DynamoDB: db, SQS: testenv.SQS(t, localaccount.Social),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, tb := range res.Tables {
			_, _ = db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(tb.Name)})
		}
	})
	e := &env{db: db, tables: map[string]string{}, clock: &clock{t: time.Now().UTC().Truncate(time.Millisecond)}}
	for id, tb := range res.Tables {
		e.tables[id] = tb.Name
	}
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	e.pub = pub
	sign, err := promotion.NewSigner(priv)
	if err != nil {
		t.Fatal(err)
	}
	e.snapshots = snapshot.NewDynamoStore(db, e.tables["SnapshotsTable"])
	e.store = promotion.NewDynamoStore(db, e.tables["PromotionsTable"])
	e.ledger = commission.NewLedger(commission.NewDynamoStore(db, e.tables["CommissionsTable"]), e.store)
	e.svc = promotion.NewService(e.store, e.snapshots, e.ledger, sign, promotion.WithClock(e.clock.now))
	e.handler = promotion.NewHandler(e.svc, nil)
	for _, s := range []snapshot.Snapshot{
		{ProductID: productA, Title: "Kopi Gayo", ImageURL: "/assets/kopi.jpg", InStock: true, Listed: true},
		{ProductID: productB, Title: "Batik tulis", ImageURL: "/assets/batik.jpg", InStock: true, Listed: true},
		{ProductID: soldOut, Title: "Sold out", ImageURL: "/assets/x.jpg", InStock: false, Listed: true},
		{ProductID: delisted, Title: "Gone", ImageURL: "/assets/y.jpg", InStock: false, Listed: false},
	} {
		s.SellerID, s.Version, s.UpdatedAt = "seller-1", 1, e.clock.now()
		s.Price = money.Money{Amount: 85000, Currency: "IDR"}
		if _, err := e.snapshots.Put(context.Background(), s); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// req is one request built from a fixture.
type req struct {
	fixture string
	sub     string // "" keeps the fixture's authorizer; "-" removes it
	scopes  []string
	body    *string
	path    map[string]string
	query   map[string]string
}

func (e *env) do(t *testing.T, r req) (httpapi.Response, map[string]any) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("../../../events/social/promotion", r.fixture))
	if err != nil {
		t.Fatal(err)
	}
	var ev httpapi.Request
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	switch {
	case r.sub == "-":
		ev.RequestContext.Authorizer = nil
	case r.sub != "":
		ev.RequestContext.Authorizer.JWT.Claims["sub"] = r.sub
		if r.scopes != nil {
			ev.RequestContext.Authorizer.JWT.Scopes = r.scopes
		}
	}
	if r.body != nil {
		ev.Body = *r.body
	}
	for k, v := range r.path {
		ev.PathParameters[k] = v
	}
	if r.query != nil {
		ev.QueryStringParameters = r.query
	}
	resp, err := e.handler.Handle(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if resp.Body != "" {
		if err := json.Unmarshal([]byte(resp.Body), &m); err != nil {
			t.Fatalf("body %q: %v", resp.Body, err)
		}
	}
	return resp, m
}

func ptr(s string) *string { return &s }

func wantStatus(t *testing.T, resp httpapi.Response, m map[string]any, status int, code string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status = %d, want %d; body %s", resp.StatusCode, status, resp.Body)
	}
	if code != "" {
		e, _ := m["error"].(map[string]any)
		if e["code"] != code {
			t.Fatalf("error code = %v, want %s; body %s", e["code"], code, resp.Body)
		}
	}
}

func createBody(product, kind string, bps int, ends time.Time) *string {
	b, _ := json.Marshal(map[string]any{"productId": product, "kind": kind, "mediaUrl": "https://cdn.example/v.mp4",
		"caption": "Coba deh", "commissionBps": bps, "endsAt": ends})
	return ptr(string(b))
}

// create makes a promotion through the API and returns its id.
func (e *env) create(t *testing.T, creator, product string) string {
	t.Helper()
	resp, m := e.do(t, req{fixture: "create-promotion.json", sub: creator, body: createBody(product, "video", 1000, e.clock.now().Add(48*time.Hour))})
	wantStatus(t, resp, m, 201, "")
	return m["promotionId"].(string)
}

func TestCreateAndGet(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	resp, m := e.do(t, req{fixture: "create-promotion.json", sub: creatorA, body: createBody(productA, "live", 1250, e.clock.now().Add(24*time.Hour))})
	wantStatus(t, resp, m, 201, "")
	id, _ := m["promotionId"].(string)
	if !promotion.ValidID(id) || resp.Headers["Location"] != "/social/v1/promotions/"+id {
		t.Fatalf("id %q, Location %q", id, resp.Headers["Location"])
	}
	if m["creatorId"] != creatorA || m["commissionBps"] != 1250.0 || m["state"] != "LIVE" || m["status"] != "ACTIVE" ||
		m["clicks"] != 0.0 || m["kind"] != "live" {
		t.Errorf("created = %v", m)
	}
	product, _ := m["product"].(map[string]any)
	if product["title"] != "Kopi Gayo" || product["available"] != true {
		t.Errorf("product = %v", product)
	}

	// Public read: the promotion and its product, without the creator's terms and numbers.
	resp, m = e.do(t, req{fixture: "get-promotion.json", path: map[string]string{"promotionId": id}})
	wantStatus(t, resp, m, 200, "")
	if m["promotionId"] != id || m["state"] != "LIVE" || m["product"] == nil {
		t.Errorf("public view = %v", m)
	}
	for _, private := range []string{"commissionBps", "clicks", "earnings", "sales"} {
		if _, ok := m[private]; ok {
			t.Errorf("the public view shows %s", private)
		}
	}
	for _, missing := range []string{"pr_aaaaaaaaaaaaaaaaaaaaaaaaaa", "nope", ""} {
		resp, m = e.do(t, req{fixture: "get-promotion.json", path: map[string]string{"promotionId": missing}})
		wantStatus(t, resp, m, 404, promotion.CodePromotionNotFound)
	}
}

func TestCreateRejects(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ends := e.clock.now().Add(24 * time.Hour)
	cases := []struct {
		name   string
		r      req
		status int
		code   string
		field  string
	}{
		{"rate too high", req{body: createBody(productA, "video", 5001, ends)}, 400, "validation_failed", "commissionBps"},
		{"rate too low", req{body: createBody(productA, "video", 50, ends)}, 400, "validation_failed", "commissionBps"},
		{"bad kind", req{body: createBody(productA, "reel", 1000, ends)}, 400, "validation_failed", "kind"},
		{"ends before it starts", req{body: createBody(productA, "video", 1000, e.clock.now())}, 400, "validation_failed", "endsAt"},
		{"unknown field", req{body: ptr(`{"productId":"` + productA + `","kind":"video","commissionBps":1000,"rate":0.1}`)}, 400, "invalid_body", "rate"},
		{"float rate", req{body: ptr(`{"productId":"` + productA + `","kind":"video","commissionBps":10.5}`)}, 400, "invalid_body", "commissionBps"},
		{"not json", req{body: ptr(`{`)}, 400, "invalid_json", ""},
		{"no snapshot", req{body: createBody(unknown, "video", 1000, ends)}, 404, promotion.CodeProductNotFound, ""},
		{"delisted", req{body: createBody(delisted, "video", 1000, ends)}, 409, promotion.CodeProductUnavailable, ""},
		{"out of stock", req{body: createBody(soldOut, "video", 1000, ends)}, 409, promotion.CodeProductUnavailable, ""},
		{"no token", req{sub: "-", body: createBody(productA, "video", 1000, ends)}, 401, "unauthenticated", ""},
		{"buyer scope", req{sub: creatorA, scopes: []string{"buyer"}, body: createBody(productA, "video", 1000, ends)}, 403, "forbidden", ""},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			tt.r.fixture = "create-promotion.json"
			if tt.r.sub == "" {
				tt.r.sub = creatorA
			}
			resp, m := e.do(t, tt.r)
			wantStatus(t, resp, m, tt.status, tt.code)
			if tt.field != "" && !strings.Contains(resp.Body, `"field":"`+tt.field+`"`) {
				t.Errorf("no detail for %s: %s", tt.field, resp.Body)
			}
		})
	}
	resp, m := e.do(t, req{fixture: "list-creator-promotions.json", sub: creatorA})
	wantStatus(t, resp, m, 200, "")
	if items := m["items"].([]any); len(items) != 0 {
		t.Errorf("a rejected create left %d promotions", len(items))
	}
}

func TestStatusChangesAndOwnership(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.create(t, creatorA, productA)
	patch := func(sub, status string) (httpapi.Response, map[string]any) {
		return e.do(t, req{fixture: "pause-promotion.json", sub: sub, path: map[string]string{"promotionId": id},
			body: ptr(`{"status":"` + status + `"}`)})
	}
	// Another creator cannot see or change it: not found, never forbidden.
	resp, m := patch(creatorB, "PAUSED")
	wantStatus(t, resp, m, 404, promotion.CodePromotionNotFound)

	resp, m = patch(creatorA, "PAUSED")
	wantStatus(t, resp, m, 200, "")
	if m["status"] != "PAUSED" || m["state"] != "PAUSED" || m["version"] != 2.0 {
		t.Errorf("paused = %v", m)
	}
	if ids := e.feedIDs(t); len(ids) != 0 {
		t.Errorf("a paused promotion is in the feed: %v", ids)
	}
	resp, m = e.do(t, req{fixture: "handoff.json", path: map[string]string{"promotionId": id}})
	wantStatus(t, resp, m, 409, promotion.CodePromotionNotLive)

	resp, m = patch(creatorA, "PAUSED") // no change
	wantStatus(t, resp, m, 200, "")
	if m["version"] != 2.0 {
		t.Errorf("pausing a paused promotion changed it: %v", m)
	}
	resp, m = patch(creatorA, "ACTIVE")
	wantStatus(t, resp, m, 200, "")
	if ids := e.feedIDs(t); len(ids) != 1 || ids[0] != id {
		t.Errorf("resumed promotion not in the feed: %v", ids)
	}
	resp, m = patch(creatorA, "ENDED")
	wantStatus(t, resp, m, 200, "")
	if m["state"] != "ENDED" || m["endReason"] != "creator" {
		t.Errorf("ended = %v", m)
	}
	resp, m = patch(creatorA, "ACTIVE")
	wantStatus(t, resp, m, 409, promotion.CodePromotionEnded)
	resp, m = patch(creatorA, "ENDED")
	wantStatus(t, resp, m, 200, "")
	resp, m = patch(creatorA, "DELETED")
	wantStatus(t, resp, m, 400, "validation_failed")
	resp, m = e.do(t, req{fixture: "pause-promotion.json", sub: creatorA, path: map[string]string{"promotionId": id}, body: ptr(`{}`)})
	wantStatus(t, resp, m, 400, "validation_failed")
	if ids := e.feedIDs(t); len(ids) != 0 {
		t.Errorf("an ended promotion is in the feed: %v", ids)
	}
}

func (e *env) feedIDs(t *testing.T) []string {
	t.Helper()
	var ids []string
	cursor := ""
	for {
		q := map[string]string{"limit": "2"}
		if cursor != "" {
			q["cursor"] = cursor
		}
		resp, m := e.do(t, req{fixture: "feed.json", query: q})
		wantStatus(t, resp, m, 200, "")
		for _, it := range m["items"].([]any) {
			ids = append(ids, it.(map[string]any)["promotionId"].(string))
		}
		next, _ := m["nextCursor"].(string)
		if next == "" {
			return ids
		}
		cursor = next
	}
}

func TestFeed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var want []string
	for i := range 5 {
		creator := creatorA
		if i%2 == 1 {
			creator = creatorB
		}
		want = append([]string{e.create(t, creator, productA)}, want...) // newest first
		e.clock.add(time.Millisecond)
	}
	// A scheduled one is not in the feed yet.
	resp, m := e.do(t, req{fixture: "create-promotion.json", sub: creatorA, body: ptr(fmt.Sprintf(
		`{"productId":%q,"kind":"showcase","commissionBps":500,"startsAt":%q,"endsAt":%q}`,
		productB, e.clock.now().Add(time.Hour).Format(time.RFC3339Nano), e.clock.now().Add(48*time.Hour).Format(time.RFC3339Nano)))})
	wantStatus(t, resp, m, 201, "")
	if m["state"] != "SCHEDULED" {
		t.Errorf("state = %v", m["state"])
	}
	scheduled := m["promotionId"].(string)
	got := e.feedIDs(t)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("feed = %v\nwant   %v", got, want)
	}
	resp, m = e.do(t, req{fixture: "feed.json", query: map[string]string{"limit": "50"}})
	wantStatus(t, resp, m, 200, "")
	first := m["items"].([]any)[0].(map[string]any)
	if first["product"].(map[string]any)["title"] != "Kopi Gayo" {
		t.Errorf("feed item without its product: %v", first)
	}
	// The feed index projects only what the feed shows (template.yaml): each item is
	// the promotion's public view, field for field, also after a click changed one.
	resp, m = e.do(t, req{fixture: "handoff.json", path: map[string]string{"promotionId": want[1]}})
	wantStatus(t, resp, m, 200, "")
	resp, m = e.do(t, req{fixture: "feed.json", query: map[string]string{"limit": "50"}})
	wantStatus(t, resp, m, 200, "")
	for _, it := range m["items"].([]any) {
		item := it.(map[string]any)
		resp, one := e.do(t, req{fixture: "get-promotion.json", path: map[string]string{"promotionId": item["promotionId"].(string)}})
		wantStatus(t, resp, one, 200, "")
		if !cmp.Equal(item, one) {
			t.Errorf("feed item differs from the promotion's public view:\n%s", cmp.Diff(one, item))
		}
	}
	for _, bad := range []map[string]string{{"limit": "0"}, {"limit": "51"}, {"limit": "x"}, {"cursor": "garbage"}} {
		resp, m := e.do(t, req{fixture: "feed.json", query: bad})
		wantStatus(t, resp, m, 400, "validation_failed")
	}
	// An hour later the scheduled one is live; two days later nothing is.
	e.clock.add(time.Hour)
	if got := e.feedIDs(t); len(got) != 6 || got[0] != scheduled {
		t.Errorf("after an hour: %v", got)
	}
	e.clock.add(48 * time.Hour)
	if got := e.feedIDs(t); len(got) != 0 {
		t.Errorf("after the windows: %v", got)
	}
}

func TestHandoff(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.create(t, creatorA, productA)
	resp, m := e.do(t, req{fixture: "handoff.json", path: map[string]string{"promotionId": id}})
	wantStatus(t, resp, m, 200, "")
	verifier := contract.HandoffVerifier{PublicKey: e.pub, Now: e.clock.now}
	c, err := verifier.Verify(m["token"].(string))
	if err != nil {
		t.Fatalf("token does not verify with social's public key: %v", err)
	}
	if c.PromotionID != id || c.CreatorID != creatorA || c.ProductID != productA ||
		c.DisplayedPrice != (contract.Price{Amount: 85000, Currency: "IDR"}) || c.Subject != "" || c.ID == "" {
		t.Errorf("claims = %+v", c)
	}
	exp, _ := time.Parse(time.RFC3339, m["expiresAt"].(string))
	if d := exp.Sub(e.clock.now()); d < 9*time.Minute || d > 10*time.Minute || !exp.Equal(c.ExpiresAt.Time) {
		t.Errorf("expiresAt %v is %v from now; token exp %v", exp, d, c.ExpiresAt)
	}
	commerce := m["commerce"].(map[string]any)
	if commerce["addToCart"].(map[string]any)["path"] != "/commerce/v1/cart/items" ||
		commerce["guestAddToCart"].(map[string]any)["path"] != "/commerce/v1/guest-cart/items" ||
		commerce["addToCart"].(map[string]any)["tokenField"] != "handoffToken" {
		t.Errorf("commerce = %v", commerce)
	}
	// Another key cannot verify it: only social's.
	otherPub, _, _ := ed25519.GenerateKey(nil)
	if _, err := (contract.HandoffVerifier{PublicKey: otherPub}).Verify(m["token"].(string)); err == nil {
		t.Error("a token verified with another key")
	}

	// Clicks are counted atomically under concurrency; each token is unique.
	var wg sync.WaitGroup
	tokens := make(chan string, 20)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, m := e.do(t, req{fixture: "handoff.json", path: map[string]string{"promotionId": id}})
			if resp.StatusCode == 200 {
				tokens <- m["token"].(string)
			}
		}()
	}
	wg.Wait()
	close(tokens)
	seen := map[string]bool{}
	for tok := range tokens {
		c, err := verifier.Verify(tok)
		if err != nil || seen[c.ID] {
			t.Errorf("token: %v (jti repeated: %v)", err, seen[c.ID])
		}
		seen[c.ID] = true
	}
	resp, m = e.do(t, req{fixture: "list-creator-promotions.json", sub: creatorA})
	wantStatus(t, resp, m, 200, "")
	if clicks := m["items"].([]any)[0].(map[string]any)["clicks"]; clicks != 21.0 || len(seen) != 20 {
		t.Errorf("clicks = %v after 21 hand-offs (%d tokens)", clicks, len(seen))
	}

	// Not for an unavailable product, an unknown promotion, or after the window.
	sold := e.create(t, creatorA, productB)
	s, _ := e.snapshots.Get(context.Background(), productB)
	s.InStock, s.Version = false, 2
	if _, err := e.snapshots.Put(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	resp, m = e.do(t, req{fixture: "handoff.json", path: map[string]string{"promotionId": sold}})
	wantStatus(t, resp, m, 409, promotion.CodeProductUnavailable)
	resp, m = e.do(t, req{fixture: "handoff.json", path: map[string]string{"promotionId": "pr_zzzzzzzzzzzzzzzzzzzzzzzzzz"}})
	wantStatus(t, resp, m, 404, promotion.CodePromotionNotFound)
	e.clock.add(49 * time.Hour)
	resp, m = e.do(t, req{fixture: "handoff.json", path: map[string]string{"promotionId": id}})
	wantStatus(t, resp, m, 409, promotion.CodePromotionNotLive)
}

func TestCreatorListAndEarnings(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a1 := e.create(t, creatorA, productA)
	e.clock.add(time.Millisecond)
	a2 := e.create(t, creatorA, productB)
	b1 := e.create(t, creatorB, productA)

	// creator A's list: own promotions only, newest first, paged.
	var ids []string
	cursor := ""
	for {
		q := map[string]string{"limit": "1"}
		if cursor != "" {
			q["cursor"] = cursor
		}
		resp, m := e.do(t, req{fixture: "list-creator-promotions.json", sub: creatorA, query: q})
		wantStatus(t, resp, m, 200, "")
		for _, it := range m["items"].([]any) {
			ids = append(ids, it.(map[string]any)["promotionId"].(string))
		}
		if cursor, _ = m["nextCursor"].(string); cursor == "" {
			break
		}
	}
	if strings.Join(ids, ",") != a2+","+a1 {
		t.Errorf("creator A lists %v, want [%s %s] (not %s)", ids, a2, a1, b1)
	}

	// A sale through a1 and a partial refund show in the list and the earnings.
	ref, _ := contract.NewOrderRef()
	ctx := context.Background()
	if err := e.ledger.ApplyAttributed(ctx, "ev-1", contract.SaleAttributed{
		PromotionID: a1, CreatorID: creatorA, ProductID: productA, Quantity: 2,
		Amount: contract.Price{Amount: 170000, Currency: "IDR"}, OrderRef: ref, LineRef: productA, SoldAt: e.clock.now(),
	}); err != nil {
		t.Fatal(err)
	}
	if err := e.ledger.ApplyReversed(ctx, "ev-2", contract.SaleReversed{
		PromotionID: a1, CreatorID: creatorA, ProductID: productA, Quantity: 1,
		Amount: contract.Price{Amount: 85000, Currency: "IDR"}, OrderRef: ref, LineRef: productA, ReversedAt: e.clock.now(),
	}); err != nil {
		t.Fatal(err)
	}
	resp, m := e.do(t, req{fixture: "list-creator-promotions.json", sub: creatorA})
	wantStatus(t, resp, m, 200, "")
	got := m["items"].([]any)[1].(map[string]any)
	if got["promotionId"] != a1 {
		t.Fatalf("second item %v", got["promotionId"])
	}
	wantJSON(t, got["sales"], `{"amount":{"amount":170000,"currency":"IDR"},"count":1,"units":2}`)
	wantJSON(t, got["earnings"], `{"commission":17000,"currency":"IDR","net":8500,"reversedCommission":8500}`)
	if got["refunds"] != 1.0 {
		t.Errorf("refunds = %v", got["refunds"])
	}

	resp, m = e.do(t, req{fixture: "creator-earnings.json", sub: creatorA, path: map[string]string{"creatorId": creatorA}})
	wantStatus(t, resp, m, 200, "")
	wantJSON(t, m, `{"creatorId":"creator-a","earnings":[{"commission":17000,"currency":"IDR","net":8500,"refunds":1,"reversedAmount":85000,"reversedCommission":8500,"sales":1,"salesAmount":170000,"units":2}]}`)

	// Another creator's earnings: not found. Own earnings without sales: empty.
	resp, m = e.do(t, req{fixture: "creator-earnings.json", sub: creatorB, path: map[string]string{"creatorId": creatorA}})
	wantStatus(t, resp, m, 404, promotion.CodeCreatorNotFound)
	resp, m = e.do(t, req{fixture: "creator-earnings.json", sub: creatorB, path: map[string]string{"creatorId": creatorB}})
	wantStatus(t, resp, m, 200, "")
	wantJSON(t, m, `{"creatorId":"creator-b","earnings":[]}`)
	resp, m = e.do(t, req{fixture: "creator-earnings.json", sub: "-", path: map[string]string{"creatorId": creatorA}})
	wantStatus(t, resp, m, 401, "unauthenticated")
}

// A delisted product's promotions end (the inbox calls this), once.
func TestEndForProduct(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	live := e.create(t, creatorA, productA)
	paused := e.create(t, creatorB, productA)
	ended := e.create(t, creatorA, productA)
	other := e.create(t, creatorA, productB)
	ctx := context.Background()
	if _, err := e.svc.SetStatus(ctx, creatorB, paused, promotion.StatusPaused); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SetStatus(ctx, creatorA, ended, promotion.StatusEnded); err != nil {
		t.Fatal(err)
	}
	n, err := e.svc.EndForProduct(ctx, productA)
	if err != nil || n != 2 {
		t.Fatalf("EndForProduct = %d, %v; want 2", n, err)
	}
	if n, err := e.svc.EndForProduct(ctx, productA); err != nil || n != 0 {
		t.Errorf("again = %d, %v; want 0", n, err)
	}
	for id, want := range map[string]string{live: "product_delisted", paused: "product_delisted", ended: "creator", other: ""} {
		p, err := e.store.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if (want == "") != (p.Status != promotion.StatusEnded) || p.EndReason != want {
			t.Errorf("%s: status %s, reason %q; want reason %q", id, p.Status, p.EndReason, want)
		}
	}
	if ids := e.feedIDs(t); len(ids) != 1 || ids[0] != other {
		t.Errorf("feed = %v, want only %s", ids, other)
	}
}

func wantJSON(t *testing.T, got any, want string) {
	t.Helper()
	b, _ := json.Marshal(got)
	var w any
	_ = json.Unmarshal([]byte(want), &w)
	wb, _ := json.Marshal(w)
	if string(b) != string(wb) {
		t.Errorf("\n got %s\nwant %s", b, wb)
	}
}
