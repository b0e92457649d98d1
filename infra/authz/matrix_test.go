package authz_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/etalase/etalase/infra/fuzzhttp"
	"github.com/etalase/etalase/infra/localrun/localtest"
	"github.com/etalase/etalase/infra/samtemplate"
)

// role is who calls: no token, or a token of one of seven users.
type role int

// The roles, in the order every route is called: the owners of the fixtures (buyer A,
// the seller, the creator) before or after the others as the table says.
const (
	anonymous role = iota
	buyerA
	buyerB
	seller
	otherSeller
	creator
	otherCreator
	auditor
	numRoles
)

var roleNames = [numRoles]string{"anonymous", "buyerA", "buyerB", "seller", "otherSeller", "creator", "otherCreator", "auditor"}

// roleScopes are the scopes of each role's token (anonymous sends none).
var roleScopes = [numRoles][]string{nil, {"buyer"}, {"buyer"}, {"seller"}, {"seller"}, {"creator"}, {"creator"}, {"auditor"}}

// statuses is one route's expected status for every role, each written out.
type statuses struct {
	Anonymous, BuyerA, BuyerB, Seller, OtherSeller, Creator, OtherCreator, Auditor int
}

func (s statuses) of(r role) int {
	return [numRoles]int{s.Anonymous, s.BuyerA, s.BuyerB, s.Seller, s.OtherSeller, s.Creator, s.OtherCreator, s.Auditor}[r]
}

// entry is one route of the matrix: the request every role sends (the same for all,
// but for the token) and the status each must get.
type entry struct {
	want statuses
	// path names, for each path parameter, the fixture it points at (see resources);
	// every role targets the resources of the first actor (buyer A's order, the
	// seller's product, the creator's promotion).
	path map[string]string
	// body is the JSON body; "{name}" is replaced by the fixture's id.
	body string
	// guest sends a guest cart id in the etalase_cart cookie: "shopper" the anonymous
	// shopper's cart, "fresh" the one prepare made for this call.
	guest string
	// idempotent sends a fresh Idempotency-Key.
	idempotent bool
	// headers are sent as they are.
	headers map[string]string
	// prepare runs before each role's call, so that every role starts from the same
	// state (buyer A's cart holds the product, buyer B's does not, ...).
	prepare func(w *world)
}

// resources are the fixtures a path or body may name.
var resources = []string{"product", "productToDelist", "order", "orderToCancel", "promotion", "creator"}

// badMidtransSignature is 128 hex digits that are no SHA-512 of anything we sent.
var badMidtransSignature = strings.Repeat("0", 128)

// matrix is the authorization matrix: every route key of template.yaml, both sides.
// 401 on a JWT route is API Gateway's authorizer (no token); 403 is a token without the
// route's scope. 404 is a resource of someone else: it answers exactly as a missing
// one, so ids cannot be probed. A guest cart's id is its credential: whoever sends it
// reaches the cart, and a token adds nothing. The webhooks have no JWT: a notification
// whose signature or callback token does not verify is 401 for everyone.
var matrix = map[string]entry{
	// ------------------------------------------------------------ commerce: catalog
	"POST /commerce/v1/products": {
		want: statuses{Anonymous: 401, BuyerA: 403, BuyerB: 403, Seller: 201, OtherSeller: 201, Creator: 403, OtherCreator: 403, Auditor: 403},
		body: `{"title":"Teh Melati 100 g","imageUrl":"/assets/teh.jpg","price":{"amount":30000,"currency":"IDR"},"stock":5}`,
	},
	"GET /commerce/v1/products/{productId}": {
		want: statuses{Anonymous: 200, BuyerA: 200, BuyerB: 200, Seller: 200, OtherSeller: 200, Creator: 200, OtherCreator: 200, Auditor: 200},
		path: map[string]string{"productId": "product"},
	},
	"PATCH /commerce/v1/products/{productId}": {
		want: statuses{Anonymous: 401, BuyerA: 403, BuyerB: 403, Seller: 200, OtherSeller: 404, Creator: 403, OtherCreator: 403, Auditor: 403},
		path: map[string]string{"productId": "product"},
		body: `{"description":"Biji kopi sangrai medium dari Aceh Tengah."}`,
	},
	"PUT /commerce/v1/products/{productId}/stock": {
		want: statuses{Anonymous: 401, BuyerA: 403, BuyerB: 403, Seller: 200, OtherSeller: 404, Creator: 403, OtherCreator: 403, Auditor: 403},
		path: map[string]string{"productId": "product"},
		body: `{"stock":900}`,
	},
	"POST /commerce/v1/products/{productId}/stock/adjustments": {
		want: statuses{Anonymous: 401, BuyerA: 403, BuyerB: 403, Seller: 200, OtherSeller: 404, Creator: 403, OtherCreator: 403, Auditor: 403},
		path: map[string]string{"productId": "product"},
		body: `{"delta":10}`,
	},
	"DELETE /commerce/v1/products/{productId}": {
		want: statuses{Anonymous: 401, BuyerA: 403, BuyerB: 403, Seller: 200, OtherSeller: 404, Creator: 403, OtherCreator: 403, Auditor: 403},
		path: map[string]string{"productId": "productToDelist"},
	},
	"GET /commerce/v1/seller/products": {
		want: statuses{Anonymous: 401, BuyerA: 403, BuyerB: 403, Seller: 200, OtherSeller: 200, Creator: 403, OtherCreator: 403, Auditor: 403},
	},

	// ------------------------------------------------------------ commerce: cart
	"GET /commerce/v1/cart": {
		want: statuses{Anonymous: 401, BuyerA: 200, BuyerB: 200, Seller: 403, OtherSeller: 403, Creator: 403, OtherCreator: 403, Auditor: 403},
	},
	"POST /commerce/v1/cart/items": {
		// A grows the line of its cart; B gets a line in its own cart, never in A's.
		want:    statuses{Anonymous: 401, BuyerA: 200, BuyerB: 201, Seller: 403, OtherSeller: 403, Creator: 403, OtherCreator: 403, Auditor: 403},
		body:    `{"productId":"{product}","quantity":1}`,
		prepare: (*world).cartOfBuyerA,
	},
	"PATCH /commerce/v1/cart/items/{productId}": {
		want:    statuses{Anonymous: 401, BuyerA: 200, BuyerB: 404, Seller: 403, OtherSeller: 403, Creator: 403, OtherCreator: 403, Auditor: 403},
		path:    map[string]string{"productId": "product"},
		body:    `{"quantity":2}`,
		prepare: (*world).cartOfBuyerA,
	},
	"DELETE /commerce/v1/cart/items/{productId}": {
		want:    statuses{Anonymous: 401, BuyerA: 200, BuyerB: 404, Seller: 403, OtherSeller: 403, Creator: 403, OtherCreator: 403, Auditor: 403},
		path:    map[string]string{"productId": "product"},
		prepare: (*world).cartOfBuyerA,
	},
	"POST /commerce/v1/cart/merge": {
		// The guest cart's id is the credential; the token names the cart it goes into.
		want:    statuses{Anonymous: 401, BuyerA: 200, BuyerB: 200, Seller: 403, OtherSeller: 403, Creator: 403, OtherCreator: 403, Auditor: 403},
		guest:   "fresh",
		prepare: (*world).freshGuestCart,
	},
	"GET /commerce/v1/guest-cart": {
		want:  statuses{Anonymous: 200, BuyerA: 200, BuyerB: 200, Seller: 200, OtherSeller: 200, Creator: 200, OtherCreator: 200, Auditor: 200},
		guest: "shopper",
	},
	"POST /commerce/v1/guest-cart/items": {
		want:    statuses{Anonymous: 200, BuyerA: 200, BuyerB: 200, Seller: 200, OtherSeller: 200, Creator: 200, OtherCreator: 200, Auditor: 200},
		body:    `{"productId":"{product}","quantity":1}`,
		guest:   "shopper",
		prepare: (*world).guestCartHolds,
	},
	"PATCH /commerce/v1/guest-cart/items/{productId}": {
		want:    statuses{Anonymous: 200, BuyerA: 200, BuyerB: 200, Seller: 200, OtherSeller: 200, Creator: 200, OtherCreator: 200, Auditor: 200},
		path:    map[string]string{"productId": "product"},
		body:    `{"quantity":3}`,
		guest:   "shopper",
		prepare: (*world).guestCartHolds,
	},
	"DELETE /commerce/v1/guest-cart/items/{productId}": {
		want:    statuses{Anonymous: 200, BuyerA: 200, BuyerB: 200, Seller: 200, OtherSeller: 200, Creator: 200, OtherCreator: 200, Auditor: 200},
		path:    map[string]string{"productId": "product"},
		guest:   "shopper",
		prepare: (*world).guestCartHolds,
	},

	// ------------------------------------------------------------ commerce: checkout, orders
	"POST /commerce/v1/checkout": {
		// A's cart holds the product: a new order. B's cart is empty: 409 cart_empty.
		want:       statuses{Anonymous: 401, BuyerA: 201, BuyerB: 409, Seller: 403, OtherSeller: 403, Creator: 403, OtherCreator: 403, Auditor: 403},
		body:       `{"provider":"midtrans"}`,
		idempotent: true,
		prepare:    (*world).cartOfBuyerA,
	},
	"POST /commerce/v1/orders/{orderId}/payment": {
		want: statuses{Anonymous: 401, BuyerA: 200, BuyerB: 404, Seller: 403, OtherSeller: 403, Creator: 403, OtherCreator: 403, Auditor: 403},
		path: map[string]string{"orderId": "order"},
		body: `{"provider":"midtrans"}`,
	},
	"GET /commerce/v1/orders": {
		want: statuses{Anonymous: 401, BuyerA: 200, BuyerB: 200, Seller: 403, OtherSeller: 403, Creator: 403, OtherCreator: 403, Auditor: 403},
	},
	"GET /commerce/v1/orders/{orderId}": {
		want: statuses{Anonymous: 401, BuyerA: 200, BuyerB: 404, Seller: 403, OtherSeller: 403, Creator: 403, OtherCreator: 403, Auditor: 403},
		path: map[string]string{"orderId": "order"},
	},
	"POST /commerce/v1/orders/{orderId}/cancel": {
		want: statuses{Anonymous: 401, BuyerA: 200, BuyerB: 404, Seller: 403, OtherSeller: 403, Creator: 403, OtherCreator: 403, Auditor: 403},
		path: map[string]string{"orderId": "orderToCancel"},
	},
	"GET /commerce/v1/audit/orders/{orderId}/ledger": {
		want: statuses{Anonymous: 401, BuyerA: 403, BuyerB: 403, Seller: 403, OtherSeller: 403, Creator: 403, OtherCreator: 403, Auditor: 200},
		path: map[string]string{"orderId": "order"},
	},

	// ------------------------------------------------------------ commerce: webhooks
	"POST /commerce/v1/webhooks/midtrans": {
		want: statuses{Anonymous: 401, BuyerA: 401, BuyerB: 401, Seller: 401, OtherSeller: 401, Creator: 401, OtherCreator: 401, Auditor: 401},
		body: `{"transaction_time":"2026-01-01 00:10:00","transaction_status":"settlement","transaction_id":"4f6a9c1e-2b7d-4e3a-9f10-8c5d2e7b1a64",` +
			`"status_code":"200","signature_key":"` + badMidtransSignature + `","payment_type":"bank_transfer","order_id":"{order}","gross_amount":"85000.00","currency":"IDR"}`,
	},
	"POST /commerce/v1/webhooks/xendit": {
		want:    statuses{Anonymous: 401, BuyerA: 401, BuyerB: 401, Seller: 401, OtherSeller: 401, Creator: 401, OtherCreator: 401, Auditor: 401},
		body:    `{"id":"65a1f0c2b3d4e5f60718293a","external_id":"{order}","status":"PAID","amount":85000,"paid_amount":85000,"currency":"IDR"}`,
		headers: map[string]string{"X-Callback-Token": "not-the-callback-token"},
	},

	// ------------------------------------------------------------ social
	"POST /social/v1/promotions": {
		want: statuses{Anonymous: 401, BuyerA: 403, BuyerB: 403, Seller: 403, OtherSeller: 403, Creator: 201, OtherCreator: 201, Auditor: 403},
		body: `{"productId":"{product}","kind":"showcase","caption":"Kopi pagi","commissionBps":500,"endsAt":"` + endsAt + `"}`,
	},
	"GET /social/v1/promotions/{promotionId}": {
		want: statuses{Anonymous: 200, BuyerA: 200, BuyerB: 200, Seller: 200, OtherSeller: 200, Creator: 200, OtherCreator: 200, Auditor: 200},
		path: map[string]string{"promotionId": "promotion"},
	},
	"PATCH /social/v1/promotions/{promotionId}": {
		want: statuses{Anonymous: 401, BuyerA: 403, BuyerB: 403, Seller: 403, OtherSeller: 403, Creator: 200, OtherCreator: 404, Auditor: 403},
		path: map[string]string{"promotionId": "promotion"},
		body: `{"status":"ACTIVE"}`,
	},
	"POST /social/v1/promotions/{promotionId}/handoff": {
		want: statuses{Anonymous: 200, BuyerA: 200, BuyerB: 200, Seller: 200, OtherSeller: 200, Creator: 200, OtherCreator: 200, Auditor: 200},
		path: map[string]string{"promotionId": "promotion"},
	},
	"GET /social/v1/feed": {
		want: statuses{Anonymous: 200, BuyerA: 200, BuyerB: 200, Seller: 200, OtherSeller: 200, Creator: 200, OtherCreator: 200, Auditor: 200},
	},
	"GET /social/v1/creator/promotions": {
		want: statuses{Anonymous: 401, BuyerA: 403, BuyerB: 403, Seller: 403, OtherSeller: 403, Creator: 200, OtherCreator: 200, Auditor: 403},
	},
	"GET /social/v1/creators/{creatorId}/earnings": {
		want: statuses{Anonymous: 401, BuyerA: 403, BuyerB: 403, Seller: 403, OtherSeller: 403, Creator: 200, OtherCreator: 404, Auditor: 403},
		path: map[string]string{"creatorId": "creator"},
	},
}

// endsAt is a promotion end two days from the test's start.
var endsAt = time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)

// templateRoute is one HttpApi route of template.yaml.
type templateRoute struct {
	fuzzhttp.Route
	function string
}

// templateRoutes returns every HttpApi route of template.yaml, both sides, by key.
func templateRoutes(t *testing.T) map[string]templateRoute {
	t.Helper()
	tpl, err := samtemplate.Load(localtest.Root() + "/template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]templateRoute{}
	for _, id := range tpl.ResourceIDs(samtemplate.TypeFunction) {
		fn, err := tpl.Function(id)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range fuzzhttp.EventRoutes(fn) {
			if prev, dup := out[r.Key]; dup {
				t.Fatalf("route %s is declared by %s and %s", r.Key, prev.function, id)
			}
			out[r.Key] = templateRoute{Route: r, function: id}
		}
	}
	return out
}

var pathParam = regexp.MustCompile(`\{([^}+]+)\+?\}`)

// TestMatrixCoversEveryRoute needs no emulators: the table has exactly the template's
// routes, and each entry is consistent with the route's authorizer.
func TestMatrixCoversEveryRoute(t *testing.T) {
	routes := templateRoutes(t)
	for _, key := range mapsKeys(routes) {
		if _, ok := matrix[key]; !ok {
			t.Errorf("new route %s (%s) has no authorization entry: add one to the matrix with the status of every role", key, routes[key].function)
		}
	}
	for _, key := range mapsKeys(matrix) {
		e := matrix[key]
		r, ok := routes[key]
		if !ok {
			t.Errorf("the matrix has an entry for %s, which is no route of template.yaml: remove it", key)
			continue
		}
		var params []string
		for _, m := range pathParam.FindAllStringSubmatch(key, -1) {
			params = append(params, m[1])
		}
		if got := mapsKeys(e.path); !slices.Equal(got, params) {
			t.Errorf("%s: path names %v, the route has %v", key, got, params)
		}
		for p, res := range e.path {
			if !slices.Contains(resources, res) {
				t.Errorf("%s: path parameter %s names %q, not a fixture %v", key, p, res, resources)
			}
		}
		for r := range numRoles {
			if s := e.want.of(r); s < 200 || s > 599 {
				t.Errorf("%s: %s expects %d: write a status for every role", key, roleNames[r], s)
			}
		}
		if r.Authorizer == "" {
			// A public route: a token changes nothing.
			for role := range numRoles {
				if e.want.of(role) != e.want.Anonymous {
					t.Errorf("%s is public, yet %s expects %d and anonymous %d", key, roleNames[role], e.want.of(role), e.want.Anonymous)
				}
			}
			continue
		}
		if len(r.Scopes) == 0 {
			t.Errorf("%s has a JWT authorizer but no AuthorizationScopes: any token would pass", key)
		}
		if e.want.Anonymous != http.StatusUnauthorized {
			t.Errorf("%s needs a token, yet anonymous expects %d, not 401", key, e.want.Anonymous)
		}
		for role := anonymous + 1; role < numRoles; role++ {
			allowed := slices.ContainsFunc(roleScopes[role], func(s string) bool { return slices.Contains(r.Scopes, s) })
			if got := e.want.of(role); !allowed && got != http.StatusForbidden {
				t.Errorf("%s needs scope %v, yet %s (%v) expects %d, not 403", key, r.Scopes, roleNames[role], roleScopes[role], got)
			} else if allowed && (got == http.StatusUnauthorized || got == http.StatusForbidden) {
				t.Errorf("%s: %s has scope %v, yet expects %d", key, roleNames[role], r.Scopes, got)
			}
		}
	}
}

// TestAuthorizationMatrix calls every route of both APIs as every role through the
// local runner (the real template, function processes and JWT authorizers) and
// checks each status against the matrix.
func TestAuthorizationMatrix(t *testing.T) {
	routes := templateRoutes(t)
	r, _ := localtest.Start(t)
	w := &world{t: t, base: r.URL, ids: map[string]string{}}
	run := randomHex(4)
	for role := anonymous + 1; role < numRoles; role++ {
		w.subs[role] = roleNames[role] + "-" + run
		tok, err := r.IdP.Mint(w.subs[role], roleScopes[role], time.Hour, nil)
		if err != nil {
			t.Fatal(err)
		}
		w.tokens[role] = "Bearer " + tok
	}
	w.setup()
	setupRequests := w.requests

	keys := mapsKeys(routes)
	got := map[string][numRoles]int{}
	var mismatches []string
	cells := 0
	for _, key := range keys {
		e, ok := matrix[key]
		if !ok {
			t.Errorf("new route %s has no authorization entry", key)
			continue
		}
		var row [numRoles]int
		for role := range numRoles {
			if e.prepare != nil {
				e.prepare(w)
			}
			status, body := w.call(key, e, role)
			row[role] = status
			cells++
			if want := e.want.of(role); status != want {
				mismatches = append(mismatches, fmt.Sprintf("%s as %s: %d, want %d: %s", key, roleNames[role], status, want, trim(body)))
			}
		}
		got[key] = row
	}

	var tbl strings.Builder
	fmt.Fprintf(&tbl, "%-56s", "route")
	for _, n := range roleNames {
		fmt.Fprintf(&tbl, " %12s", n)
	}
	for _, key := range keys {
		fmt.Fprintf(&tbl, "\n%-56s", key)
		for role := range numRoles {
			cell := fmt.Sprint(got[key][role])
			if want := matrix[key].want.of(role); got[key][role] != want {
				cell += fmt.Sprintf("≠%d", want)
			}
			fmt.Fprintf(&tbl, " %12s", cell)
		}
	}
	t.Logf("authorization matrix:\n%s", tbl.String())
	t.Logf("authz: %d routes × %d roles = %d cells; %d requests (%d setting up fixtures, %d preparing cells); %d mismatches",
		len(keys), numRoles, cells, w.requests, setupRequests, w.requests-setupRequests-cells, len(mismatches))
	for _, m := range mismatches {
		t.Error(m)
	}
}

// world is the running system and the fixtures every route's calls point at.
type world struct {
	t        *testing.T
	base     string
	tokens   [numRoles]string // "Bearer ..."; anonymous has none
	subs     [numRoles]string
	ids      map[string]string // resources by name
	guest    string            // the anonymous shopper's guest cart id
	fresh    string            // the guest cart freshGuestCart made for the next call
	requests int
	header   http.Header // the last response's headers
}

// do sends one request and returns its status and body. A 429 (every process of the
// function busy: the runner emulates Lambda's concurrency limit) is retried: the
// function never ran, so it is not an answer about authorization.
func (w *world) do(method, path, token, body string, headers map[string]string) (int, []byte) {
	w.t.Helper()
	for attempt := 1; ; attempt++ {
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, err := http.NewRequest(method, w.base+path, rd)
		if err != nil {
			w.t.Fatal(err)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if token != "" {
			req.Header.Set("Authorization", token)
		}
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		w.requests++
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			w.t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			w.t.Fatal(err)
		}
		w.header = resp.Header
		if resp.StatusCode != http.StatusTooManyRequests || attempt == 50 {
			return resp.StatusCode, b
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// must sends a request that must answer one of statuses and decodes its JSON body.
func (w *world) must(what string, method, path string, as role, body string, headers map[string]string, statuses ...int) map[string]any {
	w.t.Helper()
	status, b := w.do(method, path, w.tokens[as], body, headers)
	if !slices.Contains(statuses, status) {
		w.t.Fatalf("%s: %s %s as %s = %d %s, want %v", what, method, path, roleNames[as], status, trim(b), statuses)
	}
	var v map[string]any
	_ = json.Unmarshal(b, &v)
	return v
}

// call sends role's request of a matrix entry.
func (w *world) call(key string, e entry, as role) (int, []byte) {
	w.t.Helper()
	method, path, _ := strings.Cut(key, " ")
	for name, res := range e.path {
		path = strings.ReplaceAll(path, "{"+name+"}", w.id(res))
	}
	body := e.body
	for _, res := range resources {
		if strings.Contains(body, "{"+res+"}") {
			body = strings.ReplaceAll(body, "{"+res+"}", w.id(res))
		}
	}
	headers := map[string]string{}
	for k, v := range e.headers {
		headers[k] = v
	}
	switch e.guest {
	case "shopper":
		headers["Cookie"] = "etalase_cart=" + w.guest
	case "fresh":
		headers["Cookie"] = "etalase_cart=" + w.fresh
	}
	if e.idempotent {
		headers["Idempotency-Key"] = "authz-" + randomHex(12)
	}
	return w.do(method, path, w.tokens[as], body, headers)
}

func (w *world) id(name string) string {
	w.t.Helper()
	id, ok := w.ids[name]
	if !ok || id == "" {
		w.t.Fatalf("fixture %s was not set up", name)
	}
	return id
}

// setup makes the fixtures through the APIs, as their owners would: the seller's
// products (one to delist), another seller's, the creator's promotion, buyer A's two
// orders (one to cancel) placed from a hand-off, the anonymous shopper's guest cart.
func (w *world) setup() {
	w.t.Helper()
	product := func(as role, title string) string {
		v := w.must("create "+title, "POST", "/commerce/v1/products", as,
			`{"title":"`+title+`","imageUrl":"/assets/kopi.jpg","price":{"amount":85000,"currency":"IDR"},"stock":1000}`, nil, 201)
		id, _ := v["productId"].(string)
		return id
	}
	w.ids["product"] = product(seller, "Kopi Arabika Gayo 250 g")
	w.ids["productToDelist"] = product(seller, "Kopi Toraja 250 g")
	product(otherSeller, "Batik tulis")
	w.ids["creator"] = w.subs[creator]

	// The product reaches social through the relay and the inbox; then it can be promoted.
	deadline := time.Now().Add(60 * time.Second)
	for {
		status, b := w.do("POST", "/social/v1/promotions", w.tokens[creator],
			`{"productId":"`+w.ids["product"]+`","kind":"video","caption":"Kopi pagi","mediaUrl":"https://cdn.etalase.example/v/kopi.mp4","commissionBps":1000,"endsAt":"`+endsAt+`"}`, nil)
		if status == http.StatusCreated {
			var v map[string]any
			_ = json.Unmarshal(b, &v)
			w.ids["promotion"], _ = v["promotionId"].(string)
			break
		}
		if status != http.StatusNotFound || time.Now().After(deadline) {
			w.t.Fatalf("create promotion: %d %s", status, trim(b))
		}
		time.Sleep(250 * time.Millisecond)
	}

	// Buyer A buys from the promotion: hand-off, cart, checkout; then once more, to cancel.
	ho := w.must("handoff", "POST", "/social/v1/promotions/"+w.ids["promotion"]+"/handoff", anonymous, "", nil, 200)
	token, _ := ho["token"].(string)
	w.must("redeem hand-off", "POST", "/commerce/v1/cart/items", buyerA, `{"handoffToken":"`+token+`"}`, nil, 201)
	order := func() string {
		v := w.must("checkout", "POST", "/commerce/v1/checkout", buyerA, `{"provider":"midtrans"}`,
			map[string]string{"Idempotency-Key": "authz-setup-" + randomHex(8)}, 201)
		id, _ := v["orderId"].(string)
		return id
	}
	w.ids["order"] = order()
	w.must("add again", "POST", "/commerce/v1/cart/items", buyerA, `{"productId":"`+w.ids["product"]+`"}`, nil, 201)
	w.ids["orderToCancel"] = order()

	// An anonymous shopper's guest cart.
	w.guest = w.newGuestCart()
}

// newGuestCart adds the product to a new guest cart and returns its id.
func (w *world) newGuestCart() string {
	w.t.Helper()
	status, b := w.do("POST", "/commerce/v1/guest-cart/items", "", `{"productId":"`+w.ids["product"]+`"}`, nil)
	var v struct {
		Cart struct {
			Kind string `json:"kind"`
		} `json:"cart"`
	}
	if status != http.StatusCreated || json.Unmarshal(b, &v) != nil || v.Cart.Kind != "guest" {
		w.t.Fatalf("new guest cart: %d %s", status, trim(b))
	}
	id := w.header.Get("X-Cart-Id")
	if id == "" {
		w.t.Fatalf("new guest cart: no X-Cart-Id in %v", w.header)
	}
	return id
}

// cartOfBuyerA makes buyer A's cart hold one unit of the product and buyer B's none.
func (w *world) cartOfBuyerA() {
	w.t.Helper()
	item := "/commerce/v1/cart/items/" + w.id("product")
	w.must("empty A's line", "DELETE", item, buyerA, "", nil, 200, 404)
	w.must("add to A's cart", "POST", "/commerce/v1/cart/items", buyerA, `{"productId":"`+w.id("product")+`"}`, nil, 201)
	w.must("empty B's line", "DELETE", item, buyerB, "", nil, 200, 404)
}

// guestCartHolds makes the shopper's guest cart hold the product.
func (w *world) guestCartHolds() {
	w.t.Helper()
	w.must("guest cart holds the product", "POST", "/commerce/v1/guest-cart/items", anonymous,
		`{"productId":"`+w.id("product")+`"}`, map[string]string{"Cookie": "etalase_cart=" + w.guest}, 200, 201)
}

// freshGuestCart makes a new guest cart for the next call.
func (w *world) freshGuestCart() { w.fresh = w.newGuestCart() }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func trim(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) > 300 {
		return string(b[:300]) + "..."
	}
	return string(b)
}

func mapsKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
