package ledger

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/etalase/etalase/shared/platform/ident"
)

// Entry types etalase writes. Other types are allowed (ValidType); these are the
// ones the order lifecycle uses.
const (
	// TypeOrderCreated: the checkout placed the order (seq 1, in the checkout's transaction).
	TypeOrderCreated = "order_created"
	// TypePaymentOpened: the payment session was opened (provider, reference).
	TypePaymentOpened = "payment_opened"
	// TypeStatusChanged: a transition of the order state machine (from, to, event).
	TypeStatusChanged = "status_changed"
	// TypeNotificationRecorded: an event that changed no status but is kept (a fraud
	// challenge, a partial refund).
	TypeNotificationRecorded = "notification_recorded"
	// TypeNotificationRejected: a provider notification that the state machine rejected
	// (order.ErrRejected) or could not map; written by Append, outside any transition.
	TypeNotificationRejected = "notification_rejected"
)

// ValidType reports whether typ has the shape of an entry type: at most 64 bytes, a
// lower-case letter then lower-case letters, digits and '_' (^[a-z][a-z0-9_]*$).
func ValidType(typ string) bool { return len(typ) <= 64 && ident.Snake(typ) }

// TimeLayout is the entry time's format: fixed-width UTC with nanoseconds. Entries
// carry it as a string, which the canonical bytes contain verbatim.
const TimeLayout = "2006-01-02T15:04:05.000000000Z"

// GenesisHash is the PrevHash of an order's first entry: 32 zero bytes, in hex.
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// Entry is one record of an order's ledger.
type Entry struct {
	// OrderID is the order the entry belongs to.
	OrderID string
	// Seq numbers an order's entries 1, 2, 3, ... without gaps.
	Seq int64
	// Type says what happened (TypeOrderCreated, ...).
	Type string
	// At is when it happened (UTC; TimeLayout precision).
	At time.Time
	// Data is the entry's details: a JSON object in canonical form (Canonicalize).
	Data json.RawMessage
	// PrevHash is the previous entry's Hash, GenesisHash for seq 1 (lower-case hex).
	PrevHash string
	// Hash is SHA-256(PrevHash bytes || CanonicalBytes()), lower-case hex.
	Hash string
}

// Head is the last entry of an order's ledger as the order item records it: its seq
// and hash. The zero Head is an order without entries.
type Head struct {
	// Seq is the last entry's seq, 0 before the first entry.
	Seq int64
	// Hash is the last entry's hash, empty before the first entry.
	Hash string
}

// Head returns the head that e makes.
func (e Entry) Head() Head { return Head{Seq: e.Seq, Hash: e.Hash} }

// prevHash is the PrevHash of the entry that follows h.
func (h Head) prevHash() string {
	if h.Seq == 0 {
		return GenesisHash
	}
	return h.Hash
}

// ErrInvalidEntry: an entry that cannot be built (bad type, order id, time or data).
var ErrInvalidEntry = errors.New("invalid ledger entry")

// Next builds the entry that follows head in orderID's ledger: seq head.Seq+1, linked
// to head.Hash, with data (any JSON-encodable value that encodes to an object; nil is
// {}) in canonical form, at time at. The caller writes it with TransactPut in the same
// transaction that sets the order's ledger head to e.Head() on the condition that it
// is still head (see the package doc).
func Next(head Head, orderID, typ string, at time.Time, data any) (Entry, error) {
	if orderID == "" || len(orderID) > 256 {
		return Entry{}, fmt.Errorf("%w: order id %q", ErrInvalidEntry, orderID)
	}
	if !ValidType(typ) {
		return Entry{}, fmt.Errorf("%w: type %q", ErrInvalidEntry, typ)
	}
	if head.Seq < 0 || head.Seq > 0 && !validHash(head.Hash) {
		return Entry{}, fmt.Errorf("%w: head %+v", ErrInvalidEntry, head)
	}
	if at.IsZero() || at.Year() < 1 || at.UTC().Year() > 9999 {
		return Entry{}, fmt.Errorf("%w: time %v", ErrInvalidEntry, at)
	}
	raw := []byte("{}")
	if data != nil {
		b, err := json.Marshal(data)
		if err != nil {
			return Entry{}, fmt.Errorf("%w: encode data: %v", ErrInvalidEntry, err)
		}
		raw = b
	}
	canon, err := Canonicalize(raw)
	if err != nil {
		return Entry{}, fmt.Errorf("%w: %w", ErrInvalidEntry, err)
	}
	e := Entry{
		OrderID:  orderID,
		Seq:      head.Seq + 1,
		Type:     typ,
		At:       at.UTC(),
		Data:     canon,
		PrevHash: head.prevHash(),
	}
	if e.Hash, err = e.ComputeHash(); err != nil {
		return Entry{}, err
	}
	return e, nil
}

// CanonicalBytes returns the bytes that e's hash covers: the RFC 8785 (JCS) form of
// the JSON object
//
//	{"at":"<At in TimeLayout>","data":<Data>,"orderId":"<OrderID>","prevHash":"<PrevHash>","seq":<Seq>,"type":"<Type>"}
//
// (keys already in sorted order; Data canonicalized too). Hash is not part of it.
func (e Entry) CanonicalBytes() ([]byte, error) {
	data, err := Canonicalize(e.Data)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString(`{"at":`)
	writeString(&b, e.At.UTC().Format(TimeLayout))
	b.WriteString(`,"data":`)
	b.Write(data)
	b.WriteString(`,"orderId":`)
	writeString(&b, e.OrderID)
	b.WriteString(`,"prevHash":`)
	writeString(&b, e.PrevHash)
	b.WriteString(`,"seq":`)
	b.WriteString(strconv.FormatInt(e.Seq, 10))
	b.WriteString(`,"type":`)
	writeString(&b, e.Type)
	b.WriteByte('}')
	return b.Bytes(), nil
}

// ComputeHash returns hex(SHA-256(the 32 bytes PrevHash encodes || CanonicalBytes())).
func (e Entry) ComputeHash() (string, error) {
	prev, err := hex.DecodeString(e.PrevHash)
	if err != nil || len(prev) != sha256.Size || e.PrevHash != hex.EncodeToString(prev) {
		return "", fmt.Errorf("%w: prevHash %q is not 64 lower-case hex digits", ErrInvalidEntry, e.PrevHash)
	}
	canon, err := e.CanonicalBytes()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	h.Write(prev)
	h.Write(canon)
	return hex.EncodeToString(h.Sum(nil)), nil
}

func validHash(s string) bool {
	b, err := hex.DecodeString(s)
	return err == nil && len(b) == sha256.Size && s == hex.EncodeToString(b)
}

// VerifyResult is the outcome of verifying an order's ledger.
type VerifyResult struct {
	// OK: every entry is in place, linked and hashed correctly (and, for VerifyHead,
	// the last one is the order's recorded head).
	OK bool
	// Entries is the number of entries verified.
	Entries int
	// FirstBadSeq is the sequence number at which the chain breaks (the position, when
	// an entry is missing or out of place); 0 when OK.
	FirstBadSeq int64
	// Reason says what is wrong; empty when OK.
	Reason string
}

// Verify recomputes a ledger's chain from the entries as read (Read returns them by
// seq): the i-th entry (from 1) must have seq i and the first entry's order id, link
// to the previous entry's hash (GenesisHash for the first), and hash to its Hash. It
// reports the first break: a gap or a swap (seq out of place), a broken link (an
// entry removed, replaced or reordered), a bad hash (an entry's fields changed). An
// empty ledger verifies (see VerifyHead for a ledger that should not be empty).
func Verify(entries []Entry) VerifyResult {
	r := VerifyResult{Entries: len(entries)}
	bad := func(seq int64, format string, args ...any) VerifyResult {
		r.FirstBadSeq, r.Reason = seq, fmt.Sprintf(format, args...)
		return r
	}
	prev := GenesisHash
	for i, e := range entries {
		want := int64(i + 1)
		switch {
		case e.OrderID != entries[0].OrderID:
			return bad(want, "entry %d belongs to order %q, not %q", want, e.OrderID, entries[0].OrderID)
		case e.Seq < want:
			return bad(want, "entry %d is duplicated or out of order (found seq %d)", want, e.Seq)
		case e.Seq > want && slices.ContainsFunc(entries[i+1:], func(l Entry) bool { return l.Seq == want }):
			return bad(want, "entries out of order: seq %d found where entry %d belongs", e.Seq, want)
		case e.Seq > want:
			return bad(want, "gap: entry %d is missing (found seq %d)", want, e.Seq)
		case e.PrevHash != prev:
			return bad(want, "entry %d does not link to the previous entry's hash", want)
		}
		h, err := e.ComputeHash()
		if err != nil {
			return bad(want, "entry %d cannot be hashed: %v", want, err)
		}
		if h != e.Hash {
			return bad(want, "entry %d's hash does not match its contents", want)
		}
		prev = e.Hash
	}
	r.OK = true
	return r
}

// VerifyHead is Verify plus the check that the chain ends at head, the ledger head the
// order item records: it detects the removal of the last entries (which leaves a valid
// but shorter chain), and a ledger whose order is missing (found false).
func VerifyHead(entries []Entry, head Head, found bool) VerifyResult {
	r := Verify(entries)
	if !r.OK {
		return r
	}
	n := int64(len(entries))
	switch {
	case !found && n > 0:
		r.OK, r.FirstBadSeq, r.Reason = false, 1, "no order item records this ledger's head"
	case head.Seq > n:
		r.OK, r.FirstBadSeq, r.Reason = false, n+1, fmt.Sprintf("truncated: the order records %d entries, the ledger holds %d", head.Seq, n)
	case head.Seq < n:
		r.OK, r.FirstBadSeq, r.Reason = false, head.Seq+1, fmt.Sprintf("entries beyond the order's recorded head %d", head.Seq)
	case n > 0 && entries[n-1].Hash != head.Hash:
		r.OK, r.FirstBadSeq, r.Reason = false, n, fmt.Sprintf("entry %d's hash differs from the order's recorded head", n)
	}
	return r
}
