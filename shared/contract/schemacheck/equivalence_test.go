package schemacheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/etalase/etalase/shared/contract"
	"github.com/etalase/etalase/shared/contract/contracttest"
)

// The purpose-built validator must accept and refuse exactly what a general JSON Schema
// validator (santhosh-tekuri/jsonschema v6, formats asserted, as the relay used before)
// accepts and refuses: every schema, over a corpus of valid messages and of mutations
// of them (each required field missing, each property of every JSON type, additional
// properties at every level, lengths, patterns, formats, enums and ranges at and across
// their bounds, malformed JSON). Only this test and tooling link that library.

// reference is the relay's former validator, on the library.
type reference struct {
	envelope *jsonschema.Schema
	payloads map[eventKey]*jsonschema.Schema
	byPath   map[string]*jsonschema.Schema
}

func newReference(t testing.TB) *reference {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	r := &reference{payloads: map[eventKey]*jsonschema.Schema{}, byPath: map[string]*jsonschema.Schema{}}
	compile := func(path string) *jsonschema.Schema {
		raw, err := contract.Schemas.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		url := "file:///" + path
		if err := c.AddResource(url, doc); err != nil {
			t.Fatal(err)
		}
		sch, err := c.Compile(url)
		if err != nil {
			t.Fatal(err)
		}
		r.byPath[path] = sch
		return sch
	}
	r.envelope = compile(contract.EnvelopeSchema)
	for _, s := range contract.CrossAccountEvents() {
		r.payloads[eventKey{s.Type, s.SchemaVersion}] = compile(s.Schema)
	}
	return r
}

func (r *reference) validate(sch *jsonschema.Schema, doc []byte) error {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return fmt.Errorf("%w: not JSON: %v", ErrInvalidEvent, err)
	}
	if err := sch.Validate(inst); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidEvent, err)
	}
	return nil
}

func (r *reference) ValidatePayload(eventType string, version int, payload []byte) error {
	sch, ok := r.payloads[eventKey{eventType, version}]
	if !ok {
		return ErrUnknownEvent
	}
	return r.validate(sch, payload)
}

func (r *reference) ValidateMessage(body []byte) error {
	if err := r.validate(r.envelope, body); err != nil {
		return err
	}
	var env contract.Envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidEvent, err)
	}
	return r.ValidatePayload(env.Type, env.SchemaVersion, env.Payload)
}

// verdict is what a validation said, in the terms that matter.
func verdict(err error) string {
	switch {
	case err == nil:
		return "valid"
	case errors.Is(err, ErrUnknownEvent):
		return "unknown event"
	case errors.Is(err, ErrInvalidEvent):
		return "invalid"
	}
	return "error: " + err.Error()
}

// generic decodes JSON into the generic form the mutations edit (numbers exact).
func generic(t testing.TB, v any) any {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func encode(t testing.TB, v any) []byte {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// clone deep-copies a generic JSON value.
func clone(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[k] = clone(x)
		}
		return m
	case []any:
		s := make([]any, len(v))
		for i, x := range v {
			s[i] = clone(x)
		}
		return s
	}
	return v
}

// set returns a copy of doc with the value at path replaced (remove: deleted).
func set(doc any, path []string, value any, remove bool) any {
	out := clone(doc)
	m := out.(map[string]any)
	for _, k := range path[:len(path)-1] {
		m = m[k].(map[string]any)
	}
	if remove {
		delete(m, path[len(path)-1])
	} else {
		m[path[len(path)-1]] = value
	}
	return out
}

// mutation is one corpus document.
type mutation struct {
	name string
	doc  []byte
}

// n is a JSON number literal.
func n(s string) json.Number { return json.Number(s) }

// anyTypes are values of every JSON type.
var anyTypes = []any{nil, true, false, n("0"), n("1"), n("-1"), n("1.5"), n("1.0"), n("1e2"), "", "x", "1", "true", []any{}, []any{"x"}, map[string]any{}}

// stringsAround returns strings of lengths around a bound, in ASCII and in multi-byte
// characters (length is counted in code points).
func stringsAround(bound int) []any {
	var out []any
	for _, l := range []int{bound - 1, bound, bound + 1} {
		if l < 0 {
			continue
		}
		out = append(out, strings.Repeat("a", l), strings.Repeat("é", l), strings.Repeat("😀", l))
	}
	return out
}

// numbersAround returns numbers at and across a bound, in several JSON spellings.
func numbersAround(b json.Number) []any {
	r, ok := rat(b)
	if !ok {
		return nil
	}
	var out []any
	for _, d := range []int64{-1, 0, 1} {
		x := new(ratT).Add(r, new(ratT).SetInt64(d))
		s := x.RatString()
		out = append(out, n(s), n(s+".0"), n(s+"e0"), n(s+".00E+0"))
		if x.Sign() != 0 {
			out = append(out, n(s+"0e-1"))
		}
		half := new(ratT).Add(x, new(ratT).SetFrac64(1, 2))
		out = append(out, n(half.FloatString(1)))
	}
	return out
}

// dateTimes are valid and invalid date-times, edge cases of RFC 3339 and of the
// reference's own reading of it.
var dateTimes = []any{
	"2026-01-02T03:04:05Z", "2026-01-02T03:04:05.000000600Z", "2026-01-02t03:04:05z",
	"2026-01-02T03:04:05+07:00", "2026-01-02T03:04:05-00:00", "2026-01-02T03:04:05.5+14:00",
	"2026-12-31T23:59:60Z", "2026-12-31T23:59:60.5Z", "2026-12-31T22:59:60-01:00", "2027-01-01T00:59:60+01:00",
	"2026-12-31T23:58:60Z", "2026-02-29T00:00:00Z", "2024-02-29T00:00:00Z", "2026-04-31T00:00:00Z",
	"2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z", "2026-01-00T00:00:00Z", "2026-01-02 03:04:05Z",
	"2026-01-02T24:00:00Z", "2026-01-02T23:60:00Z", "2026-01-02T23:00:61Z", "2026-01-02T03:04:05",
	"2026-01-02T03:04:05.Z", "2026-01-02T03:04:05,5Z", "2026-01-02T03:04:05+0700", "2026-01-02T03:04:05+07",
	"2026-01-02T03:04:05+24:00", "2026-01-02T03:04:05+07:60", "2026-01-02T+3:04:05Z", "2026-01-02T03:04:-5Z",
	"2026-01-02T03:04:05-+7:00", "2026-01-02T03:04:05+-0:00", "2026-01-02T03:04:05++7:00", "2026-1-02T03:04:05Z",
	"26-01-02T03:04:05Z", "2026-01-02T03:04:05ZZ", "2026-01-02T03:04:05.123456789012Z", "2026-01-02T3:04:05Z",
	"２０２６-01-02T03:04:05Z", "2026-01-02T03:04:05\u00a0Z", "", "yesterday", "2026-01-02",
	"2026-01-02T03:04:05.5.5Z", "2026-01-02T03:04:05+07:00:00", "2026-01-02T03:04:05-23:59", "2026-01-02T00:00:60+00:01",
}

// patternCases returns strings for a pattern: each of the valid example's characters
// replaced by characters in and out of the usual classes, and lengths around it.
func patternCases(valid string) []any {
	out := []any{valid, "", valid + valid, " " + valid, valid + " ", valid + "\n", strings.ToUpper(valid), strings.ToLower(valid)}
	rs := []rune(valid)
	for i := range rs {
		for _, c := range []rune{'A', 'z', '0', '2', '7', '8', '1', '_', '-', '.', ' ', 'é', '\n'} {
			m := append([]rune(nil), rs...)
			m[i] = c
			out = append(out, string(m))
		}
		out = append(out, string(rs[:i])+string(rs[i+1:]))                    // one shorter
		out = append(out, string(rs[:i])+string(rs[i])+string(rs[i:]))        // one longer
		out = append(out, string(rs[:i])+string("\ufffd")+string(rs[i+1:]))   // replacement character
		out = append(out, string(rs[:i])+string(rs[i])+string(rs[i])+"x"+"y") // longer still
	}
	for _, l := range []int{1, 2, 3, 4, 25, 26, 27, 63, 64, 65, 128} {
		out = append(out, strings.Repeat("a", l), "or_"+strings.Repeat("a", l), strings.Repeat("A", l), strings.Repeat("-", l))
	}
	return out
}

// corpus builds the mutations of a valid document against its schema document: for
// every property (recursively, through $ref), removal, every JSON type, and values that
// probe its keywords; additional properties on every object; and whole-document cases.
func corpus(t testing.TB, schemaDoc map[string]any, valid any) []mutation {
	t.Helper()
	var out []mutation
	add := func(name string, doc any) { out = append(out, mutation{name, encode(t, doc)}) }
	add("valid", valid)
	var walk func(sch map[string]any, path []string)
	walk = func(sch map[string]any, path []string) {
		if ref, ok := sch["$ref"].(string); ok {
			target := schemaDoc
			for _, tok := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
				target = target[tok].(map[string]any)
			}
			merged := map[string]any{}
			for k, v := range target {
				merged[k] = v
			}
			for k, v := range sch {
				if k != "$ref" {
					merged[k] = v
				}
			}
			sch = merged
		}
		p := strings.Join(path, ".")
		if len(path) > 0 {
			out = append(out, mutation{p + " removed", encode(t, set(valid, path, nil, true))})
			for _, v := range anyTypes {
				add(fmt.Sprintf("%s = %s", p, encode(t, v)), set(valid, path, v, false))
			}
		}
		if _, ok := sch["minLength"]; ok {
			b, _ := nonNegative(sch["minLength"])
			for _, v := range stringsAround(b) {
				add(fmt.Sprintf("%s = %d runes", p, len([]rune(v.(string)))), set(valid, path, v, false))
			}
		}
		if _, ok := sch["maxLength"]; ok {
			b, _ := nonNegative(sch["maxLength"])
			for _, v := range stringsAround(b) {
				add(fmt.Sprintf("%s = %d runes", p, len([]rune(v.(string)))), set(valid, path, v, false))
			}
		}
		if _, ok := sch["pattern"]; ok {
			cur := valid
			for _, k := range path {
				cur = cur.(map[string]any)[k]
			}
			for _, v := range patternCases(cur.(string)) {
				add(fmt.Sprintf("%s = %q", p, v), set(valid, path, v, false))
			}
		}
		if sch["format"] == "date-time" {
			for _, v := range dateTimes {
				add(fmt.Sprintf("%s = %q", p, v), set(valid, path, v, false))
			}
		}
		for _, k := range []string{"minimum", "maximum"} {
			if b, ok := sch[k].(json.Number); ok {
				for _, v := range numbersAround(b) {
					add(fmt.Sprintf("%s = %s (around %s)", p, v, k), set(valid, path, v, false))
				}
			}
		}
		if values, ok := sch["enum"].([]any); ok {
			for _, v := range values {
				add(fmt.Sprintf("%s = %v", p, v), set(valid, path, v, false))
				if s, ok := v.(string); ok {
					for _, w := range []string{strings.ToLower(s), strings.ToUpper(s), s + " ", " " + s, s[:len(s)-1]} {
						add(fmt.Sprintf("%s = %q", p, w), set(valid, path, w, false))
					}
				}
			}
		}
		if props, ok := sch["properties"].(map[string]any); ok {
			for _, extra := range []string{"buyerEmail", "orderId", "x", "", "__proto__", "PRODUCTID"} {
				if len(path) == 0 {
					add("additional property "+extra, set(valid, []string{extra}, "a@b.id", false))
				} else {
					add(fmt.Sprintf("%s: additional property %s", p, extra), set(valid, append(append([]string(nil), path...), extra), n("1"), false))
				}
			}
			names := make([]string, 0, len(props))
			for k := range props {
				names = append(names, k)
			}
			sort.Strings(names)
			for _, k := range names {
				cur := valid
				for _, seg := range path {
					cur = cur.(map[string]any)[seg]
				}
				if _, present := cur.(map[string]any)[k]; !present {
					continue
				}
				walk(props[k].(map[string]any), append(append([]string(nil), path...), k))
			}
		}
	}
	walk(schemaDoc, nil)
	raw := encode(t, valid)
	for _, c := range []struct{ name, doc string }{
		{"not JSON", `{"productId":`},
		{"trailing data", string(raw) + ` {}`},
		{"trailing space", string(raw) + " \n\t"},
		{"leading space", " " + string(raw)},
		{"array", `[` + string(raw) + `]`},
		{"null", `null`},
		{"string", `"x"`},
		{"number", `1`},
		{"empty", ``},
		{"empty object", `{}`},
		{"duplicate key, the last one invalid", string(raw[:len(raw)-1]) + `,"` + firstKey(valid) + `":{"x":[1]}}`},
		{"duplicate key, the last one valid", `{"` + firstKey(valid) + `":{"x":[1]},` + string(raw[1:])},
		{"invalid UTF-8", string(raw[:len(raw)-1]) + `,"x":"` + "\xff" + `"}`},
		{"byte order mark", "\ufeff" + string(raw)},
	} {
		out = append(out, mutation{c.name, []byte(c.doc)})
	}
	return out
}

func firstKey(doc any) string {
	var keys []string
	for k := range doc.(map[string]any) {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys[0]
}

func schemaDoc(t testing.TB, path string) map[string]any {
	t.Helper()
	raw, err := contract.Schemas.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	return doc.(map[string]any)
}

// envelopeOf wraps a payload (raw JSON) in a valid envelope.
func envelopeOf(t testing.TB, typ string, version int, payload []byte) map[string]any {
	t.Helper()
	body := encode(t, contract.Envelope{
		EventID: "0b6f2c1e-8d4a-4f3b-9e2c-7a1d5b3c9e10", Type: typ, SchemaVersion: version,
		OccurredAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), CorrelationID: "req-1", Payload: json.RawMessage(`{}`),
	})
	env, err := decode(body)
	if err != nil {
		t.Fatal(err)
	}
	m := env.(map[string]any)
	if p, err := decode(payload); err == nil {
		m["payload"] = p
	}
	return m
}

func TestEquivalentToJSONSchemaLibrary(t *testing.T) {
	ours, err := New()
	if err != nil {
		t.Fatal(err)
	}
	ref := newReference(t)
	valid := contracttest.Payloads(t)
	counts := map[string]int{}
	check := func(what, name string, doc []byte, gotErr, wantErr error) {
		t.Helper()
		got, want := verdict(gotErr), verdict(wantErr)
		counts[want]++
		if got != want {
			t.Errorf("%s, %s: schemacheck says %s (%v), the JSON Schema library %s (%v)\n%s", what, name, got, gotErr, want, wantErr, doc)
		}
	}
	for _, s := range contract.CrossAccountEvents() {
		p, ok := valid[s.Type]
		if !ok {
			t.Fatalf("%s: no valid example; add one", s.Type)
		}
		ms := corpus(t, schemaDoc(t, s.Schema), generic(t, p))
		for _, m := range ms {
			check(s.Type+" payload", m.name, m.doc, ours.ValidatePayload(s.Type, s.SchemaVersion, m.doc), ref.ValidatePayload(s.Type, s.SchemaVersion, m.doc))
			// The same payload inside an envelope, as the relay checks it.
			if _, err := decode(m.doc); err == nil {
				body := encode(t, envelopeOf(t, s.Type, s.SchemaVersion, m.doc))
				check(s.Type+" message", m.name, body, ours.ValidateMessage(body), ref.ValidateMessage(body))
			}
		}
		// Every payload under every other type and version.
		raw := encode(t, p)
		for _, o := range contract.CrossAccountEvents() {
			for _, version := range []int{o.SchemaVersion, o.SchemaVersion + 1, 0} {
				check(fmt.Sprintf("%s payload as %s v%d", s.Type, o.Type, version), "valid", raw,
					ours.ValidatePayload(o.Type, version, raw), ref.ValidatePayload(o.Type, version, raw))
			}
		}
		check(s.Type+" as an internal type", "valid", raw, ours.ValidatePayload("OrderPaid", 1, raw), ref.ValidatePayload("OrderPaid", 1, raw))
	}
	// The envelope itself, mutated, with each type's valid payload.
	for _, s := range contract.CrossAccountEvents() {
		env := envelopeOf(t, s.Type, s.SchemaVersion, encode(t, valid[s.Type]))
		for _, m := range corpus(t, schemaDoc(t, contract.EnvelopeSchema), env) {
			check(s.Type+" envelope", m.name, m.doc, ours.ValidateMessage(m.doc), ref.ValidateMessage(m.doc))
			check(s.Type+" envelope alone", m.name, m.doc, validate(ours.envelope, m.doc, "envelope"), ref.validate(ref.envelope, m.doc))
		}
	}
	// Each schema directly, over every document of every corpus: the payloads of one
	// type against the others' schemas too.
	var all [][]byte
	for _, s := range contract.CrossAccountEvents() {
		for _, m := range corpus(t, schemaDoc(t, s.Schema), generic(t, valid[s.Type])) {
			all = append(all, m.doc)
		}
	}
	for _, s := range contract.CrossAccountEvents() {
		sch := ours.payloads[eventKey{s.Type, s.SchemaVersion}]
		for _, doc := range all {
			check(s.Schema, "cross-corpus document", doc, validate(sch, doc, s.Type), ref.validate(ref.byPath[s.Schema], doc))
		}
	}
	t.Logf("documents compared, by the library's verdict: %v", counts)
	if counts["valid"] < 100 || counts["invalid"] < 1000 {
		t.Errorf("corpus too small: %v", counts)
	}
}

// FuzzEquivalence feeds arbitrary documents to both validators, for every schema.
func FuzzEquivalence(f *testing.F) {
	ours, err := New()
	if err != nil {
		f.Fatal(err)
	}
	ref := newReference(f)
	valid := contracttest.Payloads(f)
	specs := contract.CrossAccountEvents()
	for i, s := range specs {
		for j, m := range corpus(f, schemaDoc(f, s.Schema), generic(f, valid[s.Type])) {
			if j%7 == 0 { // a sample: the unit test runs them all
				f.Add(uint8(i), m.doc)
			}
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, doc []byte) {
		if int(which) == len(specs) {
			got, want := ours.ValidateMessage(doc), ref.ValidateMessage(doc)
			if verdict(got) != verdict(want) {
				t.Fatalf("message: schemacheck %v, library %v\n%q", got, want, doc)
			}
			return
		}
		s := specs[int(which)%len(specs)]
		got, want := ours.ValidatePayload(s.Type, s.SchemaVersion, doc), ref.ValidatePayload(s.Type, s.SchemaVersion, doc)
		if verdict(got) != verdict(want) {
			t.Fatalf("%s: schemacheck %v, library %v\n%q", s.Type, got, want, doc)
		}
	})
}

// A schema with a keyword schemacheck does not implement does not compile: the
// validator never silently checks less than a schema says.
func TestUnsupportedKeywordsRefused(t *testing.T) {
	for _, doc := range []string{
		`{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","oneOf":[]}`,
		`{"$schema":"https://json-schema.org/draft/2020-12/schema","properties":{"a":{"type":"string","format":"email"}}}`,
		`{"$schema":"https://json-schema.org/draft/2020-12/schema","additionalProperties":{"type":"string"}}`,
		`{"$schema":"https://json-schema.org/draft/2020-12/schema","$ref":"other.json"}`,
		`{"$schema":"https://json-schema.org/draft-07/schema","type":"object"}`,
		`{"$schema":"https://json-schema.org/draft/2020-12/schema","properties":{"a":{"items":{}}}}`,
		`{"$schema":"https://json-schema.org/draft/2020-12/schema","pattern":"("}`,
		`{"$schema":"https://json-schema.org/draft/2020-12/schema","minLength":-1}`,
		`{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"decimal"}`,
	} {
		d, err := decode([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := compile(d); err == nil {
			t.Errorf("compiled: %s", doc)
		}
	}
}

// Patterns outside the directly matched subset fall back to package regexp; both
// paths agree with it.
func TestPatterns(t *testing.T) {
	inputs := []string{"", "a", "A", "abc", "ABC", "IDR", "idr", "or_abcdefghijklmnopqrstuvwxyz", "or_abcdefghijklmnopqrstuvwxy7",
		"ln_1", "a-b_c", "a b", "x\ny", "ab\n", "é", "éé", "aaa", "aaaa", "ba", "ab", strings.Repeat("a", 64), strings.Repeat("a", 65)}
	for _, p := range []string{`^[A-Z]{3}$`, `^or_[a-z2-7]{26}$`, `^[A-Za-z0-9_-]{1,64}$`, `[a-z]`, `^a`, `b$`, `^a*$`, `^a+b?$`,
		`^[a-z]*a$`, `^.{2}$`, `^a{2,}$`, `(?i)^abc$`, `^(ab)+$`, `^a|b$`, `^\d+$`, `^$`, `x?`, `^[^a]+$`, `(?s)^.+$`, `^\s*$`} {
		compiled, err := compilePattern(p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		re := mustRegexp(t, p)
		for _, in := range inputs {
			if got, want := compiled.match(in), re.MatchString(in); got != want {
				t.Errorf("%s on %q: %v, regexp says %v", p, in, got, want)
			}
		}
	}
	for _, p := range []string{`^[A-Z]{3}$`, `^or_[a-z2-7]{26}$`, `^[A-Za-z0-9_-]{1,64}$`} {
		if c, _ := compilePattern(p); c.re != nil {
			t.Errorf("%s: the contract's pattern is not matched directly", p)
		}
	}
}

type ratT = big.Rat

func mustRegexp(t *testing.T, p string) *regexp.Regexp {
	t.Helper()
	re, err := regexp.Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	return re
}
