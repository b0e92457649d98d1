package httpapi_test

import (
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
