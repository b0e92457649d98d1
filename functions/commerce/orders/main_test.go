package main

import (
	"strings"
	"testing"

	"github.com/etalase/etalase/infra/testenv"
	"github.com/etalase/etalase/shared/platform/envconfig"
)

func TestConfigAndSetup(t *testing.T) {
	env := map[string]string{
		"ORDERS_TABLE": "orders", "CATALOG_TABLE": "cat", "LEDGER_TABLE": "ledger", "OUTBOX_TABLE": "outbox",
		"AWS_REGION": "ap-southeast-3", "AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "SK",
		"AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:8000",
	}
	var cfg Config
	if err := envconfig.LoadFrom(func(k string) (string, bool) { v, ok := env[k]; return v, ok }, &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.OrdersTable != "orders" || cfg.CatalogTable != "cat" || cfg.LedgerTable != "ledger" || cfg.OutboxTable != "outbox" || cfg.LogLevel != "INFO" {
		t.Errorf("cfg = %+v", cfg)
	}
	if _, err := setupFrom(cfg); err != nil {
		t.Errorf("setup with a full config: %v", err)
	}
	if err := envconfig.LoadFrom(func(string) (string, bool) { return "", false }, &cfg); err == nil ||
		!strings.Contains(err.Error(), "ORDERS_TABLE") || !strings.Contains(err.Error(), "OUTBOX_TABLE") {
		t.Errorf("missing variables: err = %v, want each named", err)
	}
}

// Without its configuration the function fails at init, non-zero, with one JSON log line.
func TestInitFailsWithoutConfig(t *testing.T) {
	testenv.InitFails(t, main, []string{"AWS_REGION=ap-southeast-3", "ORDERS_TABLE=orders"}, "commerce-orders", "CATALOG_TABLE is required")
}
