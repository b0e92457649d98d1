package templatecheck

import (
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/etalase/etalase/infra/compliance"
	"github.com/etalase/etalase/infra/samtemplate"
	"github.com/etalase/etalase/shared/platform/awsclient"
)

// analyze evaluates the template's sides with the repository's rules.
func analyze(tpl *samtemplate.Template) (*compliance.Analysis, []string) {
	a, err := compliance.Analyze(tpl, compliance.DefaultRules())
	if err != nil {
		return nil, []string{"evaluate the template's sides: " + err.Error()}
	}
	return a, nil
}

// Sides are the template's Side values, which are also the folders under functions/.
var Sides = compliance.DefaultRules().Sides

// FunctionFolders returns every folder under repoDir/functions holding a main.go, as
// slash paths relative to repoDir, sorted; testdata, hidden and _ folders are skipped.
func FunctionFolders(repoDir string) ([]string, error) {
	root := filepath.Join(repoDir, "functions")
	var out []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == root && os.IsNotExist(err) {
				return fs.SkipAll
			}
			return err
		}
		name := d.Name()
		if d.IsDir() && path != root && (name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
			return fs.SkipDir
		}
		if !d.IsDir() && name == "main.go" {
			rel, err := filepath.Rel(repoDir, filepath.Dir(path))
			if err != nil {
				return err
			}
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("find function folders: %w", err)
	}
	sort.Strings(out)
	return out, nil
}

// FolderFor returns the folder a function's logical id names under the convention
// <Side><Name>Function -> functions/<side>/<lowercase name>, and the side.
func FolderFor(logicalID string) (folder, side string, ok bool) {
	rest, found := strings.CutSuffix(logicalID, "Function")
	if !found {
		return "", "", false
	}
	for _, s := range Sides {
		name, hasSide := strings.CutPrefix(rest, strings.ToUpper(s[:1])+s[1:])
		if hasSide && name != "" && name[0] >= 'A' && name[0] <= 'Z' {
			return "functions/" + s + "/" + strings.ToLower(name), s, true
		}
	}
	return "", "", false
}

// FolderProblems checks that template functions and function folders match one to
// one: <Side><Name>Function lives in functions/<side>/<strings.ToLower(Name)>, and
// its Condition deploys it on that side.
func FolderProblems(tpl *samtemplate.Template, folders []string) []string {
	a, bad := analyze(tpl)
	if a == nil {
		return bad
	}
	claimed := map[string]string{}
	for _, id := range a.Functions() {
		folder, side, ok := FolderFor(id)
		if !ok {
			bad = append(bad, fmt.Sprintf("%s: a function's logical id is <Side><Name>Function with Side one of %v", id, Sides))
			continue
		}
		claimed[folder] = id
		if got, ok := a.SideOf(id); !ok || got != side {
			bad = append(bad, fmt.Sprintf("%s: its name says %s but its Condition deploys it on %s", id, side, strings.Join(a.Sides(id), "+")))
		}
		if !slices.Contains(folders, folder) {
			bad = append(bad, fmt.Sprintf("%s: no %s/main.go", id, folder))
		}
	}
	for _, f := range folders {
		parts := strings.Split(f, "/")
		if len(parts) != 3 || parts[0] != "functions" || !slices.Contains(Sides, parts[1]) {
			bad = append(bad, fmt.Sprintf("%s/main.go: a function folder is functions/<%s>/<name>", f, strings.Join(Sides, "|")))
			continue
		}
		if _, ok := claimed[f]; !ok {
			bad = append(bad, fmt.Sprintf("%s: no function in the template; name it %s<Name>Function with strings.ToLower(Name) == %q",
				f, strings.ToUpper(parts[1][:1])+parts[1][1:], parts[2]))
		}
	}
	return bad
}

// BuildProblems checks every function's build settings (Globals merged):
// Architectures [arm64], Runtime provided.al2023, Metadata.BuildMethod makefile, and a
// Makefile target build-<LogicalId> whose recipe, with Makefile variables expanded,
// builds the function's folder with -tags lambda.norpc.
func BuildProblems(tpl *samtemplate.Template, makefile []byte) []string {
	var bad []string
	mk := ParseMakefile(makefile)
	for _, id := range tpl.ResourceIDs(samtemplate.TypeFunction) {
		f, err := tpl.Function(id)
		if err != nil {
			bad = append(bad, err.Error())
			continue
		}
		p := f.Properties
		if archs, ok := p["Architectures"].([]any); !ok || len(archs) != 1 || archs[0] != "arm64" {
			bad = append(bad, fmt.Sprintf("%s: Architectures is %v, want [arm64]", id, p["Architectures"]))
		}
		if p["Runtime"] != "provided.al2023" {
			bad = append(bad, fmt.Sprintf("%s: Runtime is %v, want provided.al2023", id, p["Runtime"]))
		}
		if f.Metadata["BuildMethod"] != "makefile" {
			bad = append(bad, fmt.Sprintf("%s: Metadata.BuildMethod is %v, want makefile", id, f.Metadata["BuildMethod"]))
		}
		target := "build-" + id
		recipe, ok := mk.Recipe(target)
		if !ok {
			bad = append(bad, fmt.Sprintf("%s: no Makefile target %s", id, target))
			continue
		}
		if folder, _, ok := FolderFor(id); ok && !mentionsFolder(recipe, folder) {
			bad = append(bad, fmt.Sprintf("%s: the recipe of %s does not build ./%s", id, target, folder))
		}
		if !strings.Contains(recipe, "lambda.norpc") {
			bad = append(bad, fmt.Sprintf("%s: the recipe of %s does not build with -tags lambda.norpc", id, target))
		}
	}
	return bad
}

// mentionsFolder reports whether a recipe names folder as a path of its own.
func mentionsFolder(recipe, folder string) bool {
	re := regexp.MustCompile(`(^|[\s"'=])(\./)?` + regexp.QuoteMeta(folder) + `/?($|[\s"';])`)
	return re.MatchString(recipe)
}

// Makefile is the little of a Makefile the build check needs: variables and the
// recipes of explicit targets.
type Makefile struct {
	vars    map[string]string
	recipes map[string][]string
}

var (
	mkAssign = regexp.MustCompile(`^(?:export\s+|override\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*(?:[:?+!]?=|::=)\s*(.*)$`)
	mkRule   = regexp.MustCompile(`^([^\s:=#][^:=#]*?)\s*::?(?:[^=]|$)`)
	mkRef    = regexp.MustCompile(`\$[({]([A-Za-z_][A-Za-z0-9_.-]*)[)}]`)
)

// ParseMakefile reads variable assignments and rules; line continuations are joined.
func ParseMakefile(data []byte) *Makefile {
	m := &Makefile{vars: map[string]string{}, recipes: map[string][]string{}}
	text := strings.ReplaceAll(string(data), "\\\n", " ")
	var current []string
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "\t") {
			for _, t := range current {
				m.recipes[t] = append(m.recipes[t], strings.TrimSpace(line))
			}
			continue
		}
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		if a := mkAssign.FindStringSubmatch(trimmed); a != nil {
			if !strings.Contains(trimmed, "+=") {
				m.vars[a[1]] = a[2]
			} else {
				m.vars[a[1]] = strings.TrimSpace(m.vars[a[1]] + " " + a[2])
			}
			current = nil
			continue
		}
		if r := mkRule.FindStringSubmatch(trimmed); r != nil {
			current = strings.Fields(r[1])
			for _, t := range current {
				if _, ok := m.recipes[t]; !ok {
					m.recipes[t] = nil
				}
			}
			continue
		}
		current = nil
	}
	return m
}

// Recipe returns a target's recipe with Makefile variables expanded.
func (m *Makefile) Recipe(target string) (string, bool) {
	lines, ok := m.recipes[target]
	if !ok {
		return "", false
	}
	return m.expand(strings.Join(lines, "\n"), 0), true
}

func (m *Makefile) expand(s string, depth int) string {
	if depth > 10 {
		return s
	}
	return mkRef.ReplaceAllStringFunc(s, func(ref string) string {
		name := mkRef.FindStringSubmatch(ref)[1]
		v, ok := m.vars[name]
		if !ok {
			return ref
		}
		return m.expand(v, depth+1)
	})
}

// Lambda defaults that apply when the template leaves a value out.
const (
	defaultVisibilityTimeout = 30
	defaultFunctionTimeout   = 3
	minMaxReceiveCount       = 5
	visibilityFactor         = 6
)

// QueueProblems checks every SQS queue a function consumes (events of Type SQS): the
// queue is declared in the template, has a RedrivePolicy to a dead-letter queue of
// the template with maxReceiveCount >= 5, a VisibilityTimeout at least six times the
// consumer's Timeout, and the event reports partial batch failures.
func QueueProblems(tpl *samtemplate.Template) []string {
	var bad []string
	for _, id := range tpl.ResourceIDs(samtemplate.TypeFunction) {
		f, err := tpl.Function(id)
		if err != nil {
			bad = append(bad, err.Error())
			continue
		}
		timeout, ok := number(tpl, f.Properties["Timeout"], defaultFunctionTimeout)
		if !ok {
			bad = append(bad, fmt.Sprintf("%s: cannot read Timeout %v", id, f.Properties["Timeout"]))
			continue
		}
		for _, ev := range f.Events() {
			if ev.Type != "SQS" {
				continue
			}
			where := id + " event " + ev.Name
			if !slices.Contains(stringList(ev.Properties["FunctionResponseTypes"]), "ReportBatchItemFailures") {
				bad = append(bad, where+": FunctionResponseTypes lacks ReportBatchItemFailures")
			}
			qid, ok := queueRef(tpl, ev.Properties["Queue"])
			if !ok {
				bad = append(bad, fmt.Sprintf("%s: Queue %v is not !GetAtt <queue>.Arn of a queue in this template", where, ev.Properties["Queue"]))
				continue
			}
			q := tpl.Resources[qid].Properties
			rp, _ := q["RedrivePolicy"].(map[string]any)
			if dlq, ok := queueRef(tpl, rp["deadLetterTargetArn"]); !ok {
				bad = append(bad, fmt.Sprintf("%s: queue %s has no RedrivePolicy.deadLetterTargetArn to a queue of this template", where, qid))
			} else if dlq == qid {
				bad = append(bad, fmt.Sprintf("%s: queue %s is its own dead-letter queue", where, qid))
			}
			if n, ok := number(tpl, rp["maxReceiveCount"], 0); !ok || n < minMaxReceiveCount {
				bad = append(bad, fmt.Sprintf("%s: queue %s maxReceiveCount is %v, want >= %d", where, qid, rp["maxReceiveCount"], minMaxReceiveCount))
			}
			vt, ok := number(tpl, q["VisibilityTimeout"], defaultVisibilityTimeout)
			if !ok || vt < visibilityFactor*timeout {
				bad = append(bad, fmt.Sprintf("%s: queue %s VisibilityTimeout is %v, want >= %d (%d x the function's Timeout %d)",
					where, qid, vt, visibilityFactor*timeout, visibilityFactor, timeout))
			}
		}
	}
	return bad
}

// queueRef returns the queue a value names as !GetAtt Q.Arn.
func queueRef(tpl *samtemplate.Template, v any) (string, bool) {
	m, _ := v.(map[string]any)
	ga, _ := m["Fn::GetAtt"].([]any)
	if len(m) != 1 || len(ga) != 2 || ga[1] != "Arn" {
		return "", false
	}
	id, _ := ga[0].(string)
	return id, tpl.Resources[id].Type == samtemplate.TypeQueue
}

// number reads an integer property: a literal, a numeric string, or a Ref to a
// parameter with a default; def applies when v is absent.
func number(tpl *samtemplate.Template, v any, def int) (int, bool) {
	switch x := v.(type) {
	case nil:
		return def, true
	case int:
		return x, true
	case float64:
		return int(x), x == float64(int(x))
	case string:
		n, err := strconv.Atoi(x)
		return n, err == nil
	case map[string]any:
		name, _ := x["Ref"].(string)
		if p, ok := tpl.Parameters[name]; ok && p.Default != nil {
			return number(tpl, *p.Default, def)
		}
	}
	return 0, false
}

func stringList(v any) []string {
	var out []string
	for _, item := range asList(v) {
		if s, ok := item.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func asList(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		return x
	}
	return []any{v}
}

// WildcardProblems lists IAM grants of "*" or "service:*" actions and grants on every
// table or queue; it is the compliance check's rule, shared.
func WildcardProblems(tpl *samtemplate.Template) []string {
	a, bad := analyze(tpl)
	if a == nil {
		return bad
	}
	return a.WildcardProblems()
}

// SpecPath is where a side's OpenAPI document lives, relative to the repository root.
func SpecPath(side string) string { return "api/" + side + ".yaml" }

// openAPIMethods maps OpenAPI operation keys to HTTP API route methods.
var openAPIMethods = map[string]string{
	"get": "GET", "put": "PUT", "post": "POST", "delete": "DELETE", "patch": "PATCH",
	"head": "HEAD", "options": "OPTIONS", "trace": "TRACE", "x-amazon-apigateway-any-method": "ANY",
}

// Routes returns the HTTP API routes ("METHOD /path") the template's functions
// serve, by side. An event without ApiId is on SAM's implicit API, on its function's side.
func Routes(tpl *samtemplate.Template) (map[string][]string, []string) {
	a, bad := analyze(tpl)
	if a == nil {
		return nil, bad
	}
	routes := map[string][]string{}
	for _, id := range a.Functions() {
		f, err := tpl.Function(id)
		if err != nil {
			bad = append(bad, err.Error())
			continue
		}
		for _, ev := range f.Events() {
			if ev.Type != "HttpApi" {
				continue
			}
			side, ok := a.SideOf(id)
			if api, hasAPI := ev.Properties["ApiId"]; hasAPI {
				ref, _ := api.(map[string]any)["Ref"].(string)
				if tpl.Resources[ref].Type != samtemplate.TypeHttpApi {
					bad = append(bad, fmt.Sprintf("%s event %s: ApiId is not !Ref of an AWS::Serverless::HttpApi", id, ev.Name))
					continue
				}
				side, ok = a.SideOf(ref)
			}
			if !ok {
				bad = append(bad, fmt.Sprintf("%s event %s: its API deploys on no single side", id, ev.Name))
				continue
			}
			method, _ := ev.Properties["Method"].(string)
			path, _ := ev.Properties["Path"].(string)
			routes[side] = append(routes[side], strings.ToUpper(method)+" "+path)
		}
	}
	for _, s := range routes {
		sort.Strings(s)
	}
	return routes, bad
}

// SpecRoutes returns the routes an OpenAPI document describes ("METHOD /path"), with
// the path of its first server URL, if any, in front of relative paths.
func SpecRoutes(doc []byte) ([]string, error) {
	var spec struct {
		Servers []struct {
			URL string `yaml:"url"`
		} `yaml:"servers"`
		Paths map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(doc, &spec); err != nil {
		return nil, fmt.Errorf("parse OpenAPI document: %w", err)
	}
	prefix := ""
	if len(spec.Servers) > 0 {
		if u, err := url.Parse(spec.Servers[0].URL); err == nil {
			prefix = strings.TrimSuffix(u.Path, "/")
		}
	}
	var out []string
	for path, ops := range spec.Paths {
		full := path
		if prefix != "" && !strings.HasPrefix(path, prefix+"/") {
			full = prefix + path
		}
		for key := range ops {
			if m, ok := openAPIMethods[strings.ToLower(key)]; ok {
				out = append(out, m+" "+full)
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

// RouteProblems compares each side's HTTP API routes with its OpenAPI document
// (specs maps a side to the document's bytes; a missing side has no document).
// A side with neither routes nor a document is fine.
func RouteProblems(tpl *samtemplate.Template, specs map[string][]byte) []string {
	routes, bad := Routes(tpl)
	if routes == nil {
		return bad
	}
	for _, side := range Sides {
		doc, haveDoc := specs[side]
		if !haveDoc {
			if len(routes[side]) > 0 {
				bad = append(bad, fmt.Sprintf("%s: missing, but the template serves %d %s routes", SpecPath(side), len(routes[side]), side))
			}
			continue
		}
		described, err := SpecRoutes(doc)
		if err != nil {
			bad = append(bad, SpecPath(side)+": "+err.Error())
			continue
		}
		for _, r := range routes[side] {
			if !slices.Contains(described, r) {
				bad = append(bad, fmt.Sprintf("%s: the template serves %s, the document does not describe it", SpecPath(side), r))
			}
		}
		for _, r := range described {
			if !slices.Contains(routes[side], r) {
				bad = append(bad, fmt.Sprintf("%s: describes %s, which no %s function serves", SpecPath(side), r, side))
			}
		}
	}
	return bad
}

// LocalOnlyEnv are environment variables only the local runner may give a function:
// awsclient.FaultsEnv switches on fault injection (DynamoDB and SQS calls that fail on
// purpose), which must never reach a deployed function.
var LocalOnlyEnv = []string{awsclient.FaultsEnv}

// LocalOnlyProblems lists functions whose environment (Globals merged) sets a
// LocalOnlyEnv variable.
func LocalOnlyProblems(tpl *samtemplate.Template) []string {
	var bad []string
	for _, id := range tpl.ResourceIDs(samtemplate.TypeFunction) {
		f, err := tpl.Function(id)
		if err != nil {
			bad = append(bad, err.Error())
			continue
		}
		env, _ := f.Properties["Environment"].(map[string]any)
		vars, _ := env["Variables"].(map[string]any)
		for name := range vars {
			if slices.Contains(LocalOnlyEnv, strings.ToUpper(name)) {
				bad = append(bad, fmt.Sprintf("%s: Environment sets %s, which only the local runner may set (fault injection)", id, name))
			}
		}
	}
	sort.Strings(bad)
	return bad
}
