package gateway

import (
	"encoding/base64"
	"encoding/json"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"
)

// TestBuildEventMatchesFixture builds the event of one authorized request and compares
// it with testdata/event-jwt.json, written in the shape of aws-lambda-go's testdata
// (apigw-v2-request-jwt-authorizer.json) and the developer guide's format 2.0 example.
func TestBuildEventMatchesFixture(t *testing.T) {
	tbl, err := newTable([]Route{{
		Account: "111111111111", APIID: "CommerceHttpApi", FunctionID: "CommerceCatalogFunction",
		Method: "PUT", Path: "/commerce/v1/products/{productId}/stock",
		Authorizer: &Authorizer{Name: "CommerceJwt", Issuer: "http://127.0.0.1:3000/_local/idp", Audience: []string{"etalase"}},
		Scopes:     []string{"seller"}, Invoker: nopInvoker,
	}})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("PUT", "http://127.0.0.1:3000/commerce/v1/products/p-1/stock?warehouse=jkt&tag=a&tag=b", strings.NewReader(`{"stock":5}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "curl/8.5.0")
	req.Header.Set("Authorization", "Bearer test-token")
	req.Header.Add("X-Custom", "one")
	req.Header.Add("X-Custom", "two")
	req.Header.Add("Cookie", "a=1; b=2")
	req.Header.Add("Cookie", "c=3")
	rt, params := tbl.find(req.Method, req.URL.EscapedPath())
	if rt == nil {
		t.Fatal("no route")
	}
	claims := claimStrings(map[string]any{
		"iss":            "http://127.0.0.1:3000/_local/idp",
		"aud":            "etalase",
		"sub":            "seller-1",
		"scope":          "seller buyer",
		"exp":            json.Number("1584043438"),
		"cognito:groups": []any{"sellers", "beta"},
		"email_verified": true,
	})
	ev := buildEvent(req, eventInput{
		route: rt, params: params, body: []byte(`{"stock":5}`),
		requestID: "Mc7UVioPPHcEKPA=", traceID: "Root=1-5e6a879e-1de4d666d4dd26aced652b6c",
		now:    time.Date(2020, 3, 12, 19, 3, 58, 390e6, time.UTC),
		claims: claims, scopes: []string{"seller"},
	})
	got, err := marshalEvent(ev)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("testdata/event-jwt.json")
	if err != nil {
		t.Fatal(err)
	}
	// The wire form, key by key (this is what a function receives)...
	var gotMap, wantMap map[string]any
	if err := json.Unmarshal(got, &gotMap); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(want, &wantMap); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(wantMap, gotMap); d != "" {
		t.Errorf("event JSON (-fixture +built):\n%s", d)
	}
	// ...and through aws-lambda-go's own type, as a Go function decodes it.
	var decoded events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(want, &decoded); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(decoded, ev); d != "" {
		t.Errorf("decoded fixture (-fixture +built):\n%s", d)
	}
}

func TestIsText(t *testing.T) {
	tests := []struct {
		contentType string
		want        bool
	}{
		{"", true},
		{"text/plain", true},
		{"text/html; charset=utf-8", true},
		{"application/json", true},
		{"Application/JSON; charset=UTF-8", true},
		{"application/xml", true},
		{"application/x-www-form-urlencoded", true},
		{"image/png", false},
		{"application/octet-stream", false},
		{"multipart/form-data; boundary=x", false},
		{"application/pdf", false},
	}
	for _, tt := range tests {
		if got := isText(tt.contentType); got != tt.want {
			t.Errorf("isText(%q) = %v, want %v", tt.contentType, got, tt.want)
		}
	}
}

func TestBuildEventBodyAndQuery(t *testing.T) {
	rt := &route{Route: Route{Account: "222222222222", APIID: "SocialHttpApi"}, key: DefaultRouteKey, isDefault: true}
	png := []byte{0x89, 'P', 'N', 'G', 0, 1, 2}
	tests := []struct {
		name        string
		target      string
		contentType string
		body        []byte
		wantBody    string
		wantB64     bool
		wantQuery   map[string]string
	}{
		{"json", "/x", "application/json", []byte(`{"a":1}`), `{"a":1}`, false, nil},
		{"form", "/x?q=1", "application/x-www-form-urlencoded", []byte("a=1&b=2"), "a=1&b=2", false, map[string]string{"q": "1"}},
		{"no content type", "/x", "", []byte("plain"), "plain", false, nil},
		{"binary", "/x", "image/png", png, base64.StdEncoding.EncodeToString(png), true, nil},
		{"empty binary", "/x", "image/png", nil, "", false, nil},
		{"repeated and encoded query", "/x?a=1&a=2&b=x%20y&c", "", nil, "", false, map[string]string{"a": "1,2", "b": "x y", "c": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", tt.target, strings.NewReader(string(tt.body)))
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			ev := buildEvent(req, eventInput{route: rt, body: tt.body, now: time.Unix(0, 0)})
			if ev.Body != tt.wantBody || ev.IsBase64Encoded != tt.wantB64 {
				t.Errorf("body = %q (base64 %v), want %q (base64 %v)", ev.Body, ev.IsBase64Encoded, tt.wantBody, tt.wantB64)
			}
			if d := cmp.Diff(tt.wantQuery, ev.QueryStringParameters); d != "" {
				t.Errorf("query (-want +got):\n%s", d)
			}
			if ev.RouteKey != DefaultRouteKey || ev.RequestContext.AccountID != "222222222222" || ev.RequestContext.Authorizer != nil {
				t.Errorf("routeKey %q account %q authorizer %v", ev.RouteKey, ev.RequestContext.AccountID, ev.RequestContext.Authorizer)
			}
		})
	}
}

func TestClaimStrings(t *testing.T) {
	got := claimStrings(map[string]any{
		"s": "x", "n": json.Number("1700000000"), "f": json.Number("1.5"), "b": false,
		"l": []any{"a", json.Number("2")}, "m": map[string]any{"z": "1", "a": true}, "null": nil,
	})
	want := map[string]string{"s": "x", "n": "1700000000", "f": "1.5", "b": "false", "l": "[a 2]", "m": "map[a:true z:1]"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("claimStrings (-want +got):\n%s", d)
	}
}
