package main

import (
	"strings"
	"testing"

	"github.com/etalase/etalase/infra/testenv"
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
	testenv.InitFails(t, main, []string{"AWS_REGION=ap-southeast-3"}, "commerce-payments", "ORDERS_TABLE is required")
}
