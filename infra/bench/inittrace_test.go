package bench

import (
	"math"
	"testing"
)

const traceOutput = `[commerce/F] init runtime @0.45 ms, 0.30 ms clock, 0 bytes, 0 allocs
[commerce/F] init errors @1.0 ms, 0.20 ms clock, 16 bytes, 1 allocs
[commerce/F] init github.com/aws/aws-sdk-go-v2/service/dynamodb/schemas @19 ms, 2.8 ms clock, 586696 bytes, 3151 allocs
[commerce/F] {"level":"INFO","msg":"not a trace line"}
[commerce/F] init github.com/santhosh-tekuri/jsonschema/v6 @25 ms, 13 ms clock, 1700000 bytes, 21000 allocs
[commerce/F] init github.com/etalase/etalase/shared/commerce/catalog @38.5 ms, 0.084 ms clock, 9640 bytes, 101 allocs
[commerce/F] init vendor/golang.org/x/net/http2/hpack @24 ms, 0.13 ms clock, 7344 bytes, 8 allocs
[commerce/F] init github.com/aws/aws-lambda-go/lambda @39 ms, 0.01 ms clock, 0 bytes, 0 allocs
`

func TestParseInitTrace(t *testing.T) {
	run := parseInitTrace(traceOutput)
	if len(run.pkgs) != 7 {
		t.Fatalf("%d packages, want 7: %v", len(run.pkgs), run.pkgs)
	}
	p := run.pkgs["github.com/aws/aws-sdk-go-v2/service/dynamodb/schemas"]
	if p.Clock != 2.8 || p.Bytes != 586696 || p.Allocs != 3151 {
		t.Errorf("dynamodb/schemas = %+v", p)
	}
	if math.Abs(run.toMain-39.01) > 1e-9 {
		t.Errorf("toMain = %v, want 39.01 (the end of the last init)", run.toMain)
	}
}

func TestPackageGroup(t *testing.T) {
	for pkg, want := range map[string]string{
		"runtime":                                  GroupStd,
		"vendor/golang.org/x/net/http2/hpack":      GroupStd,
		"crypto/internal/fips140/aes":              GroupStd,
		"github.com/aws/aws-lambda-go/lambda":      GroupLambda,
		"github.com/aws/smithy-go/document":        GroupSDK,
		"github.com/aws/aws-sdk-go-v2/aws":         GroupSDK,
		"github.com/etalase/etalase/shared/x":      GroupApp,
		"github.com/santhosh-tekuri/jsonschema/v6": GroupOther,
		"golang.org/x/text/language":               GroupOther,
	} {
		if got := packageGroup(pkg); got != want {
			t.Errorf("packageGroup(%q) = %q, want %q", pkg, got, want)
		}
	}
}

func TestSummarizeTraces(t *testing.T) {
	a := parseInitTrace(traceOutput)
	b := parseInitTrace(`init runtime @0.1 ms, 0.10 ms clock, 0 bytes, 0 allocs
init github.com/santhosh-tekuri/jsonschema/v6 @5 ms, 11 ms clock, 1700000 bytes, 21000 allocs
`)
	c := parseInitTrace(`init runtime @0.1 ms, 0.50 ms clock, 0 bytes, 0 allocs
init github.com/santhosh-tekuri/jsonschema/v6 @5 ms, 20 ms clock, 1700000 bytes, 21000 allocs
`)
	tr := summarizeTraces("F", []traceRun{a, b, c})
	if tr.Runs != 3 || tr.Packages != 7 {
		t.Errorf("runs %d packages %d", tr.Runs, tr.Packages)
	}
	if tr.Top[0].Package != "github.com/santhosh-tekuri/jsonschema/v6" || tr.Top[0].Clock != 13 {
		t.Errorf("top = %+v, want jsonschema at its median 13 ms", tr.Top[0])
	}
	// Per-run totals: a = 16.524, b = 11.1, c = 20.5 → median 16.524.
	if math.Abs(float64(tr.PackageInit)-16.524) > 1e-9 {
		t.Errorf("package init = %v", tr.PackageInit)
	}
	if math.Abs(float64(tr.ByGroup[GroupOther])-13) > 1e-9 || math.Abs(float64(tr.ByGroup[GroupSDK])-0) > 1e-9 {
		t.Errorf("by group = %v (the SDK's median over runs is 0: two runs lack it)", tr.ByGroup)
	}
	if empty := summarizeTraces("none", nil); empty.Packages != 0 || empty.Runs != 0 {
		t.Errorf("no runs: %+v", empty)
	}
}

func TestExtraInits(t *testing.T) {
	hello := summarizeTraces(HelloName, []traceRun{parseInitTrace("init runtime @0.1 ms, 0.10 ms clock, 0 bytes, 0 allocs\n")})
	f := summarizeTraces("F", []traceRun{parseInitTrace(traceOutput)})
	g := summarizeTraces("G", []traceRun{parseInitTrace("init github.com/santhosh-tekuri/jsonschema/v6 @5 ms, 20 ms clock, 1 bytes, 1 allocs\n")})
	list := extraInits([]*InitTrace{hello, f, g})
	if len(list) != 6 { // F's seven packages but runtime
		t.Fatalf("%d extra packages, want 6", len(list))
	}
	if list[0].Package != "github.com/santhosh-tekuri/jsonschema/v6" || list[0].Clock != 16.5 || len(list[0].In) != 2 {
		t.Errorf("first extra = %+v, want jsonschema at 16.5 ms (the median of F's 13 and G's 20), in F and G", list[0])
	}
	for _, e := range list {
		if e.Package == "runtime" {
			t.Error("runtime is listed though the hello-world has it")
		}
	}
}
