// Package eventqueue sends payment events to PaymentEventsQueue, the payments
// consumer's FIFO queue: the webhook's send. It is apart from package paymentevents so
// that the functions that only store, read or apply payment events (payments,
// reconcile) do not link the SDK's SQS client, whose package initialisation costs
// every cold start over a millisecond (docs/bench.md).
package eventqueue

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/etalase/etalase/shared/commerce/paymentevents"
)

// SQSAPI is the part of the SQS client Queue uses.
type SQSAPI interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// Queue sends events to PaymentEventsQueue, a FIFO queue.
type Queue struct {
	client SQSAPI
	url    string
}

// New returns the queue at url.
func New(client SQSAPI, url string) *Queue { return &Queue{client: client, url: url} }

// Send enqueues e: one SendMessage, in e's order's message group (so the consumer sees
// one order's notifications one at a time, in order), deduplicated by DedupID(e.Key)
// (so that sending the same notification again within 5 minutes delivers nothing).
func (q *Queue) Send(ctx context.Context, e paymentevents.Event) error {
	body, err := paymentevents.MarshalMessage(e)
	if err != nil {
		return err
	}
	_, err = q.client.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:               aws.String(q.url),
		MessageBody:            aws.String(body),
		MessageGroupId:         aws.String(e.OrderID),
		MessageDeduplicationId: aws.String(paymentevents.DedupID(e.Key)),
	})
	if err != nil {
		return fmt.Errorf("enqueue payment event %s: %w", e.Key, err)
	}
	return nil
}
