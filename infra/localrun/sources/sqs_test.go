package sources

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/etalase/etalase/infra/localrun/invoke"
)

// msg returns a received message with an id, and a message group when group is set.
func msg(id, group string) types.Message {
	m := types.Message{MessageId: aws.String(id), ReceiptHandle: aws.String("rh-" + id), Body: aws.String("body " + id), Attributes: map[string]string{}}
	if group != "" {
		m.Attributes["MessageGroupId"] = group
	}
	return m
}

func TestParseSQSBatchResponse(t *testing.T) {
	batch := []types.Message{msg("a", ""), msg("b", ""), msg("c", "")}
	tests := []struct {
		name    string
		resp    string
		want    []string // failed ids
		wantErr string
	}{
		{"empty response", "", nil, ""},
		{"null response", "null", nil, ""},
		{"empty object", "{}", nil, ""},
		{"null list", `{"batchItemFailures":null}`, nil, ""},
		{"empty list", `{"batchItemFailures":[]}`, nil, ""},
		{"other fields only", `{"statusCode":200}`, nil, ""},
		{"misspelt list key is no list", `{"BatchItemFailures":[{"itemIdentifier":"a"}]}`, nil, ""},
		{"one failure", `{"batchItemFailures":[{"itemIdentifier":"b"}]}`, []string{"b"}, ""},
		{"two failures", ` {"batchItemFailures":[{"itemIdentifier":"c"},{"itemIdentifier":"a"}]} `, []string{"a", "c"}, ""},
		{"invalid JSON", `{"batchItemFailures":[`, nil, "not a batch response"},
		{"not an object", `"ok"`, nil, "not a batch response"},
		{"list not a list", `{"batchItemFailures":"a"}`, nil, "not a list"},
		{"empty identifier", `{"batchItemFailures":[{"itemIdentifier":""}]}`, nil, "empty"},
		{"null identifier", `{"batchItemFailures":[{"itemIdentifier":null}]}`, nil, "no itemIdentifier"},
		{"bad key name", `{"batchItemFailures":[{"itemId":"a"}]}`, nil, "no itemIdentifier"},
		{"wrong case key", `{"batchItemFailures":[{"ItemIdentifier":"a"}]}`, nil, "no itemIdentifier"},
		{"number identifier", `{"batchItemFailures":[{"itemIdentifier":1}]}`, nil, "not a string"},
		{"unknown message", `{"batchItemFailures":[{"itemIdentifier":"a"},{"itemIdentifier":"zz"}]}`, nil, "not a message of the batch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSQSBatchResponse([]byte(tt.resp), batch)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for id := range got {
				ids = append(ids, id)
			}
			sort.Strings(ids)
			if diff := cmp.Diff(tt.want, ids); diff != "" {
				t.Errorf("failed ids (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFIFOFailures(t *testing.T) {
	batch := []types.Message{msg("a1", "A"), msg("b1", "B"), msg("a2", "A"), msg("a3", "A"), msg("b2", "B"), msg("c1", "C")}
	tests := []struct {
		name   string
		failed []string
		want   []string
	}{
		{"none", nil, nil},
		{"first of a group keeps the group", []string{"a1"}, []string{"a1", "a2", "a3"}},
		{"middle keeps the rest", []string{"a2"}, []string{"a2", "a3"}},
		{"last", []string{"b2"}, []string{"b2"}},
		{"two groups", []string{"a2", "b1"}, []string{"b1", "a2", "a3", "b2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			failed := map[string]bool{}
			for _, id := range tt.failed {
				failed[id] = true
			}
			got := fifoFailures(batch, failed)
			var ids []string
			for _, m := range batch {
				if got[*m.MessageId] {
					ids = append(ids, *m.MessageId)
				}
			}
			if diff := cmp.Diff(tt.want, ids); diff != "" {
				t.Errorf("kept (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSQSEventShape(t *testing.T) {
	msgs := []types.Message{
		{
			MessageId: aws.String("059f36b4-87a3-44ab-83d2-661975830a7d"), ReceiptHandle: aws.String("AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a"),
			Body: aws.String("test"), MD5OfBody: aws.String("098f6bcd4621d373cade4e832627b4f6"),
			Attributes: map[string]string{"ApproximateReceiveCount": "1", "SentTimestamp": "1545082649183", "SenderId": "AIDAIENQZJOLO23YVJ4VO", "ApproximateFirstReceiveTimestamp": "1545082649185"},
		},
		{
			MessageId: aws.String("m2"), ReceiptHandle: aws.String("rh2"), Body: aws.String("x"), MD5OfBody: aws.String("9dd4e461268c8034f5c8564e155c67a6"),
			MD5OfMessageAttributes: aws.String("5b8e3a0f2b4f0c7a8f4c2d6e1a9b3c7d"),
			Attributes:             map[string]string{"ApproximateReceiveCount": "2", "MessageGroupId": "g", "MessageDeduplicationId": "d", "SequenceNumber": "18849496460467696128"},
			MessageAttributes: map[string]types.MessageAttributeValue{
				"kind": {DataType: aws.String("String"), StringValue: aws.String("ProductListed")},
				"raw":  {DataType: aws.String("Binary"), BinaryValue: []byte("1100")},
			},
		},
	}
	b, err := MarshalSQSEvent(SQSEvent(msgs, "arn:aws:sqs:us-east-2:123456789012:my-queue", "us-east-2"))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"Records":[` +
		`{"messageId":"059f36b4-87a3-44ab-83d2-661975830a7d","receiptHandle":"AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a","body":"test",` +
		`"md5OfBody":"098f6bcd4621d373cade4e832627b4f6",` +
		`"attributes":{"ApproximateFirstReceiveTimestamp":"1545082649185","ApproximateReceiveCount":"1","SenderId":"AIDAIENQZJOLO23YVJ4VO","SentTimestamp":"1545082649183"},` +
		`"messageAttributes":{},"eventSourceARN":"arn:aws:sqs:us-east-2:123456789012:my-queue","eventSource":"aws:sqs","awsRegion":"us-east-2"},` +
		`{"messageId":"m2","receiptHandle":"rh2","body":"x","md5OfBody":"9dd4e461268c8034f5c8564e155c67a6",` +
		`"attributes":{"ApproximateReceiveCount":"2","MessageDeduplicationId":"d","MessageGroupId":"g","SequenceNumber":"18849496460467696128"},` +
		`"messageAttributes":{"kind":{"stringValue":"ProductListed","stringListValues":[],"binaryListValues":[],"dataType":"String"},` +
		`"raw":{"binaryValue":"MTEwMA==","stringListValues":[],"binaryListValues":[],"dataType":"Binary"}},` +
		`"eventSourceARN":"arn:aws:sqs:us-east-2:123456789012:my-queue","eventSource":"aws:sqs","awsRegion":"us-east-2",` +
		`"md5OfMessageAttributes":"5b8e3a0f2b4f0c7a8f4c2d6e1a9b3c7d"}]}`
	if diff := cmp.Diff(want, string(b)); diff != "" {
		t.Errorf("event JSON (-want +got):\n%s", diff)
	}
	var ev events.SQSEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	if got := ev.Records[1].Md5OfMessageAttributes; got != "5b8e3a0f2b4f0c7a8f4c2d6e1a9b3c7d" {
		t.Errorf("decoded md5OfMessageAttributes %q", got)
	}
}

func TestSQSSourceCheck(t *testing.T) {
	base := func() SQSSource {
		return SQSSource{Client: &fakeSQS{}, Invoker: invoke.Func(nil), QueueURL: "http://q/000000000000/q", QueueARN: "arn:aws:sqs:ap-southeast-3:000000000000:q"}
	}
	tests := []struct {
		name    string
		edit    func(*SQSSource)
		wantErr string
	}{
		{"defaults", func(*SQSSource) {}, ""},
		{"no client", func(s *SQSSource) { s.Client = nil }, "no client"},
		{"no invoker", func(s *SQSSource) { s.Invoker = nil }, "no invoker"},
		{"no url", func(s *SQSSource) { s.QueueURL = "" }, "no queue URL"},
		{"batch too big", func(s *SQSSource) { s.BatchSize = 10001; s.MaximumBatchingWindow = time.Second }, "batch size"},
		{"big batch needs window", func(s *SQSSource) { s.BatchSize = 11 }, "needs a batching window"},
		{"big batch with window", func(s *SQSSource) { s.BatchSize = 100; s.MaximumBatchingWindow = time.Second }, ""},
		{"window too long", func(s *SQSSource) { s.MaximumBatchingWindow = 301 * time.Second }, "batching window"},
		{"fifo batch", func(s *SQSSource) { s.QueueURL += ".fifo"; s.BatchSize = 11; s.MaximumBatchingWindow = time.Second }, "FIFO"},
		{"fifo window", func(s *SQSSource) { s.QueueURL += ".fifo"; s.MaximumBatchingWindow = time.Second }, "not supported for FIFO"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := base()
			tt.edit(&s)
			r, err := s.check()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if r.region != "ap-southeast-3" {
					t.Errorf("region %q, want it from the ARN", r.region)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

// fakeSQS is an SQSClient that hands out one prepared batch and records deletions.
type fakeSQS struct {
	mu       sync.Mutex
	batches  [][]types.Message
	deleted  []string
	received chan struct{}
}

func (f *fakeSQS) ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, _ ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	f.mu.Lock()
	if len(f.batches) > 0 {
		b := f.batches[0]
		f.batches = f.batches[1:]
		f.mu.Unlock()
		return &sqs.ReceiveMessageOutput{Messages: b}, nil
	}
	f.mu.Unlock()
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(time.Duration(in.WaitTimeSeconds) * time.Second):
		return &sqs.ReceiveMessageOutput{}, nil
	}
}

func (f *fakeSQS) DeleteMessageBatch(_ context.Context, in *sqs.DeleteMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, e := range in.Entries {
		f.deleted = append(f.deleted, strings.TrimPrefix(*e.ReceiptHandle, "rh-"))
	}
	return &sqs.DeleteMessageBatchOutput{}, nil
}

func (f *fakeSQS) GetQueueAttributes(context.Context, *sqs.GetQueueAttributesInput, ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error) {
	return &sqs.GetQueueAttributesOutput{Attributes: map[string]string{"VisibilityTimeout": "30"}}, nil
}

// TestSQSSettle runs one batch through a source and checks what is deleted.
func TestSQSSettle(t *testing.T) {
	standard := []types.Message{msg("a1", ""), msg("b1", ""), msg("a2", "")}
	fifo := []types.Message{msg("a1", "A"), msg("b1", "B"), msg("a2", "A"), msg("a3", "A"), msg("b2", "B")}
	throttledOnce := func(resp string) invoke.Func {
		n := 0
		return func(context.Context, []byte) ([]byte, error) {
			if n++; n == 1 {
				return nil, invoke.ErrThrottled
			}
			return []byte(resp), nil
		}
	}
	respond := func(resp string, err error) invoke.Func {
		return func(context.Context, []byte) ([]byte, error) { return []byte(resp), err }
	}
	tests := []struct {
		name   string
		fifo   bool
		report bool
		fn     invoke.Func
		want   []string // deleted
	}{
		{"success deletes all", false, false, respond("null", nil), []string{"a1", "b1", "a2"}},
		{"response ignored without ReportBatchItemFailures", false, false, respond(`{"batchItemFailures":[{"itemIdentifier":"a1"}]}`, nil), []string{"a1", "b1", "a2"}},
		{"function error deletes none", false, true, respond("", &invoke.FunctionError{Type: "Unhandled", Message: "x"}), nil},
		{"partial failure", false, true, respond(`{"batchItemFailures":[{"itemIdentifier":"b1"}]}`, nil), []string{"a1", "a2"}},
		{"invalid response deletes none", false, true, respond(`{"batchItemFailures":[{"itemIdentifier":"nope"}]}`, nil), nil},
		{"throttled then success", false, false, throttledOnce(""), []string{"a1", "b1", "a2"}},
		{"fifo stops the group at its failure", true, true, respond(`{"batchItemFailures":[{"itemIdentifier":"a2"}]}`, nil), []string{"a1", "b1", "b2"}},
		{"fifo success", true, true, respond(`{}`, nil), []string{"a1", "b1", "a2", "a3", "b2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			batch := standard
			url := "http://q/000000000000/q"
			if tt.fifo {
				batch, url = fifo, url+".fifo"
			}
			f := &fakeSQS{batches: [][]types.Message{batch}}
			invoked := make(chan struct{}, 10)
			src := &SQSSource{Client: f, QueueURL: url, QueueARN: "arn:aws:sqs:r:000000000000:q", ReportBatchItemFailures: tt.report, PollWait: time.Second,
				Invoker: invoke.Func(func(ctx context.Context, p []byte) ([]byte, error) {
					defer func() { invoked <- struct{}{} }()
					return tt.fn(ctx, p)
				})}
			r, err := src.check()
			if err != nil {
				t.Fatal(err)
			}
			r.visibility = 30 * time.Second
			got, received, err := r.gather(context.Background())
			if err != nil || len(got) != len(batch) {
				t.Fatalf("gather = %d messages, %v", len(got), err)
			}
			r.settle(context.Background(), got, received)
			if diff := cmp.Diff(tt.want, f.deleted); diff != "" {
				t.Errorf("deleted (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGroupLocks(t *testing.T) {
	var g groupLocks
	ctx := context.Background()
	if !g.claim(ctx, []string{"A", "B"}) {
		t.Fatal("first claim failed")
	}
	got := make(chan bool)
	go func() { got <- g.claim(ctx, []string{"C", "B"}) }()
	select {
	case <-got:
		t.Fatal("a claim of a held group did not wait")
	case <-time.After(50 * time.Millisecond):
	}
	g.release([]string{"A", "B"})
	select {
	case ok := <-got:
		if !ok {
			t.Fatal("claim after release failed")
		}
	case <-time.After(2 * time.Second):
		t.Fatal("claim still waiting after release")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if g.claim(cctx, []string{"C"}) {
		t.Error("claim of a held group with a done context succeeded")
	}
}

func TestAppendLatest(t *testing.T) {
	again := msg("b", "")
	again.ReceiptHandle = aws.String("rh-b-2")
	got := appendLatest([]types.Message{msg("a", ""), msg("b", "")}, []types.Message{msg("c", ""), again})
	var handles []string
	for _, m := range got {
		handles = append(handles, *m.ReceiptHandle)
	}
	if diff := cmp.Diff([]string{"rh-a", "rh-b-2", "rh-c"}, handles); diff != "" {
		t.Errorf("receipt handles (-want +got):\n%s", diff)
	}
}
