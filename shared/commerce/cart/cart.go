package cart

import (
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/etalase/etalase/shared/commerce/money"
	"github.com/etalase/etalase/shared/platform/ident"
)

// Limits of a cart.
const (
	// MinQuantity and MaxQuantity bound one line's quantity.
	MinQuantity = 1
	MaxQuantity = 99
	// MaxLines bounds the lines of a cart, so that checkout can reserve the stock of
	// every line, write the order, close the cart and write the ledger and outbox
	// records in one DynamoDB transaction (at most 100 items).
	MaxLines = 50
	// BuyerTTL and GuestTTL are how long a cart lives after its last write.
	BuyerTTL = 30 * 24 * time.Hour
	GuestTTL = 7 * 24 * time.Hour
	// maxRedeemed bounds the hand-off token ids a cart remembers, most recent kept.
	maxRedeemed = 100
	// maxMergedGuests bounds the merged guest cart ids a buyer cart remembers.
	maxMergedGuests = 10
)

// Kind is whose cart it is.
type Kind string

// Cart kinds.
const (
	// KindBuyer: a signed-in buyer's cart, keyed by the JWT subject.
	KindBuyer Kind = "buyer"
	// KindGuest: an anonymous cart, keyed by a random id only its holder knows.
	KindGuest Kind = "guest"
)

// TTL is how long a cart of this kind lives after its last write.
func (k Kind) TTL() time.Duration {
	if k == KindGuest {
		return GuestTTL
	}
	return BuyerTTL
}

// Owner identifies a cart: a buyer by subject, or a guest cart by its id.
type Owner struct {
	// Kind is buyer or guest.
	Kind Kind
	// ID is the buyer's subject or the guest cart's id.
	ID string
}

// Buyer returns the owner of a buyer's cart.
func Buyer(subject string) Owner { return Owner{Kind: KindBuyer, ID: subject} }

// Guest returns the owner of a guest cart.
func Guest(id string) Owner { return Owner{Kind: KindGuest, ID: id} }

// Key is the cart's CartTable key: "buyer#<sub>" or "guest#<id>". The kind prefix keeps
// the two key spaces apart: no subject can name a guest cart, nor the reverse.
func (o Owner) Key() string { return string(o.Kind) + "#" + o.ID }

// String names the cart for logs without the guest id, which is a bearer secret.
func (o Owner) String() string {
	if o.Kind == KindGuest {
		return "guest cart"
	}
	return "cart of buyer " + o.ID
}

// guestIDEncoding is lower-case RFC 4648 base32 without padding, as product ids.
var guestIDEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewGuestID returns a fresh guest cart id: "g_" and 160 random bits from crypto/rand.
// Holding the id is what gives access to the cart, so it must be unguessable.
func NewGuestID() (string, error) {
	var b [20]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("guest cart id: %w", err)
	}
	return "g_" + guestIDEncoding.EncodeToString(b[:]), nil
}

// ValidGuestID reports whether id has the shape of a guest cart id. Ids of any other
// shape cannot exist, so they are "not found" without a read.
func ValidGuestID(id string) bool { return len(id) == 2+32 && ident.Base32(id, "g_") }

// Attribution is the promotion a line came from, taken from a verified hand-off token.
// Checkout copies it into the order; a paid order's attributed lines become sale events
// for the creator's commission.
type Attribution struct {
	// PromotionID and CreatorID are social's ids from the token.
	PromotionID string
	CreatorID   string
	// HandoffID is the token's jti.
	HandoffID string
	// DisplayedPrice is the price social displayed; never charged.
	DisplayedPrice money.Money
	// AttributedAt is when the token was redeemed; the most recent attribution of a
	// product wins.
	AttributedAt time.Time
}

// Line is one product in a cart. A cart has at most one line per product; the line's
// id is the product id.
type Line struct {
	// ProductID is the catalog product.
	ProductID string
	// Quantity is MinQuantity..MaxQuantity.
	Quantity int
	// Attribution is nil for a direct purchase.
	Attribution *Attribution
	// AddedAt is when the line was created; it orders the lines.
	AddedAt time.Time
	// UpdatedAt is the line's last change.
	UpdatedAt time.Time
}

// Cart is a buyer's or guest's cart. It holds no prices: a cart is priced from the
// catalog whenever it is read (see Price).
type Cart struct {
	// Owner is whose cart it is.
	Owner Owner
	// Currency is the currency of every line; empty when the cart has no lines.
	Currency string
	// Lines by product id.
	Lines map[string]Line
	// Redeemed are the ids (jti) of the hand-off tokens redeemed into this cart, most
	// recent last: redeeming the same token again changes nothing.
	Redeemed []string
	// MergedGuests are the ids of guest carts merged into this buyer cart, most recent
	// last, so that a retried merge succeeds instead of finding no guest cart.
	MergedGuests []string
	// Version is the optimistic concurrency token: 0 for a cart never stored, then one
	// more with every write. It keeps growing across expiry, so a write based on an
	// expired cart still conflicts with any other write.
	Version int64
	// CreatedAt is when the cart (or, for a cart that expired, its successor) began.
	CreatedAt time.Time
	// UpdatedAt is the last write.
	UpdatedAt time.Time
	// ExpiresAt is UpdatedAt plus the kind's TTL; DynamoDB's TTL deletes the item some
	// time after it, and until then it counts as absent.
	ExpiresAt time.Time
}

// Empty returns an empty, never stored cart.
func Empty(o Owner) Cart { return Cart{Owner: o, Lines: map[string]Line{}} }

// Live reports whether the cart exists at now: stored and not expired.
func (c Cart) Live(now time.Time) bool { return c.Version > 0 && now.Before(c.ExpiresAt) }

// ItemCount is the sum of the lines' quantities.
func (c Cart) ItemCount() int {
	n := 0
	for _, l := range c.Lines {
		n += l.Quantity
	}
	return n
}

// SortedLines returns the lines oldest first (then by product id): the order a buyer
// added them in.
func (c Cart) SortedLines() []Line {
	out := slices.Collect(maps.Values(c.Lines))
	slices.SortFunc(out, func(a, b Line) int {
		if n := a.AddedAt.Compare(b.AddedAt); n != 0 {
			return n
		}
		return strings.Compare(a.ProductID, b.ProductID)
	})
	return out
}

// clone returns a deep copy whose changes do not reach c.
func (c Cart) clone() Cart {
	n := c
	n.Lines = make(map[string]Line, len(c.Lines))
	for id, l := range c.Lines {
		if l.Attribution != nil {
			a := *l.Attribution
			l.Attribution = &a
		}
		n.Lines[id] = l
	}
	n.Redeemed = slices.Clone(c.Redeemed)
	n.MergedGuests = slices.Clone(c.MergedGuests)
	return n
}

// current returns the cart a change applies to at now: c itself if it is live, or a
// fresh empty cart that keeps c's version (so the write still conditions on what is
// stored) if c is absent or expired.
func current(stored Cart, found bool, o Owner, now time.Time) Cart {
	if found && stored.Live(now) {
		return stored.clone()
	}
	c := Empty(o)
	if found {
		c.Version = stored.Version
	}
	return c
}

// touched returns c as written at now: the next version, UpdatedAt, the TTL refreshed.
func (c Cart) touched(now time.Time) Cart {
	c.Version++
	if c.CreatedAt.IsZero() {
		c.CreatedAt = now
	}
	c.UpdatedAt = now
	c.ExpiresAt = now.Add(c.Owner.Kind.TTL()).Truncate(time.Second) // TTL has second precision
	if len(c.Lines) == 0 {
		c.Currency = ""
	}
	return c
}

// Product is what the cart needs of a catalog product.
type Product struct {
	// ID is the catalog product id.
	ID string
	// Title and ImageURL are shown on the cart's lines.
	Title    string
	ImageURL string
	// Price is the catalog's current price: the only price a cart line ever has.
	Price money.Money
	// Stock is the units available.
	Stock int64
	// Listed is false once the seller delisted the product.
	Listed bool
}

// available checks that qty units of p can be in a cart: listed, and in stock for qty.
func (p Product) available(qty int) error {
	switch {
	case !p.Listed:
		return ErrDelisted
	case p.Stock <= 0:
		return ErrOutOfStock
	case int64(qty) > p.Stock:
		return fmt.Errorf("only %d left: %w", p.Stock, ErrOutOfStock)
	}
	return nil
}

// checkQuantity checks a requested quantity.
func checkQuantity(q int) error {
	if q < MinQuantity || q > MaxQuantity {
		return fmt.Errorf("quantity %d: %w", q, ErrQuantity)
	}
	return nil
}

// add puts qty units of p into c at now, with the attribution (nil for a direct
// purchase). An existing line grows; a new attribution replaces the line's (the most
// recent wins) and a direct purchase keeps it. It enforces every rule: the product is
// listed and has the stock for the line's new quantity, the quantity stays within
// MaxQuantity, the cart within MaxLines and one currency.
func (c Cart) add(p Product, qty int, attr *Attribution, now time.Time) (Cart, Line, error) {
	if err := checkQuantity(qty); err != nil {
		return Cart{}, Line{}, err
	}
	line, exists := c.Lines[p.ID]
	newQty := qty
	if exists {
		newQty += line.Quantity
	}
	if newQty > MaxQuantity {
		return Cart{}, Line{}, fmt.Errorf("line would hold %d: %w", newQty, ErrQuantityLimit)
	}
	if err := p.available(newQty); err != nil {
		return Cart{}, Line{}, err
	}
	if len(c.Lines) > 0 && c.Currency != p.Price.Currency {
		return Cart{}, Line{}, fmt.Errorf("cart in %s, product in %s: %w", c.Currency, p.Price.Currency, ErrCurrencyMismatch)
	}
	if !exists && len(c.Lines) >= MaxLines {
		return Cart{}, Line{}, ErrCartFull
	}
	next := c.clone()
	if !exists {
		line = Line{ProductID: p.ID, AddedAt: now}
	}
	line.Quantity = newQty
	line.UpdatedAt = now
	if attr != nil {
		a := *attr
		line.Attribution = &a
		next.Redeemed = appendBounded(next.Redeemed, maxRedeemed, a.HandoffID)
	}
	next.Lines[p.ID] = line
	next.Currency = p.Price.Currency
	return next, line, nil
}

// setQuantity sets an existing line's quantity. Raising it needs the product available
// for the new quantity; lowering it is always allowed.
func (c Cart) setQuantity(productID string, qty int, p *Product, now time.Time) (Cart, Line, error) {
	if err := checkQuantity(qty); err != nil {
		return Cart{}, Line{}, err
	}
	line, ok := c.Lines[productID]
	if !ok {
		return Cart{}, Line{}, ErrLineNotFound
	}
	if qty > line.Quantity {
		if p == nil {
			return Cart{}, Line{}, ErrProductNotFound
		}
		if err := p.available(qty); err != nil {
			return Cart{}, Line{}, err
		}
	}
	next := c.clone()
	line.Quantity = qty
	line.UpdatedAt = now
	next.Lines[productID] = line
	return next, line, nil
}

// merge adds the guest cart's lines into the buyer cart c: quantities add up (capped at
// MaxQuantity), the most recent attribution of each product wins, the redeemed token
// ids are united, and the guest id is remembered. It fails, changing nothing, if the
// carts hold different currencies (ErrCurrencyMismatch) or the result would exceed
// MaxLines (ErrCartFull). Stock is not checked here: a line beyond the stock is shown
// as unavailable when the cart is read, and checkout refuses it.
func (c Cart) merge(guest Cart, guestID string) (Cart, int, error) {
	if len(guest.Lines) > 0 && len(c.Lines) > 0 && guest.Currency != c.Currency {
		return Cart{}, 0, fmt.Errorf("buyer cart in %s, guest cart in %s: %w", c.Currency, guest.Currency, ErrCurrencyMismatch)
	}
	count := len(c.Lines)
	for id := range guest.Lines {
		if _, ok := c.Lines[id]; !ok {
			count++
		}
	}
	if count > MaxLines {
		return Cart{}, 0, fmt.Errorf("merged cart would have %d lines: %w", count, ErrCartFull)
	}
	next := c.clone()
	for _, g := range guest.SortedLines() {
		l, ok := next.Lines[g.ProductID]
		if !ok {
			if g.Attribution != nil {
				a := *g.Attribution
				g.Attribution = &a
			}
			next.Lines[g.ProductID] = g
			continue
		}
		l.Quantity = min(l.Quantity+g.Quantity, MaxQuantity)
		if g.Attribution != nil && (l.Attribution == nil || g.Attribution.AttributedAt.After(l.Attribution.AttributedAt)) {
			a := *g.Attribution
			l.Attribution = &a
		}
		if g.AddedAt.Before(l.AddedAt) {
			l.AddedAt = g.AddedAt
		}
		if g.UpdatedAt.After(l.UpdatedAt) {
			l.UpdatedAt = g.UpdatedAt
		}
		next.Lines[g.ProductID] = l
	}
	if len(guest.Lines) > 0 {
		next.Currency = guest.Currency
	}
	for _, id := range guest.Redeemed {
		if !slices.Contains(next.Redeemed, id) {
			next.Redeemed = appendBounded(next.Redeemed, maxRedeemed, id)
		}
	}
	next.MergedGuests = appendBounded(next.MergedGuests, maxMergedGuests, guestID)
	return next, len(guest.Lines), nil
}

// appendBounded appends v, dropping the oldest entries beyond limit.
func appendBounded(s []string, limit int, v string) []string {
	s = append(s, v)
	if len(s) > limit {
		s = slices.Clone(s[len(s)-limit:])
	}
	return s
}
