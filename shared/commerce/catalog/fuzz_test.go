package catalog_test

import (
	"context"
	"log/slog"
	"reflect"
	"testing"
	"time"

	"github.com/etalase/etalase/infra/fuzzhttp"
	"github.com/etalase/etalase/shared/commerce/catalog"
	"github.com/etalase/etalase/shared/platform/httpapi"
)

// fuzzOtherProduct is another seller's product, stored next to the fixtures' one.
const fuzzOtherProduct = "p_aaaaaaaaaaaaaaaaaaaaaaaaaa"

// FuzzCatalogHandler sends fuzzed API Gateway events (every route of
// CommerceCatalogFunction, built from events/commerce/catalog: body, path, query,
// headers, principal) through Handler.Handle over an in-memory store holding the
// fixtures' product and another seller's. For any input: no panic, no 5xx, the error
// envelope on every 4xx, and a 4xx leaves the products and the outbox as they were.
func FuzzCatalogHandler(f *testing.F) {
	tg := fuzzhttp.New(f, "../../../template.yaml", "CommerceCatalogFunction", "../../../events/commerce/catalog")
	tg.Seed(f,
		fuzzhttp.Input{Fixture: 1, Body: `{"title":"Teh","price":{"amount":1,"currency":"IDR"},"stock":1}`, Base64: true},
		fuzzhttp.Input{Fixture: 1, Body: `{"title":"","price":{"amount":-1,"currency":"idr"},"stock":-1,"extra":1}`},
		fuzzhttp.Input{Fixture: 1, Body: `{"title":"x","price":{"amount":9223372036854775807,"currency":"IDR"},"stock":1000000001}`},
		fuzzhttp.Input{Fixture: 0, Body: `{"delta":-9223372036854775808}`, Path: fixtureProduct},
		fuzzhttp.Input{Fixture: 0, Body: `{"delta":5}`, Path: fuzzOtherProduct},
		fuzzhttp.Input{Fixture: 4, Query: "limit=0&cursor=%ff%fe", Auth: 2},
		fuzzhttp.Input{Fixture: 4, Query: "limit=50&cursor=eyJjIjoiMjAyNS0wMS0wMVQwMDowMDowMFoiLCJpIjoicF94In0"},
		fuzzhttp.Input{Fixture: 6, Body: `{"price":{"amount":1,"currency":"USD"}}`, Headers: "content-type: text/plain"},
		fuzzhttp.Input{Fixture: 3, Route: 3, Path: "../../etc/passwd", Auth: 4},
	)
	tg.Fuzz(f, func(t *testing.T, req httpapi.Request) {
		at := time.Date(2026, 1, 1, 0, 10, 0, 0, time.UTC)
		other := seeded()
		other.ID, other.SellerID = fuzzOtherProduct, "another-seller"
		st := newMemStore(seeded(), other)
		h := catalog.NewHandler(catalog.NewService(st, catalog.WithClock(func() time.Time { return at })),
			slog.New(slog.DiscardHandler))
		products, events := st.snapshot()

		resp, err := h.Handle(context.Background(), req)
		fuzzhttp.Check(t, req, resp, err)

		if resp.StatusCode >= 400 {
			afterProducts, afterEvents := st.snapshot()
			if !reflect.DeepEqual(products, afterProducts) || len(afterEvents) != len(events) {
				t.Fatalf("%s answered %d but changed the store: %s", req.RouteKey, resp.StatusCode, resp.Body)
			}
		}
	})
}
