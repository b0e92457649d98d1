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
	v, err := convert(root.Content[0])
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
	return t, nil
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

// convert turns a YAML node into JSON-compatible values with intrinsics in long form.
func convert(n *yaml.Node) (any, error) {
	if n.Kind == yaml.AliasNode {
		return convert(n.Alias)
	}
	if key, ok := intrinsicTags[n.Tag]; ok {
		inner := *n
		inner.Tag = ""
		if n.Kind == yaml.ScalarNode {
			inner.Tag = "!!str"
		}
		v, err := convert(&inner)
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
		return convert(n.Content[0])
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
				return nil, fmt.Errorf("line %d: merge keys are not supported", k.Line)
			}
			v, err := convert(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[k.Value] = v
		}
		return m, nil
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := convert(c)
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
