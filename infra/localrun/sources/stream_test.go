package sources

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/etalase/etalase/infra/localrun/invoke"
)

// record returns an INSERT stream record of item pk with a sequence number.
func record(pk string, seq int) types.Record {
	return types.Record{
		EventID: aws.String("ev-" + pk), EventName: types.OperationTypeInsert, EventVersion: aws.String("1.1"),
		EventSource: aws.String("aws:dynamodb"), AwsRegion: aws.String("ddblocal"),
		Dynamodb: &types.StreamRecord{
			Keys:           map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}},
			NewImage:       map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}},
			SequenceNumber: aws.String(fmt.Sprintf("%021d", seq)),
			SizeBytes:      aws.Int64(10),
			StreamViewType: types.StreamViewTypeNewImage,
		},
	}
}

func TestStreamFailure(t *testing.T) {
	batch := []types.Record{record("a", 100), record("b", 200), record("c", 300)}
	tests := []struct {
		name    string
		resp    string
		want    int
		wantErr string
	}{
		{"null", "null", -1, ""},
		{"empty list", `{"batchItemFailures":[]}`, -1, ""},
		{"one", `{"batchItemFailures":[{"itemIdentifier":"000000000000000000200"}]}`, 1, ""},
		{"lowest of several counts", `{"batchItemFailures":[{"itemIdentifier":"000000000000000000300"},{"itemIdentifier":"000000000000000000200"}]}`, 1, ""},
		{"empty identifier", `{"batchItemFailures":[{"itemIdentifier":""}]}`, 0, "empty"},
		{"null identifier", `{"batchItemFailures":[{"itemIdentifier":null}]}`, 0, "no itemIdentifier"},
		{"bad key", `{"batchItemFailures":[{"sequenceNumber":"000000000000000000200"}]}`, 0, "no itemIdentifier"},
		{"unknown", `{"batchItemFailures":[{"itemIdentifier":"999"}]}`, 0, "not a sequence number of the batch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := streamFailure([]byte(tt.resp), batch)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("streamFailure = %d, %v; want %d", got, err, tt.want)
			}
		})
	}
}

func TestDynamoDBEventShape(t *testing.T) {
	created := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	rec := types.Record{
		EventID: aws.String("c4ca4238a0b923820dcc509a6f75849b"), EventName: types.OperationTypeModify, EventVersion: aws.String("1.1"),
		EventSource: aws.String("aws:dynamodb"), AwsRegion: aws.String("ddblocal"),
		Dynamodb: &types.StreamRecord{
			ApproximateCreationDateTime: &created,
			Keys:                        map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "p#1"}},
			NewImage: map[string]types.AttributeValue{
				"pk": &types.AttributeValueMemberS{Value: "p#1"}, "n": &types.AttributeValueMemberN{Value: "12.50"},
				"ok": &types.AttributeValueMemberBOOL{Value: true}, "z": &types.AttributeValueMemberNULL{Value: true},
				"b": &types.AttributeValueMemberB{Value: []byte("hi")}, "ss": &types.AttributeValueMemberSS{Value: []string{"x", "y"}},
				"l": &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberN{Value: "1"}, &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"k": &types.AttributeValueMemberS{Value: "v"}}}}},
			},
			OldImage:       map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "p#1"}, "n": &types.AttributeValueMemberN{Value: "10"}},
			SequenceNumber: aws.String("111"), SizeBytes: aws.Int64(26), StreamViewType: types.StreamViewTypeNewAndOldImages,
		},
		UserIdentity: &types.Identity{Type: aws.String("Service"), PrincipalId: aws.String("dynamodb.amazonaws.com")},
	}
	b, err := json.Marshal(DynamoDBEvent([]types.Record{rec}, "arn:aws:dynamodb:ap-southeast-3:222222222222:table/outbox/stream/2026-03-01T00:00:00.000", "ap-southeast-3"))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"Records": []any{map[string]any{
		"eventID": "c4ca4238a0b923820dcc509a6f75849b", "eventName": "MODIFY", "eventVersion": "1.1", "eventSource": "aws:dynamodb",
		"awsRegion":      "ap-southeast-3",
		"eventSourceARN": "arn:aws:dynamodb:ap-southeast-3:222222222222:table/outbox/stream/2026-03-01T00:00:00.000",
		"dynamodb": map[string]any{
			"ApproximateCreationDateTime": float64(created.Unix()),
			"Keys":                        map[string]any{"pk": map[string]any{"S": "p#1"}},
			"NewImage": map[string]any{
				"pk": map[string]any{"S": "p#1"}, "n": map[string]any{"N": "12.50"}, "ok": map[string]any{"BOOL": true},
				"z": map[string]any{"NULL": true}, "b": map[string]any{"B": "aGk="}, "ss": map[string]any{"SS": []any{"x", "y"}},
				"l": map[string]any{"L": []any{map[string]any{"N": "1"}, map[string]any{"M": map[string]any{"k": map[string]any{"S": "v"}}}}},
			},
			"OldImage":       map[string]any{"pk": map[string]any{"S": "p#1"}, "n": map[string]any{"N": "10"}},
			"SequenceNumber": "111", "SizeBytes": float64(26), "StreamViewType": "NEW_AND_OLD_IMAGES",
		},
		"userIdentity": map[string]any{"type": "Service", "principalId": "dynamodb.amazonaws.com"},
	}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("event (-want +got):\n%s", diff)
	}
	var ev events.DynamoDBEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	if n := ev.Records[0].Change.NewImage["n"].Number(); n != "12.50" {
		t.Errorf("decoded number %q", n)
	}
}

// fakeShard is one shard of a fakeStreams.
type fakeShard struct {
	id, parent string
	recs       []types.Record
	closed     bool
}

// fakeStreams is a StreamsClient over fixed shards; iterators are "shard/position".
type fakeStreams struct{ shards []fakeShard }

func (f *fakeStreams) DescribeStream(context.Context, *dynamodbstreams.DescribeStreamInput, ...func(*dynamodbstreams.Options)) (*dynamodbstreams.DescribeStreamOutput, error) {
	var shards []types.Shard
	for _, s := range f.shards {
		sh := types.Shard{ShardId: aws.String(s.id), SequenceNumberRange: &types.SequenceNumberRange{StartingSequenceNumber: aws.String("0")}}
		if s.parent != "" {
			sh.ParentShardId = aws.String(s.parent)
		}
		if s.closed {
			sh.SequenceNumberRange.EndingSequenceNumber = aws.String("999")
		}
		shards = append(shards, sh)
	}
	return &dynamodbstreams.DescribeStreamOutput{StreamDescription: &types.StreamDescription{Shards: shards}}, nil
}

func (f *fakeStreams) shard(id string) (int, *fakeShard) {
	for i := range f.shards {
		if f.shards[i].id == id {
			return i, &f.shards[i]
		}
	}
	return -1, nil
}

func (f *fakeStreams) GetShardIterator(_ context.Context, in *dynamodbstreams.GetShardIteratorInput, _ ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetShardIteratorOutput, error) {
	_, s := f.shard(*in.ShardId)
	pos := 0
	switch in.ShardIteratorType {
	case types.ShardIteratorTypeLatest:
		pos = len(s.recs)
	case types.ShardIteratorTypeAfterSequenceNumber:
		for i, r := range s.recs {
			if *r.Dynamodb.SequenceNumber == *in.SequenceNumber {
				pos = i + 1
			}
		}
	}
	return &dynamodbstreams.GetShardIteratorOutput{ShardIterator: aws.String(fmt.Sprintf("%s/%d", s.id, pos))}, nil
}

func (f *fakeStreams) GetRecords(_ context.Context, in *dynamodbstreams.GetRecordsInput, _ ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error) {
	id, p, _ := strings.Cut(*in.ShardIterator, "/")
	pos, _ := strconv.Atoi(p)
	_, s := f.shard(id)
	end := min(len(s.recs), pos+int(aws.ToInt32(in.Limit)))
	out := &dynamodbstreams.GetRecordsOutput{Records: s.recs[pos:end]}
	if !s.closed || end < len(s.recs) {
		out.NextShardIterator = aws.String(fmt.Sprintf("%s/%d", id, end))
	}
	return out, nil
}

// streamFn is a fake function: it records the items of each invocation and answers
// as behave says, given how often it has seen the batch's first item.
type streamFn struct {
	mu          sync.Mutex
	invocations [][]string
	delivered   []string // items of invocations that succeeded, up to a reported failure
	seen        map[string]int
	behave      func(items []string, seqs []string, seen map[string]int) (resp string, err error)
	report      bool
}

func (f *streamFn) Invoke(_ context.Context, payload []byte) ([]byte, error) {
	var ev events.DynamoDBEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, err
	}
	var items, seqs []string
	for _, r := range ev.Records {
		items = append(items, r.Change.Keys["pk"].String())
		seqs = append(seqs, r.Change.SequenceNumber)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.invocations = append(f.invocations, items)
	for _, it := range items {
		f.seen[it]++
	}
	resp, err := f.behave(items, seqs, f.seen)
	if err == nil {
		ok := items
		if f.report {
			at, perr := streamFailure([]byte(resp), ev2records(seqs))
			switch {
			case perr != nil:
				ok = nil
			case at >= 0:
				ok = items[:at]
			}
		}
		f.delivered = append(f.delivered, ok...)
	}
	return []byte(resp), err
}

// ev2records makes records that carry only sequence numbers, for streamFailure.
func ev2records(seqs []string) []types.Record {
	out := make([]types.Record, len(seqs))
	for i, s := range seqs {
		out[i] = types.Record{Dynamodb: &types.StreamRecord{SequenceNumber: aws.String(s)}}
	}
	return out
}

func (f *streamFn) snapshot() (inv [][]string, delivered []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]string{}, f.invocations...), append([]string{}, f.delivered...)
}

func TestStreamSourceRetries(t *testing.T) {
	items := func(n int) []types.Record {
		var out []types.Record
		for i := range n {
			out = append(out, record("r"+strconv.Itoa(i), i+1))
		}
		return out
	}
	fnErr := &invoke.FunctionError{Type: "Unhandled", Message: "poison"}
	has := func(items []string, it string) bool {
		for _, x := range items {
			if x == it {
				return true
			}
		}
		return false
	}
	tests := []struct {
		name            string
		src             StreamSource
		shards          []fakeShard
		behave          func(items, seqs []string, seen map[string]int) (string, error)
		wantInvocations [][]string
		wantDelivered   []string
	}{
		{
			name:   "function error retries the same batch until it succeeds",
			src:    StreamSource{BatchSize: 5, MaximumRetryAttempts: -1},
			shards: []fakeShard{{id: "s1", recs: items(3), closed: true}},
			behave: func(items, _ []string, seen map[string]int) (string, error) {
				if seen["r1"] <= 2 {
					return "", fnErr
				}
				return "", nil
			},
			wantInvocations: [][]string{{"r0", "r1", "r2"}, {"r0", "r1", "r2"}, {"r0", "r1", "r2"}},
			wantDelivered:   []string{"r0", "r1", "r2"},
		},
		{
			name:   "retries used up discard the batch",
			src:    StreamSource{BatchSize: 3, MaximumRetryAttempts: 2},
			shards: []fakeShard{{id: "s1", recs: items(4), closed: true}},
			behave: func(items, _ []string, _ map[string]int) (string, error) {
				if has(items, "r1") {
					return "", fnErr
				}
				return "", nil
			},
			wantInvocations: [][]string{{"r0", "r1", "r2"}, {"r0", "r1", "r2"}, {"r0", "r1", "r2"}, {"r3"}},
			wantDelivered:   []string{"r3"},
		},
		{
			name:   "bisect isolates the bad record",
			src:    StreamSource{BatchSize: 5, MaximumRetryAttempts: 0, BisectBatchOnFunctionError: true},
			shards: []fakeShard{{id: "s1", recs: items(5), closed: true}},
			behave: func(items, _ []string, _ map[string]int) (string, error) {
				if has(items, "r2") {
					return "", fnErr
				}
				return "", nil
			},
			wantInvocations: [][]string{{"r0", "r1", "r2", "r3", "r4"}, {"r0", "r1"}, {"r2", "r3", "r4"}, {"r2"}, {"r3", "r4"}},
			wantDelivered:   []string{"r0", "r1", "r3", "r4"},
		},
		{
			name:   "partial failure checkpoints before the failed record",
			src:    StreamSource{BatchSize: 5, MaximumRetryAttempts: -1, ReportBatchItemFailures: true},
			shards: []fakeShard{{id: "s1", recs: items(5), closed: true}},
			behave: func(items, seqs []string, seen map[string]int) (string, error) {
				for i, it := range items {
					if it == "r2" && seen["r2"] <= 2 {
						return `{"batchItemFailures":[{"itemIdentifier":"` + seqs[i] + `"}]}`, nil
					}
				}
				return `{"batchItemFailures":[]}`, nil
			},
			wantInvocations: [][]string{{"r0", "r1", "r2", "r3", "r4"}, {"r2", "r3", "r4"}, {"r2", "r3", "r4"}},
			wantDelivered:   []string{"r0", "r1", "r2", "r3", "r4"},
		},
		{
			name:   "invalid partial response retries the whole batch",
			src:    StreamSource{BatchSize: 5, MaximumRetryAttempts: -1, ReportBatchItemFailures: true},
			shards: []fakeShard{{id: "s1", recs: items(2), closed: true}},
			behave: func(_, _ []string, seen map[string]int) (string, error) {
				if seen["r0"] == 1 {
					return `{"batchItemFailures":[{"itemIdentifier":""}]}`, nil
				}
				return "", nil
			},
			wantInvocations: [][]string{{"r0", "r1"}, {"r0", "r1"}},
			wantDelivered:   []string{"r0", "r1"},
		},
		{
			name:   "throttling is retried without counting",
			src:    StreamSource{BatchSize: 5, MaximumRetryAttempts: 0},
			shards: []fakeShard{{id: "s1", recs: items(2), closed: true}},
			behave: func(_, _ []string, seen map[string]int) (string, error) {
				if seen["r0"] <= 2 {
					return "", fmt.Errorf("pool: %w", invoke.ErrThrottled)
				}
				return "", nil
			},
			wantInvocations: [][]string{{"r0", "r1"}, {"r0", "r1"}, {"r0", "r1"}},
			wantDelivered:   []string{"r0", "r1"},
		},
		{
			name: "a child shard waits for its parent",
			src:  StreamSource{BatchSize: 10, StartingPosition: TrimHorizon},
			shards: []fakeShard{
				{id: "child", parent: "parent", recs: []types.Record{record("c0", 10), record("c1", 11)}},
				{id: "parent", recs: []types.Record{record("p0", 1), record("p1", 2)}, closed: true},
			},
			behave:          func(_, _ []string, _ map[string]int) (string, error) { return "", nil },
			wantInvocations: [][]string{{"p0", "p1"}, {"c0", "c1"}},
			wantDelivered:   []string{"p0", "p1", "c0", "c1"},
		},
		{
			name: "latest skips closed shards and existing records",
			src:  StreamSource{BatchSize: 10, StartingPosition: Latest},
			shards: []fakeShard{
				{id: "old", recs: []types.Record{record("o0", 1)}, closed: true},
				{id: "new", parent: "old", recs: []types.Record{record("n0", 10)}},
			},
			behave:          func(_, _ []string, _ map[string]int) (string, error) { return "", nil },
			wantInvocations: nil,
			wantDelivered:   nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fn := &streamFn{seen: map[string]int{}, behave: tt.behave, report: tt.src.ReportBatchItemFailures}
			src := tt.src
			src.Client = &fakeStreams{shards: tt.shards}
			src.StreamARN = "arn:aws:dynamodb:r:1:table/t/stream/x"
			src.Invoker = fn
			src.PollInterval = 10 * time.Millisecond
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- src.Run(ctx) }()
			deadline := time.Now().Add(10 * time.Second)
			for {
				inv, _ := fn.snapshot()
				if len(inv) >= len(tt.wantInvocations) || time.Now().After(deadline) {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			time.Sleep(300 * time.Millisecond) // room for an unwanted extra invocation
			cancel()
			if err := <-done; err != nil {
				t.Fatalf("Run: %v", err)
			}
			inv, delivered := fn.snapshot()
			if diff := cmp.Diff(tt.wantInvocations, inv, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("invocations (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantDelivered, delivered, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("delivered (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStreamSourceCheck(t *testing.T) {
	base := func() StreamSource {
		return StreamSource{Client: &fakeStreams{}, Invoker: invoke.Func(nil), StreamARN: "arn"}
	}
	tests := []struct {
		name    string
		edit    func(*StreamSource)
		wantErr string
	}{
		{"defaults", func(*StreamSource) {}, ""},
		{"no client", func(s *StreamSource) { s.Client = nil }, "no client"},
		{"no stream", func(s *StreamSource) { s.StreamARN = "" }, "no stream ARN"},
		{"bad position", func(s *StreamSource) { s.StartingPosition = "AT_TIMESTAMP" }, "starting position"},
		{"batch", func(s *StreamSource) { s.BatchSize = 10001 }, "batch size"},
		{"retries", func(s *StreamSource) { s.MaximumRetryAttempts = -2 }, "retry attempts"},
		{"window", func(s *StreamSource) { s.MaximumBatchingWindow = time.Hour }, "batching window"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := base()
			tt.edit(&s)
			r, err := s.check()
			if tt.wantErr == "" {
				if err != nil || r.batchSize != DefaultStreamBatchSize {
					t.Fatalf("check = %v, batch size %d", err, r.batchSize)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}
