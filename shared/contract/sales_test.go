package contract_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/etalase/etalase/shared/contract"
)

// The sale events' wire shape is the contract between two separately deployed
// accounts: pin it.
func TestSaleEventWireShape(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	a := contract.SaleAttributed{
		PromotionID: "pr_1", CreatorID: "creator-1", ProductID: "p_1", Quantity: 2,
		Amount: contract.Price{Amount: 170000, Currency: "IDR"}, OrderRef: "or_aaaaaaaaaaaaaaaaaaaaaaaaaa", LineRef: "l1", SoldAt: at,
	}
	r := contract.SaleReversed{
		PromotionID: "pr_1", CreatorID: "creator-1", ProductID: "p_1", Quantity: 1,
		Amount: contract.Price{Amount: 85000, Currency: "IDR"}, OrderRef: "or_aaaaaaaaaaaaaaaaaaaaaaaaaa", LineRef: "l1", ReversedAt: at,
	}
	for _, tt := range []struct {
		v    any
		want string
	}{
		{a, `{"promotionId":"pr_1","creatorId":"creator-1","productId":"p_1","quantity":2,"amount":{"amount":170000,"currency":"IDR"},"orderRef":"or_aaaaaaaaaaaaaaaaaaaaaaaaaa","lineRef":"l1","soldAt":"2026-01-02T03:04:05Z"}`},
		{r, `{"promotionId":"pr_1","creatorId":"creator-1","productId":"p_1","quantity":1,"amount":{"amount":85000,"currency":"IDR"},"orderRef":"or_aaaaaaaaaaaaaaaaaaaaaaaaaa","lineRef":"l1","reversedAt":"2026-01-02T03:04:05Z"}`},
	} {
		got, err := json.Marshal(tt.v)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tt.want {
			t.Errorf("\n got %s\nwant %s", got, tt.want)
		}
	}
}

func TestNewOrderRef(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		ref, err := contract.NewOrderRef()
		if err != nil {
			t.Fatal(err)
		}
		if !contract.ValidOrderRef(ref) {
			t.Fatalf("NewOrderRef() = %q, not a valid order ref", ref)
		}
		if seen[ref] {
			t.Fatalf("NewOrderRef repeated %q", ref)
		}
		seen[ref] = true
	}
	for _, bad := range []string{"", "o_123", "or_ABCDEFGHIJKLMNOPQRSTUVWXYZ", "or_aaaaaaaaaaaaaaaaaaaaaaaaa", "ord-1234"} {
		if contract.ValidOrderRef(bad) {
			t.Errorf("ValidOrderRef(%q) = true", bad)
		}
	}
}
