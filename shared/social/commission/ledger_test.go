package commission_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/etalase/etalase/shared/contract"
	"github.com/etalase/etalase/shared/social/commission"
)

func TestCommissionRounding(t *testing.T) {
	tests := []struct {
		amount int64
		bps    int
		want   int64
	}{
		{85000, 1000, 8500},
		{158000, 1000, 15800},
		{99999, 1234, 12339}, // 12339.8766 rounds down
		{1001, 333, 33},      // 33.3333
		{3, 3333, 0},         // 0.9999: nothing, never a fraction
		{1, 5000, 0},
		{2, 5000, 1},
		{1_000_000_000_000_000, 5000, 500_000_000_000_000},
		{999_999_999_999_999, 4999, 499_899_999_999_999}, // 499899999999999.5001 rounds down
		{1_000_000_000_000_000, 10_000, 1_000_000_000_000_000},
		{9_223_372_036_854_775_807, 10_000, 9_223_372_036_854_775_807}, // no overflow
		{0, 1000, 0},
		{-5, 1000, 0},
		{100, 0, 0},
	}
	for _, tt := range tests {
		if got := commission.Commission(tt.amount, tt.bps); got != tt.want {
			t.Errorf("Commission(%d, %d) = %d, want %d", tt.amount, tt.bps, got, tt.want)
		}
	}
	for _, bps := range []int{99, 5001, 0, -1} {
		if commission.ValidRate(bps) {
			t.Errorf("ValidRate(%d) = true", bps)
		}
	}
	for _, bps := range []int{100, 1000, 5000} {
		if !commission.ValidRate(bps) {
			t.Errorf("ValidRate(%d) = false", bps)
		}
	}
}

// memStore is an in-memory Store with the DynamoStore's semantics: an event id is
// applied once, and a line is written only over the version it was read at.
type memStore struct {
	mu       sync.Mutex
	markers  map[string]bool
	lines    map[string]commission.Line
	stats    map[commission.StatsKey]commission.Totals
	earnings map[[2]string]commission.Totals
	// conflicts makes the next n Apply calls fail with ErrConflict.
	conflicts int
}

func newMemStore() *memStore {
	return &memStore{markers: map[string]bool{}, lines: map[string]commission.Line{},
		stats: map[commission.StatsKey]commission.Totals{}, earnings: map[[2]string]commission.Totals{}}
}

func (m *memStore) GetLine(_ context.Context, orderRef, lineRef string) (commission.Line, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if l, ok := m.lines[orderRef+"/"+lineRef]; ok {
		return l, nil
	}
	return commission.Line{OrderRef: orderRef, LineRef: lineRef}, nil
}

func add(a, b commission.Totals) commission.Totals {
	return commission.Totals{
		Sales: a.Sales + b.Sales, Units: a.Units + b.Units, SalesAmount: a.SalesAmount + b.SalesAmount,
		Commission: a.Commission + b.Commission, Reversals: a.Reversals + b.Reversals,
		ReversedAmount: a.ReversedAmount + b.ReversedAmount, ReversedCommission: a.ReversedCommission + b.ReversedCommission,
	}
}

func (m *memStore) Apply(_ context.Context, eventID, _ string, next commission.Line, d commission.Totals) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.conflicts > 0 {
		m.conflicts--
		return commission.ErrConflict
	}
	if m.markers[eventID] {
		return commission.ErrDuplicate
	}
	k := next.OrderRef + "/" + next.LineRef
	if m.lines[k].Version != next.Version-1 {
		return commission.ErrConflict
	}
	m.markers[eventID] = true
	m.lines[k] = next
	sk := commission.StatsKey{PromotionID: next.PromotionID, Currency: next.Currency}
	m.stats[sk] = add(m.stats[sk], d)
	ek := [2]string{next.CreatorID, next.Currency}
	m.earnings[ek] = add(m.earnings[ek], d)
	return nil
}

func (m *memStore) Earnings(_ context.Context, creatorID string) ([]commission.Earnings, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []commission.Earnings
	for k, v := range m.earnings {
		if k[0] == creatorID {
			out = append(out, commission.Earnings{CreatorID: k[0], Currency: k[1], Totals: v})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Currency < out[j].Currency })
	return out, nil
}

func (m *memStore) Stats(_ context.Context, keys []commission.StatsKey) (map[string]commission.Stats, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]commission.Stats{}
	for _, k := range keys {
		if v, ok := m.stats[k]; ok {
			out[k.PromotionID] = commission.Stats{PromotionID: k.PromotionID, Currency: k.Currency, Totals: v}
		}
	}
	return out, nil
}

// terms is a fixed TermsSource.
type terms map[string]commission.Terms

func (ts terms) Terms(_ context.Context, id string) (commission.Terms, error) {
	t, ok := ts[id]
	if !ok {
		return commission.Terms{}, commission.ErrUnknownPromotion
	}
	return t, nil
}

const (
	promo   = "pr_aaaaaaaaaaaaaaaaaaaaaaaaaa"
	creator = "creator-1"
	product = "p_bbbbbbbbbbbbbbbbbbbbbbbbbb"
	ref     = "or_cccccccccccccccccccccccccc"
)

var ledgerTerms = terms{promo: {CreatorID: creator, RateBps: 1000}, "pr_odd": {CreatorID: creator, RateBps: 333}}

func attributed(amount int64, qty int) contract.SaleAttributed {
	return contract.SaleAttributed{
		PromotionID: promo, CreatorID: creator, ProductID: product, Quantity: qty,
		Amount: contract.Price{Amount: amount, Currency: "IDR"}, OrderRef: ref, LineRef: "line-1",
		SoldAt: time.Date(2026, 1, 5, 13, 0, 0, 0, time.UTC),
	}
}

func reversed(amount int64, qty int) contract.SaleReversed {
	return contract.SaleReversed{
		PromotionID: promo, CreatorID: creator, ProductID: product, Quantity: qty,
		Amount: contract.Price{Amount: amount, Currency: "IDR"}, OrderRef: ref, LineRef: "line-1",
		ReversedAt: time.Date(2026, 1, 9, 9, 0, 0, 0, time.UTC),
	}
}

func earningsOf(t *testing.T, l *commission.Ledger) commission.Totals {
	t.Helper()
	es, err := l.Earnings(context.Background(), creator)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) == 0 {
		return commission.Totals{}
	}
	if len(es) != 1 || es[0].Currency != "IDR" {
		t.Fatalf("earnings = %+v, want one IDR entry", es)
	}
	return es[0].Totals
}

func TestAttributeAndRefund(t *testing.T) {
	ctx := context.Background()
	l := commission.NewLedger(newMemStore(), ledgerTerms)
	if err := l.ApplyAttributed(ctx, "e1", attributed(158000, 2)); err != nil {
		t.Fatal(err)
	}
	want := commission.Totals{Sales: 1, Units: 2, SalesAmount: 158000, Commission: 15800}
	if diff := cmp.Diff(want, earningsOf(t, l)); diff != "" {
		t.Errorf("after the sale (-want +got):\n%s", diff)
	}
	if err := l.ApplyReversed(ctx, "e2", reversed(50000, 0)); err != nil {
		t.Fatal(err)
	}
	if err := l.ApplyReversed(ctx, "e3", reversed(108000, 2)); err != nil {
		t.Fatal(err)
	}
	want = commission.Totals{Sales: 1, Units: 2, SalesAmount: 158000, Commission: 15800, Reversals: 2, ReversedAmount: 158000, ReversedCommission: 15800}
	got := earningsOf(t, l)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("after a full refund in two parts (-want +got):\n%s", diff)
	}
	if got.Net() != 0 {
		t.Errorf("net after a full refund = %d, want 0", got.Net())
	}
	stats, err := l.Stats(ctx, []commission.StatsKey{{PromotionID: promo, Currency: "IDR"}, {PromotionID: "pr_none", Currency: "IDR"}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, stats[promo].Totals); diff != "" || len(stats) != 1 {
		t.Errorf("promotion stats %+v (-want +got):\n%s", stats, diff)
	}
}

// Partial refunds are cumulative: each reverses floor(total refunded × rate) minus
// what was reversed before, so the parts add up to exactly the attributed commission.
func TestRefundRounding(t *testing.T) {
	ctx := context.Background()
	l := commission.NewLedger(newMemStore(), ledgerTerms)
	sale := attributed(1001, 1)
	sale.PromotionID = "pr_odd" // 333 bps: floor(1001 × 333 / 10000) = 33
	if err := l.ApplyAttributed(ctx, "e1", sale); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		amount       int64
		wantReversed int64
	}{
		{500, 16}, // floor(16.65)
		{1, 16},   // floor(16.683): nothing more yet
		{500, 33}, // all 1001 refunded: exactly the 33 attributed
		{700, 33}, // a refund beyond the amount takes nothing more
	}
	for i, s := range steps {
		r := reversed(s.amount, 0)
		r.PromotionID = "pr_odd"
		if err := l.ApplyReversed(ctx, fmt.Sprintf("r%d", i), r); err != nil {
			t.Fatal(err)
		}
		got := earningsOf(t, l)
		if got.ReversedCommission != s.wantReversed || got.Commission != 33 {
			t.Errorf("after refund %d of %d: commission %d, reversed %d; want 33, %d", i, s.amount, got.Commission, got.ReversedCommission, s.wantReversed)
		}
	}
	if got := earningsOf(t, l); got.ReversedAmount != 1001 || got.Reversals != 4 {
		t.Errorf("reversed amount %d (want 1001, capped), reversals %d (want 4)", got.ReversedAmount, got.Reversals)
	}
}

// Whatever the order the events arrive in, and however often, the totals are the same.
func TestAnyOrderAnyDuplicates(t *testing.T) {
	type ev struct {
		id  string
		att *contract.SaleAttributed
		rev *contract.SaleReversed
	}
	a, r1, r2 := attributed(99999, 3), reversed(33333, 1), reversed(40000, 1)
	evs := []ev{{"a", &a, nil}, {"r1", nil, &r1}, {"r2", nil, &r2}}
	var want *commission.Totals
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 50 {
		order := slices.Clone(evs)
		// each event one to three times, shuffled
		for _, e := range evs {
			for range rng.IntN(3) {
				order = append(order, e)
			}
		}
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		l := commission.NewLedger(newMemStore(), ledgerTerms)
		for _, e := range order {
			var err error
			if e.att != nil {
				err = l.ApplyAttributed(context.Background(), e.id, *e.att)
			} else {
				err = l.ApplyReversed(context.Background(), e.id, *e.rev)
			}
			if err != nil && !errors.Is(err, commission.ErrDuplicate) {
				t.Fatalf("trial %d: %s: %v", trial, e.id, err)
			}
		}
		got := earningsOf(t, l)
		if want == nil {
			// 99999 × 10 % = 9999; refunds 73333 → 7333.
			w := commission.Totals{Sales: 1, Units: 3, SalesAmount: 99999, Commission: 9999, Reversals: 2, ReversedAmount: 73333, ReversedCommission: 7333}
			want = &w
		}
		if diff := cmp.Diff(*want, got); diff != "" {
			t.Fatalf("trial %d, order %v (-want +got):\n%s", trial, order, diff)
		}
	}
}

func TestDuplicates(t *testing.T) {
	ctx := context.Background()
	l := commission.NewLedger(newMemStore(), ledgerTerms)
	if err := l.ApplyAttributed(ctx, "e1", attributed(85000, 1)); err != nil {
		t.Fatal(err)
	}
	if err := l.ApplyAttributed(ctx, "e1", attributed(85000, 1)); !errors.Is(err, commission.ErrDuplicate) {
		t.Errorf("same event again: err = %v, want ErrDuplicate", err)
	}
	if err := l.ApplyAttributed(ctx, "e9", attributed(85000, 1)); !errors.Is(err, commission.ErrDuplicate) {
		t.Errorf("same line under another event id: err = %v, want ErrDuplicate", err)
	}
	if err := l.ApplyReversed(ctx, "r1", reversed(85000, 1)); err != nil {
		t.Fatal(err)
	}
	if err := l.ApplyReversed(ctx, "r1", reversed(85000, 1)); !errors.Is(err, commission.ErrDuplicate) {
		t.Errorf("same reversal again: err = %v, want ErrDuplicate", err)
	}
	want := commission.Totals{Sales: 1, Units: 1, SalesAmount: 85000, Commission: 8500, Reversals: 1, ReversedAmount: 85000, ReversedCommission: 8500}
	if diff := cmp.Diff(want, earningsOf(t, l)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestRejects(t *testing.T) {
	ctx := context.Background()
	mod := func(f func(*contract.SaleAttributed)) contract.SaleAttributed {
		a := attributed(85000, 1)
		f(&a)
		return a
	}
	cases := []struct {
		name string
		ev   contract.SaleAttributed
		want error
	}{
		{"unknown promotion", mod(func(a *contract.SaleAttributed) { a.PromotionID = "pr_gone" }), commission.ErrUnknownPromotion},
		{"another creator", mod(func(a *contract.SaleAttributed) { a.CreatorID = "creator-2" }), commission.ErrMismatch},
		{"order id instead of a ref", mod(func(a *contract.SaleAttributed) { a.OrderRef = "o_01JGZK3M5Q7R9T2V4X6Z8B0D2F" }), commission.ErrInvalid},
		{"no line ref", mod(func(a *contract.SaleAttributed) { a.LineRef = "" }), commission.ErrInvalid},
		{"zero quantity", mod(func(a *contract.SaleAttributed) { a.Quantity = 0 }), commission.ErrInvalid},
		{"zero amount", mod(func(a *contract.SaleAttributed) { a.Amount.Amount = 0 }), commission.ErrInvalid},
		{"negative amount", mod(func(a *contract.SaleAttributed) { a.Amount.Amount = -1 }), commission.ErrInvalid},
		{"bad currency", mod(func(a *contract.SaleAttributed) { a.Amount.Currency = "rp" }), commission.ErrInvalid},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			store := newMemStore()
			l := commission.NewLedger(store, ledgerTerms)
			if err := l.ApplyAttributed(ctx, "e1", tt.ev); !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
			if len(store.lines) != 0 || len(store.markers) != 0 {
				t.Error("a rejected event changed the ledger")
			}
		})
	}
	// A reversal naming the line under another currency or product is refused.
	l := commission.NewLedger(newMemStore(), ledgerTerms)
	if err := l.ApplyAttributed(ctx, "e1", attributed(85000, 1)); err != nil {
		t.Fatal(err)
	}
	r := reversed(1000, 0)
	r.Amount.Currency = "USD"
	if err := l.ApplyReversed(ctx, "r1", r); !errors.Is(err, commission.ErrMismatch) {
		t.Errorf("reversal in another currency: err = %v, want ErrMismatch", err)
	}
	r = reversed(1000, 0)
	r.ProductID = "p_other"
	if err := l.ApplyReversed(ctx, "r2", r); !errors.Is(err, commission.ErrMismatch) {
		t.Errorf("reversal of another product: err = %v, want ErrMismatch", err)
	}
}

// A lost compare-and-swap race is retried; the event is applied once.
func TestConflictIsRetried(t *testing.T) {
	store := newMemStore()
	store.conflicts = 3
	l := commission.NewLedger(store, ledgerTerms)
	if err := l.ApplyAttributed(context.Background(), "e1", attributed(85000, 1)); err != nil {
		t.Fatal(err)
	}
	if got := earningsOf(t, l); got.Sales != 1 || got.Commission != 8500 {
		t.Errorf("earnings = %+v", got)
	}
	store.conflicts = 100
	if err := l.ApplyReversed(context.Background(), "r1", reversed(1, 0)); !errors.Is(err, commission.ErrConflict) {
		t.Errorf("err = %v, want ErrConflict after the attempts run out", err)
	}
}
