package sources

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/etalase/etalase/infra/localaccount"
	"github.com/etalase/etalase/infra/localrun/invoke"
	"github.com/etalase/etalase/infra/testenv"
)

// These tests run against the emulators that `go run ./infra/cmd/etalase env -- go
// test ./infra/localrun/sources` starts, with an invoke.Func as the function.

// createQueue creates a queue and returns its URL and ARN; the test deletes it.
func createQueue(t *testing.T, c *sqs.Client, name string, attrs map[string]string) (url, arn string) {
	t.Helper()
	ctx := context.Background()
	out, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		t.Fatalf("create queue %s: %v", name, err)
	}
	url = aws.ToString(out.QueueUrl)
	t.Cleanup(func() { c.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: aws.String(url)}) })
	a, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatalf("queue %s attributes: %v", name, err)
	}
	return url, a.Attributes["QueueArn"]
}

// queueDepth returns the visible plus in-flight messages of a queue.
func queueDepth(t *testing.T, c *sqs.Client, url string) int {
	t.Helper()
	a, err := c.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: []types.QueueAttributeName{
		types.QueueAttributeNameApproximateNumberOfMessages, types.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
	if err != nil {
		t.Fatal(err)
	}
	var n, m int
	fmt.Sscan(a.Attributes["ApproximateNumberOfMessages"], &n)
	fmt.Sscan(a.Attributes["ApproximateNumberOfMessagesNotVisible"], &m)
	return n + m
}

// start runs a source until the test ends, and checks that Run returns nil soon
// after its context ends.
func start(t *testing.T, src Source) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Run did not return within 10 s of its context ending")
		}
	})
}

// eventually polls cond until it holds or timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sqsFn is a fake function for SQS events: it records each delivery and answers as
// respond says.
type sqsFn struct {
	mu         sync.Mutex
	payloads   [][]byte
	deliveries []events.SQSMessage
	respond    func(call int, ev events.SQSEvent) ([]byte, error)
}

func (f *sqsFn) Invoke(_ context.Context, payload []byte) ([]byte, error) {
	var ev events.SQSEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, &invoke.FunctionError{Type: "Runtime.UnmarshalError", Message: err.Error()}
	}
	f.mu.Lock()
	f.payloads = append(f.payloads, payload)
	f.deliveries = append(f.deliveries, ev.Records...)
	call := len(f.payloads)
	f.mu.Unlock()
	return f.respond(call, ev)
}

// byBody returns the receive counts of each delivered body, in delivery order.
func (f *sqsFn) byBody() map[string][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string][]string{}
	for _, m := range f.deliveries {
		out[m.Body] = append(out[m.Body], m.Attributes["ApproximateReceiveCount"])
	}
	return out
}

func (f *sqsFn) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.deliveries)
}

// failures answers with the given message ids as batch item failures.
func failures(ids ...string) []byte {
	var resp events.SQSEventResponse
	for _, id := range ids {
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: id})
	}
	b, _ := json.Marshal(resp)
	return b
}

func TestSQSPoisonMessageGoesToDLQ(t *testing.T) {
	c := testenv.SQS(t, localaccount.Commerce)
	prefix := testenv.Prefix(t)
	ctx := context.Background()
	dlqURL, dlqARN := createQueue(t, c, prefix+"inbox-dlq", nil)
	redrive := fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":"2"}`, dlqARN)
	url, arn := createQueue(t, c, prefix+"inbox", map[string]string{"VisibilityTimeout": "1", "RedrivePolicy": redrive})

	bodies := []string{"m0", "m1", "poison", "m3", "m4"}
	var entries []types.SendMessageBatchRequestEntry
	for i, b := range bodies {
		e := types.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), MessageBody: aws.String(b)}
		if i == 0 {
			e.MessageAttributes = map[string]types.MessageAttributeValue{
				"kind": {DataType: aws.String("String"), StringValue: aws.String("ProductListed")},
				"raw":  {DataType: aws.String("Binary"), BinaryValue: []byte{1, 2, 3}},
			}
		}
		entries = append(entries, e)
	}
	if _, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(url), Entries: entries}); err != nil {
		t.Fatal(err)
	}

	fn := &sqsFn{respond: func(_ int, ev events.SQSEvent) ([]byte, error) {
		var bad []string
		for _, m := range ev.Records {
			if m.Body == "poison" {
				bad = append(bad, m.MessageId)
			}
		}
		return failures(bad...), nil
	}}
	start(t, &SQSSource{Name: "FromInbox", Log: testLog(t), Client: c, QueueURL: url, QueueARN: arn, Region: localaccount.Region,
		BatchSize: 10, MaximumBatchingWindow: 500 * time.Millisecond, ReportBatchItemFailures: true, PollWait: time.Second, Invoker: fn})

	var dlqBody string
	eventually(t, 20*time.Second, "the poison message is not in the dead-letter queue", func() bool {
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(dlqURL), WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) > 0 {
			dlqBody = aws.ToString(out.Messages[0].Body)
			return true
		}
		return false
	})
	if dlqBody != "poison" {
		t.Errorf("dead-letter queue holds %q, want the poison message", dlqBody)
	}
	time.Sleep(1500 * time.Millisecond) // longer than the visibility timeout: no more deliveries
	want := map[string][]string{"m0": {"1"}, "m1": {"1"}, "m3": {"1"}, "m4": {"1"}, "poison": {"1", "2"}}
	if diff := cmp.Diff(want, fn.byBody()); diff != "" {
		t.Errorf("deliveries, body → receive counts (-want +got):\n%s", diff)
	}
	if n := queueDepth(t, c, url); n != 0 {
		t.Errorf("%d messages left in the queue, want 0", n)
	}

	// The event is Lambda's.
	fn.mu.Lock()
	first := fn.deliveries[0]
	raw := string(fn.payloads[0])
	fn.mu.Unlock()
	sum := md5.Sum([]byte(first.Body))
	if first.EventSource != "aws:sqs" || first.EventSourceARN != arn || first.AWSRegion != localaccount.Region || first.Md5OfBody != hex.EncodeToString(sum[:]) {
		t.Errorf("record source %q arn %q region %q md5 %q", first.EventSource, first.EventSourceARN, first.AWSRegion, first.Md5OfBody)
	}
	if first.MessageId == "" || first.ReceiptHandle == "" {
		t.Errorf("record without messageId or receiptHandle: %+v", first)
	}
	for _, k := range []string{"ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"} {
		if first.Attributes[k] == "" {
			t.Errorf("attribute %s missing: %v", k, first.Attributes)
		}
	}
	for _, s := range []string{`"stringValue":"ProductListed"`, `"dataType":"String"`, `"binaryValue":"AQID"`, `"dataType":"Binary"`, `"md5OfMessageAttributes":"`} {
		if !strings.Contains(raw, s) {
			t.Errorf("event lacks %s: %s", s, raw)
		}
	}
}

func TestSQSWholeBatchReturns(t *testing.T) {
	tests := []struct {
		name  string
		first func(ev events.SQSEvent) ([]byte, error) // the answer to the first invocation
	}{
		{"unknown identifier", func(events.SQSEvent) ([]byte, error) { return failures("not-in-the-batch"), nil }},
		{"empty identifier", func(events.SQSEvent) ([]byte, error) { return failures(""), nil }},
		{"null identifier", func(events.SQSEvent) ([]byte, error) {
			return []byte(`{"batchItemFailures":[{"itemIdentifier":null}]}`), nil
		}},
		{"bad key name", func(ev events.SQSEvent) ([]byte, error) {
			return []byte(`{"batchItemFailures":[{"messageId":"` + ev.Records[0].MessageId + `"}]}`), nil
		}},
		{"invalid JSON", func(events.SQSEvent) ([]byte, error) { return []byte(`{"batchItemFailures":`), nil }},
		{"function error", func(events.SQSEvent) ([]byte, error) {
			return nil, &invoke.FunctionError{Type: "Runtime.ExitError", Message: "exit status 2"}
		}},
	}
	c := testenv.SQS(t, localaccount.Commerce)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			url, arn := createQueue(t, c, testenv.Prefix(t)+"q", map[string]string{"VisibilityTimeout": "1"})
			for _, b := range []string{"a", "b", "c"} {
				if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(b)}); err != nil {
					t.Fatal(err)
				}
			}
			fn := &sqsFn{respond: func(call int, ev events.SQSEvent) ([]byte, error) {
				if call == 1 {
					return tt.first(ev)
				}
				return []byte(`{"batchItemFailures":[]}`), nil
			}}
			start(t, &SQSSource{Log: testLog(t), Client: c, QueueURL: url, QueueARN: arn, BatchSize: 10, MaximumBatchingWindow: 500 * time.Millisecond,
				ReportBatchItemFailures: true, PollWait: time.Second, Invoker: fn})
			eventually(t, 15*time.Second, "the batch was not delivered twice", func() bool { return fn.count() >= 6 })
			time.Sleep(1500 * time.Millisecond)
			want := map[string][]string{"a": {"1", "2"}, "b": {"1", "2"}, "c": {"1", "2"}}
			if diff := cmp.Diff(want, fn.byBody()); diff != "" {
				t.Errorf("deliveries, body → receive counts (-want +got):\n%s", diff)
			}
			if n := queueDepth(t, c, url); n != 0 {
				t.Errorf("%d messages left, want 0", n)
			}
		})
	}
}

func TestSQSFIFOKeepsGroupOrder(t *testing.T) {
	c := testenv.SQS(t, localaccount.Commerce)
	ctx := context.Background()
	url, arn := createQueue(t, c, testenv.Prefix(t)+"payments.fifo", map[string]string{
		"FifoQueue": "true", "ContentBasedDeduplication": "true", "VisibilityTimeout": "1"})
	var entries []types.SendMessageBatchRequestEntry
	for i := range 4 {
		for _, g := range []string{"A", "B"} {
			body := fmt.Sprintf("%s%d", strings.ToLower(g), i)
			entries = append(entries, types.SendMessageBatchRequestEntry{Id: aws.String(body), MessageBody: aws.String(body), MessageGroupId: aws.String(g)})
		}
	}
	if _, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(url), Entries: entries}); err != nil {
		t.Fatal(err)
	}

	var (
		mu        sync.Mutex
		inFlight  = map[string]bool{}
		processed = map[string][]string{}
		failedA1  bool
		problems  []string
	)
	fn := &sqsFn{respond: func(_ int, ev events.SQSEvent) ([]byte, error) {
		groups := map[string]bool{}
		next := map[string]int{} // the index of the group's next message in this batch
		mu.Lock()
		for _, m := range ev.Records {
			g := m.Attributes["MessageGroupId"]
			if m.Attributes["SequenceNumber"] == "" || m.Attributes["MessageDeduplicationId"] == "" {
				problems = append(problems, "FIFO attributes missing on "+m.Body)
			}
			if inFlight[g] && !groups[g] {
				problems = append(problems, "two batches of group "+g+" in flight")
			}
			if !groups[g] {
				next[g] = len(processed[g])
			}
			groups[g] = true
			if contains(processed[g], m.Body) {
				continue // a redelivery of a done message
			}
			// Every earlier message of the group must be done, or earlier in this
			// batch, when this one arrives.
			if want := fmt.Sprintf("%s%d", strings.ToLower(g), next[g]); m.Body != want {
				problems = append(problems, fmt.Sprintf("%s delivered while %s was not done", m.Body, want))
			}
			next[g]++
		}
		for g := range groups {
			inFlight[g] = true
		}
		mu.Unlock()
		time.Sleep(50 * time.Millisecond) // let another poller try to overlap

		mu.Lock()
		defer mu.Unlock()
		for g := range groups {
			delete(inFlight, g)
		}
		var bad []string
		stopped := map[string]bool{}
		for _, m := range ev.Records {
			g := m.Attributes["MessageGroupId"]
			if m.Body == "a1" && !failedA1 {
				failedA1 = true
				stopped[g] = true
			}
			if stopped[g] {
				bad = append(bad, m.MessageId) // a FIFO handler stops the group at its failure
				continue
			}
			processed[g] = append(processed[g], m.Body)
		}
		return failures(bad...), nil
	}}
	start(t, &SQSSource{Log: testLog(t), Client: c, QueueURL: url, QueueARN: arn, ReportBatchItemFailures: true, Concurrency: 2, PollWait: time.Second, Invoker: fn})
	eventually(t, 20*time.Second, "not every message was processed", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(processed["A"]) == 4 && len(processed["B"]) == 4
	})
	mu.Lock()
	defer mu.Unlock()
	want := map[string][]string{"A": {"a0", "a1", "a2", "a3"}, "B": {"b0", "b1", "b2", "b3"}}
	if diff := cmp.Diff(want, processed); diff != "" {
		t.Errorf("processed per group (-want +got):\n%s", diff)
	}
	if len(problems) > 0 {
		t.Errorf("ordering problems: %v", problems)
	}
	if got := fn.byBody()["a1"]; len(got) != 2 {
		t.Errorf("a1 delivered with receive counts %v, want twice", got)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// streamTable creates a table with a stream and returns the DynamoDB client, a streams
// client for DynamoDB Local, the table name and the stream ARN.
func streamTable(t *testing.T) (*dynamodb.Client, *dynamodbstreams.Client, string, string) {
	t.Helper()
	acct := localaccount.Commerce
	db := testenv.DynamoDB(t, acct)
	endpoint, _ := testenv.Endpoints(t)
	st := dynamodbstreams.NewFromConfig(testenv.AWSConfig(t, acct), func(o *dynamodbstreams.Options) { o.BaseEndpoint = aws.String(endpoint) })
	name := testenv.Prefix(t) + "outbox"
	out, err := db.CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []dtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: dtypes.ScalarAttributeTypeS}},
		KeySchema:            []dtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: dtypes.KeyTypeHash}},
		BillingMode:          dtypes.BillingModePayPerRequest,
		StreamSpecification:  &dtypes.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: dtypes.StreamViewTypeNewAndOldImages},
	})
	if err != nil {
		t.Fatalf("create table: %v", err)
	}
	t.Cleanup(func() { db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(name)}) })
	return db, st, name, aws.ToString(out.TableDescription.LatestStreamArn)
}

// put writes items {pk, n: 1}.
func put(t *testing.T, db *dynamodb.Client, table string, keys ...string) {
	t.Helper()
	for _, k := range keys {
		_, err := db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]dtypes.AttributeValue{
			"pk": &dtypes.AttributeValueMemberS{Value: k}, "n": &dtypes.AttributeValueMemberN{Value: "1"}}})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// ddbFn is a fake function for stream events.
type ddbFn struct {
	mu          sync.Mutex
	invocations [][]events.DynamoDBEventRecord
	payloads    []string
	respond     func(recs []events.DynamoDBEventRecord) ([]byte, error)
}

func (f *ddbFn) Invoke(_ context.Context, payload []byte) ([]byte, error) {
	var ev events.DynamoDBEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, &invoke.FunctionError{Type: "Runtime.UnmarshalError", Message: err.Error()}
	}
	f.mu.Lock()
	f.invocations = append(f.invocations, ev.Records)
	f.payloads = append(f.payloads, string(payload))
	respond := f.respond
	f.mu.Unlock()
	if respond == nil {
		return nil, nil
	}
	return respond(ev.Records)
}

func (f *ddbFn) records() []events.DynamoDBEventRecord {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []events.DynamoDBEventRecord
	for _, inv := range f.invocations {
		out = append(out, inv...)
	}
	return out
}

func TestStreamDeliversChangesInOrder(t *testing.T) {
	db, st, table, streamARN := streamTable(t)
	ctx := context.Background()
	put(t, db, table, "k1", "k2", "k3", "k4")
	if _, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table), Key: map[string]dtypes.AttributeValue{"pk": &dtypes.AttributeValueMemberS{Value: "k1"}},
		UpdateExpression: aws.String("SET n = :n"), ExpressionAttributeValues: map[string]dtypes.AttributeValue{":n": &dtypes.AttributeValueMemberN{Value: "2"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: map[string]dtypes.AttributeValue{"pk": &dtypes.AttributeValueMemberS{Value: "k2"}}}); err != nil {
		t.Fatal(err)
	}
	fn := &ddbFn{}
	start(t, &StreamSource{Log: testLog(t), Name: "Relay", Client: st, StreamARN: streamARN, TableName: table, Region: localaccount.Region,
		StartingPosition: TrimHorizon, BatchSize: 3, Invoker: fn})
	eventually(t, 15*time.Second, "not all 6 changes delivered", func() bool { return len(fn.records()) >= 6 })
	time.Sleep(500 * time.Millisecond)

	recs := fn.records()
	var got []string
	prev := new(big.Int)
	for i, r := range recs {
		got = append(got, r.EventName+" "+r.Change.Keys["pk"].String())
		seq, ok := new(big.Int).SetString(r.Change.SequenceNumber, 10)
		if !ok || seq.Cmp(prev) <= 0 {
			t.Errorf("record %d: sequence number %q not after %s", i, r.Change.SequenceNumber, prev)
		} else {
			prev = seq
		}
		if r.EventSource != "aws:dynamodb" || r.EventVersion != "1.1" || r.AWSRegion != localaccount.Region || r.EventSourceArn != streamARN || r.EventID == "" {
			t.Errorf("record %d: source %q version %q region %q arn %q id %q", i, r.EventSource, r.EventVersion, r.AWSRegion, r.EventSourceArn, r.EventID)
		}
		if r.Change.StreamViewType != "NEW_AND_OLD_IMAGES" || r.Change.SizeBytes <= 0 || r.Change.ApproximateCreationDateTime.IsZero() {
			t.Errorf("record %d: view %q size %d created %v", i, r.Change.StreamViewType, r.Change.SizeBytes, r.Change.ApproximateCreationDateTime)
		}
	}
	want := []string{"INSERT k1", "INSERT k2", "INSERT k3", "INSERT k4", "MODIFY k1", "REMOVE k2"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("changes (-want +got):\n%s", diff)
	}
	if n := recs[0].Change.NewImage["n"].Number(); n != "1" || recs[0].Change.OldImage != nil {
		t.Errorf("INSERT: NewImage n %q, OldImage %v", n, recs[0].Change.OldImage)
	}
	if o, n := recs[4].Change.OldImage["n"].Number(), recs[4].Change.NewImage["n"].Number(); o != "1" || n != "2" {
		t.Errorf("MODIFY: OldImage n %q NewImage n %q, want 1 and 2", o, n)
	}
	if recs[5].Change.NewImage != nil || recs[5].Change.OldImage["pk"].String() != "k2" {
		t.Errorf("REMOVE: NewImage %v OldImage %v", recs[5].Change.NewImage, recs[5].Change.OldImage)
	}
	fn.mu.Lock()
	defer fn.mu.Unlock()
	for i, inv := range fn.invocations {
		if len(inv) > 3 {
			t.Errorf("invocation %d has %d records, batch size is 3", i, len(inv))
		}
	}
	if !strings.Contains(fn.payloads[0], `"NewImage":{`) || !strings.Contains(fn.payloads[0], `{"S":"k1"}`) || !strings.Contains(fn.payloads[0], `{"N":"1"}`) {
		t.Errorf("images are not DynamoDB JSON: %s", fn.payloads[0])
	}
}

func TestStreamRetriesFailingRecordFirst(t *testing.T) {
	tests := []struct {
		name   string
		report bool
		// fail answers for a batch in which k3 fails, given the index of k3.
		fail func(recs []events.DynamoDBEventRecord, at int) ([]byte, error)
	}{
		{"partial batch response", true, func(recs []events.DynamoDBEventRecord, at int) ([]byte, error) {
			return json.Marshal(events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{{ItemIdentifier: recs[at].Change.SequenceNumber}}})
		}},
		{"function error", false, func([]events.DynamoDBEventRecord, int) ([]byte, error) {
			return nil, &invoke.FunctionError{Type: "Unhandled", Message: "k3 failed"}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db, st, table, streamARN := streamTable(t)
			put(t, db, table, "k1", "k2", "k3", "k4", "k5")
			var (
				mu        sync.Mutex
				attempts  int
				committed []string
			)
			fn := &ddbFn{respond: func(recs []events.DynamoDBEventRecord) ([]byte, error) {
				mu.Lock()
				defer mu.Unlock()
				var done []string
				for i, r := range recs {
					k := r.Change.Keys["pk"].String()
					if k == "k3" {
						if attempts++; attempts <= 2 {
							if tt.report {
								committed = append(committed, done...)
							}
							return tt.fail(recs, i)
						}
					}
					done = append(done, k)
				}
				committed = append(committed, done...)
				return nil, nil
			}}
			start(t, &StreamSource{Log: testLog(t), Client: st, StreamARN: streamARN, TableName: table, StartingPosition: TrimHorizon, BatchSize: 10,
				MaximumRetryAttempts: -1, ReportBatchItemFailures: tt.report, Invoker: fn})
			eventually(t, 15*time.Second, "k5 not committed", func() bool {
				mu.Lock()
				defer mu.Unlock()
				return contains(committed, "k5")
			})
			time.Sleep(500 * time.Millisecond)
			mu.Lock()
			defer mu.Unlock()
			if diff := cmp.Diff([]string{"k1", "k2", "k3", "k4", "k5"}, committed); diff != "" {
				t.Errorf("committed (-want +got):\n%s", diff)
			}
			if attempts != 3 {
				t.Errorf("k3 attempted %d times, want 3", attempts)
			}
			fn.mu.Lock()
			defer fn.mu.Unlock()
			for i, inv := range fn.invocations[1:] {
				first := inv[0].Change.Keys["pk"].String()
				if want := map[bool]string{true: "k3", false: "k1"}[tt.report]; first != want {
					t.Errorf("retry %d starts at %s, want %s", i+1, first, want)
				}
			}
		})
	}
}

func TestStreamLatestSkipsEarlierRecords(t *testing.T) {
	db, st, table, streamARN := streamTable(t)
	put(t, db, table, "before")
	fn := &ddbFn{}
	start(t, &StreamSource{Log: testLog(t), Client: st, StreamARN: streamARN, TableName: table, StartingPosition: Latest, Invoker: fn})
	time.Sleep(1500 * time.Millisecond) // the source has its shard iterators by now
	put(t, db, table, "after")
	eventually(t, 10*time.Second, "the later record was not delivered", func() bool { return len(fn.records()) >= 1 })
	time.Sleep(500 * time.Millisecond)
	var got []string
	for _, r := range fn.records() {
		got = append(got, r.Change.Keys["pk"].String())
	}
	if diff := cmp.Diff([]string{"after"}, got); diff != "" {
		t.Errorf("delivered (-want +got):\n%s", diff)
	}
}

// testLog returns a logger that writes to the test's log.
func testLog(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}
