package bench

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/etalase/etalase/infra/localaccount"
	"github.com/etalase/etalase/infra/localrun"
	"github.com/etalase/etalase/infra/localrun/gateway"
	"github.com/etalase/etalase/infra/localrun/invoke"
	"github.com/etalase/etalase/infra/localrun/lambda"
)

func samples(firstMs ...float64) []ColdSample {
	out := make([]ColdSample, len(firstMs))
	for i, f := range firstMs {
		d := Duration(time.Duration(f * float64(time.Millisecond)))
		out[i] = ColdSample{Init: d / 2, FirstResponse: d, Handler: d / 4, Warm: d / 8, MaxMemoryMB: 10, Outcome: "ok"}
	}
	return out
}

func TestSummarizeVerdicts(t *testing.T) {
	results := []*ColdResult{
		{Name: "fast", Role: RoleFunction, Samples: samples(12, 14, 13)},         // 1.3×
		{Name: HelloName, Role: RoleBaseline, Samples: samples(10, 11, 9)},       // median 10
		{Name: "edge", Role: RoleFunction, Samples: samples(15, 15, 15)},         // exactly 1.5×
		{Name: "slow", Role: RoleFunction, Samples: samples(30, 20, 25)},         // 2.5×
		{Name: "broken", Role: RoleFunction, Error: "init failed"},               // no samples
		{Name: "sdk-default", Role: RoleReference, Samples: samples(40, 40, 40)}, // no verdict
	}
	summarize(results)
	want := map[string]struct {
		verdict string
		ratio   float64
	}{
		"fast": {"PASS", 1.3}, HelloName: {"", 1}, "edge": {"PASS", 1.5}, "slow": {"MISS", 2.5},
		"broken": {"ERROR", math.NaN()}, "sdk-default": {"", 4},
	}
	for _, r := range results {
		w := want[r.Name]
		if r.Verdict != w.verdict {
			t.Errorf("%s: verdict %q, want %q", r.Name, r.Verdict, w.verdict)
		}
		got := float64(r.FirstResponseRatio)
		if math.IsNaN(w.ratio) != math.IsNaN(got) || (!math.IsNaN(got) && math.Abs(got-w.ratio) > 1e-9) {
			t.Errorf("%s: ratio %v, want %v", r.Name, got, w.ratio)
		}
	}
	slow := results[3]
	if slow.FirstResponse.Median != 25 || slow.Init.Median != 12.5 || slow.Warm.Median != 3.125 {
		t.Errorf("slow summaries = %+v / %+v / %+v", slow.FirstResponse, slow.Init, slow.Warm)
	}
	// Paired: 30/10, 20/11, 25/9 → median 2.77…
	if got := float64(slow.PairedRatio); math.Abs(got-25.0/9) > 1e-9 {
		t.Errorf("paired ratio %v, want %v", got, 25.0/9)
	}
	if _, err := json.Marshal(results); err != nil {
		t.Errorf("results do not marshal (NaN?): %v", err)
	}
}

func TestClassify(t *testing.T) {
	ok := lambda.Result{Duration: time.Millisecond, InitDuration: time.Millisecond}
	tests := []struct {
		name    string
		res     lambda.Result
		err     error
		want    string
		wantErr bool
	}{
		{"http response", withPayload(ok, `{"statusCode":404,"body":"{}"}`), nil, "HTTP 404", false},
		{"batch response", withPayload(ok, `{"batchItemFailures":[{"itemIdentifier":"1"}]}`), nil, "1 batch item failures", false},
		{"plain response", withPayload(ok, `{"message":"hello"}`), nil, "ok", false},
		{"handler error is a response", ok, &invoke.FunctionError{Type: "errorString", Message: "boom"}, "function error: errorString", false},
		{"init failure", lambda.Result{InitDuration: time.Millisecond}, &invoke.FunctionError{Type: "Runtime.ExitError"}, "", true},
		{"crash", ok, &invoke.FunctionError{Type: "Runtime.ExitError"}, "", true},
		{"timeout", ok, &invoke.FunctionError{Type: "Sandbox.Timedout"}, "", true},
		{"runner error", ok, errors.New("pool closed"), "", true},
	}
	for _, tt := range tests {
		got, err := classify(tt.res, tt.err)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("%s: classify = %q, %v; want %q, error %v", tt.name, got, err, tt.want, tt.wantErr)
		}
	}
}

func withPayload(r lambda.Result, p string) lambda.Result {
	r.Payload = []byte(p)
	return r
}

func TestPickFixture(t *testing.T) {
	for _, tt := range []struct {
		files []string
		want  string
	}{
		{[]string{"create-product.json", "get-product.json", "list-seller-products.json"}, "get-product.json"},
		{[]string{"create.json", "list-b.json", "list-a.json"}, "list-a.json"},
		{[]string{"z.json", "b.json", "notes.txt"}, "b.json"},
		{[]string{"get-x.json", BenchFixture}, BenchFixture},
		{[]string{"malformed.json", "product-listed.json", "sales-out-of-order-duplicate.json"}, "product-listed.json"},
		{[]string{"get-invalid-token.json", "get-cart.json"}, "get-cart.json"},
		{[]string{"malformed.json"}, "malformed.json"},
		{[]string{"midtrans-amount-mismatch.json", "midtrans-bad-signature.json", "midtrans-pending.json", "xendit-no-token.json"}, "midtrans-pending.json"},
		{[]string{"checkout-midtrans.json", "checkout-without-key.json"}, "checkout-midtrans.json"},
		{[]string{"readme.md"}, ""},
		{nil, ""},
	} {
		dir := t.TempDir()
		for _, f := range tt.files {
			if err := os.WriteFile(filepath.Join(dir, f), []byte("{}"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if got := pickFixture(dir); got != tt.want {
			t.Errorf("pickFixture(%v) = %q, want %q", tt.files, got, tt.want)
		}
	}
	if got := pickFixture(filepath.Join(t.TempDir(), "missing")); got != "" {
		t.Errorf("missing folder: %q", got)
	}
}

func TestHTTPEvent(t *testing.T) {
	rt := gateway.Route{Method: "PATCH", Path: "/commerce/v1/carts/{cartId}/items/{proxy+}",
		Authorizer: &gateway.Authorizer{Name: "CommerceJwt"}, Scopes: []string{"buyer", "seller"}}
	ev := httpEvent(rt, localaccount.Commerce)
	if ev.RawPath != "/commerce/v1/carts/bench/items/bench" || ev.RequestContext.HTTP.Method != "PATCH" {
		t.Errorf("path %q method %q", ev.RawPath, ev.RequestContext.HTTP.Method)
	}
	if ev.PathParameters["cartId"] != "bench" || ev.PathParameters["proxy"] != "bench" {
		t.Errorf("path parameters %v", ev.PathParameters)
	}
	if ev.RouteKey != "PATCH /commerce/v1/carts/{cartId}/items/{proxy+}" || ev.RequestContext.AccountID != localaccount.Commerce.ID {
		t.Errorf("route key %q account %q", ev.RouteKey, ev.RequestContext.AccountID)
	}
	jwt := ev.RequestContext.Authorizer.JWT
	if jwt.Claims["sub"] == "" || jwt.Claims["scope"] != "buyer seller" || len(jwt.Scopes) != 2 {
		t.Errorf("authorizer %+v", jwt)
	}
	open := httpEvent(gateway.Route{Method: "GET", Path: "/social/v1/feed"}, localaccount.Social)
	if open.RequestContext.Authorizer != nil || open.PathParameters != nil {
		t.Errorf("open route: authorizer %+v, parameters %v", open.RequestContext.Authorizer, open.PathParameters)
	}
	// It decodes as the API Gateway event a handler reads.
	raw, _ := json.Marshal(ev)
	var back events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &back); err != nil || back.Version != "2.0" {
		t.Errorf("round trip: %v, version %q", err, back.Version)
	}
}

func TestMinimalEvents(t *testing.T) {
	sq := sqsEvent("arn:aws:sqs:ap-southeast-3:222222222222:x-payments.fifo", localaccount.Commerce)
	if len(sq.Records) != 1 || sq.Records[0].Attributes["MessageGroupId"] == "" || sq.Records[0].EventSource != "aws:sqs" {
		t.Errorf("fifo sqs event %+v", sq)
	}
	if std := sqsEvent("", localaccount.Social); !strings.Contains(std.Records[0].EventSourceARN, localaccount.Social.ID) ||
		std.Records[0].Attributes["MessageGroupId"] != "" {
		t.Errorf("standard sqs event %+v", std)
	}
	st := streamEvent("arn:stream")
	raw, err := json.Marshal(st)
	if err != nil || !strings.Contains(string(raw), `"eventName":"INSERT"`) || !strings.Contains(string(raw), `"NewImage":{"eventId":{"S":"bench"}}`) {
		t.Errorf("stream event %s (%v)", raw, err)
	}
}

func TestOrdered(t *testing.T) {
	got := ordered([]*ColdResult{{Name: "ref", Role: RoleReference}, {Name: "b", Role: RoleFunction},
		{Name: HelloName, Role: RoleBaseline}, {Name: "a", Role: RoleFunction}})
	var names []string
	for _, r := range got {
		names = append(names, r.Name)
	}
	if strings.Join(names, ",") != HelloName+",b,a,ref" {
		t.Errorf("order %v", names)
	}
}

// The Lambda build flags are the Makefile's LAMBDA_BUILD, and the host flags the
// runner's: the sizes and the cold starts are of what is deployed and what runs.
func TestBuildFlagsMatchMakefile(t *testing.T) {
	mk, err := os.ReadFile(filepath.Join("..", "..", "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^LAMBDA_BUILD\s*=\s*(.*)$`).FindStringSubmatch(string(mk))
	if m == nil {
		t.Fatal("no LAMBDA_BUILD in the Makefile")
	}
	line := strings.ReplaceAll(m[1], "'", "")
	for _, want := range []string{"CGO_ENABLED=0", "GOOS=" + LambdaGOOS, "GOARCH=" + LambdaGOARCH, "-tags lambda.norpc", "-trimpath", "-ldflags=-s -w"} {
		if !strings.Contains(line, want) {
			t.Errorf("LAMBDA_BUILD %q lacks %q", m[1], want)
		}
	}
	flags := strings.Join(LambdaBuildFlags, " ")
	for _, want := range []string{"-tags lambda.norpc", "-trimpath", "-ldflags=-s -w"} {
		if !strings.Contains(flags, want) {
			t.Errorf("LambdaBuildFlags %q lack %q", flags, want)
		}
	}
	if host := strings.Join(hostFlags(), " "); host != strings.Join(localrun.BuildFlags, " ") {
		t.Errorf("host flags %q are not the runner's %q", host, localrun.BuildFlags)
	}
}

func TestImportChain(t *testing.T) {
	g := importGraph{
		"main":     {"fmt", "catalog"},
		"catalog":  {"contract", "dynamodb"},
		"contract": {"jsonschema"},
		"dynamodb": {"schemas"},
	}
	if got := strings.Join(g.chain("main", "jsonschema"), " "); got != "main catalog contract jsonschema" {
		t.Errorf("chain = %q", got)
	}
	if g.chain("dynamodb", "jsonschema") != nil {
		t.Error("found a chain that does not exist")
	}
	if got := shortChain([]string{"github.com/etalase/etalase/functions/x", "github.com/etalase/etalase/shared/contract", "github.com/santhosh-tekuri/jsonschema/v6"}); got != "functions/x → shared/contract" {
		t.Errorf("shortChain = %q", got)
	}
}
