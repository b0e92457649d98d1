package orders_test

// Unit tests: the pure parts (building an order from a priced cart, availability,
// sale events, ledger data), and the HTTP handler over an in-memory store.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/etalase/etalase/infra/samtemplate"
	"github.com/etalase/etalase/shared/commerce/cart"
	"github.com/etalase/etalase/shared/commerce/ledger"
	"github.com/etalase/etalase/shared/commerce/money"
	"github.com/etalase/etalase/shared/commerce/order"
	"github.com/etalase/etalase/shared/commerce/orders"
	"github.com/etalase/etalase/shared/contract"
	"github.com/etalase/etalase/shared/contract/schemacheck"
	"github.com/etalase/etalase/shared/platform/httpapi"
)

var t0 = time.Date(2026, 1, 1, 0, 10, 0, 0, time.UTC)

func idr(a int64) money.Money { return money.Money{Amount: a, Currency: "IDR"} }

// priced is a priced cart of two lines, the first attributed to a promotion.
func priced() cart.PricedCart {
	c := cart.Cart{Owner: cart.Buyer("buyer-1"), Currency: "IDR", Version: 4}
	attr := &cart.Attribution{PromotionID: "promo-1", CreatorID: "creator-1", HandoffID: "jti-1", DisplayedPrice: idr(80000)}
	return cart.PricedCart{Cart: c, Total: idr(2*85000 + 30000), Lines: []cart.PricedLine{
		{Line: cart.Line{ProductID: "p_kopi", Quantity: 2, Attribution: attr}, Title: "Kopi Gayo", UnitPrice: idr(85000), LineTotal: idr(170000), Available: true, PriceChanged: true},
		{Line: cart.Line{ProductID: "p_teh", Quantity: 1}, Title: "Teh Melati", UnitPrice: idr(30000), LineTotal: idr(30000), Available: true},
	}}
}

const (
	orderID  = "o_mfrggzdfmztwq2lknnwg23tpob"
	orderRef = "or_mfrggzdfmztwq2lknnwg23tpob"
)

func TestBuildOrder(t *testing.T) {
	deadline := t0.Add(15 * time.Minute)
	got, err := orders.BuildOrder(priced(), "buyer-1", orderID, orderRef, t0, deadline)
	if err != nil {
		t.Fatal(err)
	}
	want := order.Order{
		ID: orderID, BuyerID: "buyer-1", OrderRef: orderRef, Currency: "IDR",
		Lines: []order.Line{
			{ProductID: "p_kopi", Title: "Kopi Gayo", Quantity: 2, UnitPrice: idr(85000), Attribution: &order.Attribution{PromotionID: "promo-1", CreatorID: "creator-1"}},
			{ProductID: "p_teh", Title: "Teh Melati", Quantity: 1, UnitPrice: idr(30000)},
		},
		Subtotal: idr(200000), Total: idr(200000), Refunded: money.Money{Currency: "IDR"},
		Status: order.StatusPendingPayment, Deadline: deadline, Version: 1, CreatedAt: t0, UpdatedAt: t0,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}

	// An unavailable line, no lines, or more lines than a transaction holds: no order.
	p := priced()
	p.Lines[1].Available, p.Lines[1].Reason = false, cart.ReasonDelisted
	if _, err := orders.BuildOrder(p, "buyer-1", orderID, orderRef, t0, deadline); !errors.Is(err, orders.ErrUnavailable) {
		t.Errorf("unavailable line: err = %v", err)
	}
	p.Lines = nil
	if _, err := orders.BuildOrder(p, "buyer-1", orderID, orderRef, t0, deadline); !errors.Is(err, orders.ErrCartEmpty) {
		t.Errorf("no lines: err = %v", err)
	}
	for i := range orders.MaxLines + 1 {
		p.Lines = append(p.Lines, cart.PricedLine{Line: cart.Line{ProductID: fmt.Sprintf("p_%d", i), Quantity: 1}, Title: "x", UnitPrice: idr(1), LineTotal: idr(1), Available: true})
	}
	if _, err := orders.BuildOrder(p, "buyer-1", orderID, orderRef, t0, deadline); !errors.Is(err, orders.ErrTooManyLines) {
		t.Errorf("%d lines: err = %v", len(p.Lines), err)
	}
	// 50 lines + the 4 fixed items fit in one transaction.
	if orders.MaxLines+4 > orders.MaxTransactItems {
		t.Errorf("checkout needs %d items, DynamoDB takes %d", orders.MaxLines+4, orders.MaxTransactItems)
	}
}

func TestAvailable(t *testing.T) {
	line := func(id string, ok bool, reason string) cart.PricedLine {
		return cart.PricedLine{Line: cart.Line{ProductID: id, Quantity: 1}, Available: ok, Reason: reason}
	}
	tests := []struct {
		name  string
		lines []cart.PricedLine
		want  error
	}{
		{"all available", []cart.PricedLine{line("a", true, ""), line("b", true, "")}, nil},
		{"short only", []cart.PricedLine{line("a", false, cart.ReasonOutOfStock), line("b", true, ""), line("c", false, cart.ReasonOutOfStock)},
			&orders.InsufficientStockError{ProductIDs: []string{"a", "c"}}},
		{"delisted and short", []cart.PricedLine{line("a", false, cart.ReasonOutOfStock), line("b", false, cart.ReasonDelisted)},
			&orders.UnavailableError{Lines: []orders.UnavailableLine{{"a", cart.ReasonOutOfStock}, {"b", cart.ReasonDelisted}}}},
		{"gone", []cart.PricedLine{line("a", false, cart.ReasonProductNotFound)},
			&orders.UnavailableError{Lines: []orders.UnavailableLine{{"a", cart.ReasonProductNotFound}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := orders.Available(cart.PricedCart{Lines: tt.lines})
			if diff := cmp.Diff(tt.want, err, cmp.Comparer(func(a, b error) bool { return fmt.Sprint(a) == fmt.Sprint(b) })); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if tt.want != nil && !errors.Is(err, orders.ErrInsufficientStock) && !errors.Is(err, orders.ErrUnavailable) {
				t.Errorf("%v matches no sentinel", err)
			}
		})
	}
}

// placed is a PENDING_PAYMENT order of priced().
func placed(t *testing.T) order.Order {
	t.Helper()
	o, err := orders.BuildOrder(priced(), "buyer-1", orderID, orderRef, t0, t0.Add(15*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	o.LedgerSeq, o.LedgerHash = 1, strings.Repeat("ab", 32)
	return o
}

func TestSaleEvents(t *testing.T) {
	v, err := schemacheck.New()
	if err != nil {
		t.Fatal(err)
	}
	o := placed(t)
	at := t0.Add(time.Minute)
	decide := func(from order.Status, kind order.EventKind) order.Decision {
		d, err := order.Transition(from, order.Event{Kind: kind})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	paid := orders.SaleEvents(o, decide(order.StatusPendingPayment, order.EventPaid), at)
	want := []orders.SaleEvent{{contract.EventSaleAttributed, contract.SaleAttributed{
		PromotionID: "promo-1", CreatorID: "creator-1", ProductID: "p_kopi", Quantity: 2,
		Amount: contract.Price{Amount: 170000, Currency: "IDR"}, OrderRef: orderRef, LineRef: "p_kopi", SoldAt: at,
	}}}
	if diff := cmp.Diff(want, paid); diff != "" {
		t.Errorf("paid (-want +got):\n%s", diff)
	}
	refunded := orders.SaleEvents(o, decide(order.StatusPaid, order.EventRefunded), at)
	if len(refunded) != 1 || refunded[0].Type != contract.EventSaleReversed {
		t.Fatalf("refunded = %+v", refunded)
	}
	for _, e := range append(paid, refunded...) {
		b, err := json.Marshal(e.Payload)
		if err != nil {
			t.Fatal(err)
		}
		if err := v.ValidatePayload(e.Type, contract.SalesSchemaVersion, b); err != nil {
			t.Errorf("%s breaks the contract: %v", e.Type, err)
		}
		if strings.Contains(string(b), orderID) || strings.Contains(string(b), "buyer-1") {
			t.Errorf("%s carries the order id or buyer: %s", e.Type, b)
		}
	}
	// Nothing for other changes, for a late payment's refund, or without an OrderRef.
	for name, d := range map[string]order.Decision{
		"expired":         decide(order.StatusPendingPayment, order.EventDeadlinePassed),
		"paid late":       decide(order.StatusExpired, order.EventPaid),
		"late refund":     decide(order.StatusPaidLate, order.EventRefunded),
		"replayed paid":   decide(order.StatusPaid, order.EventPaid),
		"partial refund":  decide(order.StatusPaid, order.EventPartiallyRefunded),
		"cancelled by mt": decide(order.StatusPendingPayment, order.EventCancelled),
	} {
		if got := orders.SaleEvents(o, d, at); len(got) != 0 {
			t.Errorf("%s: %d sale events", name, len(got))
		}
	}
	noRef := o
	noRef.OrderRef = ""
	if got := orders.SaleEvents(noRef, decide(order.StatusPendingPayment, order.EventPaid), at); len(got) != 0 {
		t.Errorf("without OrderRef: %+v", got)
	}
}

// memStore is an in-memory OrderStore with Apply's semantics (decide on the current
// order; NoOp writes nothing), for the handler's tests.
type memStore struct {
	mu     sync.Mutex
	orders map[string]order.Order
}

func (m *memStore) Get(_ context.Context, id string) (order.Order, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.orders[id]
	if !ok {
		return order.Order{}, orders.ErrOrderNotFound
	}
	return o, nil
}

func (m *memStore) ListByBuyer(_ context.Context, buyer, after string, limit int) (orders.Page, error) {
	if after != "" {
		return orders.Page{}, orders.ErrInvalidCursor
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var p orders.Page
	for _, o := range m.orders {
		if o.BuyerID == buyer {
			p.Orders = append(p.Orders, o)
		}
	}
	slices.SortFunc(p.Orders, func(a, b order.Order) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return p, nil
}

func (m *memStore) Apply(_ context.Context, id string, decide func(order.Order) (order.Decision, error), _ orders.LedgerEvent) (orders.Result, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.orders[id]
	if !ok {
		return orders.Result{}, orders.ErrOrderNotFound
	}
	d, err := decide(o)
	if err != nil || d.NoOp {
		return orders.Result{Order: o, Decision: d}, err
	}
	o = o.Apply(d, t0.Add(time.Minute))
	m.orders[id] = o
	return orders.Result{Order: o, Decision: d, Applied: true}, nil
}

// memLedger is a ledger.Reader with one order's two entries.
type memLedger struct{ entries []ledger.Entry }

func (l memLedger) Read(_ context.Context, id string) ([]ledger.Entry, error) {
	if len(l.entries) == 0 || l.entries[0].OrderID != id {
		return nil, nil
	}
	return l.entries, nil
}

func (l memLedger) Head(_ context.Context, id string) (ledger.Head, error) {
	if len(l.entries) == 0 || l.entries[0].OrderID != id {
		return ledger.Head{}, ledger.ErrOrderNotFound
	}
	return l.entries[len(l.entries)-1].Head(), nil
}

// fixture loads an API Gateway event of events/commerce/orders.
func fixture(t *testing.T, name string) httpapi.Request {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("../../../events/commerce/orders", name))
	if err != nil {
		t.Fatal(err)
	}
	var req httpapi.Request
	if err := json.Unmarshal(raw, &req); err != nil {
		t.Fatal(err)
	}
	return req
}

// fixtureBuyer is the subject of the fixtures' buyer token.
const fixtureBuyer = "8d3c1f0a-5b2e-4c7d-9a1f-2e3d4c5b6a70"

func newHandler(t *testing.T) (*orders.Handler, *memStore) {
	t.Helper()
	o := placed(t)
	o.BuyerID = fixtureBuyer
	o.PaymentProvider, o.PaymentURL = order.ProviderMidtrans, "https://app.sandbox.midtrans.com/snap/v4/redirection/tok"
	other := o
	other.ID, other.BuyerID = "o_nbswy3dpeb3w64tmmqqq2lkn2a", "buyer-other"
	paid := o
	paid.ID, paid.Status = "o_aaaaaaaaaaaaaaaaaaaaaaaaaa", order.StatusPaid
	st := &memStore{orders: map[string]order.Order{o.ID: o, other.ID: other, paid.ID: paid}}
	e1, err := ledger.Next(ledger.Head{}, o.ID, ledger.TypeOrderCreated, t0, map[string]any{"total": 200000})
	if err != nil {
		t.Fatal(err)
	}
	e2, err := ledger.Next(e1.Head(), o.ID, ledger.TypePaymentOpened, t0, nil)
	if err != nil {
		t.Fatal(err)
	}
	return orders.NewHandler(st, ledger.NewAuditHandler(memLedger{[]ledger.Entry{e1, e2}}), slog.New(slog.DiscardHandler)), st
}

func errorCode(t *testing.T, resp httpapi.Response) string {
	t.Helper()
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &e); err != nil {
		t.Fatalf("body %s: %v", resp.Body, err)
	}
	return e.Error.Code
}

func TestHandler(t *testing.T) {
	ctx := context.Background()
	h, st := newHandler(t)
	with := func(req httpapi.Request, id string) httpapi.Request {
		req.PathParameters = map[string]string{"orderId": id}
		return req
	}
	// Own order: 200 with the lines, amounts and the payment URL while pending.
	resp, _ := h.Handle(ctx, fixture(t, "get-order.json"))
	var body orders.OrderBody
	if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(resp.Body), &body) != nil {
		t.Fatalf("get own order = %d %s", resp.StatusCode, resp.Body)
	}
	if body.Status != "PENDING_PAYMENT" || len(body.Lines) != 2 || body.Total != (orders.MoneyBody{200000, "IDR"}) ||
		body.Lines[0].LineTotal != (orders.MoneyBody{170000, "IDR"}) || body.PaymentURL == nil {
		t.Errorf("order body = %+v", body)
	}
	// Another buyer's order and a malformed id: 404, exactly as a missing one.
	for _, id := range []string{"o_nbswy3dpeb3w64tmmqqq2lkn2a", "o_bbbbbbbbbbbbbbbbbbbbbbbbbb", "../x"} {
		if resp, _ := h.Handle(ctx, with(fixture(t, "get-order.json"), id)); resp.StatusCode != 404 || errorCode(t, resp) != orders.CodeOrderNotFound {
			t.Errorf("get %s = %d %s", id, resp.StatusCode, resp.Body)
		}
		if resp, _ := h.Handle(ctx, with(fixture(t, "cancel-order.json"), id)); resp.StatusCode != 404 {
			t.Errorf("cancel %s = %d %s", id, resp.StatusCode, resp.Body)
		}
	}
	if st.orders["o_nbswy3dpeb3w64tmmqqq2lkn2a"].Status != order.StatusPendingPayment {
		t.Error("another buyer's order was cancelled")
	}
	// List: own orders only; a bad limit or cursor is 400.
	resp, _ = h.Handle(ctx, fixture(t, "list-orders.json"))
	var list struct {
		Orders     []orders.OrderBody `json:"orders"`
		NextCursor *string            `json:"nextCursor"`
	}
	if resp.StatusCode != 200 || json.Unmarshal([]byte(resp.Body), &list) != nil || len(list.Orders) != 2 || list.NextCursor != nil {
		t.Errorf("list = %d %s", resp.StatusCode, resp.Body)
	}
	bad := fixture(t, "list-orders.json")
	bad.QueryStringParameters = map[string]string{"limit": "0"}
	if resp, _ := h.Handle(ctx, bad); resp.StatusCode != 400 || errorCode(t, resp) != httpapi.CodeValidationFailed {
		t.Errorf("limit 0 = %d %s", resp.StatusCode, resp.Body)
	}
	bad.QueryStringParameters = map[string]string{"cursor": "nope"}
	if resp, _ := h.Handle(ctx, bad); resp.StatusCode != 400 || errorCode(t, resp) != orders.CodeInvalidCursor {
		t.Errorf("bad cursor = %d %s", resp.StatusCode, resp.Body)
	}
	// Cancel: pending → CANCELLED (no payment URL any more); again → 200, unchanged;
	// a paid order → 409.
	resp, _ = h.Handle(ctx, fixture(t, "cancel-order.json"))
	if resp.StatusCode != 200 || json.Unmarshal([]byte(resp.Body), &body) != nil || body.Status != "CANCELLED" || body.PaymentURL != nil {
		t.Errorf("cancel = %d %s", resp.StatusCode, resp.Body)
	}
	version := st.orders[orderID].Version
	if resp, _ := h.Handle(ctx, fixture(t, "cancel-order.json")); resp.StatusCode != 200 || st.orders[orderID].Version != version {
		t.Errorf("cancel again = %d %s (version %d → %d)", resp.StatusCode, resp.Body, version, st.orders[orderID].Version)
	}
	if resp, _ := h.Handle(ctx, with(fixture(t, "cancel-order.json"), "o_aaaaaaaaaaaaaaaaaaaaaaaaaa")); resp.StatusCode != 409 || errorCode(t, resp) != orders.CodeOrderNotCancellable {
		t.Errorf("cancel paid = %d %s", resp.StatusCode, resp.Body)
	}
	// Scopes: a buyer token on the audit route and an auditor token on a buyer route are 403.
	audit := fixture(t, "audit-ledger.json")
	resp, _ = h.Handle(ctx, audit)
	var ledgerBody struct {
		Entries      []json.RawMessage `json:"entries"`
		Verification struct{ OK bool } `json:"verification"`
	}
	if resp.StatusCode != 200 || json.Unmarshal([]byte(resp.Body), &ledgerBody) != nil || len(ledgerBody.Entries) != 2 || !ledgerBody.Verification.OK {
		t.Errorf("audit = %d %s", resp.StatusCode, resp.Body)
	}
	asBuyer := audit
	asBuyer.RequestContext.Authorizer = fixture(t, "get-order.json").RequestContext.Authorizer
	if resp, _ := h.Handle(ctx, asBuyer); resp.StatusCode != 403 {
		t.Errorf("audit with a buyer token = %d", resp.StatusCode)
	}
	asAuditor := fixture(t, "get-order.json")
	asAuditor.RequestContext.Authorizer = audit.RequestContext.Authorizer
	if resp, _ := h.Handle(ctx, asAuditor); resp.StatusCode != 403 {
		t.Errorf("get order with an auditor token = %d", resp.StatusCode)
	}
}

// The handler serves exactly the routes template.yaml gives CommerceOrdersFunction,
// with their scopes, and each is in api/commerce.yaml with the error codes it answers.
func TestRoutesMatchTemplateAndSpec(t *testing.T) {
	tpl, err := samtemplate.Load("../../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fn, err := tpl.Function("CommerceOrdersFunction")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, ev := range fn.Events() {
		if ev.Type == "HttpApi" {
			a, _ := ev.Properties["Auth"].(map[string]any)
			got[fmt.Sprintf("%v %v", ev.Properties["Method"], ev.Properties["Path"])] = fmt.Sprint(a["AuthorizationScopes"])
		}
	}
	want := map[string]string{
		orders.RouteListOrders: "[buyer]", orders.RouteGetOrder: "[buyer]", orders.RouteCancelOrder: "[buyer]",
		orders.RouteAuditLedger: "[auditor]",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("template routes (-want +got):\n%s", diff)
	}
	h, _ := newHandler(t)
	if diff := cmp.Diff(slices.Sorted(func(yield func(string) bool) {
		for k := range want {
			if !yield(k) {
				return
			}
		}
	}), h.RouteKeys()); diff != "" {
		t.Errorf("handler routes (-template +handler):\n%s", diff)
	}
	CheckSpec(t, "../../../api/commerce.yaml", h.RouteKeys(), []string{
		orders.CodeOrderNotFound, orders.CodeOrderNotCancellable, orders.CodeInvalidCursor, orders.CodeConflict,
		httpapi.CodeValidationFailed, httpapi.CodeUnauthenticated, httpapi.CodeForbidden, httpapi.CodeInternal,
	})
}

// CheckSpec checks that every route is a path and method of the OpenAPI document and
// every code is in the enum of an error response there.
func CheckSpec(t *testing.T, path string, routes, codes []string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	enums := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if m, ok := x["code"].(map[string]any); ok {
				enum, _ := m["enum"].([]any)
				for _, e := range enum {
					enums[fmt.Sprint(e)] = true
				}
			}
			for _, c := range x {
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(doc)
	for _, c := range codes {
		if !enums[c] {
			t.Errorf("code %s is in no error response of %s", c, path)
		}
	}
	paths, _ := doc["paths"].(map[string]any)
	for _, r := range routes {
		method, p, _ := strings.Cut(r, " ")
		ops, _ := paths[p].(map[string]any)
		if _, ok := ops[strings.ToLower(method)]; !ok {
			t.Errorf("%s is not in %s", r, path)
		}
	}
}
