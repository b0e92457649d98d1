package catalog

import (
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/etalase/etalase/infra/samtemplate"
)

// The handler serves exactly the routes template.yaml gives CommerceCatalogFunction,
// and requires exactly the scopes the template's JWT authorizer checks.
func TestRoutesMatchTemplate(t *testing.T) {
	tpl, err := samtemplate.Load("../../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fn, err := tpl.Function("CommerceCatalogFunction")
	if err != nil {
		t.Fatal(err)
	}
	fromTemplate := map[string]string{}
	for _, ev := range fn.Events() {
		if ev.Type != "HttpApi" {
			continue
		}
		key := fmt.Sprintf("%v %v", ev.Properties["Method"], ev.Properties["Path"])
		scope := ""
		if auth, ok := ev.Properties["Auth"].(map[string]any); ok {
			scopes, _ := auth["AuthorizationScopes"].([]any)
			if len(scopes) != 1 {
				t.Fatalf("%s: scopes %v, want exactly one", key, scopes)
			}
			scope = fmt.Sprint(scopes[0])
		}
		fromTemplate[key] = scope
	}
	fromHandler := map[string]string{}
	h := NewHandler(nil, nil)
	for _, r := range h.routes() {
		fromHandler[r.key] = r.scope
	}
	if diff := cmp.Diff(fromTemplate, fromHandler); diff != "" {
		t.Errorf("route key → scope (-template +handler):\n%s", diff)
	}
	if diff := cmp.Diff(h.router.RouteKeys(), sortedKeys(fromTemplate)); diff != "" {
		t.Errorf("router keys (-router +template):\n%s", diff)
	}
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
