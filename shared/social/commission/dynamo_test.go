package commission_test

// Integration tests against DynamoDB Local, with the tables created from template.yaml.
// Run them with `make test` or `go run ./infra/cmd/etalase env -- go test ./shared/social/...`;
// a plain `go test` skips them.

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
	"github.com/google/go-cmp/cmp"

	"github.com/etalase/etalase/infra/localaccount"
	"github.com/etalase/etalase/infra/provision"
	"github.com/etalase/etalase/infra/samtemplate"
	"github.com/etalase/etalase/infra/testenv"
	"github.com/etalase/etalase/shared/social/commission"
)

// dynamoEnv provisions the social account's tables for one test.
func dynamoEnv(t *testing.T) (*dynamodb.Client, string) {
	t.Helper()
	db := testenv.DynamoDB(t, localaccount.Social)
	tpl, err := samtemplate.Load("../../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	res, err := provision.Provision(context.Background(), provision.Options{
		Template: tpl, Account: localaccount.Social,
		Params: map[string]string{"JwtIssuer": "https://id.etalase.example", "JwtAudience": "etalase-social"},
		Prefix: testenv.Prefix(t), DynamoDB: db, SQS: testenv.SQS(t, localaccount.Social),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, tb := range res.Tables {
			_, _ = db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(tb.Name)})
		}
	})
	name := res.Tables["CommissionsTable"].Name
	if name == "" {
		t.Fatalf("no CommissionsTable in %+v", res.Tables)
	}
	return db, name
}

func TestDynamoLedger(t *testing.T) {
	t.Parallel()
	db, table := dynamoEnv(t)
	ctx := context.Background()
	l := commission.NewLedger(commission.NewDynamoStore(db, table), ledgerTerms)

	// The refund arrives first, then the sale twice: applied once, totals as in order.
	if err := l.ApplyReversed(ctx, "r1", reversed(58000, 1)); err != nil {
		t.Fatal(err)
	}
	if got := earningsOf(t, l); got.Reversals != 1 || got.ReversedCommission != 0 || got.Commission != 0 {
		t.Errorf("a refund before its sale reverses nothing yet: %+v", got)
	}
	for range 2 {
		if err := l.ApplyAttributed(ctx, "a1", attributed(158000, 2)); err != nil && !errors.Is(err, commission.ErrDuplicate) {
			t.Fatal(err)
		}
	}
	if err := l.ApplyReversed(ctx, "r1", reversed(58000, 1)); !errors.Is(err, commission.ErrDuplicate) {
		t.Errorf("the refund again: err = %v, want ErrDuplicate", err)
	}
	want := commission.Totals{Sales: 1, Units: 2, SalesAmount: 158000, Commission: 15800, Reversals: 1, ReversedAmount: 58000, ReversedCommission: 5800}
	if diff := cmp.Diff(want, earningsOf(t, l)); diff != "" {
		t.Errorf("earnings (-want +got):\n%s", diff)
	}
	stats, err := l.Stats(ctx, []commission.StatsKey{{PromotionID: promo, Currency: "IDR"}, {PromotionID: promo, Currency: "USD"}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, stats[promo].Totals); diff != "" || len(stats) != 1 {
		t.Errorf("stats %v (-want +got):\n%s", stats, diff)
	}

	// The ledger holds the opaque reference and nothing of the buyer or the order.
	out, err := db.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, it := range out.Items {
		var k struct {
			PK string `dynamodbav:"pk"`
			SK string `dynamodbav:"sk"`
		}
		_ = attributevalue.UnmarshalMap(it, &k)
		kinds[k.SK]++
	}
	if diff := cmp.Diff(map[string]int{"EVENT": 2, "LINE": 1, "STATS#IDR": 1, "EARNINGS#IDR": 1}, kinds); diff != "" {
		t.Errorf("items by sort key (-want +got):\n%s", diff)
	}
}

// Concurrent refunds of one line all count once: the line's version serialises them.
func TestDynamoConcurrentRefunds(t *testing.T) {
	t.Parallel()
	db, table := dynamoEnv(t)
	ctx := context.Background()
	l := commission.NewLedger(commission.NewDynamoStore(db, table), ledgerTerms)
	if err := l.ApplyAttributed(ctx, "a1", attributed(100000, 10)); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := l.ApplyReversed(ctx, fmt.Sprintf("r%d", i), reversed(10000, 1)); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got := earningsOf(t, l)
	if got.Reversals != 8 || got.ReversedAmount != 80000 || got.ReversedCommission != 8000 {
		t.Errorf("after 8 concurrent refunds of 10000: %+v", got)
	}
}

// DynamoDB Local never reports TransactionConflict, so a middleware injects it: the
// ledger retries and applies the event once.
func TestDynamoTransactionConflictIsRetried(t *testing.T) {
	t.Parallel()
	db, table := dynamoEnv(t)
	var remaining atomic.Int32
	remaining.Store(2)
	inject := func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("injectTransactionConflict",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				if _, ok := in.Parameters.(*dynamodb.TransactWriteItemsInput); ok && remaining.Add(-1) >= 0 {
					return middleware.InitializeOutput{}, middleware.Metadata{}, &types.TransactionCanceledException{
						Message: aws.String("Transaction cancelled [None, None, TransactionConflict, None]"),
						CancellationReasons: []types.CancellationReason{
							{Code: aws.String("None")}, {Code: aws.String("None")},
							{Code: aws.String("TransactionConflict")}, {Code: aws.String("None")},
						},
					}
				}
				return next.HandleInitialize(ctx, in)
			}), middleware.Before)
	}
	faulty := dynamodb.New(db.Options(), func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, inject) })
	l := commission.NewLedger(commission.NewDynamoStore(faulty, table), ledgerTerms)
	if err := l.ApplyAttributed(context.Background(), "a1", attributed(85000, 1)); err != nil {
		t.Fatal(err)
	}
	if got := earningsOf(t, l); got.Sales != 1 || got.Commission != 8500 {
		t.Errorf("earnings = %+v, want one sale once", got)
	}
	if remaining.Load() >= 0 {
		t.Error("the fault was never injected")
	}
}
