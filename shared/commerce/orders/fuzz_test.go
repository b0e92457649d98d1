package orders_test

import (
	"cmp"
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/etalase/etalase/infra/fuzzhttp"
	"github.com/etalase/etalase/shared/commerce/ledger"
	"github.com/etalase/etalase/shared/commerce/money"
	"github.com/etalase/etalase/shared/commerce/order"
	"github.com/etalase/etalase/shared/commerce/orders"
	"github.com/etalase/etalase/shared/platform/httpapi"
)

// The fixtures' order (events/commerce/orders), another buyer's, a paid one.
const (
	fuzzOrder      = "o_mfrggzdfmztwq2lknnwg23tpob"
	fuzzOtherOrder = "o_nbswy3dpeb3w64tmmqqq2lkn2a"
	fuzzPaidOrder  = "o_aaaaaaaaaaaaaaaaaaaaaaaaaa"
)

// FuzzOrdersHandler sends fuzzed API Gateway events (every route of
// CommerceOrdersFunction, built from events/commerce/orders: order id, query with
// limits and cursors, headers, body, principal) through Handler.Handle over an
// in-memory order store (the fixture buyer's pending and paid orders, another buyer's)
// and ledger. For any input: no panic, no 5xx, the error envelope on every 4xx, and a
// 4xx changes no order.
func FuzzOrdersHandler(f *testing.F) {
	tg := fuzzhttp.New(f, "../../../template.yaml", "CommerceOrdersFunction", "../../../events/commerce/orders")
	tg.Seed(f,
		fuzzhttp.Input{Fixture: 1, Path: fuzzOtherOrder},
		fuzzhttp.Input{Fixture: 1, Path: fuzzPaidOrder},
		fuzzhttp.Input{Fixture: 2, Path: fuzzOtherOrder, Auth: 4},
		fuzzhttp.Input{Fixture: 3, Query: "limit=1&cursor=fuzz:" + fuzzOrder},
		fuzzhttp.Input{Fixture: 3, Query: "limit=0&cursor=eyJjIjoiMjAyNi0wMS0wMVQwMDoxMDowMC4wMDAwMDAwMDBaIiwibyI6Im9fbWZyZ2d6ZGZtenR3cTJsa25ud2cyM3Rwb2IifQ"},
		fuzzhttp.Input{Fixture: 0, Path: fuzzOtherOrder, Auth: 3},
		fuzzhttp.Input{Fixture: 0, Route: 1, Path: fuzzOrder, Body: `{"x":1}`},
	)
	at := time.Date(2026, 1, 1, 0, 10, 0, 0, time.UTC)
	var entries []ledger.Entry
	var head ledger.Head
	for i, typ := range []string{ledger.TypeOrderCreated, ledger.TypePaymentOpened} {
		e, err := ledger.Next(head, fuzzOrder, typ, at.Add(time.Duration(i)*time.Second), map[string]any{"total": 170000})
		if err != nil {
			f.Fatal(err)
		}
		entries, head = append(entries, e), e.Head()
	}
	audit := ledger.NewAuditHandler(fuzzLedger{entries})
	tg.Fuzz(f, func(t *testing.T, req httpapi.Request) {
		st := newFuzzOrderStore(at)
		h := orders.NewHandler(st, audit, slog.New(slog.DiscardHandler))

		resp, err := h.Handle(context.Background(), req)
		fuzzhttp.Check(t, req, resp, err)

		if st.committed() > 0 && resp.StatusCode >= 400 {
			t.Fatalf("%s answered %d after a write: %s", req.RouteKey, resp.StatusCode, resp.Body)
		}
	})
}

// fuzzOrderStore is orders.OrderStore in memory with Apply's semantics: decide on the
// current order; an error or a NoOp writes nothing.
type fuzzOrderStore struct {
	mu     sync.Mutex
	orders map[string]order.Order
	writes int
	at     time.Time
}

var _ orders.OrderStore = (*fuzzOrderStore)(nil)

func newFuzzOrderStore(at time.Time) *fuzzOrderStore {
	const buyer = "8d3c1f0a-5b2e-4c7d-9a1f-2e3d4c5b6a70" // the fixtures' buyer
	line := order.Line{ProductID: "p_rocsknolsez4jj42y44l7ga3ou", Title: "Kopi Arabika Gayo 250 g", Quantity: 2,
		UnitPrice: money.Money{Amount: 85000, Currency: "IDR"}}
	o := order.Order{
		ID: fuzzOrder, BuyerID: buyer, OrderRef: "ref-1", Lines: []order.Line{line}, Currency: "IDR",
		Subtotal: money.Money{Amount: 170000, Currency: "IDR"}, Total: money.Money{Amount: 170000, Currency: "IDR"},
		Refunded: money.Money{Currency: "IDR"}, Status: order.StatusPendingPayment, PaymentProvider: order.ProviderMidtrans,
		PaymentURL: "https://app.sandbox.midtrans.com/snap/v4/redirection/tok", Deadline: at.Add(15 * time.Minute),
		Version: 2, CreatedAt: at, UpdatedAt: at,
	}
	other, paid := o, o
	other.ID, other.BuyerID = fuzzOtherOrder, "buyer-other"
	paid.ID, paid.Status, paid.CreatedAt = fuzzPaidOrder, order.StatusPaid, at.Add(-time.Hour)
	return &fuzzOrderStore{orders: map[string]order.Order{o.ID: o, other.ID: other, paid.ID: paid}, at: at}
}

func (s *fuzzOrderStore) committed() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writes
}

func (s *fuzzOrderStore) Get(_ context.Context, id string) (order.Order, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[id]
	if !order.ValidID(id) || !ok {
		return order.Order{}, orders.ErrOrderNotFound
	}
	return o, nil
}

// ListByBuyer pages newest first; its cursors are "fuzz:<order id>", anything else is
// ErrInvalidCursor (as the real store's decoding refuses what it did not encode).
func (s *fuzzOrderStore) ListByBuyer(_ context.Context, buyer, after string, limit int) (orders.Page, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []order.Order
	for _, o := range s.orders {
		if o.BuyerID == buyer {
			all = append(all, o)
		}
	}
	slices.SortFunc(all, func(a, b order.Order) int { return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(b.ID, a.ID)) })
	if after != "" {
		id, ok := strings.CutPrefix(after, "fuzz:")
		i := slices.IndexFunc(all, func(o order.Order) bool { return o.ID == id })
		if !ok || !order.ValidID(id) {
			return orders.Page{}, orders.ErrInvalidCursor
		}
		all = all[i+1:]
	}
	if limit <= 0 {
		limit = orders.DefaultListLimit
	}
	p := orders.Page{Orders: all}
	if len(all) > limit {
		p.Orders, p.Next = all[:limit], "fuzz:"+all[limit-1].ID
	}
	return p, nil
}

func (s *fuzzOrderStore) Apply(_ context.Context, id string, decide func(order.Order) (order.Decision, error), _ orders.LedgerEvent) (orders.Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[id]
	if !order.ValidID(id) || !ok {
		return orders.Result{}, orders.ErrOrderNotFound
	}
	d, err := decide(o)
	if err != nil || d.NoOp {
		return orders.Result{Order: o, Decision: d}, err
	}
	o = o.Apply(d, s.at.Add(time.Minute))
	s.orders[id] = o
	s.writes++
	return orders.Result{Order: o, Decision: d, Applied: true}, nil
}

// fuzzLedger is a ledger.Reader with one order's entries.
type fuzzLedger struct{ entries []ledger.Entry }

func (l fuzzLedger) Read(_ context.Context, id string) ([]ledger.Entry, error) {
	if id != fuzzOrder {
		return nil, nil
	}
	return l.entries, nil
}

func (l fuzzLedger) Head(_ context.Context, id string) (ledger.Head, error) {
	if id != fuzzOrder {
		return ledger.Head{}, ledger.ErrOrderNotFound
	}
	return l.entries[len(l.entries)-1].Head(), nil
}
