package contract

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"
)

// AllowedOrderField is the one field name mentioning an order that may cross: the
// opaque reference of NewOrderRef.
const AllowedOrderField = "orderRef"

// forbiddenWords maps words that suggest buyer data to the category of DESIGN.md
// section 1, rule 3 they belong to. A field name is split into words (camelCase,
// snake_case, kebab-case) and compared word by word, so "buyerEmail", "shipping_address"
// and "cardLast4" are caught while "title" or "inStock" are not.
var forbiddenWords = map[string]string{
	// buyer identity
	"buyer": "buyer identity", "customer": "buyer identity", "user": "buyer identity",
	"email": "buyer identity", "phone": "buyer identity", "mobile": "buyer identity",
	"msisdn": "buyer identity", "whatsapp": "buyer identity", "name": "buyer identity",
	"nik": "buyer identity", "ktp": "buyer identity", "npwp": "buyer identity",
	"passport": "buyer identity", "birth": "buyer identity", "dob": "buyer identity",
	"gender": "buyer identity", "ip": "buyer identity", "device": "buyer identity",
	"cookie": "buyer identity", "session": "buyer identity", "login": "buyer identity",
	// address
	"address": "address", "street": "address", "city": "address", "province": "address",
	"district": "address", "postal": "address", "postcode": "address", "zip": "address",
	"shipping": "address", "billing": "address", "recipient": "address",
	"location": "address", "latitude": "address", "longitude": "address", "geo": "address",
	// payment data
	"payment": "payment data", "card": "payment data", "pan": "payment data",
	"cvv": "payment data", "cvc": "payment data", "iban": "payment data",
	"bank": "payment data", "account": "payment data", "wallet": "payment data",
	"transaction": "payment data", "invoice": "payment data", "settlement": "payment data",
	"fraud": "payment data", "midtrans": "payment data", "xendit": "payment data",
	"signature": "payment data",
	// order id in clear
	"order": "order id",
}

// ForbiddenField reports whether a field name suggests buyer identity, an address,
// payment data or an order id, and which. AllowedOrderField is the one exception.
func ForbiddenField(name string) (category string, forbidden bool) {
	if name == AllowedOrderField {
		return "", false
	}
	for _, w := range words(name) {
		if c, ok := forbiddenWords[w]; ok {
			return c, true
		}
	}
	return "", false
}

// words splits an identifier into lower-case words at case changes, digits-to-letters
// boundaries, underscores, hyphens and dots: "buyerEmail" → buyer, email;
// "ORDER_ID" → order, id; "cardLast4" → card, last, 4.
func words(name string) []string {
	var out []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			out = append(out, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	rs := []rune(name)
	for i, r := range rs {
		switch {
		case r == '_' || r == '-' || r == '.' || r == ' ':
			flush()
			continue
		case unicode.IsUpper(r) && len(cur) > 0:
			prev := rs[i-1]
			nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1])
			if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && nextLower) {
				flush()
			}
		case unicode.IsDigit(r) && len(cur) > 0 && !unicode.IsDigit(rs[i-1]):
			flush()
		case unicode.IsLetter(r) && len(cur) > 0 && unicode.IsDigit(rs[i-1]):
			flush()
		}
		cur = append(cur, r)
	}
	flush()
	return out
}

// BoundaryProblems checks rule 3 of DESIGN.md section 1 on the contract itself: it walks
// the Go type and the JSON Schema of the envelope and of every cross-account event (and
// the hand-off token's claims) and
// reports, one line each, every field or schema property whose name suggests buyer
// identity, an address, payment data or an order id (ForbiddenField), every object
// schema that does not set additionalProperties: false, and every payload whose Go type
// and schema name different fields. None means the contract holds the rule.
func BoundaryProblems() []string {
	var bad []string
	bad = append(bad, TypeProblems("Envelope", reflect.TypeFor[Envelope]())...)
	// The hand-off token crosses the other way, through the buyer's client: it names
	// no buyer either.
	bad = append(bad, TypeProblems("HandoffClaims", reflect.TypeFor[HandoffClaims]())...)
	if raw, err := schemaBytes(EnvelopeSchema); err != nil {
		bad = append(bad, err.Error())
	} else {
		bad = append(bad, SchemaProblems(EnvelopeSchema, raw)...)
	}
	for _, s := range CrossAccountEvents() {
		where := fmt.Sprintf("%s v%d", s.Type, s.SchemaVersion)
		bad = append(bad, TypeProblems(where, s.Payload)...)
		raw, err := schemaBytes(s.Schema)
		if err != nil {
			bad = append(bad, err.Error())
			continue
		}
		bad = append(bad, SchemaProblems(s.Schema, raw)...)
		goFields, schemaFields := JSONFields(s.Payload), schemaFieldNames(raw)
		if !slices.Equal(goFields, schemaFields) {
			bad = append(bad, fmt.Sprintf("%s: the Go type has fields %v but %s has %v", where, goFields, s.Schema, schemaFields))
		}
	}
	return bad
}

// TypeProblems walks a Go type's JSON fields, nested structs, slices and maps included,
// and reports the forbidden ones as "<where>: field a.b (category)".
func TypeProblems(where string, t reflect.Type) []string {
	var bad []string
	walkType(t, "", map[reflect.Type]bool{}, func(path, name string) {
		if c, ok := ForbiddenField(name); ok {
			bad = append(bad, fmt.Sprintf("%s: field %s suggests %s", where, path, c))
		}
	})
	return bad
}

// JSONFields returns the dotted JSON paths of a type's fields, sorted.
func JSONFields(t reflect.Type) []string {
	var out []string
	walkType(t, "", map[reflect.Type]bool{}, func(path, _ string) { out = append(out, path) })
	sort.Strings(out)
	return out
}

var (
	timeType = reflect.TypeFor[time.Time]()
	rawType  = reflect.TypeFor[json.RawMessage]()
)

// walkType calls visit for every JSON field of t, with its dotted path and own name.
func walkType(t reflect.Type, prefix string, seen map[reflect.Type]bool, visit func(path, name string)) {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || t == timeType || seen[t] {
		return
	}
	seen[t] = true
	defer delete(seen, t)
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" {
			walkType(f.Type, prefix, seen, visit)
			continue
		}
		if name == "" {
			name = f.Name
		}
		path := prefix + name
		visit(path, name)
		if f.Type != rawType {
			walkType(f.Type, path+".", seen, visit)
		}
	}
}

// SchemaProblems walks a JSON Schema document's properties, wherever they are
// (properties, $defs, items, allOf, ...), and reports forbidden property names and
// object schemas that declare properties without additionalProperties: false.
func SchemaProblems(where string, doc []byte) []string {
	var root any
	if err := json.Unmarshal(doc, &root); err != nil {
		return []string{fmt.Sprintf("%s: not JSON: %v", where, err)}
	}
	var bad []string
	walkSchema(root, "", func(path string, obj map[string]any) {
		props, ok := obj["properties"].(map[string]any)
		if !ok {
			return
		}
		if obj["additionalProperties"] != false {
			bad = append(bad, fmt.Sprintf("%s: the object at %s does not set additionalProperties: false", where, displayPath(path)))
		}
		for _, name := range sortedKeys(props) {
			if c, ok := ForbiddenField(name); ok {
				bad = append(bad, fmt.Sprintf("%s: property %s suggests %s", where, displayPath(path+"/properties/"+name), c))
			}
		}
	})
	return bad
}

// walkSchema visits every object of a schema document with its JSON pointer.
func walkSchema(v any, path string, visit func(path string, obj map[string]any)) {
	switch x := v.(type) {
	case map[string]any:
		visit(path, x)
		for _, k := range sortedKeys(x) {
			walkSchema(x[k], path+"/"+k, visit)
		}
	case []any:
		for i, item := range x {
			walkSchema(item, fmt.Sprintf("%s/%d", path, i), visit)
		}
	}
}

// schemaFieldNames returns the dotted property paths a payload schema describes,
// following local $refs, sorted.
func schemaFieldNames(doc []byte) []string {
	var root map[string]any
	if err := json.Unmarshal(doc, &root); err != nil {
		return nil
	}
	var out []string
	var walk func(obj map[string]any, prefix string, depth int)
	walk = func(obj map[string]any, prefix string, depth int) {
		if depth > 10 {
			return
		}
		if ref, ok := obj["$ref"].(string); ok {
			if target := resolveRef(root, ref); target != nil {
				walk(target, prefix, depth+1)
			}
			return
		}
		props, _ := obj["properties"].(map[string]any)
		for name, p := range props {
			out = append(out, prefix+name)
			if pm, ok := p.(map[string]any); ok {
				walk(pm, prefix+name+".", depth+1)
			}
		}
	}
	walk(root, "", 0)
	sort.Strings(out)
	return out
}

// resolveRef resolves a local "#/a/b" reference.
func resolveRef(root map[string]any, ref string) map[string]any {
	rest, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil
	}
	cur := any(root)
	for _, part := range strings.Split(rest, "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[part]
	}
	m, _ := cur.(map[string]any)
	return m
}

func displayPath(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
