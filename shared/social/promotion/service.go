package promotion

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/etalase/etalase/shared/contract"
	"github.com/etalase/etalase/shared/platform/pagecursor"
	"github.com/etalase/etalase/shared/social/commission"
	"github.com/etalase/etalase/shared/social/snapshot"
)

// Page sizes of the feed and of a creator's list.
const (
	DefaultPageSize = 20
	MaxPageSize     = 50
)

// maxFeedRounds bounds the index queries of one feed page: promotions that are in the
// feed index but not live (scheduled, or past their window) are skipped, and a page
// stops after this many queries with a cursor where it stopped.
const maxFeedRounds = 5

// maxAttempts bounds the compare-and-swap retries of one status change.
const maxAttempts = 10

// Store keeps promotions in PromotionsTable.
type Store interface {
	// Create writes a new promotion (ErrConflict if the id exists).
	Create(ctx context.Context, p Promotion) error
	// Get returns a promotion (strongly consistent), or ErrNotFound.
	Get(ctx context.Context, id string) (Promotion, error)
	// Update writes next's status, end reason, version and updatedAt on the condition
	// that the stored promotion is next.CreatorID's and at version next.Version-1
	// (ErrNotFound if it is missing or another creator's, ErrConflict otherwise).
	Update(ctx context.Context, next Promotion) error
	// CountClick adds one click, atomically, on the condition that the promotion is
	// live at now, and returns it as it is afterwards (ErrNotLive, ErrNotFound).
	CountClick(ctx context.Context, id string, now time.Time) (Promotion, error)
	// ListByCreator returns up to limit of a creator's promotions, newest first, after
	// the cursor position, and whether more follow.
	ListByCreator(ctx context.Context, creatorID string, limit int, after *Cursor) ([]Promotion, bool, error)
	// Feed returns up to limit promotions of the feed index (ACTIVE ones), newest
	// first, after the cursor position, and whether the index has more. Their Clicks
	// may be zero: the feed shows none, and a store need not project them.
	Feed(ctx context.Context, limit int, after *Cursor) ([]Promotion, bool, error)
	// ByProduct returns the ids of every promotion of a product.
	ByProduct(ctx context.Context, productID string) ([]string, error)
	// End ends a promotion that is ACTIVE or PAUSED, for reason, and reports whether it
	// did (false: it was ended already, or does not exist).
	End(ctx context.Context, id, reason string, now time.Time) (bool, error)
}

// Snapshots reads product display snapshots.
type Snapshots interface {
	Get(ctx context.Context, productID string) (snapshot.Snapshot, error)
	GetMany(ctx context.Context, productIDs []string) (map[string]snapshot.Snapshot, error)
}

// Ledger reads sales and earnings.
type Ledger interface {
	Stats(ctx context.Context, keys []commission.StatsKey) (map[string]commission.Stats, error)
	Earnings(ctx context.Context, creatorID string) ([]commission.Earnings, error)
}

// Signer signs hand-off token claims at now; contract.SignHandoff with social's
// private key is the real one (NewSigner).
type Signer func(c contract.HandoffClaims, now time.Time) (string, error)

// Cursor is a position in the feed or a creator's list: the last promotion returned.
type Cursor = pagecursor.Position

// View is a promotion with its product's snapshot.
type View struct {
	Promotion
	// Product is the snapshot; HasProduct is false if social has none (never expected:
	// a promotion is created only for a product with a snapshot).
	Product    snapshot.Snapshot
	HasProduct bool
}

// CreatorView is what a creator sees of their own promotion: the view plus sales.
type CreatorView struct {
	View
	// Stats are the sales and commission in the promotion's currency (zero without sales).
	Stats commission.Totals
}

// Page is one page of a list.
type Page[T any] struct {
	// Items, newest first.
	Items []T
	// NextCursor is the opaque cursor of the next page; empty on the last page.
	NextCursor string
}

// Handoff is an issued hand-off token.
type Handoff struct {
	// Token is the signed JWT (contract.HandoffClaims).
	Token string
	// ExpiresAt is the token's exp.
	ExpiresAt time.Time
	// Claims are what the token says.
	Claims contract.HandoffClaims
}

// Service applies the promotion rules.
type Service struct {
	store     Store
	snapshots Snapshots
	ledger    Ledger
	sign      Signer
	now       func() time.Time
	lifetime  time.Duration
}

// Option configures a Service.
type Option func(*Service)

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithTokenLifetime sets the hand-off token's lifetime (default
// contract.HandoffDefaultLifetime).
func WithTokenLifetime(d time.Duration) Option { return func(s *Service) { s.lifetime = d } }

// NewService returns a service. sign may be nil for a function that issues no tokens.
func NewService(store Store, snapshots Snapshots, ledger Ledger, sign Signer, opts ...Option) *Service {
	s := &Service{store: store, snapshots: snapshots, ledger: ledger, sign: sign, now: time.Now, lifetime: contract.HandoffDefaultLifetime}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Create creates a promotion of a listed, in-stock product for creatorID.
func (s *Service) Create(ctx context.Context, creatorID string, in NewPromotion) (Promotion, error) {
	if creatorID == "" {
		return Promotion{}, errors.New("create promotion: no creator")
	}
	now := s.now().UTC()
	in = in.normalize(now)
	if err := in.validate(now); err != nil {
		return Promotion{}, err
	}
	snap, err := s.snapshots.Get(ctx, in.ProductID)
	switch {
	case errors.Is(err, snapshot.ErrNotFound):
		return Promotion{}, ErrProductNotFound
	case err != nil:
		return Promotion{}, fmt.Errorf("create promotion: %w", err)
	case !snap.Available():
		return Promotion{}, ErrProductUnavailable
	}
	id, err := NewID()
	if err != nil {
		return Promotion{}, fmt.Errorf("create promotion: %w", err)
	}
	p := Promotion{
		ID: id, CreatorID: creatorID, ProductID: in.ProductID, Kind: in.Kind,
		Caption: in.Caption, MediaURL: in.MediaURL, CommissionBps: in.CommissionBps,
		Currency: snap.Price.Currency, StartsAt: in.StartsAt, EndsAt: in.EndsAt,
		Status: StatusActive, Version: 1, CreatedAt: now, UpdatedAt: now,
	}
	if err := s.store.Create(ctx, p); err != nil {
		return Promotion{}, fmt.Errorf("create promotion: %w", err)
	}
	return p, nil
}

// Get returns any promotion with its product: the public read.
func (s *Service) Get(ctx context.Context, id string) (View, error) {
	if !ValidID(id) {
		return View{}, ErrNotFound
	}
	p, err := s.store.Get(ctx, id)
	if err != nil {
		return View{}, fmt.Errorf("get promotion: %w", err)
	}
	v := View{Promotion: p}
	snap, err := s.snapshots.Get(ctx, p.ProductID)
	switch {
	case err == nil:
		v.Product, v.HasProduct = snap, true
	case !errors.Is(err, snapshot.ErrNotFound):
		return View{}, fmt.Errorf("get promotion: %w", err)
	}
	return v, nil
}

// SetStatus pauses, resumes or ends a creator's own promotion. Setting the status it
// has changes nothing; an ended promotion cannot change (ErrEnded).
func (s *Service) SetStatus(ctx context.Context, creatorID, id string, to Status) (CreatorView, error) {
	switch to {
	case StatusActive, StatusPaused, StatusEnded:
	default:
		return CreatorView{}, &ValidationError{Problems: []Problem{{Field: "status", Message: "must be one of ACTIVE, PAUSED, ENDED"}}}
	}
	if !ValidID(id) || creatorID == "" {
		return CreatorView{}, ErrNotFound
	}
	for attempt := 1; ; attempt++ {
		cur, err := s.store.Get(ctx, id)
		if err != nil {
			return CreatorView{}, fmt.Errorf("set status: %w", err)
		}
		if cur.CreatorID != creatorID {
			return CreatorView{}, fmt.Errorf("set status: %w", ErrNotFound)
		}
		if cur.Status == to {
			return s.creatorView(ctx, cur)
		}
		if cur.Status == StatusEnded {
			return CreatorView{}, fmt.Errorf("set status: %w", ErrEnded)
		}
		next := cur
		next.Status = to
		if to == StatusEnded {
			next.EndReason = EndedByCreator
		}
		next.Version = cur.Version + 1
		next.UpdatedAt = s.now().UTC()
		err = s.store.Update(ctx, next)
		if err == nil {
			return s.creatorView(ctx, next)
		}
		if !errors.Is(err, ErrConflict) || attempt >= maxAttempts {
			return CreatorView{}, fmt.Errorf("set status (attempt %d): %w", attempt, err)
		}
	}
}

// creatorView adds the product and the stats to one promotion.
func (s *Service) creatorView(ctx context.Context, p Promotion) (CreatorView, error) {
	views, err := s.creatorViews(ctx, []Promotion{p})
	if err != nil {
		return CreatorView{}, err
	}
	return views[0], nil
}

// creatorViews reads the products' snapshots and the promotions' stats at the same
// time: neither read needs the other.
func (s *Service) creatorViews(ctx context.Context, ps []Promotion) ([]CreatorView, error) {
	keys := make([]commission.StatsKey, len(ps))
	for i, p := range ps {
		keys[i] = commission.StatsKey{PromotionID: p.ID, Currency: p.Currency}
	}
	var (
		stats    map[string]commission.Stats
		statsErr error
		done     = make(chan struct{})
	)
	go func() {
		defer close(done)
		stats, statsErr = s.ledger.Stats(ctx, keys)
	}()
	views, err := s.withProducts(ctx, ps)
	<-done
	if err != nil {
		return nil, err
	}
	if statsErr != nil {
		return nil, statsErr
	}
	out := make([]CreatorView, len(views))
	for i, v := range views {
		out[i] = CreatorView{View: v, Stats: stats[v.ID].Totals}
	}
	return out, nil
}

// withProducts joins promotions with their product snapshots.
func (s *Service) withProducts(ctx context.Context, ps []Promotion) ([]View, error) {
	ids := make([]string, len(ps))
	for i, p := range ps {
		ids[i] = p.ProductID
	}
	snaps, err := s.snapshots.GetMany(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]View, len(ps))
	for i, p := range ps {
		snap, ok := snaps[p.ProductID]
		out[i] = View{Promotion: p, Product: snap, HasProduct: ok}
	}
	return out, nil
}

// ListByCreator returns a page of the creator's own promotions, newest first, with
// clicks, sales and earnings. limit 0 means DefaultPageSize.
func (s *Service) ListByCreator(ctx context.Context, creatorID string, limit int, cursor string) (Page[CreatorView], error) {
	limit, after, err := pageArgs(limit, cursor)
	if err != nil {
		return Page[CreatorView]{}, err
	}
	if creatorID == "" {
		return Page[CreatorView]{}, errors.New("list promotions: no creator")
	}
	ps, more, err := s.store.ListByCreator(ctx, creatorID, limit, after)
	if err != nil {
		return Page[CreatorView]{}, fmt.Errorf("list promotions: %w", err)
	}
	views, err := s.creatorViews(ctx, ps)
	if err != nil {
		return Page[CreatorView]{}, fmt.Errorf("list promotions: %w", err)
	}
	page := Page[CreatorView]{Items: views}
	if more && len(ps) > 0 {
		last := ps[len(ps)-1]
		page.NextCursor = pagecursor.Encode(Cursor{CreatedAt: last.CreatedAt, ID: last.ID})
	}
	return page, nil
}

// Feed returns a page of live promotions, newest first, with their products. limit 0
// means DefaultPageSize. A page may hold fewer than limit items and still have a next
// cursor when many promotions in a row were not live.
func (s *Service) Feed(ctx context.Context, limit int, cursor string) (Page[View], error) {
	limit, pos, err := pageArgs(limit, cursor)
	if err != nil {
		return Page[View]{}, err
	}
	now := s.now().UTC()
	var (
		live []Promotion
		next *Cursor
	)
rounds:
	for round := 1; ; round++ {
		batch, more, err := s.store.Feed(ctx, limit+1, pos)
		if err != nil {
			return Page[View]{}, fmt.Errorf("feed: %w", err)
		}
		for _, p := range batch {
			if !p.LiveAt(now) {
				pos = &Cursor{CreatedAt: p.CreatedAt, ID: p.ID}
				continue
			}
			if len(live) == limit {
				last := live[limit-1]
				next = &Cursor{CreatedAt: last.CreatedAt, ID: last.ID}
				break rounds
			}
			live = append(live, p)
			pos = &Cursor{CreatedAt: p.CreatedAt, ID: p.ID}
		}
		switch {
		case !more:
			break rounds
		case round == maxFeedRounds:
			next = pos
			break rounds
		}
	}
	views, err := s.withProducts(ctx, live)
	if err != nil {
		return Page[View]{}, fmt.Errorf("feed: %w", err)
	}
	page := Page[View]{Items: make([]View, 0, len(views))}
	for _, v := range views {
		// A delisted product's promotions are ended by the inbox; this also hides one
		// whose ending is still on its way (the product index is eventually consistent).
		if v.HasProduct && v.Product.Listed {
			page.Items = append(page.Items, v)
		}
	}
	if next != nil {
		page.NextCursor = pagecursor.Encode(*next)
	}
	return page, nil
}

// Handoff issues a hand-off token for a live promotion of an available product and
// counts the click. Anyone may ask: viewers need no account to buy.
func (s *Service) Handoff(ctx context.Context, id string) (Handoff, error) {
	if s.sign == nil {
		return Handoff{}, errors.New("handoff: no signing key")
	}
	if !ValidID(id) {
		return Handoff{}, ErrNotFound
	}
	now := s.now().UTC()
	// The click first: its conditional update checks that the promotion exists and is
	// live, and returns it (creator, product), so no read comes before it. A click is a
	// viewer asking to buy from a live promotion; it counts even when the product then
	// turns out unavailable (that answer is 409 product_unavailable).
	p, err := s.store.CountClick(ctx, id, now)
	if err != nil {
		return Handoff{}, fmt.Errorf("handoff %s: %w", id, err)
	}
	snap, err := s.snapshots.Get(ctx, p.ProductID)
	switch {
	case errors.Is(err, snapshot.ErrNotFound):
		return Handoff{}, fmt.Errorf("handoff %s: no snapshot: %w", id, ErrProductUnavailable)
	case err != nil:
		return Handoff{}, fmt.Errorf("handoff: %w", err)
	case !snap.Available():
		return Handoff{}, fmt.Errorf("handoff %s: %w", id, ErrProductUnavailable)
	}
	iat := now.Truncate(time.Second)
	c := contract.HandoffClaims{
		PromotionID: p.ID, CreatorID: p.CreatorID, ProductID: p.ProductID,
		DisplayedPrice: contract.Price{Amount: snap.Price.Amount, Currency: snap.Price.Currency},
	}
	c.ExpiresAt = jwtTime(iat.Add(s.lifetime))
	token, err := s.sign(c, now)
	if err != nil {
		return Handoff{}, fmt.Errorf("handoff: %w", err)
	}
	return Handoff{Token: token, ExpiresAt: iat.Add(s.lifetime), Claims: c}, nil
}

// Earnings returns the caller's own earnings; any other creator's are "not found".
func (s *Service) Earnings(ctx context.Context, callerID, creatorID string) ([]commission.Earnings, error) {
	if callerID == "" || creatorID != callerID {
		return nil, ErrCreatorNotFound
	}
	e, err := s.ledger.Earnings(ctx, creatorID)
	if err != nil {
		return nil, fmt.Errorf("earnings: %w", err)
	}
	return e, nil
}

// EndForProduct ends every active or paused promotion of a product (commerce delisted
// it) and returns how many it ended. It is idempotent.
func (s *Service) EndForProduct(ctx context.Context, productID string) (int, error) {
	ids, err := s.store.ByProduct(ctx, productID)
	if err != nil {
		return 0, fmt.Errorf("end promotions of %s: %w", productID, err)
	}
	n := 0
	for _, id := range ids {
		ended, err := s.store.End(ctx, id, EndedProductDelisted, s.now().UTC())
		if err != nil {
			return n, fmt.Errorf("end promotion %s: %w", id, err)
		}
		if ended {
			n++
		}
	}
	return n, nil
}

// pageArgs validates a page size and cursor.
func pageArgs(limit int, cursor string) (int, *Cursor, error) {
	var ps problems
	if limit == 0 {
		limit = DefaultPageSize
	}
	if limit < 1 || limit > MaxPageSize {
		ps.Add("limit", fmt.Sprintf("must be between 1 and %d", MaxPageSize))
	}
	after, err := pagecursor.Decode(cursor, ValidID)
	if err != nil {
		ps.Add("cursor", "is not a cursor this API returned")
	}
	return limit, after, ps.Err()
}
