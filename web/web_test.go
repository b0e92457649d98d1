package web_test

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/etalase/etalase/web"
)

func TestStorefrontServesItsFiles(t *testing.T) {
	h := web.Storefront()
	tests := []struct {
		method, path string
		wantStatus   int
		wantType     string
		wantBody     string
	}{
		{"GET", "/", 200, "text/html; charset=utf-8", `<script src="/app.js" defer></script>`},
		{"GET", "/index.html", 200, "text/html; charset=utf-8", "<main id=\"view\""},
		{"GET", "/app.js", 200, "text/javascript; charset=utf-8", "'use strict'"},
		{"GET", "/styles.css", 200, "text/css; charset=utf-8", ":root"},
		{"GET", "/assets/kopi-gayo.svg", 200, "image/svg+xml", "<svg"},
		{"HEAD", "/app.js", 200, "text/javascript; charset=utf-8", ""},
		{"GET", "/nope.js", 404, "application/json", `{"message":"Not Found"}`},
		{"GET", "/assets/", 404, "application/json", `{"message":"Not Found"}`},
		{"GET", "/../web.go", 404, "application/json", `{"message":"Not Found"}`},
		{"POST", "/", 405, "", "method not allowed"},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
		if rec.Code != tt.wantStatus || !strings.Contains(rec.Body.String(), tt.wantBody) {
			t.Errorf("%s %s = %d %.60q, want %d with %q", tt.method, tt.path, rec.Code, rec.Body, tt.wantStatus, tt.wantBody)
		}
		if tt.wantType != "" && rec.Header().Get("Content-Type") != tt.wantType {
			t.Errorf("%s %s Content-Type = %q, want %q", tt.method, tt.path, rec.Header().Get("Content-Type"), tt.wantType)
		}
	}

	// The page's policy: only its own script, style and origin.
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "connect-src 'self'") {
		t.Errorf("Content-Security-Policy = %q", csp)
	}
	if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Error("no X-Content-Type-Options: nosniff")
	}

	// Revalidation: the ETag answers 304.
	etag := rec.Header().Get("ETag")
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("If-None-Match", etag)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if etag == "" || rec.Code != http.StatusNotModified {
		t.Errorf("If-None-Match %s = %d, want 304", etag, rec.Code)
	}
}

// The page is self-contained: no external script, style, font or image, and every
// local file it names exists.
func TestStorefrontIsSelfContained(t *testing.T) {
	files := web.Files()
	external := regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?(https?:)?//|@import|url\(\s*["']?https?:|fonts\.googleapis`)
	local := regexp.MustCompile(`["'(](/(?:assets/)?[a-z0-9._-]+\.(?:svg|js|css|png|jpg))["')]`)
	err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(files, p)
		if err != nil {
			return err
		}
		if strings.HasSuffix(p, ".svg") {
			// SVGs declare their namespace with an http URL; that loads nothing.
			b = []byte(strings.ReplaceAll(string(b), `xmlns="http://www.w3.org/2000/svg"`, ""))
		}
		if m := external.Find(b); m != nil {
			t.Errorf("%s loads something from elsewhere: %s", p, m)
		}
		for _, m := range local.FindAllSubmatch(b, -1) {
			name := strings.TrimPrefix(string(m[1]), "/")
			if _, err := fs.Stat(files, name); err != nil {
				t.Errorf("%s names %s, which is not in the storefront", p, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
