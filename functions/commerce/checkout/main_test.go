package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/etalase/etalase/infra/testenv"
	"github.com/etalase/etalase/shared/platform/envconfig"
	"github.com/etalase/etalase/shared/platform/httpapi"
)

// fakeSSM serves GetParameters (AWS JSON 1.1) from a map, as SSM answers it.
// It may be asked from background reads: asked returns what it was asked so far.
func fakeSSM(t *testing.T, params map[string]string) (*httptest.Server, func() []string) {
	t.Helper()
	var mu sync.Mutex
	var names []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Amz-Target") != "AmazonSSM.GetParameters" {
			http.Error(w, "unexpected "+r.Header.Get("X-Amz-Target"), http.StatusBadRequest)
			return
		}
		body, _ := io.ReadAll(r.Body)
		var in struct{ Names []string }
		if err := json.Unmarshal(body, &in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		names = append(names, in.Names...)
		mu.Unlock()
		out := struct {
			Parameters        []map[string]any
			InvalidParameters []string
		}{Parameters: []map[string]any{}, InvalidParameters: []string{}}
		for _, n := range in.Names {
			if v, ok := params[n]; ok {
				out.Parameters = append(out.Parameters, map[string]any{"Name": n, "Type": "SecureString", "Value": v, "Version": 1})
			} else {
				out.InvalidParameters = append(out.InvalidParameters, n)
			}
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_ = json.NewEncoder(w).Encode(out)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(names)
	}
}

const (
	midtransParam = "/etalase/commerce/midtrans-server-key"
	xenditParam   = "/etalase/commerce/xendit-secret-key"
)

func TestConfigAndSetup(t *testing.T) {
	srv, asked := fakeSSM(t, map[string]string{midtransParam: "SB-Mid-server-x", xenditParam: "xnd_development_x"})
	env := map[string]string{
		"ORDERS_TABLE": "orders", "CATALOG_TABLE": "cat", "CART_TABLE": "carts", "LEDGER_TABLE": "ledger",
		"OUTBOX_TABLE": "outbox", "IDEMPOTENCY_TABLE": "idem",
		"PAYMENT_WINDOW_SECONDS": "900", "MIDTRANS_SERVER_KEY_PARAMETER": midtransParam, "XENDIT_SECRET_KEY_PARAMETER": xenditParam,
		"MIDTRANS_SNAP_BASE_URL": "https://app.sandbox.midtrans.com", "XENDIT_BASE_URL": "https://api.xendit.co",
		"AWS_REGION": "ap-southeast-3", "AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "SK", "AWS_ENDPOINT_URL_SSM": srv.URL,
	}
	var cfg Config
	if err := envconfig.LoadFrom(func(k string) (string, bool) { v, ok := env[k]; return v, ok }, &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.PaymentWindowSeconds != 900 || cfg.IdempotencyTable != "idem" || cfg.XenditBaseURL != "https://api.xendit.co" {
		t.Errorf("cfg = %+v", cfg)
	}
	h, err := setupFrom(cfg)
	if err != nil {
		t.Fatalf("setup with a full config: %v", err)
	}
	inner, err := h.build(context.Background())
	if err != nil {
		t.Fatalf("the checkout handler, once the keys are read: %v", err)
	}
	if !slices.Equal(inner.RouteKeys(), []string{"POST /commerce/v1/checkout", "POST /commerce/v1/orders/{orderId}/payment"}) {
		t.Errorf("routes %v", inner.RouteKeys())
	}
	if _, err := h.build(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(asked(), []string{midtransParam, xenditParam}) {
		t.Errorf("SSM was asked for %v, want exactly the two provider keys, once", asked())
	}

	// A missing key no longer fails the cold start: each request is answered 500, before
	// anything is read or written, until the key can be read.
	missing := cfg
	missing.XenditSecretKeyParameter = "/nowhere"
	h, err = setupFrom(missing)
	if err != nil {
		t.Fatalf("setup with a missing key: %v", err)
	}
	if _, err := h.build(context.Background()); err == nil || !strings.Contains(err.Error(), "/nowhere") {
		t.Errorf("a missing key parameter: err = %v, want it named", err)
	}
	h.log = slog.New(slog.DiscardHandler)
	for _, route := range []string{"POST /commerce/v1/checkout", "POST /commerce/v1/orders/{orderId}/payment"} {
		resp, err := h.Handle(context.Background(), httpapi.Request{RouteKey: route, Body: `{}`})
		if err != nil || resp.StatusCode != 500 {
			t.Errorf("%s without keys: %d, %v; want 500", route, resp.StatusCode, err)
		}
	}
	// The rest of the configuration is still checked at cold start.
	badURL := cfg
	badURL.MidtransSnapBaseURL = "ftp://example.com"
	if _, err := setupFrom(badURL); err == nil {
		t.Error("a provider URL that is not http(s) was accepted")
	}
	zero := cfg
	zero.PaymentWindowSeconds = 0
	if _, err := setupFrom(zero); err == nil {
		t.Error("a zero payment window was accepted")
	}
	if err := envconfig.LoadFrom(func(string) (string, bool) { return "", false }, &cfg); err == nil ||
		!strings.Contains(err.Error(), "IDEMPOTENCY_TABLE") || !strings.Contains(err.Error(), "PAYMENT_WINDOW_SECONDS") {
		t.Errorf("missing variables: err = %v, want each named", err)
	}
}

// Without its configuration the function fails at init, non-zero, with one JSON log line.
func TestInitFailsWithoutConfig(t *testing.T) {
	testenv.InitFails(t, main, []string{"AWS_REGION=ap-southeast-3", "ORDERS_TABLE=orders"}, "commerce-checkout", "CART_TABLE is required")
}
