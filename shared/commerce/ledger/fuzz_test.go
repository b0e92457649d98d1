package ledger_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/etalase/etalase/infra/fuzzhttp"
	"github.com/etalase/etalase/shared/commerce/ledger"
	"github.com/etalase/etalase/shared/platform/httpapi"
)

// fuzzBrokenOrder has a ledger whose second entry was altered.
const fuzzBrokenOrder = "o_brokenbrokenbrokenbroken"

// FuzzAuditHandler sends fuzzed API Gateway events (the auditor's route, from
// testdata/audit-ledger.json: order id, query, headers, principal) through a router
// serving AuditHandler.ServeLedger, over an in-memory ledger with a sound chain and a
// broken one. For any input: no panic, no 5xx, the error envelope on every 4xx. The
// handler only reads.
func FuzzAuditHandler(f *testing.F) {
	tg := fuzzhttp.FromRoutes(f, []fuzzhttp.Route{{Key: ledger.RouteAuditLedger, Authorizer: "CommerceJwt", Scopes: []string{ledger.ScopeAuditor}}},
		"testdata/audit-ledger.json")
	tg.Seed(f,
		fuzzhttp.Input{Path: fuzzBrokenOrder},
		fuzzhttp.Input{Path: "o_unknownunknownunknownunkno"},
		fuzzhttp.Input{Path: fixtureOrder, Auth: 3},
		fuzzhttp.Input{Path: "o_../../x", Auth: 2},
		fuzzhttp.Input{Path: fixtureOrder, Query: "seq=1&seq=2", Headers: "accept: text/html"},
	)
	reader := &fakeReader{entries: map[string][]ledger.Entry{}, heads: map[string]ledger.Head{}}
	for _, id := range []string{fixtureOrder, fuzzBrokenOrder} {
		var head ledger.Head
		at := time.Date(2026, 1, 1, 0, 10, 0, 0, time.UTC)
		for i, typ := range []string{"order_created", "payment_notification", "status_changed"} {
			e, err := ledger.Next(head, id, typ, at.Add(time.Duration(i)*time.Minute),
				map[string]any{"step": i, "amount": 150000, "note": "<script>&\u2028</script>"})
			if err != nil {
				f.Fatal(err)
			}
			reader.entries[id] = append(reader.entries[id], e)
			head = e.Head()
		}
		reader.heads[id] = head
	}
	reader.entries[fuzzBrokenOrder][1].Data = []byte(`{"amount":1}`)
	router := httpapi.NewRouter(slog.New(slog.DiscardHandler))
	router.Route(ledger.RouteAuditLedger, ledger.NewAuditHandler(reader).ServeLedger)

	tg.Fuzz(f, func(t *testing.T, req httpapi.Request) {
		resp, err := router.Handle(context.Background(), req)
		fuzzhttp.Check(t, req, resp, err)
	})
}
