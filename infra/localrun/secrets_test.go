package localrun_test

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/etalase/etalase/infra/localaccount"
	"github.com/etalase/etalase/infra/localrun"
	"github.com/etalase/etalase/infra/localrun/localtest"
	"github.com/etalase/etalase/infra/samtemplate"
	"github.com/etalase/etalase/infra/testenv"
)

// templateParams evaluates a template's parameters (with defaults) for one side.
func templateParams(t *testing.T, path string) map[string]string {
	t.Helper()
	tpl, err := samtemplate.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := tpl.NewContext(map[string]string{
		"Side": "commerce", "PeerAccountId": localaccount.Social.ID, "JwtIssuer": "http://127.0.0.1/idp", "JwtAudience": "etalase",
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c.Params
}

// TestGenerateSecretsForTemplate pins the SSM parameter names of template.yaml, which
// the functions and other engineers code against, and checks the generated values.
func TestGenerateSecretsForTemplate(t *testing.T) {
	params := templateParams(t, filepath.Join("..", "..", "template.yaml"))
	got, err := localrun.GenerateSecrets(params)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string][]string{}
	for side, m := range got {
		names[side] = slices.Sorted(maps.Keys(m))
	}
	want := map[string][]string{
		"social": {"/etalase/social/handoff-private-key"},
		"commerce": {
			"/etalase/commerce/handoff-public-key",
			"/etalase/commerce/midtrans-server-key",
			"/etalase/commerce/xendit-callback-token",
			"/etalase/commerce/xendit-secret-key",
		},
	}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Fatalf("SSM names by side (-want +got):\n%s", diff)
	}
	c := got["commerce"]

	// The private key is PKCS#8 PEM, the public one PKIX PEM, and they are a pair.
	priv, err := localrun.ParseHandoffPrivateKey(got["social"]["/etalase/social/handoff-private-key"])
	if err != nil {
		t.Fatal(err)
	}
	block, rest := pem.Decode([]byte(c["/etalase/commerce/handoff-public-key"]))
	if block == nil || block.Type != "PUBLIC KEY" || len(strings.TrimSpace(string(rest))) != 0 {
		t.Fatalf("public key PEM: %q", c["/etalase/commerce/handoff-public-key"])
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		t.Fatalf("public key is %T, want Ed25519", k)
	}
	msg := []byte("hand-off")
	if !ed25519.Verify(pub, msg, ed25519.Sign(priv, msg)) {
		t.Error("a signature by the social private key does not verify with the commerce public key")
	}
	if block, _ := pem.Decode([]byte(got["social"]["/etalase/social/handoff-private-key"])); block.Type != "PRIVATE KEY" {
		t.Errorf("private key PEM type %q", block.Type)
	}

	for name, prefix := range map[string]string{
		"/etalase/commerce/midtrans-server-key":   "SB-Mid-server-",
		"/etalase/commerce/xendit-secret-key":     "xnd_development_",
		"/etalase/commerce/xendit-callback-token": "",
	} {
		v := c[name]
		if !strings.HasPrefix(v, prefix) || len(v)-len(prefix) < 20 {
			t.Errorf("%s = %q, want %q and at least 20 random characters", name, v, prefix)
		}
	}

	// Fresh every run.
	again, err := localrun.GenerateSecrets(params)
	if err != nil {
		t.Fatal(err)
	}
	for side, m := range got {
		for name, v := range m {
			if again[side][name] == v {
				t.Errorf("%s %s is the same in two runs", side, name)
			}
		}
	}
}

func TestGenerateSecretsNeedsTheTemplateParameters(t *testing.T) {
	params := templateParams(t, filepath.Join("..", "..", "template.yaml"))
	delete(params, localrun.ParamMidtransServerKey)
	params[localrun.ParamXenditSecretKey] = ""
	_, err := localrun.GenerateSecrets(params)
	if err == nil || !strings.Contains(err.Error(), localrun.ParamMidtransServerKey) || !strings.Contains(err.Error(), localrun.ParamXenditSecretKey) {
		t.Errorf("err = %v, want both missing parameters named", err)
	}
	params = templateParams(t, filepath.Join("..", "..", "template.yaml"))
	params[localrun.ParamXenditCallbackToken] = params[localrun.ParamMidtransServerKey]
	if _, err := localrun.GenerateSecrets(params); err == nil {
		t.Error("two secrets under one SSM name were accepted")
	}
}

// TestSecretsThroughRunner: real function processes read their own account's secrets
// from the runner's SSM emulator with the real SDK, under the names the test template
// gives, and cannot read the other account's.
func TestSecretsThroughRunner(t *testing.T) {
	r, logs := startRunner(t)
	hash := func(v string) string {
		sum := sha256.Sum256([]byte(v))
		return hex.EncodeToString(sum[:])
	}
	const (
		privName     = "/runner-test/social/handoff-private-key"
		pubName      = "/runner-test/commerce/handoff-public-key"
		midtransName = "/runner-test/commerce/midtrans"
	)

	t.Run("seeded under the template's names", func(t *testing.T) {
		if len(r.Secrets["social"]) != 1 || r.Secrets["social"][privName] == "" ||
			len(r.Secrets["commerce"]) != 4 || r.Secrets["commerce"][pubName] == "" {
			t.Fatalf("seeded names: social %v, commerce %v", slices.Sorted(maps.Keys(r.Secrets["social"])), slices.Sorted(maps.Keys(r.Secrets["commerce"])))
		}
		key, err := r.Secret(localrun.ParamMidtransServerKey)
		if err != nil || key != r.Secrets["commerce"][midtransName] || !strings.HasPrefix(key, "SB-Mid-server-") {
			t.Errorf("Secret(Midtrans) = %q, %v", key, err)
		}
		priv, err := r.HandoffPrivateKey()
		if err != nil {
			t.Fatal(err)
		}
		pubPEM, err := r.Secret(localrun.ParamHandoffPublicKey)
		if err != nil {
			t.Fatal(err)
		}
		block, _ := pem.Decode([]byte(pubPEM))
		pub, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		if !priv.Public().(ed25519.PublicKey).Equal(pub) {
			t.Error("commerce's public key is not the social private key's")
		}
		if _, err := r.Secret("NoSuchParameter"); err == nil {
			t.Error("Secret of an unknown template parameter succeeded")
		}
		for _, fn := range r.Functions {
			for k, v := range fn.Env {
				for _, secret := range []string{key, r.Secrets["social"][privName]} {
					if strings.Contains(v, secret) {
						t.Errorf("%s has a secret value in its environment (%s)", fn.ID, k)
					}
				}
			}
		}
	})

	t.Run("commerce reads its own, not social's", func(t *testing.T) {
		code, body := get(t, r.URL+"/commerce/secret", "")
		if code != 200 || body["ownError"] != nil {
			t.Fatalf("commerce probe = %d %v", code, body)
		}
		own, _ := body["own"].(map[string]any)
		want := map[string]any{}
		for name, v := range r.Secrets["commerce"] {
			want[name] = hash(v)
		}
		if diff := cmp.Diff(want, own); diff != "" {
			t.Errorf("commerce's values (-want +got):\n%s", diff)
		}
		if body["peerMissing"] != true || !strings.Contains(body["peerError"].(string), privName) {
			t.Errorf("commerce reading social's %s: %v", privName, body)
		}
	})

	t.Run("social reads its own, not commerce's", func(t *testing.T) {
		code, body := get(t, r.URL+"/social/secret", "")
		if code != 200 || body["ownError"] != nil {
			t.Fatalf("social probe = %d %v", code, body)
		}
		if diff := cmp.Diff(map[string]any{privName: hash(r.Secrets["social"][privName])}, body["own"]); diff != "" {
			t.Errorf("social's values (-want +got):\n%s", diff)
		}
		if body["peerMissing"] != true || !strings.Contains(body["peerError"].(string), midtransName) {
			t.Errorf("social reading commerce's %s: %v", midtransName, body)
		}
	})

	t.Run("no secret value in the runner's output", func(t *testing.T) {
		out := logs.String()
		for side, m := range r.Secrets {
			for name, v := range m {
				if strings.Contains(out, v) {
					t.Errorf("the log holds the value of %s %s", side, name)
				}
			}
		}
	})
}

// TestRunnerWithGivenSecrets: Options.Secrets replaces the generated ones, and a side
// that is not an account is refused before anything runs.
func TestRunnerWithGivenSecrets(t *testing.T) {
	root, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	given := map[string]map[string]string{
		"social": {"/runner-test/social/handoff-private-key": "given-private"},
		"commerce": {
			"/runner-test/commerce/handoff-public-key":   "given-public",
			"/runner-test/commerce/midtrans":             "given-midtrans",
			"/runner-test/commerce/xendit":               "given-xendit",
			"/runner-test/commerce/xendit-callback":      "given-callback",
			"/runner-test/commerce/only-in-this-account": "extra",
		},
	}
	r, _ := localtest.StartWith(t, localrun.Options{Root: root, Template: filepath.Join(root, "template.yaml"), Secrets: given})
	if diff := cmp.Diff(given, r.Secrets); diff != "" {
		t.Errorf("r.Secrets (-given +got):\n%s", diff)
	}
	if v, err := r.Secret(localrun.ParamMidtransServerKey); v != "given-midtrans" || err != nil {
		t.Errorf("Secret(Midtrans) = %q, %v", v, err)
	}
	code, body := get(t, r.URL+"/commerce/secret", "")
	sum := sha256.Sum256([]byte("given-midtrans"))
	if own, _ := body["own"].(map[string]any); code != 200 || own["/runner-test/commerce/midtrans"] != hex.EncodeToString(sum[:]) {
		t.Errorf("commerce probe = %d %v", code, body)
	}

	dynamoURL, sqsURL := testenv.Endpoints(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	bad, err := localrun.Start(ctx, localrun.Options{
		Root: root, Template: filepath.Join(root, "template.yaml"), DynamoDBEndpoint: dynamoURL, SQSEndpoint: sqsURL,
		Addr: "127.0.0.1:0", Prefix: testenv.Prefix(t), BinDir: t.TempDir(),
		Secrets: map[string]map[string]string{"payments": {"/x": "y"}},
	})
	if err == nil {
		bad.Close()
		t.Fatal("secrets for an unknown side were accepted")
	}
	if !strings.Contains(err.Error(), `"payments"`) {
		t.Errorf("err = %v, want the side named", err)
	}
}
