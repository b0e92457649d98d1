// Package gateway emulates API Gateway HTTP APIs (payload format 2.0) in front of both
// accounts' functions, on one local origin.
//
// It serves the template's routes (RoutesFromTemplate), matches them as API Gateway does
// (exact paths, then {variables}, then greedy {proxy+}; a route for the method before
// ANY; $default last), checks JWT authorizers as API Gateway's JWT authorizer does (by
// discovering the issuer's keys), builds format 2.0 events, maps function responses and
// failures to the answers API Gateway gives, and writes one access log line per request.
//
// Paths under /_local/ are reserved for local tooling mounted with Handle: the identity
// provider, the payment sandbox. No route may use them. The storefront's files are the
// site (HandleSite): GET requests outside every API's path prefix.
package gateway

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/etalase/etalase/infra/localrun/idp"
	"github.com/etalase/etalase/infra/localrun/invoke"
)

// DefaultAddr is where the local HTTP API listens.
const DefaultAddr = "127.0.0.1:3000"

// ReservedPrefix is the path prefix of everything that is not an API route.
const ReservedPrefix = "/_local/"

// Limits of an HTTP API, from API Gateway's quotas.
const (
	// MaxPayload is the largest request body.
	MaxPayload = 10 << 20
	// MaxIntegrationTimeout is the longest API Gateway waits for a function.
	MaxIntegrationTimeout = 30 * time.Second
)

// Config is what a Gateway serves.
type Config struct {
	// Routes of every API on the origin.
	Routes []Route
	// Keys returns the key source for an authorizer's issuer; nil means OpenID Connect
	// discovery from the issuer, as API Gateway does.
	Keys func(issuer string) idp.KeySource
	// Log receives one access log line per request; nil means no log.
	Log *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Gateway is the local HTTP API origin. It is an http.Handler.
type Gateway struct {
	table     *table
	verifiers map[*Authorizer]*idp.Verifier
	log       *slog.Logger
	now       func() time.Time
	newID     func() string
	maxBody   int64

	mu     sync.RWMutex
	mounts map[string]http.Handler
	site   http.Handler // HandleSite: the page's files
}

// New returns a Gateway serving cfg.Routes.
func New(cfg Config) (*Gateway, error) {
	t, err := newTable(cfg.Routes)
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	g := &Gateway{
		table:     t,
		verifiers: map[*Authorizer]*idp.Verifier{},
		log:       cfg.Log,
		now:       cfg.Now,
		newID:     requestID,
		maxBody:   MaxPayload,
		mounts:    map[string]http.Handler{},
	}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	if g.now == nil {
		g.now = time.Now
	}
	keys := cfg.Keys
	sources := map[string]idp.KeySource{}
	if keys == nil {
		keys = func(issuer string) idp.KeySource { return idp.NewRemoteKeys(issuer, nil) }
	}
	for _, r := range cfg.Routes {
		a := r.Authorizer
		if a == nil || g.verifiers[a] != nil {
			continue
		}
		if a.Issuer == "" || len(a.Audience) == 0 {
			return nil, fmt.Errorf("gateway: authorizer %s needs an issuer and an audience", a.Name)
		}
		if _, _, err := tokenSource(a.IdentitySource); err != nil {
			return nil, fmt.Errorf("gateway: authorizer %s: %w", a.Name, err)
		}
		src, ok := sources[a.Issuer]
		if !ok {
			src = keys(a.Issuer)
			sources[a.Issuer] = src
		}
		g.verifiers[a] = &idp.Verifier{Issuer: a.Issuer, Audiences: a.Audience, Keys: src, Now: g.now}
	}
	return g, nil
}

// Handle mounts h for every path under prefix, which must start with /_local/ and end
// with a slash; h sees the full path. Like http.ServeMux.Handle it panics on a bad or
// duplicate prefix. The longest matching prefix wins.
func (g *Gateway) Handle(prefix string, h http.Handler) {
	if !strings.HasPrefix(prefix, ReservedPrefix) || !strings.HasSuffix(prefix, "/") || prefix == ReservedPrefix {
		panic(fmt.Sprintf("gateway: mount prefix %q must be under %s and end with /", prefix, ReservedPrefix))
	}
	if h == nil {
		panic("gateway: nil handler for " + prefix)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, dup := g.mounts[prefix]; dup {
		panic("gateway: prefix " + prefix + " mounted twice")
	}
	g.mounts[prefix] = h
}

func (g *Gateway) mounted(path string) (string, http.Handler) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	best := ""
	for p := range g.mounts {
		if (strings.HasPrefix(path, p) || path == strings.TrimSuffix(p, "/")) && len(p) > len(best) {
			best = p
		}
	}
	return best, g.mounts[best]
}

// Listen opens a listener on addr ("" means DefaultAddr), refusing any host but
// 127.0.0.1: the local system is never reachable from outside the machine.
func Listen(addr string) (net.Listener, error) {
	if addr == "" {
		addr = DefaultAddr
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	if host != "127.0.0.1" {
		return nil, fmt.Errorf("listen %s: only 127.0.0.1 is allowed", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	return ln, nil
}

// Serve serves HTTP on ln until ctx is done, then shuts down gracefully.
func (g *Gateway) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: g, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	err := srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		<-done
		return nil
	}
	return fmt.Errorf("serve: %w", err)
}

// statusWriter remembers the status written, for the access log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// accessEntry collects what the access log line says.
type accessEntry struct {
	target    string // the function, or the mounted prefix
	routeKey  string
	requestID string
	err       error
}

// ServeHTTP serves one request.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w}
	var e accessEntry
	if strings.HasPrefix(r.URL.Path, ReservedPrefix) || r.URL.Path+"/" == ReservedPrefix {
		prefix, h := g.mounted(r.URL.Path)
		if h != nil {
			e.target = prefix
			h.ServeHTTP(sw, r)
		} else {
			gatewayError(http.StatusNotFound).write(sw)
		}
	} else if site := g.siteFor(r); site != nil {
		e.target = "site"
		site.ServeHTTP(sw, r)
	} else {
		g.serveAPI(sw, r, &e)
	}
	status := sw.status
	if status == 0 {
		status = 499 // the client went away before an answer
	}
	attrs := []slog.Attr{
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.Int("status", status),
		slog.Duration("duration", time.Since(start)),
		slog.String("function", e.target),
	}
	if e.routeKey != "" {
		attrs = append(attrs, slog.String("routeKey", e.routeKey), slog.String("requestId", e.requestID))
	}
	if e.err != nil {
		attrs = append(attrs, slog.String("error", e.err.Error()))
	}
	g.log.LogAttrs(r.Context(), slog.LevelInfo, "http", attrs...)
}

func (g *Gateway) serveAPI(w http.ResponseWriter, r *http.Request, e *accessEntry) {
	e.requestID = g.newID()
	w.Header().Set("Apigw-Requestid", e.requestID)
	if r.ContentLength > g.maxBody {
		gatewayError(http.StatusRequestEntityTooLarge).write(w)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, g.maxBody+1))
	if err != nil {
		e.err = fmt.Errorf("read body: %w", err)
		gatewayError(http.StatusBadRequest).write(w)
		return
	}
	if int64(len(body)) > g.maxBody {
		gatewayError(http.StatusRequestEntityTooLarge).write(w)
		return
	}
	rt, params := g.table.find(r.Method, r.URL.EscapedPath())
	if rt == nil {
		gatewayError(http.StatusNotFound).write(w)
		return
	}
	e.target, e.routeKey = rt.FunctionID, rt.key

	now := g.now()
	in := eventInput{route: rt, params: params, body: body, requestID: e.requestID, traceID: traceID(now), now: now}
	if rt.Authorizer != nil {
		claims, scopes, resp, err := g.authorize(r, rt)
		if err != nil {
			e.err = err
			resp.write(w)
			return
		}
		in.claims, in.scopes = claims, scopes
	}
	payload, err := marshalEvent(buildEvent(r, in))
	if err != nil {
		e.err = err
		gatewayError(http.StatusInternalServerError).write(w)
		return
	}
	out, err := g.invoke(r.Context(), rt, payload)
	if err != nil {
		e.err = err
		switch {
		case r.Context().Err() != nil:
			// The client is gone; there is no one to answer.
		case errors.Is(err, invoke.ErrThrottled):
			gatewayError(http.StatusTooManyRequests).write(w)
		case errors.Is(err, context.DeadlineExceeded):
			gatewayError(http.StatusServiceUnavailable).write(w)
		default:
			gatewayError(http.StatusInternalServerError).write(w)
		}
		return
	}
	resp, err := mapResponse(out)
	if err != nil {
		e.err = err
		gatewayError(http.StatusInternalServerError).write(w)
		return
	}
	resp.write(w)
}

// invoke runs the function within the route's integration timeout, returning
// context.DeadlineExceeded when the function does not answer in time even if the
// invoker ignores its context.
func (g *Gateway) invoke(ctx context.Context, rt *route, payload []byte) ([]byte, error) {
	timeout := rt.Timeout
	if timeout <= 0 || timeout > MaxIntegrationTimeout {
		timeout = MaxIntegrationTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	type result struct {
		out []byte
		err error
	}
	ch := make(chan result, 1)
	go func() {
		out, err := rt.Invoker.Invoke(ctx, payload)
		ch <- result{out, err}
	}()
	select {
	case res := <-ch:
		if res.err != nil && ctx.Err() != nil && errors.Is(res.err, ctx.Err()) {
			return nil, fmt.Errorf("integration timeout: %w", ctx.Err())
		}
		return res.out, res.err
	case <-ctx.Done():
		return nil, fmt.Errorf("integration timeout: %w", ctx.Err())
	}
}

// authorize checks the route's JWT authorizer. It returns the claims and scopes for the
// event, or the response to send and why.
func (g *Gateway) authorize(r *http.Request, rt *route) (map[string]string, []string, response, error) {
	a := rt.Authorizer
	challenge := `Bearer scope="` + strings.Join(rt.Scopes, " ") + `"`
	kind, name, _ := tokenSource(a.IdentitySource)
	var raw string
	if kind == "header" {
		raw = r.Header.Get(name)
	} else {
		raw = r.URL.Query().Get(name)
	}
	raw = strings.TrimSpace(raw)
	if len(raw) > 7 && strings.EqualFold(raw[:7], "bearer ") {
		raw = strings.TrimSpace(raw[7:])
	}
	if raw == "" {
		resp := gatewayError(http.StatusUnauthorized)
		resp.header.Set("Www-Authenticate", challenge)
		return nil, nil, resp, errors.New("authorizer: no token")
	}
	tok, err := g.verifiers[a].Verify(r.Context(), raw, rt.Scopes)
	if errors.Is(err, idp.ErrInsufficientScope) {
		resp := gatewayError(http.StatusForbidden)
		resp.header.Set("Www-Authenticate", challenge+` error="insufficient_scope" error_description="`+idp.Description(err)+`"`)
		return nil, nil, resp, fmt.Errorf("authorizer: %w", err)
	}
	if err != nil {
		resp := gatewayError(http.StatusUnauthorized)
		resp.header.Set("Www-Authenticate", challenge+` error="invalid_token" error_description="`+idp.Description(err)+`"`)
		return nil, nil, resp, fmt.Errorf("authorizer: %w", err)
	}
	var scopes []string
	for _, s := range rt.Scopes {
		if slices.Contains(tok.Scopes, s) {
			scopes = append(scopes, s)
		}
	}
	return claimStrings(tok.Claims), scopes, response{}, nil
}

// tokenSource parses an identity source: "$request.header.Name" or
// "$request.querystring.name"; empty means the Authorization header.
func tokenSource(src string) (kind, name string, err error) {
	if src == "" {
		return "header", "Authorization", nil
	}
	if n, ok := strings.CutPrefix(src, "$request.header."); ok && n != "" {
		return "header", n, nil
	}
	if n, ok := strings.CutPrefix(src, "$request.querystring."); ok && n != "" {
		return "query", n, nil
	}
	return "", "", fmt.Errorf("identity source %q is not supported locally", src)
}

// requestID returns an id shaped like API Gateway's ("Mc7UVioPPHcEKPA=").
func requestID() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// traceID returns an X-Ray trace header value for a new trace.
func traceID(now time.Time) string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return fmt.Sprintf("Root=1-%08x-%s", now.Unix(), hex.EncodeToString(b))
}
