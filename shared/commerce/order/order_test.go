package order_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/etalase/etalase/shared/commerce/ledger"
	"github.com/etalase/etalase/shared/commerce/money"
	"github.com/etalase/etalase/shared/commerce/order"
)

var t0 = time.Date(2026, 2, 3, 4, 5, 6, 7, time.UTC)

func idr(a int64) money.Money { return money.Money{Amount: a, Currency: "IDR"} }

// validOrder is a pending order of two lines, one of them attributed.
func validOrder() order.Order {
	return order.Order{
		ID:      "o_abcdefghijklmnopqrstuvwxyz",
		BuyerID: "buyer-0001",
		Lines: []order.Line{
			{ProductID: "p_aaaaaaaaaaaaaaaaaaaaaaaaaa", Title: "Kopi Gayo 250g", Quantity: 2, UnitPrice: idr(85000),
				Attribution: &order.Attribution{PromotionID: "pr_1", CreatorID: "creator-7"}},
			{ProductID: "p_bbbbbbbbbbbbbbbbbbbbbbbbbb", Title: "Teh Tarik", Quantity: 1, UnitPrice: idr(30000)},
		},
		Currency: "IDR", Subtotal: idr(200000), Total: idr(200000),
		Status: order.StatusPendingPayment, Deadline: t0.Add(time.Hour),
		Version: 1, CreatedAt: t0, UpdatedAt: t0,
	}
}

func TestValidate(t *testing.T) {
	if err := validOrder().Validate(); err != nil {
		t.Fatalf("valid order: %v", err)
	}
	for name, edit := range map[string]func(*order.Order){
		"bad id":            func(o *order.Order) { o.ID = "p_abcdefghijklmnopqrstuvwxyz" },
		"no buyer":          func(o *order.Order) { o.BuyerID = "" },
		"no lines":          func(o *order.Order) { o.Lines = nil; o.Subtotal, o.Total = idr(0), idr(0) },
		"zero quantity":     func(o *order.Order) { o.Lines[1].Quantity = 0 },
		"free line":         func(o *order.Order) { o.Lines[1].UnitPrice = idr(0) },
		"wrong subtotal":    func(o *order.Order) { o.Subtotal, o.Total = idr(199999), idr(199999) },
		"total differs":     func(o *order.Order) { o.Total = idr(1) },
		"mixed currency":    func(o *order.Order) { o.Lines[1].UnitPrice = money.Money{Amount: 30000, Currency: "USD"} },
		"half attribution":  func(o *order.Order) { o.Lines[0].Attribution.CreatorID = "" },
		"unknown status":    func(o *order.Order) { o.Status = "SHIPPED" },
		"no deadline":       func(o *order.Order) { o.Deadline = time.Time{} },
		"version 0":         func(o *order.Order) { o.Version = 0 },
		"over-refunded":     func(o *order.Order) { o.Refunded = idr(200001) },
		"unsupported money": func(o *order.Order) { o.Currency = "XXX" },
	} {
		o := validOrder()
		edit(&o)
		if err := o.Validate(); !errors.Is(err, order.ErrInvalidOrder) {
			t.Errorf("%s: err = %v, want ErrInvalidOrder", name, err)
		}
	}
}

func TestApply(t *testing.T) {
	o := validOrder()
	d, err := order.Transition(o.Status, order.Event{Kind: order.EventPaid})
	if err != nil {
		t.Fatal(err)
	}
	at := t0.Add(time.Minute)
	got := o.Apply(d, at)
	want := o
	want.Status, want.Version, want.UpdatedAt = order.StatusPaid, 2, at
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Apply (-want +got):\n%s", diff)
	}
	// Flags stick once set.
	late := validOrder()
	late.Status = order.StatusExpired
	d, _ = order.Transition(late.Status, order.Event{Kind: order.EventPaid})
	late = late.Apply(d, at)
	if late.Status != order.StatusPaidLate || !late.NeedsRefund {
		t.Errorf("late payment: %s, needsRefund %v", late.Status, late.NeedsRefund)
	}
	d, _ = order.Transition(late.Status, order.Event{Kind: order.EventPartiallyRefunded})
	if late2 := late.Apply(d, at); !late2.NeedsRefund || late2.Version != late.Version+1 || late2.Status != order.StatusPaidLate {
		t.Errorf("record-only after late payment: %+v", late2)
	}
	// A NoOp changes nothing, not even the version.
	d, _ = order.Transition(order.StatusPaid, order.Event{Kind: order.EventPending})
	paid := got
	if diff := cmp.Diff(paid, paid.Apply(d, at.Add(time.Hour))); diff != "" {
		t.Errorf("NoOp changed the order:\n%s", diff)
	}
}

func TestIDs(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		id, err := order.NewID()
		if err != nil {
			t.Fatal(err)
		}
		if !order.ValidID(id) || seen[id] {
			t.Fatalf("NewID = %q (valid %v, seen %v)", id, order.ValidID(id), seen[id])
		}
		seen[id] = true
	}
	for _, bad := range []string{"", "o_", "o_ABCDEFGHIJKLMNOPQRSTUVWXYZ", "o_abcdefghijklmnopqrstuvwxy", "x_abcdefghijklmnopqrstuvwxyz", "o_abcdefghijklmnopqrstuvwxyz1"} {
		if order.ValidID(bad) {
			t.Errorf("ValidID(%q) = true", bad)
		}
	}
}

func TestSum(t *testing.T) {
	got, err := order.Sum("IDR", validOrder().Lines)
	if err != nil || got != idr(200000) {
		t.Errorf("Sum = %v, %v", got, err)
	}
	huge := []order.Line{{ProductID: "p", Quantity: 1_000_000, UnitPrice: idr(money.MaxAmount)}}
	if _, err := order.Sum("IDR", huge); !errors.Is(err, money.ErrOutOfRange) {
		t.Errorf("overflowing sum: err = %v", err)
	}
}

// The order item's ledger head attributes are the ones package ledger conditions on.
func TestLedgerHeadAttributes(t *testing.T) {
	if order.AttrLedgerSeq != ledger.AttrHeadSeq || order.AttrLedgerHash != ledger.AttrHeadHash {
		t.Errorf("order (%s, %s) and ledger (%s, %s) disagree on the head's attributes",
			order.AttrLedgerSeq, order.AttrLedgerHash, ledger.AttrHeadSeq, ledger.AttrHeadHash)
	}
}

func TestItemRoundTrip(t *testing.T) {
	o := validOrder()
	o.PaymentProvider, o.PaymentRef, o.PaymentURL = order.ProviderMidtrans, "snap-token-1", "https://app.sandbox.midtrans.com/snap/v4/redirection/x"
	o.LedgerSeq, o.LedgerHash = 1, "ab"
	av, err := order.MarshalItem(o)
	if err != nil {
		t.Fatal(err)
	}
	got, err := order.UnmarshalItem(av)
	if err != nil {
		t.Fatal(err)
	}
	o.Refunded = idr(0) // stored as 0 in the order's currency
	if diff := cmp.Diff(o, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestTransactUpdateRefusesBadPairs(t *testing.T) {
	before := validOrder()
	d, _ := order.Transition(before.Status, order.Event{Kind: order.EventPaid})
	after := before.Apply(d, t0)
	if _, err := order.TransactUpdate("Orders", before, after); err != nil {
		t.Fatalf("valid update: %v", err)
	}
	skip := after
	skip.Version = before.Version + 2
	if _, err := order.TransactUpdate("Orders", before, skip); !errors.Is(err, order.ErrInvalidOrder) {
		t.Errorf("version skip: err = %v", err)
	}
	back := after
	before.LedgerSeq, back.LedgerSeq = 3, 2
	if _, err := order.TransactUpdate("Orders", before, back); !errors.Is(err, order.ErrInvalidOrder) {
		t.Errorf("ledger going back: err = %v", err)
	}
	if _, err := order.TransactPut("Orders", after); !errors.Is(err, order.ErrInvalidOrder) {
		t.Errorf("put of version 2: err = %v", err)
	}
}
