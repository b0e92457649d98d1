package reconcile_test

// Integration test against DynamoDB Local: the byStatusDeadline sweep, and answers
// applied through the real payments.Applier and orders.Store.

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/etalase/etalase/infra/localaccount"
	"github.com/etalase/etalase/infra/provision"
	"github.com/etalase/etalase/infra/samtemplate"
	"github.com/etalase/etalase/infra/testenv"
	"github.com/etalase/etalase/infra/testenv/ddbcount"
	"github.com/etalase/etalase/shared/commerce/ledger"
	"github.com/etalase/etalase/shared/commerce/order"
	"github.com/etalase/etalase/shared/commerce/orders"
	"github.com/etalase/etalase/shared/commerce/payment"
	"github.com/etalase/etalase/shared/commerce/payments"
	"github.com/etalase/etalase/shared/commerce/payments/paytest"
	"github.com/etalase/etalase/shared/commerce/reconcile"
)

func TestReconcileIntegration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DynamoDB(t, localaccount.Commerce)
	tpl, err := samtemplate.Load("../../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	res, err := provision.Provision(ctx, provision.Options{
		Template: tpl, Account: localaccount.Commerce,
		Params: map[string]string{"JwtIssuer": "https://id.etalase.example", "JwtAudience": "etalase"},
		Prefix: testenv.Prefix(t), DynamoDB: db, SQS: testenv.SQS(t, localaccount.Commerce),
	})
	if err != nil {
		t.Fatal(err)
	}
	tb := func(id string) string { return res.Tables[id].Name }
	place := func(o order.Order) order.Order {
		o, err := paytest.Place(ctx, db, paytest.Tables{Orders: tb("OrdersTable"), Ledger: tb("LedgerTable"), Catalog: tb("CatalogTable")}, o)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	realNow := time.Now()
	oldPaid := place(paytest.Order(order.ProviderMidtrans, realNow.Add(-20*time.Minute)))
	oldPending := place(paytest.Order(order.ProviderMidtrans, realNow.Add(-30*time.Minute)))
	recent := place(paytest.Order(order.ProviderMidtrans, realNow.Add(-time.Minute)))
	xendit := paytest.Order(order.ProviderXendit, realNow.Add(-15*time.Minute))
	xendit.PaymentRef = "inv-it"
	xendit = place(xendit)

	mt := &fakeProvider{answers: map[string]payment.Notification{
		oldPaid.ID:    answer(oldPaid, "settlement", payment.OutcomePaid, oldPaid.Total),
		oldPending.ID: answer(oldPending, "pending", payment.OutcomePending, oldPending.Total),
	}}
	xd := &fakeProvider{answers: map[string]payment.Notification{xendit.ID: answer(xendit, "EXPIRED", payment.OutcomeExpired, xendit.Total)}}

	counter := ddbcount.New()
	led := ledger.NewDynamoStore(db, tb("LedgerTable"), tb("OrdersTable"))
	store := orders.NewStore(db, orders.Tables{Orders: tb("OrdersTable"), Catalog: tb("CatalogTable"), Ledger: tb("LedgerTable"), Outbox: tb("OutboxTable")})
	pending := reconcile.NewDynamoPending(counter.Wrap(db), tb("OrdersTable"))

	// The sweep's listing: every pending order, earliest deadline first, in two requests.
	list, err := pending.Pending(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, o := range list {
		ids = append(ids, o.ID)
	}
	if want := []string{oldPending.ID, oldPaid.ID, xendit.ID, recent.ID}; !slices.Equal(ids, want) {
		t.Errorf("pending %v, want %v", ids, want)
	}
	if got := counter.Take().String(); got != "BatchGetItem=1 Query=1" {
		t.Errorf("listing costs %s", got)
	}
	if two, _ := pending.Pending(ctx, 2); len(two) != 2 || two[0].ID != oldPending.ID {
		t.Errorf("a limit of 2 gave %d orders", len(two))
	}

	r, err := reconcile.New(reconcile.Config{
		Orders: pending, Providers: map[string]payment.StatusChecker{order.ProviderMidtrans: mt, order.ProviderXendit: xd},
		Applier: payments.NewApplier(store, led, nil), Ledger: led, After: 10 * time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	s, err := r.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := (reconcile.Summary{Listed: 4, TooRecent: 1, Asked: 3, Pending: 1, Applied: 2}); s != want {
		t.Errorf("first run %+v, want %+v", s, want)
	}
	get := func(id string) order.Order {
		o, err := store.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	if got := get(oldPaid.ID); got.Status != order.StatusPaid {
		t.Errorf("reconciled order %s", got.Status)
	}
	if got := get(xendit.ID); got.Status != order.StatusExpired {
		t.Errorf("expired invoice: order %s", got.Status)
	}
	entries, err := led.Read(ctx, oldPaid.ID)
	if err != nil {
		t.Fatal(err)
	}
	head, _ := led.Head(ctx, oldPaid.ID)
	if len(entries) != 2 || entries[1].Type != ledger.TypeStatusChanged || !ledger.VerifyHead(entries, head, true).OK {
		t.Fatalf("ledger %+v", entries)
	}
	var d map[string]any
	_ = json.Unmarshal(entries[1].Data, &d)
	if d["event"] != "reconciled_settlement" || d["source"] != "reconcile" || d["to"] != "PAID" {
		t.Errorf("entry data %v", d)
	}

	// Again: the reconciled orders left the pending partition; nothing changes.
	s, err = r.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := (reconcile.Summary{Listed: 2, TooRecent: 1, Asked: 1, Pending: 1}); s != want {
		t.Errorf("second run %+v, want %+v", s, want)
	}
	if got := get(oldPaid.ID); got.Version != 2 {
		t.Errorf("version %d after a second run", got.Version)
	}
}
