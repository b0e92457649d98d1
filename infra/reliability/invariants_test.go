package reliability

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/etalase/etalase/shared/commerce/ledger"
	"github.com/etalase/etalase/shared/commerce/money"
	"github.com/etalase/etalase/shared/commerce/order"
	"github.com/etalase/etalase/shared/commerce/orders"
	"github.com/etalase/etalase/shared/commerce/outbox"
	"github.com/etalase/etalase/shared/contract"
)

// Unit tests of Check on states built by hand: a consistent one passes, and each kind
// of breakage is reported. No emulator needed.

var at = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// builder makes a consistent State, one order at a time.
type builder struct {
	t  *testing.T
	s  State
	ev int
}

func newBuilder(t *testing.T) *builder {
	return &builder{t: t, s: State{Products: map[string]Product{}, Orders: map[string]order.Order{}, Ledgers: map[string][]ledger.Entry{},
		Social: Social{Markers: map[string]string{}, Lines: map[string]SocialLine{}}}}
}

func (b *builder) record(typ, aggregate string, payload any) outbox.Record {
	b.ev++
	p, _ := json.Marshal(payload)
	r := outbox.Record{EventID: "ev-" + string(rune('a'+b.ev)), EventType: typ, AggregateID: aggregate, SchemaVersion: 1, OccurredAt: at, Payload: string(p)}
	b.s.Outbox = append(b.s.Outbox, r)
	return r
}

func (b *builder) append(o *order.Order, typ string, data map[string]any) {
	e, err := ledger.Next(ledger.Head{Seq: o.LedgerSeq, Hash: o.LedgerHash}, o.ID, typ, at, data)
	if err != nil {
		b.t.Fatal(err)
	}
	b.s.Ledgers[o.ID] = append(b.s.Ledgers[o.ID], e)
	o.LedgerSeq, o.LedgerHash = e.Seq, e.Hash
}

// order adds an order of qty units of product (attributed when attributed), moved
// through path, with everything a real one leaves behind.
func (b *builder) order(id, product string, qty int64, attributed bool, path ...order.Status) order.Order {
	o := order.Order{ID: id, BuyerID: "buyer", OrderRef: "or_" + id, Currency: "IDR", Status: order.StatusPendingPayment,
		Lines: []order.Line{{ProductID: product, Title: "Kopi", Quantity: qty, UnitPrice: money.Money{Amount: 1000, Currency: "IDR"}}}}
	if attributed {
		o.Lines[0].Attribution = &order.Attribution{PromotionID: "promo", CreatorID: "creator"}
	}
	b.append(&o, ledger.TypeOrderCreated, map[string]any{"status": "PENDING_PAYMENT"})
	b.record(orders.EventOrderCreated, id, orders.OrderCreated{OrderID: id})
	for _, next := range path {
		release := o.Status == order.StatusPendingPayment && (next == order.StatusExpired || next == order.StatusCancelled || next == order.StatusFailed)
		data := map[string]any{"from": string(o.Status), "to": string(next)}
		if release {
			data["releaseStock"] = true
		}
		b.append(&o, ledger.TypeStatusChanged, data)
		b.record(orders.EventOrderStatusChanged, id, orders.OrderStatusChanged{OrderID: id, From: string(o.Status), To: string(next), ReleaseStock: release})
		if attributed && next == order.StatusPaid {
			r := b.record(contract.EventSaleAttributed, id, contract.SaleAttributed{OrderRef: o.OrderRef, LineRef: product, Quantity: int(qty),
				Amount: contract.Price{Amount: 1000 * qty, Currency: "IDR"}})
			b.s.Social.Markers[r.EventID] = contract.EventSaleAttributed
			b.s.Social.Lines[o.OrderRef+"#"+product] = SocialLine{Attributed: true, Quantity: qty, Amount: 1000 * qty}
			b.s.Social.Sales++
		}
		o.Status = next
	}
	b.s.Orders[id] = o
	return o
}

func (b *builder) product(id string, stock int64) {
	b.s.Products[id] = Product{ID: id, Stock: stock, Status: "LISTED"}
}

// consistent is product p (initial 10): 2 sold and paid with attribution, 3 paid
// without, 1 expired (released), 1 paid late (released), 4 in stock.
func consistent(t *testing.T) (*builder, Expect) {
	b := newBuilder(t)
	b.order("o_paid", "p", 2, true, order.StatusPaid)
	b.order("o_plain", "p", 3, false, order.StatusPaid)
	b.order("o_expired", "p", 1, true, order.StatusExpired)
	b.order("o_late", "p", 1, true, order.StatusExpired, order.StatusPaidLate)
	b.product("p", 5)
	b.s.PaymentEvents = []PaymentEvent{{Key: "xendit/inv:PAID", OrderID: "o_paid", Status: "PAID", Processed: true}}
	b.s.Queues = []Queue{{Side: "commerce", ID: "ExpiryQueue", Delayed: 2}, {Side: "commerce", ID: "ExpiryDLQ", DLQ: true}}
	return b, Expect{Initial: map[string]int64{"p": 10}, AllowedFinal: map[string][]order.Status{"o_paid": {order.StatusPaid}}}
}

func TestCheckConsistent(t *testing.T) {
	b, x := consistent(t)
	rep := Check(b.s, x)
	if len(rep.Violations) > 0 {
		t.Fatalf("violations of a consistent state:\n%s", strings.Join(rep.Violations, "\n"))
	}
	f := rep.Figures
	if f.Stock != 5 || f.Sold != 5 || f.Reserved != 0 || f.Initial != 10 || f.Transitions != 5 || f.SaleAttributed != 1 || f.Social != 1 || f.Scheduled != 2 {
		t.Errorf("figures %s", f)
	}
}

func TestCheckFindsViolations(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(b *builder, x *Expect)
		want   string
	}{
		{"oversold", func(b *builder, x *Expect) { b.product("p", 4) }, "stock 4 + reserved 0 + sold 5 = 9, want the initial 10"},
		{"negative stock", func(b *builder, x *Expect) { b.product("p", -1) }, "stock -1 below zero"},
		{"stock released twice", func(b *builder, x *Expect) { b.product("p", 6) }, "= 11, want the initial 10"},
		{"unknown product", func(b *builder, x *Expect) { b.product("q", 1) }, "product q: not created by the scenario"},
		{"pending after settling", func(b *builder, x *Expect) { b.order("o_pending", "p", 1, false); b.product("p", 4) }, "still PENDING_PAYMENT"},
		{"a transition recorded twice", func(b *builder, x *Expect) {
			o := b.s.Orders["o_plain"]
			b.append(&o, ledger.TypeStatusChanged, map[string]any{"from": "PENDING_PAYMENT", "to": "PAID"})
			b.s.Orders["o_plain"] = o
		}, "changes PENDING_PAYMENT → PAID, but the order was PAID"},
		{"ledger tampered", func(b *builder, x *Expect) {
			b.s.Ledgers["o_paid"][1].Data = []byte(`{"from":"PENDING_PAYMENT","to":"PAID","x":1}`)
		}, "ledger does not verify"},
		{"status without a ledger entry", func(b *builder, x *Expect) {
			o := b.s.Orders["o_plain"]
			o.Status = order.StatusRefunded
			b.s.Orders["o_plain"] = o
		}, "is REFUNDED, but its ledger's transitions end at PAID"},
		{"release on a payment", func(b *builder, x *Expect) {
			b.order("o_bad", "p", 1, false, order.StatusExpired)
			o := b.s.Orders["o_bad"]
			b.append(&o, ledger.TypeStatusChanged, map[string]any{"from": "EXPIRED", "to": "PAID_LATE", "releaseStock": true})
			o.Status = order.StatusPaidLate
			b.s.Orders["o_bad"] = o
			b.record(orders.EventOrderStatusChanged, "o_bad", orders.OrderStatusChanged{From: "EXPIRED", To: "PAID_LATE", ReleaseStock: true})
			x.Initial["p"] = 11
		}, "EXPIRED → PAID_LATE with releaseStock true"},
		{"an event published twice", func(b *builder, x *Expect) {
			b.record(orders.EventOrderStatusChanged, "o_plain", orders.OrderStatusChanged{From: "PENDING_PAYMENT", To: "PAID"})
		}, "OrderStatusChanged records"},
		{"a sale attributed twice", func(b *builder, x *Expect) {
			r := b.record(contract.EventSaleAttributed, "o_paid", contract.SaleAttributed{OrderRef: "or_o_paid", LineRef: "p", Quantity: 2, Amount: contract.Price{Amount: 2000, Currency: "IDR"}})
			b.s.Social.Markers[r.EventID] = contract.EventSaleAttributed
			b.s.Social.Sales++
		}, "2 SaleAttributed and 0 SaleReversed records, want 1 and 0"},
		{"a sale never attributed", func(b *builder, x *Expect) {
			b.order("o_paid2", "p", 1, true, order.StatusPaid)
			b.s.Outbox = b.s.Outbox[:len(b.s.Outbox)-2]
			b.record(orders.EventOrderStatusChanged, "o_paid2", orders.OrderStatusChanged{From: "PENDING_PAYMENT", To: "PAID"})
			delete(b.s.Social.Lines, "or_o_paid2#p")
			b.s.Social.Sales--
			x.Initial["p"] = 11
		}, "0 SaleAttributed and 0 SaleReversed records, want 1 and 0"},
		{"lost at social", func(b *builder, x *Expect) {
			for id := range b.s.Social.Markers {
				delete(b.s.Social.Markers, id)
			}
		}, "social has no applied marker"},
		{"applied twice at social", func(b *builder, x *Expect) { b.s.Social.Sales = 2 }, "earnings count 2 sales"},
		{"wrong final status", func(b *builder, x *Expect) { x.AllowedFinal["o_plain"] = []order.Status{order.StatusExpired} }, "o_plain is PAID, want one of [EXPIRED]"},
		{"an order no client knows", func(b *builder, x *Expect) {
			x.Known = map[string]bool{"o_paid": true, "o_plain": true, "o_expired": true}
		}, "o_late (PAID_LATE) was placed but no client knows it"},
		{"amount mismatches", func(b *builder, x *Expect) { x.AmountMismatches = map[string]int{"o_paid": 1} }, "0 amount_mismatch entries in its ledger, want 1"},
		{"a notification lost", func(b *builder, x *Expect) {
			b.s.PaymentEvents = append(b.s.PaymentEvents, PaymentEvent{Key: "xendit/inv2:PAID", OrderID: "o_plain"})
		}, "stored but never processed, and is in no dead-letter queue"},
		{"messages left", func(b *builder, x *Expect) { b.s.Queues[0].Visible = 1 }, "queue commerce/ExpiryQueue still has 1 messages"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, x := consistent(t)
			tc.mutate(b, &x)
			rep := Check(b.s, x)
			found := false
			for _, v := range rep.Violations {
				found = found || strings.Contains(v, tc.want)
			}
			if !found {
				t.Errorf("no violation containing %q in:\n%s", tc.want, strings.Join(rep.Violations, "\n"))
			}
		})
	}

	t.Run("a notification in a dead-letter queue is accounted for", func(t *testing.T) {
		b, x := consistent(t)
		b.s.PaymentEvents = append(b.s.PaymentEvents, PaymentEvent{Key: "xendit/inv2:PAID", OrderID: "o_plain"})
		b.s.Queues[1].Visible, b.s.Queues[1].Bodies = 1, []string{`{"key":"xendit/inv2:PAID"}`}
		if rep := Check(b.s, x); len(rep.Violations) > 0 || rep.Figures.DLQ != 1 || len(rep.Figures.DLQBodies) != 1 {
			t.Errorf("violations %v, figures %s", rep.Violations, rep.Figures)
		}
	})
}
