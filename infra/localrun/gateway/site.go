package gateway

import (
	"net/http"
	"strings"
)

// HandleSite serves h for the page's own files on the API's origin — what a CDN's
// default behavior serves from a bucket in production (docs/one-origin.md): GET and
// HEAD requests whose path matches no route and lies under no API's prefix, such as
// "/", "/app.js" or "/assets/kopi.svg". An API's prefix is the first segment of its
// routes ("/commerce/", "/social/"), so an unknown API path keeps API Gateway's 404
// {"message":"Not Found"}; other methods, and everything when a route's first segment
// is a variable or the table has a $default route, stay the API's. h sees the full
// path. Like Handle it panics on a nil handler or a second site.
func (g *Gateway) HandleSite(h http.Handler) {
	if h == nil {
		panic("gateway: nil site handler")
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.site != nil {
		panic("gateway: site mounted twice")
	}
	g.site = h
}

// siteFor returns the site handler if it serves r, else nil.
func (g *Gateway) siteFor(r *http.Request) http.Handler {
	g.mu.RLock()
	site := g.site
	g.mu.RUnlock()
	if site == nil || (r.Method != http.MethodGet && r.Method != http.MethodHead) || g.table.def != nil {
		return nil
	}
	first, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	for _, rt := range g.table.routes {
		if len(rt.segs) == 0 {
			continue // a route for "/" alone claims only "/"; find below sees it
		}
		if s := rt.segs[0]; s.kind != segLiteral || s.text == first {
			return nil
		}
	}
	if rt, _ := g.table.find(r.Method, r.URL.EscapedPath()); rt != nil {
		return nil
	}
	return site
}
