package eventqueue_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/etalase/etalase/shared/commerce/money"
	"github.com/etalase/etalase/shared/commerce/payment"
	"github.com/etalase/etalase/shared/commerce/paymentevents"
	"github.com/etalase/etalase/shared/commerce/paymentevents/eventqueue"
)

var received = time.Date(2026, 1, 1, 0, 15, 3, 123456789, time.UTC)

func notification() payment.Notification {
	return payment.Notification{
		Provider: "midtrans", NotificationID: "tx-1:settlement:200", OrderID: "o_rocsknolsez4jj42y44l7ga3ou",
		Amount: money.Money{Amount: 170000, Currency: "IDR"}, Status: "settlement", FraudStatus: "accept",
		Outcome: payment.OutcomePaid, ProviderRef: "tx-1", Raw: []byte(`{}`),
	}
}

type fakeSQS struct{ in *sqs.SendMessageInput }

func (f *fakeSQS) SendMessage(_ context.Context, in *sqs.SendMessageInput, _ ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	f.in = in
	return &sqs.SendMessageOutput{MessageId: aws.String("m-1")}, nil
}

func TestQueueSend(t *testing.T) {
	e, err := paymentevents.FromNotification(notification(), received)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeSQS{}
	if err := eventqueue.New(f, "https://sqs/q.fifo").Send(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	if aws.ToString(f.in.MessageGroupId) != e.OrderID || aws.ToString(f.in.MessageDeduplicationId) != paymentevents.DedupID(e.Key) ||
		aws.ToString(f.in.QueueUrl) != "https://sqs/q.fifo" || !json.Valid([]byte(aws.ToString(f.in.MessageBody))) {
		t.Errorf("SendMessage input %+v", f.in)
	}
	if err := eventqueue.New(f, "q").Send(context.Background(), paymentevents.Event{}); !errors.Is(err, paymentevents.ErrInvalidEvent) {
		t.Errorf("an invalid event: err = %v", err)
	}
}
