package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/etalase/etalase/shared/contract"
	"github.com/etalase/etalase/shared/platform/envconfig"
)

// fakeSSM serves GetParameters (AWS JSON 1.1) from a map, as SSM answers it.
func fakeSSM(t *testing.T, params map[string]string) (*httptest.Server, *[]string) {
	t.Helper()
	var asked []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
		asked = append(asked, in.Names...)
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
	return srv, &asked
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
	if len(*asked) != 1 || (*asked)[0] != keyParam {
		t.Errorf("SSM was asked for %v, want exactly [%s]", *asked, keyParam)
	}

	missing := cfg
	missing.HandoffPublicKeyParameter = "/nowhere"
	if _, err := setupFrom(missing); err == nil || !strings.Contains(err.Error(), "/nowhere") {
		t.Errorf("a missing key parameter: err = %v, want it named", err)
	}
	bad := cfg
	bad.HandoffPublicKeyParameter = "/bad"
	if _, err := setupFrom(bad); err == nil {
		t.Error("a parameter that holds no key was accepted")
	}

	if err := envconfig.LoadFrom(func(string) (string, bool) { return "", false }, &cfg); err == nil ||
		!strings.Contains(err.Error(), "CART_TABLE") || !strings.Contains(err.Error(), "CATALOG_TABLE") ||
		!strings.Contains(err.Error(), "HANDOFF_PUBLIC_KEY_PARAMETER") {
		t.Errorf("missing variables: err = %v, want each named", err)
	}
}

// Without its configuration the function fails at init, non-zero, with one JSON log line.
func TestInitFailsWithoutConfig(t *testing.T) {
	if os.Getenv("CART_INIT_CHILD") == "1" {
		main()
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestInitFailsWithoutConfig$")
	cmd.Env = []string{"CART_INIT_CHILD=1", "AWS_REGION=ap-southeast-3", "CART_TABLE=carts", "CATALOG_TABLE=cat"}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if exit, ok := err.(*exec.ExitError); !ok || exit.ExitCode() == 0 {
		t.Fatalf("err = %v, want a non-zero exit", err)
	}
	var line struct {
		Level    string `json:"level"`
		Error    string `json:"error"`
		Function string `json:"function"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(stderr.Bytes()), &line); err != nil {
		t.Fatalf("stderr is not one JSON line: %q", stderr.String())
	}
	if line.Level != "ERROR" || line.Function != "commerce-cart" || !strings.Contains(line.Error, "HANDOFF_PUBLIC_KEY_PARAMETER is required") {
		t.Errorf("log = %+v", line)
	}
}
