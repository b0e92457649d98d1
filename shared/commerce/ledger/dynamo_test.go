package ledger_test

// Integration tests against DynamoDB Local, with LedgerTable and OrdersTable created from
// template.yaml. Run them with `make test` or
// `go run ./infra/cmd/etalase env -- go test ./shared/commerce/ledger`; a plain `go test`
// skips them.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/etalase/etalase/infra/localaccount"
	"github.com/etalase/etalase/infra/provision"
	"github.com/etalase/etalase/infra/samtemplate"
	"github.com/etalase/etalase/infra/testenv"
	"github.com/etalase/etalase/shared/commerce/ledger"
	"github.com/etalase/etalase/shared/commerce/money"
	"github.com/etalase/etalase/shared/commerce/order"
)

// env is one test's fresh tables in DynamoDB Local.
type env struct {
	db     *dynamodb.Client
	ledger string
	orders string
	store  *ledger.DynamoStore
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db := testenv.DynamoDB(t, localaccount.Commerce)
	tpl, err := samtemplate.Load("../../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	res, err := provision.Provision(context.Background(), provision.Options{
		Template: tpl,
		Account:  localaccount.Commerce,
		Params:   map[string]string{"JwtIssuer": "https://id.etalase.example", "JwtAudience": "etalase-commerce"},
		Prefix:   testenv.Prefix(t),
		DynamoDB: db,
		SQS:      testenv.SQS(t, localaccount.Commerce),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, tb := range res.Tables {
			_, _ = db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(tb.Name)})
		}
	})
	e := &env{db: db, ledger: res.Tables["LedgerTable"].Name, orders: res.Tables["OrdersTable"].Name}
	if e.ledger == "" || e.orders == "" {
		t.Fatalf("template tables missing: %+v", res.Tables)
	}
	e.store = ledger.NewDynamoStore(db, e.ledger, e.orders)
	return e
}

var at0 = time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)

// newOrder is a pending order without ledger entries.
func newOrder(t *testing.T) order.Order {
	t.Helper()
	id, err := order.NewID()
	if err != nil {
		t.Fatal(err)
	}
	price := money.Money{Amount: 85000, Currency: "IDR"}
	return order.Order{
		ID: id, BuyerID: "buyer-0001",
		Lines:    []order.Line{{ProductID: "p_aaaaaaaaaaaaaaaaaaaaaaaaaa", Title: "Kopi", Quantity: 2, UnitPrice: price}},
		Currency: "IDR", Subtotal: money.Money{Amount: 170000, Currency: "IDR"}, Total: money.Money{Amount: 170000, Currency: "IDR"},
		Status: order.StatusPendingPayment, Deadline: at0.Add(time.Hour), Version: 1, CreatedAt: at0, UpdatedAt: at0,
	}
}

func (e *env) transact(ctx context.Context, items ...types.TransactWriteItem) error {
	_, err := e.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	return err
}

// checkout places o with its order_created entry in one transaction, as the checkout does.
func (e *env) checkout(t *testing.T, o order.Order) order.Order {
	t.Helper()
	first, err := ledger.Next(ledger.Head{}, o.ID, ledger.TypeOrderCreated, o.CreatedAt, map[string]any{"total": o.Total.Amount, "currency": o.Currency})
	if err != nil {
		t.Fatal(err)
	}
	o.LedgerSeq, o.LedgerHash = first.Seq, first.Hash
	putOrder, err := order.TransactPut(e.orders, o)
	if err != nil {
		t.Fatal(err)
	}
	putEntry, err := first.TransactPut(e.ledger)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.transact(context.Background(), putOrder, putEntry); err != nil {
		t.Fatal(err)
	}
	return o
}

// transition builds the payments consumer's transaction for ev on o: the order update
// and the status_changed entry.
func (e *env) transition(t *testing.T, o order.Order, ev order.Event, at time.Time) (order.Order, []types.TransactWriteItem) {
	t.Helper()
	d, err := order.Transition(o.Status, ev)
	if err != nil || !d.Changed() {
		t.Fatalf("transition %s in %s: %+v, %v", ev.Kind, o.Status, d, err)
	}
	entry, err := ledger.Next(ledger.Head{Seq: o.LedgerSeq, Hash: o.LedgerHash}, o.ID, ledger.TypeStatusChanged, at,
		map[string]any{"from": string(d.From), "to": string(d.Next), "event": string(ev.Kind), "providerStatus": ev.ProviderStatus})
	if err != nil {
		t.Fatal(err)
	}
	next := o.Apply(d, at)
	next.LedgerSeq, next.LedgerHash = entry.Seq, entry.Hash
	upd, err := order.TransactUpdate(e.orders, o, next)
	if err != nil {
		t.Fatal(err)
	}
	put, err := entry.TransactPut(e.ledger)
	if err != nil {
		t.Fatal(err)
	}
	return next, []types.TransactWriteItem{upd, put}
}

func (e *env) verify(t *testing.T, orderID string) ([]ledger.Entry, ledger.VerifyResult) {
	t.Helper()
	es, err := e.store.Read(context.Background(), orderID)
	if err != nil {
		t.Fatal(err)
	}
	head, err := e.store.Head(context.Background(), orderID)
	found := err == nil
	if err != nil && !errors.Is(err, ledger.ErrOrderNotFound) {
		t.Fatal(err)
	}
	return es, ledger.VerifyHead(es, head, found)
}

// The order lifecycle writes one chain: created, paid (in the transition's
// transaction), a rejected notification (Append), refunded; a replayed transition and
// one decided on a stale head fail as a whole and write no entry.
func TestDynamoOrderLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	o := e.checkout(t, newOrder(t))

	settled, _ := order.MidtransEvent("settlement", "accept")
	paid, items := e.transition(t, o, settled, at0.Add(time.Minute))
	if err := e.transact(ctx, items...); err != nil {
		t.Fatal(err)
	}
	// The same notification decided on the stale read: the order condition fails, so
	// neither the order nor the ledger changes.
	if err := e.transact(ctx, items...); !order.IsConditionFailed(err, 0) || !order.IsConditionFailed(err, 1) {
		t.Errorf("replayed transition: err = %v, want both conditions to fail", err)
	}

	// A denial after settlement is rejected and recorded outside any transition.
	denied, _ := order.MidtransEvent("deny", "")
	if _, err := order.Transition(paid.Status, denied); !errors.Is(err, order.ErrRejected) {
		t.Fatalf("deny after settlement: %v", err)
	}
	rejected, err := e.store.Append(ctx, o.ID, ledger.TypeNotificationRejected, map[string]any{"providerStatus": denied.ProviderStatus, "status": string(paid.Status)})
	if err != nil {
		t.Fatal(err)
	}
	if rejected.Seq != 3 {
		t.Errorf("rejected notification at seq %d, want 3", rejected.Seq)
	}

	// A refund decided on the order as read before the Append: its ledger head is
	// stale, the transaction fails.
	refund, _ := order.MidtransEvent("refund", "")
	_, items = e.transition(t, paid, refund, at0.Add(2*time.Minute))
	if err := e.transact(ctx, items...); !order.IsConditionFailed(err, 0) {
		t.Errorf("transition on a stale ledger head: err = %v, want the order condition to fail", err)
	}
	// Re-read and decide again: it commits as seq 4.
	out, err := e.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(e.orders), Key: order.Key(o.ID), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	current, err := order.UnmarshalItem(out.Item)
	if err != nil {
		t.Fatal(err)
	}
	refunded, items := e.transition(t, current, refund, at0.Add(3*time.Minute))
	if err := e.transact(ctx, items...); err != nil {
		t.Fatal(err)
	}

	es, r := e.verify(t, o.ID)
	if !r.OK || r.Entries != 4 {
		t.Fatalf("verification %+v", r)
	}
	var kinds []string
	for _, x := range es {
		kinds = append(kinds, x.Type)
	}
	if got := strings.Join(kinds, ","); got != "order_created,status_changed,notification_rejected,status_changed" {
		t.Errorf("entry types %s", got)
	}
	if refunded.LedgerSeq != 4 || es[3].Hash != refunded.LedgerHash {
		t.Errorf("order head %d/%s, last entry %d/%s", refunded.LedgerSeq, refunded.LedgerHash, es[3].Seq, es[3].Hash)
	}
}

// Twenty concurrent Appends to one order make seq 1..20 without gaps and a valid chain.
func TestDynamoConcurrentAppend(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	o := newOrder(t) // an order item without entries: head 0
	put, err := order.TransactPut(e.orders, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.transact(ctx, put); err != nil {
		t.Fatal(err)
	}
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			_, err := e.store.Append(ctx, o.ID, ledger.TypeNotificationRejected, map[string]any{"writer": i})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	es, r := e.verify(t, o.ID)
	if !r.OK || r.Entries != n {
		t.Fatalf("verification %+v", r)
	}
	writers := map[string]bool{}
	for i, x := range es {
		if x.Seq != int64(i+1) {
			t.Errorf("entry %d has seq %d", i+1, x.Seq)
		}
		writers[string(x.Data)] = true
	}
	if len(writers) != n {
		t.Errorf("%d distinct writers' entries, want %d", len(writers), n)
	}
}

// A second entry with a seq already written fails the transaction it is in, and the
// transaction's other items do not commit.
func TestDynamoDuplicateSeqFailsTransaction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	o := e.checkout(t, newOrder(t))
	dup, err := ledger.Next(ledger.Head{}, o.ID, ledger.TypeOrderCreated, at0.Add(time.Second), map[string]any{"forged": true})
	if err != nil {
		t.Fatal(err)
	}
	put, err := dup.TransactPut(e.ledger)
	if err != nil {
		t.Fatal(err)
	}
	other := newOrder(t)
	otherPut, err := order.TransactPut(e.orders, other)
	if err != nil {
		t.Fatal(err)
	}
	err = e.transact(ctx, otherPut, put)
	if !order.IsConditionFailed(err, 1) {
		t.Fatalf("duplicate seq: err = %v, want its condition to fail", err)
	}
	if out, err := e.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(e.orders), Key: order.Key(other.ID), ConsistentRead: aws.Bool(true)}); err != nil || len(out.Item) != 0 {
		t.Errorf("the failed transaction's other item was written: %v, %v", out.Item, err)
	}
	es, r := e.verify(t, o.ID)
	if !r.OK || len(es) != 1 || string(es[0].Data) == `{"forged":true}` {
		t.Errorf("ledger after the failed duplicate: %+v, %+v", es, r)
	}
}

func TestDynamoAppendToMissingOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if _, err := e.store.Append(context.Background(), "o_zzzzzzzzzzzzzzzzzzzzzzzzzz", ledger.TypeNotificationRejected, nil); !errors.Is(err, ledger.ErrOrderNotFound) {
		t.Errorf("err = %v, want ErrOrderNotFound", err)
	}
}

// Tampering in the table itself is found by reading and verifying.
func TestDynamoTamperingIsDetected(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	o := e.checkout(t, newOrder(t))
	for i := range 3 {
		if _, err := e.store.Append(ctx, o.ID, ledger.TypeNotificationRecorded, map[string]any{"i": i}); err != nil {
			t.Fatal(err)
		}
	}
	key := func(seq int) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{
			"orderId": &types.AttributeValueMemberS{Value: o.ID},
			"seq":     &types.AttributeValueMemberN{Value: fmt.Sprint(seq)},
		}
	}
	if _, err := e.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(e.ledger), Key: key(2),
		UpdateExpression:          aws.String("SET #d = :d"),
		ExpressionAttributeNames:  map[string]string{"#d": "data"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":d": &types.AttributeValueMemberS{Value: `{"i":99}`}},
	}); err != nil {
		t.Fatal(err)
	}
	if _, r := e.verify(t, o.ID); r.OK || r.FirstBadSeq != 2 {
		t.Errorf("edited data: verification %+v, want the break at 2", r)
	}
	// Restore nothing; remove the last entry instead, on a second order.
	o2 := e.checkout(t, newOrder(t))
	if _, err := e.store.Append(ctx, o2.ID, ledger.TypeNotificationRecorded, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(e.ledger), Key: map[string]types.AttributeValue{
		"orderId": &types.AttributeValueMemberS{Value: o2.ID}, "seq": &types.AttributeValueMemberN{Value: "2"},
	}}); err != nil {
		t.Fatal(err)
	}
	if _, r := e.verify(t, o2.ID); r.OK || r.FirstBadSeq != 2 || !strings.Contains(r.Reason, "truncated") {
		t.Errorf("removed tail: verification %+v", r)
	}
}

// DynamoDB Local never reports TransactionConflict, so a middleware injects it: Append
// retries and writes exactly once, and gives up with ErrConflict.
func TestDynamoAppendRetriesConflicts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	o := e.checkout(t, newOrder(t))
	var remaining atomic.Int32
	inject := func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("injectTransactionConflict",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				if _, ok := in.Parameters.(*dynamodb.TransactWriteItemsInput); ok && remaining.Add(-1) >= 0 {
					return middleware.InitializeOutput{}, middleware.Metadata{}, &types.TransactionCanceledException{
						Message: aws.String("Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict, None]"),
						CancellationReasons: []types.CancellationReason{
							{Code: aws.String("TransactionConflict"), Message: aws.String("Transaction is ongoing for the item")},
							{Code: aws.String("None")},
						},
					}
				}
				return next.HandleInitialize(ctx, in)
			}), middleware.Before)
	}
	client := dynamodb.New(e.db.Options(), func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, inject) })
	store := ledger.NewDynamoStore(client, e.ledger, e.orders, ledger.WithMaxAttempts(5))

	remaining.Store(3)
	got, err := store.Append(ctx, o.ID, ledger.TypeNotificationRejected, nil)
	if err != nil || got.Seq != 2 {
		t.Fatalf("Append after 3 conflicts = %+v, %v", got, err)
	}
	remaining.Store(5)
	if _, err := store.Append(ctx, o.ID, ledger.TypeNotificationRejected, nil); !errors.Is(err, ledger.ErrConflict) {
		t.Errorf("Append after 5 conflicts: err = %v, want ErrConflict", err)
	}
	if es, r := e.verify(t, o.ID); !r.OK || len(es) != 2 {
		t.Errorf("ledger after conflicts: %d entries, %+v", len(es), r)
	}
}

// The audit route over the real store.
func TestDynamoAuditHandler(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	o := newOrder(t)
	o.ID = fixtureOrder
	o = e.checkout(t, o)
	if _, err := e.store.Append(ctx, o.ID, ledger.TypeNotificationRejected, map[string]any{"note": "<late & out of order>"}); err != nil {
		t.Fatal(err)
	}
	resp := serve(t, e.store, fixture(t, "audit-ledger.json"))
	out := decode(t, resp)
	if resp.StatusCode != 200 || !out.Verification.OK || out.Verification.Entries != 2 || out.Head == nil || out.Head.Seq != 2 {
		t.Fatalf("status %d, %+v", resp.StatusCode, out)
	}
	for _, x := range out.Entries {
		if got := auditorHash(t, x.PrevHash, x.At, x.OrderID, x.Seq, x.Type, x.Data); got != x.Hash {
			t.Errorf("entry %d: an auditor computes %s, the ledger says %s", x.Seq, got, x.Hash)
		}
	}
	req := fixture(t, "audit-ledger.json")
	req.PathParameters["orderId"] = "o_zzzzzzzzzzzzzzzzzzzzzzzzzz"
	if resp := serve(t, e.store, req); resp.StatusCode != 404 {
		t.Errorf("unknown order: %d %s", resp.StatusCode, resp.Body)
	}
}
