package schemacheck

import (
	"encoding/json"
	"fmt"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// schema is one compiled (sub)schema: the keywords of the contract's schemas that
// assert something. schemas_gen.go holds the contract's, compiled from their JSON by
// compile_test.go (go generate), as static data: nothing to parse at cold start.
type schema struct {
	// ref is the $ref target, applied in addition to the keywords beside it.
	ref *schema

	types jsonType // 0: any type
	enum  []any    // nil: no enum
	// dateTime: format date-time, asserted (the contract's schemas require it).
	dateTime bool

	// properties are sorted by name.
	properties []property
	required   []string
	// closed: additionalProperties false.
	closed bool

	// minLength and maxLength count code points; minLength 0 is no minimum, and
	// maxLength applies when hasMaxLength.
	minLength, maxLength int
	hasMaxLength         bool
	pattern              *pattern

	minimum, maximum *bound
}

type property struct {
	name   string
	schema *schema
}

// bound is a minimum or maximum, exact: the JSON number as written, and as an int64
// when it is an integer that fits (the fast path of integer instances).
type bound struct {
	num   json.Number
	i     int64
	isInt bool
}

// Instance types, as JSON Schema names them.
type jsonType uint8

const (
	typeNull jsonType = 1 << iota
	typeBoolean
	typeNumber
	typeInteger
	typeString
	typeArray
	typeObject
)

var typeNames = [...]struct {
	name string
	t    jsonType
}{
	{"array", typeArray}, {"boolean", typeBoolean}, {"integer", typeInteger}, {"null", typeNull},
	{"number", typeNumber}, {"object", typeObject}, {"string", typeString},
}

// property returns the schema of a named property, or nil.
func (s *schema) property(name string) *schema {
	i := sort.Search(len(s.properties), func(i int) bool { return s.properties[i].name >= name })
	if i < len(s.properties) && s.properties[i].name == name {
		return s.properties[i].schema
	}
	return nil
}

// validate checks an instance (as decode returns it) against s; at is the instance's
// location for the error (a JSON pointer).
func (s *schema) validate(v any, at string) error {
	t, ok := typeOf(v)
	if !ok {
		return fmt.Errorf("%s: not a JSON value", loc(at))
	}
	if s.types != 0 && s.types&t == 0 && (s.types&typeInteger == 0 || t != typeNumber || !isInteger(v.(json.Number))) {
		return fmt.Errorf("%s: got %s, want %s", loc(at), typeName(t), typeName(s.types))
	}
	if s.enum != nil && !oneOf(v, s.enum) {
		return fmt.Errorf("%s: %s is not one of the allowed values", loc(at), short(v))
	}
	if s.dateTime {
		if str, ok := v.(string); ok {
			if err := validateDateTime(str); err != nil {
				return fmt.Errorf("%s: %q is not a date-time: %v", loc(at), str, err)
			}
		}
	}
	if s.ref != nil {
		if err := s.ref.validate(v, at); err != nil {
			return err
		}
	}
	switch v := v.(type) {
	case map[string]any:
		return s.validateObject(v, at)
	case string:
		return s.validateString(v, at)
	case json.Number:
		return s.validateNumber(v, at)
	}
	return nil
}

func (s *schema) validateObject(obj map[string]any, at string) error {
	var missing []string
	for _, name := range s.required {
		if _, ok := obj[name]; !ok {
			missing = append(missing, name)
		}
	}
	if missing != nil {
		return fmt.Errorf("%s: missing properties %q", loc(at), missing)
	}
	names := make([]string, 0, len(obj))
	for name := range obj {
		names = append(names, name)
	}
	sort.Strings(names) // the same error every time
	for _, name := range names {
		sub := s.property(name)
		if sub == nil {
			if s.closed {
				return fmt.Errorf("%s: additional property %q is not allowed", loc(at), name)
			}
			continue
		}
		if err := sub.validate(obj[name], at+"/"+escape(name)); err != nil {
			return err
		}
	}
	return nil
}

func (s *schema) validateString(str string, at string) error {
	if s.minLength > 0 || s.hasMaxLength {
		// Length is in Unicode code points; decode has replaced invalid UTF-8.
		n := utf8.RuneCountInString(str)
		if n < s.minLength {
			return fmt.Errorf("%s: %d characters, want at least %d", loc(at), n, s.minLength)
		}
		if s.hasMaxLength && n > s.maxLength {
			return fmt.Errorf("%s: %d characters, want at most %d", loc(at), n, s.maxLength)
		}
	}
	if s.pattern != nil && !s.pattern.match(str) {
		return fmt.Errorf("%s: %s does not match %s", loc(at), short(str), s.pattern.src)
	}
	return nil
}

func (s *schema) validateNumber(n json.Number, at string) error {
	if s.minimum == nil && s.maximum == nil {
		return nil
	}
	if s.minimum != nil && compare(n, s.minimum) < 0 {
		return fmt.Errorf("%s: %s is less than %s", loc(at), n, s.minimum.num)
	}
	if s.maximum != nil && compare(n, s.maximum) > 0 {
		return fmt.Errorf("%s: %s is more than %s", loc(at), n, s.maximum.num)
	}
	return nil
}

// typeOf is an instance's JSON type; a number is typeNumber whether or not it is
// integral.
func typeOf(v any) (jsonType, bool) {
	switch v.(type) {
	case nil:
		return typeNull, true
	case bool:
		return typeBoolean, true
	case json.Number:
		return typeNumber, true
	case string:
		return typeString, true
	case []any:
		return typeArray, true
	case map[string]any:
		return typeObject, true
	}
	return 0, false
}

func typeName(t jsonType) string {
	var names []string
	for _, n := range typeNames {
		if t&n.t != 0 {
			names = append(names, n.name)
		}
	}
	if len(names) == 1 {
		return names[0]
	}
	return fmt.Sprint(names)
}

// smallInt parses a plain decimal integer that fits an int64 ("-12", not "1e3" or
// "1.0"); the other numbers take the exact path.
func smallInt(n json.Number) (int64, bool) {
	s := string(n)
	if len(s) == 0 || len(s) > 18 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && !(i == 0 && c == '-') {
			return 0, false
		}
	}
	i, err := strconv.ParseInt(s, 10, 64)
	return i, err == nil
}

// rat is a number's exact value; ok is false for numbers math/big cannot represent
// (an exponent beyond its range), which are then neither integers nor comparable.
func rat(n json.Number) (*big.Rat, bool) {
	return new(big.Rat).SetString(string(n))
}

// isInteger reports whether a number has no fractional part: 1, 1.0 and 1e3 are
// integers in JSON Schema.
func isInteger(n json.Number) bool {
	if _, ok := smallInt(n); ok {
		return true
	}
	r, ok := rat(n)
	return ok && r.IsInt()
}

// compare compares a number with a bound, exactly. A number math/big cannot read
// compares as 0; it never gets here past an integer type check.
func compare(n json.Number, b *bound) int {
	if i, ok := smallInt(n); ok && b.isInt {
		switch {
		case i < b.i:
			return -1
		case i > b.i:
			return 1
		}
		return 0
	}
	r, ok := rat(n)
	br, bok := rat(b.num)
	if !ok || !bok {
		return 0
	}
	return r.Cmp(br)
}

// oneOf reports whether v equals one of values, as JSON Schema's enum compares: by JSON
// value, numbers by their exact value.
func oneOf(v any, values []any) bool {
	for _, w := range values {
		if equal(v, w) {
			return true
		}
	}
	return false
}

func equal(a, b any) bool {
	switch a := a.(type) {
	case nil:
		return b == nil
	case bool:
		b, ok := b.(bool)
		return ok && a == b
	case string:
		b, ok := b.(string)
		return ok && a == b
	case json.Number:
		b, ok := b.(json.Number)
		if !ok {
			return false
		}
		ra, oka := rat(a)
		rb, okb := rat(b)
		return oka && okb && ra.Cmp(rb) == 0
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !equal(a[i], b[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, va := range a {
			vb, ok := b[k]
			if !ok || !equal(va, vb) {
				return false
			}
		}
		return true
	}
	return false
}

// escape makes a JSON pointer token of a property name.
func escape(name string) string {
	return strings.ReplaceAll(strings.ReplaceAll(name, "~", "~0"), "/", "~1")
}

func loc(at string) string {
	if at == "" {
		return "at the top"
	}
	return "at " + at
}

// short is a value for an error message, cut to a readable length.
func short(v any) string {
	s := fmt.Sprint(v)
	if str, ok := v.(string); ok {
		s = strconv.Quote(str)
	}
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return s
}
