// Package web holds the storefront: one page (plain HTML, CSS and JavaScript, no build
// step) over both accounts' HTTP APIs, served from the same origin as they are. The
// buyer reads the feed and promotions from social, presses Buy, and lands in the
// commerce cart without seeing the hand-over ("no jump-out"); then checkout, the
// payment page, and the order turning paid. Creators see their clicks, sales and
// earnings, sellers list products and set stock.
//
// Locally the runner serves Storefront as the gateway's site (everything outside the
// /commerce/ and /social/ prefixes); in production a CDN serves the same files from a
// bucket and routes the two prefixes to the two accounts' APIs (docs/one-origin.md).
package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

//go:embed storefront
var files embed.FS

// Files returns the storefront's files, rooted at the page (index.html, app.js, ...);
// what a deployment uploads to the bucket behind the CDN.
func Files() fs.FS {
	sub, err := fs.Sub(files, "storefront")
	if err != nil {
		panic(err) // the folder is embedded above; it cannot be missing
	}
	return sub
}

// ContentSecurityPolicy is sent with every file: the page runs only its own script and
// style, talks only to its own origin, and may show product images from https URLs.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; " +
	"media-src 'self' https:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// Storefront returns the handler of the storefront's files: GET and HEAD of "/" (the
// page) and of each file by its path ("/app.js", "/assets/kopi-gayo.svg"). Anything
// else is 404 {"message":"Not Found"} (as API Gateway answers an unknown route) or
// 405. Files are revalidated on each load (an ETag of their content), so a rebuilt
// make dev serves an edited page at once.
func Storefront() http.Handler {
	root := Files()
	type file struct {
		body        []byte
		contentType string
		etag        string
	}
	byPath := map[string]file{}
	err := fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(root, p)
		if err != nil {
			return err
		}
		ct := mime.TypeByExtension(path.Ext(p))
		if ct == "" {
			ct = http.DetectContentType(b)
		}
		sum := sha256.Sum256(b)
		byPath["/"+p] = file{body: b, contentType: ct, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	})
	if err != nil {
		panic(err) // embedded files are always readable
	}
	byPath["/"] = byPath["/index.html"]
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		f, ok := byPath[r.URL.Path]
		if !ok {
			// API Gateway's own answer to an unknown route: the origin says "not found"
			// one way, whichever side of it a path falls on.
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"message":"Not Found"}`))
			return
		}
		h := w.Header()
		h.Set("Content-Type", f.contentType)
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", f.etag)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		if strings.HasPrefix(f.contentType, "text/html") {
			h.Set("Content-Security-Policy", ContentSecurityPolicy)
		}
		if match := r.Header.Get("If-None-Match"); match != "" && strings.Contains(match, f.etag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		if r.Method == http.MethodHead {
			return
		}
		_, _ = w.Write(f.body)
	})
}
