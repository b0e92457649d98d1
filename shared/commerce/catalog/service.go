package catalog

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/etalase/etalase/shared/commerce/outbox"
	"github.com/etalase/etalase/shared/contract"
	"github.com/etalase/etalase/shared/platform/pagecursor"
)

// Page sizes of ListBySeller.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
)

// DefaultMaxAttempts bounds the compare-and-swap retries of one write. Each lost race
// means another write of the same product committed, so under N concurrent writers a
// write needs at most N attempts.
const DefaultMaxAttempts = 25

// Store keeps products. Every write method writes the product and the outbox record in
// one transaction, or neither.
type Store interface {
	// Get returns a product by id (strongly consistent), or ErrNotFound.
	Get(ctx context.Context, id string) (Product, error)
	// Create writes a new product and its event, failing with ErrConflict if the id
	// exists.
	Create(ctx context.Context, p Product, event outbox.Record) error
	// Replace writes p's mutable fields (title, description, imageUrl, price, stock,
	// status, version, updatedAt) and its event, on the condition that the stored
	// product exists, is p.SellerID's, is listed, and is at version p.Version-1.
	// A failed condition is ErrNotFound, ErrDelisted or ErrConflict, by what is stored.
	Replace(ctx context.Context, p Product, event outbox.Record) error
	// AdjustStock adds delta to the stored stock and sets version and updatedAt from p
	// (the expected result), with Replace's conditions plus, for a negative delta,
	// stock >= -delta; a failed stock condition is ErrInsufficientStock.
	AdjustStock(ctx context.Context, p Product, delta int64, event outbox.Record) error
	// ListBySeller returns up to limit of a seller's products, newest first, starting
	// after the cursor position if after is not nil, and whether more follow.
	ListBySeller(ctx context.Context, sellerID string, limit int, after *Cursor) ([]Product, bool, error)
}

// Cursor is a position in a seller's product list: the last product returned.
type Cursor = pagecursor.Position

// Page is one page of a seller's products.
type Page struct {
	// Products, newest first.
	Products []Product
	// NextCursor is the opaque cursor of the next page; empty on the last page.
	NextCursor string
}

// Service applies the catalog's rules on top of a Store.
type Service struct {
	store       Store
	now         func() time.Time
	maxAttempts int
	sleep       func(ctx context.Context, attempt int) error
}

// Option configures a Service.
type Option func(*Service)

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithMaxAttempts replaces DefaultMaxAttempts.
func WithMaxAttempts(n int) Option { return func(s *Service) { s.maxAttempts = max(1, n) } }

// NewService returns a Service over store.
func NewService(store Store, opts ...Option) *Service {
	s := &Service{store: store, now: time.Now, maxAttempts: DefaultMaxAttempts, sleep: backoff}
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

// Create lists a new product for sellerID.
func (s *Service) Create(ctx context.Context, sellerID string, in NewProduct) (Product, error) {
	if sellerID == "" {
		return Product{}, errors.New("create product: no seller")
	}
	in = in.normalize()
	if err := in.validate(); err != nil {
		return Product{}, err
	}
	id, err := NewProductID()
	if err != nil {
		return Product{}, fmt.Errorf("create product: %w", err)
	}
	now := s.now().UTC()
	p := Product{
		ID: id, SellerID: sellerID,
		Title: in.Title, Description: in.Description, ImageURL: in.ImageURL,
		Price: in.Price, Stock: in.Stock,
		Status: StatusListed, Version: 1, CreatedAt: now, UpdatedAt: now,
	}
	ev, err := productEvent(ctx, contract.EventProductListed, p)
	if err != nil {
		return Product{}, fmt.Errorf("create product: %w", err)
	}
	if err := s.store.Create(ctx, p, ev); err != nil {
		return Product{}, fmt.Errorf("create product: %w", err)
	}
	return p, nil
}

// Get returns any product by id, listed or delisted; it is the public read.
func (s *Service) Get(ctx context.Context, id string) (Product, error) {
	if !ValidProductID(id) {
		return Product{}, ErrNotFound
	}
	p, err := s.store.Get(ctx, id)
	if err != nil {
		return Product{}, fmt.Errorf("get product: %w", err)
	}
	return p, nil
}

// Update applies partial changes to a seller's own listed product.
func (s *Service) Update(ctx context.Context, sellerID, id string, c Changes) (Product, error) {
	c = c.normalize()
	if err := c.validate(); err != nil {
		return Product{}, err
	}
	return s.mutate(ctx, "update product", sellerID, id, contract.EventProductUpdated,
		func(cur Product) (Product, bool, error) {
			if cur.Status != StatusListed {
				return Product{}, false, ErrDelisted
			}
			next, changed := c.apply(cur)
			return next, changed, nil
		}, s.store.Replace)
}

// SetStock sets a seller's own listed product's stock to an absolute number.
func (s *Service) SetStock(ctx context.Context, sellerID, id string, stock int64) (Product, error) {
	var ps problems
	validateStock(&ps, "stock", stock)
	if err := ps.Err(); err != nil {
		return Product{}, err
	}
	return s.mutate(ctx, "set stock", sellerID, id, contract.EventProductUpdated,
		func(cur Product) (Product, bool, error) {
			if cur.Status != StatusListed {
				return Product{}, false, ErrDelisted
			}
			next := cur
			next.Stock = stock
			return next, stock != cur.Stock, nil
		}, s.store.Replace)
}

// AdjustStock adds delta (non-zero, may be negative) to a seller's own listed product's
// stock. If the result would be negative it fails with ErrInsufficientStock and changes
// nothing; the store's condition enforces this even against concurrent adjustments.
func (s *Service) AdjustStock(ctx context.Context, sellerID, id string, delta int64) (Product, error) {
	var ps problems
	if delta == 0 || delta < -MaxStock || delta > MaxStock {
		ps.Add("delta", fmt.Sprintf("must be non-zero and between %d and %d", -MaxStock, MaxStock))
	}
	if err := ps.Err(); err != nil {
		return Product{}, err
	}
	return s.mutate(ctx, "adjust stock", sellerID, id, contract.EventProductUpdated,
		func(cur Product) (Product, bool, error) {
			if cur.Status != StatusListed {
				return Product{}, false, ErrDelisted
			}
			next := cur
			next.Stock = cur.Stock + delta
			if next.Stock < 0 {
				return Product{}, false, ErrInsufficientStock
			}
			if next.Stock > MaxStock {
				return Product{}, false, &ValidationError{Problems: []Problem{{
					Field: "delta", Message: fmt.Sprintf("would raise stock above %d", MaxStock),
				}}}
			}
			return next, true, nil
		}, func(ctx context.Context, next Product, ev outbox.Record) error {
			return s.store.AdjustStock(ctx, next, delta, ev)
		})
}

// Delist withdraws a seller's own product from sale. Delisting a delisted product
// succeeds and changes nothing.
func (s *Service) Delist(ctx context.Context, sellerID, id string) (Product, error) {
	return s.mutate(ctx, "delist product", sellerID, id, contract.EventProductDelisted,
		func(cur Product) (Product, bool, error) {
			next := cur
			next.Status = StatusDelisted
			return next, cur.Status != StatusDelisted, nil
		}, s.store.Replace)
}

// mutate is the compare-and-swap loop of every write to an existing product: read the
// product, check ownership, apply the rule, and write the result with its event on the
// condition that nothing changed in between; on ErrConflict, start over.
func (s *Service) mutate(
	ctx context.Context, op, sellerID, id, eventType string,
	apply func(cur Product) (next Product, changed bool, err error),
	write func(ctx context.Context, next Product, ev outbox.Record) error,
) (Product, error) {
	if !ValidProductID(id) || sellerID == "" {
		return Product{}, ErrNotFound
	}
	for attempt := 1; ; attempt++ {
		cur, err := s.store.Get(ctx, id)
		if err != nil {
			return Product{}, fmt.Errorf("%s: %w", op, err)
		}
		if cur.SellerID != sellerID {
			return Product{}, fmt.Errorf("%s: %w", op, ErrNotFound)
		}
		next, changed, err := apply(cur)
		if err != nil {
			return Product{}, fmt.Errorf("%s: %w", op, err)
		}
		if !changed {
			return cur, nil
		}
		next.Version = cur.Version + 1
		next.UpdatedAt = s.now().UTC()
		ev, err := productEvent(ctx, eventType, next)
		if err != nil {
			return Product{}, fmt.Errorf("%s: %w", op, err)
		}
		err = write(ctx, next, ev)
		if err == nil {
			return next, nil
		}
		if !errors.Is(err, ErrConflict) || attempt >= s.maxAttempts {
			return Product{}, fmt.Errorf("%s (attempt %d): %w", op, attempt, err)
		}
		if err := s.sleep(ctx, attempt); err != nil {
			return Product{}, fmt.Errorf("%s: %w", op, err)
		}
	}
}

// ListBySeller returns a page of the seller's own products, newest first. limit 0
// means DefaultPageSize; cursor is the NextCursor of the previous page, or "".
func (s *Service) ListBySeller(ctx context.Context, sellerID string, limit int, cursor string) (Page, error) {
	var ps problems
	if limit == 0 {
		limit = DefaultPageSize
	}
	if limit < 1 || limit > MaxPageSize {
		ps.Add("limit", fmt.Sprintf("must be between 1 and %d", MaxPageSize))
	}
	after, err := pagecursor.Decode(cursor, ValidProductID)
	if err != nil {
		ps.Add("cursor", "is not a cursor this API returned")
	}
	if err := ps.Err(); err != nil {
		return Page{}, err
	}
	if sellerID == "" {
		return Page{}, errors.New("list products: no seller")
	}
	products, more, err := s.store.ListBySeller(ctx, sellerID, limit, after)
	if err != nil {
		return Page{}, fmt.Errorf("list products: %w", err)
	}
	page := Page{Products: products}
	if more && len(products) > 0 {
		last := products[len(products)-1]
		page.NextCursor = pagecursor.Encode(Cursor{CreatedAt: last.CreatedAt, ID: last.ID})
	}
	return page, nil
}

// productEvent builds the outbox record announcing p's new state.
func productEvent(ctx context.Context, eventType string, p Product) (outbox.Record, error) {
	d := displayOf(p)
	var payload any
	switch eventType {
	case contract.EventProductListed:
		payload = contract.ProductListed{ProductDisplay: d}
	case contract.EventProductUpdated:
		payload = contract.ProductUpdated{ProductDisplay: d}
	case contract.EventProductDelisted:
		payload = contract.ProductDelisted{ProductDisplay: d}
	default:
		return outbox.Record{}, fmt.Errorf("unknown catalog event type %q", eventType)
	}
	return outbox.New(ctx, eventType, p.ID, contract.CatalogSchemaVersion, payload, p.UpdatedAt)
}

// displayOf converts a product to the display snapshot social may hold.
func displayOf(p Product) contract.ProductDisplay {
	return contract.ProductDisplay{
		ProductID: p.ID,
		SellerID:  p.SellerID,
		Title:     p.Title,
		ImageURL:  p.ImageURL,
		Price:     contract.Price{Amount: p.Price.Amount, Currency: p.Price.Currency},
		InStock:   p.InStock(),
		Version:   p.Version,
	}
}
