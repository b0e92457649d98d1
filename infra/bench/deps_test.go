package bench

import (
	"context"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// slowAtInit are packages no function binary may link, each for what its package
// initialisation (or what it links) costs every cold start; docs/bench.md has the
// measurements. Tests and tooling may use them.
var slowAtInit = []struct {
	pattern *regexp.Regexp
	why     string
}{
	{regexp.MustCompile(`^github\.com/santhosh-tekuri/jsonschema`),
		"compiles the JSON Schema meta-schemas at init (~10 ms); the relay uses shared/contract/schemacheck"},
	{regexp.MustCompile(`^github\.com/aws/aws-sdk-go-v2/service/[^/]+/schemas$`),
		"the SDK's schema-based serialisers build every shape of the API model at init (dynamodb/schemas 3.3 ms); " +
			"go.mod keeps the service modules at their last versions without them"},
	{regexp.MustCompile(`^github\.com/aws/aws-sdk-go-v2/config$`),
		"LoadDefaultConfig links the SSO, SSO-OIDC, STS and sign-in clients (~4 ms); functions use shared/platform/awsclient"},
	{regexp.MustCompile(`^github\.com/aws/aws-sdk-go-v2/service/ssm$`),
		"the SSM client's init is 6-10 ms for one read; functions use shared/platform/secrets"},
}

// No function links a package of slowAtInit, whatever imports what.
func TestFunctionsLinkNothingSlowAtInit(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Fatal("no go command:", err)
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	g, err := loadImports(context.Background(), root, []string{"./functions/..."})
	if err != nil {
		t.Fatal(err)
	}
	var functions []string
	for pkg := range g {
		if strings.HasPrefix(pkg, "github.com/etalase/etalase/functions/") {
			functions = append(functions, pkg)
		}
	}
	sort.Strings(functions)
	if len(functions) < 11 {
		t.Fatalf("go list found %d functions: %v", len(functions), functions)
	}
	for _, fn := range functions {
		for _, s := range slowAtInit {
			for pkg := range g {
				if s.pattern.MatchString(pkg) {
					if c := g.chain(fn, pkg); c != nil {
						t.Errorf("%s links %s (%s): %s", fn, pkg, s.why, strings.Join(c, " → "))
					}
				}
			}
		}
	}
	// The graph is the functions' own: they do link the SDK's DynamoDB client.
	if g["github.com/aws/aws-sdk-go-v2/service/dynamodb"] == nil {
		t.Error("no function links the DynamoDB client: the graph is not what this test expects")
	}
}

// The patterns match the packages they are meant to and not their neighbours.
func TestSlowAtInitPatterns(t *testing.T) {
	tests := []struct {
		pkg  string
		slow bool
	}{
		{"github.com/santhosh-tekuri/jsonschema/v6", true},
		{"github.com/aws/aws-sdk-go-v2/service/dynamodb/schemas", true},
		{"github.com/aws/aws-sdk-go-v2/service/sqs/schemas", true},
		{"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/schemas", true},
		{"github.com/aws/aws-sdk-go-v2/config", true},
		{"github.com/aws/aws-sdk-go-v2/service/ssm", true},
		{"github.com/aws/aws-sdk-go-v2/service/dynamodb", false},
		{"github.com/aws/aws-sdk-go-v2/service/dynamodb/types", false},
		{"github.com/aws/aws-sdk-go-v2/internal/configsources", false},
		{"github.com/etalase/etalase/shared/contract/schemacheck", false},
		{"github.com/aws/aws-sdk-go-v2/service/ssm/types", false},
	}
	for _, tt := range tests {
		slow := false
		for _, s := range slowAtInit {
			slow = slow || s.pattern.MatchString(tt.pkg)
		}
		if slow != tt.slow {
			t.Errorf("%s: slow %v, want %v", tt.pkg, slow, tt.slow)
		}
	}
}
