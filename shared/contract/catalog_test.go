package contract_test

import (
	"encoding/json"
	"testing"

	"github.com/etalase/etalase/shared/contract"
)

// The wire shape is the contract between two separately deployed accounts: pin it.
func TestProductEventWireShape(t *testing.T) {
	d := contract.ProductDisplay{
		ProductID: "p_abc", SellerID: "seller-1", Title: "Kopi Gayo 250g", ImageURL: "/assets/kopi.jpg",
		Price: contract.Price{Amount: 85000, Currency: "IDR"}, InStock: true, Version: 3,
	}
	want := `{"productId":"p_abc","sellerId":"seller-1","title":"Kopi Gayo 250g","imageUrl":"/assets/kopi.jpg","price":{"amount":85000,"currency":"IDR"},"inStock":true,"version":3}`
	for name, v := range map[string]any{
		"listed":   contract.ProductListed{ProductDisplay: d},
		"updated":  contract.ProductUpdated{ProductDisplay: d},
		"delisted": contract.ProductDelisted{ProductDisplay: d},
	} {
		got, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want {
			t.Errorf("%s:\n got %s\nwant %s", name, got, want)
		}
	}
}
