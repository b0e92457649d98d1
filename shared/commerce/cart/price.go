package cart

import (
	"errors"
	"fmt"
	"time"

	"github.com/etalase/etalase/shared/commerce/money"
)

// Reasons a priced line is unavailable; they are also error codes of the HTTP API.
const (
	ReasonProductNotFound = "product_not_found"
	ReasonDelisted        = "product_delisted"
	ReasonOutOfStock      = "out_of_stock"
	// ReasonCurrencyMismatch: the seller re-priced the product in another currency
	// than the cart's.
	ReasonCurrencyMismatch = "currency_mismatch"
)

// PricedLine is a line priced from the catalog at read time.
type PricedLine struct {
	Line
	// Title and ImageURL are the catalog's; empty if the product no longer exists.
	Title    string
	ImageURL string
	// UnitPrice is the catalog's current price; zero if the product no longer exists.
	UnitPrice money.Money
	// LineTotal is UnitPrice × Quantity.
	LineTotal money.Money
	// Available is false if the line cannot be bought now; Reason says why
	// (ReasonProductNotFound, ReasonDelisted, ReasonOutOfStock).
	Available bool
	Reason    string
	// PriceChanged is true when the line has an attribution and the catalog price
	// differs from the price the hand-off token displayed.
	PriceChanged bool
}

// PricedCart is a cart priced from the catalog.
type PricedCart struct {
	// Cart is the stored cart (or an empty one).
	Cart Cart
	// Lines in the order the buyer added them.
	Lines []PricedLine
	// Total sums the available lines; zero with an empty currency when none is.
	Total money.Money
}

// Price prices c from the catalog products (keyed by id; a product missing from the
// map no longer exists). Unavailable lines are listed but not counted in the total.
func Price(c Cart, products map[string]Product) (PricedCart, error) {
	out := PricedCart{Cart: c, Lines: make([]PricedLine, 0, len(c.Lines))}
	if c.Currency != "" {
		out.Total = money.Money{Currency: c.Currency}
	}
	for _, l := range c.SortedLines() {
		pl, err := priceLine(l, products, c.Currency)
		if err != nil {
			return PricedCart{}, err
		}
		out.Lines = append(out.Lines, pl)
		if !pl.Available {
			continue
		}
		if out.Total, err = out.Total.Add(pl.LineTotal); err != nil {
			return PricedCart{}, fmt.Errorf("cart total: %w", err)
		}
	}
	return out, nil
}

// priceLine prices one line of a cart in currency. A product whose price is now in
// another currency (the seller changed it) is unavailable.
func priceLine(l Line, products map[string]Product, currency string) (PricedLine, error) {
	pl := PricedLine{Line: l}
	p, ok := products[l.ProductID]
	if !ok {
		pl.Reason = ReasonProductNotFound
		return pl, nil
	}
	total, err := p.Price.Mul(int64(l.Quantity))
	if err != nil {
		return PricedLine{}, fmt.Errorf("price line %s: %w", l.ProductID, err)
	}
	pl.Title, pl.ImageURL, pl.UnitPrice, pl.LineTotal = p.Title, p.ImageURL, p.Price, total
	switch err := p.available(l.Quantity); {
	case p.Price.Currency != currency:
		pl.Reason = ReasonCurrencyMismatch
	case err == nil:
		pl.Available = true
	case errors.Is(err, ErrDelisted):
		pl.Reason = ReasonDelisted
	default:
		pl.Reason = ReasonOutOfStock
	}
	if a := l.Attribution; a != nil && a.DisplayedPrice != p.Price {
		pl.PriceChanged = true
	}
	return pl, nil
}

// lineOf prices one line of cart c for a write's response.
func lineOf(c Cart, l Line, p Product) PricedLine {
	pl, err := priceLine(l, map[string]Product{p.ID: p}, c.Currency)
	if err != nil {
		// Quantity ≤ 99 and price ≤ money.MaxAmount/100 cannot overflow; keep the line
		// unpriced rather than fail a write that already committed.
		return PricedLine{Line: l, Reason: ReasonProductNotFound}
	}
	return pl
}

// Summary is what a write returns about the cart without pricing it again: pricing
// every line would cost a read of every product.
type Summary struct {
	// Owner is the cart's owner; for a guest cart created by this write, its new id.
	Owner Owner
	// Currency of the lines; empty when there are none.
	Currency string
	// LineCount and ItemCount count lines and units.
	LineCount int
	ItemCount int
	// Version after the write.
	Version int64
	// ExpiresAt after the write.
	ExpiresAt time.Time
}

func summaryOf(c Cart) Summary {
	return Summary{
		Owner: c.Owner, Currency: c.Currency, LineCount: len(c.Lines), ItemCount: c.ItemCount(),
		Version: c.Version, ExpiresAt: c.ExpiresAt,
	}
}
