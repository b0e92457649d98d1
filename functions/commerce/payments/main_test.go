package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/etalase/etalase/shared/platform/envconfig"
)

func TestConfig(t *testing.T) {
	env := map[string]string{
		"ORDERS_TABLE": "orders", "CATALOG_TABLE": "catalog", "LEDGER_TABLE": "ledger", "OUTBOX_TABLE": "outbox",
		"PAYMENT_EVENTS_TABLE": "events", "LOG_LEVEL": "DEBUG",
		"AWS_REGION": "ap-southeast-3", "AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "SK",
		"AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:8000",
	}
	var cfg Config
	if err := envconfig.LoadFrom(func(k string) (string, bool) { v, ok := env[k]; return v, ok }, &cfg); err != nil {
		t.Fatal(err)
	}
	want := Config{OrdersTable: "orders", CatalogTable: "catalog", LedgerTable: "ledger", OutboxTable: "outbox",
		PaymentEventsTable: "events", LogLevel: "DEBUG"}
	want.Region, want.AccessKeyID, want.SecretAccessKey, want.DynamoDBEndpoint = "ap-southeast-3", "AK", "SK", "http://127.0.0.1:8000"
	if cfg != want {
		t.Errorf("cfg = %+v", cfg)
	}
	if _, err := setupFrom(cfg); err != nil {
		t.Errorf("setup with a full config: %v", err)
	}
	if err := envconfig.LoadFrom(func(string) (string, bool) { return "", false }, &cfg); err == nil ||
		!strings.Contains(err.Error(), "OUTBOX_TABLE") || !strings.Contains(err.Error(), "PAYMENT_EVENTS_TABLE") {
		t.Errorf("missing variables: err = %v", err)
	}
}

// Without its configuration the function fails at init, non-zero, with one JSON log line.
func TestInitFailsWithoutConfig(t *testing.T) {
	if os.Getenv("PAYMENTS_INIT_CHILD") == "1" {
		main()
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestInitFailsWithoutConfig$")
	cmd.Env = []string{"PAYMENTS_INIT_CHILD=1", "AWS_REGION=ap-southeast-3"}
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
	if line.Level != "ERROR" || line.Function != "commerce-payments" || !strings.Contains(line.Error, "ORDERS_TABLE is required") {
		t.Errorf("log = %+v", line)
	}
}
