package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/etalase/etalase/infra/testenv"
	"github.com/etalase/etalase/shared/commerce/ledger"
	"github.com/etalase/etalase/shared/commerce/order"
	"github.com/etalase/etalase/shared/commerce/payment"
	"github.com/etalase/etalase/shared/commerce/paymentevents"
	"github.com/etalase/etalase/shared/commerce/payments"
	"github.com/etalase/etalase/shared/commerce/reconcile"
	"github.com/etalase/etalase/shared/platform/envconfig"
)

// fakeSSM serves GetParameters (AWS JSON 1.1) from a map, as SSM answers it.
func fakeSSM(t *testing.T, params map[string]string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
	return srv
}

func TestConfigAndSetup(t *testing.T) {
	srv := fakeSSM(t, map[string]string{"/mt": "SB-Mid-server-x", "/xd": "xnd_development_x"})
	env := map[string]string{
		"ORDERS_TABLE": "orders", "CATALOG_TABLE": "catalog", "LEDGER_TABLE": "ledger", "OUTBOX_TABLE": "outbox",
		"MIDTRANS_SERVER_KEY_PARAMETER": "/mt", "XENDIT_SECRET_KEY_PARAMETER": "/xd",
		"MIDTRANS_API_BASE_URL": "https://api.sandbox.midtrans.com", "XENDIT_BASE_URL": "https://api.xendit.co",
		"AWS_REGION": "ap-southeast-3", "AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "SK", "AWS_ENDPOINT_URL_SSM": srv.URL,
	}
	var cfg Config
	if err := envconfig.LoadFrom(func(k string) (string, bool) { v, ok := env[k]; return v, ok }, &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.After != 10*time.Minute || cfg.MaxOrders != 25 || cfg.MidtransAPIBaseURL != env["MIDTRANS_API_BASE_URL"] || cfg.XenditSecretKeyParameter != "/xd" {
		t.Errorf("cfg = %+v", cfg)
	}
	h, err := setupFrom(cfg)
	if err != nil {
		t.Fatalf("setup with a full config: %v", err)
	}
	if ps, err := h.providers(context.Background()); err != nil || len(ps) != 2 {
		t.Errorf("providers = %v, %v", ps, err)
	}
	bad := cfg
	bad.MidtransAPIBaseURL = "ftp://example"
	if _, err := setupFrom(bad); err == nil {
		t.Error("a bad API base URL was accepted")
	}
	// A missing secret no longer fails the cold start, only the runs that would ask a
	// provider (TestRunWithoutKeys).
	missing := cfg
	missing.XenditSecretKeyParameter = "/nowhere"
	h, err = setupFrom(missing)
	if err != nil {
		t.Fatalf("setup with a missing secret: %v", err)
	}
	if _, err := h.providers(context.Background()); err == nil || !strings.Contains(err.Error(), "/nowhere") {
		t.Errorf("a missing secret: err = %v, want it named", err)
	}
}

// pendingOrders is an OrderSource of fixed orders.
type pendingOrders []order.Order

func (p pendingOrders) Pending(context.Context, int) ([]order.Order, error) { return p, nil }

type noApplier struct{}

func (noApplier) Apply(context.Context, paymentevents.Event, string) (payments.Result, error) {
	return payments.Result{}, errors.New("not expected")
}

type noLedger struct{}

func (noLedger) Append(context.Context, string, string, any) (ledger.Entry, error) {
	return ledger.Entry{}, errors.New("not expected")
}

// Without readable keys, a run that has orders to ask about asks no provider, changes
// nothing, reads the keys once, and fails; a run with nothing to ask about succeeds
// without reading them.
func TestRunWithoutKeys(t *testing.T) {
	var reads atomic.Int32
	h := &handler{providers: func(context.Context) (map[string]payment.StatusChecker, error) {
		reads.Add(1)
		return nil, errors.New("ssm parameters not found: /xd")
	}}
	run := func(orders pendingOrders) (reconcile.Summary, error) {
		r, err := reconcile.New(reconcile.Config{
			Orders: orders, Applier: noApplier{}, Ledger: noLedger{}, After: time.Minute,
			Providers: map[string]payment.StatusChecker{
				order.ProviderMidtrans: lazyChecker{h, order.ProviderMidtrans},
				order.ProviderXendit:   lazyChecker{h, order.ProviderXendit},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		h.r = r
		return h.Handle(context.Background(), events.EventBridgeEvent{})
	}
	old := time.Now().Add(-time.Hour)
	due := func(id, provider string) order.Order {
		return order.Order{ID: id, Status: order.StatusPendingPayment, PaymentProvider: provider, CreatedAt: old, Deadline: old}
	}
	s, err := run(pendingOrders{due("o_a", order.ProviderMidtrans), due("o_b", order.ProviderXendit), due("o_c", order.ProviderMidtrans)})
	if err == nil || !strings.Contains(err.Error(), "/xd") {
		t.Errorf("run err = %v, want the keys' failure", err)
	}
	if s.Asked != 3 || s.Failed != 3 || s.Applied != 0 {
		t.Errorf("summary = %+v, want 3 asked, 3 failed", s)
	}
	if reads.Load() != 1 {
		t.Errorf("%d key reads in one run, want 1", reads.Load())
	}
	if s, err := run(nil); err != nil || s.Listed != 0 || reads.Load() != 1 {
		t.Errorf("empty run: %+v, %v, %d reads", s, err, reads.Load())
	}
	if _, err := run(pendingOrders{due("o_d", order.ProviderXendit)}); err == nil || reads.Load() != 2 {
		t.Errorf("next run: err = %v, %d reads; want the keys read again", err, reads.Load())
	}
}

// Without its configuration the function fails at init, non-zero, with one JSON log line.
func TestInitFailsWithoutConfig(t *testing.T) {
	testenv.InitFails(t, main, []string{"AWS_REGION=ap-southeast-3"}, "commerce-reconcile", "MIDTRANS_API_BASE_URL is required")
}
