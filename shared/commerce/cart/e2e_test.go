package cart_test

// End-to-end through the local runner: the real template, the real catalog and cart
// function processes (the cart reads social's public key from the SSM emulator at cold
// start), the HTTP API with its JWT authorizer, and DynamoDB Local. The hand-off token
// is signed with the social private key the runner generated for this run, as the
// social account would sign it.

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/etalase/etalase/infra/localrun/localtest"
	"github.com/etalase/etalase/shared/commerce/cart"
	"github.com/etalase/etalase/shared/contract"
)

// call sends one request; headers are pairs of name and value.
func call(t *testing.T, method, url, body string, headers ...string) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func decodeBody[T any](t *testing.T, resp *http.Response, b []byte, status int) T {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("%s %s = %d %s, want %d", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, b, status)
	}
	var v T
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("body %s: %v", b, err)
	}
	return v
}

func errorCode(t *testing.T, b []byte) string {
	t.Helper()
	var e wireError
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("error body %s: %v", b, err)
	}
	return e.Error.Code
}

func TestEndToEnd(t *testing.T) {
	r, logs := localtest.Start(t)
	api := r.URL + "/commerce/v1"
	priv, err := r.HandoffPrivateKey()
	if err != nil {
		t.Fatalf("the runner's social key: %v", err)
	}
	mint := func(sub string, scopes ...string) string {
		tok, err := r.IdP.Mint(sub, scopes, time.Hour, nil)
		if err != nil {
			t.Fatal(err)
		}
		return "Bearer " + tok
	}
	sellerAuth, buyerAuth := mint("seller-e2e", "seller"), mint("buyer-e2e", "buyer")

	// A seller lists two products through the catalog function.
	newProduct := func(title string, price int64, stock int) string {
		resp, b := call(t, http.MethodPost, api+"/products", `{"title":"`+title+`","imageUrl":"/assets/x.jpg","price":{"amount":`+
			itoa(price)+`,"currency":"IDR"},"stock":`+itoa(int64(stock))+`}`, "Authorization", sellerAuth)
		var p struct {
			ProductID string `json:"productId"`
		}
		if resp.StatusCode != http.StatusCreated || json.Unmarshal(b, &p) != nil || p.ProductID == "" {
			t.Fatalf("create product: %d %s", resp.StatusCode, b)
		}
		return p.ProductID
	}
	kopi, teh := newProduct("Kopi Gayo", 85000, 50), newProduct("Teh Melati", 30000, 50)

	// Social signs a hand-off token; the buyer's browser, not logged in, redeems it.
	handoff := func(key ed25519.PrivateKey, product string, displayed int64) string {
		tok, err := contract.SignHandoff(key, contract.HandoffClaims{
			PromotionID: "promo_live_e2e", CreatorID: "creator_sari", ProductID: product,
			DisplayedPrice: contract.Price{Amount: displayed, Currency: "IDR"},
		}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	resp, b := call(t, http.MethodPost, api+"/guest-cart/items", `{"handoffToken":"`+handoff(priv, kopi, 80000)+`","quantity":2}`)
	added := decodeBody[wireLineResult](t, resp, b, http.StatusCreated)
	if l := added.Line; *l.UnitPrice != (wireMoney{85000, "IDR"}) || !l.PriceChanged || l.Attribution == nil || l.Attribution.CreatorID != "creator_sari" {
		t.Errorf("guest line = %+v", l)
	}
	cookies := resp.Header.Values("Set-Cookie")
	if len(cookies) != 1 {
		t.Fatalf("Set-Cookie = %v", cookies)
	}
	c, err := http.ParseSetCookie(cookies[0])
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != cart.CookieName || !cart.ValidGuestID(c.Value) || c.Path != "/commerce" || c.MaxAge != 604800 ||
		!c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode || resp.Header.Get("X-Cart-Id") != c.Value {
		t.Errorf("guest cookie = %+v (X-Cart-Id %q)", c, resp.Header.Get("X-Cart-Id"))
	}
	cookie := cart.CookieName + "=" + c.Value

	// The guest cart reads back priced from the catalog; no id, no cart.
	resp, b = call(t, http.MethodGet, api+"/guest-cart", "", "Cookie", cookie)
	if gc := decodeBody[wireCart](t, resp, b, http.StatusOK); gc.Kind != "guest" || gc.Total == nil || *gc.Total != (wireMoney{170000, "IDR"}) {
		t.Errorf("guest cart = %+v", gc)
	}
	resp, b = call(t, http.MethodGet, api+"/guest-cart", "")
	if resp.StatusCode != http.StatusNotFound || errorCode(t, b) != cart.CodeCartNotFound {
		t.Errorf("guest cart without the cookie = %d %s", resp.StatusCode, b)
	}

	// A token not signed by social is refused through the whole stack.
	_, otherKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	resp, b = call(t, http.MethodPost, api+"/guest-cart/items", `{"handoffToken":"`+handoff(otherKey, kopi, 1)+`"}`, "Cookie", cookie)
	if resp.StatusCode != http.StatusForbidden || errorCode(t, b) != cart.CodeHandoffBadSignature {
		t.Errorf("forged token = %d %s", resp.StatusCode, b)
	}

	// Buyer routes go through the JWT authorizer: no token 401, a seller token 403.
	if resp, _ := call(t, http.MethodGet, api+"/cart", ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("cart without a token = %d", resp.StatusCode)
	}
	if resp, _ := call(t, http.MethodGet, api+"/cart", "", "Authorization", sellerAuth); resp.StatusCode != http.StatusForbidden {
		t.Errorf("cart with a seller token = %d", resp.StatusCode)
	}

	// The buyer already has teh in their cart, then logs in and merges the guest cart.
	resp, b = call(t, http.MethodPost, api+"/cart/items", `{"productId":"`+teh+`","quantity":1}`, "Authorization", buyerAuth)
	decodeBody[wireLineResult](t, resp, b, http.StatusCreated)
	resp, b = call(t, http.MethodPost, api+"/cart/merge", "", "Authorization", buyerAuth, "Cookie", cookie)
	if m := decodeBody[wireMerge](t, resp, b, http.StatusOK); m.MergedLines != 1 || m.Cart.LineCount != 2 {
		t.Errorf("merge = %+v", m)
	}
	if sc := resp.Header.Get("Set-Cookie"); !strings.HasPrefix(sc, cart.CookieName+"=;") || !strings.Contains(sc, "Max-Age=0") {
		t.Errorf("merge Set-Cookie = %q, want the cookie cleared", sc)
	}
	resp, b = call(t, http.MethodPost, api+"/cart/merge", "", "Authorization", buyerAuth, "X-Cart-Id", c.Value)
	if m := decodeBody[wireMerge](t, resp, b, http.StatusOK); !m.AlreadyMerged {
		t.Errorf("retried merge = %+v", m)
	}
	if resp, _ := call(t, http.MethodGet, api+"/guest-cart", "", "Cookie", cookie); resp.StatusCode != http.StatusNotFound {
		t.Errorf("the merged guest cart is still readable: %d", resp.StatusCode)
	}

	// Concurrent adds through separate function processes lose nothing.
	const parallel = 8
	var wg sync.WaitGroup
	for range parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, b := call(t, http.MethodPost, api+"/cart/items", `{"productId":"`+teh+`"}`, "Authorization", buyerAuth)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("concurrent add = %d %s", resp.StatusCode, b)
			}
		}()
	}
	wg.Wait()

	// Change and remove lines.
	resp, b = call(t, http.MethodPatch, api+"/cart/items/"+kopi, `{"quantity":5}`, "Authorization", buyerAuth)
	decodeBody[wireLineResult](t, resp, b, http.StatusOK)
	resp, b = call(t, http.MethodGet, api+"/cart", "", "Authorization", buyerAuth)
	bc := decodeBody[wireCart](t, resp, b, http.StatusOK)
	if bc.Kind != "buyer" || len(bc.Lines) != 2 || bc.ItemCount != 5+1+parallel || *bc.Total != (wireMoney{5*85000 + (1+parallel)*30000, "IDR"}) {
		t.Errorf("buyer cart = %+v", bc)
	}
	for _, l := range bc.Lines {
		if l.ProductID == kopi && (l.Attribution == nil || l.Attribution.PromotionID != "promo_live_e2e" || !l.PriceChanged) {
			t.Errorf("the merged line lost its attribution: %+v", l)
		}
	}
	resp, b = call(t, http.MethodDelete, api+"/cart/items/"+teh, "", "Authorization", buyerAuth)
	if s := decodeBody[wireSummary](t, resp, b, http.StatusOK); s.LineCount != 1 {
		t.Errorf("after DELETE: %+v", s)
	}
	// Another buyer sees none of it.
	resp, b = call(t, http.MethodGet, api+"/cart", "", "Authorization", mint("buyer-other", "buyer"))
	if oc := decodeBody[wireCart](t, resp, b, http.StatusOK); oc.LineCount != 0 {
		t.Errorf("another buyer's cart = %+v", oc)
	}

	if !strings.Contains(logs.String(), "[commerce/CommerceCartFunction] REPORT RequestId:") {
		t.Error("no REPORT line from the cart process")
	}
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
