package gateway

import (
	"fmt"
	"net/http"
	"testing"
)

func TestSite(t *testing.T) {
	site := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "site "+r.URL.Path) })
	routes := []Route{
		{FunctionID: "Catalog", Method: "GET", Path: "/commerce/v1/products/{id}", Invoker: &recorder{answer: []byte(`"product"`)}},
		{FunctionID: "Feed", Method: "GET", Path: "/social/v1/feed", Invoker: &recorder{answer: []byte(`"feed"`)}},
		{FunctionID: "Add", Method: "POST", Path: "/commerce/v1/cart/items", Invoker: &recorder{answer: []byte(`"added"`)}},
	}
	g, err := New(Config{Routes: routes})
	if err != nil {
		t.Fatal(err)
	}
	notFound := `{"message":"Not Found"}`
	if rec := do(g, "GET", "/", "", nil); rec.Code != 404 || rec.Body.String() != notFound {
		t.Errorf("GET / without a site = %d %s", rec.Code, rec.Body)
	}
	g.HandleSite(site)
	g.Handle("/_local/idp/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "idp") }))
	tests := []struct {
		method, path string
		wantStatus   int
		wantBody     string
	}{
		{"GET", "/", 200, "site /"},
		{"GET", "/index.html", 200, "site /index.html"},
		{"HEAD", "/app.js", 200, "site /app.js"}, // the server drops a HEAD body
		{"GET", "/assets/kopi.svg", 200, "site /assets/kopi.svg"},
		{"GET", "/commerce/v1/products/p_1", 200, "product"},
		{"GET", "/social/v1/feed", 200, "feed"},
		// Unknown paths under an API's prefix stay the API's 404.
		{"GET", "/commerce/v1/nope", 404, notFound},
		{"GET", "/social/v2/feed", 404, notFound},
		{"GET", "/commerce", 404, notFound},
		{"GET", "/commerce/v1/cart/items", 404, notFound},
		// Only GET and HEAD reach the site.
		{"POST", "/", 404, notFound},
		{"DELETE", "/app.js", 404, notFound},
		// Mounts under /_local/ are unaffected.
		{"GET", "/_local/idp/x", 200, "idp"},
		{"GET", "/_local/nothing", 404, notFound},
	}
	for _, tt := range tests {
		rec := do(g, tt.method, tt.path, "", nil)
		if rec.Code != tt.wantStatus || rec.Body.String() != tt.wantBody {
			t.Errorf("%s %s = %d %q, want %d %q", tt.method, tt.path, rec.Code, rec.Body, tt.wantStatus, tt.wantBody)
		}
	}

	func() {
		defer func() {
			if recover() == nil {
				t.Error("a second HandleSite did not panic")
			}
		}()
		g.HandleSite(site)
	}()

	// A $default route catches everything, as API Gateway's does: no site.
	withDefault, err := New(Config{Routes: append(routes, Route{FunctionID: "Default", Path: DefaultRouteKey, Invoker: &recorder{answer: []byte(`"default"`)}})})
	if err != nil {
		t.Fatal(err)
	}
	withDefault.HandleSite(site)
	if rec := do(withDefault, "GET", "/", "", nil); rec.Body.String() != "default" {
		t.Errorf("GET / with a $default route = %d %s", rec.Code, rec.Body)
	}
}
