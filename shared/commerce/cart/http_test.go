package cart_test

// Handler tests that need no database: everything that must be refused before the
// first DynamoDB request (hand-off token checks, request validation, guest ids,
// authentication). The store fails the test if it is reached.

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/etalase/etalase/shared/commerce/cart"
	"github.com/etalase/etalase/shared/contract"
	"github.com/etalase/etalase/shared/platform/httpapi"
)

// The fixtures' buyer (the token's sub), guest cart and product.
const (
	fixtureBuyer   = "8d3c1f0a-5b2e-4c7d-9a1f-2e3d4c5b6a70"
	fixtureGuest   = "g_mfrggzdfmztwq2lknnwg23tpobyxe43u"
	fixtureProduct = "p_rocsknolsez4jj42y44l7ga3ou"
)

// event loads an API Gateway HTTP API v2 fixture from events/commerce/cart.
func event(t *testing.T, name string) httpapi.Request {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "..", "events", "commerce", "cart", name))
	if err != nil {
		t.Fatal(err)
	}
	var req httpapi.Request
	if err := json.Unmarshal(data, &req); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return req
}

// unreachable is a Store that fails the test when used.
type unreachable struct{ t *testing.T }

func (u unreachable) Load(context.Context, []string, []string) (map[string]cart.Cart, map[string]cart.Product, error) {
	u.t.Error("the store was read")
	return nil, nil, nil
}
func (u unreachable) Put(context.Context, cart.Cart, int64) error {
	u.t.Error("the store was written")
	return nil
}
func (u unreachable) RemoveLine(context.Context, cart.Owner, string, time.Time) (cart.Cart, error) {
	u.t.Error("the store was written")
	return cart.Cart{}, nil
}
func (u unreachable) Merge(context.Context, cart.Cart, int64, cart.Owner, int64) error {
	u.t.Error("the store was written")
	return nil
}

// keys is one test's social key pair.
type keys struct {
	pub  ed25519.PublicKey
	priv ed25519.PrivateKey
}

func newKeys(t *testing.T) keys {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return keys{pub, priv}
}

func (k keys) verifier() contract.HandoffVerifier { return contract.HandoffVerifier{PublicKey: k.pub} }

// token signs a valid hand-off token for product, now, as social would.
func (k keys) token(t *testing.T, product string, displayed int64) string {
	t.Helper()
	tok, err := signWith(k, product, "promo_7d2kq9", "creator_ayu", displayed)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// signWith signs a hand-off token for product from a promotion and creator.
func signWith(k keys, product, promotion, creator string, displayed int64) (string, error) {
	return contract.SignHandoff(k.priv, contract.HandoffClaims{
		PromotionID: promotion, CreatorID: creator, ProductID: product,
		DisplayedPrice: contract.Price{Amount: displayed, Currency: "IDR"},
	}, time.Now())
}

type wireError struct {
	Error struct {
		Code    string               `json:"code"`
		Message string               `json:"message"`
		Details []httpapi.FieldError `json:"details"`
	} `json:"error"`
}

func wantError(t *testing.T, resp httpapi.Response, status int, code string) {
	t.Helper()
	var e wireError
	if err := json.Unmarshal([]byte(resp.Body), &e); err != nil {
		t.Fatalf("body %q: %v", resp.Body, err)
	}
	if resp.StatusCode != status || e.Error.Code != code {
		t.Errorf("got %d %s (%s), want %d %s", resp.StatusCode, e.Error.Code, e.Error.Message, status, code)
	}
}

func body(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestHandoffRefusedBeforeAnyRead(t *testing.T) {
	k := newKeys(t)
	other := newKeys(t)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	raw := func(m jwt.SigningMethod, key any, edit func(*contract.HandoffClaims)) string {
		now := time.Now()
		c := contract.HandoffClaims{
			PromotionID: "promo", CreatorID: "creator", ProductID: fixtureProduct,
			DisplayedPrice: contract.Price{Amount: 85000, Currency: "IDR"},
			RegisteredClaims: jwt.RegisteredClaims{
				Issuer: contract.HandoffIssuer, Audience: jwt.ClaimStrings{contract.HandoffAudience},
				IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(5 * time.Minute)), ID: "jti-x",
			},
		}
		if edit != nil {
			edit(&c)
		}
		s, err := jwt.NewWithClaims(m, c).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	tests := []struct {
		name   string
		token  string
		status int
		code   string
	}{
		{"garbage", "not.a.token", 400, cart.CodeHandoffMalformed},
		{"two segments", "abc.def", 400, cart.CodeHandoffMalformed},
		{"alg none", raw(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, nil), 403, cart.CodeHandoffWrongAlgorithm},
		{"HS256 with the public key as secret", raw(jwt.SigningMethodHS256, []byte(k.pub), nil), 403, cart.CodeHandoffWrongAlgorithm},
		{"RS256", raw(jwt.SigningMethodRS256, rsaKey, nil), 403, cart.CodeHandoffWrongAlgorithm},
		{"another key", other.token(t, fixtureProduct, 85000), 403, cart.CodeHandoffBadSignature},
		{"wrong issuer", raw(jwt.SigningMethodEdDSA, k.priv, func(c *contract.HandoffClaims) { c.Issuer = "evil" }), 403, cart.CodeHandoffWrongIssuer},
		{"wrong audience", raw(jwt.SigningMethodEdDSA, k.priv, func(c *contract.HandoffClaims) { c.Audience = jwt.ClaimStrings{"social"} }), 403, cart.CodeHandoffWrongAudience},
		{"expired", raw(jwt.SigningMethodEdDSA, k.priv, func(c *contract.HandoffClaims) {
			c.IssuedAt = jwt.NewNumericDate(time.Now().Add(-10 * time.Minute))
			c.ExpiresAt = jwt.NewNumericDate(time.Now().Add(-time.Minute))
		}), 422, cart.CodeHandoffExpired},
		{"issued in the future", raw(jwt.SigningMethodEdDSA, k.priv, func(c *contract.HandoffClaims) {
			c.IssuedAt = jwt.NewNumericDate(time.Now().Add(5 * time.Minute))
			c.ExpiresAt = jwt.NewNumericDate(time.Now().Add(10 * time.Minute))
		}), 422, cart.CodeHandoffNotYetValid},
		{"lifetime over 15 minutes", raw(jwt.SigningMethodEdDSA, k.priv, func(c *contract.HandoffClaims) {
			c.ExpiresAt = jwt.NewNumericDate(time.Now().Add(time.Hour))
		}), 400, cart.CodeHandoffMalformed},
		{"not a product id", k.token(t, "../../etc/passwd", 1), 404, cart.CodeProductNotFound},
	}
	for _, tt := range tests {
		for _, fixture := range []string{"add-item-handoff.json", "add-guest-item.json"} {
			t.Run(tt.name+"/"+fixture, func(t *testing.T) {
				h := cart.NewHandler(cart.NewService(unreachable{t}, k.verifier()), slog.New(slog.DiscardHandler))
				req := event(t, fixture)
				req.Body = body(t, map[string]any{"handoffToken": tt.token})
				resp, err := h.Handle(context.Background(), req)
				if err != nil {
					t.Fatal(err)
				}
				wantError(t, resp, tt.status, tt.code)
				if len(resp.Cookies) > 0 {
					t.Errorf("a refused request set cookies %v", resp.Cookies)
				}
			})
		}
	}

	// The fixture's token as committed is signed by a key nobody has.
	h := cart.NewHandler(cart.NewService(unreachable{t}, k.verifier()), slog.New(slog.DiscardHandler))
	resp, err := h.Handle(context.Background(), event(t, "add-item-handoff.json"))
	if err != nil {
		t.Fatal(err)
	}
	wantError(t, resp, 403, cart.CodeHandoffBadSignature)
}

func TestRequestValidation(t *testing.T) {
	k := newKeys(t)
	tests := []struct {
		name    string
		fixture string
		edit    func(*httpapi.Request)
		status  int
		code    string
	}{
		{"both token and product", "add-item-product.json", func(r *httpapi.Request) {
			r.Body = `{"handoffToken":"a.b.c","productId":"` + fixtureProduct + `"}`
		}, 400, httpapi.CodeValidationFailed},
		{"neither", "add-item-product.json", func(r *httpapi.Request) { r.Body = `{"quantity":1}` }, 400, httpapi.CodeValidationFailed},
		{"empty product id", "add-item-product.json", func(r *httpapi.Request) { r.Body = `{"productId":" "}` }, 400, httpapi.CodeValidationFailed},
		{"empty token", "add-guest-item.json", func(r *httpapi.Request) { r.Body = `{"handoffToken":""}` }, 400, httpapi.CodeValidationFailed},
		{"quantity 0", "add-item-product.json", func(r *httpapi.Request) { r.Body = `{"productId":"` + fixtureProduct + `","quantity":0}` }, 400, cart.CodeQuantityOutOfRange},
		{"quantity 100", "add-guest-item.json", func(r *httpapi.Request) { r.Body = `{"productId":"` + fixtureProduct + `","quantity":100}` }, 400, cart.CodeQuantityOutOfRange},
		{"quantity 1.5", "add-item-product.json", func(r *httpapi.Request) { r.Body = `{"productId":"` + fixtureProduct + `","quantity":1.5}` }, 400, httpapi.CodeInvalidBody},
		{"price from the client", "add-item-product.json", func(r *httpapi.Request) {
			r.Body = `{"productId":"` + fixtureProduct + `","price":{"amount":1,"currency":"IDR"}}`
		}, 400, httpapi.CodeInvalidBody},
		{"not JSON", "add-item-product.json", func(r *httpapi.Request) { r.Body = `{` }, 400, httpapi.CodeInvalidJSON},
		{"too large", "add-item-product.json", func(r *httpapi.Request) { r.Body = `{"productId":"` + strings.Repeat("a", 9000) + `"}` }, 413, httpapi.CodeBodyTooLarge},
		{"malformed product id", "add-item-product.json", func(r *httpapi.Request) { r.Body = `{"productId":"kopi"}` }, 404, cart.CodeProductNotFound},
		{"patch without quantity", "set-quantity.json", func(r *httpapi.Request) { r.Body = `{}` }, 400, httpapi.CodeValidationFailed},
		{"patch to 0", "set-quantity.json", func(r *httpapi.Request) { r.Body = `{"quantity":0}` }, 400, cart.CodeQuantityOutOfRange},
		{"patch a malformed product id", "set-quantity.json", func(r *httpapi.Request) { r.PathParameters["productId"] = "x" }, 404, cart.CodeLineNotFound},
		{"remove a malformed product id", "remove-item.json", func(r *httpapi.Request) { r.PathParameters["productId"] = "x" }, 404, cart.CodeLineNotFound},

		{"buyer route without a token", "get-cart.json", func(r *httpapi.Request) { r.RequestContext.Authorizer = nil }, 401, httpapi.CodeUnauthenticated},
		{"buyer route with a seller token", "get-cart.json", func(r *httpapi.Request) {
			r.RequestContext.Authorizer.JWT.Scopes = []string{"openid", "seller"}
		}, 403, httpapi.CodeForbidden},

		{"guest cart without an id", "get-guest-cart.json", func(r *httpapi.Request) { r.Cookies = nil }, 404, cart.CodeCartNotFound},
		{"guest cart with a malformed id", "get-guest-cart.json", func(r *httpapi.Request) { r.Cookies = []string{"etalase_cart=buyer#" + fixtureBuyer} }, 404, cart.CodeCartNotFound},
		{"guest patch without an id", "set-guest-quantity.json", func(r *httpapi.Request) { delete(r.Headers, "x-cart-id") }, 404, cart.CodeCartNotFound},
		{"guest remove with a malformed id", "remove-guest-item.json", func(r *httpapi.Request) { r.Cookies = []string{"etalase_cart=g_short"} }, 404, cart.CodeCartNotFound},
		{"merge without a guest id", "merge.json", func(r *httpapi.Request) { r.Cookies = nil }, 404, cart.CodeCartNotFound},
		{"merge with a malformed guest id", "merge.json", func(r *httpapi.Request) { r.Cookies = []string{"etalase_cart=" + fixtureBuyer} }, 404, cart.CodeCartNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := cart.NewHandler(cart.NewService(unreachable{t}, k.verifier()), slog.New(slog.DiscardHandler))
			req := event(t, tt.fixture)
			tt.edit(&req)
			resp, err := h.Handle(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			wantError(t, resp, tt.status, tt.code)
		})
	}
}

func TestGuestIDFromRequest(t *testing.T) {
	const a, b = "g_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "g_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	tests := []struct {
		name    string
		cookies []string
		headers map[string]string
		want    string
	}{
		{"none", nil, nil, ""},
		{"cookie", []string{"_ga=1", "etalase_cart=" + a}, nil, a},
		{"cookie header (other event emitters)", nil, map[string]string{"Cookie": "x=1; etalase_cart=" + a}, a},
		{"header", nil, map[string]string{"x-cart-id": b}, b},
		{"header wins over cookie", []string{"etalase_cart=" + a}, map[string]string{"X-Cart-Id": b}, b},
		{"empty cookie", []string{"etalase_cart="}, nil, ""},
		{"other cookie only", []string{"etalase_cart_old=" + a}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httpapi.Request{Cookies: tt.cookies, Headers: tt.headers}
			if got := cart.GuestID(req); got != tt.want {
				t.Errorf("GuestID = %q, want %q", got, tt.want)
			}
		})
	}
}

// The fixtures name the ids the tests use and have the shapes the routes expect.
func TestFixtures(t *testing.T) {
	if !cart.ValidGuestID(fixtureGuest) {
		t.Errorf("fixture guest id %s is not a valid guest id", fixtureGuest)
	}
	for _, name := range []string{"get-cart.json", "add-item-handoff.json", "add-item-product.json", "set-quantity.json", "remove-item.json", "merge.json"} {
		req := event(t, name)
		if p := httpapi.PrincipalFrom(req); p.Subject != fixtureBuyer || !p.HasScope(cart.ScopeBuyer) {
			t.Errorf("%s: principal %+v", name, p)
		}
		if req.RouteKey != req.RequestContext.RouteKey || !strings.HasPrefix(req.RawPath, "/commerce/v1/cart") {
			t.Errorf("%s: route %s path %s", name, req.RouteKey, req.RawPath)
		}
	}
	for _, name := range []string{"get-guest-cart.json", "add-guest-item.json", "set-guest-quantity.json", "remove-guest-item.json"} {
		req := event(t, name)
		if req.RequestContext.Authorizer != nil {
			t.Errorf("%s: a guest route has an authorizer", name)
		}
		if name != "add-guest-item.json" && cart.GuestID(req) != fixtureGuest {
			t.Errorf("%s: guest id %q", name, cart.GuestID(req))
		}
	}
}
