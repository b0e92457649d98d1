package cart

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/etalase/etalase/infra/samtemplate"
	"github.com/etalase/etalase/shared/platform/httpapi"
)

// The handler serves exactly the routes template.yaml gives CommerceCartFunction: buyer
// routes with exactly the buyer scope, guest routes with no authorizer at all.
func TestRoutesMatchTemplate(t *testing.T) {
	tpl, err := samtemplate.Load("../../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fn, err := tpl.Function("CommerceCartFunction")
	if err != nil {
		t.Fatal(err)
	}
	fromTemplate := map[string]string{}
	for _, ev := range fn.Events() {
		if ev.Type != "HttpApi" {
			continue
		}
		key := fmt.Sprintf("%v %v", ev.Properties["Method"], ev.Properties["Path"])
		auth := "none"
		if a, ok := ev.Properties["Auth"].(map[string]any); ok {
			auth = fmt.Sprintf("%v %v", a["Authorizer"], a["AuthorizationScopes"])
		}
		fromTemplate[key] = auth
	}
	fromHandler := map[string]string{}
	h := NewHandler(nil, nil)
	for _, r := range h.routes() {
		auth := "none"
		if r.kind == KindBuyer {
			auth = "CommerceJwt [" + ScopeBuyer + "]"
		}
		fromHandler[r.key] = auth
	}
	if diff := cmp.Diff(fromTemplate, fromHandler); diff != "" {
		t.Errorf("route key → auth (-template +handler):\n%s", diff)
	}
	keys := make([]string, 0, len(fromTemplate))
	for k := range fromTemplate {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if diff := cmp.Diff(keys, h.router.RouteKeys()); diff != "" {
		t.Errorf("router keys (-template +router):\n%s", diff)
	}
	for key, auth := range fromHandler {
		if (auth == "none") != (guestSegment(key) == "guest-cart") {
			t.Errorf("%s: only /commerce/v1/guest-cart routes may be public (auth %s)", key, auth)
		}
	}
}

// guestSegment returns the path segment after /commerce/v1/.
func guestSegment(key string) string {
	var method, path string
	fmt.Sscan(key, &method, &path)
	const prefix = "/commerce/v1/"
	if len(path) <= len(prefix) {
		return ""
	}
	rest := path[len(prefix):]
	for i, c := range rest {
		if c == '/' {
			return rest[:i]
		}
	}
	return rest
}

// Every error code the cart can answer with is documented in api/commerce.yaml, in an
// enum of an error response, and every $ref there resolves.
func TestErrorCodesDocumented(t *testing.T) {
	raw, err := os.ReadFile("../../../api/commerce.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	enums := map[string]bool{}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				if k == "$ref" {
					ref, _ := c.(string)
					if !resolves(doc, ref) {
						t.Errorf("%s: $ref %s does not resolve", path, ref)
					}
				}
				if k == "code" {
					if m, ok := c.(map[string]any); ok {
						for _, e := range asSlice(m["enum"]) {
							enums[fmt.Sprint(e)] = true
						}
					}
				}
				walk(path+"."+k, c)
			}
		case []any:
			for i, c := range x {
				walk(fmt.Sprintf("%s[%d]", path, i), c)
			}
		}
	}
	walk("", doc)
	codes := []string{httpapi.CodeInvalidJSON, httpapi.CodeInvalidBody, httpapi.CodeValidationFailed,
		httpapi.CodeUnauthenticated, httpapi.CodeForbidden, httpapi.CodeBodyTooLarge, httpapi.CodeUnsupportedMediaType, httpapi.CodeInternal}
	for _, m := range httpErrors {
		codes = append(codes, m.Code)
	}
	for _, c := range codes {
		if !enums[c] {
			t.Errorf("code %s is in no error response of api/commerce.yaml", c)
		}
	}
	for _, r := range (&Handler{}).routes() {
		var method, path string
		fmt.Sscan(r.key, &method, &path)
		paths, _ := doc["paths"].(map[string]any)
		ops, _ := paths[path].(map[string]any)
		if _, ok := ops[strings.ToLower(method)]; !ok {
			t.Errorf("%s is not in api/commerce.yaml", r.key)
		}
	}
}

func asSlice(v any) []any { s, _ := v.([]any); return s }

// resolves reports whether a local JSON pointer ("#/components/schemas/Cart") names
// something in doc.
func resolves(doc map[string]any, ref string) bool {
	rest, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return false
	}
	var cur any = doc
	for _, part := range strings.Split(rest, "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		if cur, ok = m[part]; !ok {
			return false
		}
	}
	return true
}
