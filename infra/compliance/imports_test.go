package compliance

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const mod = "github.com/etalase/etalase"

var sides = []string{"social", "commerce"}

func TestCheckImports(t *testing.T) {
	cases := []struct {
		name    string
		roots   map[string][]string
		imports map[string][]string
		want    []string // substrings, one per expected violation; none means pass
	}{
		{
			name: "allowed graph",
			roots: map[string][]string{
				mod + "/functions/social/inbox":     {"context", mod + "/shared/social/ledger", mod + "/shared/contract", mod + "/shared/platform/logging", "github.com/aws/aws-lambda-go/lambda"},
				mod + "/functions/commerce/catalog": {mod + "/shared/commerce/catalog", mod + "/shared/contract", mod + "/shared/platform/httpapi", mod + "/functions/commerce/catalog/internal/routes"},
				mod + "/shared/social/ledger":       {mod + "/shared/contract", "errors"},
				mod + "/shared/contract":            {mod + "/shared/platform/envconfig"},
			},
		},
		{
			name:  "social function imports shared/commerce/catalog",
			roots: map[string][]string{mod + "/functions/social/promotion": {mod + "/shared/contract", mod + "/shared/commerce/catalog"}},
			want:  []string{"functions/social/promotion imports shared/commerce/catalog: a social package must not depend on commerce code"},
		},
		{
			name:  "commerce function imports shared/social/x",
			roots: map[string][]string{mod + "/functions/commerce/cart": {mod + "/shared/social/x"}},
			want:  []string{"functions/commerce/cart imports shared/social/x: a commerce package must not depend on social code"},
		},
		{
			name:  "function imports infra",
			roots: map[string][]string{mod + "/functions/commerce/cart": {mod + "/infra/samtemplate"}},
			want:  []string{"functions/commerce/cart imports infra/samtemplate: functions and shared code never import infra/ tooling"},
		},
		{
			name:  "function imports the other side's function tree",
			roots: map[string][]string{mod + "/functions/social/inbox": {mod + "/functions/commerce/relay/internal/wire"}},
			want:  []string{"a social package must not depend on commerce code"},
		},
		{
			name: "commerce reached through the contract, with the chain",
			roots: map[string][]string{
				mod + "/functions/social/inbox": {mod + "/shared/contract", mod + "/shared/commerce/money"},
				mod + "/shared/contract":        {mod + "/shared/commerce/money"},
			},
			imports: map[string][]string{
				mod + "/functions/social/inbox": {mod + "/shared/contract"},
				mod + "/shared/contract":        {mod + "/shared/commerce/money"},
			},
			want: []string{
				"functions/social/inbox imports shared/commerce/money (via shared/contract): a social package must not depend on commerce code",
				"shared/contract imports shared/commerce/money: shared code both sides use must not depend on commerce code",
			},
		},
		{
			name:  "shared package outside contract and platform",
			roots: map[string][]string{mod + "/functions/social/feed": {mod + "/shared/util"}},
			want:  []string{"functions/social/feed imports shared/util: functions/social/feed may only depend on functions/social, shared/social, shared/contract, shared/platform"},
		},
		{
			name:  "platform imports a non-shared module package",
			roots: map[string][]string{mod + "/shared/platform/logging": {mod + "/internal/x"}},
			want:  []string{"shared/platform/logging imports internal/x: shared/platform/logging may only depend on shared/contract, shared/platform"},
		},
		{
			name:  "function outside a side",
			roots: map[string][]string{mod + "/functions/admin/report": {}},
			want:  []string{"functions/admin/report: a function lives in functions/<social|commerce>/<name>"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := CheckImports(PackageGraph{Module: mod, Roots: tc.roots, Imports: tc.imports}, sides)
			got := res.Check.Violations
			if len(got) != len(tc.want) {
				t.Fatalf("violations = %q, want %d containing %q", got, len(tc.want), tc.want)
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("violation %d = %q, want it to contain %q", i, got[i], w)
				}
			}
			if res.Check.Passed != (len(tc.want) == 0) {
				t.Errorf("passed = %v with violations %q", res.Check.Passed, got)
			}
		})
	}
}

func TestCheckImportsLoadErrors(t *testing.T) {
	res := CheckImports(PackageGraph{Module: mod, Errors: []string{mod + "/functions/social/x: no Go files"}}, sides)
	if res.Check.Passed {
		t.Error("a package that could not load passed the import check")
	}
}

func TestRepoPackageGraphPasses(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	g, err := LoadPackageGraph(context.Background(), filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if g.Module != mod {
		t.Errorf("module = %q, want %q", g.Module, mod)
	}
	if _, ok := g.Roots[mod+"/shared/platform/envconfig"]; !ok {
		t.Errorf("shared/platform/envconfig not among the checked packages: %v", sortedRoots(g.Roots))
	}
	for root := range g.Roots {
		if strings.Contains(root, "/infra/") {
			t.Errorf("tooling package %s checked as a root", root)
		}
	}
	res := CheckImports(g, sides)
	if !res.Check.Passed {
		t.Errorf("the repository's packages break the boundary:\n%s", strings.Join(res.Check.Violations, "\n"))
	}
	if res.Edges == 0 {
		t.Error("no dependency edges examined")
	}
}

// TestLoadPackageGraphFindsViolation runs the loader on a throwaway module whose
// social function reaches commerce code through the contract.
func TestLoadPackageGraphFindsViolation(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	dir := t.TempDir()
	files := map[string]string{
		"go.mod":                          "module example.com/m\n\ngo 1.26\n",
		"functions/social/feed/main.go":   "package main\n\nimport _ \"example.com/m/shared/contract\"\n\nfunc main() {}\n",
		"shared/contract/contract.go":     "package contract\n\nimport _ \"example.com/m/shared/commerce/money\"\n",
		"shared/commerce/money/money.go":  "package money\n",
		"functions/commerce/cart/main.go": "package main\n\nimport _ \"example.com/m/shared/commerce/money\"\n\nfunc main() {}\n",
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	g, err := LoadPackageGraph(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	got := CheckImports(g, sides).Check.Violations
	want := []string{
		"functions/social/feed imports shared/commerce/money (via shared/contract): a social package must not depend on commerce code",
		"shared/contract imports shared/commerce/money: shared code both sides use must not depend on commerce code",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("violations (-want +got):\n%s", diff)
	}
}
