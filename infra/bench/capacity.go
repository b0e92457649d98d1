package bench

import (
	"encoding/base64"
	"math"
	"strings"
	"unicode/utf8"
)

// DynamoDB's capacity rules, as its developer guide states them ("DynamoDB read and
// write operations", https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html,
// and "Item sizes and formats", .../CapacityUnitCalculations.html): a read request
// unit reads up to 4 KB strongly consistently, half a unit eventually consistently and
// two units transactionally; a write request unit writes up to 1 KB, two in a
// transaction; sizes round up to the unit. On-demand tables bill these units as read
// and write request units (RRU, WRU). The benchmark computes with these rules what
// DynamoDB Local does not report the way DynamoDB would (see Meter).
const (
	// ReadUnitBytes is what one read unit reads.
	ReadUnitBytes = 4096
	// WriteUnitBytes is what one write unit writes.
	WriteUnitBytes = 1024
)

// Item is an item in DynamoDB's JSON wire format: attribute name → attribute value,
// such as {"S": "x"}, {"N": "12"}, {"M": {...}}.
type Item map[string]any

// WriteUnits is the write units of writing an item of size bytes: at least one, one
// per started KB; transactional writes cost twice as much.
func WriteUnits(size int, transactional bool) float64 {
	u := math.Max(1, math.Ceil(float64(size)/WriteUnitBytes))
	if transactional {
		u *= 2
	}
	return u
}

// ReadUnits is the read units of reading an item of size bytes (a missing item counts
// as one of size 0): one per started 4 KB, at least one; half of that for an
// eventually consistent read, twice for a transactional one.
func ReadUnits(size int, consistent, transactional bool) float64 {
	u := math.Max(1, math.Ceil(float64(size)/ReadUnitBytes))
	switch {
	case transactional:
		u *= 2
	case !consistent:
		u /= 2
	}
	return u
}

// ItemSize is an item's size by DynamoDB's rules: the sum of its attribute names'
// UTF-8 lengths and of its values' sizes (see AttributeSize).
func ItemSize(it Item) int {
	n := 0
	for name, v := range it {
		n += len(name) + AttributeSize(v)
	}
	return n
}

// AttributeSize is the size of one attribute value in DynamoDB's wire format: a
// string's UTF-8 length; a number's 1 byte plus 1 per two significant digits; a
// binary's decoded length; 1 byte for a Boolean or null; a set's elements; a list or
// map's 3 bytes plus 1 byte per element plus its elements (and a map's element
// names). A value it does not recognise counts 0.
func AttributeSize(v any) int {
	av, ok := v.(map[string]any)
	if !ok {
		return 0
	}
	for typ, x := range av {
		switch typ {
		case "S":
			s, _ := x.(string)
			return len(s)
		case "N":
			s, _ := x.(string)
			return numberSize(s)
		case "B":
			s, _ := x.(string)
			return binarySize(s)
		case "BOOL", "NULL":
			return 1
		case "SS", "NS", "BS":
			xs, _ := x.([]any)
			n := 0
			for _, e := range xs {
				s, _ := e.(string)
				switch typ {
				case "SS":
					n += len(s)
				case "NS":
					n += numberSize(s)
				default:
					n += binarySize(s)
				}
			}
			return n
		case "L":
			xs, _ := x.([]any)
			n := 3 + len(xs)
			for _, e := range xs {
				n += AttributeSize(e)
			}
			return n
		case "M":
			m, _ := x.(map[string]any)
			n := 3 + len(m)
			for name, e := range m {
				n += len(name) + AttributeSize(e)
			}
			return n
		}
	}
	return 0
}

// numberSize is 1 byte plus 1 per two significant digits of a decimal number.
func numberSize(s string) int {
	s = strings.TrimLeft(s, "+-")
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		s = s[:i]
	}
	// Leading and trailing zeros are not significant, nor is the decimal point.
	digits := strings.Trim(strings.ReplaceAll(s, ".", ""), "0")
	n := utf8.RuneCountInString(digits)
	return 1 + (n+1)/2
}

func binarySize(s string) int {
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return len(b)
	}
	return len(s)
}

// Index is a global secondary index: its key attributes and what it projects.
type Index struct {
	Name string
	// Keys are the index's key attributes (partition, then sort).
	Keys []string
	// Projection is ALL, KEYS_ONLY or INCLUDE (with NonKey).
	Projection string
	NonKey     []string
}

// Schema is a table's key attributes and global secondary indexes.
type Schema struct {
	Keys    []string
	Indexes []Index
}

// project returns the part of it that idx holds: nil when it lacks a key attribute of
// the index (a sparse index leaves it out).
func (s Schema) project(idx Index, it Item) Item {
	if it == nil {
		return nil
	}
	for _, k := range idx.Keys {
		if _, ok := it[k]; !ok {
			return nil
		}
	}
	if idx.Projection == "ALL" || idx.Projection == "" {
		return it
	}
	out := Item{}
	for _, k := range append(append(append([]string(nil), s.Keys...), idx.Keys...), idx.NonKey...) {
		if v, ok := it[k]; ok {
			out[k] = v
		}
	}
	return out
}

// IndexWriteUnits is the write units that an item going from before to after (either
// nil: created or deleted) costs in the table's global secondary indexes, by the
// developer guide's rules ("Provisioned throughput considerations for global secondary
// indexes"): putting an entry into an index is one write of the projected size;
// removing one is one write; changing an index key is both; changing only projected
// attributes is one write; changing nothing the index holds costs nothing. Index
// writes are charged at the standard rate, also for a transaction's items (an
// assumption: the guide says a transaction doubles its items' writes, and names no
// index).
func (s Schema) IndexWriteUnits(before, after Item) float64 {
	units := 0.0
	for _, idx := range s.Indexes {
		b, a := s.project(idx, before), s.project(idx, after)
		switch {
		case b == nil && a == nil:
		case b == nil:
			units += WriteUnits(ItemSize(a), false)
		case a == nil:
			units += WriteUnits(ItemSize(b), false)
		case !sameValues(b, a, idx.Keys):
			units += WriteUnits(ItemSize(b), false) + WriteUnits(ItemSize(a), false)
		case !sameItem(b, a):
			units += WriteUnits(ItemSize(a), false)
		}
	}
	return units
}

// sameValues reports whether a and b hold the same values of names.
func sameValues(a, b Item, names []string) bool {
	for _, n := range names {
		if !equalValue(a[n], b[n]) {
			return false
		}
	}
	return true
}

// sameItem reports whether a and b are the same item.
func sameItem(a, b Item) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || !equalValue(v, w) {
			return false
		}
	}
	return true
}

// equalValue compares two decoded JSON values.
func equalValue(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !equalValue(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equalValue(x[i], y[i]) {
				return false
			}
		}
		return true
	default:
		return a == b
	}
}
