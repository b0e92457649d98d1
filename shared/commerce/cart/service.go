package cart

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/etalase/etalase/shared/commerce/catalog"
	"github.com/etalase/etalase/shared/commerce/money"
	"github.com/etalase/etalase/shared/contract"
)

// DefaultMaxAttempts bounds the compare-and-swap attempts of one write. Each lost race
// means another write of the same cart committed, so under N concurrent writers a
// write needs at most N attempts.
const DefaultMaxAttempts = 25

// Store keeps carts and reads the catalog.
type Store interface {
	// Load reads, in one request and strongly consistent, the carts with the given
	// keys (Owner.Key) and the catalog products with the given ids. A cart or product
	// that is not stored is absent from its map; an expired cart is returned as stored
	// (the service decides that it counts as absent).
	Load(ctx context.Context, cartKeys, productIDs []string) (map[string]Cart, map[string]Product, error)
	// Put writes c whole, on the condition that the stored version is expected (0: no
	// cart is stored). A failed condition is ErrConflict.
	Put(ctx context.Context, c Cart, expected int64) error
	// RemoveLine removes a product's line in one conditional update, without a read,
	// refreshing the TTL and incrementing the version; the cart must be live at now and
	// hold the line (else ErrCartNotFound or ErrLineNotFound). It returns the cart after.
	RemoveLine(ctx context.Context, o Owner, productID string, now time.Time) (Cart, error)
	// Merge writes the buyer cart on the condition that its stored version is expected
	// (0: none) and deletes the guest cart on the condition that its version is
	// guestVersion, in one transaction; a failed condition is ErrConflict.
	Merge(ctx context.Context, buyer Cart, expected int64, guest Owner, guestVersion int64) error
}

// Verifier checks hand-off tokens; contract.HandoffVerifier is the real one.
type Verifier interface {
	Verify(token string) (contract.HandoffClaims, error)
}

var _ Verifier = contract.HandoffVerifier{}

// Service applies the cart's rules on top of a Store.
type Service struct {
	store       Store
	verifier    Verifier
	now         func() time.Time
	maxAttempts int
	sleep       func(ctx context.Context, attempt int) error
	newGuestID  func() (string, error)
}

// Option configures a Service.
type Option func(*Service)

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithMaxAttempts replaces DefaultMaxAttempts.
func WithMaxAttempts(n int) Option { return func(s *Service) { s.maxAttempts = max(1, n) } }

// NewService returns a Service over store that checks hand-off tokens with verifier.
func NewService(store Store, verifier Verifier, opts ...Option) *Service {
	s := &Service{
		store: store, verifier: verifier, now: time.Now,
		maxAttempts: DefaultMaxAttempts, sleep: backoff, newGuestID: NewGuestID,
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// backoff waits a random, growing time (full jitter, at most 50 ms) before attempt.
func backoff(ctx context.Context, attempt int) error {
	d := time.Duration(rand.Int64N(int64(min(attempt, 10)) * int64(5*time.Millisecond)))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// retry runs one compare-and-swap attempt until it does not fail with ErrConflict, at
// most maxAttempts times.
func (s *Service) retry(ctx context.Context, op string, attempt func() error) error {
	for n := 1; ; n++ {
		err := attempt()
		if err == nil {
			return nil
		}
		if !errors.Is(err, ErrConflict) || n >= s.maxAttempts {
			return fmt.Errorf("%s (attempt %d): %w", op, n, err)
		}
		if err := s.sleep(ctx, n); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
	}
}

// reachable reports whether o can name a stored cart at all: a buyer with a subject, a
// guest id of the right shape. Anything else is "not found" without a read.
func reachable(o Owner) bool {
	switch o.Kind {
	case KindBuyer:
		return o.ID != ""
	case KindGuest:
		return ValidGuestID(o.ID)
	}
	return false
}

// Get returns o's cart priced from the catalog. A buyer without a cart gets an empty
// one; a guest cart that does not exist, expired, or was not named is ErrCartNotFound.
// It costs one read for the cart and, if it has lines, one for their products.
func (s *Service) Get(ctx context.Context, o Owner) (PricedCart, error) {
	if !reachable(o) {
		return PricedCart{}, ErrCartNotFound
	}
	carts, _, err := s.store.Load(ctx, []string{o.Key()}, nil)
	if err != nil {
		return PricedCart{}, fmt.Errorf("get %s: %w", o, err)
	}
	stored, found := carts[o.Key()]
	now := s.now()
	if !found || !stored.Live(now) {
		if o.Kind == KindGuest {
			return PricedCart{}, ErrCartNotFound
		}
		return Price(Empty(o), nil)
	}
	if len(stored.Lines) == 0 {
		return Price(stored, nil)
	}
	ids := make([]string, 0, len(stored.Lines))
	for id := range stored.Lines {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	_, products, err := s.store.Load(ctx, nil, ids)
	if err != nil {
		return PricedCart{}, fmt.Errorf("price %s: %w", o, err)
	}
	return Price(stored, products)
}

// AddInput is one item to add: a hand-off token (attributed) or a product id (a direct
// purchase), exactly one of them, and a quantity.
type AddInput struct {
	// HandoffToken is a hand-off token from social.
	HandoffToken string
	// ProductID is a catalog product id.
	ProductID string
	// Quantity is MinQuantity..MaxQuantity units to add.
	Quantity int
}

// AddResult says what Add did.
type AddResult struct {
	// Line is the product's line after the write, priced from the catalog.
	Line PricedLine
	// Cart summarises the cart after the write.
	Cart Summary
	// NewLine is true if the product had no line before.
	NewLine bool
	// NewGuestCart is true if a guest cart was created: its id is Cart.Owner.ID.
	NewGuestCart bool
	// AlreadyRedeemed is true if the token had been redeemed into this cart before:
	// nothing changed.
	AlreadyRedeemed bool
}

// Add adds an item to o's cart, creating the cart if needed: for a guest whose id is
// empty, malformed, unknown or expired, a new guest cart with a fresh id. The price
// always comes from the catalog; a token's displayed price is kept only to flag a
// difference. Redeeming a token that this cart already redeemed changes nothing. It
// costs one read (the cart and the product together) and one conditional write, plus
// one of each per lost race.
func (s *Service) Add(ctx context.Context, o Owner, in AddInput) (AddResult, error) {
	if o.Kind == KindBuyer && o.ID == "" {
		return AddResult{}, errors.New("add to cart: no buyer")
	}
	if err := checkQuantity(in.Quantity); err != nil {
		return AddResult{}, err
	}
	productID := in.ProductID
	var attr *Attribution
	switch {
	case in.HandoffToken != "" && in.ProductID != "":
		return AddResult{}, errors.New("add to cart: both a hand-off token and a product id")
	case in.HandoffToken != "":
		c, err := s.verifier.Verify(in.HandoffToken)
		if err != nil {
			return AddResult{}, fmt.Errorf("redeem hand-off token: %w", err)
		}
		productID = c.ProductID
		attr = &Attribution{
			PromotionID: c.PromotionID, CreatorID: c.CreatorID, HandoffID: c.ID,
			DisplayedPrice: money.Money{Amount: c.DisplayedPrice.Amount, Currency: c.DisplayedPrice.Currency},
		}
	}
	if !catalog.ValidProductID(productID) {
		return AddResult{}, ErrProductNotFound
	}

	var keys []string
	if reachable(o) {
		keys = []string{o.Key()}
	}
	var res AddResult
	err := s.retry(ctx, "add to "+o.String(), func() error {
		carts, products, err := s.store.Load(ctx, keys, []string{productID})
		if err != nil {
			return err
		}
		p, ok := products[productID]
		if !ok {
			return ErrProductNotFound
		}
		now := s.now()
		stored, found := carts[o.Key()]
		owner, expected, newGuest := o, stored.Version, false
		if o.Kind == KindGuest && (!found || !stored.Live(now)) {
			id, err := s.newGuestID()
			if err != nil {
				return err
			}
			owner, found, expected, newGuest = Guest(id), false, 0, true
		}
		base := current(stored, found, owner, now)
		if attr != nil && slices.Contains(base.Redeemed, attr.HandoffID) {
			if l, ok := base.Lines[productID]; ok {
				res = AddResult{Line: lineOf(base, l, p), Cart: summaryOf(base), AlreadyRedeemed: true}
				return nil
			}
		}
		var a *Attribution
		if attr != nil {
			at := *attr
			at.AttributedAt = now
			a = &at
		}
		_, existed := base.Lines[productID]
		next, line, err := base.add(p, in.Quantity, a, now)
		if err != nil {
			return err
		}
		next = next.touched(now)
		if err := s.store.Put(ctx, next, expected); err != nil {
			return err
		}
		res = AddResult{Line: lineOf(next, line, p), Cart: summaryOf(next), NewLine: !existed, NewGuestCart: newGuest}
		return nil
	})
	if err != nil {
		return AddResult{}, err
	}
	return res, nil
}

// LineResult is a line after a change and the cart's summary.
type LineResult struct {
	// Line after the change, priced from the catalog.
	Line PricedLine
	// Cart summarises the cart after the change.
	Cart Summary
}

// SetQuantity sets the quantity of o's line for productID. Raising it needs the
// product listed and in stock for the new quantity. It costs one read (cart and
// product together) and one conditional write; setting the current quantity writes
// nothing.
func (s *Service) SetQuantity(ctx context.Context, o Owner, productID string, qty int) (LineResult, error) {
	if !reachable(o) {
		return LineResult{}, ErrCartNotFound
	}
	if err := checkQuantity(qty); err != nil {
		return LineResult{}, err
	}
	if !catalog.ValidProductID(productID) {
		return LineResult{}, ErrLineNotFound
	}
	var res LineResult
	err := s.retry(ctx, "set quantity in "+o.String(), func() error {
		carts, products, err := s.store.Load(ctx, []string{o.Key()}, []string{productID})
		if err != nil {
			return err
		}
		now := s.now()
		stored, found := carts[o.Key()]
		if !found || !stored.Live(now) {
			return s.absent(o)
		}
		var p *Product
		if pp, ok := products[productID]; ok {
			p = &pp
		}
		if l, ok := stored.Lines[productID]; ok && l.Quantity == qty {
			res = LineResult{Line: lineOrUnpriced(stored, l, p), Cart: summaryOf(stored)}
			return nil
		}
		next, line, err := stored.setQuantity(productID, qty, p, now)
		if err != nil {
			return err
		}
		next = next.touched(now)
		if err := s.store.Put(ctx, next, stored.Version); err != nil {
			return err
		}
		res = LineResult{Line: lineOrUnpriced(next, line, p), Cart: summaryOf(next)}
		return nil
	})
	if err != nil {
		return LineResult{}, err
	}
	return res, nil
}

// lineOrUnpriced prices l if its product still exists.
func lineOrUnpriced(c Cart, l Line, p *Product) PricedLine {
	if p == nil {
		return PricedLine{Line: l, Reason: ReasonProductNotFound}
	}
	return lineOf(c, l, *p)
}

// absent is the error for a cart that is not there: a guest's cart is not found; a
// buyer always has a cart (an empty one), which has no such line.
func (s *Service) absent(o Owner) error {
	if o.Kind == KindGuest {
		return ErrCartNotFound
	}
	return ErrLineNotFound
}

// Remove removes o's line for productID. It costs one conditional write and no read.
func (s *Service) Remove(ctx context.Context, o Owner, productID string) (Summary, error) {
	if !reachable(o) {
		return Summary{}, ErrCartNotFound
	}
	if !catalog.ValidProductID(productID) {
		return Summary{}, s.absent(o)
	}
	c, err := s.store.RemoveLine(ctx, o, productID, s.now())
	if errors.Is(err, ErrCartNotFound) {
		err = s.absent(o)
	}
	if err != nil {
		return Summary{}, fmt.Errorf("remove line from %s: %w", o, err)
	}
	return summaryOf(c), nil
}

// MergeResult says what Merge did.
type MergeResult struct {
	// Cart summarises the buyer's cart after the merge.
	Cart Summary
	// MergedLines is the number of guest lines merged.
	MergedLines int
	// AlreadyMerged is true if this guest cart had been merged into this buyer's cart
	// before (a retry): nothing changed.
	AlreadyMerged bool
}

// Merge moves the guest cart guestID into buyer's cart and deletes it, in one
// transaction: quantities add up (capped at MaxQuantity), the most recent attribution
// of each product wins. Retrying a merge that succeeded succeeds again without change.
// A guest cart that does not exist (and was not merged into this buyer's cart) is
// ErrCartNotFound. It costs one read (both carts) and one transactional write.
func (s *Service) Merge(ctx context.Context, buyer, guestID string) (MergeResult, error) {
	if buyer == "" {
		return MergeResult{}, errors.New("merge carts: no buyer")
	}
	guest := Guest(guestID)
	if !reachable(guest) {
		return MergeResult{}, ErrCartNotFound
	}
	bo := Buyer(buyer)
	var res MergeResult
	err := s.retry(ctx, "merge guest cart into "+bo.String(), func() error {
		carts, _, err := s.store.Load(ctx, []string{bo.Key(), guest.Key()}, nil)
		if err != nil {
			return err
		}
		now := s.now()
		storedBuyer, buyerFound := carts[bo.Key()]
		base := current(storedBuyer, buyerFound, bo, now)
		g, guestFound := carts[guest.Key()]
		if !guestFound || !g.Live(now) {
			if slices.Contains(base.MergedGuests, guestID) {
				res = MergeResult{Cart: summaryOf(base), AlreadyMerged: true}
				return nil
			}
			return ErrCartNotFound
		}
		next, n, err := base.merge(g, guestID)
		if err != nil {
			return err
		}
		next = next.touched(now)
		if err := s.store.Merge(ctx, next, storedBuyer.Version, guest, g.Version); err != nil {
			return err
		}
		res = MergeResult{Cart: summaryOf(next), MergedLines: n}
		return nil
	})
	if err != nil {
		return MergeResult{}, err
	}
	return res, nil
}
