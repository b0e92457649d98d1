package ledger_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/etalase/etalase/shared/commerce/ledger"
)

func TestCanonicalize(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"sorted keys, no space", `{ "b" : 1, "a" : [ true , false, null ] }`, `{"a":[true,false,null],"b":1}`},
		{"nested objects sorted", `{"z":{"y":1,"x":{"d":1,"c":2}},"a":{}}`, `{"a":{},"z":{"x":{"c":2,"d":1},"y":1}}`},
		{"html characters stay", `{"s":"\u003cb\u003e \u0026"}`, `{"s":"<b> &"}`},
		{"mandatory escapes", `{"s":"q\" b\\ \b\f\n\r\t \u0001\u001f"}`, `{"s":"q\" b\\ \b\f\n\r\t \u0001\u001f"}`},
		{"non-ascii literal", `{"s":"Rp \u00e9\u20ac\ud83d\ude00"}`, `{"s":"Rp é€😀"}`},
		{"solidus unescaped", `{"s":"a\/b"}`, `{"s":"a/b"}`},
		{"del stays literal", "{\"s\":\"\x7f\"}", "{\"s\":\"\x7f\"}"},
		{"integers", `{"a":-0,"b":9007199254740991,"c":-9007199254740991,"d":150000}`, `{"a":0,"b":9007199254740991,"c":-9007199254740991,"d":150000}`},
		{"utf-16 key order", `{"\ue000":1,"\ud83d\ude00":2,"a":3}`, "{\"a\":3,\"\U0001F600\":2,\"\uE000\":1}"},
		{"empty", `{}`, `{}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ledger.Canonicalize([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("Canonicalize(%s) =\n %s\nwant\n %s", tt.in, got, tt.want)
			}
			again, err := ledger.Canonicalize(got)
			if err != nil || string(again) != string(got) {
				t.Errorf("not idempotent: %s → %s (%v)", got, again, err)
			}
		})
	}
}

func TestCanonicalizeRejects(t *testing.T) {
	for name, in := range map[string]string{
		"float":          `{"a":1.5}`,
		"exponent":       `{"a":1e3}`,
		"integral float": `{"a":1.0}`,
		"beyond 2^53":    `{"a":9007199254740992}`,
		"below -2^53":    `{"a":-9007199254740992}`,
		"duplicate key":  `{"a":1,"a":2}`,
		"nested dup":     `{"o":{"k":1,"k":1}}`,
		"array":          `[1]`,
		"string":         `"x"`,
		"two values":     `{}{}`,
		"broken":         `{"a":`,
		"too deep":       `{"a":` + strings.Repeat(`[`, 40) + strings.Repeat(`]`, 40) + `}`,
	} {
		if got, err := ledger.Canonicalize([]byte(in)); !errors.Is(err, ledger.ErrNotCanonicalizable) {
			t.Errorf("%s: Canonicalize(%s) = %s, %v; want ErrNotCanonicalizable", name, in, got, err)
		}
	}
}

// The package doc's example, with bytes and hash computed independently of this
// package (sha256 of 32 zero bytes followed by the canonical text).
func TestCanonicalBytesExample(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	e, err := ledger.Next(ledger.Head{}, "o_x", ledger.TypeOrderCreated, at, map[string]any{"b": 1, "a": "<"})
	if err != nil {
		t.Fatal(err)
	}
	const wantCanon = `{"at":"2026-01-02T03:04:05.000000006Z","data":{"a":"<","b":1},"orderId":"o_x","prevHash":"0000000000000000000000000000000000000000000000000000000000000000","seq":1,"type":"order_created"}`
	const wantHash = "4faf804ea2f688eec9eb6ef902465a69e6b0d6548842c8f96e8de46210b2945a"
	canon, err := e.CanonicalBytes()
	if err != nil {
		t.Fatal(err)
	}
	if string(canon) != wantCanon {
		t.Errorf("canonical bytes:\n got %s\nwant %s", canon, wantCanon)
	}
	if e.Hash != wantHash || e.Seq != 1 || e.PrevHash != ledger.GenesisHash {
		t.Errorf("entry = %+v, want seq 1, genesis prevHash, hash %s", e, wantHash)
	}
	// A non-UTC time is hashed as its UTC instant.
	jakarta := at.In(time.FixedZone("WIB", 7*3600))
	e2, _ := ledger.Next(ledger.Head{}, "o_x", ledger.TypeOrderCreated, jakarta, map[string]any{"a": "<", "b": 1})
	if e2.Hash != wantHash {
		t.Errorf("same instant in another zone hashes differently: %s", e2.Hash)
	}
}

func TestNextRejects(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for name, f := range map[string]func() (ledger.Entry, error){
		"empty order": func() (ledger.Entry, error) { return ledger.Next(ledger.Head{}, "", "order_created", at, nil) },
		"bad type":    func() (ledger.Entry, error) { return ledger.Next(ledger.Head{}, "o_x", "Order Created", at, nil) },
		"zero time": func() (ledger.Entry, error) {
			return ledger.Next(ledger.Head{}, "o_x", "order_created", time.Time{}, nil)
		},
		"array data": func() (ledger.Entry, error) { return ledger.Next(ledger.Head{}, "o_x", "order_created", at, []int{1}) },
		"float data": func() (ledger.Entry, error) {
			return ledger.Next(ledger.Head{}, "o_x", "order_created", at, map[string]any{"a": 0.5})
		},
		"bad head hash": func() (ledger.Entry, error) {
			return ledger.Next(ledger.Head{Seq: 1, Hash: "xyz"}, "o_x", "t", at, nil)
		},
	} {
		if _, err := f(); !errors.Is(err, ledger.ErrInvalidEntry) {
			t.Errorf("%s: err = %v, want ErrInvalidEntry", name, err)
		}
	}
}

// chain builds n entries of order o_test.
func chain(t *testing.T, n int) []ledger.Entry {
	t.Helper()
	var (
		out  []ledger.Entry
		head ledger.Head
	)
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := range n {
		typ := ledger.TypeStatusChanged
		if i == 0 {
			typ = ledger.TypeOrderCreated
		}
		e, err := ledger.Next(head, "o_test", typ, at.Add(time.Duration(i)*time.Second), map[string]any{"i": i, "note": "entry"})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
		head = e.Head()
	}
	return out
}

func TestChain(t *testing.T) {
	es := chain(t, 5)
	for i, e := range es {
		if e.Seq != int64(i+1) {
			t.Errorf("entry %d has seq %d", i, e.Seq)
		}
		if i > 0 && e.PrevHash != es[i-1].Hash {
			t.Errorf("entry %d does not link to %d", i+1, i)
		}
	}
	if r := ledger.Verify(es); !r.OK || r.Entries != 5 || r.FirstBadSeq != 0 || r.Reason != "" {
		t.Errorf("Verify = %+v", r)
	}
	if r := ledger.VerifyHead(es, es[4].Head(), true); !r.OK {
		t.Errorf("VerifyHead = %+v", r)
	}
	if r := ledger.Verify(nil); !r.OK || r.Entries != 0 {
		t.Errorf("Verify(empty) = %+v", r)
	}
}

func TestVerifyDetects(t *testing.T) {
	tests := []struct {
		name       string
		tamper     func(es []ledger.Entry) []ledger.Entry
		wantBadSeq int64
		wantReason string
	}{
		{"modified data", func(es []ledger.Entry) []ledger.Entry {
			es[2].Data = json.RawMessage(`{"i":2,"note":"edited"}`)
			return es
		}, 3, "hash does not match"},
		{"modified data, same JSON respelled", func(es []ledger.Entry) []ledger.Entry {
			es[2].Data = json.RawMessage(`{ "note" : "entry", "i" : 2 }`) // equal JSON: still verifies
			return es
		}, 0, ""},
		{"modified type", func(es []ledger.Entry) []ledger.Entry { es[1].Type = "order_created"; return es }, 2, "hash does not match"},
		{"modified time", func(es []ledger.Entry) []ledger.Entry { es[3].At = es[3].At.Add(time.Nanosecond); return es }, 4, "hash does not match"},
		{"moved to another order", func(es []ledger.Entry) []ledger.Entry {
			for i := range es {
				es[i].OrderID = "o_other"
			}
			return es
		}, 1, "hash does not match"},
		{"entry of another order inside", func(es []ledger.Entry) []ledger.Entry { es[2].OrderID = "o_other"; return es }, 3, "belongs to order"},
		{"removed entry", func(es []ledger.Entry) []ledger.Entry { return append(es[:2], es[3:]...) }, 3, "gap"},
		{"removed first entry", func(es []ledger.Entry) []ledger.Entry { return es[1:] }, 1, "gap"},
		{"swapped order", func(es []ledger.Entry) []ledger.Entry { es[1], es[2] = es[2], es[1]; return es }, 2, "out of order"},
		{"swapped and renumbered", func(es []ledger.Entry) []ledger.Entry {
			es[1], es[2] = es[2], es[1]
			es[1].Seq, es[2].Seq = 2, 3
			return es
		}, 2, "does not link"},
		{"duplicated entry", func(es []ledger.Entry) []ledger.Entry {
			return append(es[:3], append([]ledger.Entry{es[2]}, es[3:]...)...)
		}, 4, "duplicated"},
		{"forged hash", func(es []ledger.Entry) []ledger.Entry {
			// The forger edits entry 2 and recomputes its hash: entry 3 no longer links.
			es[1].Data = json.RawMessage(`{"i":1,"note":"forged"}`)
			h, err := es[1].ComputeHash()
			if err != nil {
				panic(err)
			}
			es[1].Hash = h
			return es
		}, 3, "does not link"},
		{"hash replaced", func(es []ledger.Entry) []ledger.Entry {
			es[4].Hash = strings.Repeat("ab", 32)
			return es
		}, 5, "hash does not match"},
		{"non-canonical data", func(es []ledger.Entry) []ledger.Entry {
			es[0].Data = json.RawMessage(`{"i":0.0}`)
			return es
		}, 1, "cannot be hashed"},
		{"genesis replaced", func(es []ledger.Entry) []ledger.Entry {
			es[0].PrevHash = strings.Repeat("11", 32)
			return es
		}, 1, "does not link"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es := tt.tamper(chain(t, 5))
			r := ledger.Verify(es)
			if tt.wantBadSeq == 0 {
				if !r.OK {
					t.Errorf("Verify = %+v, want OK", r)
				}
				return
			}
			if r.OK || r.FirstBadSeq != tt.wantBadSeq || !strings.Contains(r.Reason, tt.wantReason) {
				t.Errorf("Verify = %+v, want first bad seq %d, reason containing %q", r, tt.wantBadSeq, tt.wantReason)
			}
		})
	}
}

func TestVerifyHead(t *testing.T) {
	es := chain(t, 4)
	tests := []struct {
		name       string
		entries    []ledger.Entry
		head       ledger.Head
		found      bool
		wantBadSeq int64
		wantReason string
	}{
		{"matches", es, es[3].Head(), true, 0, ""},
		{"tail removed", es[:2], es[3].Head(), true, 3, "truncated"},
		{"all removed", nil, es[3].Head(), true, 1, "truncated"},
		{"beyond head", es, es[2].Head(), true, 4, "beyond"},
		{"tip differs", es, ledger.Head{Seq: 4, Hash: es[2].Hash}, true, 4, "differs"},
		{"no order", es, ledger.Head{}, false, 1, "no order item"},
		{"no order, no ledger", nil, ledger.Head{}, false, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ledger.VerifyHead(tt.entries, tt.head, tt.found)
			if tt.wantBadSeq == 0 {
				if !r.OK {
					t.Errorf("VerifyHead = %+v, want OK", r)
				}
				return
			}
			if r.OK || r.FirstBadSeq != tt.wantBadSeq || !strings.Contains(r.Reason, tt.wantReason) {
				t.Errorf("VerifyHead = %+v, want first bad seq %d, reason containing %q", r, tt.wantBadSeq, tt.wantReason)
			}
		})
	}
}
