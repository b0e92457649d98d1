package samtemplate

import (
	"fmt"
	"maps"
	"sort"
)

// Serverless resource types the tooling understands.
const (
	TypeFunction = "AWS::Serverless::Function"
	TypeHttpApi  = "AWS::Serverless::HttpApi"
	TypeTable    = "AWS::DynamoDB::Table"
	TypeQueue    = "AWS::SQS::Queue"
)

// Event is one entry of a function's Events.
type Event struct {
	Name       string
	Type       string
	Properties map[string]any
}

// Function returns a function resource with the template's Globals.Function merged in,
// as SAM merges them: scalars in the function win, maps merge, lists append.
func (t *Template) Function(id string) (Resource, error) {
	r, ok := t.Resources[id]
	if !ok || r.Type != TypeFunction {
		return Resource{}, fmt.Errorf("no function %s", id)
	}
	g := asMap(t.Globals["Function"])
	merged, _ := mergeGlobals(g, r.Properties).(map[string]any)
	r.Properties = merged
	return r, nil
}

// Events returns a function resource's events, sorted by name.
func (r Resource) Events() []Event {
	var out []Event
	for name, raw := range asMap(r.Properties["Events"]) {
		m := asMap(raw)
		out = append(out, Event{Name: name, Type: asString(m["Type"]), Properties: asMap(m["Properties"])})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func mergeGlobals(global, local any) any {
	gm, gok := global.(map[string]any)
	lm, lok := local.(map[string]any)
	if gok && lok && !isIntrinsic(gm) && !isIntrinsic(lm) {
		out := maps.Clone(gm)
		for k, v := range lm {
			if gv, ok := out[k]; ok {
				out[k] = mergeGlobals(gv, v)
			} else {
				out[k] = v
			}
		}
		return out
	}
	gs, gok := global.([]any)
	ls, lok := local.([]any)
	if gok && lok {
		return append(append([]any{}, gs...), ls...)
	}
	if local == nil {
		return global
	}
	return local
}

func isIntrinsic(m map[string]any) bool {
	if len(m) != 1 {
		return false
	}
	for k := range m {
		return k == "Ref" || k == "Condition" || len(k) > 4 && k[:4] == "Fn::"
	}
	return false
}
