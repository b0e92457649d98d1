package cart

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/etalase/etalase/shared/commerce/catalog"
	"github.com/etalase/etalase/shared/commerce/money"
)

var t0 = time.Date(2026, 1, 5, 9, 30, 0, 0, time.UTC)

func idr(n int64) money.Money { return money.Money{Amount: n, Currency: "IDR"} }

func prod(id string, price money.Money, stock int64) Product {
	return Product{ID: id, Title: "Produk " + id, ImageURL: "/assets/" + id + ".jpg", Price: price, Stock: stock, Listed: true}
}

// pid returns a valid-looking product id for n.
func pid(n int) string { d := digits(n); return "p_" + strings.Repeat("a", 26-len(d)) + d }

// digits spells n in the base32 alphabet's letters, so ids stay valid.
func digits(n int) string {
	const alpha = "bcdefghijk"
	s := fmt.Sprint(n)
	out := make([]byte, len(s))
	for i := range s {
		out[i] = alpha[s[i]-'0']
	}
	return string(out)
}

func attr(handoff string, displayed money.Money, at time.Time) *Attribution {
	return &Attribution{PromotionID: "promo-" + handoff, CreatorID: "creator-" + handoff, HandoffID: handoff, DisplayedPrice: displayed, AttributedAt: at}
}

func mustAdd(t *testing.T, c Cart, p Product, qty int, a *Attribution, now time.Time) Cart {
	t.Helper()
	next, _, err := c.add(p, qty, a, now)
	if err != nil {
		t.Fatalf("add %s x%d: %v", p.ID, qty, err)
	}
	return next
}

func TestProductIDHelper(t *testing.T) {
	for _, n := range []int{1, 42, 999} {
		if id := pid(n); !catalog.ValidProductID(id) {
			t.Fatalf("pid(%d) = %q", n, id)
		}
	}
	if pid(1) == pid(2) {
		t.Fatal("pid is not injective")
	}
}

func TestAddRules(t *testing.T) {
	kopi := prod(pid(1), idr(85000), 10)
	teh := prod(pid(2), idr(30000), 5)
	usd := prod(pid(3), money.Money{Amount: 1200, Currency: "USD"}, 5)
	delisted := kopi
	delisted.ID, delisted.Listed = pid(4), false
	empty := prod(pid(5), idr(1000), 0)

	full := Empty(Buyer("b1"))
	for i := range MaxLines {
		full = mustAdd(t, full, prod(pid(100+i), idr(1000), 10), 1, nil, t0)
	}

	tests := []struct {
		name    string
		cart    Cart
		p       Product
		qty     int
		want    error
		wantQty int
	}{
		{"first line", Empty(Buyer("b1")), kopi, 2, nil, 2},
		{"quantity 99", Empty(Buyer("b1")), prod(pid(6), idr(1), 1000), 99, nil, 99},
		{"quantity 0", Empty(Buyer("b1")), kopi, 0, ErrQuantity, 0},
		{"quantity 100", Empty(Buyer("b1")), kopi, 100, ErrQuantity, 0},
		{"negative quantity", Empty(Buyer("b1")), kopi, -1, ErrQuantity, 0},
		{"adds to the line", mustAdd(t, Empty(Buyer("b1")), kopi, 3, nil, t0), kopi, 4, nil, 7},
		{"line beyond 99", mustAdd(t, Empty(Buyer("b1")), prod(pid(6), idr(1), 1000), 60, nil, t0), prod(pid(6), idr(1), 1000), 40, ErrQuantityLimit, 0},
		{"delisted", Empty(Buyer("b1")), delisted, 1, ErrDelisted, 0},
		{"no stock", Empty(Buyer("b1")), empty, 1, ErrOutOfStock, 0},
		{"more than the stock", Empty(Buyer("b1")), teh, 6, ErrOutOfStock, 0},
		{"line grows beyond the stock", mustAdd(t, Empty(Buyer("b1")), teh, 4, nil, t0), teh, 2, ErrOutOfStock, 0},
		{"exactly the stock", mustAdd(t, Empty(Buyer("b1")), teh, 4, nil, t0), teh, 1, nil, 5},
		{"other currency", mustAdd(t, Empty(Buyer("b1")), kopi, 1, nil, t0), usd, 1, ErrCurrencyMismatch, 0},
		{"51st line", full, kopi, 1, ErrCartFull, 0},
		{"existing line of a full cart", full, prod(pid(100), idr(1000), 10), 1, nil, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := tt.cart.clone()
			next, line, err := tt.cart.add(tt.p, tt.qty, nil, t0.Add(time.Minute))
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if diff := cmp.Diff(before, tt.cart); diff != "" {
				t.Errorf("add changed its receiver (-before +after):\n%s", diff)
			}
			if err != nil {
				return
			}
			if line.Quantity != tt.wantQty || next.Lines[tt.p.ID].Quantity != tt.wantQty {
				t.Errorf("quantity = %d (cart %d), want %d", line.Quantity, next.Lines[tt.p.ID].Quantity, tt.wantQty)
			}
			if next.Currency != tt.p.Price.Currency {
				t.Errorf("currency = %q", next.Currency)
			}
		})
	}
}

// A new attribution replaces the line's (the most recent wins); a direct purchase
// keeps it; the token id is remembered for idempotent redemption.
func TestAddAttribution(t *testing.T) {
	kopi := prod(pid(1), idr(85000), 50)
	c := mustAdd(t, Empty(Guest("g")), kopi, 1, attr("t1", idr(80000), t0), t0)
	c = mustAdd(t, c, kopi, 1, nil, t0.Add(time.Minute))
	if a := c.Lines[kopi.ID].Attribution; a == nil || a.HandoffID != "t1" {
		t.Fatalf("a direct purchase dropped the attribution: %+v", a)
	}
	c = mustAdd(t, c, kopi, 1, attr("t2", idr(85000), t0.Add(2*time.Minute)), t0.Add(2*time.Minute))
	l := c.Lines[kopi.ID]
	if l.Quantity != 3 || l.Attribution.HandoffID != "t2" || l.Attribution.CreatorID != "creator-t2" {
		t.Errorf("line = %+v %+v, want 3 units attributed to t2", l, l.Attribution)
	}
	if !l.AddedAt.Equal(t0) || !l.UpdatedAt.Equal(t0.Add(2*time.Minute)) {
		t.Errorf("addedAt %v updatedAt %v", l.AddedAt, l.UpdatedAt)
	}
	if diff := cmp.Diff([]string{"t1", "t2"}, c.Redeemed); diff != "" {
		t.Errorf("redeemed (-want +got):\n%s", diff)
	}
}

func TestRedeemedIsBounded(t *testing.T) {
	var s []string
	for i := range maxRedeemed + 5 {
		s = appendBounded(s, maxRedeemed, fmt.Sprint(i))
	}
	if len(s) != maxRedeemed || s[0] != "5" || s[len(s)-1] != fmt.Sprint(maxRedeemed+4) {
		t.Errorf("len %d, first %s, last %s", len(s), s[0], s[len(s)-1])
	}
}

func TestSetQuantity(t *testing.T) {
	teh := prod(pid(2), idr(30000), 5)
	c := mustAdd(t, Empty(Buyer("b")), teh, 3, nil, t0)
	soldOut := teh
	soldOut.Stock = 0
	delisted := teh
	delisted.Listed = false
	tests := []struct {
		name string
		id   string
		qty  int
		p    *Product
		want error
	}{
		{"raise within stock", teh.ID, 5, &teh, nil},
		{"raise beyond stock", teh.ID, 6, &teh, ErrOutOfStock},
		{"lower while sold out", teh.ID, 1, &soldOut, nil},
		{"raise while sold out", teh.ID, 4, &soldOut, ErrOutOfStock},
		{"lower while delisted", teh.ID, 2, &delisted, nil},
		{"raise while delisted", teh.ID, 4, &delisted, ErrDelisted},
		{"lower when the product is gone", teh.ID, 1, nil, nil},
		{"raise when the product is gone", teh.ID, 4, nil, ErrProductNotFound},
		{"zero", teh.ID, 0, &teh, ErrQuantity},
		{"100", teh.ID, 100, &teh, ErrQuantity},
		{"no such line", pid(9), 1, &teh, ErrLineNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next, line, err := c.setQuantity(tt.id, tt.qty, tt.p, t0.Add(time.Hour))
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if c.Lines[teh.ID].Quantity != 3 {
				t.Error("setQuantity changed its receiver")
			}
			if err == nil && (line.Quantity != tt.qty || next.Lines[tt.id].Quantity != tt.qty) {
				t.Errorf("quantity %d, want %d", line.Quantity, tt.qty)
			}
		})
	}
}

func TestMerge(t *testing.T) {
	kopi := prod(pid(1), idr(85000), 500)
	teh := prod(pid(2), idr(30000), 500)
	gula := prod(pid(3), idr(15000), 500)
	buyer := mustAdd(t, Empty(Buyer("b")), kopi, 60, attr("old", idr(85000), t0), t0)
	buyer = mustAdd(t, buyer, teh, 1, attr("buyer-new", idr(30000), t0.Add(3*time.Hour)), t0.Add(3*time.Hour))
	buyer.MergedGuests = []string{"g_earlier"}
	guest := mustAdd(t, Empty(Guest("g1")), kopi, 50, attr("newer", idr(80000), t0.Add(time.Hour)), t0.Add(time.Hour))
	guest = mustAdd(t, guest, teh, 2, attr("guest-old", idr(30000), t0.Add(time.Hour)), t0.Add(time.Hour))
	guest = mustAdd(t, guest, gula, 3, nil, t0.Add(2*time.Hour))

	got, n, err := buyer.merge(guest, "g1")
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 || len(got.Lines) != 3 {
		t.Fatalf("merged %d lines into %d, want 3 into 3", n, len(got.Lines))
	}
	if l := got.Lines[kopi.ID]; l.Quantity != MaxQuantity || l.Attribution.HandoffID != "newer" || !l.AddedAt.Equal(t0) {
		t.Errorf("kopi: %d units, attribution %s, added %v; want 99 (capped), the guest's newer attribution, the buyer's earlier addedAt",
			l.Quantity, l.Attribution.HandoffID, l.AddedAt)
	}
	if l := got.Lines[teh.ID]; l.Quantity != 3 || l.Attribution.HandoffID != "buyer-new" {
		t.Errorf("teh: %d units, attribution %s; want 3 and the buyer's newer attribution", l.Quantity, l.Attribution.HandoffID)
	}
	if l := got.Lines[gula.ID]; l.Quantity != 3 || l.Attribution != nil {
		t.Errorf("gula: %+v", l)
	}
	if diff := cmp.Diff([]string{"g_earlier", "g1"}, got.MergedGuests); diff != "" {
		t.Errorf("merged guests (-want +got):\n%s", diff)
	}
	for _, id := range []string{"old", "buyer-new", "newer", "guest-old"} {
		if !contains(got.Redeemed, id) {
			t.Errorf("redeemed lacks %s: %v", id, got.Redeemed)
		}
	}
	if buyer.Lines[kopi.ID].Quantity != 60 || guest.Lines[kopi.ID].Quantity != 50 {
		t.Error("merge changed its inputs")
	}
	got.Lines[kopi.ID].Attribution.CreatorID = "mutated"
	if guest.Lines[kopi.ID].Attribution.CreatorID == "mutated" {
		t.Error("the merged cart shares an attribution with the guest cart")
	}

	// Into an empty buyer cart: the guest's lines and currency.
	fresh, n, err := Empty(Buyer("b2")).merge(guest, "g1")
	if err != nil || n != 3 || fresh.Currency != "IDR" || fresh.ItemCount() != 55 {
		t.Errorf("into an empty cart: %d lines, %s, %d items, %v", n, fresh.Currency, fresh.ItemCount(), err)
	}

	usd := mustAdd(t, Empty(Guest("g2")), prod(pid(4), money.Money{Amount: 100, Currency: "USD"}, 9), 1, nil, t0)
	if _, _, err := buyer.merge(usd, "g2"); !errors.Is(err, ErrCurrencyMismatch) {
		t.Errorf("currency mismatch: err = %v", err)
	}
	big := Empty(Guest("g3"))
	for i := range MaxLines - 1 {
		big = mustAdd(t, big, prod(pid(200+i), idr(10), 9), 1, nil, t0)
	}
	if _, _, err := buyer.merge(big, "g3"); !errors.Is(err, ErrCartFull) {
		t.Errorf("51 lines: err = %v", err)
	}
	big = mustAdd(t, Empty(Guest("g4")), kopi, 1, nil, t0)
	for i := range MaxLines - 2 {
		big = mustAdd(t, big, prod(pid(200+i), idr(10), 9), 1, nil, t0)
	}
	if m, _, err := buyer.merge(big, "g4"); err != nil || len(m.Lines) != MaxLines {
		t.Errorf("exactly 50 lines: %d, %v", len(m.Lines), err)
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestLifecycle(t *testing.T) {
	c := Empty(Buyer("b"))
	if c.Live(t0) {
		t.Error("a never stored cart is live")
	}
	c = mustAdd(t, c, prod(pid(1), idr(1), 9), 1, nil, t0).touched(t0)
	if c.Version != 1 || !c.ExpiresAt.Equal(t0.Add(BuyerTTL)) || !c.CreatedAt.Equal(t0) {
		t.Errorf("after the first write: version %d, expires %v, created %v", c.Version, c.ExpiresAt, c.CreatedAt)
	}
	if !c.Live(t0.Add(BuyerTTL-time.Second)) || c.Live(t0.Add(BuyerTTL)) {
		t.Error("a buyer cart must live exactly 30 days after its last write")
	}
	later := t0.Add(20 * 24 * time.Hour)
	c2 := c.touched(later)
	if c2.Version != 2 || !c2.ExpiresAt.Equal(later.Add(BuyerTTL)) || !c2.CreatedAt.Equal(t0) {
		t.Errorf("a write must refresh the TTL: %+v", c2)
	}
	g := mustAdd(t, Empty(Guest("g")), prod(pid(1), idr(1), 9), 1, nil, t0).touched(t0)
	if !g.ExpiresAt.Equal(t0.Add(GuestTTL)) || g.Live(t0.Add(GuestTTL)) {
		t.Errorf("a guest cart lives 7 days: expires %v", g.ExpiresAt)
	}

	// An expired cart counts as absent; the next write starts fresh from its version.
	expired := current(c, true, Buyer("b"), t0.Add(31*24*time.Hour))
	if len(expired.Lines) != 0 || expired.Version != 1 || expired.Currency != "" {
		t.Errorf("current of an expired cart: %+v", expired)
	}
	live := current(c, true, Buyer("b"), t0)
	if len(live.Lines) != 1 {
		t.Errorf("current of a live cart lost its lines")
	}
	live.Lines[pid(1)] = Line{Quantity: 42}
	if c.Lines[pid(1)].Quantity != 1 {
		t.Error("current shares its lines with the stored cart")
	}
	emptied := c.clone()
	delete(emptied.Lines, pid(1))
	if e := emptied.touched(t0); e.Currency != "" {
		t.Errorf("an empty cart keeps currency %q", e.Currency)
	}
}

func TestGuestID(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		id, err := NewGuestID()
		if err != nil {
			t.Fatal(err)
		}
		if !ValidGuestID(id) || seen[id] {
			t.Fatalf("id %q invalid or repeated", id)
		}
		seen[id] = true
	}
	for _, bad := range []string{"", "g_", "g_MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U", "g_mfrggzdfmztwq2lknnwg23tpobyxe43", "x_mfrggzdfmztwq2lknnwg23tpobyxe43u", "g_mfrggzdfmztwq2lknnwg23tpobyxe43u#"} {
		if ValidGuestID(bad) {
			t.Errorf("ValidGuestID(%q) = true", bad)
		}
	}
	if Guest("g_x").Key() != "guest#g_x" || Buyer("sub").Key() != "buyer#sub" {
		t.Error("keys")
	}
	if strings.Contains(Guest("g_secret").String(), "g_secret") {
		t.Error("a guest cart's id appears in its log name")
	}
}

func TestPrice(t *testing.T) {
	kopi := prod(pid(1), idr(85000), 10)
	teh := prod(pid(2), idr(30000), 10)
	gula := prod(pid(3), idr(15000), 10)
	garam := prod(pid(4), idr(5000), 10)
	c := mustAdd(t, Empty(Buyer("b")), kopi, 2, attr("t1", idr(80000), t0), t0)
	c = mustAdd(t, c, teh, 3, attr("t2", idr(30000), t0), t0.Add(time.Second))
	c = mustAdd(t, c, gula, 1, nil, t0.Add(2*time.Second))
	c = mustAdd(t, c, garam, 4, nil, t0.Add(3*time.Second))
	c = mustAdd(t, c, prod(pid(5), idr(1), 10), 1, nil, t0.Add(4*time.Second))

	// Now: kopi re-priced (the token displayed 80000), teh unchanged, gula delisted,
	// garam short of stock for 4, product 5 gone.
	kopi.Price = idr(90000)
	gula.Listed = false
	garam.Stock = 3
	got, err := Price(c, map[string]Product{kopi.ID: kopi, teh.ID: teh, gula.ID: gula, garam.ID: garam})
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		ID        string
		Unit      int64
		Total     int64
		Available bool
		Reason    string
		Changed   bool
	}
	var rows []row
	for _, l := range got.Lines {
		rows = append(rows, row{l.ProductID, l.UnitPrice.Amount, l.LineTotal.Amount, l.Available, l.Reason, l.PriceChanged})
	}
	want := []row{
		{kopi.ID, 90000, 180000, true, "", true},
		{teh.ID, 30000, 90000, true, "", false},
		{gula.ID, 15000, 15000, false, ReasonDelisted, false},
		{garam.ID, 5000, 20000, false, ReasonOutOfStock, false},
		{pid(5), 0, 0, false, ReasonProductNotFound, false},
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
	if got.Total != idr(270000) {
		t.Errorf("total = %v, want IDR 270000 (available lines only)", got.Total)
	}

	// A product re-priced in another currency is unavailable, not a failed read.
	teh.Price = money.Money{Amount: 200, Currency: "USD"}
	got, err = Price(c, map[string]Product{kopi.ID: kopi, teh.ID: teh})
	if err != nil || got.Lines[1].Reason != ReasonCurrencyMismatch || got.Total != idr(180000) {
		t.Errorf("re-priced in USD: %+v, total %v, %v", got.Lines[1], got.Total, err)
	}

	emptyCart, err := Price(Empty(Buyer("b")), nil)
	if err != nil || len(emptyCart.Lines) != 0 || emptyCart.Total != (money.Money{}) {
		t.Errorf("empty cart: %+v, %v", emptyCart, err)
	}
}
