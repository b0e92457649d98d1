package commission

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"time"

	"github.com/etalase/etalase/shared/contract"
	"github.com/etalase/etalase/shared/platform/ident"
	"github.com/etalase/etalase/shared/social/money"
)

// Commission rate bounds, in basis points.
const (
	// MinRateBps is 1 %.
	MinRateBps = 100
	// MaxRateBps is 50 %.
	MaxRateBps = 5000
	// BpsPerWhole is the number of basis points in 100 %.
	BpsPerWhole = 10_000
)

// maxAttempts bounds the compare-and-swap retries on one line.
const maxAttempts = 10

// Sentinel errors. ErrDuplicate is not a failure: the event was applied before.
var (
	// ErrDuplicate: the event id was applied already.
	ErrDuplicate = errors.New("event already applied")
	// ErrUnknownPromotion: the sale names a promotion social does not have.
	ErrUnknownPromotion = errors.New("unknown promotion")
	// ErrMismatch: the sale's creator, promotion or currency contradicts what social holds.
	ErrMismatch = errors.New("sale does not match its promotion or line")
	// ErrInvalid: the sale event is malformed.
	ErrInvalid = errors.New("invalid sale event")
	// ErrConflict: the line changed concurrently (retryable).
	ErrConflict = errors.New("concurrent change of the line")
)

// Commission returns floor(amount × rateBps / 10000) for a non-negative amount and a
// rate between 0 and 10000 bps; it cannot overflow.
func Commission(amount int64, rateBps int) int64 {
	if amount <= 0 || rateBps <= 0 {
		return 0
	}
	rateBps = min(rateBps, BpsPerWhole)
	hi, lo := bits.Mul64(uint64(amount), uint64(rateBps))
	q, _ := bits.Div64(hi, lo, BpsPerWhole) // hi < 10000 since amount < 2^63 and rate <= 10^4
	return int64(q)
}

// ValidRate reports whether a commission rate is within the bounds.
func ValidRate(bps int) bool { return bps >= MinRateBps && bps <= MaxRateBps }

// Terms are what the ledger needs of a promotion.
type Terms struct {
	// CreatorID is the promotion's creator.
	CreatorID string
	// RateBps is the promotion's (immutable) commission rate.
	RateBps int
}

// TermsSource looks up a promotion's terms; it returns ErrUnknownPromotion when there
// is no such promotion. The promotion store implements it.
type TermsSource interface {
	Terms(ctx context.Context, promotionID string) (Terms, error)
}

// Line is one attributed order line, as the ledger keeps it.
type Line struct {
	// OrderRef and LineRef name the line (opaque; no order id).
	OrderRef, LineRef string
	// PromotionID, CreatorID and ProductID are the attribution.
	PromotionID, CreatorID, ProductID string
	// Currency of every amount of the line.
	Currency string
	// RateBps is the promotion's rate, copied when the line was first seen.
	RateBps int
	// Attributed is true once SaleAttributed was applied.
	Attributed bool
	// Quantity and Amount are the attributed units and line total.
	Quantity int
	Amount   int64
	// Commission is Commission(Amount, RateBps).
	Commission int64
	// SoldAt is when the line was paid.
	SoldAt time.Time
	// RefundedTotal is the sum of every SaleReversed amount applied to the line, and
	// RefundedUnits their quantities; they may arrive before the attribution.
	RefundedTotal int64
	RefundedUnits int
	// ReversedAmount is min(RefundedTotal, Amount) once attributed (zero before), and
	// ReversedCommission is Commission(ReversedAmount, RateBps).
	ReversedAmount     int64
	ReversedCommission int64
	// Version counts the line's changes; 0 means it is not stored.
	Version int64
}

// Totals are the counters of a promotion's stats and of a creator's earnings in one
// currency; a Delta of them is what one event adds.
type Totals struct {
	// Sales is the number of attributed lines, Units their quantity, SalesAmount their total.
	Sales, Units, SalesAmount int64
	// Commission is the commission attributed on them.
	Commission int64
	// Reversals is the number of refunds applied; ReversedAmount and ReversedCommission
	// what they took back (counted once the line is attributed).
	Reversals, ReversedAmount, ReversedCommission int64
}

// Net is the commission earned after refunds.
func (t Totals) Net() int64 { return t.Commission - t.ReversedCommission }

// Earnings are a creator's totals in one currency.
type Earnings struct {
	CreatorID string
	Currency  string
	Totals
}

// Stats are a promotion's totals in one currency.
type Stats struct {
	PromotionID string
	Currency    string
	Totals
}

// StatsKey names a promotion's stats in a currency.
type StatsKey struct {
	PromotionID, Currency string
}

// Store keeps the ledger.
type Store interface {
	// GetLine returns a line, or a Line with Version 0 if none is stored.
	GetLine(ctx context.Context, orderRef, lineRef string) (Line, error)
	// Apply writes, in one transaction: the event's applied marker (ErrDuplicate if it
	// exists), next (ErrConflict unless the stored line is at next.Version-1), and delta
	// added to the promotion's stats and the creator's earnings in next.Currency.
	Apply(ctx context.Context, eventID, eventType string, next Line, delta Totals) error
	// Earnings returns a creator's earnings in every currency they have, sorted by currency.
	Earnings(ctx context.Context, creatorID string) ([]Earnings, error)
	// Stats returns the stats that exist among keys, keyed by promotion id.
	Stats(ctx context.Context, keys []StatsKey) (map[string]Stats, error)
}

// Ledger applies sale events and answers earnings questions.
type Ledger struct {
	store Store
	terms TermsSource
}

// NewLedger returns a ledger over store, reading promotion terms from terms (nil is
// allowed for a read-only ledger).
func NewLedger(store Store, terms TermsSource) *Ledger {
	return &Ledger{store: store, terms: terms}
}

// ApplyAttributed applies a SaleAttributed event once. It returns ErrDuplicate (wrapped)
// when the event, or another attribution of the same line, was applied before.
func (l *Ledger) ApplyAttributed(ctx context.Context, eventID string, ev contract.SaleAttributed) error {
	if err := checkSale(eventID, ev.PromotionID, ev.CreatorID, ev.ProductID, ev.OrderRef, ev.LineRef, ev.Amount, ev.Quantity, 1); err != nil {
		return err
	}
	if ev.Amount.Amount == 0 {
		return fmt.Errorf("%w: zero amount", ErrInvalid)
	}
	terms, err := l.termsOf(ctx, ev.PromotionID, ev.CreatorID)
	if err != nil {
		return err
	}
	return l.apply(ctx, eventID, contract.EventSaleAttributed, ev.OrderRef, ev.LineRef, func(cur Line) (Line, Totals, error) {
		if cur.Attributed {
			return Line{}, Totals{}, fmt.Errorf("line %s/%s attributed before: %w", ev.OrderRef, ev.LineRef, ErrDuplicate)
		}
		next := cur
		if cur.Version == 0 {
			next = Line{OrderRef: ev.OrderRef, LineRef: ev.LineRef, RateBps: terms.RateBps}
		} else if err := sameLine(cur, ev.PromotionID, ev.CreatorID, ev.ProductID, ev.Amount.Currency); err != nil {
			return Line{}, Totals{}, err
		}
		next.PromotionID, next.CreatorID, next.ProductID = ev.PromotionID, ev.CreatorID, ev.ProductID
		next.Currency = ev.Amount.Currency
		next.Attributed = true
		next.Quantity = ev.Quantity
		next.Amount = ev.Amount.Amount
		next.Commission = Commission(next.Amount, next.RateBps)
		next.SoldAt = ev.SoldAt.UTC()
		// A refund that arrived first counts now, capped at the amount.
		next.ReversedAmount = min(next.RefundedTotal, next.Amount)
		next.ReversedCommission = Commission(next.ReversedAmount, next.RateBps)
		return next, Totals{
			Sales: 1, Units: int64(next.Quantity), SalesAmount: next.Amount, Commission: next.Commission,
			ReversedAmount: next.ReversedAmount, ReversedCommission: next.ReversedCommission,
		}, nil
	})
}

// ApplyReversed applies a SaleReversed event once (ErrDuplicate, wrapped, if it was).
func (l *Ledger) ApplyReversed(ctx context.Context, eventID string, ev contract.SaleReversed) error {
	if err := checkSale(eventID, ev.PromotionID, ev.CreatorID, ev.ProductID, ev.OrderRef, ev.LineRef, ev.Amount, ev.Quantity, 0); err != nil {
		return err
	}
	terms, err := l.termsOf(ctx, ev.PromotionID, ev.CreatorID)
	if err != nil {
		return err
	}
	return l.apply(ctx, eventID, contract.EventSaleReversed, ev.OrderRef, ev.LineRef, func(cur Line) (Line, Totals, error) {
		next := cur
		if cur.Version == 0 {
			// The refund came first: keep it on the line until the attribution arrives.
			next = Line{
				OrderRef: ev.OrderRef, LineRef: ev.LineRef, PromotionID: ev.PromotionID, CreatorID: ev.CreatorID,
				ProductID: ev.ProductID, Currency: ev.Amount.Currency, RateBps: terms.RateBps,
			}
		} else if err := sameLine(cur, ev.PromotionID, ev.CreatorID, ev.ProductID, ev.Amount.Currency); err != nil {
			return Line{}, Totals{}, err
		}
		next.RefundedTotal = min(next.RefundedTotal+ev.Amount.Amount, money.MaxAmount)
		next.RefundedUnits += ev.Quantity
		delta := Totals{Reversals: 1}
		if next.Attributed {
			next.ReversedAmount = min(next.RefundedTotal, next.Amount)
			next.ReversedCommission = Commission(next.ReversedAmount, next.RateBps)
			delta.ReversedAmount = next.ReversedAmount - cur.ReversedAmount
			delta.ReversedCommission = next.ReversedCommission - cur.ReversedCommission
		}
		return next, delta, nil
	})
}

// apply runs the compare-and-swap loop of one event on one line.
func (l *Ledger) apply(ctx context.Context, eventID, eventType, orderRef, lineRef string,
	change func(cur Line) (Line, Totals, error)) error {
	for attempt := 1; ; attempt++ {
		cur, err := l.store.GetLine(ctx, orderRef, lineRef)
		if err != nil {
			return fmt.Errorf("%s %s: %w", eventType, eventID, err)
		}
		next, delta, err := change(cur)
		if err != nil {
			return fmt.Errorf("%s %s: %w", eventType, eventID, err)
		}
		next.Version = cur.Version + 1
		err = l.store.Apply(ctx, eventID, eventType, next, delta)
		if err == nil || !errors.Is(err, ErrConflict) || attempt >= maxAttempts {
			if err != nil {
				return fmt.Errorf("%s %s: %w", eventType, eventID, err)
			}
			return nil
		}
	}
}

// termsOf returns the promotion's terms after checking the sale's creator against them.
func (l *Ledger) termsOf(ctx context.Context, promotionID, creatorID string) (Terms, error) {
	if l.terms == nil {
		return Terms{}, errors.New("commission ledger: no promotion terms source")
	}
	t, err := l.terms.Terms(ctx, promotionID)
	if err != nil {
		return Terms{}, fmt.Errorf("promotion %s: %w", promotionID, err)
	}
	if t.CreatorID != creatorID {
		return Terms{}, fmt.Errorf("promotion %s belongs to another creator: %w", promotionID, ErrMismatch)
	}
	if !ValidRate(t.RateBps) {
		return Terms{}, fmt.Errorf("promotion %s has rate %d bps outside [%d, %d]", promotionID, t.RateBps, MinRateBps, MaxRateBps)
	}
	return t, nil
}

// checkSale validates the fields both sale events share.
func checkSale(eventID, promotionID, creatorID, productID, orderRef, lineRef string, amount contract.Price, quantity, minQuantity int) error {
	switch {
	case eventID == "":
		return fmt.Errorf("%w: no event id", ErrInvalid)
	case promotionID == "" || creatorID == "" || productID == "":
		return fmt.Errorf("%w: promotion, creator and product are required", ErrInvalid)
	case !contract.ValidOrderRef(orderRef) || len(lineRef) > 64 || !ident.Token(lineRef):
		return fmt.Errorf("%w: order and line reference", ErrInvalid)
	case !(money.Money{Amount: amount.Amount, Currency: amount.Currency}).Valid():
		return fmt.Errorf("%w: amount %d %q", ErrInvalid, amount.Amount, amount.Currency)
	case quantity < minQuantity || quantity > 1_000_000_000:
		return fmt.Errorf("%w: quantity %d", ErrInvalid, quantity)
	}
	return nil
}

// sameLine checks that an event names the line as stored.
func sameLine(cur Line, promotionID, creatorID, productID, currency string) error {
	if cur.PromotionID != promotionID || cur.CreatorID != creatorID || cur.ProductID != productID || cur.Currency != currency {
		return fmt.Errorf("line %s/%s is promotion %s, creator %s, product %s in %s: %w",
			cur.OrderRef, cur.LineRef, cur.PromotionID, cur.CreatorID, cur.ProductID, cur.Currency, ErrMismatch)
	}
	return nil
}

// Earnings returns a creator's earnings, one entry per currency.
func (l *Ledger) Earnings(ctx context.Context, creatorID string) ([]Earnings, error) {
	e, err := l.store.Earnings(ctx, creatorID)
	if err != nil {
		return nil, fmt.Errorf("earnings: %w", err)
	}
	return e, nil
}

// Stats returns promotions' stats in their currencies, keyed by promotion id; a
// promotion without sales has no entry.
func (l *Ledger) Stats(ctx context.Context, keys []StatsKey) (map[string]Stats, error) {
	if len(keys) == 0 {
		return map[string]Stats{}, nil
	}
	s, err := l.store.Stats(ctx, keys)
	if err != nil {
		return nil, fmt.Errorf("promotion stats: %w", err)
	}
	return s, nil
}
