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

func TestInitFailsWithoutConfig(t *testing.T) {
	if os.Getenv("INBOX_INIT_CHILD") == "1" {
		main()
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestInitFailsWithoutConfig$")
	cmd.Env = []string{"INBOX_INIT_CHILD=1", "AWS_REGION=ap-southeast-3"}
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
	if line.Level != "ERROR" || line.Function != "social-inbox" || !strings.Contains(line.Error, "PROMOTIONS_TABLE is required") {
		t.Errorf("log = %+v", line)
	}
}
