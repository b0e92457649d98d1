package checkout_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/etalase/etalase/infra/fuzzhttp"
	"github.com/etalase/etalase/shared/commerce/checkout"
	"github.com/etalase/etalase/shared/commerce/money"
	"github.com/etalase/etalase/shared/commerce/order"
	"github.com/etalase/etalase/shared/commerce/orders"
	"github.com/etalase/etalase/shared/commerce/payment"
	"github.com/etalase/etalase/shared/platform/httpapi"
	"github.com/etalase/etalase/shared/platform/idempotency"
)

// The fixtures' buyer and order (events/commerce/checkout), and the fuzz clock.
const (
	fuzzBuyer     = "8d3c1f0a-5b2e-4c7d-9a1f-2e3d4c5b6a70"
	fuzzOrder     = "o_mfrggzdfmztwq2lknnwg23tpob"
	fuzzPaidOrder = "o_aaaaaaaaaaaaaaaaaaaaaaaaaa"
)

var fuzzNow = time.Date(2026, 1, 1, 0, 15, 0, 0, time.UTC)

// FuzzCheckoutHandler sends fuzzed API Gateway events (both routes of
// CommerceCheckoutFunction, built from events/commerce/checkout: body, Idempotency-Key
// and other headers, order id, query, principal) through Handler.Handle with the real
// idempotency middleware over in-memory orders (the fixture buyer's cart and a pending
// order without a session, plus a paid one), providers and idempotency
// records. For any input: no panic, no 5xx (the fake providers never fail), the error
// envelope on every 4xx, and after a 4xx no order was written and no idempotency
// record is left.
func FuzzCheckoutHandler(f *testing.F) {
	tg := fuzzhttp.New(f, "../../../template.yaml", "CommerceCheckoutFunction", "../../../events/commerce/checkout")
	tg.Seed(f,
		fuzzhttp.Input{Fixture: 0, Body: `{"provider":"xendit"}`, Headers: "idempotency-key: \"6f1c1f0e-3c5e-4a55-9a43-8b0f6d2b7e11\""},
		fuzzhttp.Input{Fixture: 0, Body: `{"provider":"midtrans"}`, Headers: "idempotency-key: short"},
		fuzzhttp.Input{Fixture: 0, Body: `{"provider":"midtrans"}`, Headers: "idempotency-key: reused-key-0001"},
		fuzzhttp.Input{Fixture: 2, Body: `{"provider":"paypal"}`, Base64: true, Auth: 4},
		fuzzhttp.Input{Fixture: 3, Body: `{"provider":"xendit"}`, Path: fuzzOrder},
		fuzzhttp.Input{Fixture: 3, Body: `{"provider":"midtrans"}`, Path: fuzzPaidOrder},
		fuzzhttp.Input{Fixture: 3, Body: `{"provider":"midtrans","extra":true}`, Path: "o_"},
		// A subject too long to key an idempotency record was a 500; now 401.
		fuzzhttp.Input{Fixture: 0, Body: `{"provider":"midtrans"}`, Auth: 6, Path: strings.Repeat("s", idempotency.MaxScopeLength+1)},
	)
	tg.Fuzz(f, func(t *testing.T, req httpapi.Request) {
		st := newFuzzOrders()
		keeper := &fuzzKeeper{records: map[string]*fuzzRecord{
			fuzzBuyer + "/reused-key-0001": {hash: []byte("another request"), done: true, response: []byte(`{"v":1,"status":201,"body":"{}"}`)},
		}}
		providers := map[string]payment.SessionCreator{order.ProviderMidtrans: fuzzProvider{"midtrans"}, order.ProviderXendit: fuzzProvider{"xendit"}}
		svc, err := checkout.NewService(st, providers, 15*time.Minute, slog.New(slog.DiscardHandler),
			checkout.WithClock(func() time.Time { return fuzzNow }))
		if err != nil {
			t.Fatal(err)
		}
		mw := idempotency.NewMiddleware(keeper, slog.New(slog.DiscardHandler), idempotency.WithMiddlewareClock(func() time.Time { return fuzzNow }))
		h := checkout.NewHandler(svc, mw, slog.New(slog.DiscardHandler))

		resp, err := h.Handle(context.Background(), req)
		fuzzhttp.Check(t, req, resp, err)

		if resp.StatusCode >= 400 {
			st.mu.Lock()
			defer st.mu.Unlock()
			keeper.mu.Lock()
			defer keeper.mu.Unlock()
			if st.writes > 0 || len(keeper.records) != 1 {
				t.Fatalf("%s answered %d after %d order writes, with %d idempotency records: %s",
					req.RouteKey, resp.StatusCode, st.writes, len(keeper.records), resp.Body)
			}
		}
	})
}

// fuzzOrders is checkout.Orders in memory: the fixture buyer's cart (one line) and
// orders by id.
type fuzzOrders struct {
	mu        sync.Mutex
	cartLines int
	orders    map[string]order.Order
	writes    int
	next      int
}

var _ checkout.Orders = (*fuzzOrders)(nil)

func newFuzzOrders() *fuzzOrders {
	line := order.Line{ProductID: "p_rocsknolsez4jj42y44l7ga3ou", Title: "Kopi Arabika Gayo 250 g", Quantity: 2,
		UnitPrice: money.Money{Amount: 85000, Currency: "IDR"}}
	pending := order.Order{
		ID: fuzzOrder, BuyerID: fuzzBuyer, OrderRef: "ref-1", Lines: []order.Line{line}, Currency: "IDR",
		Subtotal: money.Money{Amount: 170000, Currency: "IDR"}, Total: money.Money{Amount: 170000, Currency: "IDR"},
		Refunded: money.Money{Currency: "IDR"}, Status: order.StatusPendingPayment, Deadline: fuzzNow.Add(10 * time.Minute),
		Version: 1, CreatedAt: fuzzNow.Add(-5 * time.Minute), UpdatedAt: fuzzNow.Add(-5 * time.Minute),
	}
	paid := pending
	paid.ID, paid.Status, paid.PaymentProvider, paid.PaymentURL, paid.Version = fuzzPaidOrder, order.StatusPaid, order.ProviderXendit, "https://pay.example/x", 3
	return &fuzzOrders{cartLines: 1, orders: map[string]order.Order{pending.ID: pending, paid.ID: paid}}
}

func (s *fuzzOrders) Checkout(_ context.Context, in orders.CheckoutInput) (order.Order, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if in.BuyerID != fuzzBuyer || s.cartLines == 0 {
		return order.Order{}, orders.ErrCartEmpty
	}
	o := s.orders[fuzzOrder]
	s.next++
	o.ID = fmt.Sprintf("o_%026d", s.next)
	o.PaymentProvider, o.PaymentURL, o.Deadline = "", "", fuzzNow.Add(in.Window)
	s.orders[o.ID], s.cartLines = o, 0
	s.writes++
	return o, nil
}

func (s *fuzzOrders) AttachPayment(_ context.Context, known order.Order, ps orders.PaymentSession) (order.Order, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[known.ID]
	switch {
	case !ok:
		return order.Order{}, orders.ErrOrderNotFound
	case o.Status != order.StatusPendingPayment:
		return o, orders.ErrNotPending
	case o.PaymentURL != "" && o.PaymentProvider == ps.Provider:
		return o, nil
	case o.PaymentURL != "":
		return o, orders.ErrPaymentOpened
	}
	o.PaymentProvider, o.PaymentRef, o.PaymentURL, o.Version = ps.Provider, ps.Ref, ps.URL, o.Version+1
	s.orders[o.ID] = o
	s.writes++
	return o, nil
}

func (s *fuzzOrders) Get(_ context.Context, id string) (order.Order, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[id]
	if !ok || !order.ValidID(id) {
		return order.Order{}, orders.ErrOrderNotFound
	}
	return o, nil
}

// fuzzProvider opens a session for any valid request.
type fuzzProvider struct{ name string }

func (p fuzzProvider) CreateSession(_ context.Context, req payment.SessionRequest) (payment.Session, error) {
	if req.OrderID == "" || req.Amount.Amount <= 0 {
		return payment.Session{}, fmt.Errorf("%w: %+v", payment.ErrInvalidRequest, req)
	}
	return payment.Session{ProviderRef: p.name + "-" + req.OrderID, RedirectURL: "https://pay.example/" + p.name + "/" + req.OrderID}, nil
}

// fuzzKeeper is idempotency.Keeper in memory, keyed by scope and key.
type fuzzKeeper struct {
	mu      sync.Mutex
	records map[string]*fuzzRecord
	tokens  int
}

type fuzzRecord struct {
	hash     []byte
	token    string
	done     bool
	response []byte
}

func (k *fuzzKeeper) Begin(_ context.Context, scope, key string, hash []byte, _ time.Time) (idempotency.Outcome, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if r, ok := k.records[scope+"/"+key]; ok {
		switch {
		case string(r.hash) != string(hash):
			return idempotency.Outcome{Kind: idempotency.Mismatch}, nil
		case r.done:
			return idempotency.Outcome{Kind: idempotency.Replay, Response: r.response}, nil
		}
		return idempotency.Outcome{Kind: idempotency.InProgress, InProgressUntil: fuzzNow.Add(time.Minute)}, nil
	}
	k.tokens++
	tok := fmt.Sprint(k.tokens)
	k.records[scope+"/"+key] = &fuzzRecord{hash: hash, token: tok}
	return idempotency.Outcome{Kind: idempotency.Fresh, Token: tok}, nil
}

func (k *fuzzKeeper) Complete(_ context.Context, scope, key, token string, response []byte) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	r, ok := k.records[scope+"/"+key]
	if !ok || r.token != token || r.done {
		return idempotency.ErrLeaseLost
	}
	r.done, r.response = true, response
	return nil
}

func (k *fuzzKeeper) Release(_ context.Context, scope, key, token string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	r, ok := k.records[scope+"/"+key]
	if !ok || r.token != token || r.done {
		return idempotency.ErrLeaseLost
	}
	delete(k.records, scope+"/"+key)
	return nil
}
