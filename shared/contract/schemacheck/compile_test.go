package schemacheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"go/format"
	"math/big"
	"os"
	"path"
	"regexp"
	"regexp/syntax"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/etalase/etalase/shared/contract"
)

// The compiler: JSON Schema documents to schema values, and those to Go source
// (schemas_gen.go). It is test code, so that no function links it: the relay gets the
// compiled schemas as static data.

var update = flag.Bool("update", false, "rewrite schemas_gen.go from the contract's schemas")

// genFile is the generated file.
const genFile = "schemas_gen.go"

// schemas_gen.go is what compiling the contract's schemas gives; go generate (or
// go test -run TestGeneratedSchemas -update) rewrites it.
func TestGeneratedSchemas(t *testing.T) {
	src, err := generate()
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(genFile, src, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	have, err := os.ReadFile(genFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(have, src) {
		t.Errorf("%s is not what the contract's schemas compile to: run go generate ./shared/contract/schemacheck", genFile)
	}
}

// draft is the only $schema the contract's schemas may name.
const draft = "https://json-schema.org/draft/2020-12/schema"

// Keywords compile accepts. Anything else in a schema is an error, so that a schema
// never says more than the validator checks.
var (
	// annotations have no effect on validation.
	annotations = map[string]bool{"$schema": true, "$id": true, "$comment": true, "title": true, "description": true}
	// assertions are the keywords implemented.
	assertions = map[string]bool{
		"$defs": true, "$ref": true,
		"type": true, "enum": true, "format": true,
		"properties": true, "required": true, "additionalProperties": true,
		"minLength": true, "maxLength": true, "pattern": true,
		"minimum": true, "maximum": true,
	}
)

// compiled is a compiled document: its root, and its $defs by JSON pointer.
type compiledDoc struct {
	root *schema
	defs map[*schema]string
}

// compile compiles a schema document. Only $ref within the document ("#/...") is
// supported.
func compile(doc any) (*schema, error) {
	c, err := compileDoc(doc)
	if err != nil {
		return nil, err
	}
	return c.root, nil
}

func compileDoc(doc any) (*compiledDoc, error) {
	root, ok := doc.(map[string]any)
	if !ok {
		return nil, errors.New("schema document is not an object")
	}
	if s, ok := root["$schema"]; !ok || s != draft {
		return nil, fmt.Errorf("$schema must be %s", draft)
	}
	c := &compiler{root: root, byPointer: map[string]*schema{}, defs: map[*schema]string{}}
	s, err := c.compile(root, "")
	if err != nil {
		return nil, err
	}
	return &compiledDoc{root: s, defs: c.defs}, nil
}

type compiler struct {
	root any
	// byPointer holds every schema compiled so far by its JSON pointer, so that a $ref
	// to it (or a cycle) reuses it.
	byPointer map[string]*schema
	defs      map[*schema]string
}

func (c *compiler) compile(v any, ptr string) (*schema, error) {
	if s, ok := c.byPointer[ptr]; ok {
		return s, nil
	}
	obj, ok := v.(map[string]any)
	if !ok {
		// Boolean schemas are valid JSON Schema, but the contract does not use them.
		return nil, fmt.Errorf("%s: a schema must be an object", where(ptr))
	}
	s := &schema{}
	c.byPointer[ptr] = s
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys) // deterministic errors
	for _, k := range keys {
		if annotations[k] {
			continue
		}
		if !assertions[k] {
			return nil, fmt.Errorf("%s: keyword %q is not supported by schemacheck", where(ptr), k)
		}
		if err := c.keyword(s, k, obj[k], ptr); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", where(ptr), k, err)
		}
	}
	return s, nil
}

func (c *compiler) keyword(s *schema, k string, v any, ptr string) error {
	switch k {
	case "$defs":
		defs, ok := v.(map[string]any)
		if !ok {
			return errors.New("not an object")
		}
		for name, d := range defs {
			p := ptr + "/$defs/" + escape(name)
			sub, err := c.compile(d, p)
			if err != nil {
				return err
			}
			c.defs[sub] = p
		}
	case "$ref":
		ref, ok := v.(string)
		if !ok || !strings.HasPrefix(ref, "#") {
			return fmt.Errorf("%v: only references within the document (#/...) are supported", v)
		}
		target, err := c.resolve(ref[1:])
		if err != nil {
			return err
		}
		if s.ref, err = c.compile(target, ref[1:]); err != nil {
			return err
		}
		if _, ok := c.defs[s.ref]; !ok {
			c.defs[s.ref] = ref[1:]
		}
	case "type":
		var names []any
		switch t := v.(type) {
		case string:
			names = []any{t}
		case []any:
			names = t
		default:
			return errors.New("not a string or an array")
		}
		for _, n := range names {
			t, ok := typeOfName(n)
			if !ok {
				return fmt.Errorf("unknown type %v", n)
			}
			s.types |= t
		}
	case "enum":
		values, ok := v.([]any)
		if !ok || len(values) == 0 {
			return errors.New("not a non-empty array")
		}
		s.enum = values
	case "format":
		if v != "date-time" {
			return fmt.Errorf("format %v is not supported (only date-time)", v)
		}
		s.dateTime = true
	case "properties":
		props, ok := v.(map[string]any)
		if !ok {
			return errors.New("not an object")
		}
		for name, p := range props {
			sub, err := c.compile(p, ptr+"/properties/"+escape(name))
			if err != nil {
				return err
			}
			s.properties = append(s.properties, property{name, sub})
		}
		sort.Slice(s.properties, func(i, j int) bool { return s.properties[i].name < s.properties[j].name })
	case "required":
		names, ok := v.([]any)
		if !ok {
			return errors.New("not an array")
		}
		for _, n := range names {
			name, ok := n.(string)
			if !ok {
				return fmt.Errorf("%v is not a string", n)
			}
			s.required = append(s.required, name)
		}
	case "additionalProperties":
		b, ok := v.(bool)
		if !ok {
			return errors.New("only true or false is supported")
		}
		s.closed = !b
	case "minLength", "maxLength":
		n, err := nonNegative(v)
		if err != nil {
			return err
		}
		if k == "minLength" {
			s.minLength = n
		} else {
			s.maxLength, s.hasMaxLength = n, true
		}
	case "pattern":
		p, ok := v.(string)
		if !ok {
			return errors.New("not a string")
		}
		var err error
		if s.pattern, err = compilePattern(p); err != nil {
			return err
		}
	case "minimum", "maximum":
		n, ok := v.(json.Number)
		if !ok {
			return errors.New("not a number")
		}
		r, ok := new(big.Rat).SetString(string(n))
		if !ok {
			return fmt.Errorf("%s is not a number", n)
		}
		b := &bound{num: n}
		if r.IsInt() && r.Num().IsInt64() {
			b.i, b.isInt = r.Num().Int64(), true
		}
		if k == "minimum" {
			s.minimum = b
		} else {
			s.maximum = b
		}
	}
	return nil
}

func typeOfName(n any) (jsonType, bool) {
	for _, tn := range typeNames {
		if tn.name == n {
			return tn.t, true
		}
	}
	return 0, false
}

// resolve follows a JSON pointer from the document's root.
func (c *compiler) resolve(ptr string) (any, error) {
	v := c.root
	if ptr == "" {
		return v, nil
	}
	if !strings.HasPrefix(ptr, "/") {
		return nil, fmt.Errorf("#%s is not a JSON pointer", ptr)
	}
	for _, tok := range strings.Split(ptr[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("#%s: not found", ptr)
		}
		if v, ok = obj[tok]; !ok {
			return nil, fmt.Errorf("#%s: not found", ptr)
		}
	}
	return v, nil
}

func where(ptr string) string { return "#" + ptr }

// nonNegative reads minLength's or maxLength's value.
func nonNegative(v any) (int, error) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, errors.New("not a number")
	}
	i, err := n.Int64()
	if err != nil || i < 0 || i > 1<<31 {
		return 0, fmt.Errorf("%s is not a non-negative integer", n)
	}
	return int(i), nil
}

// compilePattern parses a pattern with Go's regexp syntax (as the JSON Schema library
// does) into the directly matched subset, or marks it for package regexp.
func compilePattern(src string) (*pattern, error) {
	re, err := syntax.Parse(src, syntax.Perl)
	if err != nil {
		return nil, err
	}
	p := &pattern{src: src}
	if !p.flatten(re) {
		if _, err := regexp.Compile(src); err != nil {
			return nil, err
		}
		p.items, p.begin, p.end, p.fallback = nil, false, false, true
	}
	return p, nil
}

// flatten turns a parsed pattern into items; false if it is outside the subset.
func (p *pattern) flatten(re *syntax.Regexp) bool {
	subs := []*syntax.Regexp{re}
	if re.Op == syntax.OpConcat {
		subs = re.Sub
	}
	if len(subs) > 0 && subs[0].Op == syntax.OpBeginText {
		p.begin, subs = true, subs[1:]
	}
	if len(subs) > 0 && subs[len(subs)-1].Op == syntax.OpEndText {
		p.end, subs = true, subs[:len(subs)-1]
	}
	for _, sub := range subs {
		switch sub.Op {
		case syntax.OpEmptyMatch:
		case syntax.OpLiteral:
			if sub.Flags&syntax.FoldCase != 0 {
				return false
			}
			for _, r := range sub.Rune {
				p.items = append(p.items, patternItem{ranges: []rune{r, r}, min: 1, max: 1})
			}
		case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
			ranges, ok := single(sub)
			if !ok {
				return false
			}
			p.items = append(p.items, patternItem{ranges: ranges, min: 1, max: 1})
		case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
			ranges, ok := single(sub.Sub[0])
			if !ok {
				return false
			}
			it := patternItem{ranges: ranges}
			switch sub.Op {
			case syntax.OpStar:
				it.min, it.max = 0, -1
			case syntax.OpPlus:
				it.min, it.max = 1, -1
			case syntax.OpQuest:
				it.min, it.max = 0, 1
			default:
				it.min, it.max = sub.Min, sub.Max
			}
			p.items = append(p.items, it)
		default:
			return false
		}
	}
	return true
}

// single returns the ranges of a pattern that matches exactly one character.
func single(re *syntax.Regexp) ([]rune, bool) {
	switch re.Op {
	case syntax.OpCharClass:
		return re.Rune, true
	case syntax.OpLiteral:
		if len(re.Rune) == 1 && re.Flags&syntax.FoldCase == 0 {
			return []rune{re.Rune[0], re.Rune[0]}, true
		}
	case syntax.OpAnyChar:
		return []rune{0, unicode.MaxRune}, true
	case syntax.OpAnyCharNotNL:
		return []rune{0, '\n' - 1, '\n' + 1, unicode.MaxRune}, true
	}
	return nil, false
}

// generate compiles every schema of contract.Schemas and renders schemas_gen.go.
func generate() ([]byte, error) {
	paths, err := contractSchemaPaths()
	if err != nil {
		return nil, err
	}
	usesJSON = false
	var b bytes.Buffer
	b.WriteString(`// Code generated by "go test -run TestGeneratedSchemas -update" (go generate); DO NOT EDIT.
// Compiled from shared/contract/schemas/*.json by compile_test.go.

package schemacheck

// compiled holds each schema document of contract.Schemas, compiled.
var compiled = [...]struct {
	path   string
	schema *schema
}{
`)
	var defs bytes.Buffer
	for _, p := range paths {
		raw, err := contract.Schemas.ReadFile(p)
		if err != nil {
			return nil, err
		}
		doc, err := decode(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		c, err := compileDoc(doc)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		base := varName(p)
		r := &renderer{names: map[*schema]string{}}
		var ptrs []string
		byPtr := map[string]*schema{}
		for s, ptr := range c.defs {
			ptrs = append(ptrs, ptr)
			byPtr[ptr] = s
		}
		sort.Strings(ptrs)
		for _, ptr := range ptrs {
			r.names[byPtr[ptr]] = base + varName(ptr)
		}
		for _, ptr := range ptrs {
			s := byPtr[ptr]
			fmt.Fprintf(&defs, "\n// %s is %s#%s.\nvar %s = %s\n", r.names[s], p, ptr, r.names[s], r.schema(s, 0, true))
		}
		fmt.Fprintf(&b, "\t{%q, &%s},\n", p, base)
		fmt.Fprintf(&defs, "\n// %s is %s.\nvar %s = %s\n", base, p, base, r.schema(c.root, 0, true))
	}
	b.WriteString("}\n")
	b.Write(defs.Bytes())
	out := b.Bytes()
	if usesJSON {
		out = bytes.Replace(out, []byte("package schemacheck\n"), []byte("package schemacheck\n\nimport \"encoding/json\"\n"), 1)
	}
	return format.Source(out)
}

// contractSchemaPaths lists the schema documents, sorted.
func contractSchemaPaths() ([]string, error) {
	entries, err := contract.Schemas.ReadDir("schemas")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".json") {
			out = append(out, path.Join("schemas", e.Name()))
		}
	}
	sort.Strings(out)
	return out, nil
}

// varName makes a Go identifier part of a path or pointer: schemas/sale-attributed.v1.json
// → saleAttributedV1, /$defs/price → DefsPrice.
func varName(s string) string {
	s = strings.TrimPrefix(strings.TrimSuffix(s, ".json"), "schemas/")
	var b strings.Builder
	upper := false
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			upper = b.Len() > 0 || strings.HasPrefix(s, "/")
			continue
		}
		if upper {
			r = unicode.ToUpper(r)
			upper = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// renderer writes schema values as Go composite literals; named ones ($defs) by name.
type renderer struct {
	names map[*schema]string
}

func (r *renderer) schema(s *schema, depth int, top bool) string {
	if name, ok := r.names[s]; ok && !top {
		return "&" + name
	}
	ind := strings.Repeat("\t", depth+1)
	var fields []string
	add := func(name, value string) { fields = append(fields, ind+name+": "+value+",") }
	if s.ref != nil {
		add("ref", r.schema(s.ref, depth+1, false))
	}
	if s.types != 0 {
		var ts []string
		for _, tn := range typeNames {
			if s.types&tn.t != 0 {
				ts = append(ts, "type"+strings.ToUpper(tn.name[:1])+tn.name[1:])
			}
		}
		add("types", strings.Join(ts, " | "))
	}
	if s.enum != nil {
		var vs []string
		for _, v := range s.enum {
			vs = append(vs, literal(v))
		}
		add("enum", "[]any{"+strings.Join(vs, ", ")+"}")
	}
	if s.dateTime {
		add("dateTime", "true")
	}
	if len(s.properties) > 0 {
		var ps []string
		for _, p := range s.properties {
			ps = append(ps, fmt.Sprintf("%s\t{%q, %s},", ind, p.name, r.schema(p.schema, depth+1, false)))
		}
		add("properties", "[]property{\n"+strings.Join(ps, "\n")+"\n"+ind+"}")
	}
	if s.required != nil {
		var qs []string
		for _, n := range s.required {
			qs = append(qs, strconv.Quote(n))
		}
		add("required", "[]string{"+strings.Join(qs, ", ")+"}")
	}
	if s.closed {
		add("closed", "true")
	}
	if s.minLength > 0 {
		add("minLength", strconv.Itoa(s.minLength))
	}
	if s.hasMaxLength {
		add("maxLength", strconv.Itoa(s.maxLength))
		add("hasMaxLength", "true")
	}
	if p := s.pattern; p != nil {
		var items []string
		for _, it := range p.items {
			var rs []string
			for _, x := range it.ranges {
				rs = append(rs, strconv.QuoteRune(x))
			}
			items = append(items, fmt.Sprintf("{ranges: []rune{%s}, min: %d, max: %d}", strings.Join(rs, ", "), it.min, it.max))
		}
		v := fmt.Sprintf("&pattern{src: %q, begin: %t, end: %t", p.src, p.begin, p.end)
		if len(items) > 0 {
			v += ", items: []patternItem{" + strings.Join(items, ", ") + "}"
		}
		if p.fallback {
			v += ", fallback: true"
		}
		add("pattern", v+"}")
	}
	for _, b := range []struct {
		name string
		b    *bound
	}{{"minimum", s.minimum}, {"maximum", s.maximum}} {
		if b.b != nil {
			add(b.name, fmt.Sprintf("&bound{num: %q, i: %d, isInt: %t}", b.b.num, b.b.i, b.b.isInt))
		}
	}
	lit := "schema{\n" + strings.Join(fields, "\n") + "\n" + strings.Repeat("\t", depth) + "}"
	if top {
		return lit
	}
	return "&" + lit
}

// usesJSON is set when a literal needs package encoding/json.
var usesJSON bool

// literal writes a JSON value (as decode returns it) as a Go expression.
func literal(v any) string {
	switch v := v.(type) {
	case nil:
		return "nil"
	case bool:
		return strconv.FormatBool(v)
	case string:
		return strconv.Quote(v)
	case json.Number:
		usesJSON = true
		return fmt.Sprintf("json.Number(%q)", v)
	case []any:
		var vs []string
		for _, x := range v {
			vs = append(vs, literal(x))
		}
		return "[]any{" + strings.Join(vs, ", ") + "}"
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var vs []string
		for _, k := range keys {
			vs = append(vs, strconv.Quote(k)+": "+literal(v[k]))
		}
		return "map[string]any{" + strings.Join(vs, ", ") + "}"
	}
	panic(fmt.Sprintf("not a JSON value: %T", v))
}
