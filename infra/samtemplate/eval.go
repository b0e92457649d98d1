package samtemplate

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// Context says what intrinsic functions resolve to for one deployment.
type Context struct {
	// Params holds parameter values; NewContext fills in defaults.
	Params map[string]string
	// Pseudo holds pseudo parameters: AWS::Region, AWS::AccountId, AWS::Partition,
	// AWS::URLSuffix, AWS::StackName.
	Pseudo map[string]string
	// Ref returns a resource's Ref value (a table name, a queue URL, ...).
	Ref func(logicalID string) (string, error)
	// GetAtt returns a resource attribute (Arn, QueueName, StreamArn, ...).
	GetAtt func(logicalID, attr string) (string, error)

	// conditions caches the conditions evaluated under this context (NewContext makes
	// it): a condition is evaluated once, however many others and resources name it,
	// so that conditions naming each other twice at every level stay linear.
	mu         sync.Mutex
	conditions map[string]bool
}

// ErrNoValue is returned by Evaluate when a value resolves to AWS::NoValue at the top.
var ErrNoValue = errors.New("AWS::NoValue")

// NewContext returns a context with parameter defaults applied under the given values,
// checking that every parameter has a value and that allowed values are respected.
func (t *Template) NewContext(params, pseudo map[string]string) (*Context, error) {
	p := map[string]string{}
	for name, def := range t.Parameters {
		v, ok := params[name]
		if !ok && def.Default != nil {
			v, ok = *def.Default, true
		}
		if !ok {
			return nil, fmt.Errorf("parameter %s has no value", name)
		}
		if len(def.AllowedValues) > 0 && !contains(def.AllowedValues, v) {
			return nil, fmt.Errorf("parameter %s: %q is not one of %v", name, v, def.AllowedValues)
		}
		p[name] = v
	}
	ps := map[string]string{"AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com", "AWS::StackName": "etalase"}
	maps.Copy(ps, pseudo)
	return &Context{Params: p, Pseudo: ps, conditions: map[string]bool{}}, nil
}

// ConditionTrue evaluates a named condition.
func (t *Template) ConditionTrue(name string, c *Context) (bool, error) {
	c.mu.Lock()
	b, cached := c.conditions[name]
	c.mu.Unlock()
	if cached {
		return b, nil
	}
	def, ok := t.Conditions[name]
	if !ok {
		return false, fmt.Errorf("unknown condition %s", name)
	}
	v, err := t.Evaluate(def, c)
	if err != nil {
		return false, fmt.Errorf("condition %s: %w", name, err)
	}
	b, ok = v.(bool)
	if !ok {
		return false, fmt.Errorf("condition %s is not a boolean", name)
	}
	c.mu.Lock()
	if c.conditions != nil {
		c.conditions[name] = b
	}
	c.mu.Unlock()
	return b, nil
}

// Active returns the resources deployed under c (those whose Condition holds), by id.
func (t *Template) Active(c *Context) (map[string]Resource, error) {
	out := map[string]Resource{}
	for id, r := range t.Resources {
		if r.Condition != "" {
			ok, err := t.ConditionTrue(r.Condition, c)
			if err != nil {
				return nil, fmt.Errorf("resource %s: %w", id, err)
			}
			if !ok {
				continue
			}
		}
		out[id] = r
	}
	return out, nil
}

// Evaluate resolves every intrinsic function inside v. Map entries and list items that
// resolve to AWS::NoValue are dropped; a top-level AWS::NoValue returns ErrNoValue.
func (t *Template) Evaluate(v any, c *Context) (any, error) {
	out, none, err := t.eval(v, c)
	if err != nil {
		return nil, err
	}
	if none {
		return nil, ErrNoValue
	}
	return out, nil
}

// EvaluateString resolves v and requires a string (numbers and booleans are rendered).
func (t *Template) EvaluateString(v any, c *Context) (string, error) {
	out, err := t.Evaluate(v, c)
	if err != nil {
		return "", err
	}
	switch x := out.(type) {
	case string, int, float64, bool:
		return scalarString(x), nil
	}
	return "", fmt.Errorf("expected a string, got %T", out)
}

func (t *Template) eval(v any, c *Context) (any, bool, error) {
	switch x := v.(type) {
	case []any:
		out := make([]any, 0, len(x))
		for _, item := range x {
			r, none, err := t.eval(item, c)
			if err != nil {
				return nil, false, err
			}
			if !none {
				out = append(out, r)
			}
		}
		return out, false, nil
	case map[string]any:
		if len(x) == 1 {
			for k, arg := range x {
				if k == "Ref" || k == "Condition" || strings.HasPrefix(k, "Fn::") {
					return t.intrinsic(k, arg, c)
				}
			}
		}
		out := make(map[string]any, len(x))
		for k, item := range x {
			r, none, err := t.eval(item, c)
			if err != nil {
				return nil, false, fmt.Errorf("%s: %w", k, err)
			}
			if !none {
				out[k] = r
			}
		}
		return out, false, nil
	}
	return v, false, nil
}

func (t *Template) intrinsic(fn string, arg any, c *Context) (any, bool, error) {
	switch fn {
	case "Ref":
		name := asString(arg)
		if name == "AWS::NoValue" {
			return nil, true, nil
		}
		s, err := t.ref(name, c)
		return s, false, err
	case "Condition":
		b, err := t.ConditionTrue(asString(arg), c)
		return b, false, err
	case "Fn::GetAtt":
		parts := asSlice(arg)
		if len(parts) != 2 {
			return nil, false, fmt.Errorf("Fn::GetAtt needs [resource, attribute]")
		}
		s, err := t.getAtt(asString(parts[0]), scalarString(parts[1]), c)
		return s, false, err
	case "Fn::Sub":
		s, err := t.sub(arg, c)
		return s, false, err
	case "Fn::If":
		parts := asSlice(arg)
		if len(parts) != 3 {
			return nil, false, fmt.Errorf("Fn::If needs [condition, then, else]")
		}
		ok, err := t.ConditionTrue(asString(parts[0]), c)
		if err != nil {
			return nil, false, err
		}
		if ok {
			return t.eval(parts[1], c)
		}
		return t.eval(parts[2], c)
	case "Fn::Equals":
		parts, err := t.evalList(arg, 2, c)
		if err != nil {
			return nil, false, fmt.Errorf("Fn::Equals: %w", err)
		}
		return scalarString(parts[0]) == scalarString(parts[1]), false, nil
	case "Fn::Not", "Fn::And", "Fn::Or":
		parts, err := t.evalList(arg, -1, c)
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", fn, err)
		}
		bs := make([]bool, len(parts))
		for i, p := range parts {
			b, ok := p.(bool)
			if !ok {
				return nil, false, fmt.Errorf("%s: operand %d is not a boolean", fn, i)
			}
			bs[i] = b
		}
		switch fn {
		case "Fn::Not":
			if len(bs) != 1 {
				return nil, false, fmt.Errorf("Fn::Not needs one operand")
			}
			return !bs[0], false, nil
		case "Fn::And":
			r := true
			for _, b := range bs {
				r = r && b
			}
			return r, false, nil
		default:
			r := false
			for _, b := range bs {
				r = r || b
			}
			return r, false, nil
		}
	case "Fn::Join":
		parts := asSlice(arg)
		if len(parts) != 2 {
			return nil, false, fmt.Errorf("Fn::Join needs [delimiter, list]")
		}
		list, _, err := t.eval(parts[1], c)
		if err != nil {
			return nil, false, err
		}
		var ss []string
		for _, item := range asSlice(list) {
			ss = append(ss, scalarString(item))
		}
		return strings.Join(ss, asString(parts[0])), false, nil
	case "Fn::Select":
		parts, err := t.evalList(arg, 2, c)
		if err != nil {
			return nil, false, fmt.Errorf("Fn::Select: %w", err)
		}
		i, err := strconv.Atoi(scalarString(parts[0]))
		list := asSlice(parts[1])
		if err != nil || i < 0 || i >= len(list) {
			return nil, false, fmt.Errorf("Fn::Select: index %v out of range", parts[0])
		}
		return list[i], false, nil
	case "Fn::Split":
		parts, err := t.evalList(arg, 2, c)
		if err != nil {
			return nil, false, fmt.Errorf("Fn::Split: %w", err)
		}
		var out []any
		for _, s := range strings.Split(scalarString(parts[1]), scalarString(parts[0])) {
			out = append(out, s)
		}
		return out, false, nil
	}
	return nil, false, fmt.Errorf("%s is not supported locally", fn)
}

func (t *Template) evalList(arg any, n int, c *Context) ([]any, error) {
	v, _, err := t.eval(arg, c)
	if err != nil {
		return nil, err
	}
	list := asSlice(v)
	if n >= 0 && len(list) != n {
		return nil, fmt.Errorf("needs %d operands, got %d", n, len(list))
	}
	return list, nil
}

func (t *Template) ref(name string, c *Context) (string, error) {
	if v, ok := c.Params[name]; ok {
		return v, nil
	}
	if v, ok := c.Pseudo[name]; ok {
		return v, nil
	}
	if _, ok := t.Resources[name]; ok {
		if c.Ref == nil {
			return "", fmt.Errorf("Ref %s: no resource resolver", name)
		}
		return c.Ref(name)
	}
	return "", fmt.Errorf("Ref %s: no such parameter or resource", name)
}

func (t *Template) getAtt(id, attr string, c *Context) (string, error) {
	if _, ok := t.Resources[id]; !ok {
		return "", fmt.Errorf("GetAtt %s.%s: no such resource", id, attr)
	}
	if c.GetAtt == nil {
		return "", fmt.Errorf("GetAtt %s.%s: no attribute resolver", id, attr)
	}
	return c.GetAtt(id, attr)
}

var subVar = regexp.MustCompile(`\$\{([^}]*)\}`)

func (t *Template) sub(arg any, c *Context) (string, error) {
	format, vars := "", map[string]any{}
	switch x := arg.(type) {
	case string:
		format = x
	case []any:
		if len(x) != 2 {
			return "", fmt.Errorf("Fn::Sub needs a string or [string, variables]")
		}
		format, vars = asString(x[0]), asMap(x[1])
	default:
		return "", fmt.Errorf("Fn::Sub needs a string or [string, variables]")
	}
	var firstErr error
	out := subVar.ReplaceAllStringFunc(format, func(m string) string {
		name := m[2 : len(m)-1]
		if strings.HasPrefix(name, "!") {
			return "${" + name[1:] + "}"
		}
		var s string
		var err error
		if v, ok := vars[name]; ok {
			s, err = t.EvaluateString(v, c)
		} else if id, attr, dotted := strings.Cut(name, "."); dotted && !strings.HasPrefix(name, "AWS::") {
			s, err = t.getAtt(id, attr, c)
		} else {
			s, err = t.ref(name, c)
		}
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("Fn::Sub %q: %w", format, err)
		}
		return s
	})
	return out, firstErr
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
