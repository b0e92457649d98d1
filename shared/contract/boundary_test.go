package contract_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/etalase/etalase/shared/contract"
)

// DESIGN.md section 1, rule 3: no cross-account event carries buyer identity, an
// address, payment data or a clear order id. `make compliance` reports the same check.
func TestNoBuyerDataCrossesTheBoundary(t *testing.T) {
	if bad := contract.BoundaryProblems(); len(bad) > 0 {
		t.Errorf("the contract breaks the boundary:\n%s", strings.Join(bad, "\n"))
	}
}

// The check can fail: a payload type that leaks what rule 3 forbids is caught, field by
// field, nested and embedded fields included.
func TestTypeProblemsCatchesLeaks(t *testing.T) {
	type card struct {
		Last4 string `json:"last4"`
	}
	type shipTo struct {
		Street string `json:"street"`
	}
	type Buyer struct {
		BuyerID string `json:"buyerId"`
	}
	type leaky struct {
		Buyer              // embedded: its fields are the payload's
		OrderRef    string `json:"orderRef"`
		OrderID     string `json:"orderId"`
		Email       string `json:"email"`
		PhoneNumber string
		Shipping    shipTo `json:"shipping"`
		Card        *card  `json:"paymentCard"`
		Items       []struct {
			RecipientName string `json:"recipient_name"`
		} `json:"items"`
		ProviderTxn string `json:"midtrans_transaction_id"`
		Title       string `json:"title"`
	}
	got := contract.TypeProblems("Leaky", reflect.TypeFor[leaky]())
	for _, want := range []string{
		"field buyerId suggests buyer identity",
		"field orderId suggests order id",
		"field email suggests buyer identity",
		"field PhoneNumber suggests buyer identity",
		"field shipping suggests address",
		"field shipping.street suggests address",
		"field paymentCard suggests payment data",
		"field items.recipient_name suggests address",
		"field midtrans_transaction_id suggests payment data",
	} {
		if !slices.ContainsFunc(got, func(s string) bool { return strings.Contains(s, want) }) {
			t.Errorf("no problem %q in:\n%s", want, strings.Join(got, "\n"))
		}
	}
	for _, p := range got {
		if strings.Contains(p, "orderRef ") || strings.Contains(p, "title") {
			t.Errorf("allowed field reported: %s", p)
		}
	}
}

func TestSchemaProblemsCatchesLeaks(t *testing.T) {
	doc := []byte(`{
	  "type": "object", "additionalProperties": false,
	  "properties": {
	    "orderRef": {"type": "string"},
	    "buyer": {"type": "object", "properties": {"emailAddress": {"type": "string"}}},
	    "items": {"type": "array", "items": {"$ref": "#/$defs/line"}}
	  },
	  "$defs": {"line": {"type": "object", "additionalProperties": false, "properties": {"order_id": {"type": "string"}}}}
	}`)
	got := contract.SchemaProblems("leaky.json", doc)
	want := []string{
		"leaky.json: property /$defs/line/properties/order_id suggests order id",
		"leaky.json: property /properties/buyer suggests buyer identity",
		"leaky.json: the object at /properties/buyer does not set additionalProperties: false",
		"leaky.json: property /properties/buyer/properties/emailAddress suggests buyer identity",
	}
	slices.Sort(got)
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

func TestForbiddenField(t *testing.T) {
	tests := []struct {
		name string
		want string // "" means allowed
	}{
		{"orderRef", ""}, {"lineRef", ""}, {"productId", ""}, {"promotionId", ""}, {"creatorId", ""},
		{"sellerId", ""}, {"title", ""}, {"imageUrl", ""}, {"inStock", ""}, {"amount", ""}, {"soldAt", ""},
		{"correlationId", ""}, {"eventId", ""}, {"payload", ""},
		{"orderId", "order id"}, {"ORDER_ID", "order id"}, {"orderRefs", "order id"}, {"order", "order id"},
		{"buyerEmail", "buyer identity"}, {"customerName", "buyer identity"}, {"userID", "buyer identity"},
		{"phone", "buyer identity"}, {"msisdn", "buyer identity"}, {"clientIP", "buyer identity"},
		{"shippingAddress", "address"}, {"postal_code", "address"}, {"zip", "address"},
		{"cardLast4", "payment data"}, {"paymentMethod", "payment data"}, {"vaBankCode", "payment data"},
		{"transactionId", "payment data"},
	}
	for _, tt := range tests {
		got, bad := contract.ForbiddenField(tt.name)
		if bad != (tt.want != "") || got != tt.want {
			t.Errorf("ForbiddenField(%q) = %q, %v; want %q", tt.name, got, bad, tt.want)
		}
	}
}
