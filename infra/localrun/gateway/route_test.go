package gateway

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/etalase/etalase/infra/localrun/invoke"
)

var nopInvoker = invoke.Func(func(context.Context, []byte) ([]byte, error) { return []byte(`{}`), nil })

func routesFor(keys ...string) []Route {
	var out []Route
	for _, k := range keys {
		r := Route{FunctionID: "F " + k, Invoker: nopInvoker}
		if k == DefaultRouteKey {
			r.Path = k
		} else {
			r.Method, r.Path, _ = strings.Cut(k, " ")
		}
		out = append(out, r)
	}
	return out
}

func TestMatch(t *testing.T) {
	// The example of "Routing API requests" in the API Gateway developer guide, plus
	// the commerce API's shapes.
	full, err := newTable(routesFor(
		"GET /pets/dog/1",
		"GET /pets/dog/{id}",
		"GET /pets/{proxy+}",
		"ANY /{proxy+}",
		"GET /commerce/v1/products/{productId}",
		"ANY /commerce/v1/products/{productId}",
		"POST /commerce/v1/products",
		"PUT /commerce/v1/products/{productId}/stock",
		"GET /files/{proxy+}",
		"GET /",
		DefaultRouteKey,
	))
	if err != nil {
		t.Fatal(err)
	}
	noDefault, err := newTable(routesFor("GET /commerce/v1/products/{productId}", "GET /files/{proxy+}"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name         string
		table        *table
		method, path string
		wantKey      string // "" = no route
		wantParams   map[string]string
	}{
		{"exact beats variable", full, "GET", "/pets/dog/1", "GET /pets/dog/1", nil},
		{"variable beats greedy", full, "GET", "/pets/dog/2", "GET /pets/dog/{id}", map[string]string{"id": "2"}},
		{"greedy", full, "GET", "/pets/cat/1", "GET /pets/{proxy+}", map[string]string{"proxy": "cat/1"}},
		{"ANY when no route for the method", full, "POST", "/pets/dog/1", "ANY /{proxy+}", map[string]string{"proxy": "pets/dog/1"}},
		{"method beats ANY", full, "GET", "/commerce/v1/products/p-1", "GET /commerce/v1/products/{productId}", map[string]string{"productId": "p-1"}},
		{"ANY on the same path", full, "DELETE", "/commerce/v1/products/p-1", "ANY /commerce/v1/products/{productId}", map[string]string{"productId": "p-1"}},
		{"decoded parameter", full, "GET", "/commerce/v1/products/a%2Fb%20c", "GET /commerce/v1/products/{productId}", map[string]string{"productId": "a/b c"}},
		{"nested", full, "PUT", "/commerce/v1/products/p-1/stock", "PUT /commerce/v1/products/{productId}/stock", map[string]string{"productId": "p-1"}},
		{"root", full, "GET", "/", "GET /", nil},
		{"greedy needs a segment", noDefault, "GET", "/files/", "", nil},
		{"greedy deep", noDefault, "GET", "/files/a/b/c.txt", "GET /files/{proxy+}", map[string]string{"proxy": "a/b/c.txt"}},
		{"ANY greedy before $default", full, "PATCH", "/nothing", "ANY /{proxy+}", map[string]string{"proxy": "nothing"}},
		{"$default catches the rest", full, "POST", "/", DefaultRouteKey, nil},
		{"trailing slash is another path", noDefault, "GET", "/commerce/v1/products/p-1/", "", nil},
		{"wrong method", noDefault, "POST", "/commerce/v1/products/p-1", "", nil},
		{"no route", noDefault, "GET", "/social/v1/feed", "", nil},
		{"case matters", noDefault, "GET", "/Commerce/v1/products/p-1", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, params := tt.table.find(tt.method, tt.path)
			got := ""
			if r != nil {
				got = r.key
			}
			if got != tt.wantKey {
				t.Fatalf("find(%s %s) = %q, want %q", tt.method, tt.path, got, tt.wantKey)
			}
			if d := cmp.Diff(tt.wantParams, params); d != "" {
				t.Errorf("params (-want +got):\n%s", d)
			}
		})
	}

	onlyDefault, err := newTable(routesFor(DefaultRouteKey))
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := onlyDefault.find("GET", "/anything/at/all"); r == nil || r.key != DefaultRouteKey {
		t.Errorf("only $default: got %v", r)
	}
}

func TestRouteTableErrors(t *testing.T) {
	tests := []struct {
		name   string
		routes []Route
		want   string
	}{
		{"duplicate", routesFor("GET /a", "GET /a"), "defined by both"},
		{"two defaults", routesFor(DefaultRouteKey, DefaultRouteKey), "defined by both"},
		{"greedy not last", routesFor("GET /{proxy+}/a"), "greedy"},
		{"no leading slash", routesFor("GET a/b"), "must start with /"},
		{"reserved", routesFor("GET /_local/idp/x"), "reserved"},
		{"bad method", routesFor("FETCH /a"), "unsupported method"},
		{"empty segment", routesFor("GET /a//b"), "bad path segment"},
		{"no invoker", []Route{{Method: "GET", Path: "/a"}}, "no invoker"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newTable(tt.routes)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("newTable error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}
