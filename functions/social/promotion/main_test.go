package main

import (
	"context"
	"crypto/ed25519"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/golang-jwt/jwt/v5"

	"github.com/etalase/etalase/infra/localaccount"
	"github.com/etalase/etalase/infra/localrun/ssm"
	"github.com/etalase/etalase/infra/testenv"
	"github.com/etalase/etalase/shared/contract"
	"github.com/etalase/etalase/shared/platform/envconfig"
	"github.com/etalase/etalase/shared/platform/httpapi"
	"github.com/etalase/etalase/shared/platform/secrets"
	"github.com/etalase/etalase/shared/social/promotion"
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
	err := envconfig.LoadFrom(func(string) (string, bool) { return "", false }, &cfg)
	if err == nil || !strings.Contains(err.Error(), "HANDOFF_PRIVATE_KEY_PARAMETER") {
		t.Errorf("missing variables: err = %v", err)
	}
}

// The function reads its signing key from SSM (here the local emulator, with the social
// account's credentials), by the parameter name in its environment, when the first
// hand-off needs it. Without a readable key, a hand-off
// is answered 500 before its click is counted, and the next one tries again.
func TestSigningKeyFromSSM(t *testing.T) {
	srv := ssm.New()
	url, err := srv.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	const name = "/etalase/social/handoff-private-key"
	pemKey := keyPEM(t)
	if _, err := srv.Put(localaccount.Social, name, string(pemKey), ssm.TypeSecureString); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Put(localaccount.Social, "/public", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", ssm.TypeString); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"PROMOTIONS_TABLE": "p", "SNAPSHOTS_TABLE": "s", "COMMISSIONS_TABLE": "c", "HANDOFF_PRIVATE_KEY_PARAMETER": name,
		"AWS_REGION": localaccount.Region, "AWS_ACCESS_KEY_ID": localaccount.Social.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY": localaccount.Social.SecretAccessKey, "AWS_ENDPOINT_URL_SSM": url,
	} {
		t.Setenv(k, v)
	}
	h, err := setup()
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
	if err := h.signerReady(context.Background()); err != nil {
		t.Fatalf("signing key: %v", err)
	}

	signer := func(creds localaccount.Account, param string) (promotion.Signer, func(context.Context) error) {
		cfg := aws.Config{Region: localaccount.Region, BaseEndpoint: aws.String(url),
			Credentials: credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, "")}
		return handoffSigner(secrets.NewLazy(secrets.NewClient(cfg), time.Second, param), param)
	}
	sign, ready := signer(localaccount.Social, name)
	if err := ready(context.Background()); err != nil {
		t.Fatal(err)
	}
	claims := contract.HandoffClaims{PromotionID: "pr_abc", CreatorID: "creator-1", ProductID: "p_rocsknolsez4jj42y44l7ga3ou",
		DisplayedPrice: contract.Price{Amount: 85000, Currency: "IDR"}}
	claims.ExpiresAt = jwt.NewNumericDate(time.Now().Add(5 * time.Minute))
	token, err := sign(claims, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	priv, err := contract.ParseHandoffPrivateKeyPEM(pemKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (contract.HandoffVerifier{PublicKey: priv.Public().(ed25519.PublicKey)}).Verify(token); err != nil {
		t.Errorf("the token does not verify with the key's public half: %v", err)
	}

	// The commerce account's credentials see no social parameter; a public key is no
	// signing key.
	for _, c := range []struct {
		creds localaccount.Account
		param string
	}{{localaccount.Commerce, name}, {localaccount.Social, "/public"}} {
		sign, ready := signer(c.creds, c.param)
		if err := ready(context.Background()); err == nil {
			t.Errorf("%s: ready without a signing key", c.param)
		}
		if _, err := sign(claims, time.Now()); err == nil || (c.param == name && !strings.Contains(err.Error(), name)) {
			t.Errorf("%s: sign err = %v, want a failure naming the parameter", c.param, err)
		}
		h := &handler{signerReady: ready, log: slog.New(slog.DiscardHandler)}
		resp, err := h.Handle(context.Background(), httpapi.Request{RouteKey: promotion.RouteHandoff})
		if err != nil || resp.StatusCode != 500 {
			t.Errorf("%s: hand-off = %d, %v; want 500", c.param, resp.StatusCode, err)
		}
	}
}

// Without its configuration the function fails at init, non-zero, with one JSON log line.
func TestInitFailsWithoutConfig(t *testing.T) {
	testenv.InitFails(t, main, []string{"AWS_REGION=ap-southeast-3"}, "social-promotion", "HANDOFF_PRIVATE_KEY_PARAMETER is required")
}
