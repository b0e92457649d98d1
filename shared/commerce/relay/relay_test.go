package relay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/etalase/etalase/shared/commerce/relay"
	"github.com/etalase/etalase/shared/contract"
	"github.com/etalase/etalase/shared/contract/schemacheck"
)

const (
	inboxURL    = "https://sqs.ap-southeast-3.amazonaws.com/111111111111/etalase-social-inbox"
	internalURL = "https://sqs.ap-southeast-3.amazonaws.com/222222222222/etalase-order-expiry"
)

// fakeSQS records batches and fails entries or calls on demand.
type fakeSQS struct {
	mu      sync.Mutex
	batches []*sqs.SendMessageBatchInput
	// failEntry fails entry Id "n" of call number call (1-based) when set.
	failCall  int
	failEntry string
	callErr   error
}

func (f *fakeSQS) SendMessageBatch(_ context.Context, in *sqs.SendMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.batches = append(f.batches, in)
	call := len(f.batches)
	if f.callErr != nil && call == f.failCall {
		return nil, f.callErr
	}
	out := &sqs.SendMessageBatchOutput{}
	for _, e := range in.Entries {
		if call == f.failCall && aws.ToString(e.Id) == f.failEntry {
			out.Failed = append(out.Failed, sqstypes.BatchResultErrorEntry{Id: e.Id, Code: aws.String("InternalError"), Message: aws.String("try again"), SenderFault: false})
			continue
		}
		out.Successful = append(out.Successful, sqstypes.SendMessageBatchResultEntry{Id: e.Id, MessageId: aws.String("m-" + aws.ToString(e.Id))})
	}
	return out, nil
}

func fixture(t *testing.T) events.DynamoDBEvent {
	t.Helper()
	raw, err := os.ReadFile("../../../events/commerce/relay/outbox-stream.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev events.DynamoDBEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

func newHandler(t *testing.T, f *fakeSQS, logs *bytes.Buffer, opts ...relay.Option) *relay.Handler {
	t.Helper()
	v, err := schemacheck.New()
	if err != nil {
		t.Fatal(err)
	}
	h, err := relay.NewHandler(f, inboxURL, v, slog.New(slog.NewJSONHandler(logs, nil)), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func seqs(resp events.DynamoDBEventResponse) []string {
	var out []string
	for _, f := range resp.BatchItemFailures {
		out = append(out, f.ItemIdentifier)
	}
	return out
}

// The catalog and sale records go to the social inbox as contract envelopes; the
// internal event without a route and the TTL removal are not sent.
func TestPublishesCrossAccountEvents(t *testing.T) {
	f := &fakeSQS{}
	var logs bytes.Buffer
	h := newHandler(t, f, &logs)
	resp, err := h.Handle(context.Background(), fixture(t))
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("Handle = %v, %v", seqs(resp), err)
	}
	if len(f.batches) != 1 || aws.ToString(f.batches[0].QueueUrl) != inboxURL || len(f.batches[0].Entries) != 2 {
		t.Fatalf("batches = %+v", f.batches)
	}
	v, _ := schemacheck.New()
	var envs []contract.Envelope
	for _, e := range f.batches[0].Entries {
		body := aws.ToString(e.MessageBody)
		if err := v.ValidateMessage([]byte(body)); err != nil {
			t.Errorf("message breaks the contract: %v", err)
		}
		if strings.Contains(body, "o_01JGZK3M5Q7R9T2V4X6Z8B0D2F") || strings.Contains(body, "aggregateId") {
			t.Errorf("the order id (the outbox's aggregate id) crossed: %s", body)
		}
		var env contract.Envelope
		if err := json.Unmarshal([]byte(body), &env); err != nil {
			t.Fatal(err)
		}
		if got := aws.ToString(e.MessageAttributes[contract.MessageAttributeType].StringValue); got != env.Type {
			t.Errorf("eventType attribute %q, envelope type %q", got, env.Type)
		}
		envs = append(envs, env)
	}
	if envs[0].EventID != "3f1c2a9e-7b4d-4e6a-8c2f-1d9e0a7b5c31" || envs[0].Type != contract.EventProductListed ||
		envs[0].SchemaVersion != 1 || envs[0].CorrelationID != "Yc1aBhXYoAMEbOQ=" ||
		envs[0].OccurredAt.Format("2006-01-02T15:04:05.000000000Z") != "2026-01-01T00:10:00.123456789Z" {
		t.Errorf("listed envelope = %+v", envs[0])
	}
	if envs[1].Type != contract.EventSaleAttributed || envs[1].CorrelationID != envs[1].EventID {
		t.Errorf("sale envelope = %+v; without a correlation id the event id is the correlation id", envs[1])
	}
	if !strings.Contains(logs.String(), "no route for this event type") {
		t.Errorf("the unrouted record was not logged:\n%s", logs.String())
	}
}

func TestInternalRoute(t *testing.T) {
	f := &fakeSQS{}
	var logs bytes.Buffer
	h := newHandler(t, f, &logs, relay.WithInternalRoute("OrderExpiryScheduled", internalURL),
		relay.WithInternalRoute(contract.EventSaleAttributed, internalURL)) // cannot reroute a cross-account type
	resp, _ := h.Handle(context.Background(), fixture(t))
	if len(resp.BatchItemFailures) != 0 || len(f.batches) != 2 {
		t.Fatalf("failures %v, batches %d", seqs(resp), len(f.batches))
	}
	if aws.ToString(f.batches[0].QueueUrl) != inboxURL || len(f.batches[0].Entries) != 2 {
		t.Errorf("first batch: %s, %d entries", aws.ToString(f.batches[0].QueueUrl), len(f.batches[0].Entries))
	}
	if aws.ToString(f.batches[1].QueueUrl) != internalURL || len(f.batches[1].Entries) != 1 {
		t.Fatalf("second batch: %s, %d entries", aws.ToString(f.batches[1].QueueUrl), len(f.batches[1].Entries))
	}
	var m relay.InternalMessage
	if err := json.Unmarshal([]byte(aws.ToString(f.batches[1].Entries[0].MessageBody)), &m); err != nil {
		t.Fatal(err)
	}
	if m.AggregateID != "o_01JGZK3M5Q7R9T2V4X6Z8B0D2F" || m.Type != "OrderExpiryScheduled" {
		t.Errorf("internal message = %+v", m)
	}
}

// record builds an outbox INSERT for a catalog event.
func record(seq int, payload string) events.DynamoDBEventRecord {
	s := func(v string) events.DynamoDBAttributeValue { return events.NewStringAttribute(v) }
	return events.DynamoDBEventRecord{
		EventName: "INSERT",
		Change: events.DynamoDBStreamRecord{
			SequenceNumber: fmt.Sprintf("%021d", seq),
			NewImage: map[string]events.DynamoDBAttributeValue{
				"eventId": s(fmt.Sprintf("00000000-0000-4000-8000-%012d", seq)), "eventType": s(contract.EventProductUpdated),
				"aggregateId": s("p_rocsknolsez4jj42y44l7ga3ou"), "schemaVersion": events.NewNumberAttribute("1"),
				"occurredAt": s("2026-01-02T03:04:05Z"), "correlationId": s("req"), "payload": s(payload),
				"expiresAt": events.NewNumberAttribute("1767927845"),
			},
		},
	}
}

const goodPayload = `{"productId":"p_rocsknolsez4jj42y44l7ga3ou","sellerId":"s","title":"t","imageUrl":"/i.jpg","price":{"amount":1,"currency":"IDR"},"inStock":true,"version":2}`

func stream(n int) events.DynamoDBEvent {
	var ev events.DynamoDBEvent
	for i := 1; i <= n; i++ {
		ev.Records = append(ev.Records, record(i, goodPayload))
	}
	return ev
}

// Batches of at most ten, in stream order; a failed entry is reported with every
// record after it, by sequence number, and nothing after it is sent.
func TestPartialFailures(t *testing.T) {
	f := &fakeSQS{}
	h := newHandler(t, f, &bytes.Buffer{})
	resp, _ := h.Handle(context.Background(), stream(25))
	if len(resp.BatchItemFailures) != 0 || len(f.batches) != 3 || len(f.batches[0].Entries) != 10 || len(f.batches[2].Entries) != 5 {
		t.Fatalf("failures %v, batches %d", seqs(resp), len(f.batches))
	}

	f = &fakeSQS{failCall: 2, failEntry: "3"} // the 14th record
	h = newHandler(t, f, &bytes.Buffer{})
	resp, _ = h.Handle(context.Background(), stream(25))
	var want []string
	for i := 14; i <= 25; i++ {
		want = append(want, fmt.Sprintf("%021d", i))
	}
	if diff := cmp.Diff(want, seqs(resp)); diff != "" {
		t.Errorf("reported (-want +got):\n%s", diff)
	}
	if len(f.batches) != 2 {
		t.Errorf("%d batches sent, want none after the failure", len(f.batches))
	}

	f = &fakeSQS{failCall: 1, callErr: errors.New("AWS.SimpleQueueService.NonExistentQueue")}
	h = newHandler(t, f, &bytes.Buffer{})
	resp, _ = h.Handle(context.Background(), stream(3))
	if diff := cmp.Diff([]string{"000000000000000000001", "000000000000000000002", "000000000000000000003"}, seqs(resp)); diff != "" {
		t.Errorf("a failed call reports the whole batch (-want +got):\n%s", diff)
	}
}

// A payload that breaks the contract (here: a buyer's email) never leaves commerce;
// nor does an unreadable record. Both are logged and acknowledged.
func TestWithholdsWhatBreaksTheContract(t *testing.T) {
	f := &fakeSQS{}
	var logs bytes.Buffer
	h := newHandler(t, f, &logs)
	leaky := strings.Replace(goodPayload, `"version":2`, `"version":2,"buyerEmail":"siti@example.id"`, 1)
	broken := record(3, goodPayload)
	delete(broken.Change.NewImage, "occurredAt")
	ev := events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{record(1, goodPayload), record(2, leaky), broken, record(4, `not json`)}}
	resp, _ := h.Handle(context.Background(), ev)
	if len(resp.BatchItemFailures) != 0 {
		t.Errorf("failures = %v", seqs(resp))
	}
	if len(f.batches) != 1 || len(f.batches[0].Entries) != 1 {
		t.Fatalf("sent %+v, want only the good record", f.batches)
	}
	for _, b := range f.batches {
		for _, e := range b.Entries {
			if strings.Contains(aws.ToString(e.MessageBody), "siti@example.id") {
				t.Error("a buyer's email crossed the boundary")
			}
		}
	}
	if !strings.Contains(logs.String(), "withheld from social") || !strings.Contains(logs.String(), "unreadable") {
		t.Errorf("logs:\n%s", logs.String())
	}
}

func TestNewHandlerNeedsItsParts(t *testing.T) {
	v, _ := schemacheck.New()
	if _, err := relay.NewHandler(nil, inboxURL, v, nil); err == nil {
		t.Error("no client accepted")
	}
	if _, err := relay.NewHandler(&fakeSQS{}, "", v, nil); err == nil {
		t.Error("no inbox URL accepted")
	}
}

func TestFromStreamImage(t *testing.T) {
	img := map[string]events.DynamoDBAttributeValue{
		"s": events.NewStringAttribute("x"), "n": events.NewNumberAttribute("12"), "b": events.NewBinaryAttribute([]byte{1}),
		"t": events.NewBooleanAttribute(true), "z": events.NewNullAttribute(),
		"l":  events.NewListAttribute([]events.DynamoDBAttributeValue{events.NewStringAttribute("a")}),
		"m":  events.NewMapAttribute(map[string]events.DynamoDBAttributeValue{"k": events.NewNumberAttribute("1")}),
		"ss": events.NewStringSetAttribute([]string{"a", "b"}), "ns": events.NewNumberSetAttribute([]string{"1"}),
		"bs": events.NewBinarySetAttribute([][]byte{{2}}),
	}
	got, err := relay.FromStreamImage(img)
	if err != nil || len(got) != len(img) {
		t.Fatalf("FromStreamImage = %v, %v", got, err)
	}
	if _, err := relay.FromStreamImage(nil); err == nil {
		t.Error("an empty image was accepted")
	}
}
