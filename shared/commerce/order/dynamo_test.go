package order_test

// Integration tests against DynamoDB Local, with OrdersTable created from template.yaml.
// Run them with `make test` or `go run ./infra/cmd/etalase env -- go test ./shared/commerce/order`;
// a plain `go test` skips them.

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"github.com/etalase/etalase/infra/localaccount"
	"github.com/etalase/etalase/infra/provision"
	"github.com/etalase/etalase/infra/samtemplate"
	"github.com/etalase/etalase/infra/testenv"
	"github.com/etalase/etalase/shared/commerce/order"
)

// ordersTable provisions the commerce tables of template.yaml and returns the client
// and OrdersTable's name.
func ordersTable(t *testing.T) (*dynamodb.Client, string) {
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
	name := res.Tables["OrdersTable"].Name
	if name == "" {
		t.Fatalf("template has no OrdersTable: %+v", res.Tables)
	}
	return db, name
}

func transact(ctx context.Context, db *dynamodb.Client, items ...types.TransactWriteItem) error {
	_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	return err
}

func get(t *testing.T, db *dynamodb.Client, table, id string) order.Order {
	t.Helper()
	out, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(table), Key: order.Key(id), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	o, err := order.UnmarshalItem(out.Item)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestDynamoPutAndTransition(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, table := ordersTable(t)
	o := validOrder()
	o.LedgerSeq, o.LedgerHash = 1, "h1"
	put, err := order.TransactPut(table, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := transact(ctx, db, put); err != nil {
		t.Fatal(err)
	}
	stored := get(t, db, table, o.ID)
	want := o
	want.Refunded = idr(0)
	if diff := cmp.Diff(want, stored); diff != "" {
		t.Errorf("stored order (-want +got):\n%s", diff)
	}
	if err := transact(ctx, db, put); !order.IsConditionFailed(err, 0) {
		t.Errorf("second put of the same id: err = %v, want its condition to fail", err)
	}

	// PENDING_PAYMENT → PAID, with the ledger head moving to 2.
	d, err := order.Transition(stored.Status, order.Event{Kind: order.EventPaid})
	if err != nil {
		t.Fatal(err)
	}
	paid := stored.Apply(d, t0.Add(time.Minute))
	paid.LedgerSeq, paid.LedgerHash = 2, "h2"
	paid.PaymentProvider, paid.PaymentRef = order.ProviderXendit, "inv-1"
	upd, err := order.TransactUpdate(table, stored, paid)
	if err != nil {
		t.Fatal(err)
	}
	if err := transact(ctx, db, upd); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(paid, get(t, db, table, o.ID)); diff != "" {
		t.Errorf("after transition (-want +got):\n%s", diff)
	}
	// The same transition again (a replayed notification decided on a stale read)
	// fails its condition and changes nothing.
	if err := transact(ctx, db, upd); !order.IsConditionFailed(err, 0) {
		t.Errorf("replayed transition: err = %v, want its condition to fail", err)
	}
	// So does a transition based on the right status and version but an old ledger head
	// (a rejected notification was appended meanwhile).
	stale := paid
	stale.LedgerSeq = 1
	refund := paid.Apply(order.Decision{From: order.StatusPaid, Next: order.StatusRefunded}, t0.Add(2*time.Minute))
	refund.LedgerSeq = 3
	upd, err = order.TransactUpdate(table, stale, refund)
	if err != nil {
		t.Fatal(err)
	}
	if err := transact(ctx, db, upd); !order.IsConditionFailed(err, 0) {
		t.Errorf("transition on a stale ledger head: err = %v, want its condition to fail", err)
	}
	if diff := cmp.Diff(paid, get(t, db, table, o.ID)); diff != "" {
		t.Errorf("failed transitions changed the order (-want +got):\n%s", diff)
	}
	// Removing the payment reference removes the attribute.
	back := paid.Apply(order.Decision{From: order.StatusPaid, Next: order.StatusRefunded}, t0.Add(3*time.Minute))
	back.PaymentRef = ""
	upd, err = order.TransactUpdate(table, paid, back)
	if err != nil {
		t.Fatal(err)
	}
	if err := transact(ctx, db, upd); err != nil {
		t.Fatal(err)
	}
	if got := get(t, db, table, o.ID); got.PaymentRef != "" || got.Status != order.StatusRefunded {
		t.Errorf("after clearing the reference: %+v", got)
	}
}

// The sweeps find due pending orders through byStatusDeadline, and a buyer's orders
// through byBuyer, newest first.
func TestDynamoIndexes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, table := ordersTable(t)
	now := t0.Add(24 * time.Hour)
	type spec struct {
		status   order.Status
		deadline time.Duration // from now
		buyer    string
	}
	specs := []spec{
		{order.StatusPendingPayment, -time.Hour, "b1"},       // due
		{order.StatusPendingPayment, -time.Nanosecond, "b1"}, // due
		{order.StatusPendingPayment, 0, "b2"},                // due (deadline == now)
		{order.StatusPendingPayment, time.Second, "b1"},      // not yet
		{order.StatusPaid, -time.Hour, "b1"},                 // paid
		{order.StatusPaidLate, -time.Hour, "b2"},             // refund sweep
	}
	var due []string
	var b1 []string
	for i, s := range specs {
		o := validOrder()
		id, err := order.NewID()
		if err != nil {
			t.Fatal(err)
		}
		o.ID, o.BuyerID, o.Status, o.Deadline = id, s.buyer, s.status, now.Add(s.deadline)
		o.CreatedAt = t0.Add(time.Duration(i) * time.Second)
		put, err := order.TransactPut(table, o)
		if err != nil {
			t.Fatal(err)
		}
		if err := transact(ctx, db, put); err != nil {
			t.Fatal(err)
		}
		if s.status == order.StatusPendingPayment && s.deadline <= 0 {
			due = append(due, id)
		}
		if s.buyer == "b1" {
			b1 = append([]string{id}, b1...) // newest first
		}
	}
	query := func(index string, key expression.KeyConditionBuilder, forward bool) []string {
		expr, err := expression.NewBuilder().WithKeyCondition(key).Build()
		if err != nil {
			t.Fatal(err)
		}
		out, err := db.Query(ctx, &dynamodb.QueryInput{
			TableName: aws.String(table), IndexName: aws.String(index),
			KeyConditionExpression: expr.KeyCondition(), ExpressionAttributeNames: expr.Names(),
			ExpressionAttributeValues: expr.Values(), ScanIndexForward: aws.Bool(forward),
		})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, it := range out.Items {
			ids = append(ids, it[order.AttrOrderID].(*types.AttributeValueMemberS).Value)
		}
		return ids
	}
	gotDue := query(order.ByStatusDeadlineIndex, expression.Key("status").Equal(expression.Value(string(order.StatusPendingPayment))).
		And(expression.Key("deadline").LessThanEqual(expression.Value(order.FormatTime(now)))), true)
	sort.Strings(gotDue)
	sort.Strings(due)
	if diff := cmp.Diff(due, gotDue); diff != "" {
		t.Errorf("due pending orders (-want +got):\n%s", diff)
	}
	if got := query(order.ByStatusDeadlineIndex, expression.Key("status").Equal(expression.Value(string(order.StatusPaidLate))), true); len(got) != 1 {
		t.Errorf("PAID_LATE orders = %v, want 1", got)
	}
	if diff := cmp.Diff(b1, query(order.ByBuyerIndex, expression.Key("buyerId").Equal(expression.Value("b1")), false)); diff != "" {
		t.Errorf("buyer b1's orders, newest first (-want +got):\n%s", diff)
	}
}
