package money_test

import (
	"testing"

	"github.com/etalase/etalase/shared/social/money"
)

func TestValid(t *testing.T) {
	for _, tt := range []struct {
		m    money.Money
		want bool
	}{
		{money.Money{Amount: 85000, Currency: "IDR"}, true},
		{money.Money{Amount: 0, Currency: "USD"}, true},
		{money.Money{Amount: money.MaxAmount, Currency: "IDR"}, true},
		{money.Money{Amount: money.MaxAmount + 1, Currency: "IDR"}, false},
		{money.Money{Amount: -1, Currency: "IDR"}, false},
		{money.Money{Amount: 1, Currency: "idr"}, false},
		{money.Money{Amount: 1, Currency: "RUPIAH"}, false},
		{money.Money{Amount: 1}, false},
	} {
		if got := tt.m.Valid(); got != tt.want {
			t.Errorf("%v.Valid() = %v, want %v", tt.m, got, tt.want)
		}
	}
	if s := (money.Money{Amount: 85000, Currency: "IDR"}).String(); s != "IDR 85000" {
		t.Errorf("String = %q", s)
	}
}
