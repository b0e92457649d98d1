package samtemplate

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary documents to Parse and, when they parse, reads them the
// way the tooling does: every function with its Globals and events, a context for
// each value of the first parameter, the active resources, and every resource's
// properties evaluated. None of it may panic, overflow the stack or hang; a bad
// document is an error.
func FuzzParse(f *testing.F) {
	f.Add([]byte(sample))
	if repo, err := os.ReadFile("../../template.yaml"); err == nil {
		f.Add(repo)
	}
	for _, doc := range []string{
		"", "[]", "null", "Resources: 1", "Resources: {A: {}}", "Resources: {A: {Type: 1}}",
		"a: &x [*x]", "a: &x {b: *x}", "a: &x !Not [*x]",
		"a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]", "Conditions: {C: !Condition C}\nResources: {R: {Type: T, Condition: C}}",
		"Conditions: {C: !Not [!Condition D], D: !Condition C}\nResources: {R: {Type: T, Condition: D}}",
		"Resources: {R: {Type: T, Properties: {P: !Sub '${R.Arn}-${AWS::Region}-${!x}'}}}",
		"Resources: {R: {Type: T, Properties: {P: !Select [9, !Split [',', 'a,b']]}}}",
		"Resources: {R: {Type: T, Properties: {P: !GetAtt NoDot}}}",
		"Resources: {F: {Type: AWS::Serverless::Function, Properties: {Events: {E: {Type: HttpApi, Properties: {Path: /a}}}}}}\nGlobals: {Function: {Events: []}}",
		"a: !Unknown x", "<<: {a: 1}", "a: [&a 1, *a, *a]",
		"Parameters: {P: {Type: String, AllowedValues: [1, null, {a: b}]}}",
	} {
		f.Add([]byte(doc))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tpl, err := Parse(data)
		if err != nil {
			if tpl != nil {
				t.Fatalf("error %v with a template", err)
			}
			return
		}
		readAll(t, tpl)
	})
}

// readAll reads a parsed template as the local runner, provisioning and the checks do.
func readAll(t *testing.T, tpl *Template) {
	for _, id := range tpl.ResourceIDs(TypeFunction) {
		fn, err := tpl.Function(id)
		if err != nil {
			t.Fatalf("listed function %s: %v", id, err)
		}
		_ = fn.Events()
	}
	var first string
	for name := range tpl.Parameters {
		if first == "" || name < first {
			first = name
		}
	}
	values := []string{"a"}
	if first != "" && len(tpl.Parameters[first].AllowedValues) > 0 {
		values = tpl.Parameters[first].AllowedValues
	}
	for _, v := range values {
		params := map[string]string{}
		for name := range tpl.Parameters {
			params[name] = v
		}
		c, err := tpl.NewContext(params, map[string]string{"AWS::Region": "ap-southeast-3", "AWS::AccountId": "111111111111"})
		if err != nil {
			continue
		}
		c.Ref = func(id string) (string, error) { return "ref-" + id, nil }
		c.GetAtt = func(id, attr string) (string, error) { return id + "." + attr, nil }
		active, err := tpl.Active(c)
		if err != nil {
			continue
		}
		for _, r := range active {
			if _, err := tpl.Evaluate(r.Properties, c); err != nil && errors.Is(err, ErrNoValue) {
				continue
			}
		}
	}
}

// The crashers FuzzParse found are errors now: an alias inside its own anchor, an
// alias bomb, and conditions that depend on themselves.
func TestParseRefusesEndlessDocuments(t *testing.T) {
	bomb := "a: &a [x,x,x,x,x,x,x,x,x]\n"
	for i, prev := range []string{"a", "b", "c", "d", "e", "f", "g"} {
		name := string(rune('b' + i))
		bomb += name + ": &" + name + " [" + strings.Repeat("*"+prev+",", 8) + "*" + prev + "]\n"
	}
	for name, doc := range map[string]string{
		"alias in its anchor":           "a: &x [*x]",
		"alias in its tagged anchor":    "a: &x !Not [*x]",
		"alias in its mapping":          "a: &x {b: {c: *x}}",
		"alias bomb":                    bomb,
		"condition on itself":           "Conditions: {C: !Condition C}",
		"conditions on each other":      "Conditions: {C: !Not [!Condition D], D: !And [!Condition E, !Condition C], E: !Equals [a, a]}",
		"condition on itself in Fn::If": "Conditions: {C: !If [C, true, false]}",
	} {
		if _, err := Parse([]byte(doc)); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
	if _, err := Parse([]byte("a: &x [1]\nb: [*x, [*x]]\nConditions: {C: !Not [!Condition D], D: !Equals [a, b]}")); err != nil {
		t.Errorf("repeated alias and a condition chain: %v", err)
	}
}

// Conditions that each name the next one twice evaluate once each, not 2^n times.
func TestConditionsEvaluateOnce(t *testing.T) {
	var b strings.Builder
	b.WriteString("Conditions:\n")
	const n = 64
	for i := range n {
		fmt.Fprintf(&b, "  C%d: !And [!Condition C%d, !Condition C%d]\n", i, i+1, i+1)
	}
	fmt.Fprintf(&b, "  C%d: !Equals [a, a]\nResources: {R: {Type: T, Condition: C0}}\n", n)
	tpl, err := Parse([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	c, err := tpl.NewContext(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	active, err := tpl.Active(c)
	if err != nil || len(active) != 1 {
		t.Fatalf("active = %v, %v", active, err)
	}
}
