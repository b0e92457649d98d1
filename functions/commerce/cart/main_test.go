package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/etalase/etalase/infra/testenv"
	"github.com/etalase/etalase/shared/contract"
	"github.com/etalase/etalase/shared/platform/envconfig"
	"github.com/etalase/etalase/shared/platform/secrets"
)

// fakeSSM serves GetParameters (AWS JSON 1.1) from a map, as SSM answers it.
// It may be asked from background reads: asked returns what it was asked so far.
func fakeSSM(t *testing.T, params map[string]string) (srv *httptest.Server, asked func() []string) {
	t.Helper()
	var mu sync.Mutex
	var names []string
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Amz-Target") != "AmazonSSM.GetParameters" {
			http.Error(w, "unexpected "+r.Header.Get("X-Amz-Target"), http.StatusBadRequest)
			return
		}
		body, _ := io.ReadAll(r.Body)
		var in struct {
			Names          []string
			WithDecryption bool
		}
		if err := json.Unmarshal(body, &in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		names = append(names, in.Names...)
		out := struct {
			Parameters        []map[string]any
			InvalidParameters []string
		}{Parameters: []map[string]any{}, InvalidParameters: []string{}}
		for _, n := range in.Names {
			if v, ok := params[n]; ok {
				out.Parameters = append(out.Parameters, map[string]any{"Name": n, "Type": "String", "Value": v, "Version": 1})
			} else {
				out.InvalidParameters = append(out.InvalidParameters, n)
			}
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_ = json.NewEncoder(w).Encode(out)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(names)
	}
}

func publicKeyPEM(t *testing.T) string {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b, err := contract.MarshalHandoffPublicKeyPEM(pub)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const keyParam = "/etalase/commerce/handoff-public-key"

func TestConfigAndSetup(t *testing.T) {
	srv, asked := fakeSSM(t, map[string]string{keyParam: publicKeyPEM(t), "/bad": "not a key"})
	env := map[string]string{
		"CART_TABLE": "carts", "CATALOG_TABLE": "cat", "HANDOFF_PUBLIC_KEY_PARAMETER": keyParam,
		"AWS_REGION": "ap-southeast-3", "AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "SK",
		"AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:8000", "AWS_ENDPOINT_URL_SSM": srv.URL,
	}
	var cfg Config
	if err := envconfig.LoadFrom(func(k string) (string, bool) { v, ok := env[k]; return v, ok }, &cfg); err != nil {
		t.Fatal(err)
	}
	want := Config{CartTable: "carts", CatalogTable: "cat", HandoffPublicKeyParameter: keyParam, LogLevel: "INFO"}
	want.Region, want.AccessKeyID, want.SecretAccessKey = "ap-southeast-3", "AK", "SK"
	want.DynamoDBEndpoint, want.SSMEndpoint = "http://127.0.0.1:8000", srv.URL
	if cfg != want {
		t.Errorf("cfg = %+v", cfg)
	}
	if _, err := setupFrom(cfg); err != nil {
		t.Errorf("setup with a full config: %v", err)
	}
	// The key is read only when a token is first redeemed: a missing or bad parameter no
	// longer fails the cold start, only the redemptions (see TestHandoffVerifier).
	missing := cfg
	missing.HandoffPublicKeyParameter = "/nowhere"
	if _, err := setupFrom(missing); err != nil {
		t.Errorf("setup with a missing key parameter: %v", err)
	}
	if len(asked()) != 0 {
		t.Errorf("SSM was asked for %v before any token needed the key", asked())
	}

	if err := envconfig.LoadFrom(func(string) (string, bool) { return "", false }, &cfg); err == nil ||
		!strings.Contains(err.Error(), "CART_TABLE") || !strings.Contains(err.Error(), "CATALOG_TABLE") ||
		!strings.Contains(err.Error(), "HANDOFF_PUBLIC_KEY_PARAMETER") {
		t.Errorf("missing variables: err = %v, want each named", err)
	}
}

// Redeeming a hand-off token reads social's public key once, on first need; a key that
// cannot be read or parsed fails the redemption with an error that is no token problem
// (the cart answers 500), and the next redemption tries again.
func TestHandoffVerifier(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pemKey, err := contract.MarshalHandoffPublicKeyPEM(pub)
	if err != nil {
		t.Fatal(err)
	}
	params := map[string]string{keyParam: string(pemKey), "/bad": "not a key"}
	srv, asked := fakeSSM(t, params)
	client := secrets.NewClient(aws.Config{Region: "ap-southeast-3", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AK", "SK", "")})
	claims := contract.HandoffClaims{PromotionID: "pr_abc", CreatorID: "creator-1", ProductID: "p_rocsknolsez4jj42y44l7ga3ou",
		DisplayedPrice: contract.Price{Amount: 85000, Currency: "IDR"}}
	token, err := contract.SignHandoff(priv, claims, time.Now())
	if err != nil {
		t.Fatal(err)
	}

	v := handoffVerifier(secrets.NewLazy(client, time.Second, keyParam), keyParam)
	for range 3 {
		got, err := v.Verify(token)
		if err != nil || got.ProductID != claims.ProductID {
			t.Fatalf("Verify = %+v, %v", got, err)
		}
	}
	forged := []byte(token)
	if i := len(forged) - 10; forged[i] == 'A' { // a letter of the signature, changed
		forged[i] = 'B'
	} else {
		forged[i] = 'A'
	}
	if _, err := v.Verify(string(forged)); !errors.Is(err, contract.ErrHandoffSignature) {
		t.Errorf("a forged token: err = %v, want ErrHandoffSignature", err)
	}
	if len(asked()) != 1 {
		t.Errorf("SSM was asked %d times (%v), want once", len(asked()), asked())
	}

	tokenErrors := []error{contract.ErrHandoffMalformed, contract.ErrHandoffAlgorithm, contract.ErrHandoffSignature,
		contract.ErrHandoffIssuer, contract.ErrHandoffAudience, contract.ErrHandoffExpired, contract.ErrHandoffNotYetValid, contract.ErrHandoffClaims}
	for _, param := range []string{"/nowhere", "/bad"} {
		v := handoffVerifier(secrets.NewLazy(client, time.Second, param), param)
		_, err := v.Verify(token)
		if err == nil {
			t.Fatalf("%s: the token verified without a key", param)
		}
		for _, te := range tokenErrors {
			if errors.Is(err, te) {
				t.Errorf("%s: err = %v is a token problem (%v), want an internal error", param, err, te)
			}
		}
		if param == "/nowhere" && !errors.Is(err, secrets.ErrNotFound) {
			t.Errorf("%s: err = %v, want ErrNotFound", param, err)
		}
	}
	// The key appears: the next redemption reads it again and succeeds.
	n := len(asked())
	v = handoffVerifier(secrets.NewLazy(client, time.Second, "/later"), "/later")
	if _, err := v.Verify(token); err == nil {
		t.Fatal("verified before the key existed")
	}
	params["/later"] = string(pemKey)
	if _, err := v.Verify(token); err != nil {
		t.Errorf("after the key appeared: %v", err)
	}
	if len(asked()) != n+2 {
		t.Errorf("%d more reads, want 2", len(asked())-n)
	}
}

// Without its configuration the function fails at init, non-zero, with one JSON log line.
func TestInitFailsWithoutConfig(t *testing.T) {
	testenv.InitFails(t, main, []string{"AWS_REGION=ap-southeast-3", "CART_TABLE=carts", "CATALOG_TABLE=cat"}, "commerce-cart", "HANDOFF_PUBLIC_KEY_PARAMETER is required")
}
