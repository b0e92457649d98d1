package templatecheck

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/etalase/etalase/infra/samtemplate"
)

// repoRoot is the repository root, seen from this package's directory.
const repoRoot = "../.."

// required reports whether a missing input must fail the test instead of skipping it:
// in CI and under `make test` (which sets ETALASE_REQUIRE_EMULATORS=1).
func required() bool {
	return os.Getenv("CI") == "true" || os.Getenv("ETALASE_REQUIRE_EMULATORS") == "1"
}

// readRepoFile reads a repository file; when it is absent the test skips with why, or
// fails when inputs are required.
func readRepoFile(t *testing.T, rel, why string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, rel))
	if errors.Is(err, fs.ErrNotExist) {
		if required() {
			t.Fatalf("%s is missing (%s)", rel, why)
		}
		t.Skipf("%s is missing (%s); skipped outside CI", rel, why)
	}
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func repoTemplate(t *testing.T) *samtemplate.Template {
	t.Helper()
	tpl, err := samtemplate.Load(filepath.Join(repoRoot, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

// header starts every inline template: the repository's parameters and conditions.
const header = `
Transform: AWS::Serverless-2016-10-31
Parameters:
  Side: {Type: String, AllowedValues: [social, commerce]}
  PeerAccountId: {Type: String}
Conditions:
  IsSocial: !Equals [!Ref Side, social]
  IsCommerce: !Equals [!Ref Side, commerce]
Globals:
  Function:
    Runtime: provided.al2023
    Architectures: [arm64]
    Timeout: 10
Resources:
`

func parse(t *testing.T, resources string) *samtemplate.Template {
	t.Helper()
	tpl, err := samtemplate.Parse([]byte(header + resources))
	if err != nil {
		t.Fatalf("parse test template: %v", err)
	}
	return tpl
}

// expect fails unless problems contain one line containing each of want, or, when
// want is empty, there are none.
func expect(t *testing.T, problems []string, want ...string) {
	t.Helper()
	if len(want) == 0 {
		if len(problems) > 0 {
			t.Errorf("unexpected problems:\n%s", strings.Join(problems, "\n"))
		}
		return
	}
	for _, w := range want {
		found := false
		for _, p := range problems {
			found = found || strings.Contains(p, w)
		}
		if !found {
			t.Errorf("no problem containing %q in:\n%s", w, strings.Join(problems, "\n"))
		}
	}
}

var schema struct {
	once sync.Once
	sch  *jsonschema.Schema
	path string
	err  error
}

// samSchema compiles the AWS SAM schema once: $SAM_SCHEMA or
// ../shared/schemas/sam.schema.json, relative paths taken from the repository root.
func samSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	schema.once.Do(func() {
		p := os.Getenv("SAM_SCHEMA")
		if p == "" {
			p = "../shared/schemas/sam.schema.json"
		}
		if !filepath.IsAbs(p) {
			p = filepath.Join(repoRoot, p)
		}
		schema.path = p
		if _, err := os.Stat(p); err != nil {
			schema.err = err
			return
		}
		schema.sch, schema.err = CompileSchema(p)
	})
	if errors.Is(schema.err, fs.ErrNotExist) {
		msg := "the AWS SAM JSON schema is not at " + schema.path + "; set SAM_SCHEMA to its path"
		if required() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	if schema.err != nil {
		t.Fatal(schema.err)
	}
	return schema.sch
}

func TestSchema(t *testing.T) {
	sch := samSchema(t)
	t.Run("repository template", func(t *testing.T) {
		expect(t, SchemaProblems(sch, repoTemplate(t)))
	})
	const fn = `
  CommerceCatalogFunction:
    Type: AWS::Serverless::Function
    Condition: IsCommerce
    Metadata: {BuildMethod: makefile}
    Properties:
      Handler: bootstrap
`
	cases := []struct {
		name, resources string
		want            []string
	}{
		{"valid", fn + "      Events: {Get: {Type: HttpApi, Properties: {Method: GET, Path: /x}}}\n", nil},
		{"unknown function property", fn + "      Runtimee: provided.al2023\n",
			[]string{"at '/Resources/CommerceCatalogFunction/Properties': additional properties 'Runtimee' not allowed"}},
		{"unknown event property", fn + "      Events: {Get: {Type: HttpApi, Properties: {Methd: GET, Path: /x}}}\n",
			[]string{"at '/Resources/CommerceCatalogFunction/Properties/Events/Get/Properties': additional properties 'Methd' not allowed"}},
		{"misspelled event type", fn + "      Events: {Q: {Type: Sqs, Properties: {Queue: x}}}\n",
			[]string{"at '/Resources/CommerceCatalogFunction/Properties/Events/Q': its Type is none of the types the schema allows here"}},
		{"misspelled serverless type", "\n  F:\n    Type: AWS::Serverless::Functon\n    Properties: {Handler: bootstrap}\n",
			[]string{"at '/Resources/F': its Type is none"}},
		{"resource attribute typo", fn + "    Conditon: IsCommerce\n",
			[]string{"additional properties 'Conditon' not allowed"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			expect(t, SchemaProblems(sch, parse(t, tc.resources)), tc.want...)
		})
	}
}

func TestRepoFunctionFolders(t *testing.T) {
	folders, err := FunctionFolders(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	expect(t, FolderProblems(repoTemplate(t), folders))
}

func TestFunctionFoldersSkipsTestdata(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"functions/social/inbox/main.go", "functions/social/inbox/testdata/fake/main.go", "functions/commerce/testdata/x/main.go", "functions/commerce/cart/handler.go"} {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte("package main\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := FunctionFolders(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != "functions/social/inbox" {
		t.Errorf("folders = %q, want only functions/social/inbox", got)
	}
}

func TestFolderProblems(t *testing.T) {
	const catalog = `
  CommerceCatalogFunction:
    Type: AWS::Serverless::Function
    Condition: IsCommerce
`
	cases := []struct {
		name, resources string
		folders         []string
		want            []string
	}{
		{"matching", catalog + `
  CommercePaymentWebhookFunction:
    Type: AWS::Serverless::Function
    Condition: IsCommerce
`, []string{"functions/commerce/catalog", "functions/commerce/paymentwebhook"}, nil},
		{"function without a folder", catalog, nil,
			[]string{"CommerceCatalogFunction: no functions/commerce/catalog/main.go"}},
		{"folder without a function", catalog, []string{"functions/commerce/catalog", "functions/social/inbox"},
			[]string{"functions/social/inbox: no function in the template; name it Social<Name>Function"}},
		{"name says commerce, condition says social", `
  CommerceCatalogFunction:
    Type: AWS::Serverless::Function
    Condition: IsSocial
`, []string{"functions/commerce/catalog"},
			[]string{"CommerceCatalogFunction: its name says commerce but its Condition deploys it on social"}},
		{"folder on the wrong side", catalog, []string{"functions/social/catalog"},
			[]string{"CommerceCatalogFunction: no functions/commerce/catalog/main.go", "functions/social/catalog: no function"}},
		{"name outside the convention", `
  CatalogHandler:
    Type: AWS::Serverless::Function
    Condition: IsCommerce
`, nil, []string{"CatalogHandler: a function's logical id is <Side><Name>Function"}},
		{"main.go too deep", catalog, []string{"functions/commerce/catalog", "functions/commerce/catalog/cmd/tool"},
			[]string{"functions/commerce/catalog/cmd/tool/main.go: a function folder is functions/<social|commerce>/<name>"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			expect(t, FolderProblems(parse(t, tc.resources), tc.folders), tc.want...)
		})
	}
}

func TestRepoBuildSettings(t *testing.T) {
	mk := readRepoFile(t, "Makefile", "it holds the build-<LogicalId> targets sam build runs")
	expect(t, BuildProblems(repoTemplate(t), mk))
}

func TestBuildProblems(t *testing.T) {
	const makefile = `
GO ?= go
ARTIFACTS_DIR ?= .cache/artifacts
LAMBDA_BUILD = CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -tags lambda.norpc \
	-o $(ARTIFACTS_DIR)/bootstrap

.PHONY: build-CommerceCatalogFunction
build-CommerceCatalogFunction:
	$(LAMBDA_BUILD) ./functions/commerce/catalog

build-CommerceCartFunction:
	$(GO) build -o $(ARTIFACTS_DIR)/bootstrap ./functions/commerce/cart

build-CommerceOrderFunction:
	$(LAMBDA_BUILD) ./functions/commerce/catalog
`
	fn := func(id, extra string) string {
		return "\n  " + id + ":\n    Type: AWS::Serverless::Function\n    Condition: IsCommerce\n    Metadata: {BuildMethod: makefile}\n    Properties:\n      Handler: bootstrap\n" + extra
	}
	cases := []struct {
		name, resources string
		want            []string
	}{
		{"good", fn("CommerceCatalogFunction", ""), nil},
		{"x86", fn("CommerceCatalogFunction", "      Architectures: [x86_64]\n"),
			[]string{"CommerceCatalogFunction: Architectures is [arm64 x86_64], want [arm64]"}},
		{"runtime", fn("CommerceCatalogFunction", "      Runtime: 12\n"),
			[]string{"CommerceCatalogFunction: Runtime is 12, want provided.al2023"}},
		{"no build method", strings.Replace(fn("CommerceCatalogFunction", ""), "BuildMethod: makefile", "BuildMethod: go1.x", 1),
			[]string{"Metadata.BuildMethod is go1.x, want makefile"}},
		{"no target", fn("CommerceCheckoutFunction", ""),
			[]string{"CommerceCheckoutFunction: no Makefile target build-CommerceCheckoutFunction"}},
		{"no lambda.norpc", fn("CommerceCartFunction", ""),
			[]string{"the recipe of build-CommerceCartFunction does not build with -tags lambda.norpc"}},
		{"wrong folder", fn("CommerceOrderFunction", ""),
			[]string{"the recipe of build-CommerceOrderFunction does not build ./functions/commerce/order"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			expect(t, BuildProblems(parse(t, tc.resources), []byte(makefile)), tc.want...)
		})
	}
}

func TestRepoQueues(t *testing.T) {
	expect(t, QueueProblems(repoTemplate(t)))
}

func TestQueueProblems(t *testing.T) {
	queue := func(props string) string {
		return `
  InboxDLQ:
    Type: AWS::SQS::Queue
    Condition: IsSocial
  InboxQueue:
    Type: AWS::SQS::Queue
    Condition: IsSocial
    Properties:
` + props
	}
	const goodQueue = `      VisibilityTimeout: 60
      RedrivePolicy: {deadLetterTargetArn: !GetAtt InboxDLQ.Arn, maxReceiveCount: 5}
`
	consumer := func(timeout, events string) string {
		return `
  SocialInboxFunction:
    Type: AWS::Serverless::Function
    Condition: IsSocial
    Properties:
      Timeout: ` + timeout + `
      Events:
        Inbox:
          Type: SQS
          Properties:
` + events
	}
	const goodEvents = `            Queue: !GetAtt InboxQueue.Arn
            FunctionResponseTypes: [ReportBatchItemFailures]
`
	cases := []struct {
		name, resources string
		want            []string
	}{
		{"good", queue(goodQueue) + consumer("10", goodEvents), nil},
		{"visibility from a parameter default", strings.Replace(queue(goodQueue), "VisibilityTimeout: 60", "VisibilityTimeout: !Ref Vis", 1) +
			consumer("10", goodEvents) + "\nParameters:\n  Vis: {Type: Number, Default: 90}\n", nil},
		{"no redrive policy", queue("      VisibilityTimeout: 60\n") + consumer("10", goodEvents),
			[]string{"queue InboxQueue has no RedrivePolicy.deadLetterTargetArn", "queue InboxQueue maxReceiveCount is <nil>, want >= 5"}},
		{"few receives", queue(strings.Replace(goodQueue, "maxReceiveCount: 5", "maxReceiveCount: 3", 1)) + consumer("10", goodEvents),
			[]string{"maxReceiveCount is 3, want >= 5"}},
		{"visibility too short for the timeout", queue(goodQueue) + consumer("11", goodEvents),
			[]string{"queue InboxQueue VisibilityTimeout is 60, want >= 66 (6 x the function's Timeout 11)"}},
		{"default visibility", queue("      RedrivePolicy: {deadLetterTargetArn: !GetAtt InboxDLQ.Arn, maxReceiveCount: 5}\n") + consumer("10", goodEvents),
			[]string{"VisibilityTimeout is 30, want >= 60"}},
		{"no partial batch failures", queue(goodQueue) + consumer("10", "            Queue: !GetAtt InboxQueue.Arn\n"),
			[]string{"SocialInboxFunction event Inbox: FunctionResponseTypes lacks ReportBatchItemFailures"}},
		{"queue not in the template", queue(goodQueue) + consumer("10", "            Queue: arn:aws:sqs:ap-southeast-3:111111111111:x\n            FunctionResponseTypes: [ReportBatchItemFailures]\n"),
			[]string{"is not !GetAtt <queue>.Arn of a queue in this template"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := tc.resources
			var tpl *samtemplate.Template
			if before, params, ok := strings.Cut(src, "\nParameters:\n"); ok {
				full := strings.Replace(header, "Parameters:\n", "Parameters:\n"+params, 1) + before
				var err error
				if tpl, err = samtemplate.Parse([]byte(full)); err != nil {
					t.Fatal(err)
				}
			} else {
				tpl = parse(t, src)
			}
			expect(t, QueueProblems(tpl), tc.want...)
		})
	}
}

func TestRepoWildcards(t *testing.T) {
	expect(t, WildcardProblems(repoTemplate(t)))
}

func TestWildcardProblems(t *testing.T) {
	stmt := func(action, resource string) string {
		return `
  CatalogTable:
    Type: AWS::DynamoDB::Table
    Condition: IsCommerce
  CommerceCatalogFunction:
    Type: AWS::Serverless::Function
    Condition: IsCommerce
    Properties:
      Policies:
        - Statement:
            - Effect: Allow
              Action: ` + action + `
              Resource: ` + resource + "\n"
	}
	cases := []struct {
		name, resources string
		want            []string
	}{
		{"specific", stmt("[dynamodb:GetItem]", "!GetAtt CatalogTable.Arn"), nil},
		{"index wildcard under one table", stmt("dynamodb:Query", `!Sub "${CatalogTable.Arn}/index/*"`), nil},
		{"tracing on star", stmt("[xray:PutTraceSegments, xray:PutTelemetryRecords]", `"*"`), nil},
		{"every action", stmt(`"*"`, "!GetAtt CatalogTable.Arn"), []string{`Action "*" grants every action of every service`}},
		{"service wildcard", stmt("sqs:*", "!GetAtt CatalogTable.Arn"), []string{`Action "sqs:*" grants every action of sqs`}},
		{"every table", stmt("dynamodb:GetItem", `"*"`), []string{`Resource "*" with DynamoDB/SQS actions acts on every table or queue`}},
		{"every queue by ARN", stmt("sqs:SendMessage", `!Sub "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:*"`),
			[]string{"acts on every matching table or queue"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			expect(t, WildcardProblems(parse(t, tc.resources)), tc.want...)
		})
	}
}

func TestRepoRoutes(t *testing.T) {
	tpl := repoTemplate(t)
	routes, problems := Routes(tpl)
	expect(t, problems)
	specs := map[string][]byte{}
	for _, side := range Sides {
		data, err := os.ReadFile(filepath.Join(repoRoot, SpecPath(side)))
		switch {
		case err == nil:
			specs[side] = data
		case !errors.Is(err, fs.ErrNotExist):
			t.Fatal(err)
		case len(routes[side]) > 0 && !required():
			t.Skipf("%s is missing but the template serves %d %s routes; skipped outside CI", SpecPath(side), len(routes[side]), side)
		}
	}
	expect(t, RouteProblems(tpl, specs))
}

func TestRouteProblems(t *testing.T) {
	const resources = `
  CommerceHttpApi:
    Type: AWS::Serverless::HttpApi
    Condition: IsCommerce
  CommerceCatalogFunction:
    Type: AWS::Serverless::Function
    Condition: IsCommerce
    Properties:
      Events:
        Create: {Type: HttpApi, Properties: {ApiId: !Ref CommerceHttpApi, Method: post, Path: /commerce/v1/products}}
        Get: {Type: HttpApi, Properties: {ApiId: !Ref CommerceHttpApi, Method: GET, Path: "/commerce/v1/products/{productId}"}}
`
	const spec = `
openapi: 3.0.3
paths:
  /commerce/v1/products:
    post: {responses: {"201": {description: created}}}
  /commerce/v1/products/{productId}:
    parameters: [{name: productId, in: path, required: true, schema: {type: string}}]
    get: {responses: {"200": {description: ok}}}
`
	const social = `
  SocialPromotionFunction:
    Type: AWS::Serverless::Function
    Condition: IsSocial
    Properties:
      Events:
        Feed: {Type: HttpApi, Properties: {Method: GET, Path: /social/v1/feed}}
`
	cases := []struct {
		name, resources string
		specs           map[string]string
		want            []string
	}{
		{"matching", resources, map[string]string{"commerce": spec}, nil},
		{"server path in front", resources, map[string]string{"commerce": `
openapi: 3.0.3
servers: [{url: "https://api.example.com/commerce/v1"}]
paths:
  /products: {post: {}}
  /products/{productId}: {get: {}}
`}, nil},
		{"route the document lacks", resources + "        Delete: {Type: HttpApi, Properties: {ApiId: !Ref CommerceHttpApi, Method: DELETE, Path: \"/commerce/v1/products/{productId}\"}}\n",
			map[string]string{"commerce": spec},
			[]string{"api/commerce.yaml: the template serves DELETE /commerce/v1/products/{productId}, the document does not describe it"}},
		{"document route no function serves", resources, map[string]string{"commerce": spec + "    patch: {}\n"},
			[]string{"api/commerce.yaml: describes PATCH /commerce/v1/products/{productId}, which no commerce function serves"}},
		{"different parameter name", resources, map[string]string{"commerce": strings.ReplaceAll(spec, "{productId}", "{id}")},
			[]string{"serves GET /commerce/v1/products/{productId}, the document does not", "describes GET /commerce/v1/products/{id}"}},
		{"no commerce document", resources, nil, []string{"api/commerce.yaml: missing, but the template serves 2 commerce routes"}},
		{"social routes on the implicit API", resources + social, map[string]string{"commerce": spec},
			[]string{"api/social.yaml: missing, but the template serves 1 social routes"}},
		{"social document without social routes", resources, map[string]string{"commerce": spec, "social": "paths:\n  /social/v1/feed: {get: {}}\n"},
			[]string{"api/social.yaml: describes GET /social/v1/feed, which no social function serves"}},
		{"event on the other side's API", resources + `
  SocialFeedFunction:
    Type: AWS::Serverless::Function
    Condition: IsSocial
    Properties:
      Events:
        Feed: {Type: HttpApi, Properties: {ApiId: !Ref CommerceHttpApi, Method: GET, Path: /social/v1/feed}}
`, map[string]string{"commerce": spec},
			[]string{"api/commerce.yaml: the template serves GET /social/v1/feed, the document does not describe it"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			specs := map[string][]byte{}
			for side, s := range tc.specs {
				specs[side] = []byte(s)
			}
			expect(t, RouteProblems(parse(t, tc.resources), specs), tc.want...)
		})
	}
}

func TestRepoLocalOnlyEnv(t *testing.T) {
	expect(t, LocalOnlyProblems(repoTemplate(t)))
}

func TestLocalOnlyProblems(t *testing.T) {
	fn := func(id, vars string) string {
		return "\n  " + id + ":\n    Type: AWS::Serverless::Function\n    Condition: IsCommerce\n    Properties:\n      Handler: bootstrap\n" +
			"      Environment:\n        Variables:\n" + vars
	}
	cases := []struct {
		name, src string
		want      []string
	}{
		{"good", header + fn("CommerceCatalogFunction", "          CATALOG_TABLE: t\n"), nil},
		{"function", header + fn("CommerceCatalogFunction", "          ETALASE_FAULTS: rate=0.05\n"),
			[]string{"CommerceCatalogFunction: Environment sets ETALASE_FAULTS"}},
		{"globals", strings.Replace(header, "    Timeout: 10\n", "    Timeout: 10\n    Environment:\n      Variables:\n        ETALASE_FAULTS: !Ref Faults\n", 1) +
			fn("CommerceCartFunction", "          CART_TABLE: t\n"),
			[]string{"CommerceCartFunction: Environment sets ETALASE_FAULTS"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tpl, err := samtemplate.Parse([]byte(tc.src))
			if err != nil {
				t.Fatal(err)
			}
			expect(t, LocalOnlyProblems(tpl), tc.want...)
		})
	}
}
