package paymentevents_test

// Integration tests against DynamoDB Local and the SQS emulator, with PaymentEventsTable
// and PaymentEventsQueue as template.yaml declares them.

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/etalase/etalase/infra/localaccount"
	"github.com/etalase/etalase/infra/provision"
	"github.com/etalase/etalase/infra/samtemplate"
	"github.com/etalase/etalase/infra/testenv"
	"github.com/etalase/etalase/infra/testenv/ddbcount"
	"github.com/etalase/etalase/shared/commerce/payment"
	"github.com/etalase/etalase/shared/commerce/paymentevents"
	"github.com/etalase/etalase/shared/commerce/paymentevents/eventqueue"
)

func provisionCommerce(t *testing.T) (*provision.Resources, *dynamodb.Client, *sqs.Client) {
	t.Helper()
	db, q := testenv.DynamoDB(t, localaccount.Commerce), testenv.SQS(t, localaccount.Commerce)
	tpl, err := samtemplate.Load("../../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	res, err := provision.Provision(context.Background(), provision.Options{
		Template: tpl, Account: localaccount.Commerce,
		Params: map[string]string{"JwtIssuer": "https://id.etalase.example", "JwtAudience": "etalase"},
		Prefix: testenv.Prefix(t), DynamoDB: db, SQS: q,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, qu := range res.Queues {
			_, _ = q.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: aws.String(qu.URL)})
		}
	})
	return res, db, q
}

func TestStoreOnceIntegration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	res, db, _ := provisionCommerce(t)
	counter := ddbcount.New()
	store := paymentevents.NewStore(counter.Wrap(db), res.Tables["PaymentEventsTable"].Name)

	e, err := paymentevents.FromNotification(notification("partial_refund", payment.OutcomePartiallyRefunded, `{"refund_amount":"50000.00"}`), received)
	if err != nil {
		t.Fatal(err)
	}
	raw := []byte(`{"transaction_status":"partial_refund","refund_amount":"50000.00"}`)
	if _, fresh, err := store.PutOnce(ctx, e, raw); err != nil || !fresh {
		t.Fatalf("first put: fresh %v, %v", fresh, err)
	}
	if got := counter.Take().String(); got != "PutItem=1" {
		t.Errorf("a fresh put costs %s, want PutItem=1", got)
	}

	// The same key again: not stored, and the stored record comes back with the failed
	// condition, without a read.
	again := e
	again.ReceivedAt = received.Add(time.Minute)
	prior, fresh, err := store.PutOnce(ctx, again, []byte(`{}`))
	if err != nil || fresh {
		t.Fatalf("duplicate put: fresh %v, %v", fresh, err)
	}
	if got := counter.Take(); got.Total() > 2 || got.Writes() != 1 {
		t.Errorf("a duplicate put costs %s", got)
	}
	if prior.Key != e.Key || !prior.ReceivedAt.Equal(received) || string(prior.Body) != string(raw) || prior.RefundAmount != idr(50000) || prior.Processed() {
		t.Errorf("prior %+v", prior)
	}

	// The TTL attribute: epoch seconds, Retention (>= 4 days) after receipt.
	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(res.Tables["PaymentEventsTable"].Name), Key: paymentevents.Key(e.Key)})
	if err != nil {
		t.Fatal(err)
	}
	n, ok := out.Item["expiresAt"].(*types.AttributeValueMemberN)
	if !ok {
		t.Fatalf("expiresAt = %#v", out.Item["expiresAt"])
	}
	secs, _ := strconv.ParseInt(n.Value, 10, 64)
	if secs != received.Add(paymentevents.Retention).Unix() || paymentevents.Retention < 4*24*time.Hour {
		t.Errorf("expiresAt %d is %s after receipt", secs, time.Unix(secs, 0).Sub(received))
	}

	// Marking: once processed, the first time stays.
	if err := store.MarkProcessed(ctx, e.Key, "applied", received.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := store.MarkProcessed(ctx, e.Key, "noop", received.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, err := store.Get(ctx, e.Key)
	if err != nil {
		t.Fatal(err)
	}
	if !got.ProcessedAt.Equal(received.Add(time.Second)) || got.Outcome != "noop" {
		t.Errorf("processed %s %q", got.ProcessedAt, got.Outcome)
	}
	if err := store.MarkProcessed(ctx, "midtrans/never-stored", "applied", received); err != nil {
		t.Errorf("marking an unknown key: %v", err)
	}
	if _, err := store.Get(ctx, "midtrans/never-stored"); err == nil {
		t.Error("marking created a record")
	}
}

func TestQueueIntegration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	res, _, q := provisionCommerce(t)
	url := res.Queues["PaymentEventsQueue"].URL
	queue := eventqueue.New(q, url)
	e, err := paymentevents.FromNotification(notification("settlement", payment.OutcomePaid, `{}`), received)
	if err != nil {
		t.Fatal(err)
	}
	// Sent twice within the deduplication interval: delivered once.
	for range 2 {
		if err := queue.Send(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) != 1 {
		t.Fatalf("received %d messages", len(out.Messages))
	}
	m := out.Messages[0]
	if m.Attributes["MessageGroupId"] != e.OrderID || m.Attributes["MessageDeduplicationId"] != paymentevents.DedupID(e.Key) {
		t.Errorf("attributes %v", m.Attributes)
	}
	if back, err := paymentevents.ParseMessage(aws.ToString(m.Body)); err != nil || back.Key != e.Key {
		t.Errorf("body: %+v, %v", back, err)
	}
	if _, err := q.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
	out, err = q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) != 0 {
		t.Errorf("the second send was delivered too")
	}
	// After a delete, still within the interval, a third send is dropped as well.
	if err := queue.Send(ctx, e); err != nil {
		t.Fatal(err)
	}
	out, err = q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) != 0 {
		t.Errorf("a send after the delete was delivered")
	}
}
