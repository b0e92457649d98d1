package gateway

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/etalase/etalase/infra/localrun/invoke"
	"github.com/etalase/etalase/infra/samtemplate"
)

// implicitAPI is the logical id SAM gives the HttpApi it creates for HttpApi events
// without an ApiId.
const implicitAPI = "ServerlessHttpApi"

// noAuthorizer is the route-level Authorizer that opts out of the API's default.
const noAuthorizer = "NONE"

// apiAuth is an HttpApi's Auth section.
type apiAuth struct {
	authorizers map[string]*Authorizer
	scopes      map[string][]string // an authorizer's own AuthorizationScopes
	unsupported map[string]string   // authorizers that are not JWT authorizers, and why
	def         string
}

// RoutesFromTemplate returns the routes of every HttpApi event of the functions active
// under ctx, each with the account id ctx gives (AWS::AccountId) and the invoker that
// invokers returns for its function. A route uses the authorizer its event names, or
// else the API's DefaultAuthorizer, unless the event says Authorizer: NONE; its scopes
// are the event's AuthorizationScopes, or else the authorizer's.
func RoutesFromTemplate(tpl *samtemplate.Template, ctx *samtemplate.Context, invokers func(functionID string) invoke.Invoker) ([]Route, error) {
	active, err := tpl.Active(ctx)
	if err != nil {
		return nil, fmt.Errorf("routes: %w", err)
	}
	ids := make([]string, 0, len(active))
	for id, r := range active {
		if r.Type == samtemplate.TypeFunction {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	auths := map[string]*apiAuth{}
	var routes []Route
	for _, id := range ids {
		fn, err := tpl.Function(id)
		if err != nil {
			return nil, fmt.Errorf("routes: %w", err)
		}
		for _, ev := range fn.Events() {
			if ev.Type != "HttpApi" {
				continue
			}
			r, err := routeFromEvent(tpl, ctx, active, auths, id, ev)
			if err != nil {
				return nil, fmt.Errorf("routes: function %s event %s: %w", id, ev.Name, err)
			}
			if r.Invoker = invokers(id); r.Invoker == nil {
				return nil, fmt.Errorf("routes: no invoker for function %s", id)
			}
			routes = append(routes, r)
		}
	}
	return routes, nil
}

func routeFromEvent(tpl *samtemplate.Template, ctx *samtemplate.Context, active map[string]samtemplate.Resource, auths map[string]*apiAuth, fnID string, ev samtemplate.Event) (Route, error) {
	apiID, err := apiRef(ev.Properties["ApiId"])
	if err != nil {
		return Route{}, err
	}
	if apiID != implicitAPI {
		api, ok := active[apiID]
		if !ok || api.Type != samtemplate.TypeHttpApi {
			return Route{}, fmt.Errorf("ApiId %s is not an active HttpApi", apiID)
		}
	}
	props := map[string]any{}
	for k, v := range ev.Properties {
		if k != "ApiId" {
			props[k] = v
		}
	}
	evaluated, err := tpl.Evaluate(props, ctx)
	if err != nil {
		return Route{}, err
	}
	p, _ := evaluated.(map[string]any)
	method, path := str(p["Method"]), str(p["Path"])
	if v := str(p["PayloadFormatVersion"]); v != "" && v != "2.0" {
		return Route{}, fmt.Errorf("payload format %s is not supported locally", v)
	}
	r := Route{Account: ctx.Pseudo["AWS::AccountId"], APIID: apiID, FunctionID: fnID}
	switch {
	case path == "" && method == "":
		r.Path = DefaultRouteKey
	case path == "":
		return Route{}, fmt.Errorf("method %s without a path", method)
	default:
		r.Path = path
		r.Method = strings.ToUpper(method)
		if r.Method == "" || r.Method == "X-AMAZON-APIGATEWAY-ANY-METHOD" {
			r.Method = AnyMethod
		}
	}
	if ms, ok := p["TimeoutInMillis"]; ok {
		n, err := strconv.Atoi(str(ms))
		if err != nil || n <= 0 {
			return Route{}, fmt.Errorf("bad TimeoutInMillis %v", ms)
		}
		r.Timeout = time.Duration(n) * time.Millisecond
	}

	auth, ok := auths[apiID]
	if !ok {
		if auth, err = loadAPIAuth(tpl, ctx, active, apiID); err != nil {
			return Route{}, fmt.Errorf("api %s: %w", apiID, err)
		}
		auths[apiID] = auth
	}
	evAuth, _ := p["Auth"].(map[string]any)
	name := str(evAuth["Authorizer"])
	if name == "" {
		name = auth.def
	}
	if name == "" || name == noAuthorizer {
		return r, nil
	}
	if name == "AWS_IAM" {
		return Route{}, fmt.Errorf("IAM authorization is not emulated locally")
	}
	if why, bad := auth.unsupported[name]; bad {
		return Route{}, fmt.Errorf("authorizer %s: %s", name, why)
	}
	a, ok := auth.authorizers[name]
	if !ok {
		return Route{}, fmt.Errorf("api %s has no authorizer %s", apiID, name)
	}
	r.Authorizer = a
	r.Scopes = strs(evAuth["AuthorizationScopes"])
	if len(r.Scopes) == 0 {
		r.Scopes = auth.scopes[name]
	}
	return r, nil
}

// apiRef returns the logical id an event's ApiId refers to.
func apiRef(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return implicitAPI, nil
	case string:
		return x, nil
	case map[string]any:
		if ref, ok := x["Ref"].(string); ok && len(x) == 1 {
			return ref, nil
		}
	}
	return "", fmt.Errorf("ApiId must be a !Ref to an HttpApi")
}

func loadAPIAuth(tpl *samtemplate.Template, ctx *samtemplate.Context, active map[string]samtemplate.Resource, apiID string) (*apiAuth, error) {
	var raw any
	if apiID == implicitAPI {
		g, _ := tpl.Globals["HttpApi"].(map[string]any)
		raw = g["Auth"]
	} else {
		raw = active[apiID].Properties["Auth"]
	}
	out := &apiAuth{authorizers: map[string]*Authorizer{}, scopes: map[string][]string{}, unsupported: map[string]string{}}
	if raw == nil {
		return out, nil
	}
	v, err := tpl.Evaluate(raw, ctx)
	if err != nil {
		return nil, fmt.Errorf("Auth: %w", err)
	}
	m, _ := v.(map[string]any)
	out.def = str(m["DefaultAuthorizer"])
	defs, _ := m["Authorizers"].(map[string]any)
	for name, d := range defs {
		dm, _ := d.(map[string]any)
		jwt, ok := field(dm, "JwtConfiguration").(map[string]any)
		if !ok {
			out.unsupported[name] = "only JWT authorizers are emulated locally"
			continue
		}
		a := &Authorizer{
			Name:           name,
			IdentitySource: str(dm["IdentitySource"]),
			Issuer:         str(field(jwt, "issuer")),
			Audience:       strs(field(jwt, "audience")),
		}
		if a.IdentitySource == "" {
			a.IdentitySource = "$request.header.Authorization"
		}
		if a.Issuer == "" || len(a.Audience) == 0 {
			return nil, fmt.Errorf("authorizer %s needs JwtConfiguration issuer and audience", name)
		}
		out.authorizers[name] = a
		out.scopes[name] = strs(dm["AuthorizationScopes"])
	}
	return out, nil
}

// field reads a key as written, or with its first letter upper-cased (SAM accepts both
// "issuer" and "Issuer" in JwtConfiguration).
func field(m map[string]any, key string) any {
	if v, ok := m[key]; ok {
		return v
	}
	return m[strings.ToUpper(key[:1])+key[1:]]
}

func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int:
		return strconv.Itoa(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	return ""
}

func strs(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		out := make([]string, 0, len(x))
		for _, item := range x {
			if s := str(item); s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
