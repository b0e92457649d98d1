package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/etalase/etalase/shared/platform/httpapi"
)

// fixture loads an API Gateway HTTP API v2 event from testdata.
func fixture(t *testing.T, name string) httpapi.Request {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var req httpapi.Request
	if err := json.Unmarshal(data, &req); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return req
}

type envelope struct {
	Error struct {
		Code    string               `json:"code"`
		Message string               `json:"message"`
		Details []httpapi.FieldError `json:"details"`
	} `json:"error"`
}

func decodeEnvelope(t *testing.T, resp httpapi.Response) envelope {
	t.Helper()
	if got := resp.Headers["Content-Type"]; got != httpapi.ContentTypeJSON {
		t.Errorf("Content-Type = %q, want %q", got, httpapi.ContentTypeJSON)
	}
	var env envelope
	dec := json.NewDecoder(strings.NewReader(resp.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil {
		t.Fatalf("error body %q: %v", resp.Body, err)
	}
	return env
}

func TestRouter(t *testing.T) {
	secret := errors.New("dial tcp 10.0.0.1:443: secret internal detail")
	tests := []struct {
		name       string
		fixture    string
		routeKey   string // overrides the fixture's when set
		handler    httpapi.HandlerFunc
		wantStatus int
		wantCode   string // empty: success, body checked against wantBody
		wantBody   string
	}{
		{
			name: "dispatches on route key", fixture: "jwt-post.json",
			handler: func(context.Context, httpapi.Request) (httpapi.Response, error) {
				return httpapi.JSON(http.StatusCreated, map[string]string{"ok": "yes"}), nil
			},
			wantStatus: http.StatusCreated, wantBody: `{"ok":"yes"}`,
		},
		{
			name: "unknown route key", fixture: "jwt-post.json", routeKey: "DELETE /widgets",
			wantStatus: http.StatusNotFound, wantCode: httpapi.CodeRouteNotFound,
		},
		{
			name: "client error keeps status and code", fixture: "jwt-post.json",
			handler: func(context.Context, httpapi.Request) (httpapi.Response, error) {
				return httpapi.Response{}, httpapi.NewError(http.StatusConflict, "widget_taken", "taken")
			},
			wantStatus: http.StatusConflict, wantCode: "widget_taken",
		},
		{
			name: "wrapped client error", fixture: "jwt-post.json",
			handler: func(context.Context, httpapi.Request) (httpapi.Response, error) {
				return httpapi.Response{}, fmt.Errorf("create widget: %w", httpapi.NewError(http.StatusNotFound, "widget_not_found", "no"))
			},
			wantStatus: http.StatusNotFound, wantCode: "widget_not_found",
		},
		{
			name: "plain error is internal", fixture: "jwt-post.json",
			handler: func(context.Context, httpapi.Request) (httpapi.Response, error) {
				return httpapi.Response{}, fmt.Errorf("put widget: %w", secret)
			},
			wantStatus: http.StatusInternalServerError, wantCode: httpapi.CodeInternal,
		},
		{
			name: "panic is internal", fixture: "jwt-post.json",
			handler: func(context.Context, httpapi.Request) (httpapi.Response, error) {
				panic(secret.Error())
			},
			wantStatus: http.StatusInternalServerError, wantCode: httpapi.CodeInternal,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logBuf bytes.Buffer
			r := httpapi.NewRouter(slog.New(slog.NewJSONHandler(&logBuf, nil)))
			req := fixture(t, tt.fixture)
			if tt.handler != nil {
				r.Route(req.RouteKey, tt.handler)
			}
			if tt.routeKey != "" {
				req.RouteKey = tt.routeKey
			}
			resp, err := r.Handle(context.Background(), req)
			if err != nil {
				t.Fatalf("Handle returned error %v; it must always answer", err)
			}
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d (body %s)", resp.StatusCode, tt.wantStatus, resp.Body)
			}
			if tt.wantCode == "" {
				if resp.Body != tt.wantBody {
					t.Errorf("body = %s, want %s", resp.Body, tt.wantBody)
				}
				return
			}
			env := decodeEnvelope(t, resp)
			if env.Error.Code != tt.wantCode || env.Error.Message == "" {
				t.Errorf("error = %+v, want code %q and a message", env.Error, tt.wantCode)
			}
			if strings.Contains(resp.Body, "secret") {
				t.Errorf("internal detail leaked to the client: %s", resp.Body)
			}
			if tt.wantCode == httpapi.CodeInternal {
				if resp.Body != `{"error":{"code":"internal","message":"internal error"}}` {
					t.Errorf("internal body = %s", resp.Body)
				}
				if !strings.Contains(logBuf.String(), "secret internal detail") {
					t.Errorf("the real error must be logged; log: %s", logBuf.String())
				}
				if !strings.Contains(logBuf.String(), `"requestId":"Yb2x1hXYoAMEVxA="`) {
					t.Errorf("log lacks the request id: %s", logBuf.String())
				}
			}
		})
	}
}

func TestRouterRejectsDuplicateRoute(t *testing.T) {
	r := httpapi.NewRouter(nil)
	h := func(context.Context, httpapi.Request) (httpapi.Response, error) { return httpapi.NoContent(), nil }
	r.Route("GET /a", h)
	defer func() {
		if recover() == nil {
			t.Error("duplicate route did not panic")
		}
	}()
	r.Route("GET /a", h)
}

func TestErrorResponseDetails(t *testing.T) {
	err := httpapi.ValidationFailed(httpapi.FieldError{Field: "title", Message: "is required"})
	resp := httpapi.ErrorResponse(context.Background(), slog.New(slog.DiscardHandler), err)
	want := `{"error":{"code":"validation_failed","message":"the request has invalid fields","details":[{"field":"title","message":"is required"}]}}`
	if resp.StatusCode != http.StatusBadRequest || resp.Body != want {
		t.Errorf("got %d %s, want 400 %s", resp.StatusCode, resp.Body, want)
	}
}

type widget struct {
	Name  string `json:"name"`
	Count int64  `json:"count"`
	Tags  struct {
		Color string `json:"color"`
	} `json:"tags"`
}

func TestDecodeJSON(t *testing.T) {
	tests := []struct {
		name        string
		fixture     string
		body        *string // replaces the fixture's body when set
		base64      *bool
		contentType *string
		max         int64
		want        widget
		wantStatus  int
		wantCode    string
		wantField   string
	}{
		{name: "plain", fixture: "jwt-post.json", want: widget{Name: "kopi", Count: 3}},
		{name: "base64", fixture: "base64-post.json", want: widget{Name: "teh", Count: 2}},
		{name: "nested", fixture: "jwt-post.json", body: ptr(`{"tags":{"color":"red"}}`), want: widget{Tags: struct {
			Color string `json:"color"`
		}{"red"}}},
		{name: "content type with charset", fixture: "jwt-post.json", contentType: ptr("application/json; charset=utf-8"), want: widget{Name: "kopi", Count: 3}},
		{name: "json suffix type", fixture: "jwt-post.json", contentType: ptr("application/merge-patch+json"), want: widget{Name: "kopi", Count: 3}},
		{name: "no content type", fixture: "jwt-post.json", contentType: ptr(""), want: widget{Name: "kopi", Count: 3}},
		{name: "form content type", fixture: "jwt-post.json", contentType: ptr("application/x-www-form-urlencoded"), wantStatus: 415, wantCode: httpapi.CodeUnsupportedMediaType},
		{name: "syntax error", fixture: "jwt-post.json", body: ptr(`{"name":`), wantStatus: 400, wantCode: httpapi.CodeInvalidJSON},
		{name: "garbage", fixture: "jwt-post.json", body: ptr(`name=kopi`), wantStatus: 400, wantCode: httpapi.CodeInvalidJSON},
		{name: "empty body", fixture: "jwt-post.json", body: ptr(" \n"), wantStatus: 400, wantCode: httpapi.CodeInvalidBody},
		{name: "unknown field", fixture: "jwt-post.json", body: ptr(`{"name":"a","price":1}`), wantStatus: 400, wantCode: httpapi.CodeInvalidBody, wantField: "price"},
		{name: "wrong type", fixture: "jwt-post.json", body: ptr(`{"count":"3"}`), wantStatus: 400, wantCode: httpapi.CodeInvalidBody, wantField: "count"},
		{name: "float for integer", fixture: "jwt-post.json", body: ptr(`{"count":1.5}`), wantStatus: 400, wantCode: httpapi.CodeInvalidBody, wantField: "count"},
		{name: "integer overflow", fixture: "jwt-post.json", body: ptr(`{"count":99999999999999999999}`), wantStatus: 400, wantCode: httpapi.CodeInvalidBody, wantField: "count"},
		{name: "nested wrong type", fixture: "jwt-post.json", body: ptr(`{"tags":{"color":1}}`), wantStatus: 400, wantCode: httpapi.CodeInvalidBody, wantField: "tags.color"},
		{name: "array not object", fixture: "jwt-post.json", body: ptr(`[1,2]`), wantStatus: 400, wantCode: httpapi.CodeInvalidBody},
		{name: "two values", fixture: "jwt-post.json", body: ptr(`{"name":"a"}{"name":"b"}`), wantStatus: 400, wantCode: httpapi.CodeInvalidBody},
		{name: "too large", fixture: "jwt-post.json", max: 10, wantStatus: 413, wantCode: httpapi.CodeBodyTooLarge},
		{name: "too large base64", fixture: "base64-post.json", max: 10, wantStatus: 413, wantCode: httpapi.CodeBodyTooLarge},
		{name: "bad base64", fixture: "base64-post.json", body: ptr("%%%"), wantStatus: 400, wantCode: httpapi.CodeInvalidJSON},
		{name: "base64 flag off", fixture: "base64-post.json", base64: ptr(false), wantStatus: 400, wantCode: httpapi.CodeInvalidJSON},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := fixture(t, tt.fixture)
			if tt.body != nil {
				req.Body = *tt.body
			}
			if tt.base64 != nil {
				req.IsBase64Encoded = *tt.base64
			}
			if tt.contentType != nil {
				if *tt.contentType == "" {
					delete(req.Headers, "content-type")
				} else {
					req.Headers["content-type"] = *tt.contentType
				}
			}
			var got widget
			err := httpapi.DecodeJSON(req, &got, tt.max)
			if tt.wantCode == "" {
				if err != nil {
					t.Fatalf("DecodeJSON: %v", err)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("decoded (-want +got):\n%s", diff)
				}
				return
			}
			var he *httpapi.Error
			if !errors.As(err, &he) {
				t.Fatalf("err = %v, want *httpapi.Error", err)
			}
			if he.Status != tt.wantStatus || he.Code != tt.wantCode {
				t.Errorf("got %d %s (%v), want %d %s", he.Status, he.Code, err, tt.wantStatus, tt.wantCode)
			}
			if tt.wantField != "" && (len(he.Details) != 1 || he.Details[0].Field != tt.wantField) {
				t.Errorf("details = %+v, want field %q", he.Details, tt.wantField)
			}
		})
	}
}

func TestPrincipal(t *testing.T) {
	tests := []struct {
		name    string
		fixture string
		edit    func(*httpapi.Request)
		want    httpapi.Principal
	}{
		{name: "scopes field", fixture: "jwt-post.json", want: httpapi.Principal{Subject: "seller-0001", Scopes: []string{"seller", "openid"}}},
		{name: "scope claim", fixture: "scope-claim-post.json", want: httpapi.Principal{Subject: "seller-0001", Scopes: []string{"openid", "seller"}}},
		{name: "scp array claim", fixture: "scope-claim-post.json", edit: func(r *httpapi.Request) {
			c := r.RequestContext.Authorizer.JWT.Claims
			delete(c, "scope")
			c["scp"] = "[buyer seller]"
		}, want: httpapi.Principal{Subject: "seller-0001", Scopes: []string{"buyer", "seller"}}},
		{name: "no authorizer", fixture: "public-get.json", want: httpapi.Principal{}},
		{name: "no sub", fixture: "jwt-post.json", edit: func(r *httpapi.Request) {
			delete(r.RequestContext.Authorizer.JWT.Claims, "sub")
		}, want: httpapi.Principal{Scopes: []string{"seller", "openid"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := fixture(t, tt.fixture)
			if tt.edit != nil {
				tt.edit(&req)
			}
			if diff := cmp.Diff(tt.want, httpapi.PrincipalFrom(req)); diff != "" {
				t.Errorf("principal (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRequireScope(t *testing.T) {
	tests := []struct {
		name       string
		fixture    string
		scope      string
		edit       func(*httpapi.Request)
		wantStatus int // 0: allowed
		wantCode   string
	}{
		{name: "granted", fixture: "jwt-post.json", scope: "seller"},
		{name: "granted via claim", fixture: "scope-claim-post.json", scope: "seller"},
		{name: "missing scope", fixture: "jwt-post.json", scope: "admin", wantStatus: 403, wantCode: httpapi.CodeForbidden},
		{name: "scope is not a prefix match", fixture: "jwt-post.json", scope: "sell", wantStatus: 403, wantCode: httpapi.CodeForbidden},
		{name: "no authorizer", fixture: "public-get.json", scope: "seller", wantStatus: 401, wantCode: httpapi.CodeUnauthenticated},
		{name: "blank subject", fixture: "jwt-post.json", scope: "seller", edit: func(r *httpapi.Request) {
			r.RequestContext.Authorizer.JWT.Claims["sub"] = "  "
		}, wantStatus: 401, wantCode: httpapi.CodeUnauthenticated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := fixture(t, tt.fixture)
			if tt.edit != nil {
				tt.edit(&req)
			}
			p, err := httpapi.RequireScope(req, tt.scope)
			if tt.wantStatus == 0 {
				if err != nil || p.Subject != "seller-0001" {
					t.Fatalf("RequireScope = %+v, %v; want seller-0001", p, err)
				}
				return
			}
			var he *httpapi.Error
			if !errors.As(err, &he) || he.Status != tt.wantStatus || he.Code != tt.wantCode {
				t.Errorf("err = %v, want %d %s", err, tt.wantStatus, tt.wantCode)
			}
		})
	}
}

func TestHeaderCaseInsensitive(t *testing.T) {
	req := fixture(t, "jwt-post.json")
	req.Headers = map[string]string{"X-Correlation-Id": "abc"}
	if got := httpapi.Header(req, "x-correlation-id"); got != "abc" {
		t.Errorf("Header = %q", got)
	}
}

func ptr[T any](v T) *T { return &v }
