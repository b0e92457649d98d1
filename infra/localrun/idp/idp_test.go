package idp

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
)

const (
	testIssuer   = "http://127.0.0.1:3000/_local/idp"
	testAudience = "etalase"
)

// Key generation is the slow part; every test shares two providers.
var (
	providersOnce sync.Once
	provA, provB  *Provider
	providersErr  error
)

func providers(t *testing.T) (*Provider, *Provider) {
	t.Helper()
	providersOnce.Do(func() {
		provA, providersErr = New(Config{Issuer: testIssuer, Audience: testAudience})
		if providersErr == nil {
			provB, providersErr = New(Config{Issuer: testIssuer, Audience: testAudience})
		}
	})
	if providersErr != nil {
		t.Fatal(providersErr)
	}
	return provA, provB
}

func mustMint(t *testing.T, p *Provider, scopes []string, ttl time.Duration, extra map[string]any) string {
	t.Helper()
	tok, err := p.Mint("buyer-1", scopes, ttl, extra)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestMintClaims(t *testing.T) {
	a, _ := providers(t)
	raw := mustMint(t, a, []string{"buyer", "seller"}, time.Minute, map[string]any{"email": "b@example.com"})
	tok, _, err := jwt.NewParser().ParseUnverified(raw, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	if tok.Method.Alg() != "RS256" || tok.Header["kid"] != a.kid {
		t.Errorf("header = %v, want RS256 with kid %s", tok.Header, a.kid)
	}
	c := tok.Claims.(jwt.MapClaims)
	for name, want := range map[string]any{"iss": testIssuer, "aud": testAudience, "sub": "buyer-1", "scope": "buyer seller", "email": "b@example.com"} {
		if c[name] != want {
			t.Errorf("claim %s = %v, want %v", name, c[name], want)
		}
	}
	for _, name := range []string{"iat", "nbf", "exp", "jti"} {
		if _, ok := c[name]; !ok {
			t.Errorf("claim %s missing", name)
		}
	}
	if exp, iat := c["exp"].(float64), c["iat"].(float64); exp-iat != 60 {
		t.Errorf("exp-iat = %v, want 60", exp-iat)
	}
	other := mustMint(t, a, nil, 0, nil)
	oc, _, _ := jwt.NewParser().ParseUnverified(other, jwt.MapClaims{})
	if oc.Claims.(jwt.MapClaims)["jti"] == c["jti"] {
		t.Error("two tokens share a jti")
	}
	if _, err := a.Mint("", nil, 0, nil); err == nil {
		t.Error("Mint with no subject succeeded")
	}
}

func TestVerify(t *testing.T) {
	a, b := providers(t)
	ctx := context.Background()
	v := &Verifier{Issuer: testIssuer, Audiences: []string{"other", testAudience}, Keys: a.Keys()}

	// A token signed by b's key but naming a's kid: the signature must fail.
	forged := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"iss": testIssuer, "aud": testAudience, "exp": time.Now().Add(time.Hour).Unix()})
	forged.Header["kid"] = a.kid
	forgedRaw, err := forged.SignedString(b.key)
	if err != nil {
		t.Fatal(err)
	}
	hs := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"iss": testIssuer, "aud": testAudience})
	hs.Header["kid"] = a.kid
	hsRaw, err := hs.SignedString([]byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	future := time.Now().Add(time.Hour).Unix()

	tests := []struct {
		name       string
		token      string
		required   []string
		wantErr    error
		wantScopes []string
	}{
		{"valid", mustMint(t, a, []string{"buyer"}, time.Hour, nil), nil, nil, []string{"buyer"}},
		{"valid with one of the scopes", mustMint(t, a, []string{"buyer"}, time.Hour, nil), []string{"seller", "buyer"}, nil, []string{"buyer"}},
		{"scp list", mustMint(t, a, nil, time.Hour, map[string]any{"scp": []string{"seller", "x"}}), []string{"seller"}, nil, []string{"seller", "x"}},
		{"aud list", mustMint(t, a, nil, time.Hour, map[string]any{"aud": []string{"a", testAudience}}), nil, nil, nil},
		{"client_id when no aud", mustMint(t, a, nil, time.Hour, map[string]any{"aud": nil, "client_id": testAudience}), nil, nil, nil},
		{"client_id ignored when aud present", mustMint(t, a, nil, time.Hour, map[string]any{"aud": "nope", "client_id": testAudience}), nil, ErrAudience, nil},
		{"malformed", "not.a.jwt", nil, ErrMalformed, nil},
		{"garbage", "abc", nil, ErrMalformed, nil},
		{"other key", mustMint(t, b, nil, time.Hour, nil), nil, ErrUnknownKey, nil},
		{"bad signature", forgedRaw, nil, ErrSignature, nil},
		{"hmac algorithm", hsRaw, nil, ErrAlgorithm, nil},
		{"expired", mustMint(t, a, nil, -time.Second, nil), nil, ErrExpired, nil},
		{"no exp", mustMint(t, a, nil, time.Hour, map[string]any{"exp": nil}), nil, ErrMalformed, nil},
		{"nbf in the future", mustMint(t, a, nil, 2*time.Hour, map[string]any{"nbf": future}), nil, ErrNotYetValid, nil},
		{"iat in the future", mustMint(t, a, nil, 2*time.Hour, map[string]any{"iat": future}), nil, ErrNotYetValid, nil},
		{"wrong issuer", mustMint(t, a, nil, time.Hour, map[string]any{"iss": "https://evil.example"}), nil, ErrIssuer, nil},
		{"wrong audience", mustMint(t, a, nil, time.Hour, map[string]any{"aud": "someone-else"}), nil, ErrAudience, nil},
		{"missing scope", mustMint(t, a, []string{"buyer"}, time.Hour, nil), []string{"seller"}, ErrInsufficientScope, nil},
		{"no scopes at all", mustMint(t, a, nil, time.Hour, nil), []string{"seller"}, ErrInsufficientScope, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := v.Verify(ctx, tt.token, tt.required)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify error = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr != nil {
				if got := Description(err); got != tt.wantErr.Error() {
					t.Errorf("Description = %q, want %q", got, tt.wantErr.Error())
				}
				return
			}
			if d := cmp.Diff(tt.wantScopes, tok.Scopes); d != "" {
				t.Errorf("scopes (-want +got):\n%s", d)
			}
			if tok.Claims["sub"] != "buyer-1" {
				t.Errorf("sub = %v", tok.Claims["sub"])
			}
		})
	}
}

func TestHandler(t *testing.T) {
	a, _ := providers(t)
	h := a.Handler()
	tests := []struct {
		name, method, path, body string
		wantStatus               int
		wantContains             string
	}{
		{"jwks", http.MethodGet, "/_local/idp/.well-known/jwks.json", "", 200, `"kid":"` + a.kid + `"`},
		{"discovery", http.MethodGet, "/_local/idp/.well-known/openid-configuration", "", 200, `"jwks_uri":"` + testIssuer + `/.well-known/jwks.json"`},
		{"token", http.MethodPost, "/_local/idp/token", `{"sub":"buyer-1","scopes":["buyer"],"ttlSeconds":120}`, 200, `"expires_in":120`},
		{"token without sub", http.MethodPost, "/_local/idp/token", `{"scopes":["buyer"]}`, 400, "invalid_request"},
		{"token unknown field", http.MethodPost, "/_local/idp/token", `{"sub":"x","role":"admin"}`, 400, "invalid_request"},
		{"token by GET", http.MethodGet, "/_local/idp/token", "", 405, "Method Not Allowed"},
		{"jwks by POST", http.MethodPost, "/_local/idp/.well-known/jwks.json", "", 405, "Method Not Allowed"},
		{"unknown", http.MethodGet, "/_local/idp/authorize", "", 404, "Not Found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body)))
			if rec.Code != tt.wantStatus || !strings.Contains(rec.Body.String(), tt.wantContains) {
				t.Errorf("%s %s = %d %s, want %d containing %s", tt.method, tt.path, rec.Code, rec.Body, tt.wantStatus, tt.wantContains)
			}
		})
	}
}

func TestTokenEndpointTokenVerifies(t *testing.T) {
	a, _ := providers(t)
	rec := httptest.NewRecorder()
	a.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/_local/idp/token", strings.NewReader(`{"sub":"seller-9","scopes":["seller"]}`)))
	var resp TokenResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
		t.Fatal(err)
	}
	if resp.TokenType != "Bearer" || resp.ExpiresIn != 3600 {
		t.Errorf("response = %+v, want Bearer, 3600", resp)
	}
	v := &Verifier{Issuer: testIssuer, Audiences: []string{testAudience}, Keys: a.Keys()}
	tok, err := v.Verify(context.Background(), resp.AccessToken, []string{"seller"})
	if err != nil {
		t.Fatal(err)
	}
	if tok.Claims["sub"] != "seller-9" {
		t.Errorf("sub = %v, want seller-9", tok.Claims["sub"])
	}
}

// TestRemoteKeys verifies through discovery, as API Gateway does, against the Provider's
// own handler on a loopback server.
func TestRemoteKeys(t *testing.T) {
	_, b := providers(t)
	mux := http.NewServeMux()
	var current *Provider
	var mu sync.Mutex
	mux.HandleFunc(PathPrefix, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		p := current
		mu.Unlock()
		p.Handler().ServeHTTP(w, r)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	issuer := srv.URL + "/_local/idp"
	p1, err := New(Config{Issuer: issuer, Audience: testAudience})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	current = p1
	mu.Unlock()
	keys := NewRemoteKeys(issuer, nil)
	clock := time.Now()
	keys.now = func() time.Time { return clock }
	v := &Verifier{Issuer: issuer, Audiences: []string{testAudience}, Keys: keys}
	ctx := context.Background()

	if _, err := v.Verify(ctx, mustMint(t, p1, nil, time.Hour, nil), nil); err != nil {
		t.Fatalf("first key: %v", err)
	}
	// A restarted provider has a new key; the source fetches again once refetchEvery has
	// passed. Reuse b's key pair with the new issuer to avoid generating a third key.
	p2 := &Provider{cfg: Config{Issuer: issuer, Audience: testAudience, Now: time.Now}, key: b.key, kid: b.kid}
	mu.Lock()
	current = p2
	mu.Unlock()
	tok2 := mustMint(t, p2, nil, time.Hour, nil)
	if _, err := v.Verify(ctx, tok2, nil); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("new key right after a fetch: err = %v, want ErrUnknownKey", err)
	}
	clock = clock.Add(refetchEvery)
	if _, err := v.Verify(ctx, tok2, nil); err != nil {
		t.Fatalf("new key after refetch: %v", err)
	}
}
