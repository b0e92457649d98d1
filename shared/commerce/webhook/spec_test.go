package webhook_test

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/etalase/etalase/shared/commerce/webhook"
	"github.com/etalase/etalase/shared/platform/httpapi"
)

// Both routes are in api/commerce.yaml with every answer the webhook gives: the error
// codes (by status) in the enums of their responses, and the 200's statuses.
func TestSpecDocumentsEveryAnswer(t *testing.T) {
	raw, err := os.ReadFile("../../../api/commerce.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	lookup := func(ref string) map[string]any {
		var cur any = doc
		for _, p := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			m, _ := cur.(map[string]any)
			cur = m[p]
		}
		m, _ := cur.(map[string]any)
		if m == nil {
			t.Fatalf("$ref %s does not resolve", ref)
		}
		return m
	}
	// enums collects the values of every enum under v, following $refs.
	var enums func(v any, out map[string]bool)
	enums = func(v any, out map[string]bool) {
		switch x := v.(type) {
		case map[string]any:
			if ref, ok := x["$ref"].(string); ok {
				enums(lookup(ref), out)
			}
			if e, ok := x["enum"].([]any); ok {
				for _, s := range e {
					out[fmt.Sprint(s)] = true
				}
			}
			for k, c := range x {
				if k != "$ref" {
					enums(c, out)
				}
			}
		case []any:
			for _, c := range x {
				enums(c, out)
			}
		}
	}
	want := map[string][]string{
		"200": {webhook.StatusAccepted, webhook.StatusDuplicate},
		"400": {webhook.CodeInvalidNotification},
		"401": {webhook.CodeInvalidSignature},
		"404": {webhook.CodeOrderNotFound},
		"422": {webhook.CodeAmountMismatch},
		"500": {httpapi.CodeInternal},
	}
	paths, _ := doc["paths"].(map[string]any)
	for _, key := range []string{webhook.RouteMidtrans, webhook.RouteXendit} {
		path := strings.TrimPrefix(key, "POST ")
		ops, _ := paths[path].(map[string]any)
		post, _ := ops["post"].(map[string]any)
		if post == nil {
			t.Errorf("%s is not in api/commerce.yaml", key)
			continue
		}
		if sec, ok := post["security"].([]any); !ok || len(sec) != 0 {
			t.Errorf("%s: security %v, want [] (no token)", key, post["security"])
		}
		responses, _ := post["responses"].(map[string]any)
		var statuses []string
		for status := range responses {
			statuses = append(statuses, status)
		}
		slices.Sort(statuses)
		if !slices.Equal(statuses, []string{"200", "400", "401", "404", "422", "500"}) {
			t.Errorf("%s documents %v", key, statuses)
		}
		for status, codes := range want {
			got := map[string]bool{}
			enums(responses[status], got)
			for _, c := range codes {
				if !got[c] {
					t.Errorf("%s %s: %q is not documented (have %v)", key, status, c, got)
				}
			}
		}
	}
}
