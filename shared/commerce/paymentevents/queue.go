package paymentevents

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
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

// NewQueue returns the queue at url.
func NewQueue(client SQSAPI, url string) *Queue { return &Queue{client: client, url: url} }

// Send enqueues e: one SendMessage, in e's order's message group (so the consumer sees
// one order's notifications one at a time, in order), deduplicated by DedupID(e.Key)
// (so that sending the same notification again within 5 minutes delivers nothing).
func (q *Queue) Send(ctx context.Context, e Event) error {
	body, err := MarshalMessage(e)
	if err != nil {
		return err
	}
	_, err = q.client.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:               aws.String(q.url),
		MessageBody:            aws.String(body),
		MessageGroupId:         aws.String(e.OrderID),
		MessageDeduplicationId: aws.String(DedupID(e.Key)),
	})
	if err != nil {
		return fmt.Errorf("enqueue payment event %s: %w", e.Key, err)
	}
	return nil
}
