// Package samtemplate reads template.yaml, the one description of both accounts'
// resources, and evaluates its intrinsic functions for one side.
//
// Local provisioning, the compliance check, the template tests and the local runner all
// read the template through this package, so there is no second list of tables, queues
// or functions anywhere. Short-form tags (!Ref, !GetAtt, !Sub, !If, ...) are turned into
// their long JSON form ({"Ref": ...}, {"Fn::GetAtt": [...]}) at parse time, so the
// parsed document is also what the SAM JSON schema validates.
package samtemplate

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Template is a parsed SAM template in long (JSON) form.
type Template struct {
	// Doc is the whole document as JSON-compatible values.
	Doc map[string]any
	// Parameters by name.
	Parameters map[string]Parameter
	// Conditions by name, unevaluated.
	Conditions map[string]any
	// Globals is the Globals section (may be empty).
	Globals map[string]any
	// Resources by logical id.
	Resources map[string]Resource
}

// Parameter is one template parameter.
type Parameter struct {
	Type          string
	Default       *string
	AllowedValues []string
}

// Resource is one template resource.
type Resource struct {
	LogicalID  string
	Type       string
	Condition  string
	Properties map[string]any
	Metadata   map[string]any
}

// Load reads and parses a template file.
func Load(path string) (*Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	t, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// Parse parses template YAML (or JSON, which is YAML).
func Parse(data []byte) (*Template, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("parse template: %w", err)
	}
	if len(root.Content) == 0 {
		return nil, errors.New("parse template: empty document")
	}
	v, err := (&converter{onStack: map[*yaml.Node]bool{}}).convert(root.Content[0])
	if err != nil {
		return nil, fmt.Errorf("parse template: %w", err)
	}
	doc, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("parse template: top level is not a mapping")
	}
	t := &Template{
		Doc:        doc,
		Parameters: map[string]Parameter{},
		Conditions: asMap(doc["Conditions"]),
		Globals:    asMap(doc["Globals"]),
		Resources:  map[string]Resource{},
	}
	for name, raw := range asMap(doc["Parameters"]) {
		m := asMap(raw)
		p := Parameter{Type: asString(m["Type"])}
		if d, ok := m["Default"]; ok {
			s := scalarString(d)
			p.Default = &s
		}
		for _, a := range asSlice(m["AllowedValues"]) {
			p.AllowedValues = append(p.AllowedValues, scalarString(a))
		}
		t.Parameters[name] = p
	}
	for id, raw := range asMap(doc["Resources"]) {
		m := asMap(raw)
		r := Resource{
			LogicalID:  id,
			Type:       asString(m["Type"]),
			Condition:  asString(m["Condition"]),
			Properties: asMap(m["Properties"]),
			Metadata:   asMap(m["Metadata"]),
		}
		if r.Type == "" {
			return nil, fmt.Errorf("resource %s: no Type", id)
		}
		t.Resources[id] = r
	}
	if err := checkConditionCycles(t.Conditions); err != nil {
		return nil, fmt.Errorf("parse template: %w", err)
	}
	return t, nil
}

// checkConditionCycles refuses a condition that depends on itself, directly or through
// others (as CloudFormation does): evaluating it would never end.
func checkConditionCycles(conds map[string]any) error {
	const (
		visiting = 1
		done     = 2
	)
	state := map[string]int{}
	var visit func(name string, path []string) error
	visit = func(name string, path []string) error {
		switch state[name] {
		case visiting:
			return fmt.Errorf("condition %s depends on itself: %s", name, strings.Join(append(path, name), " -> "))
		case done:
			return nil
		}
		def, ok := conds[name]
		if !ok {
			return nil // an unknown condition is an error when it is evaluated
		}
		state[name] = visiting
		for _, dep := range conditionRefs(def, nil) {
			if err := visit(dep, append(path, name)); err != nil {
				return err
			}
		}
		state[name] = done
		return nil
	}
	names := make([]string, 0, len(conds))
	for name := range conds {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := visit(name, nil); err != nil {
			return err
		}
	}
	return nil
}

// conditionRefs appends the conditions v names through Condition and Fn::If.
func conditionRefs(v any, out []string) []string {
	switch x := v.(type) {
	case map[string]any:
		for k, arg := range x {
			if len(x) == 1 {
				switch k {
				case "Condition":
					out = append(out, asString(arg))
				case "Fn::If":
					if parts := asSlice(arg); len(parts) > 0 {
						out = append(out, asString(parts[0]))
					}
				}
			}
			out = conditionRefs(arg, out)
		}
	case []any:
		for _, item := range x {
			out = conditionRefs(item, out)
		}
	}
	return out
}

// ResourceIDs returns the logical ids of the resources of a type ("" for all), sorted.
func (t *Template) ResourceIDs(typ string) []string {
	var ids []string
	for id, r := range t.Resources {
		if typ == "" || r.Type == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// intrinsicTags maps a short-form tag to its long-form key.
var intrinsicTags = map[string]string{
	"!Ref": "Ref", "!Condition": "Condition",
	"!GetAtt": "Fn::GetAtt", "!Sub": "Fn::Sub", "!If": "Fn::If", "!Equals": "Fn::Equals",
	"!Not": "Fn::Not", "!And": "Fn::And", "!Or": "Fn::Or", "!Join": "Fn::Join",
	"!Select": "Fn::Select", "!Split": "Fn::Split", "!FindInMap": "Fn::FindInMap",
	"!Base64": "Fn::Base64", "!GetAZs": "Fn::GetAZs", "!ImportValue": "Fn::ImportValue",
	"!Cidr": "Fn::Cidr", "!Transform": "Fn::Transform", "!Length": "Fn::Length",
	"!ToJsonString": "Fn::ToJsonString",
}

// maxValues bounds the values one document converts to. An alias repeats its anchor's
// whole tree, so a few hundred bytes of nested aliases ("billion laughs") would expand
// without bound; the repository's template is a few thousand values.
const maxValues = 1 << 18

// converter turns YAML nodes into JSON-compatible values, expanding aliases: it counts
// the values it makes (maxValues) and knows the nodes it is inside, so that an alias to
// one of them (a: &x [*x]) is an error rather than an endless recursion.
type converter struct {
	values  int
	onStack map[*yaml.Node]bool
}

// convert turns a YAML node into JSON-compatible values with intrinsics in long form.
func (c *converter) convert(n *yaml.Node) (any, error) {
	if c.values++; c.values > maxValues {
		return nil, fmt.Errorf("line %d: the document expands to more than %d values", n.Line, maxValues)
	}
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil || c.onStack[n.Alias] {
			return nil, fmt.Errorf("line %d: alias *%s refers to a node that contains it", n.Line, n.Value)
		}
		return c.convert(n.Alias)
	}
	if n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode {
		c.onStack[n] = true
		defer delete(c.onStack, n)
	}
	if key, ok := intrinsicTags[n.Tag]; ok {
		inner := *n
		inner.Tag = ""
		if n.Kind == yaml.ScalarNode {
			inner.Tag = "!!str"
		}
		v, err := c.convert(&inner)
		if err != nil {
			return nil, err
		}
		if key == "Fn::GetAtt" {
			if s, ok := v.(string); ok {
				id, attr, found := strings.Cut(s, ".")
				if !found {
					return nil, fmt.Errorf("line %d: !GetAtt %q needs Resource.Attribute", n.Line, s)
				}
				v = []any{id, attr}
			}
		}
		return map[string]any{key: v}, nil
	}
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		return nil, fmt.Errorf("line %d: unknown tag %s", n.Line, n.Tag)
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return c.convert(n.Content[0])
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
				return nil, fmt.Errorf("line %d: merge keys are not supported", k.Line)
			}
			v, err := c.convert(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[k.Value] = v
		}
		return m, nil
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for _, item := range n.Content {
			v, err := c.convert(item)
			if err != nil {
				return nil, err
			}
			s = append(s, v)
		}
		return s, nil
	case yaml.ScalarNode:
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
		return v, nil
	}
	return nil, fmt.Errorf("line %d: unexpected YAML node", n.Line)
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	if m == nil {
		return map[string]any{}
	}
	return m
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

func asString(v any) string {
	s, _ := v.(string)
	return s
}

// scalarString renders a scalar as CloudFormation sees it: everything is a string.
func scalarString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	default:
		return fmt.Sprint(x)
	}
}
