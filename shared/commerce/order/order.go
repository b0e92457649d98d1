package order

import (
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"time"

	"github.com/etalase/etalase/shared/commerce/money"
	"github.com/etalase/etalase/shared/platform/ident"
)

// Order is a buyer's order: what was bought at what price, and where its payment stands.
type Order struct {
	// ID is random and unguessable: "o_" and 26 base32 characters (128 bits). It is also
	// the provider's order id (Midtrans order_id, Xendit external_id).
	ID string
	// BuyerID is the buyer's user id (the token's subject).
	BuyerID string
	// OrderRef is the order's opaque, random reference ("or_" + base32, minted at
	// checkout with contract.NewOrderRef): the only name of the order that sale events
	// carry to social, which must never learn the order id. Empty on orders stored
	// before it existed.
	OrderRef string
	// Lines are the items, priced from the catalog at checkout; at least one.
	Lines []Line
	// Currency is the one currency of every amount of the order.
	Currency string
	// Subtotal is the sum of the lines' totals.
	Subtotal money.Money
	// Total is what the buyer pays: the subtotal (no shipping or discounts yet).
	Total money.Money
	// Refunded is how much went back to the buyer so far (partial refunds add up).
	Refunded money.Money
	// Status is where the payment stands.
	Status Status
	// PaymentProvider is ProviderMidtrans or ProviderXendit; empty until the payment
	// session is opened.
	PaymentProvider string
	// PaymentRef is the provider's id of the payment session (Midtrans Snap token or
	// transaction id, Xendit invoice id).
	PaymentRef string
	// PaymentURL is where the buyer pays (Snap redirect URL, Xendit invoice URL).
	PaymentURL string
	// Deadline is when an unpaid order expires and its stock returns.
	Deadline time.Time
	// NeedsRefund: money was taken for an order that will not be fulfilled (PAID_LATE).
	NeedsRefund bool
	// NeedsReview: a fraud challenge or another event a person should look at.
	NeedsReview bool
	// Version starts at 1 and grows by one with every write: the optimistic
	// concurrency token, and the version of the events the order publishes.
	Version int64
	// LedgerSeq and LedgerHash are the head of the order's audit ledger: the sequence
	// number and hash of its last entry (package ledger). Every write that appends a
	// ledger entry sets them in the same transaction, conditioned on the old LedgerSeq.
	LedgerSeq  int64
	LedgerHash string
	// CreatedAt is when the order was placed; UpdatedAt when it last changed.
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Line is one product of an order.
type Line struct {
	// ProductID is the catalog product.
	ProductID string
	// Title is the product's title at checkout, kept for receipts.
	Title string
	// Quantity is at least 1.
	Quantity int64
	// UnitPrice is the catalog price at checkout (never the hand-off token's price).
	UnitPrice money.Money
	// Attribution is the promotion and creator the line came from, nil for a line the
	// buyer added without a promotion. It turns into SaleAttributed events once paid.
	Attribution *Attribution
}

// Attribution says which promotion, and so which creator, sold a line.
type Attribution struct {
	// PromotionID is social's promotion the buyer came from (from the hand-off token).
	PromotionID string
	// CreatorID is the promotion's creator, who earns the commission.
	CreatorID string
}

// LineTotal returns UnitPrice × Quantity.
func (l Line) LineTotal() (money.Money, error) { return l.UnitPrice.Mul(l.Quantity) }

// ErrInvalidOrder is what Validate's errors match.
var ErrInvalidOrder = errors.New("invalid order")

// Sum returns the subtotal of lines, all in currency.
func Sum(currency string, lines []Line) (money.Money, error) {
	total := money.Money{Currency: currency}
	for i, l := range lines {
		if l.UnitPrice.Currency != currency {
			return money.Money{}, fmt.Errorf("line %d: %w", i, money.ErrCurrencyMismatch)
		}
		lt, err := l.LineTotal()
		if err != nil {
			return money.Money{}, fmt.Errorf("line %d: %w", i, err)
		}
		if total, err = total.Add(lt); err != nil {
			return money.Money{}, fmt.Errorf("line %d: %w", i, err)
		}
	}
	return total, nil
}

// Validate checks the order's invariants: an id, a buyer, at least one line with a
// product and a positive quantity and price, one supported currency, a subtotal that is
// the sum of the lines and a total equal to it, a valid status, a deadline, version >= 1.
// The checkout builds orders that pass; storage helpers refuse those that do not.
func (o Order) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("order %s: %s: %w", o.ID, fmt.Sprintf(format, args...), ErrInvalidOrder)
	}
	switch {
	case !ValidID(o.ID):
		return bad("id is not an order id")
	case o.BuyerID == "":
		return bad("no buyer")
	case len(o.Lines) == 0:
		return bad("no lines")
	case !money.Supported(o.Currency):
		return bad("currency %q", o.Currency)
	case !o.Status.Valid():
		return bad("status %q", o.Status)
	case o.Deadline.IsZero():
		return bad("no deadline")
	case o.Version < 1:
		return bad("version %d", o.Version)
	case o.LedgerSeq < 0:
		return bad("ledger seq %d", o.LedgerSeq)
	}
	for i, l := range o.Lines {
		switch {
		case l.ProductID == "":
			return bad("line %d: no product", i)
		case l.Quantity < 1:
			return bad("line %d: quantity %d", i, l.Quantity)
		case l.UnitPrice.Amount <= 0 || l.UnitPrice.Validate() != nil:
			return bad("line %d: unit price %v", i, l.UnitPrice)
		case l.Attribution != nil && (l.Attribution.PromotionID == "" || l.Attribution.CreatorID == ""):
			return bad("line %d: attribution without promotion or creator", i)
		}
	}
	sum, err := Sum(o.Currency, o.Lines)
	if err != nil {
		return bad("lines: %v", err)
	}
	switch {
	case o.Subtotal != sum:
		return bad("subtotal %v, lines add up to %v", o.Subtotal, sum)
	case o.Total != o.Subtotal:
		return bad("total %v differs from subtotal %v", o.Total, o.Subtotal)
	case o.Refunded.Currency != o.Currency && o.Refunded != (money.Money{}):
		return bad("refunded in %q", o.Refunded.Currency)
	case o.Refunded.Amount < 0 || o.Refunded.Amount > o.Total.Amount:
		return bad("refunded %v of %v", o.Refunded, o.Total)
	}
	return nil
}

// Apply returns the order after decision d at time at: the new status and flags, the
// version one higher and UpdatedAt at. A NoOp returns o unchanged. The ledger head and
// the refunded amount are the caller's to set (they come with the ledger entry and the
// notification).
func (o Order) Apply(d Decision, at time.Time) Order {
	if d.NoOp {
		return o
	}
	next := o
	next.Status = d.Next
	next.NeedsRefund = o.NeedsRefund || d.NeedsRefund
	next.NeedsReview = o.NeedsReview || d.NeedsReview
	next.Version = o.Version + 1
	next.UpdatedAt = at.UTC()
	return next
}

// idEncoding is lower-case RFC 4648 base32 without padding: URL-safe, case-free, and
// within the characters Midtrans allows in order_id.
var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewID returns a fresh random order id.
func NewID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("order id: %w", err)
	}
	return "o_" + idEncoding.EncodeToString(b[:]), nil
}

// ValidID reports whether id has the shape of an order id; other ids cannot exist and
// are "not found" without a read.
func ValidID(id string) bool { return len(id) == 2+26 && ident.Base32(id, "o_") }
