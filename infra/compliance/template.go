package compliance

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/etalase/etalase/infra/localaccount"
	"github.com/etalase/etalase/infra/samtemplate"
)

// Analysis is what the template checks know about one template: on which sides each
// resource deploys, and every IAM statement, SAM policy template and managed policy in it.
type Analysis struct {
	tpl   *samtemplate.Template
	rules Rules
	// ctx evaluates intrinsics as the stack of each side would see them, with a
	// distinct made-up account id per side.
	ctx map[string]*samtemplate.Context
	// sides maps a logical id to the sorted sides it deploys on.
	sides map[string][]string
	// props holds each resource's properties, Globals merged into functions.
	props map[string]map[string]any

	statements []Statement
	templates  []PolicyTemplate
	managed    []ManagedPolicy
}

// Statement is one IAM policy statement in the template.
type Statement struct {
	// Holder is the logical id of the resource that carries the policy.
	Holder string
	// Path locates the statement inside the holder's properties.
	Path string
	// Fields are the statement's keys (Effect, Action, Resource, Principal, ...).
	Fields map[string]any
}

// ResourcePolicy reports whether the statement names a Principal, that is, belongs
// to a resource or trust policy rather than to an identity policy.
func (s Statement) ResourcePolicy() bool {
	_, p := s.Fields["Principal"]
	_, np := s.Fields["NotPrincipal"]
	return p || np
}

// PolicyTemplate is one SAM policy template in a function's Policies, such as
// {DynamoDBCrudPolicy: {TableName: !Ref CatalogTable}}.
type PolicyTemplate struct {
	Holder, Path, Name string
	Params             any
}

// ManagedPolicy is a managed policy attached by name, ARN or reference.
type ManagedPolicy struct {
	Holder, Path string
	Value        any
}

// Analyze evaluates the template's conditions for every side and collects its policies.
func Analyze(tpl *samtemplate.Template, rules Rules) (*Analysis, error) {
	if len(rules.Sides) != 2 {
		return nil, errors.New("rules need exactly two sides")
	}
	a := &Analysis{
		tpl:   tpl,
		rules: rules,
		ctx:   map[string]*samtemplate.Context{},
		sides: map[string][]string{},
		props: map[string]map[string]any{},
	}
	for _, side := range rules.Sides {
		c, err := a.newContext(side)
		if err != nil {
			return nil, fmt.Errorf("side %s: %w", side, err)
		}
		a.ctx[side] = c
		active, err := tpl.Active(c)
		if err != nil {
			return nil, fmt.Errorf("side %s: %w", side, err)
		}
		for id := range active {
			a.sides[id] = append(a.sides[id], side)
		}
	}
	for id, r := range tpl.Resources {
		slices.SortFunc(a.sides[id], func(x, y string) int { return slices.Index(rules.Sides, x) - slices.Index(rules.Sides, y) })
		props := r.Properties
		if r.Type == samtemplate.TypeFunction {
			f, err := tpl.Function(id)
			if err != nil {
				return nil, err
			}
			props = f.Properties
		}
		a.props[id] = props
	}
	for _, id := range tpl.ResourceIDs("") {
		a.collectPolicies(id)
	}
	return a, nil
}

// Sides returns the sides a resource deploys on, in Rules.Sides order: one side for a
// resource with a side condition, both for one without, none for one never deployed.
func (a *Analysis) Sides(id string) []string { return a.sides[id] }

// SideOf returns the one side a resource deploys on, or false when it deploys on
// both or neither.
func (a *Analysis) SideOf(id string) (string, bool) {
	if s := a.sides[id]; len(s) == 1 {
		return s[0], true
	}
	return "", false
}

// Statements returns every IAM statement in the template.
func (a *Analysis) Statements() []Statement { return a.statements }

// Functions returns the logical ids of the template's functions, sorted.
func (a *Analysis) Functions() []string { return a.tpl.ResourceIDs(samtemplate.TypeFunction) }

// sideLabel renders a side set for messages.
func sideLabel(sides []string) string {
	switch len(sides) {
	case 0:
		return "no side"
	case 1:
		return sides[0] + " only"
	}
	return strings.Join(sides, "+")
}

// peerOf returns the other side.
func (a *Analysis) peerOf(side string) string {
	if side == a.rules.Sides[0] {
		return a.rules.Sides[1]
	}
	return a.rules.Sides[0]
}

// accountID is the made-up account id the checks give a side.
func (a *Analysis) accountID(side string) string {
	if acc, ok := localaccount.BySide(side); ok {
		return acc.ID
	}
	return fmt.Sprintf("%012d", slices.Index(a.rules.Sides, side)+1)
}

// newContext returns the evaluation context of side's stack. Parameters without a
// default get a placeholder; only Side and the peer's account id matter here.
func (a *Analysis) newContext(side string) (*samtemplate.Context, error) {
	params := map[string]string{a.rules.SideParam: side, a.rules.PeerParam: a.accountID(a.peerOf(side))}
	for name, p := range a.tpl.Parameters {
		if _, ok := params[name]; ok || p.Default != nil {
			continue
		}
		params[name] = "placeholder"
		if len(p.AllowedValues) > 0 {
			params[name] = p.AllowedValues[0]
		}
	}
	c, err := a.tpl.NewContext(params, map[string]string{"AWS::Region": localaccount.Region, "AWS::AccountId": a.accountID(side)})
	if err != nil {
		return nil, err
	}
	a.resolve(c)
	return c, nil
}

// nameKeys are the properties that give a resource its physical name.
var nameKeys = []string{"QueueName", "TableName", "RoleName", "FunctionName", "TopicName", "ManagedPolicyName", "PolicyName"}

// resolve installs Ref and GetAtt resolvers that produce the names and ARNs
// CloudFormation would, so that an ARN written by hand and one from GetAtt compare equal.
func (a *Analysis) resolve(c *samtemplate.Context) {
	region, acct, part := c.Pseudo["AWS::Region"], c.Pseudo["AWS::AccountId"], c.Pseudo["AWS::Partition"]
	depth := 0
	name := func(id string) string {
		props := a.tpl.Resources[id].Properties
		for _, k := range nameKeys {
			if v, ok := props[k]; ok && depth < 8 {
				depth++
				s, err := a.tpl.EvaluateString(v, c)
				depth--
				if err == nil {
					return s
				}
			}
		}
		return id
	}
	c.Ref = func(id string) (string, error) {
		if a.tpl.Resources[id].Type == samtemplate.TypeQueue {
			return fmt.Sprintf("https://sqs.%s.amazonaws.com/%s/%s", region, acct, name(id)), nil
		}
		return name(id), nil
	}
	c.GetAtt = func(id, attr string) (string, error) {
		typ := a.tpl.Resources[id].Type
		switch {
		case typ == samtemplate.TypeQueue && attr == "Arn":
			return fmt.Sprintf("arn:%s:sqs:%s:%s:%s", part, region, acct, name(id)), nil
		case typ == samtemplate.TypeQueue && attr == "QueueName":
			return name(id), nil
		case typ == samtemplate.TypeQueue && attr == "QueueUrl":
			return c.Ref(id)
		case typ == samtemplate.TypeTable && attr == "Arn":
			return fmt.Sprintf("arn:%s:dynamodb:%s:%s:table/%s", part, region, acct, name(id)), nil
		case typ == samtemplate.TypeTable && attr == "StreamArn":
			return fmt.Sprintf("arn:%s:dynamodb:%s:%s:table/%s/stream/0", part, region, acct, name(id)), nil
		case typ == "AWS::IAM::Role" && attr == "Arn":
			return fmt.Sprintf("arn:%s:iam::%s:role/%s", part, acct, name(id)), nil
		case typ == samtemplate.TypeFunction && attr == "Arn":
			return fmt.Sprintf("arn:%s:lambda:%s:%s:function:%s", part, region, acct, name(id)), nil
		}
		return fmt.Sprintf("arn:%s:cloudformation:%s:%s:%s/%s", part, region, acct, id, attr), nil
	}
}

// eval resolves v as side's stack would; ok is false when it does not resolve.
func (a *Analysis) eval(v any, side string) (any, bool) {
	c, found := a.ctx[side]
	if !found {
		return nil, false
	}
	out, err := a.tpl.Evaluate(v, c)
	return out, err == nil
}

// evalStrings resolves v to a list of strings (a single string is a list of one).
func (a *Analysis) evalStrings(v any, side string) ([]string, bool) {
	out, ok := a.eval(v, side)
	if !ok {
		return nil, false
	}
	switch x := out.(type) {
	case string:
		return []string{x}, true
	case []any:
		var ss []string
		for _, item := range x {
			s, isStr := item.(string)
			if !isStr {
				return nil, false
			}
			ss = append(ss, s)
		}
		return ss, true
	}
	return nil, false
}

// collectPolicies records the statements, policy templates and managed policies of one
// resource.
func (a *Analysis) collectPolicies(id string) {
	props := a.props[id]
	walkStatements(props, "", func(path string, st map[string]any) {
		a.statements = append(a.statements, Statement{Holder: id, Path: path, Fields: st})
	})
	typ := a.tpl.Resources[id].Type
	if typ == samtemplate.TypeFunction || typ == "AWS::Serverless::StateMachine" {
		for i, item := range branches(listOf(props["Policies"])) {
			path := fmt.Sprintf("Policies[%d]", i)
			m, isMap := item.(map[string]any)
			switch {
			case !isMap:
				a.managed = append(a.managed, ManagedPolicy{Holder: id, Path: path, Value: item})
			case isIntrinsic(m):
				a.managed = append(a.managed, ManagedPolicy{Holder: id, Path: path, Value: item})
			case m["Statement"] != nil:
				// An inline policy document; its statements are walked above.
			default:
				for _, name := range sortedKeys(m) {
					a.templates = append(a.templates, PolicyTemplate{Holder: id, Path: path + "." + name, Name: name, Params: m[name]})
				}
			}
		}
	}
	for i, item := range branches(listOf(props["ManagedPolicyArns"])) {
		a.managed = append(a.managed, ManagedPolicy{Holder: id, Path: fmt.Sprintf("ManagedPolicyArns[%d]", i), Value: item})
	}
}

// walkStatements calls fn for every statement of every policy document (a map with a
// Statement key) inside v. Statements behind Fn::If count on both branches.
func walkStatements(v any, path string, fn func(path string, st map[string]any)) {
	switch x := v.(type) {
	case map[string]any:
		if raw, ok := x["Statement"]; ok {
			for i, item := range branches(listOf(raw)) {
				if st, isMap := item.(map[string]any); isMap && !isIntrinsic(st) {
					fn(fmt.Sprintf("%sStatement[%d]", dot(path), i), st)
				}
			}
		}
		for _, k := range sortedKeys(x) {
			if k != "Statement" {
				walkStatements(x[k], dot(path)+k, fn)
			}
		}
	case []any:
		for i, item := range x {
			walkStatements(item, fmt.Sprintf("%s[%d]", path, i), fn)
		}
	}
}

func dot(path string) string {
	if path == "" {
		return ""
	}
	return path + "."
}

// listOf returns v as a list: a list as is, nil as empty, anything else as one item.
func listOf(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		return x
	}
	return []any{v}
}

// branches replaces every Fn::If item by its two branches (dropping AWS::NoValue),
// so that a check sees whatever either condition could deploy.
func branches(items []any) []any {
	var out []any
	for _, item := range items {
		m, ok := item.(map[string]any)
		if args, isIf := m["Fn::If"].([]any); ok && isIf && len(m) == 1 && len(args) == 3 {
			for _, b := range branches(args[1:]) {
				if r, isMap := b.(map[string]any); isMap && r["Ref"] == "AWS::NoValue" {
					continue
				}
				out = append(out, b)
			}
			continue
		}
		out = append(out, item)
	}
	return out
}

// isIntrinsic reports whether m is an intrinsic function call.
func isIntrinsic(m map[string]any) bool {
	if len(m) != 1 {
		return false
	}
	for k := range m {
		return k == "Ref" || k == "Condition" || strings.HasPrefix(k, "Fn::")
	}
	return false
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// literals returns the literal strings of a string or list value; dynamic is true when
// some item is not a literal string (an intrinsic), which the caller cannot vouch for.
func literals(v any) (vals []string, dynamic bool) {
	for _, item := range branches(listOf(v)) {
		if s, ok := item.(string); ok {
			vals = append(vals, s)
		} else {
			dynamic = true
		}
	}
	return vals, dynamic
}
