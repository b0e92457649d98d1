package money_test

import (
	"errors"
	"testing"

	"github.com/etalase/etalase/shared/commerce/money"
)

func TestNew(t *testing.T) {
	tests := []struct {
		amount   int64
		currency string
		wantErr  error
	}{
		{150000, "IDR", nil},
		{1250, "USD", nil},
		{0, "SGD", nil},
		{money.MaxAmount, "MYR", nil},
		{money.MaxAmount + 1, "MYR", money.ErrOutOfRange},
		{-1, "IDR", money.ErrOutOfRange},
		{100, "idr", money.ErrUnsupportedCurrency},
		{100, "XXX", money.ErrUnsupportedCurrency},
		{100, "", money.ErrUnsupportedCurrency},
	}
	for _, tt := range tests {
		m, err := money.New(tt.amount, tt.currency)
		if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
			t.Errorf("New(%d, %q) err = %v, want %v", tt.amount, tt.currency, err, tt.wantErr)
		}
		if err == nil && (m.Amount != tt.amount || m.Currency != tt.currency) {
			t.Errorf("New(%d, %q) = %+v", tt.amount, tt.currency, m)
		}
	}
}

func TestAddMul(t *testing.T) {
	idr := func(a int64) money.Money { return money.Money{Amount: a, Currency: "IDR"} }
	tests := []struct {
		name    string
		op      func() (money.Money, error)
		want    money.Money
		wantErr error
	}{
		{"add", func() (money.Money, error) { return idr(100).Add(idr(250)) }, idr(350), nil},
		{"add mismatch", func() (money.Money, error) { return idr(100).Add(money.Money{Amount: 1, Currency: "USD"}) }, money.Money{}, money.ErrCurrencyMismatch},
		{"add overflow", func() (money.Money, error) { return idr(money.MaxAmount).Add(idr(1)) }, money.Money{}, money.ErrOutOfRange},
		{"add to max", func() (money.Money, error) { return idr(money.MaxAmount - 1).Add(idr(1)) }, idr(money.MaxAmount), nil},
		{"mul", func() (money.Money, error) { return idr(15000).Mul(3) }, idr(45000), nil},
		{"mul zero", func() (money.Money, error) { return idr(15000).Mul(0) }, idr(0), nil},
		{"mul negative qty", func() (money.Money, error) { return idr(15000).Mul(-1) }, money.Money{}, money.ErrOutOfRange},
		{"mul overflow", func() (money.Money, error) { return idr(money.MaxAmount/2 + 1).Mul(2) }, money.Money{}, money.ErrOutOfRange},
		{"mul int64 overflow", func() (money.Money, error) { return idr(1 << 40).Mul(1 << 40) }, money.Money{}, money.ErrOutOfRange},
	}
	for _, tt := range tests {
		got, err := tt.op()
		if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.wantErr)
			continue
		}
		if got != tt.want {
			t.Errorf("%s: got %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

func TestString(t *testing.T) {
	tests := []struct {
		m    money.Money
		want string
	}{
		{money.Money{Amount: 150000, Currency: "IDR"}, "IDR 150000"},
		{money.Money{Amount: 1250, Currency: "USD"}, "USD 12.50"},
		{money.Money{Amount: 5, Currency: "SGD"}, "SGD 0.05"},
		{money.Money{Amount: -1205, Currency: "MYR"}, "MYR -12.05"},
		{money.Money{Amount: 900, Currency: "JPY"}, "JPY 900"},
	}
	for _, tt := range tests {
		if got := tt.m.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.m, got, tt.want)
		}
	}
}

func TestCurrenciesAreSupported(t *testing.T) {
	list := money.Currencies()
	if len(list) == 0 {
		t.Fatal("no currencies")
	}
	for _, c := range list {
		if !money.Supported(c) {
			t.Errorf("listed %s is not supported", c)
		}
		if d, err := money.MinorDigits(c); err != nil || d < 0 || d > 3 {
			t.Errorf("MinorDigits(%s) = %d, %v", c, d, err)
		}
	}
	if d, _ := money.MinorDigits("IDR"); d != 0 {
		t.Errorf("IDR digits = %d, want 0 (whole rupiah)", d)
	}
}
