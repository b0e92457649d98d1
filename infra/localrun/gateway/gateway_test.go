package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/etalase/etalase/infra/localrun/idp"
	"github.com/etalase/etalase/infra/localrun/invoke"
)

const (
	testIssuer   = "http://127.0.0.1:3000/_local/idp"
	testAudience = "etalase"
)

// Key generation is slow; the tests share two providers with the same issuer.
var (
	idpOnce      sync.Once
	idpA, idpB   *idp.Provider
	idpSetupErr  error
	fixedAccount = "111111111111"
)

func providers(t *testing.T) (*idp.Provider, *idp.Provider) {
	t.Helper()
	idpOnce.Do(func() {
		idpA, idpSetupErr = idp.New(idp.Config{Issuer: testIssuer, Audience: testAudience})
		if idpSetupErr == nil {
			idpB, idpSetupErr = idp.New(idp.Config{Issuer: testIssuer, Audience: testAudience})
		}
	})
	if idpSetupErr != nil {
		t.Fatal(idpSetupErr)
	}
	return idpA, idpB
}

func mint(t *testing.T, p *idp.Provider, scopes []string, ttl time.Duration, extra map[string]any) string {
	t.Helper()
	tok, err := p.Mint("seller-1", scopes, ttl, extra)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// recorder is an invoker that records the events it gets and answers with a response.
type recorder struct {
	mu     sync.Mutex
	events []events.APIGatewayV2HTTPRequest
	answer []byte
	err    error
}

func (r *recorder) Invoke(_ context.Context, payload []byte) ([]byte, error) {
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, fmt.Errorf("bad event: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
	return r.answer, r.err
}

func (r *recorder) calls() []events.APIGatewayV2HTTPRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]events.APIGatewayV2HTTPRequest(nil), r.events...)
}

func do(g http.Handler, method, target, body string, header http.Header) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	for k, vs := range header {
		req.Header[k] = vs
	}
	rec := httptest.NewRecorder()
	g.ServeHTTP(rec, req)
	return rec
}

func TestAuthorizer(t *testing.T) {
	a, b := providers(t)
	auth := &Authorizer{Name: "CommerceJwt", IdentitySource: "$request.header.Authorization", Issuer: testIssuer, Audience: []string{testAudience}}
	fn := &recorder{answer: []byte(`{"statusCode":200,"body":"ok"}`)}
	g, err := New(Config{
		Routes: []Route{
			{Account: fixedAccount, APIID: "CommerceHttpApi", FunctionID: "Catalog", Method: "POST", Path: "/commerce/v1/products", Authorizer: auth, Scopes: []string{"seller", "admin"}, Invoker: fn},
			{Account: fixedAccount, APIID: "CommerceHttpApi", FunctionID: "Catalog", Method: "GET", Path: "/commerce/v1/me", Authorizer: auth, Invoker: fn},
		},
		Keys: func(issuer string) idp.KeySource {
			if issuer != testIssuer {
				t.Errorf("keys asked for issuer %s", issuer)
			}
			return a.Keys()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	bearer := func(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }
	tests := []struct {
		name        string
		path        string
		header      http.Header
		wantStatus  int
		wantAuthHdr string // substring of www-authenticate; "" = no header expected
		wantScopes  []string
	}{
		{"missing token", "/commerce/v1/products", nil, 401, `Bearer scope="seller admin"`, nil},
		{"empty bearer", "/commerce/v1/products", http.Header{"Authorization": {"Bearer "}}, 401, `Bearer scope="seller admin"`, nil},
		{"malformed", "/commerce/v1/products", bearer("not-a-jwt"), 401, `error="invalid_token" error_description="the token is malformed"`, nil},
		{"other key", "/commerce/v1/products", bearer(mint(t, b, []string{"seller"}, time.Hour, nil)), 401, `error="invalid_token"`, nil},
		{"expired", "/commerce/v1/products", bearer(mint(t, a, []string{"seller"}, -time.Minute, nil)), 401, `error_description="the token has expired"`, nil},
		{"wrong audience", "/commerce/v1/products", bearer(mint(t, a, []string{"seller"}, time.Hour, map[string]any{"aud": "other"})), 401, `error_description="the token does not have a valid audience"`, nil},
		{"wrong issuer", "/commerce/v1/products", bearer(mint(t, a, []string{"seller"}, time.Hour, map[string]any{"iss": "https://evil.example"})), 401, `error_description="the token does not have a valid issuer"`, nil},
		{"wrong scope", "/commerce/v1/products", bearer(mint(t, a, []string{"buyer"}, time.Hour, nil)), 403, `error="insufficient_scope"`, nil},
		{"right scope", "/commerce/v1/products", bearer(mint(t, a, []string{"buyer", "seller"}, time.Hour, nil)), 200, "", []string{"seller"}},
		{"token without Bearer", "/commerce/v1/products", http.Header{"Authorization": {mint(t, a, []string{"admin"}, time.Hour, nil)}}, 200, "", []string{"admin"}},
		{"route without scopes", "/commerce/v1/me", bearer(mint(t, a, nil, time.Hour, nil)), 200, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(fn.calls())
			method := "POST"
			if tt.path == "/commerce/v1/me" {
				method = "GET"
			}
			rec := do(g, method, tt.path, `{}`, tt.header)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d %s, want %d", rec.Code, rec.Body, tt.wantStatus)
			}
			gotAuth := rec.Header().Get("Www-Authenticate")
			if (tt.wantAuthHdr == "") != (gotAuth == "") || !strings.Contains(gotAuth, tt.wantAuthHdr) {
				t.Errorf("www-authenticate = %q, want %q", gotAuth, tt.wantAuthHdr)
			}
			calls := fn.calls()[before:]
			if tt.wantStatus != 200 {
				if len(calls) != 0 {
					t.Errorf("function called %d times for a refused request", len(calls))
				}
				want := map[int]string{401: `{"message":"Unauthorized"}`, 403: `{"message":"Forbidden"}`}[tt.wantStatus]
				if rec.Body.String() != want {
					t.Errorf("body = %s, want %s", rec.Body, want)
				}
				return
			}
			if len(calls) != 1 {
				t.Fatalf("function called %d times, want 1", len(calls))
			}
			jwt := calls[0].RequestContext.Authorizer.JWT
			if jwt.Claims["sub"] != "seller-1" || jwt.Claims["iss"] != testIssuer || jwt.Claims["exp"] == "" {
				t.Errorf("claims = %v", jwt.Claims)
			}
			if d := cmp.Diff(tt.wantScopes, jwt.Scopes); d != "" {
				t.Errorf("scopes (-want +got):\n%s", d)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	answer := func(out string, err error) invoke.Invoker {
		return invoke.Func(func(context.Context, []byte) ([]byte, error) { return []byte(out), err })
	}
	hang := invoke.Func(func(ctx context.Context, _ []byte) ([]byte, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	})
	deaf := invoke.Func(func(context.Context, []byte) ([]byte, error) {
		time.Sleep(300 * time.Millisecond) // ignores its context
		return []byte(`"late"`), nil
	})
	routes := []Route{
		{FunctionID: "Ok", Method: "GET", Path: "/ok", Invoker: answer(`{"statusCode":200,"body":"fine"}`, nil)},
		{FunctionID: "Echo", Method: "POST", Path: "/echo", Invoker: answer(`"echo"`, nil)},
		{FunctionID: "Throttled", Method: "GET", Path: "/throttled", Invoker: answer("", fmt.Errorf("pool: %w", invoke.ErrThrottled))},
		{FunctionID: "Failing", Method: "GET", Path: "/fail", Invoker: answer("", &invoke.FunctionError{Type: "Unhandled", Message: "boom"})},
		{FunctionID: "Crashing", Method: "GET", Path: "/crash", Invoker: answer("", &invoke.FunctionError{Type: "Runtime.ExitError", Message: "exit status 2"})},
		{FunctionID: "TimedOut", Method: "GET", Path: "/lambda-timeout", Invoker: answer("", &invoke.FunctionError{Type: "Sandbox.Timedout", Message: "Task timed out after 10.00 seconds"})},
		{FunctionID: "Slow", Method: "GET", Path: "/slow", Timeout: 50 * time.Millisecond, Invoker: hang},
		{FunctionID: "Deaf", Method: "GET", Path: "/deaf", Timeout: 50 * time.Millisecond, Invoker: deaf},
		{FunctionID: "Broken", Method: "GET", Path: "/broken", Invoker: answer(`{"statusCode":"two hundred"}`, nil)},
		{FunctionID: "Other", Method: "GET", Path: "/other", Invoker: answer("", errors.New("connection refused"))},
	}
	g, err := New(Config{Routes: routes})
	if err != nil {
		t.Fatal(err)
	}
	g.maxBody = 1 << 10 // MaxPayload's logic on a small scale, to keep the test fast
	big := strings.Repeat("x", 1<<10+1)
	tests := []struct {
		name, method, path, body string
		unknownLength            bool
		wantStatus               int
		wantBody                 string
	}{
		{"ok", "GET", "/ok", "", false, 200, "fine"},
		{"unknown route", "GET", "/nope", "", false, 404, `{"message":"Not Found"}`},
		{"unknown method", "DELETE", "/ok", "", false, 404, `{"message":"Not Found"}`},
		{"body at the limit", "POST", "/echo", big[:1<<10], false, 200, "echo"},
		{"body over the limit", "POST", "/echo", big, false, 413, `{"message":"Request Entity Too Large"}`},
		{"body over the limit, length unknown", "POST", "/echo", big, true, 413, `{"message":"Request Entity Too Large"}`},
		{"body at the limit, length unknown", "POST", "/echo", big[:1<<10], true, 200, "echo"},
		{"throttled", "GET", "/throttled", "", false, 429, `{"message":"Too Many Requests"}`},
		{"function error", "GET", "/fail", "", false, 500, `{"message":"Internal Server Error"}`},
		{"crash", "GET", "/crash", "", false, 500, `{"message":"Internal Server Error"}`},
		{"function timeout", "GET", "/lambda-timeout", "", false, 500, `{"message":"Internal Server Error"}`},
		{"integration timeout", "GET", "/slow", "", false, 503, `{"message":"Service Unavailable"}`},
		{"integration timeout, invoker ignores context", "GET", "/deaf", "", false, 503, `{"message":"Service Unavailable"}`},
		{"invalid function response", "GET", "/broken", "", false, 500, `{"message":"Internal Server Error"}`},
		{"invoke failure", "GET", "/other", "", false, 500, `{"message":"Internal Server Error"}`},
		{"reserved prefix without a mount", "GET", "/_local/nothing", "", false, 404, `{"message":"Not Found"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
			if tt.unknownLength {
				req.ContentLength = -1
			}
			rec := httptest.NewRecorder()
			g.ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus || rec.Body.String() != tt.wantBody {
				t.Errorf("%s %s = %d %.80s, want %d %s", tt.method, tt.path, rec.Code, rec.Body, tt.wantStatus, tt.wantBody)
			}
			if rec.Code >= 400 && rec.Header().Get("Content-Type") != "application/json" {
				t.Errorf("error content-type = %q", rec.Header().Get("Content-Type"))
			}
			if !strings.HasPrefix(tt.path, ReservedPrefix) && rec.Header().Get("Apigw-Requestid") == "" {
				t.Error("no apigw-requestid header")
			}
		})
	}
}

func TestMountsAndAccessLog(t *testing.T) {
	var logBuf bytes.Buffer
	var logMu sync.Mutex
	logger := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		logMu.Lock()
		defer logMu.Unlock()
		return logBuf.Write(p)
	}), nil))
	fn := &recorder{answer: []byte(`{"statusCode":201,"body":"made"}`)}
	g, err := New(Config{Log: logger, Routes: []Route{{FunctionID: "Maker", Method: "POST", Path: "/things", Invoker: fn}}})
	if err != nil {
		t.Fatal(err)
	}
	g.Handle("/_local/idp/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "idp "+r.URL.Path) }))
	g.Handle("/_local/idp/special/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "special") }))

	tests := []struct {
		method, path string
		wantStatus   int
		wantBody     string
		wantLog      []string
	}{
		{"GET", "/_local/idp/.well-known/jwks.json", 200, "idp /_local/idp/.well-known/jwks.json", []string{"function=/_local/idp/\n"}},
		{"GET", "/_local/idp/special/x", 200, "special", []string{"function=/_local/idp/special/"}},
		{"POST", "/things", 201, "made", []string{"method=POST path=/things status=201", "function=Maker", `routeKey="POST /things"`}},
		{"GET", "/missing", 404, `{"message":"Not Found"}`, []string{"method=GET path=/missing status=404"}},
	}
	for _, tt := range tests {
		logMu.Lock()
		logBuf.Reset()
		logMu.Unlock()
		rec := do(g, tt.method, tt.path, "", nil)
		if rec.Code != tt.wantStatus || rec.Body.String() != tt.wantBody {
			t.Errorf("%s %s = %d %s, want %d %s", tt.method, tt.path, rec.Code, rec.Body, tt.wantStatus, tt.wantBody)
		}
		logMu.Lock()
		line := logBuf.String()
		logMu.Unlock()
		if strings.Count(line, "\n") != 1 || !strings.Contains(line, "duration=") {
			t.Errorf("access log for %s %s = %q, want one line with a duration", tt.method, tt.path, line)
		}
		for _, want := range tt.wantLog {
			if !strings.Contains(line, want) {
				t.Errorf("access log for %s %s = %q, want %q in it", tt.method, tt.path, line, want)
			}
		}
	}

	for _, bad := range []string{"/idp/", "/_local/", "/_local/x"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Handle(%q) did not panic", bad)
				}
			}()
			g.Handle(bad, http.NotFoundHandler())
		}()
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func TestListenAndServe(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "localhost:0", "[::1]:0"} {
		if ln, err := Listen(addr); err == nil {
			ln.Close()
			t.Errorf("Listen(%q) succeeded, want only 127.0.0.1", addr)
		}
	}
	ln, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fn := &recorder{answer: []byte(`{"ok":true}`)}
	g, err := New(Config{Routes: []Route{{Account: fixedAccount, APIID: "Api", FunctionID: "F", Method: "GET", Path: "/v1/{id}", Invoker: fn}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Serve(ctx, ln) }()

	req, _ := http.NewRequest("GET", "http://"+ln.Addr().String()+"/v1/a%20b?x=1", nil)
	req.Header.Set("Cookie", "s=1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != `{"ok":true}` || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("got %d %s %v", resp.StatusCode, body, resp.Header)
	}
	calls := fn.calls()
	if len(calls) != 1 {
		t.Fatalf("calls = %d", len(calls))
	}
	ev := calls[0]
	_, port, _ := strings.Cut(ln.Addr().String(), ":")
	if ev.PathParameters["id"] != "a b" || ev.RawPath != "/v1/a%20b" || ev.Headers["x-forwarded-port"] != port ||
		ev.RequestContext.HTTP.SourceIP != "127.0.0.1" || len(ev.Cookies) != 1 || ev.Headers["cookie"] != "" {
		t.Errorf("event = %+v", ev)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve returned %v", err)
	}
}

// TestDiscoveryThroughGateway is the local loop as the runner wires it: the identity
// provider is mounted on the gateway's own origin, and the authorizer, given no key
// source, discovers the issuer's keys over HTTP as API Gateway does.
func TestDiscoveryThroughGateway(t *testing.T) {
	ln, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer := "http://" + ln.Addr().String() + "/_local/idp"
	p, err := idp.New(idp.Config{Issuer: issuer, Audience: testAudience})
	if err != nil {
		t.Fatal(err)
	}
	fn := &recorder{answer: []byte(`{"statusCode":200,"body":"ok"}`)}
	auth := &Authorizer{Name: "CommerceJwt", Issuer: issuer, Audience: []string{testAudience}}
	g, err := New(Config{Routes: []Route{{FunctionID: "F", Method: "GET", Path: "/me", Authorizer: auth, Scopes: []string{"buyer"}, Invoker: fn}}})
	if err != nil {
		t.Fatal(err)
	}
	g.Handle(idp.PathPrefix, p.Handler())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Serve(ctx, ln) }()
	defer func() {
		cancel()
		<-done
	}()

	// A token from the provider's own token endpoint, through the gateway.
	resp, err := http.Post("http://"+ln.Addr().String()+"/_local/idp/token", "application/json", strings.NewReader(`{"sub":"buyer-1","scopes":["buyer"]}`))
	if err != nil {
		t.Fatal(err)
	}
	var tok idp.TokenResponse
	err = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		token string
		want  int
	}{
		{"token from the endpoint", tok.AccessToken, 200},
		{"token from another provider", mint(t, sharedProvider(t), []string{"buyer"}, time.Hour, nil), 401},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest("GET", "http://"+ln.Addr().String()+"/me", nil)
		req.Header.Set("Authorization", "Bearer "+tt.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%s: status %d, want %d", tt.name, resp.StatusCode, tt.want)
		}
	}
	if calls := fn.calls(); len(calls) != 1 || calls[0].RequestContext.Authorizer.JWT.Claims["sub"] != "buyer-1" {
		t.Errorf("calls = %+v", calls)
	}
}

func sharedProvider(t *testing.T) *idp.Provider {
	t.Helper()
	a, _ := providers(t)
	return a
}
