package ledger

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
)

// MaxSafeInteger is the largest integer magnitude Data may hold: 2^53-1, the largest
// that every JSON implementation (and RFC 8785, which works on IEEE 754 doubles)
// represents exactly. Money amounts (at most 10^15 minor units) fit.
const MaxSafeInteger = 1<<53 - 1

// maxDepth bounds the nesting of Data.
const maxDepth = 32

// ErrNotCanonicalizable: Data is not a JSON object of the canonical subset (see the
// package doc): a float, an integer beyond MaxSafeInteger, a duplicate key, nesting
// deeper than 32, or not an object at all.
var ErrNotCanonicalizable = errors.New("data cannot be canonicalized")

// Canonicalize returns the canonical form of a JSON object (the package doc's rules,
// which are RFC 8785's for the subset allowed): keys sorted by UTF-16 code units, no
// white space, integers in plain decimal, strings with only the mandatory escapes.
// Equal JSON objects, however they are spelled, canonicalize to the same bytes.
func Canonicalize(data []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var out bytes.Buffer
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotCanonicalizable, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("%w: not a JSON object", ErrNotCanonicalizable)
	}
	if err := canonicalValue(dec, tok, &out, 1); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: more than one JSON value", ErrNotCanonicalizable)
	}
	return out.Bytes(), nil
}

// canonicalValue writes the value that starts with tok.
func canonicalValue(dec *json.Decoder, tok json.Token, out *bytes.Buffer, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("%w: nested deeper than %d", ErrNotCanonicalizable, maxDepth)
	}
	switch v := tok.(type) {
	case json.Delim:
		switch v {
		case '{':
			return canonicalObject(dec, out, depth)
		case '[':
			out.WriteByte('[')
			for first := true; dec.More(); first = false {
				if !first {
					out.WriteByte(',')
				}
				t, err := dec.Token()
				if err != nil {
					return fmt.Errorf("%w: %v", ErrNotCanonicalizable, err)
				}
				if err := canonicalValue(dec, t, out, depth+1); err != nil {
					return err
				}
			}
			if _, err := dec.Token(); err != nil { // ']'
				return fmt.Errorf("%w: %v", ErrNotCanonicalizable, err)
			}
			out.WriteByte(']')
			return nil
		}
		return fmt.Errorf("%w: unexpected %v", ErrNotCanonicalizable, v)
	case string:
		writeString(out, v)
	case json.Number:
		n, err := canonicalInteger(string(v))
		if err != nil {
			return err
		}
		out.WriteString(n)
	case bool:
		out.WriteString(strconv.FormatBool(v))
	case nil:
		out.WriteString("null")
	default:
		return fmt.Errorf("%w: unexpected token %T", ErrNotCanonicalizable, tok)
	}
	return nil
}

// canonicalObject writes an object whose '{' was read, members sorted by key.
func canonicalObject(dec *json.Decoder, out *bytes.Buffer, depth int) error {
	type member struct {
		key   string
		value []byte
	}
	var members []member
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return fmt.Errorf("%w: %v", ErrNotCanonicalizable, err)
		}
		key, ok := t.(string)
		if !ok {
			return fmt.Errorf("%w: object key %v", ErrNotCanonicalizable, t)
		}
		if seen[key] {
			return fmt.Errorf("%w: duplicate key %q", ErrNotCanonicalizable, key)
		}
		seen[key] = true
		vt, err := dec.Token()
		if err != nil {
			return fmt.Errorf("%w: %v", ErrNotCanonicalizable, err)
		}
		var buf bytes.Buffer
		if err := canonicalValue(dec, vt, &buf, depth+1); err != nil {
			return err
		}
		members = append(members, member{key, buf.Bytes()})
	}
	if _, err := dec.Token(); err != nil { // '}'
		return fmt.Errorf("%w: %v", ErrNotCanonicalizable, err)
	}
	slices.SortFunc(members, func(a, b member) int { return compareUTF16(a.key, b.key) })
	out.WriteByte('{')
	for i, m := range members {
		if i > 0 {
			out.WriteByte(',')
		}
		writeString(out, m.key)
		out.WriteByte(':')
		out.Write(m.value)
	}
	out.WriteByte('}')
	return nil
}

// compareUTF16 orders strings by their UTF-16 code units, as RFC 8785 §3.2.3 sorts
// keys. It differs from byte order only for characters beyond U+FFFF against
// U+E000..U+FFFF.
func compareUTF16(a, b string) int {
	return slices.Compare(utf16.Encode([]rune(a)), utf16.Encode([]rune(b)))
}

// canonicalInteger checks that a JSON number is an integer within ±MaxSafeInteger and
// returns it in plain decimal ("-0" becomes "0").
func canonicalInteger(s string) (string, error) {
	if strings.ContainsAny(s, ".eE") {
		return "", fmt.Errorf("%w: %s is not an integer (fractions are not allowed; use minor units)", ErrNotCanonicalizable, s)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n > MaxSafeInteger || n < -MaxSafeInteger {
		return "", fmt.Errorf("%w: integer %s beyond ±(2^53-1)", ErrNotCanonicalizable, s)
	}
	return strconv.FormatInt(n, 10), nil
}

// writeString writes s as a JSON string with RFC 8785's escaping: \" \\ \b \f \n \r \t,
// other control characters as \u00xx (lower-case hex), everything else as UTF-8.
// Invalid UTF-8 becomes U+FFFD.
func writeString(out *bytes.Buffer, s string) {
	const hex = "0123456789abcdef"
	out.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			out.WriteString(`\"`)
		case r == '\\':
			out.WriteString(`\\`)
		case r == '\b':
			out.WriteString(`\b`)
		case r == '\f':
			out.WriteString(`\f`)
		case r == '\n':
			out.WriteString(`\n`)
		case r == '\r':
			out.WriteString(`\r`)
		case r == '\t':
			out.WriteString(`\t`)
		case r < 0x20:
			out.WriteString(`\u00`)
			out.WriteByte(hex[r>>4])
			out.WriteByte(hex[r&0xf])
		default:
			out.WriteRune(r) // utf8.RuneError for invalid bytes, written as U+FFFD
		}
	}
	out.WriteByte('"')
}
