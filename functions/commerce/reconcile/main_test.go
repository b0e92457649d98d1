package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

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
	if _, err := setupFrom(cfg); err != nil {
		t.Errorf("setup with a full config: %v", err)
	}
	bad := cfg
	bad.MidtransAPIBaseURL = "ftp://example"
	if _, err := setupFrom(bad); err == nil {
		t.Error("a bad API base URL was accepted")
	}
	missing := cfg
	missing.XenditSecretKeyParameter = "/nowhere"
	if _, err := setupFrom(missing); err == nil || !strings.Contains(err.Error(), "/nowhere") {
		t.Errorf("a missing secret: err = %v", err)
	}
}

// Without its configuration the function fails at init, non-zero, with one JSON log line.
func TestInitFailsWithoutConfig(t *testing.T) {
	if os.Getenv("RECONCILE_INIT_CHILD") == "1" {
		main()
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestInitFailsWithoutConfig$")
	cmd.Env = []string{"RECONCILE_INIT_CHILD=1", "AWS_REGION=ap-southeast-3"}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if exit, ok := err.(*exec.ExitError); !ok || exit.ExitCode() == 0 {
		t.Fatalf("err = %v, want a non-zero exit", err)
	}
	var line struct{ Level, Function, Error string }
	if err := json.Unmarshal(bytes.TrimSpace(stderr.Bytes()), &line); err != nil {
		t.Fatalf("stderr is not one JSON line: %q", stderr.String())
	}
	if line.Level != "ERROR" || line.Function != "commerce-reconcile" || !strings.Contains(line.Error, "MIDTRANS_API_BASE_URL is required") {
		t.Errorf("log = %+v", line)
	}
}
