package cart_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/etalase/etalase/infra/fuzzhttp"
	"github.com/etalase/etalase/shared/commerce/cart"
	"github.com/etalase/etalase/shared/commerce/money"
	"github.com/etalase/etalase/shared/contract"
	"github.com/etalase/etalase/shared/platform/httpapi"
)

// fuzzAt is the fuzz target's fixed clock, and its hand-off tokens' issue time.
var fuzzAt = time.Date(2026, 1, 5, 9, 30, 0, 0, time.UTC)

// fuzzKey is the fuzz target's social key: fixed, so that a seed's token stays valid.
var fuzzKey = ed25519.NewKeyFromSeed([]byte("etalase-cart-fuzz-handoff-key-32"))

// FuzzCartHandler sends fuzzed API Gateway events (every route of
// CommerceCartFunction, built from events/commerce/cart: body with hand-off tokens and
// product ids, path, query, headers and cookies with guest ids, principal) through
// Handler.Handle over an in-memory store holding the fixtures' product, buyer cart and
// guest cart. For any input: no panic, no 5xx, the error envelope on every 4xx, no
// write on a 4xx, and a fuzzed hand-off token never redeems.
func FuzzCartHandler(f *testing.F) {
	tg := fuzzhttp.New(f, "../../../template.yaml", "CommerceCartFunction", "../../../events/commerce/cart")
	valid, err := contract.SignHandoff(fuzzKey, contract.HandoffClaims{
		PromotionID: "pr_mfrggzdfmztwq2lknnwg23tpob", CreatorID: "creator-ayu", ProductID: fixtureProduct,
		DisplayedPrice: contract.Price{Amount: 80000, Currency: "IDR"}, RegisteredClaims: jwt.RegisteredClaims{ID: "fuzz-seed-jti"},
	}, fuzzAt)
	if err != nil {
		f.Fatal(err)
	}
	tg.Seed(f,
		fuzzhttp.Input{Fixture: 1, Body: `{"handoffToken":"` + valid + `","quantity":2}`},
		fuzzhttp.Input{Fixture: 0, Body: `{"handoffToken":"` + valid + `"}`, Headers: "x-cart-id: " + fixtureGuest},
		fuzzhttp.Input{Fixture: 2, Body: `{"productId":"` + fixtureProduct + `","quantity":99}`, Base64: true},
		fuzzhttp.Input{Fixture: 2, Body: `{"productId":"` + fixtureProduct + `","handoffToken":"a.b.c","quantity":-1}`},
		fuzzhttp.Input{Fixture: 9, Body: `{"quantity":9223372036854775807}`, Path: fixtureProduct},
		fuzzhttp.Input{Fixture: 4, Headers: "cookie: etalase_cart=" + fixtureGuest + "; etalase_cart=g_x\ncookie: a=b"},
		fuzzhttp.Input{Fixture: 5, Headers: "x-cart-id: buyer#" + fixtureBuyer},
		fuzzhttp.Input{Fixture: 5, Auth: 6, Path: "guest#" + fixtureGuest, Headers: "cookie: etalase_cart=" + fixtureGuest},
		fuzzhttp.Input{Fixture: 7, Path: "p_rocsknolsez4jj42y44l7ga3ou#x"},
	)
	tg.Fuzz(f, func(t *testing.T, req httpapi.Request) {
		st := newFuzzCartStore()
		verifier := contract.HandoffVerifier{PublicKey: fuzzKey.Public().(ed25519.PublicKey), Now: func() time.Time { return fuzzAt }}
		h := cart.NewHandler(cart.NewService(st, verifier, cart.WithClock(func() time.Time { return fuzzAt })),
			slog.New(slog.DiscardHandler))

		resp, err := h.Handle(context.Background(), req)
		fuzzhttp.Check(t, req, resp, err)

		if writes := st.committed(); resp.StatusCode >= 400 && writes > 0 {
			t.Fatalf("%s answered %d after %d writes: %s", req.RouteKey, resp.StatusCode, writes, resp.Body)
		}
		if st.redeemedOtherThan("fuzz-seed-jti") {
			t.Fatalf("%s redeemed a hand-off token nobody signed", req.RouteKey)
		}
	})
}

// fuzzCartStore is an in-memory cart.Store with the conditions of DynamoStore: version
// checks on Put and Merge, and RemoveLine only on a live cart holding the line.
type fuzzCartStore struct {
	mu       sync.Mutex
	carts    map[string]cart.Cart
	products map[string]cart.Product
	writes   int
}

var _ cart.Store = (*fuzzCartStore)(nil)

// newFuzzCartStore holds the fixtures' product, a buyer cart and a guest cart with it.
func newFuzzCartStore() *fuzzCartStore {
	line := cart.Line{ProductID: fixtureProduct, Quantity: 2, AddedAt: fuzzAt.Add(-time.Hour), UpdatedAt: fuzzAt.Add(-time.Hour)}
	stored := func(o cart.Owner) cart.Cart {
		return cart.Cart{
			Owner: o, Currency: "IDR", Lines: map[string]cart.Line{fixtureProduct: line}, Version: 3,
			CreatedAt: fuzzAt.Add(-time.Hour), UpdatedAt: fuzzAt.Add(-time.Hour), ExpiresAt: fuzzAt.Add(24 * time.Hour),
		}
	}
	s := &fuzzCartStore{carts: map[string]cart.Cart{}, products: map[string]cart.Product{
		fixtureProduct: {ID: fixtureProduct, Title: "Kopi Arabika Gayo 250 g", Price: money.Money{Amount: 85000, Currency: "IDR"}, Stock: 10, Listed: true},
	}}
	for _, o := range []cart.Owner{cart.Buyer(fixtureBuyer), cart.Guest(fixtureGuest)} {
		s.carts[o.Key()] = stored(o)
	}
	return s
}

func fuzzCopyCart(c cart.Cart) cart.Cart {
	n := c
	n.Lines = make(map[string]cart.Line, len(c.Lines))
	for id, l := range c.Lines {
		if l.Attribution != nil {
			a := *l.Attribution
			l.Attribution = &a
		}
		n.Lines[id] = l
	}
	n.Redeemed, n.MergedGuests = slices.Clone(c.Redeemed), slices.Clone(c.MergedGuests)
	return n
}

func (s *fuzzCartStore) Load(_ context.Context, cartKeys, productIDs []string) (map[string]cart.Cart, map[string]cart.Product, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	carts, products := map[string]cart.Cart{}, map[string]cart.Product{}
	for _, k := range cartKeys {
		if c, ok := s.carts[k]; ok {
			carts[k] = fuzzCopyCart(c)
		}
	}
	for _, id := range productIDs {
		if p, ok := s.products[id]; ok {
			products[id] = p
		}
	}
	return carts, products, nil
}

func (s *fuzzCartStore) version(key string) int64 { return s.carts[key].Version }

func (s *fuzzCartStore) Put(_ context.Context, c cart.Cart, expected int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.version(c.Owner.Key()) != expected {
		return fmt.Errorf("put: %w", cart.ErrConflict)
	}
	s.carts[c.Owner.Key()] = fuzzCopyCart(c)
	s.writes++
	return nil
}

func (s *fuzzCartStore) RemoveLine(_ context.Context, o cart.Owner, productID string, now time.Time) (cart.Cart, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.carts[o.Key()]
	if !ok || !c.Live(now) {
		return cart.Cart{}, cart.ErrCartNotFound
	}
	if _, ok := c.Lines[productID]; !ok {
		return cart.Cart{}, cart.ErrLineNotFound
	}
	c = fuzzCopyCart(c)
	delete(c.Lines, productID)
	c.Version++
	c.UpdatedAt, c.ExpiresAt = now, now.Add(o.Kind.TTL())
	s.carts[o.Key()] = c
	s.writes++
	return fuzzCopyCart(c), nil
}

func (s *fuzzCartStore) Merge(_ context.Context, buyer cart.Cart, expected int64, guest cart.Owner, guestVersion int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.version(buyer.Owner.Key()) != expected || s.version(guest.Key()) != guestVersion {
		return fmt.Errorf("merge: %w", cart.ErrConflict)
	}
	s.carts[buyer.Owner.Key()] = fuzzCopyCart(buyer)
	delete(s.carts, guest.Key())
	s.writes++
	return nil
}

// committed is the number of writes that took effect.
func (s *fuzzCartStore) committed() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writes
}

// redeemedOtherThan reports whether any stored cart redeemed a token id other than jti.
func (s *fuzzCartStore) redeemedOtherThan(jti string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range slices.Sorted(maps.Keys(s.carts)) {
		for _, id := range s.carts[k].Redeemed {
			if id != jti {
				return true
			}
		}
	}
	return false
}
