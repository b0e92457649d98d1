package relay_test

// Integration test against the SQS emulator: the relay publishes the fixture's records
// to the social inbox queue as the template creates it, and a queue that does not exist
// makes it report the records for the stream to retry.

import (
	"context"
	"log/slog"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/etalase/etalase/infra/localaccount"
	"github.com/etalase/etalase/infra/provision"
	"github.com/etalase/etalase/infra/samtemplate"
	"github.com/etalase/etalase/infra/testenv"
	"github.com/etalase/etalase/shared/commerce/relay"
	"github.com/etalase/etalase/shared/contract"
)

func TestPublishToTheEmulatedInbox(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	social := testenv.SQS(t, localaccount.Social)
	tpl, err := samtemplate.Load("../../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	res, err := provision.Provision(ctx, provision.Options{
		Template: tpl, Account: localaccount.Social,
		Params: map[string]string{"JwtIssuer": "https://id.etalase.example", "JwtAudience": "etalase"},
		Prefix: testenv.Prefix(t), DynamoDB: testenv.DynamoDB(t, localaccount.Social), SQS: social,
	})
	if err != nil {
		t.Fatal(err)
	}
	inbox := res.Queues["SocialInboxQueue"].URL
	t.Cleanup(func() {
		for _, q := range res.Queues {
			_, _ = social.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: aws.String(q.URL)})
		}
	})

	// The relay sends with the commerce account's client, as across accounts.
	commerce := testenv.SQS(t, localaccount.Commerce)
	v, err := contract.NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	h, err := relay.NewHandler(commerce, inbox, v, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := h.Handle(ctx, fixture(t))
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("Handle = %v, %v", seqs(resp), err)
	}
	got := map[string]string{}
	for len(got) < 2 {
		out, err := social.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(inbox), MaxNumberOfMessages: 10,
			WaitTimeSeconds: 2, MessageAttributeNames: []string{"All"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			t.Fatalf("received %d of 2 messages", len(got))
		}
		for _, m := range out.Messages {
			if err := v.ValidateMessage([]byte(aws.ToString(m.Body))); err != nil {
				t.Errorf("received message breaks the contract: %v", err)
			}
			got[aws.ToString(m.MessageAttributes[contract.MessageAttributeType].StringValue)] = aws.ToString(m.Body)
		}
	}
	if got[contract.EventProductListed] == "" || got[contract.EventSaleAttributed] == "" {
		t.Errorf("received types %v", got)
	}

	// An unreachable queue: every record is reported for the stream to retry.
	h, err = relay.NewHandler(commerce, inbox+"-missing", v, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	resp, _ = h.Handle(ctx, fixture(t))
	if len(resp.BatchItemFailures) != 2 {
		t.Errorf("failures = %v, want the two sendable records", seqs(resp))
	}
}
