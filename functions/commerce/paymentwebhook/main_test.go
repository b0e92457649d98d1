package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/etalase/etalase/infra/testenv"
	"github.com/etalase/etalase/shared/platform/envconfig"
	"github.com/etalase/etalase/shared/platform/httpapi"
)

// fakeSSM serves GetParameters (AWS JSON 1.1) from a map, as SSM answers it, and
// counts the calls.
func fakeSSM(t *testing.T, params map[string]string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Amz-Target") != "AmazonSSM.GetParameters" {
			http.Error(w, "unexpected "+r.Header.Get("X-Amz-Target"), http.StatusBadRequest)
			return
		}
		calls.Add(1)
		body, _ := io.ReadAll(r.Body)
		var in struct{ Names []string }
		if err := json.Unmarshal(body, &in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		out := map[string]any{"Parameters": []map[string]any{}, "InvalidParameters": []string{}}
		for _, n := range in.Names {
			if v, ok := params[n]; ok {
				out["Parameters"] = append(out["Parameters"].([]map[string]any), map[string]any{"Name": n, "Type": "SecureString", "Value": v, "Version": 1})
			} else {
				out["InvalidParameters"] = append(out["InvalidParameters"].([]string), n)
			}
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_ = json.NewEncoder(w).Encode(out)
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

const (
	serverKeyParam = "/etalase/commerce/midtrans-server-key"
	tokenParam     = "/etalase/commerce/xendit-callback-token"
)

func TestConfigAndSetup(t *testing.T) {
	srv, calls := fakeSSM(t, map[string]string{serverKeyParam: "SB-Mid-server-x", tokenParam: "tok"})
	env := map[string]string{
		"ORDERS_TABLE": "orders", "LEDGER_TABLE": "ledger", "PAYMENT_EVENTS_TABLE": "events",
		"PAYMENT_EVENTS_QUEUE_URL":      "https://sqs.ap-southeast-3.amazonaws.com/222222222222/etalase-commerce-payment-events.fifo",
		"MIDTRANS_SERVER_KEY_PARAMETER": serverKeyParam, "XENDIT_CALLBACK_TOKEN_PARAMETER": tokenParam,
		"AWS_REGION": "ap-southeast-3", "AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "SK", "AWS_ENDPOINT_URL_SSM": srv.URL,
	}
	var cfg Config
	if err := envconfig.LoadFrom(func(k string) (string, bool) { v, ok := env[k]; return v, ok }, &cfg); err != nil {
		t.Fatal(err)
	}
	want := Config{OrdersTable: "orders", LedgerTable: "ledger", PaymentEventsTable: "events",
		PaymentEventsQueueURL: env["PAYMENT_EVENTS_QUEUE_URL"], MidtransServerKeyParameter: serverKeyParam,
		XenditCallbackTokenParameter: tokenParam, LogLevel: "INFO"}
	want.Region, want.AccessKeyID, want.SecretAccessKey, want.SSMEndpoint = "ap-southeast-3", "AK", "SK", srv.URL
	if cfg != want {
		t.Errorf("cfg = %+v", cfg)
	}
	h, err := setupFrom(cfg)
	if err != nil {
		t.Fatalf("setup with a full config: %v", err)
	}
	inner, err := h.build(context.Background())
	if err != nil {
		t.Fatalf("the webhook handler, once the secrets are read: %v", err)
	}
	if keys := inner.RouteKeys(); len(keys) != 2 || calls.Load() != 1 {
		t.Errorf("routes %v, SSM calls %d (want both secrets in one call)", keys, calls.Load())
	}
	if _, err := h.build(context.Background()); err != nil || calls.Load() != 1 {
		t.Errorf("second build: %v, SSM calls %d (want the secrets kept)", err, calls.Load())
	}

	// A missing secret no longer fails the cold start: each notification is answered
	// 500, before anything is read or stored, until the secret can be read.
	missing := cfg
	missing.XenditCallbackTokenParameter = "/nowhere"
	h, err = setupFrom(missing)
	if err != nil {
		t.Fatalf("setup with a missing secret: %v", err)
	}
	if _, err := h.build(context.Background()); err == nil || !strings.Contains(err.Error(), "/nowhere") {
		t.Errorf("a missing secret: err = %v, want it named", err)
	}
	h.log = slog.New(slog.DiscardHandler)
	for _, route := range []string{"POST /commerce/v1/webhooks/midtrans", "POST /commerce/v1/webhooks/xendit"} {
		resp, err := h.Handle(context.Background(), httpapi.Request{RouteKey: route, Body: `{}`})
		if err != nil || resp.StatusCode != 500 {
			t.Errorf("%s without secrets: %d, %v; want 500", route, resp.StatusCode, err)
		}
	}
	if err := envconfig.LoadFrom(func(string) (string, bool) { return "", false }, &cfg); err == nil ||
		!strings.Contains(err.Error(), "PAYMENT_EVENTS_QUEUE_URL") || !strings.Contains(err.Error(), "MIDTRANS_SERVER_KEY_PARAMETER") {
		t.Errorf("missing variables: err = %v", err)
	}
}

// Without its configuration the function fails at init, non-zero, with one JSON log line.
func TestInitFailsWithoutConfig(t *testing.T) {
	testenv.InitFails(t, main, []string{"AWS_REGION=ap-southeast-3", "ORDERS_TABLE=o"}, "commerce-paymentwebhook", "PAYMENT_EVENTS_TABLE is required")
}
