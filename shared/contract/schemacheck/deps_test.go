package schemacheck

import (
	"os/exec"
	"strings"
	"testing"
)

// jsonSchemaLibrary may be linked by tests and tooling only: its package initialisation
// alone costs a cold start about 10 ms (docs/bench.md).
const jsonSchemaLibrary = "github.com/santhosh-tekuri/jsonschema"

// No function binary links a general JSON Schema library, whatever imports what.
func TestFunctionsDoNotLinkJSONSchemaLibrary(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command:", err)
	}
	cmd := exec.Command(goTool, "list", "-tags", "lambda.norpc", "-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}`,
		"github.com/etalase/etalase/functions/...")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) < 10 {
		t.Fatalf("go list found %d functions:\n%s", len(lines), out)
	}
	relay := false
	for _, line := range lines {
		pkg, deps, _ := strings.Cut(line, " ")
		relay = relay || strings.HasSuffix(pkg, "/functions/commerce/relay")
		for _, d := range strings.Fields(deps) {
			if strings.HasPrefix(d, jsonSchemaLibrary) {
				t.Errorf("%s links %s", pkg, d)
			}
		}
	}
	if !relay {
		t.Error("the relay, which validates with schemacheck, was not among the functions listed")
	}
}
