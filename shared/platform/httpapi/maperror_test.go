package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/etalase/etalase/shared/platform/httpapi"
	"github.com/etalase/etalase/shared/platform/validation"
)

func TestMapError(t *testing.T) {
	errGone := errors.New("gone")
	errBusy := errors.New("busy")
	cases := []httpapi.ErrorCase{
		{Err: errGone, Status: http.StatusNotFound, Code: "thing_not_found", Message: "thing not found"},
		{Err: errBusy, Status: http.StatusConflict, Code: "conflict", Message: "retry"},
	}
	var ps validation.Problems
	ps.Add("title", "is required")
	own := httpapi.NewError(http.StatusTeapot, "teapot", "short and stout")
	unknown := errors.New("disk on fire")

	tests := []struct {
		name       string
		err        error
		wantStatus int // 0: err comes back unchanged
		wantCode   string
	}{
		{"nil", nil, 0, ""},
		{"client error passes", fmt.Errorf("x: %w", own), http.StatusTeapot, "teapot"},
		{"validation", fmt.Errorf("create: %w", ps.Err()), http.StatusBadRequest, httpapi.CodeValidationFailed},
		{"first case", fmt.Errorf("get: %w", errGone), http.StatusNotFound, "thing_not_found"},
		{"second case", errBusy, http.StatusConflict, "conflict"},
		{"unknown stays internal", unknown, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := httpapi.MapError(tt.err, cases)
			var he *httpapi.Error
			if tt.wantStatus == 0 {
				if got != tt.err {
					t.Fatalf("MapError(%v) = %v, want it unchanged", tt.err, got)
				}
				return
			}
			if !errors.As(got, &he) || he.Status != tt.wantStatus || he.Code != tt.wantCode {
				t.Fatalf("MapError(%v) = %v, want %d %s", tt.err, got, tt.wantStatus, tt.wantCode)
			}
			if !errors.Is(got, tt.err) {
				t.Errorf("MapError(%v) lost its cause", tt.err)
			}
		})
	}
	got := httpapi.MapError(ps.Err(), nil)
	var he *httpapi.Error
	if !errors.As(got, &he) || len(he.Details) != 1 || he.Details[0] != (httpapi.FieldError{Field: "title", Message: "is required"}) {
		t.Errorf("validation details = %+v", he)
	}
}

func TestScoped(t *testing.T) {
	errGone := errors.New("gone")
	mapErr := func(err error) error {
		return httpapi.MapError(err, []httpapi.ErrorCase{{Err: errGone, Status: http.StatusNotFound, Code: "gone", Message: "gone"}})
	}
	var got httpapi.Principal
	calls := 0
	serve := func(fail bool) httpapi.ScopedHandlerFunc {
		return func(_ context.Context, _ httpapi.Request, caller httpapi.Principal) (httpapi.Response, error) {
			calls++
			got = caller
			if fail {
				return httpapi.Response{}, fmt.Errorf("lookup: %w", errGone)
			}
			return httpapi.JSON(http.StatusOK, map[string]string{"ok": "yes"}), nil
		}
	}
	tests := []struct {
		name, fixture, scope string
		fail                 bool
		wantStatus           int // 0: served
		wantCode, wantCaller string
		wantCalls            int
	}{
		{"scope granted", "jwt-post.json", "seller", false, 0, "", "seller-0001", 1},
		{"scope missing: not served", "jwt-post.json", "admin", false, 403, httpapi.CodeForbidden, "", 0},
		{"no token: not served", "public-get.json", "seller", false, 401, httpapi.CodeUnauthenticated, "", 0},
		{"public route: no caller", "public-get.json", "", false, 0, "", "", 1},
		{"service error mapped", "jwt-post.json", "seller", true, 404, "gone", "seller-0001", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls, got = 0, httpapi.Principal{}
			_, err := httpapi.Scoped(tt.scope, mapErr, serve(tt.fail))(context.Background(), fixture(t, tt.fixture))
			if calls != tt.wantCalls || got.Subject != tt.wantCaller {
				t.Errorf("served %d times for %q, want %d for %q", calls, got.Subject, tt.wantCalls, tt.wantCaller)
			}
			if tt.wantStatus == 0 {
				if err != nil {
					t.Errorf("err = %v, want nil", err)
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
