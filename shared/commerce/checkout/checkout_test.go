package checkout_test

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/etalase/etalase/infra/samtemplate"
	"github.com/etalase/etalase/shared/commerce/checkout"
	"github.com/etalase/etalase/shared/commerce/money"
	"github.com/etalase/etalase/shared/commerce/order"
	"github.com/etalase/etalase/shared/commerce/orders"
	"github.com/etalase/etalase/shared/commerce/payment"
	"github.com/etalase/etalase/shared/platform/httpapi"
	"github.com/etalase/etalase/shared/platform/idempotency"
)

func TestSessionRequest(t *testing.T) {
	idr := func(a int64) money.Money { return money.Money{Amount: a, Currency: "IDR"} }
	deadline := time.Date(2026, 1, 1, 0, 25, 0, 0, time.UTC)
	o := order.Order{
		ID: "o_mfrggzdfmztwq2lknnwg23tpob", Currency: "IDR", Total: idr(200000), Deadline: deadline,
		Lines: []order.Line{{ProductID: "p_a", Title: "Kopi", Quantity: 2, UnitPrice: idr(85000)}, {ProductID: "p_b", Title: "Teh", Quantity: 1, UnitPrice: idr(30000)}},
	}
	items := []payment.Item{
		{ID: "p_a", Name: "Kopi", Price: idr(85000), Quantity: 2}, {ID: "p_b", Name: "Teh", Price: idr(30000), Quantity: 1},
	}
	back := "https://shop.example/#/orders/" + o.ID
	for _, tt := range []struct {
		storefront string
		want       payment.SessionRequest
	}{
		{"", payment.SessionRequest{OrderID: o.ID, Amount: idr(200000), ExpiresAt: deadline, Items: items}},
		{"https://shop.example/", payment.SessionRequest{OrderID: o.ID, Amount: idr(200000), ExpiresAt: deadline, Items: items, SuccessURL: back, FailureURL: back}},
	} {
		got := checkout.SessionRequest(o, strings.TrimRight(tt.storefront, "/"))
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("storefront %q (-want +got):\n%s", tt.storefront, diff)
		}
		if err := got.Validate(); err != nil {
			t.Errorf("the request breaks the providers' rules: %v", err)
		}
	}
}

// The handler serves exactly the routes template.yaml gives CommerceCheckoutFunction,
// both with the buyer scope, and api/commerce.yaml documents them and every error code.
func TestRoutesMatchTemplateAndSpec(t *testing.T) {
	tpl, err := samtemplate.Load("../../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fn, err := tpl.Function("CommerceCheckoutFunction")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, ev := range fn.Events() {
		if ev.Type == "HttpApi" {
			a, _ := ev.Properties["Auth"].(map[string]any)
			got[fmt.Sprintf("%v %v", ev.Properties["Method"], ev.Properties["Path"])] = fmt.Sprint(a["AuthorizationScopes"])
		}
	}
	want := map[string]string{checkout.RouteCheckout: "[buyer]", checkout.RoutePayment: "[buyer]"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("template routes (-want +got):\n%s", diff)
	}
	svc, err := checkout.NewService(&orders.Store{}, map[string]payment.SessionCreator{"midtrans": nil}, time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := checkout.NewHandler(svc, idempotency.NewMiddleware(nil, nil), nil)
	if diff := cmp.Diff([]string{checkout.RouteCheckout, checkout.RoutePayment}, h.RouteKeys(), cmp.Transformer("sort", func(s []string) []string { return slices.Sorted(slices.Values(s)) })); diff != "" {
		t.Errorf("handler routes (-want +got):\n%s", diff)
	}

	raw, err := os.ReadFile("../../../api/commerce.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	paths, _ := doc["paths"].(map[string]any)
	for _, r := range h.RouteKeys() {
		method, p, _ := strings.Cut(r, " ")
		if ops, _ := paths[p].(map[string]any); ops[strings.ToLower(method)] == nil {
			t.Errorf("%s is not in api/commerce.yaml", r)
		}
	}
	enums := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if m, ok := x["code"].(map[string]any); ok {
				enum, _ := m["enum"].([]any)
				for _, e := range enum {
					enums[fmt.Sprint(e)] = true
				}
			}
			for _, c := range x {
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(doc)
	for _, c := range []string{
		checkout.CodeCartEmpty, checkout.CodeInsufficientStock, checkout.CodeItemsUnavailable, checkout.CodeCartChanged,
		checkout.CodeTooManyLines, checkout.CodeOrderNotPending, checkout.CodePaymentOpened, checkout.CodeProviderUnavailable,
		checkout.CodeProviderError, orders.CodeOrderNotFound, orders.CodeConflict,
		idempotency.CodeKeyRequired, idempotency.CodeKeyInvalid, idempotency.CodeKeyReused, idempotency.CodeInProgress,
		httpapi.CodeInvalidJSON, httpapi.CodeInvalidBody, httpapi.CodeValidationFailed, httpapi.CodeBodyTooLarge,
		httpapi.CodeUnsupportedMediaType, httpapi.CodeUnauthenticated, httpapi.CodeForbidden, httpapi.CodeInternal,
	} {
		if !enums[c] {
			t.Errorf("code %s is in no error response of api/commerce.yaml", c)
		}
	}
}

// Checkout holds no queue: an order's expiry is its OrderCreated outbox record, which
// the relay sends to ExpiryQueue, so there is no message to lose after the commit.
// CommerceCheckoutFunction has no SQS permission and no queue in its environment.
func TestNoQueueOfItsOwn(t *testing.T) {
	tpl, err := samtemplate.Load("../../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fn, err := tpl.Function("CommerceCheckoutFunction")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(fn.Properties)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"sqs:", "ExpiryQueue", "QUEUE_URL"} {
		if strings.Contains(string(raw), s) {
			t.Errorf("CommerceCheckoutFunction names %q: checkout must send no message (the relay schedules the expiry)", s)
		}
	}
}
