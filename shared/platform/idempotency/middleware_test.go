package idempotency_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/etalase/etalase/shared/platform/httpapi"
	"github.com/etalase/etalase/shared/platform/idempotency"
)

// fixture loads an API Gateway HTTP API v2 event from testdata.
func fixture(t *testing.T) httpapi.Request {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "idempotent-post.json"))
	if err != nil {
		t.Fatal(err)
	}
	var req httpapi.Request
	if err := json.Unmarshal(data, &req); err != nil {
		t.Fatal(err)
	}
	return req
}

const fixtureKey = "6f1c1f0e-3c5e-4a55-9a43-8b0f6d2b7e11"

func TestKeyFrom(t *testing.T) {
	tests := []struct {
		name     string
		header   *string // nil: remove the header
		want     string
		wantCode string
	}{
		{"uuid", ptr(fixtureKey), fixtureKey, ""},
		{"structured field string", ptr(`"` + fixtureKey + `"`), fixtureKey, ""},
		{"surrounding space", ptr("  " + fixtureKey + " "), fixtureKey, ""},
		{"base64url", ptr("q83vEjRWeJA-_w"), "q83vEjRWeJA-_w", ""},
		{"base64 std", ptr("q83vEjRWeJA+/w=="), "q83vEjRWeJA+/w==", ""},
		{"shortest", ptr("12345678"), "12345678", ""},
		{"longest", ptr(strings.Repeat("k", 255)), strings.Repeat("k", 255), ""},
		{"missing", nil, "", idempotency.CodeKeyRequired},
		{"empty", ptr(""), "", idempotency.CodeKeyRequired},
		{"too short", ptr("1234567"), "", idempotency.CodeKeyInvalid},
		{"too long", ptr(strings.Repeat("k", 256)), "", idempotency.CodeKeyInvalid},
		{"hash sign", ptr("buyer-0002#key-0001"), "", idempotency.CodeKeyInvalid},
		{"inner space", ptr("abc defgh"), "", idempotency.CodeKeyInvalid},
		{"non-ascii", ptr("kunci-pembayaran-é"), "", idempotency.CodeKeyInvalid},
		{"only quotes", ptr(`""`), "", idempotency.CodeKeyInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := fixture(t)
			delete(req.Headers, "idempotency-key")
			if tt.header != nil {
				req.Headers["Idempotency-Key"] = *tt.header // any case is accepted
			}
			got, err := idempotency.KeyFrom(req)
			if tt.wantCode == "" {
				if err != nil || got != tt.want {
					t.Errorf("KeyFrom = %q, %v; want %q", got, err, tt.want)
				}
				return
			}
			var he *httpapi.Error
			if !errors.As(err, &he) || he.Status != 400 || he.Code != tt.wantCode {
				t.Errorf("KeyFrom err = %v, want 400 %s", err, tt.wantCode)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestRequestHash(t *testing.T) {
	base := fixture(t)
	h := idempotency.RequestHash(base)
	if len(h) != 32 {
		t.Fatalf("hash of %d bytes", len(h))
	}
	// Pinned: a change of the hash's construction would make every stored record of a
	// deployed version a "mismatch" for its retries, so it must be deliberate.
	if got := hex.EncodeToString(h); got != pinnedHash {
		t.Errorf("RequestHash = %s, pinned %s", got, pinnedHash)
	}
	same := map[string]func(*httpapi.Request){
		"other headers": func(r *httpapi.Request) { r.Headers["user-agent"] = "curl"; r.Headers["x-amzn-trace-id"] = "Root=2" },
		"other key":     func(r *httpapi.Request) { r.Headers["idempotency-key"] = "another-key-123" },
		"other caller":  func(r *httpapi.Request) { r.RequestContext.Authorizer.JWT.Claims["sub"] = "buyer-0002" },
		"base64 of the body": func(r *httpapi.Request) {
			r.Body, r.IsBase64Encoded = base64.StdEncoding.EncodeToString([]byte(r.Body)), true
		},
		"lower-case method": func(r *httpapi.Request) { r.RequestContext.HTTP.Method = "post" },
		"query string":      func(r *httpapi.Request) { r.RawQueryString = "utm_source=feed" },
	}
	for name, edit := range same {
		req := fixture(t)
		edit(&req)
		if got := idempotency.RequestHash(req); !bytes.Equal(got, h) {
			t.Errorf("%s changed the hash", name)
		}
	}
	different := map[string]func(*httpapi.Request){
		"body":           func(r *httpapi.Request) { r.Body = `{"paymentProvider":"xendit"}` },
		"body spacing":   func(r *httpapi.Request) { r.Body = `{"paymentProvider": "midtrans"}` },
		"empty body":     func(r *httpapi.Request) { r.Body = "" },
		"method":         func(r *httpapi.Request) { r.RequestContext.HTTP.Method = "PUT" },
		"route":          func(r *httpapi.Request) { r.RouteKey = "POST /commerce/v1/cart/items" },
		"path parameter": func(r *httpapi.Request) { r.RawPath = "/commerce/v1/orders/o_b/cancel" },
		"boundary shift": func(r *httpapi.Request) { r.RawPath += "{"; r.Body = r.Body[1:] },
	}
	seen := map[string]string{hex.EncodeToString(h): "base"}
	for name, edit := range different {
		req := fixture(t)
		edit(&req)
		got := hex.EncodeToString(idempotency.RequestHash(req))
		if prev, dup := seen[got]; dup {
			t.Errorf("%s hashes like %s", name, prev)
		}
		seen[got] = name
	}
}

const pinnedHash = "61ab87277a2edd0e251878c0d584e304a63967d9d4b75fb7b40266e865ce74ce" // computed independently (Python hashlib)

// fakeKeeper answers Begin with a set outcome and records every call.
type fakeKeeper struct {
	mu        sync.Mutex
	outcome   idempotency.Outcome
	beginErr  error
	complErr  error
	begins    []beginCall
	completes [][]byte
	releases  []string
}

type beginCall struct {
	scope, key string
	hash       []byte
	until      time.Time
}

func (f *fakeKeeper) Begin(_ context.Context, scope, key string, hash []byte, until time.Time) (idempotency.Outcome, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.begins = append(f.begins, beginCall{scope, key, hash, until})
	return f.outcome, f.beginErr
}

func (f *fakeKeeper) Complete(_ context.Context, scope, key, token string, response []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if token != f.outcome.Token {
		return idempotency.ErrLeaseLost
	}
	f.completes = append(f.completes, response)
	return f.complErr
}

func (f *fakeKeeper) Release(_ context.Context, scope, key, token string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.releases = append(f.releases, token)
	return nil
}

var created = httpapi.Response{
	StatusCode: http.StatusCreated,
	Headers:    map[string]string{"Content-Type": httpapi.ContentTypeJSON, "Location": "/commerce/v1/orders/o_1"},
	Cookies:    []string{"etalase_cart=; Max-Age=0"},
	Body:       `{"orderId":"o_1","paymentUrl":"https://pay.example/x"}`,
}

func TestDoOutcomes(t *testing.T) {
	stored, err := idempotency.EncodeResponse(created)
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("dynamodb: secret internal detail")
	tests := []struct {
		name        string
		outcome     idempotency.Outcome
		beginErr    error
		handlerErr  error
		panics      bool
		edit        func(*httpapi.Request)
		wantStatus  int
		wantCode    string
		wantBody    string
		wantReplay  bool
		wantCalls   int // handler executions
		wantBegin   bool
		wantStored  bool
		wantRelease bool
	}{
		{name: "fresh runs and stores", outcome: idempotency.Outcome{Kind: idempotency.Fresh, Token: "t1"},
			wantStatus: 201, wantBody: created.Body, wantCalls: 1, wantBegin: true, wantStored: true},
		{name: "fresh, handler error releases", outcome: idempotency.Outcome{Kind: idempotency.Fresh, Token: "t1"},
			handlerErr: httpapi.NewError(409, "insufficient_stock", "no stock"),
			wantStatus: 409, wantCode: "insufficient_stock", wantCalls: 1, wantBegin: true, wantRelease: true},
		{name: "fresh, handler failure releases", outcome: idempotency.Outcome{Kind: idempotency.Fresh, Token: "t1"},
			handlerErr: boom, wantStatus: 500, wantCode: httpapi.CodeInternal, wantCalls: 1, wantBegin: true, wantRelease: true},
		{name: "fresh, handler panic releases", outcome: idempotency.Outcome{Kind: idempotency.Fresh, Token: "t1"},
			panics: true, wantStatus: 500, wantCode: httpapi.CodeInternal, wantCalls: 1, wantBegin: true, wantRelease: true},
		{name: "replay", outcome: idempotency.Outcome{Kind: idempotency.Replay, Response: stored},
			wantStatus: 201, wantBody: created.Body, wantReplay: true, wantBegin: true},
		{name: "mismatch", outcome: idempotency.Outcome{Kind: idempotency.Mismatch},
			wantStatus: 422, wantCode: idempotency.CodeKeyReused, wantBegin: true},
		{name: "in progress", outcome: idempotency.Outcome{Kind: idempotency.InProgress, InProgressUntil: time.Now().Add(time.Second)},
			wantStatus: 409, wantCode: idempotency.CodeInProgress, wantBegin: true},
		{name: "store failure", beginErr: boom, wantStatus: 500, wantCode: httpapi.CodeInternal, wantBegin: true},
		{name: "corrupt stored response", outcome: idempotency.Outcome{Kind: idempotency.Replay, Response: []byte("{")},
			wantStatus: 500, wantCode: httpapi.CodeInternal, wantBegin: true},
		{name: "no key", edit: func(r *httpapi.Request) { delete(r.Headers, "idempotency-key") },
			wantStatus: 400, wantCode: idempotency.CodeKeyRequired},
		{name: "bad key", edit: func(r *httpapi.Request) { r.Headers["idempotency-key"] = "short" },
			wantStatus: 400, wantCode: idempotency.CodeKeyInvalid},
		{name: "no caller", edit: func(r *httpapi.Request) { r.RequestContext.Authorizer = nil },
			wantStatus: 401, wantCode: httpapi.CodeUnauthenticated},
		{name: "subject too long to key a record", edit: func(r *httpapi.Request) {
			r.RequestContext.Authorizer.JWT.Claims["sub"] = strings.Repeat("s", idempotency.MaxScopeLength+1)
		}, wantStatus: 401, wantCode: httpapi.CodeUnauthenticated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keeper := &fakeKeeper{outcome: tt.outcome, beginErr: tt.beginErr}
			calls := 0
			handler := func(context.Context, httpapi.Request) (httpapi.Response, error) {
				calls++
				if tt.panics {
					panic("handler bug")
				}
				if tt.handlerErr != nil {
					return httpapi.Response{}, tt.handlerErr
				}
				return created, nil
			}
			var logs bytes.Buffer
			log := slog.New(slog.NewJSONHandler(&logs, nil))
			router := httpapi.NewRouter(log)
			req := fixture(t)
			router.Route(req.RouteKey, idempotency.NewMiddleware(keeper, log).Wrap(handler))
			if tt.edit != nil {
				tt.edit(&req)
			}
			resp, err := router.Handle(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status %d, want %d (%s)", resp.StatusCode, tt.wantStatus, resp.Body)
			}
			if tt.wantCode != "" {
				var env struct {
					Error struct{ Code string } `json:"error"`
				}
				if err := json.Unmarshal([]byte(resp.Body), &env); err != nil || env.Error.Code != tt.wantCode {
					t.Errorf("body %s, want code %s", resp.Body, tt.wantCode)
				}
				if strings.Contains(resp.Body, "secret") {
					t.Errorf("internal detail leaked: %s", resp.Body)
				}
			} else if resp.Body != tt.wantBody {
				t.Errorf("body %s, want %s", resp.Body, tt.wantBody)
			}
			if got := resp.Headers[idempotency.HeaderReplayed]; (got == "true") != tt.wantReplay {
				t.Errorf("%s = %q, want replay %v", idempotency.HeaderReplayed, got, tt.wantReplay)
			}
			if tt.wantReplay {
				want := created
				want.Headers = map[string]string{"Content-Type": httpapi.ContentTypeJSON, "Location": "/commerce/v1/orders/o_1", idempotency.HeaderReplayed: "true"}
				if diff := cmp.Diff(want, resp); diff != "" {
					t.Errorf("replayed response (-want +got):\n%s", diff)
				}
			}
			if calls != tt.wantCalls {
				t.Errorf("handler ran %d times, want %d", calls, tt.wantCalls)
			}
			if (len(keeper.begins) == 1) != tt.wantBegin {
				t.Errorf("%d Begin calls, want Begin %v", len(keeper.begins), tt.wantBegin)
			}
			if tt.wantBegin && len(keeper.begins) == 1 {
				b := keeper.begins[0]
				if b.scope != "buyer-0001" || b.key != fixtureKey || !bytes.Equal(b.hash, idempotency.RequestHash(req)) {
					t.Errorf("Begin(%q, %q, %x)", b.scope, b.key, b.hash)
				}
			}
			if tt.wantStored {
				if len(keeper.completes) != 1 {
					t.Fatalf("%d Complete calls, want 1", len(keeper.completes))
				}
				got, err := idempotency.DecodeResponse(keeper.completes[0])
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(created, got); diff != "" {
					t.Errorf("stored response (-want +got):\n%s", diff)
				}
			} else if len(keeper.completes) != 0 {
				t.Errorf("%d Complete calls, want none", len(keeper.completes))
			}
			if wantReleases := map[bool]int{true: 1}[tt.wantRelease]; len(keeper.releases) != wantReleases {
				t.Errorf("%d Release calls, want %d", len(keeper.releases), wantReleases)
			}
		})
	}
}

// A failure to store the response does not turn a done request into an error.
func TestDoCompleteFailure(t *testing.T) {
	keeper := &fakeKeeper{outcome: idempotency.Outcome{Kind: idempotency.Fresh, Token: "t1"}, complErr: errors.New("throttled")}
	var logs bytes.Buffer
	m := idempotency.NewMiddleware(keeper, slog.New(slog.NewJSONHandler(&logs, nil)))
	resp, err := m.Do(context.Background(), fixture(t), func(context.Context, httpapi.Request) (httpapi.Response, error) { return created, nil })
	if err != nil || resp.StatusCode != 201 {
		t.Errorf("Do = %d, %v; want the handler's 201", resp.StatusCode, err)
	}
	if !strings.Contains(logs.String(), "throttled") {
		t.Errorf("the failure is not logged: %s", logs.String())
	}
}

// The lease is the invocation deadline plus the margin, or now plus the default.
func TestDoLease(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	keeper := &fakeKeeper{outcome: idempotency.Outcome{Kind: idempotency.Mismatch}}
	m := idempotency.NewMiddleware(keeper, slog.New(slog.DiscardHandler),
		idempotency.WithMiddlewareClock(func() time.Time { return now }), idempotency.WithLease(7*time.Second, time.Minute))
	h := func(context.Context, httpapi.Request) (httpapi.Response, error) { return created, nil }

	deadline := now.Add(10 * time.Second)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	_, _ = m.Do(ctx, fixture(t), h)
	_, _ = m.Do(context.Background(), fixture(t), h)
	if len(keeper.begins) != 2 {
		t.Fatalf("%d begins", len(keeper.begins))
	}
	if got, want := keeper.begins[0].until, deadline.Add(7*time.Second); !got.Equal(want) {
		t.Errorf("lease with a deadline = %s, want %s", got, want)
	}
	if got, want := keeper.begins[1].until, now.Add(time.Minute); !got.Equal(want) {
		t.Errorf("lease without a deadline = %s, want %s", got, want)
	}
}

func TestLeaseUntil(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	past, cancel := context.WithDeadline(context.Background(), now.Add(-time.Minute))
	defer cancel()
	if got := idempotency.LeaseUntil(past, now, 5*time.Second, time.Minute); !got.Equal(now.Add(5 * time.Second)) {
		t.Errorf("lease of a context past its deadline = %s, want now + margin", got)
	}
}

func TestResponseEncoding(t *testing.T) {
	b64 := httpapi.Response{StatusCode: 200, Body: base64.StdEncoding.EncodeToString([]byte{0, 1, 2}), IsBase64Encoded: true}
	for _, r := range []httpapi.Response{created, b64, {StatusCode: 204}} {
		b, err := idempotency.EncodeResponse(r)
		if err != nil {
			t.Fatal(err)
		}
		got, err := idempotency.DecodeResponse(b)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(r, got); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
	}
	for _, bad := range []string{"", "{", `{"v":2,"status":200}`, `{"v":1,"status":0}`} {
		if _, err := idempotency.DecodeResponse([]byte(bad)); err == nil {
			t.Errorf("DecodeResponse(%q) succeeded", bad)
		}
	}
}

func TestValidKey(t *testing.T) {
	if !idempotency.ValidKey(fixtureKey) || idempotency.ValidKey("a#bcdefghi") {
		t.Error("ValidKey")
	}
	if idempotency.PK("buyer#1", fixtureKey) != "buyer#1#"+fixtureKey {
		t.Error("PK")
	}
}
