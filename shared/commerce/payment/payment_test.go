package payment_test

import (
	"errors"
	"testing"
	"time"

	"github.com/etalase/etalase/shared/commerce/money"
	"github.com/etalase/etalase/shared/commerce/payment"
)

func TestParseDecimal(t *testing.T) {
	tests := []struct {
		in, currency string
		want         int64
		wantErr      bool
	}{
		{"10000.00", "IDR", 10000, false},
		{"10000", "IDR", 10000, false},
		{"10000.000", "IDR", 10000, false},
		{"010000.00", "IDR", 10000, false},
		{"0", "IDR", 0, false},
		{"0.00", "IDR", 0, false},
		{"12.5", "USD", 1250, false},
		{"12.50", "USD", 1250, false},
		{"12.500", "USD", 1250, false},
		{"12", "USD", 1200, false},
		{"1000000000000000", "IDR", money.MaxAmount, false},
		{"10000000000000.00", "USD", money.MaxAmount, false},
		// fractional IDR is not a whole rupiah
		{"10000.50", "IDR", 0, true},
		{"10000.01", "IDR", 0, true},
		{"12.345", "USD", 0, true},
		// not plain decimals
		{"", "IDR", 0, true},
		{".5", "USD", 0, true},
		{"10000.", "IDR", 0, true},
		{"-10000", "IDR", 0, true},
		{"+10000", "IDR", 0, true},
		{"1e4", "IDR", 0, true},
		{"10,000", "IDR", 0, true},
		{"10 000", "IDR", 0, true},
		{" 10000", "IDR", 0, true},
		{"10000.00.00", "IDR", 0, true},
		{"１０", "IDR", 0, true},
		{"NaN", "IDR", 0, true},
		// out of range, including what would overflow int64
		{"1000000000000001", "IDR", 0, true},
		{"99999999999999999999999999", "IDR", 0, true},
		{"10000000000000.01", "USD", 0, true},
		// currency
		{"100", "idr", 0, true},
		{"100", "XXX", 0, true},
	}
	for _, tt := range tests {
		got, err := payment.ParseDecimal(tt.in, tt.currency)
		if tt.wantErr {
			if !errors.Is(err, payment.ErrMalformed) {
				t.Errorf("ParseDecimal(%q, %s) = %v, %v; want ErrMalformed", tt.in, tt.currency, got, err)
			}
			continue
		}
		if err != nil || got != (money.Money{Amount: tt.want, Currency: tt.currency}) {
			t.Errorf("ParseDecimal(%q, %s) = %v, %v; want %d", tt.in, tt.currency, got, err, tt.want)
		}
	}
}

func TestFormatDecimal(t *testing.T) {
	tests := []struct {
		m       money.Money
		frac    int
		want    string
		wantErr bool
	}{
		{money.Money{Amount: 10000, Currency: "IDR"}, 2, "10000.00", false},
		{money.Money{Amount: 10000, Currency: "IDR"}, 0, "10000", false},
		{money.Money{Amount: 0, Currency: "IDR"}, 2, "0.00", false},
		{money.Money{Amount: 1250, Currency: "USD"}, 2, "12.50", false},
		{money.Money{Amount: 5, Currency: "USD"}, 2, "0.05", false},
		{money.Money{Amount: 5, Currency: "USD"}, 3, "0.050", false},
		{money.Money{Amount: 1250, Currency: "USD"}, 0, "", true},
		{money.Money{Amount: -1, Currency: "IDR"}, 2, "", true},
		{money.Money{Amount: 1, Currency: "XXX"}, 2, "", true},
	}
	for _, tt := range tests {
		got, err := payment.FormatDecimal(tt.m, tt.frac)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("FormatDecimal(%v, %d) = %q, %v; want %q (err %v)", tt.m, tt.frac, got, err, tt.want, tt.wantErr)
		}
		if err == nil {
			back, err := payment.ParseDecimal(got, tt.m.Currency)
			if err != nil || back != tt.m {
				t.Errorf("ParseDecimal(FormatDecimal(%v)) = %v, %v", tt.m, back, err)
			}
		}
	}
}

func TestSessionRequestValidate(t *testing.T) {
	idr := func(a int64) money.Money { return money.Money{Amount: a, Currency: "IDR"} }
	ok := payment.SessionRequest{
		OrderID: "ord-1", Amount: idr(25000),
		Items:     []payment.Item{{ID: "p1", Name: "Kopi", Price: idr(10000), Quantity: 2}, {ID: "p2", Name: "Roti", Price: idr(5000), Quantity: 1}},
		ExpiresAt: time.Now().Add(time.Hour),
	}
	tests := []struct {
		name    string
		mutate  func(r *payment.SessionRequest)
		wantErr bool
	}{
		{"valid", func(r *payment.SessionRequest) {}, false},
		{"no items", func(r *payment.SessionRequest) { r.Items = nil }, false},
		{"no order id", func(r *payment.SessionRequest) { r.OrderID = " " }, true},
		{"zero amount", func(r *payment.SessionRequest) { r.Amount = idr(0); r.Items = nil }, true},
		{"bad currency", func(r *payment.SessionRequest) { r.Amount.Currency = "XXX"; r.Items = nil }, true},
		{"items do not add up", func(r *payment.SessionRequest) { r.Amount = idr(25001) }, true},
		{"item currency differs", func(r *payment.SessionRequest) { r.Items[1].Price.Currency = "USD" }, true},
		{"zero quantity", func(r *payment.SessionRequest) { r.Items[0].Quantity = 0 }, true},
		{"no item name", func(r *payment.SessionRequest) { r.Items[0].Name = "" }, true},
		{"item overflow", func(r *payment.SessionRequest) { r.Items[0].Price = idr(money.MaxAmount); r.Items[0].Quantity = 3 }, true},
	}
	for _, tt := range tests {
		r := ok
		r.Items = append([]payment.Item(nil), ok.Items...)
		tt.mutate(&r)
		err := r.Validate()
		if tt.wantErr != (err != nil) || err != nil && !errors.Is(err, payment.ErrInvalidRequest) {
			t.Errorf("%s: Validate() = %v, want error %v", tt.name, err, tt.wantErr)
		}
	}
}

func TestHeaderAndKey(t *testing.T) {
	h := map[string]string{"x-callback-token": "a", "Content-Type": "application/json"}
	for _, tt := range []struct {
		name, want string
		ok         bool
	}{
		{"x-callback-token", "a", true},
		{"X-CALLBACK-TOKEN", "a", true},
		{"content-type", "application/json", true},
		{"x-missing", "", false},
	} {
		if got, ok := payment.Header(h, tt.name); got != tt.want || ok != tt.ok {
			t.Errorf("Header(%q) = %q, %v", tt.name, got, ok)
		}
	}
	n := payment.Notification{Provider: "xendit", NotificationID: "inv-1:PAID"}
	if got := n.Key(); got != "xendit/inv-1:PAID" {
		t.Errorf("Key() = %q", got)
	}
}
