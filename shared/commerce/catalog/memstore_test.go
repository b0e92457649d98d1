package catalog_test

import (
	"cmp"
	"context"
	"slices"
	"sync"

	"github.com/etalase/etalase/shared/commerce/catalog"
	"github.com/etalase/etalase/shared/commerce/outbox"
)

// memStore is an in-memory catalog.Store for the service's and handler's unit tests. It
// mirrors DynamoStore's conditions closely enough to exercise the service's rules; the
// real conditions are tested against DynamoDB Local in dynamo_test.go.
type memStore struct {
	mu       sync.Mutex
	products map[string]catalog.Product
	events   []outbox.Record
	// conflicts makes the next n writes fail with ErrConflict, as a lost race would.
	conflicts int
	// writes counts write attempts.
	writes int
}

var _ catalog.Store = (*memStore)(nil)

func newMemStore(ps ...catalog.Product) *memStore {
	s := &memStore{products: map[string]catalog.Product{}}
	for _, p := range ps {
		s.products[p.ID] = p
	}
	return s
}

func (s *memStore) Get(_ context.Context, id string) (catalog.Product, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.products[id]
	if !ok {
		return catalog.Product{}, catalog.ErrNotFound
	}
	return p, nil
}

func (s *memStore) Create(_ context.Context, p catalog.Product, ev outbox.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes++
	if _, ok := s.products[p.ID]; ok {
		return catalog.ErrConflict
	}
	s.products[p.ID] = p
	s.events = append(s.events, ev)
	return nil
}

// check applies DynamoStore's guard: exists, owner, listed, version, stock.
func (s *memStore) check(p catalog.Product, need int64) (catalog.Product, error) {
	s.writes++
	if s.conflicts > 0 {
		s.conflicts--
		return catalog.Product{}, catalog.ErrConflict
	}
	cur, ok := s.products[p.ID]
	switch {
	case !ok || cur.SellerID != p.SellerID:
		return catalog.Product{}, catalog.ErrNotFound
	case cur.Status != catalog.StatusListed:
		return catalog.Product{}, catalog.ErrDelisted
	case cur.Stock < need:
		return catalog.Product{}, catalog.ErrInsufficientStock
	case cur.Version != p.Version-1:
		return catalog.Product{}, catalog.ErrConflict
	}
	return cur, nil
}

func (s *memStore) Replace(_ context.Context, p catalog.Product, ev outbox.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.check(p, 0); err != nil {
		return err
	}
	s.products[p.ID] = p
	s.events = append(s.events, ev)
	return nil
}

func (s *memStore) AdjustStock(_ context.Context, p catalog.Product, delta int64, ev outbox.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, err := s.check(p, max(0, -delta))
	if err != nil {
		return err
	}
	cur.Stock += delta
	cur.Version, cur.UpdatedAt = p.Version, p.UpdatedAt
	s.products[p.ID] = cur
	s.events = append(s.events, ev)
	return nil
}

func (s *memStore) ListBySeller(_ context.Context, sellerID string, limit int, after *catalog.Cursor) ([]catalog.Product, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []catalog.Product
	for _, p := range s.products {
		if p.SellerID == sellerID {
			all = append(all, p)
		}
	}
	newestFirst := func(a, b catalog.Product) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(b.ID, a.ID))
	}
	slices.SortFunc(all, newestFirst)
	if after != nil {
		pos := catalog.Product{ID: after.ID, CreatedAt: after.CreatedAt}
		i := slices.IndexFunc(all, func(p catalog.Product) bool { return newestFirst(pos, p) < 0 })
		if i < 0 {
			i = len(all)
		}
		all = all[i:]
	}
	if len(all) > limit {
		return all[:limit], true, nil
	}
	return all, false, nil
}

// snapshot returns copies of the stored products and events.
func (s *memStore) snapshot() (map[string]catalog.Product, []outbox.Record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ps := make(map[string]catalog.Product, len(s.products))
	for k, v := range s.products {
		ps[k] = v
	}
	return ps, slices.Clone(s.events)
}
