package main

import (
	"strings"
	"testing"

	"github.com/etalase/etalase/infra/testenv"
	"github.com/etalase/etalase/shared/platform/envconfig"
)

func TestConfig(t *testing.T) {
	env := map[string]string{
		"PROMOTIONS_TABLE": "p", "SNAPSHOTS_TABLE": "s", "COMMISSIONS_TABLE": "c",
		"AWS_REGION": "ap-southeast-3", "AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "SK", "LOG_LEVEL": "DEBUG",
	}
	var cfg Config
	if err := envconfig.LoadFrom(func(k string) (string, bool) { v, ok := env[k]; return v, ok }, &cfg); err != nil {
		t.Fatal(err)
	}
	want := Config{PromotionsTable: "p", SnapshotsTable: "s", CommissionsTable: "c", LogLevel: "DEBUG"}
	want.Region, want.AccessKeyID, want.SecretAccessKey = "ap-southeast-3", "AK", "SK"
	if cfg != want {
		t.Errorf("cfg = %+v", cfg)
	}
	if _, err := setupFrom(cfg); err != nil {
		t.Errorf("setup with a full config: %v", err)
	}
	err := envconfig.LoadFrom(func(string) (string, bool) { return "", false }, &cfg)
	for _, name := range []string{"PROMOTIONS_TABLE", "SNAPSHOTS_TABLE", "COMMISSIONS_TABLE", "AWS_REGION"} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("missing variables: err = %v, want %s named", err, name)
		}
	}
}

// Without its configuration the function fails at init, non-zero, with one JSON log line.
func TestInitFailsWithoutConfig(t *testing.T) {
	testenv.InitFails(t, main, []string{"AWS_REGION=ap-southeast-3"}, "social-inbox", "PROMOTIONS_TABLE is required")
}
