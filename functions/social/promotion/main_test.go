package main

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/etalase/etalase/infra/localaccount"
	"github.com/etalase/etalase/infra/localrun/ssm"
	"github.com/etalase/etalase/shared/contract"
	"github.com/etalase/etalase/shared/platform/envconfig"
)

func keyPEM(t *testing.T) []byte {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	pem, err := contract.MarshalHandoffPrivateKeyPEM(priv)
	if err != nil {
		t.Fatal(err)
	}
	return pem
}

func TestConfig(t *testing.T) {
	env := map[string]string{
		"PROMOTIONS_TABLE": "p", "SNAPSHOTS_TABLE": "s", "COMMISSIONS_TABLE": "c",
		"HANDOFF_PRIVATE_KEY_PARAMETER": "/etalase/social/handoff-private-key",
		"AWS_REGION":                    "ap-southeast-3", "AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "SK",
	}
	var cfg Config
	if err := envconfig.LoadFrom(func(k string) (string, bool) { v, ok := env[k]; return v, ok }, &cfg); err != nil {
		t.Fatal(err)
	}
	want := Config{PromotionsTable: "p", SnapshotsTable: "s", CommissionsTable: "c",
		HandoffPrivateKeyParameter: "/etalase/social/handoff-private-key", LogLevel: "INFO"}
	want.Region, want.AccessKeyID, want.SecretAccessKey = "ap-southeast-3", "AK", "SK"
	if cfg != want {
		t.Errorf("cfg = %+v", cfg)
	}
	if _, err := setupFrom(cfg, keyPEM(t)); err != nil {
		t.Errorf("setup with a full config: %v", err)
	}
	if _, err := setupFrom(cfg, []byte("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")); err == nil {
		t.Error("setup accepted a key that is not a private key")
	}
	err := envconfig.LoadFrom(func(string) (string, bool) { return "", false }, &cfg)
	if err == nil || !strings.Contains(err.Error(), "HANDOFF_PRIVATE_KEY_PARAMETER") {
		t.Errorf("missing variables: err = %v", err)
	}
}

// At cold start the function reads its signing key from SSM (here the local emulator,
// with the social account's credentials), by the parameter name in its environment.
func TestSetupReadsTheKeyFromSSM(t *testing.T) {
	srv := ssm.New()
	url, err := srv.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	const name = "/etalase/social/handoff-private-key"
	if _, err := srv.Put(localaccount.Social, name, string(keyPEM(t)), ssm.TypeSecureString); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"PROMOTIONS_TABLE": "p", "SNAPSHOTS_TABLE": "s", "COMMISSIONS_TABLE": "c", "HANDOFF_PRIVATE_KEY_PARAMETER": name,
		"AWS_REGION": localaccount.Region, "AWS_ACCESS_KEY_ID": localaccount.Social.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY": localaccount.Social.SecretAccessKey, "AWS_ENDPOINT_URL_SSM": url,
	} {
		t.Setenv(k, v)
	}
	if _, err := setup(); err != nil {
		t.Fatalf("setup: %v", err)
	}
	// The commerce account's credentials see no social parameter.
	t.Setenv("AWS_ACCESS_KEY_ID", localaccount.Commerce.AccessKeyID)
	if _, err := setup(); err == nil || !strings.Contains(err.Error(), name) {
		t.Errorf("setup with commerce credentials: err = %v, want the parameter not found", err)
	}
}

func TestInitFailsWithoutConfig(t *testing.T) {
	if os.Getenv("PROMOTION_INIT_CHILD") == "1" {
		main()
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestInitFailsWithoutConfig$")
	cmd.Env = []string{"PROMOTION_INIT_CHILD=1", "AWS_REGION=ap-southeast-3"}
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
	if line.Level != "ERROR" || line.Function != "social-promotion" || !strings.Contains(line.Error, "HANDOFF_PRIVATE_KEY_PARAMETER is required") {
		t.Errorf("log = %+v", line)
	}
}
