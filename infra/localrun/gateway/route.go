package gateway

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/etalase/etalase/infra/localrun/invoke"
)

// DefaultRouteKey is the route key, and the Path, of an API's catch-all route.
const DefaultRouteKey = "$default"

// AnyMethod is the Method of a route that matches every method not routed otherwise.
const AnyMethod = "ANY"

// Route is one HTTP API route in front of one function.
type Route struct {
	// Account is the id of the account the function runs in (requestContext.accountId).
	Account string
	// APIID is the logical id of the HttpApi (requestContext.apiId).
	APIID string
	// FunctionID is the logical id of the function.
	FunctionID string
	// Method is GET, POST, ... or ANY; ignored for the $default route.
	Method string
	// Path is the route's path: "/a/{id}/b", "/files/{proxy+}", or "$default".
	Path string
	// Authorizer is the route's JWT authorizer; nil means the route is open.
	Authorizer *Authorizer
	// Scopes are the route's AuthorizationScopes: the token needs at least one of them.
	Scopes []string
	// Timeout is the integration timeout; zero means API Gateway's maximum, 30 s.
	Timeout time.Duration
	// Invoker runs the function.
	Invoker invoke.Invoker
}

// Authorizer is a JWT authorizer of an HttpApi.
type Authorizer struct {
	// Name is the authorizer's name in the template.
	Name string
	// IdentitySource says where the token is: "$request.header.Authorization" (the
	// default) or "$request.querystring.name".
	IdentitySource string
	// Issuer is JwtConfiguration.issuer.
	Issuer string
	// Audience is JwtConfiguration.audience.
	Audience []string
}

// Kinds of path segment, in the order API Gateway prefers them.
const (
	segLiteral = iota
	segParam
	segGreedy
)

type segment struct {
	kind int
	text string // the literal, or the parameter name
}

// route is a Route ready to match.
type route struct {
	Route
	key       string
	isDefault bool
	anyMethod bool
	segs      []segment
}

var paramName = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

var methods = []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", AnyMethod}

func compile(r Route) (*route, error) {
	if r.Invoker == nil {
		return nil, fmt.Errorf("route %s %s: no invoker", r.Method, r.Path)
	}
	if r.Path == DefaultRouteKey {
		return &route{Route: r, key: DefaultRouteKey, isDefault: true}, nil
	}
	m := strings.ToUpper(r.Method)
	if !slices.Contains(methods, m) {
		return nil, fmt.Errorf("route %s %s: unsupported method", r.Method, r.Path)
	}
	if !strings.HasPrefix(r.Path, "/") {
		return nil, fmt.Errorf("route %s %s: path must start with /", m, r.Path)
	}
	if r.Path == "/_local" || strings.HasPrefix(r.Path, "/_local/") {
		return nil, fmt.Errorf("route %s %s: /_local/ is reserved", m, r.Path)
	}
	out := &route{Route: r, key: m + " " + r.Path, anyMethod: m == AnyMethod}
	out.Method = m
	parts := splitPath(r.Path)
	for i, p := range parts {
		switch {
		case strings.HasPrefix(p, "{") && strings.HasSuffix(p, "+}"):
			name := p[1 : len(p)-2]
			if i != len(parts)-1 || !paramName.MatchString(name) {
				return nil, fmt.Errorf("route %s: a greedy variable must be last and named", out.key)
			}
			out.segs = append(out.segs, segment{segGreedy, name})
		case strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}"):
			name := p[1 : len(p)-1]
			if !paramName.MatchString(name) {
				return nil, fmt.Errorf("route %s: bad path variable %q", out.key, p)
			}
			out.segs = append(out.segs, segment{segParam, name})
		case p == "" || strings.ContainsAny(p, "{}"):
			return nil, fmt.Errorf("route %s: bad path segment %q", out.key, p)
		default:
			out.segs = append(out.segs, segment{segLiteral, p})
		}
	}
	return out, nil
}

// splitPath splits "/a/b" into [a b]; "/" has no segments.
func splitPath(p string) []string {
	p = strings.TrimPrefix(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// match reports whether the route matches an escaped request path, with its path
// parameters (decoded, as API Gateway passes them).
func (r *route) match(escaped []string) (map[string]string, bool) {
	var params map[string]string
	set := func(k, v string) {
		if params == nil {
			params = map[string]string{}
		}
		params[k] = v
	}
	for i, s := range r.segs {
		if s.kind == segGreedy {
			if i >= len(escaped) {
				return nil, false
			}
			rest := strings.Join(escaped[i:], "/")
			if rest == "" {
				return nil, false
			}
			set(s.text, unescape(rest))
			return params, true
		}
		if i >= len(escaped) || escaped[i] == "" {
			return nil, false
		}
		v := unescape(escaped[i])
		if s.kind == segLiteral && v != s.text {
			return nil, false
		}
		if s.kind == segParam {
			set(s.text, v)
		}
	}
	return params, len(escaped) == len(r.segs)
}

func unescape(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}

// better reports whether a is a more specific match than b, as API Gateway ranks them:
// segment by segment a literal beats a {variable}, which beats a greedy {proxy+}; on
// equal paths a route for the method beats ANY.
func better(a, b *route) bool {
	for i := 0; i < len(a.segs) && i < len(b.segs); i++ {
		if a.segs[i].kind != b.segs[i].kind {
			return a.segs[i].kind < b.segs[i].kind
		}
	}
	if len(a.segs) != len(b.segs) {
		// Both matched, so the shorter one ends in a greedy variable.
		return len(a.segs) > len(b.segs)
	}
	return !a.anyMethod && b.anyMethod
}

// table is the compiled route table of every API on the origin.
type table struct {
	routes []*route
	def    *route
}

func newTable(routes []Route) (*table, error) {
	t := &table{}
	seen := map[string]string{}
	for _, r := range routes {
		c, err := compile(r)
		if err != nil {
			return nil, err
		}
		if prev, ok := seen[c.key]; ok {
			return nil, fmt.Errorf("route %s is defined by both %s and %s", c.key, prev, r.FunctionID)
		}
		seen[c.key] = r.FunctionID
		if c.isDefault {
			t.def = c
			continue
		}
		t.routes = append(t.routes, c)
	}
	return t, nil
}

// find returns the best route for a request, or nil.
func (t *table) find(method, escapedPath string) (*route, map[string]string) {
	segs := splitPath(escapedPath)
	var best *route
	var bestParams map[string]string
	for _, r := range t.routes {
		if !r.anyMethod && r.Method != method {
			continue
		}
		params, ok := r.match(segs)
		if !ok {
			continue
		}
		if best == nil || better(r, best) {
			best, bestParams = r, params
		}
	}
	if best == nil && t.def != nil {
		return t.def, nil
	}
	return best, bestParams
}
