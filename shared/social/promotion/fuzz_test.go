package promotion_test

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/etalase/etalase/infra/fuzzhttp"
	"github.com/etalase/etalase/shared/platform/httpapi"
	"github.com/etalase/etalase/shared/social/commission"
	"github.com/etalase/etalase/shared/social/money"
	"github.com/etalase/etalase/shared/social/promotion"
	"github.com/etalase/etalase/shared/social/snapshot"
)

// The fixtures' ids (events/social/promotion), another creator's promotion, and the
// fuzz target's fixed clock.
const (
	fuzzCreator        = "c7a9e2d4-6b1f-4e8a-9c3d-2f5e7a1b0c9d"
	fuzzPromotion      = "pr_mfrggzdfmztwq2lknnwg23tpob"
	fuzzOtherPromotion = "pr_aaaaaaaaaaaaaaaaaaaaaaaaaa"
	fuzzProduct        = "p_rocsknolsez4jj42y44l7ga3ou"
)

var fuzzNow = time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)

// FuzzPromotionHandler sends fuzzed API Gateway events (every route of
// SocialPromotionFunction, built from events/social/promotion: body, path, query with
// cursors, headers, principal) through Handler.Handle over in-memory promotions,
// snapshots and commissions holding the fixtures' live promotion and another creator's
// paused one. For any input: no panic, no 5xx, the error envelope on every 4xx, and a
// 4xx writes nothing (a hand-off counts its click only when it answers 200).
func FuzzPromotionHandler(f *testing.F) {
	tg := fuzzhttp.New(f, "../../../template.yaml", "SocialPromotionFunction", "../../../events/social/promotion")
	tg.Seed(f,
		fuzzhttp.Input{Fixture: 0, Body: `{"productId":"p_rocsknolsez4jj42y44l7ga3ou","kind":"live","mediaUrl":"/live/1","commissionBps":5000,"startsAt":"2026-01-10T11:56:00+23:59","endsAt":"9999-12-31T23:59:59-23:59"}`},
		fuzzhttp.Input{Fixture: 0, Body: `{"productId":"p_rocsknolsez4jj42y44l7ga3ou","kind":"showcase","commissionBps":100,"endsAt":"2026-01-10T12:05:00Z"}`, Base64: true},
		fuzzhttp.Input{Fixture: 0, Body: `{"productId":"","kind":"x","caption":"\u0000","mediaUrl":"javascript:alert(1)","commissionBps":-1}`},
		fuzzhttp.Input{Fixture: 2, Query: "limit=1&cursor=eyJjIjoiMjAyNi0wMS0xMFQxMTowMDowMFoiLCJpIjoicHJfbWZyZ2d6ZGZtenR3cTJsa25ud2cyM3Rwb2IifQ"},
		fuzzhttp.Input{Fixture: 5, Query: "limit=51&cursor=%00"},
		fuzzhttp.Input{Fixture: 6, Body: `{"status":"ENDED"}`, Path: fuzzPromotion},
		fuzzhttp.Input{Fixture: 6, Body: `{"status":"ACTIVE"}`, Path: fuzzOtherPromotion},
		fuzzhttp.Input{Fixture: 4, Path: fuzzOtherPromotion},
		fuzzhttp.Input{Fixture: 1, Path: "someone-else"},
	)
	_, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		f.Fatal(err)
	}
	sign, err := promotion.NewSigner(priv)
	if err != nil {
		f.Fatal(err)
	}
	tg.Fuzz(f, func(t *testing.T, req httpapi.Request) {
		st := newFuzzPromotionStore()
		svc := promotion.NewService(st, fuzzSnapshots{}, fuzzLedger{}, sign, promotion.WithClock(func() time.Time { return fuzzNow }))
		h := promotion.NewHandler(svc, slog.New(slog.DiscardHandler))

		resp, err := h.Handle(context.Background(), req)
		fuzzhttp.Check(t, req, resp, err)

		if writes := st.committed(); resp.StatusCode >= 400 && writes > 0 {
			t.Fatalf("%s answered %d after %d writes: %s", req.RouteKey, resp.StatusCode, writes, resp.Body)
		}
	})
}

// fuzzPromotionStore is an in-memory promotion.Store with DynamoStore's conditions.
type fuzzPromotionStore struct {
	mu     sync.Mutex
	ps     map[string]promotion.Promotion
	writes int
}

var _ promotion.Store = (*fuzzPromotionStore)(nil)

func newFuzzPromotionStore() *fuzzPromotionStore {
	live := promotion.Promotion{
		ID: fuzzPromotion, CreatorID: fuzzCreator, ProductID: fuzzProduct, Kind: promotion.KindVideo,
		Caption: "Kopi Gayo pagi ini", MediaURL: "https://cdn.etalase.example/v/kopi-gayo.mp4", CommissionBps: 1000,
		Currency: "IDR", StartsAt: fuzzNow.Add(-time.Hour), EndsAt: fuzzNow.Add(24 * time.Hour),
		Status: promotion.StatusActive, Clicks: 3, Version: 1, CreatedAt: fuzzNow.Add(-time.Hour), UpdatedAt: fuzzNow.Add(-time.Hour),
	}
	paused := live
	paused.ID, paused.CreatorID, paused.Status, paused.Version = fuzzOtherPromotion, "creator-other", promotion.StatusPaused, 2
	paused.CreatedAt = fuzzNow.Add(-2 * time.Hour)
	return &fuzzPromotionStore{ps: map[string]promotion.Promotion{live.ID: live, paused.ID: paused}}
}

func (s *fuzzPromotionStore) committed() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writes
}

func (s *fuzzPromotionStore) Create(_ context.Context, p promotion.Promotion) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.ps[p.ID]; ok {
		return promotion.ErrConflict
	}
	s.ps[p.ID] = p
	s.writes++
	return nil
}

func (s *fuzzPromotionStore) Get(_ context.Context, id string) (promotion.Promotion, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.ps[id]
	if !ok {
		return promotion.Promotion{}, promotion.ErrNotFound
	}
	return p, nil
}

func (s *fuzzPromotionStore) Update(_ context.Context, next promotion.Promotion) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.ps[next.ID]
	switch {
	case !ok || cur.CreatorID != next.CreatorID:
		return promotion.ErrNotFound
	case cur.Version != next.Version-1:
		return promotion.ErrConflict
	}
	s.ps[next.ID] = next
	s.writes++
	return nil
}

func (s *fuzzPromotionStore) CountClick(_ context.Context, id string, now time.Time) (promotion.Promotion, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.ps[id]
	switch {
	case !ok:
		return promotion.Promotion{}, promotion.ErrNotFound
	case !p.LiveAt(now):
		return promotion.Promotion{}, promotion.ErrNotLive
	}
	p.Clicks++
	s.ps[id] = p
	s.writes++
	return p, nil
}

// page returns the promotions that keep, newest first, after the cursor, up to limit.
func (s *fuzzPromotionStore) page(keep func(promotion.Promotion) bool, limit int, after *promotion.Cursor) ([]promotion.Promotion, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []promotion.Promotion
	for _, p := range s.ps {
		if keep(p) {
			all = append(all, p)
		}
	}
	newestFirst := func(a, b promotion.Promotion) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(b.ID, a.ID))
	}
	slices.SortFunc(all, newestFirst)
	if after != nil {
		pos := promotion.Promotion{ID: after.ID, CreatedAt: after.CreatedAt}
		i := slices.IndexFunc(all, func(p promotion.Promotion) bool { return newestFirst(pos, p) < 0 })
		if i < 0 {
			i = len(all)
		}
		all = all[i:]
	}
	if limit < 0 {
		panic(fmt.Sprintf("negative limit %d", limit))
	}
	if len(all) > limit {
		return all[:limit], true
	}
	return all, false
}

func (s *fuzzPromotionStore) ListByCreator(_ context.Context, creatorID string, limit int, after *promotion.Cursor) ([]promotion.Promotion, bool, error) {
	ps, more := s.page(func(p promotion.Promotion) bool { return p.CreatorID == creatorID }, limit, after)
	return ps, more, nil
}

func (s *fuzzPromotionStore) Feed(_ context.Context, limit int, after *promotion.Cursor) ([]promotion.Promotion, bool, error) {
	ps, more := s.page(func(p promotion.Promotion) bool { return p.Status == promotion.StatusActive }, limit, after)
	return ps, more, nil
}

func (s *fuzzPromotionStore) ByProduct(_ context.Context, productID string) ([]string, error) {
	ps, _ := s.page(func(p promotion.Promotion) bool { return p.ProductID == productID }, len(s.ps), nil)
	ids := make([]string, len(ps))
	for i, p := range ps {
		ids[i] = p.ID
	}
	return ids, nil
}

func (s *fuzzPromotionStore) End(_ context.Context, id, reason string, now time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.ps[id]
	if !ok || p.Status == promotion.StatusEnded {
		return false, nil
	}
	p.Status, p.EndReason, p.UpdatedAt, p.Version = promotion.StatusEnded, reason, now, p.Version+1
	s.ps[id] = p
	s.writes++
	return true, nil
}

// fuzzSnapshots holds the fixtures' product, listed and in stock.
type fuzzSnapshots struct{}

func (fuzzSnapshots) Get(_ context.Context, productID string) (snapshot.Snapshot, error) {
	if productID != fuzzProduct {
		return snapshot.Snapshot{}, snapshot.ErrNotFound
	}
	return snapshot.Snapshot{
		ProductID: fuzzProduct, SellerID: "seller-1", Title: "Kopi Arabika Gayo 250 g", ImageURL: "/assets/kopi-gayo.jpg",
		Price: money.Money{Amount: 85000, Currency: "IDR"}, InStock: true, Listed: true, Version: 4, UpdatedAt: fuzzNow.Add(-time.Hour),
	}, nil
}

func (s fuzzSnapshots) GetMany(ctx context.Context, productIDs []string) (map[string]snapshot.Snapshot, error) {
	out := map[string]snapshot.Snapshot{}
	for _, id := range productIDs {
		if snap, err := s.Get(ctx, id); err == nil {
			out[id] = snap
		}
	}
	return out, nil
}

// fuzzLedger has sales in IDR for every creator and promotion.
type fuzzLedger struct{}

func (fuzzLedger) Stats(_ context.Context, keys []commission.StatsKey) (map[string]commission.Stats, error) {
	out := map[string]commission.Stats{}
	for _, k := range keys {
		out[k.PromotionID] = commission.Stats{PromotionID: k.PromotionID, Currency: k.Currency,
			Totals: commission.Totals{Sales: 2, Units: 3, SalesAmount: 255000, Commission: 25500}}
	}
	return out, nil
}

func (fuzzLedger) Earnings(_ context.Context, creatorID string) ([]commission.Earnings, error) {
	return []commission.Earnings{{CreatorID: creatorID, Currency: "IDR", Totals: commission.Totals{Sales: 2, Commission: 25500}}}, nil
}
