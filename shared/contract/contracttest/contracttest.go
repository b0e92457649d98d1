// Package contracttest holds test data of the cross-account contract: one valid,
// fully populated payload of every cross-account event, as the relay makes them from
// the Go types. Tests only.
package contracttest

import (
	"testing"
	"time"

	"github.com/etalase/etalase/shared/contract"
)

// Payloads returns one valid payload of each cross-account event type, by type.
func Payloads(t testing.TB) map[string]any {
	t.Helper()
	ref, err := contract.NewOrderRef()
	if err != nil {
		t.Fatal(err)
	}
	d := contract.ProductDisplay{
		ProductID: "p_rocsknolsez4jj42y44l7ga3ou", SellerID: "seller-1", Title: "Kopi Gayo 250 g",
		ImageURL: "https://cdn.etalase.example/kopi.jpg", Price: contract.Price{Amount: 85000, Currency: "IDR"},
		InStock: true, Version: 4,
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC)
	return map[string]any{
		contract.EventProductListed:   contract.ProductListed{ProductDisplay: d},
		contract.EventProductUpdated:  contract.ProductUpdated{ProductDisplay: d},
		contract.EventProductDelisted: contract.ProductDelisted{ProductDisplay: d},
		contract.EventSaleAttributed: contract.SaleAttributed{
			PromotionID: "pr_abc", CreatorID: "creator-1", ProductID: d.ProductID, Quantity: 2,
			Amount: contract.Price{Amount: 170000, Currency: "IDR"}, OrderRef: ref, LineRef: "ln_1", SoldAt: at,
		},
		contract.EventSaleReversed: contract.SaleReversed{
			PromotionID: "pr_abc", CreatorID: "creator-1", ProductID: d.ProductID, Quantity: 1,
			Amount: contract.Price{Amount: 85000, Currency: "IDR"}, OrderRef: ref, LineRef: "ln_1", ReversedAt: at,
		},
	}
}
