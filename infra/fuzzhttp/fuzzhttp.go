// Package fuzzhttp turns a fuzzer's bytes into API Gateway HTTP API v2 events for an
// HTTP function, and checks the invariants every handler keeps for any client input
// (issue #8, "bad input"):
//
//   - it answers: Handle returns no error and never panics (the router turns a panic
//     into a 500, so a panic shows as a 5xx);
//   - no 5xx for client input: the fakes a fuzz target gives the handler never fail,
//     so a 5xx is a bug;
//   - a 4xx carries the error envelope {"error":{"code":"...","message":"..."}};
//   - every body is JSON and no header or cookie holds a line break.
//
// Whether a rejected request wrote anything is the fuzz target's check: it knows its
// fake store.
//
// A Target is built from the function's routes in template.yaml and its fixtures in
// events/: every fuzz input starts from one real-shaped fixture and replaces its route
// key, principal, body, path parameters, query string and headers with fuzzed values,
// so the corpus begins with requests the handler accepts and the fuzzer works outward.
package fuzzhttp

import (
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/etalase/etalase/infra/samtemplate"
	"github.com/etalase/etalase/shared/platform/httpapi"
)

// updateSeeds rewrites each target's committed seed corpus (testdata/fuzz/FuzzX) from
// its fixtures and extra seeds: go test ./pkg -run '^FuzzX$' -args -fuzzhttp.update-seeds
var updateSeeds = flag.Bool("fuzzhttp.update-seeds", false, "rewrite testdata/fuzz/<FuzzX>/seed-* from the fixtures and extra seeds")

// Input is one fuzz input. Every field replaces part of a fixture.
type Input struct {
	// Fixture picks the fixture (modulo their number).
	Fixture uint8
	// Route 0 keeps the fixture's route key; n > 0 takes the function's route
	// (n-1 modulo their number), so a body meant for one route reaches another.
	Route uint8
	// Auth picks the principal (modulo 8): 0 the fixture's; 1 none; 2 the fixture's
	// subject with every scope of the function; 3 that subject without scopes; 4 another
	// subject with every scope; 5 a blank subject; 6 Path as the subject; 7 the scopes
	// only in the "scope" claim.
	Auth uint8
	// Body replaces the body; with Base64 it is sent base64-encoded, as API Gateway
	// sends a binary body.
	Body   string
	Base64 bool
	// Path is the value of every path parameter of the route ("" leaves them out).
	Path string
	// Query is the raw query string.
	Query string
	// Headers are "name: value" lines set on top of the fixture's headers; "cookie"
	// lines replace the fixture's cookies.
	Headers string
}

// Target fuzzes one HTTP function.
type Target struct {
	// Fixtures are the function's events, by file name.
	Fixtures []httpapi.Request
	Names    []string
	// Routes are the function's route keys from template.yaml, sorted.
	Routes []string
	// Scopes are every scope the function's routes require, plus "openid".
	Scopes []string
	// Subject is the subject of auth variants when the fixture has none.
	Subject string
}

// New reads the HttpApi routes of functionID from the template at templatePath and
// the fixtures (*.json, API Gateway HTTP API v2 events) in fixtureDir.
func New(tb testing.TB, templatePath, functionID, fixtureDir string) *Target {
	tb.Helper()
	routes, err := FunctionRoutes(templatePath, functionID)
	if err != nil {
		tb.Fatal(err)
	}
	paths, err := filepath.Glob(filepath.Join(fixtureDir, "*.json"))
	if err != nil || len(paths) == 0 {
		tb.Fatalf("no fixtures in %s (%v)", fixtureDir, err)
	}
	return FromRoutes(tb, routes, paths...)
}

// FromRoutes is New for routes that are not (yet) a template function's: a handler
// that a function will serve, with its fixture files.
func FromRoutes(tb testing.TB, routes []Route, fixtures ...string) *Target {
	tb.Helper()
	t := FromEvents(routes, nil, nil)
	paths := slices.Sorted(slices.Values(fixtures))
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		var req httpapi.Request
		if err := json.Unmarshal(data, &req); err != nil {
			tb.Fatalf("%s: %v", p, err)
		}
		if req.RouteKey == "" {
			continue // not an HTTP event
		}
		t.Fixtures = append(t.Fixtures, req)
		t.Names = append(t.Names, strings.TrimSuffix(filepath.Base(p), ".json"))
	}
	if len(t.Fixtures) == 0 {
		tb.Fatalf("no HTTP API events in %v", fixtures)
	}
	return t
}

// FromEvents is a target over events built in code (names[i] names reqs[i]); add more
// with Add. Every target needs at least one event before Seed.
func FromEvents(routes []Route, names []string, reqs []httpapi.Request) *Target {
	t := &Target{Subject: "fuzz-subject", Scopes: []string{"openid"}}
	for _, r := range routes {
		t.Routes = append(t.Routes, r.Key)
		for _, s := range r.Scopes {
			if !slices.Contains(t.Scopes, s) {
				t.Scopes = append(t.Scopes, s)
			}
		}
	}
	sort.Strings(t.Routes)
	for i, req := range reqs {
		t.Add(names[i], req)
	}
	return t
}

// Add adds a fixture.
func (t *Target) Add(name string, req httpapi.Request) {
	t.Fixtures = append(t.Fixtures, req)
	t.Names = append(t.Names, name)
}

// Route is one HttpApi route of a function.
type Route struct {
	// Key is "METHOD /path" as API Gateway's routeKey.
	Key string
	// Authorizer is the JWT authorizer's name; "" for a public route.
	Authorizer string
	// Scopes are the AuthorizationScopes.
	Scopes []string
}

// FunctionRoutes returns a function's HttpApi routes in the template, sorted by key.
func FunctionRoutes(templatePath, functionID string) ([]Route, error) {
	tpl, err := samtemplate.Load(templatePath)
	if err != nil {
		return nil, err
	}
	fn, err := tpl.Function(functionID)
	if err != nil {
		return nil, err
	}
	return EventRoutes(fn), nil
}

// EventRoutes returns the HttpApi routes of a function resource, sorted by key.
func EventRoutes(fn samtemplate.Resource) []Route {
	var out []Route
	for _, ev := range fn.Events() {
		if ev.Type != "HttpApi" {
			continue
		}
		r := Route{Key: fmt.Sprintf("%v %v", ev.Properties["Method"], ev.Properties["Path"])}
		if auth, ok := ev.Properties["Auth"].(map[string]any); ok {
			r.Authorizer, _ = auth["Authorizer"].(string)
			scopes, _ := auth["AuthorizationScopes"].([]any)
			for _, s := range scopes {
				r.Scopes = append(r.Scopes, fmt.Sprint(s))
			}
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// FixtureInput is the input that reproduces fixture i.
func (t *Target) FixtureInput(i int) Input {
	req := t.Fixtures[i]
	in := Input{Fixture: uint8(i), Body: req.Body, Query: req.RawQueryString}
	if req.IsBase64Encoded {
		if b, err := base64.StdEncoding.DecodeString(req.Body); err == nil {
			in.Body, in.Base64 = string(b), true
		}
	}
	for _, k := range slices.Sorted(maps.Keys(req.PathParameters)) {
		in.Path = req.PathParameters[k]
		break
	}
	return in
}

// Seed adds every fixture and the extra inputs to the seed corpus. With
// -fuzzhttp.update-seeds it also writes them to testdata/fuzz/<f.Name()>/ as
// seed-<fixture> and seed-extra-<n>, the corpus the repository commits.
func (t *Target) Seed(f *testing.F, extra ...Input) {
	f.Helper()
	var all []Input
	var names []string
	for i := range t.Fixtures {
		all = append(all, t.FixtureInput(i))
		names = append(names, "seed-"+t.Names[i])
	}
	for i, in := range extra {
		all = append(all, in)
		names = append(names, fmt.Sprintf("seed-extra-%02d", i+1))
	}
	for _, in := range all {
		f.Add(in.Fixture, in.Route, in.Auth, in.Body, in.Base64, in.Path, in.Query, in.Headers)
	}
	if *updateSeeds {
		dir := filepath.Join("testdata", "fuzz", f.Name())
		old, _ := filepath.Glob(filepath.Join(dir, "seed-*"))
		for _, p := range old {
			_ = os.Remove(p)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			f.Fatal(err)
		}
		for i, in := range all {
			if err := os.WriteFile(filepath.Join(dir, names[i]), Marshal(in), 0o644); err != nil {
				f.Fatal(err)
			}
		}
	}
}

// Marshal encodes an input in the corpus file format of go test fuzz v1, as the Go
// toolchain writes it (internal/fuzz marshalCorpusFile).
func Marshal(in Input) []byte {
	var b strings.Builder
	b.WriteString("go test fuzz v1\n")
	for _, v := range []uint8{in.Fixture, in.Route, in.Auth} {
		fmt.Fprintf(&b, "byte(%q)\n", v)
	}
	fmt.Fprintf(&b, "string(%q)\n", in.Body)
	fmt.Fprintf(&b, "bool(%t)\n", in.Base64)
	for _, s := range []string{in.Path, in.Query, in.Headers} {
		fmt.Fprintf(&b, "string(%q)\n", s)
	}
	return []byte(b.String())
}

// Fuzz runs check on the request built from every input.
func (t *Target) Fuzz(f *testing.F, check func(t *testing.T, req httpapi.Request)) {
	f.Fuzz(func(tt *testing.T, fixture, route, auth uint8, body string, b64 bool, path, query, headers string) {
		check(tt, t.Build(Input{
			Fixture: fixture, Route: route, Auth: auth, Body: body, Base64: b64,
			Path: path, Query: query, Headers: headers,
		}))
	})
}

var pathParam = regexp.MustCompile(`\{([^}]+)\}`)

// Build returns the event for an input.
func (t *Target) Build(in Input) httpapi.Request {
	base := t.Fixtures[int(in.Fixture)%len(t.Fixtures)]
	req := base
	req.Headers = maps.Clone(base.Headers)
	if req.Headers == nil {
		req.Headers = map[string]string{}
	}
	req.Cookies = slices.Clone(base.Cookies)

	if in.Route > 0 && len(t.Routes) > 0 {
		req.RouteKey = t.Routes[int(in.Route-1)%len(t.Routes)]
	}
	method, path, _ := strings.Cut(req.RouteKey, " ")
	req.PathParameters = nil
	raw := pathParam.ReplaceAllStringFunc(path, func(m string) string {
		name := strings.TrimSuffix(m[1:len(m)-1], "+")
		if in.Path != "" {
			if req.PathParameters == nil {
				req.PathParameters = map[string]string{}
			}
			req.PathParameters[name] = in.Path
		}
		return url.PathEscape(in.Path)
	})
	req.RawPath = raw
	req.RequestContext.RouteKey = req.RouteKey
	req.RequestContext.HTTP.Method = method
	req.RequestContext.HTTP.Path = raw

	req.RawQueryString = in.Query
	req.QueryStringParameters = nil
	if q, _ := url.ParseQuery(in.Query); len(q) > 0 {
		req.QueryStringParameters = map[string]string{}
		for k, vs := range q {
			req.QueryStringParameters[k] = strings.Join(vs, ",") // as API Gateway joins repeats
		}
	}

	cookiesSet := false
	for _, line := range strings.Split(in.Headers, "\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		name, value = strings.ToLower(strings.TrimSpace(name)), strings.TrimSpace(value)
		if name == "" {
			continue
		}
		if name == "cookie" {
			if !cookiesSet {
				req.Cookies, cookiesSet = nil, true
			}
			req.Cookies = append(req.Cookies, value)
			continue
		}
		req.Headers[name] = value
	}

	req.Body, req.IsBase64Encoded = in.Body, false
	if in.Base64 {
		req.Body, req.IsBase64Encoded = base64.StdEncoding.EncodeToString([]byte(in.Body)), true
	}

	req.RequestContext.Authorizer = t.principal(base, in)
	return req
}

// principal returns the authorizer part of the event for the input's Auth variant.
func (t *Target) principal(base httpapi.Request, in Input) *events.APIGatewayV2HTTPRequestContextAuthorizerDescription {
	subject, claims := t.Subject, map[string]string{}
	if a := base.RequestContext.Authorizer; a != nil && a.JWT != nil {
		maps.Copy(claims, a.JWT.Claims)
		if s := a.JWT.Claims["sub"]; s != "" {
			subject = s
		}
	}
	jwt := func(sub string, scopes []string, scopeClaim bool) *events.APIGatewayV2HTTPRequestContextAuthorizerDescription {
		c := maps.Clone(claims)
		c["sub"] = sub
		delete(c, "scope")
		var field []string
		if scopeClaim {
			c["scope"] = strings.Join(scopes, " ")
		} else {
			field = slices.Clone(scopes)
			if len(scopes) > 0 {
				c["scope"] = strings.Join(scopes, " ")
			}
		}
		return &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: c, Scopes: field},
		}
	}
	switch in.Auth % 8 {
	case 0:
		if a := base.RequestContext.Authorizer; a != nil && a.JWT != nil {
			return &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
				JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims, Scopes: slices.Clone(a.JWT.Scopes)},
			}
		}
		return nil
	case 1:
		return nil
	case 2:
		return jwt(subject, t.Scopes, false)
	case 3:
		return jwt(subject, nil, false)
	case 4:
		return jwt("fuzz-other-subject", t.Scopes, false)
	case 5:
		return jwt("  ", t.Scopes, false)
	case 6:
		return jwt(in.Path, t.Scopes, false)
	default:
		return jwt(subject, t.Scopes, true)
	}
}

// Check fails t unless the handler kept the invariants of every response to client
// input (see the package doc). It returns the response's error code ("" below 400).
func Check(t testing.TB, req httpapi.Request, resp httpapi.Response, err error) string {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: Handle returned an error (Lambda would answer a bare 500): %v", req.RouteKey, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 599 {
		t.Fatalf("%s: status %d", req.RouteKey, resp.StatusCode)
	}
	if resp.StatusCode >= 500 {
		t.Fatalf("%s: %d for client input (the fakes never fail): %s", req.RouteKey, resp.StatusCode, resp.Body)
	}
	for k, v := range resp.Headers {
		if strings.ContainsAny(k+v, "\r\n") {
			t.Fatalf("%s: header %q: %q holds a line break", req.RouteKey, k, v)
		}
	}
	for _, c := range resp.Cookies {
		if strings.ContainsAny(c, "\r\n") {
			t.Fatalf("%s: cookie %q holds a line break", req.RouteKey, c)
		}
	}
	if resp.Body != "" && !json.Valid([]byte(resp.Body)) {
		t.Fatalf("%s: %d body is not JSON: %q", req.RouteKey, resp.StatusCode, resp.Body)
	}
	if resp.StatusCode < 400 {
		return ""
	}
	var env struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &env); err != nil || env.Error.Code == "" || env.Error.Message == "" {
		t.Fatalf("%s: %d without the error envelope: %q", req.RouteKey, resp.StatusCode, resp.Body)
	}
	if !strings.HasPrefix(resp.Headers["Content-Type"], "application/json") {
		t.Fatalf("%s: %d error with Content-Type %q", req.RouteKey, resp.StatusCode, resp.Headers["Content-Type"])
	}
	return env.Error.Code
}
