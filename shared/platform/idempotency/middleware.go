package idempotency

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/etalase/etalase/shared/platform/httpapi"
)

// HeaderKey is the request header that carries the key (draft-ietf-httpapi-idempotency-key-header).
const HeaderKey = "Idempotency-Key"

// HeaderReplayed is set to "true" on a response replayed from a stored record.
const HeaderReplayed = "Idempotent-Replayed"

// Error codes the middleware answers with.
const (
	CodeKeyRequired = "idempotency_key_required" // 400: no Idempotency-Key header
	CodeKeyInvalid  = "idempotency_key_invalid"  // 400: a key of the wrong length or characters
	CodeKeyReused   = "idempotency_key_reused"   // 422: the key was used for a different request
	CodeInProgress  = "idempotency_in_progress"  // 409: the same request is still being processed
)

// Keeper is the record store the middleware needs; *DynamoStore implements it.
type Keeper interface {
	Begin(ctx context.Context, scope, key string, requestHash []byte, inProgressUntil time.Time) (Outcome, error)
	Complete(ctx context.Context, scope, key, token string, response []byte) error
	Release(ctx context.Context, scope, key, token string) error
}

// Middleware makes httpapi handlers idempotent per (caller, Idempotency-Key).
type Middleware struct {
	keeper          Keeper
	log             *slog.Logger
	now             func() time.Time
	margin          time.Duration
	withoutDeadline time.Duration
	scope           func(req httpapi.Request) string
}

// MiddlewareOption configures a Middleware.
type MiddlewareOption func(*Middleware)

// WithMiddlewareClock replaces time.Now (the lease computation), for tests.
func WithMiddlewareClock(now func() time.Time) MiddlewareOption {
	return func(m *Middleware) { m.now = now }
}

// WithLease replaces DefaultLeaseMargin and DefaultLeaseWithoutDeadline.
func WithLease(margin, withoutDeadline time.Duration) MiddlewareOption {
	return func(m *Middleware) { m.margin, m.withoutDeadline = margin, withoutDeadline }
}

// WithScope replaces the scope of a request, by default the authenticated subject
// (httpapi.PrincipalFrom(req).Subject). A request whose scope is empty is 401.
func WithScope(scope func(req httpapi.Request) string) MiddlewareOption {
	return func(m *Middleware) { m.scope = scope }
}

// NewMiddleware returns a middleware over keeper that logs to log (slog.Default if nil).
func NewMiddleware(keeper Keeper, log *slog.Logger, opts ...MiddlewareOption) *Middleware {
	if log == nil {
		log = slog.Default()
	}
	m := &Middleware{
		keeper: keeper, log: log, now: time.Now,
		margin: DefaultLeaseMargin, withoutDeadline: DefaultLeaseWithoutDeadline,
		scope: func(req httpapi.Request) string { return httpapi.PrincipalFrom(req).Subject },
	}
	for _, o := range opts {
		o(m)
	}
	return m
}

// Wrap returns h made idempotent; see Do.
func (m *Middleware) Wrap(h httpapi.HandlerFunc) httpapi.HandlerFunc {
	return func(ctx context.Context, req httpapi.Request) (httpapi.Response, error) {
		return m.Do(ctx, req, h)
	}
}

// Do runs h for req at most once per (scope, Idempotency-Key) and request:
//
//   - no key: 400 idempotency_key_required; a malformed key: 400 idempotency_key_invalid;
//     no authenticated caller, or a subject over MaxScopeLength: 401 unauthenticated;
//   - the key's first use: h runs. If h returns a response, it is stored (status,
//     headers, body) and returned; if h returns an error, or panics, the key is
//     released so that the client may retry with the same key, and the error goes on
//     to the router as usual. So h must return an error only when it committed
//     nothing; once it has committed (an order placed), it must answer with a response;
//   - the same request again: the stored response, with Idempotent-Replayed: true;
//   - the same request while the first still runs: 409 idempotency_in_progress;
//   - the key with a different request (RequestHash): 422 idempotency_key_reused.
//
// If storing the response fails, the response is still returned (h's work is done) and
// the failure logged; the record stays in progress until its lease ends.
func (m *Middleware) Do(ctx context.Context, req httpapi.Request, h httpapi.HandlerFunc) (resp httpapi.Response, err error) {
	key, err := KeyFrom(req)
	if err != nil {
		return httpapi.Response{}, err
	}
	scope := m.scope(req)
	if scope == "" || len(scope) > MaxScopeLength {
		// A subject longer than any user id cannot key a record: no caller we can serve.
		return httpapi.Response{}, httpapi.NewError(http.StatusUnauthorized, httpapi.CodeUnauthenticated, "authentication is required")
	}
	hash := RequestHash(req)
	out, err := m.keeper.Begin(ctx, scope, key, hash, LeaseUntil(ctx, m.now(), m.margin, m.withoutDeadline))
	if err != nil {
		return httpapi.Response{}, fmt.Errorf("idempotency begin: %w", err)
	}
	switch out.Kind {
	case Replay:
		stored, err := DecodeResponse(out.Response)
		if err != nil {
			return httpapi.Response{}, fmt.Errorf("idempotency replay: %w", err)
		}
		if stored.Headers == nil {
			stored.Headers = map[string]string{}
		}
		stored.Headers[HeaderReplayed] = "true"
		return stored, nil
	case Mismatch:
		return httpapi.Response{}, httpapi.NewError(http.StatusUnprocessableEntity, CodeKeyReused,
			"this Idempotency-Key was already used for a different request")
	case InProgress:
		return httpapi.Response{}, httpapi.NewError(http.StatusConflict, CodeInProgress,
			"a request with this Idempotency-Key is still being processed; retry later")
	case Fresh:
	default:
		return httpapi.Response{}, fmt.Errorf("idempotency begin: unexpected outcome %v", out.Kind)
	}

	completed := false
	defer func() {
		if completed {
			return
		}
		// h failed or panicked: free the key for a retry. The invocation's context may be
		// at its deadline, so the release gets its own short one.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		if rerr := m.keeper.Release(rctx, scope, key, out.Token); rerr != nil {
			m.log.WarnContext(ctx, "idempotency release failed; the key is held until its lease ends", "error", rerr)
		}
	}()
	resp, err = h(ctx, req)
	if err != nil {
		return resp, err
	}
	completed = true
	body, eerr := EncodeResponse(resp)
	if eerr == nil {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		eerr = m.keeper.Complete(cctx, scope, key, out.Token, body)
		cancel()
	}
	if eerr != nil {
		m.log.ErrorContext(ctx, "idempotency complete failed; a retry after the lease may run the request again", "error", eerr)
	}
	return resp, nil
}

// KeyFrom returns the request's Idempotency-Key, or the 400 error to answer. The key
// may be sent bare (as most APIs take it) or as a Structured Fields string in double
// quotes, as the IETF draft defines it.
func KeyFrom(req httpapi.Request) (string, error) {
	raw := strings.TrimSpace(httpapi.Header(req, HeaderKey))
	if raw == "" {
		return "", httpapi.NewError(http.StatusBadRequest, CodeKeyRequired, "the Idempotency-Key header is required")
	}
	key := raw
	if len(key) >= 2 && key[0] == '"' && key[len(key)-1] == '"' {
		key = key[1 : len(key)-1]
	}
	if !ValidKey(key) {
		return "", httpapi.NewError(http.StatusBadRequest, CodeKeyInvalid, fmt.Sprintf(
			"the Idempotency-Key must be %d to %d characters of letters, digits and - _ . : ~ + / =, such as a UUID",
			MinKeyLength, MaxKeyLength))
	}
	return key, nil
}

// RequestHash returns the SHA-256 that identifies a request for its key: over the
// method, the route key, the path (which holds the path parameters) and the body
// bytes (base64-decoded if API Gateway encoded them), each length-prefixed. Headers
// and the query string are not part of it: a retry need not repeat them byte for byte,
// and the routes that take keys carry their input in the body. The body is compared
// byte for byte, not as JSON: a retry resends the same bytes.
func RequestHash(req httpapi.Request) []byte {
	method := req.RequestContext.HTTP.Method
	if method == "" {
		method, _, _ = strings.Cut(req.RouteKey, " ")
	}
	path := req.RawPath
	if path == "" {
		path = req.RequestContext.HTTP.Path
	}
	body := []byte(req.Body)
	if req.IsBase64Encoded {
		if b, err := base64.StdEncoding.DecodeString(req.Body); err == nil {
			body = b
		}
	}
	h := sha256.New()
	h.Write([]byte("etalase-idempotency-v1"))
	for _, part := range [][]byte{[]byte(strings.ToUpper(method)), []byte(req.RouteKey), []byte(path), body} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(part)))
		h.Write(n[:])
		h.Write(part)
	}
	return h.Sum(nil)
}

// storedResponse is the stored form of a response.
type storedResponse struct {
	Version         int               `json:"v"`
	StatusCode      int               `json:"status"`
	Headers         map[string]string `json:"headers,omitempty"`
	Cookies         []string          `json:"cookies,omitempty"`
	Body            string            `json:"body"`
	IsBase64Encoded bool              `json:"isBase64Encoded,omitempty"`
}

// EncodeResponse returns the bytes Do stores for a response: its status, headers,
// cookies and body, as versioned JSON.
func EncodeResponse(resp httpapi.Response) ([]byte, error) {
	b, err := json.Marshal(storedResponse{
		Version: 1, StatusCode: resp.StatusCode, Headers: resp.Headers, Cookies: resp.Cookies,
		Body: resp.Body, IsBase64Encoded: resp.IsBase64Encoded,
	})
	if err != nil {
		return nil, fmt.Errorf("encode response: %w", err)
	}
	return b, nil
}

// DecodeResponse parses what EncodeResponse returned.
func DecodeResponse(b []byte) (httpapi.Response, error) {
	var s storedResponse
	if err := json.Unmarshal(b, &s); err != nil {
		return httpapi.Response{}, fmt.Errorf("decode stored response: %w", err)
	}
	if s.Version != 1 || s.StatusCode < 100 || s.StatusCode > 599 {
		return httpapi.Response{}, errors.New("decode stored response: not a stored response")
	}
	return httpapi.Response{
		StatusCode: s.StatusCode, Headers: s.Headers, Cookies: s.Cookies,
		Body: s.Body, IsBase64Encoded: s.IsBase64Encoded,
	}, nil
}
