package inbox_test

// Integration test against the SQS emulator and DynamoDB Local, with the social
// account's queues and tables created from template.yaml: the fixtures' messages go
// through the real SocialInboxQueue, and what the handler reports as failed stays there.

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/etalase/etalase/infra/localaccount"
	"github.com/etalase/etalase/infra/provision"
	"github.com/etalase/etalase/infra/samtemplate"
	"github.com/etalase/etalase/infra/testenv"
	"github.com/etalase/etalase/shared/social/commission"
	"github.com/etalase/etalase/shared/social/inbox"
	"github.com/etalase/etalase/shared/social/promotion"
	"github.com/etalase/etalase/shared/social/snapshot"
)

// The fixtures' promotion and creator.
const (
	fixturePromotion = "pr_mfrggzdfmztwq2lknnwg23tpob"
	fixtureCreator   = "c7a9e2d4-6b1f-4e8a-9c3d-2f5e7a1b0c9d"
	fixtureProduct   = "p_rocsknolsez4jj42y44l7ga3ou"
)

func TestThroughTheQueue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.DynamoDB(t, localaccount.Social)
	q := testenv.SQS(t, localaccount.Social)
	tpl, err := samtemplate.Load("../../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	res, err := provision.Provision(ctx, provision.Options{
		Template: tpl, Account: localaccount.Social,
		Params: map[string]string{"JwtIssuer": "https://id.etalase.example", "JwtAudience": "etalase-social"},
		Prefix: testenv.Prefix(t), DynamoDB: db, SQS: q,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, tb := range res.Tables {
			_, _ = db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(tb.Name)})
		}
		for _, qu := range res.Queues {
			_, _ = q.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: aws.String(qu.URL)})
		}
	})
	queueURL := res.Queues["SocialInboxQueue"].URL

	snapshots := snapshot.NewDynamoStore(db, res.Tables["SnapshotsTable"].Name)
	promotions := promotion.NewDynamoStore(db, res.Tables["PromotionsTable"].Name)
	ledger := commission.NewLedger(commission.NewDynamoStore(db, res.Tables["CommissionsTable"].Name), promotions)
	svc := promotion.NewService(promotions, snapshots, ledger, nil)
	h := inbox.NewHandler(snapshots, svc, ledger, nil)

	now := time.Now().UTC()
	if err := promotions.Create(ctx, promotion.Promotion{
		ID: fixturePromotion, CreatorID: fixtureCreator, ProductID: fixtureProduct, Kind: promotion.KindVideo,
		CommissionBps: 1000, Currency: "IDR", StartsAt: now, EndsAt: now.Add(time.Hour), Status: promotion.StatusActive,
		Version: 1, CreatedAt: now, UpdatedAt: now,
	}); err != nil {
		t.Fatal(err)
	}

	// Everything, out of order and twice, plus one poison message.
	send := batch(t, "product-updated.json", "sales-out-of-order-duplicate.json", "product-listed.json",
		"malformed.json", "sale-reversed.json", "product-updated.json")
	for _, m := range send.Records {
		if _, err := q.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(queueURL), MessageBody: aws.String(m.Body)}); err != nil {
			t.Fatal(err)
		}
	}
	failed := drain(t, q, queueURL, h, len(send.Records))
	if failed != 1 {
		t.Errorf("%d messages failed, want the poison one", failed)
	}

	snap, err := snapshots.Get(ctx, fixtureProduct)
	if err != nil || snap.Version != 2 || snap.Price.Amount != 79000 || !snap.Listed {
		t.Errorf("snapshot = %+v, %v; want version 2 at 79000", snap, err)
	}
	es, err := ledger.Earnings(ctx, fixtureCreator)
	if err != nil {
		t.Fatal(err)
	}
	want := []commission.Earnings{{CreatorID: fixtureCreator, Currency: "IDR", Totals: commission.Totals{
		Sales: 1, Units: 2, SalesAmount: 158000, Commission: 15800, Reversals: 1, ReversedAmount: 158000, ReversedCommission: 15800,
	}}}
	if diff := cmp.Diff(want, es); diff != "" {
		t.Errorf("earnings (-want +got):\n%s", diff)
	}

	// The delisting ends the promotion.
	if _, err := q.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(queueURL), MessageBody: aws.String(fixture(t, "product-delisted.json").Records[0].Body)}); err != nil {
		t.Fatal(err)
	}
	if failed := drain(t, q, queueURL, h, 1); failed != 0 {
		t.Errorf("the delisting failed")
	}
	p, err := promotions.Get(ctx, fixturePromotion)
	if err != nil || p.Status != promotion.StatusEnded || p.EndReason != promotion.EndedProductDelisted {
		t.Errorf("promotion = %+v, %v; want ended, product_delisted", p, err)
	}
	// The poison message is still in the queue, invisible until SQS redelivers it.
	attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(queueURL),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
	if err != nil {
		t.Fatal(err)
	}
	if n := attrs.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible)]; n != "1" {
		t.Errorf("in flight = %s, want the one failed message", n)
	}
}

// drain receives n messages as Lambda's SQS poller would, hands them to the handler in
// batches, deletes the ones it did not report, and returns how many it reported.
func drain(t *testing.T, q *sqs.Client, url string, h *inbox.Handler, n int) int {
	t.Helper()
	ctx := context.Background()
	received, failed := 0, 0
	deadline := time.Now().Add(20 * time.Second)
	for received < n {
		if time.Now().After(deadline) {
			t.Fatalf("received %d of %d messages", received, n)
		}
		out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10,
			WaitTimeSeconds: 1, MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll}})
		if err != nil {
			t.Fatal(err)
		}
		var ev events.SQSEvent
		for _, m := range out.Messages {
			ev.Records = append(ev.Records, events.SQSMessage{
				MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle), Body: aws.ToString(m.Body),
				Attributes: m.Attributes, EventSource: "aws:sqs",
			})
		}
		received += len(ev.Records)
		if len(ev.Records) == 0 {
			continue
		}
		resp, err := h.Handle(ctx, ev)
		if err != nil {
			t.Fatal(err)
		}
		bad := map[string]bool{}
		for _, f := range resp.BatchItemFailures {
			bad[f.ItemIdentifier] = true
		}
		failed += len(bad)
		for _, m := range ev.Records {
			if !bad[m.MessageId] {
				if _, err := q.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: aws.String(m.ReceiptHandle)}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	return failed
}
