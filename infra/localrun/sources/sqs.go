package sources

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/etalase/etalase/infra/localrun/invoke"
)

// SQSClient is the part of *sqs.Client that an SQSSource uses.
type SQSClient interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, opts ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
}

// Lambda's limits for SQS event source mappings.
const (
	// DefaultSQSBatchSize is Lambda's default BatchSize for SQS.
	DefaultSQSBatchSize = 10
	// MaxSQSBatchSize is the largest BatchSize for a standard queue (FIFO: 10).
	MaxSQSBatchSize = 10000
	// MaxBatchingWindow is the largest MaximumBatchingWindow Lambda accepts.
	MaxBatchingWindow = 300 * time.Second
	// maxPayload is Lambda's synchronous invocation payload limit; a batch stops
	// growing before its event would pass it.
	maxPayload = 6 << 20
	// defaultPollWait is how long one ReceiveMessage long-polls: short, so that
	// Run returns soon after its context ends.
	defaultPollWait = 2 * time.Second
)

// SQSSource polls one queue and invokes a function with batches of its messages, as
// Lambda's SQS event source mapping does.
type SQSSource struct {
	// Name names the mapping in logs (the template's event name).
	Name string
	// Client talks to the SQS emulator.
	Client SQSClient
	// QueueURL is the queue to poll; a URL ending in ".fifo" is a FIFO queue.
	QueueURL string
	// QueueARN is the event's eventSourceARN.
	QueueARN string
	// Region is the event's awsRegion; empty takes it from QueueARN.
	Region string
	// BatchSize is the most messages in one event: default 10, at most 10,000 (10 for
	// FIFO queues); above 10 it needs a MaximumBatchingWindow.
	BatchSize int
	// MaximumBatchingWindow is how long to keep gathering messages before invoking
	// (at most 5 minutes; not for FIFO queues). Zero invokes with what one
	// ReceiveMessage returned.
	MaximumBatchingWindow time.Duration
	// ReportBatchItemFailures makes the function's events.SQSEventResponse count:
	// only the messages it lists come back.
	ReportBatchItemFailures bool
	// Concurrency is the number of pollers, each with at most one batch in flight
	// (default 1). Lambda scales its pollers with the queue; locally one or two do.
	Concurrency int
	// PollWait is the long-poll wait of one ReceiveMessage (default 2 s, at most 20 s);
	// shutdown waits for at most one of it.
	PollWait time.Duration
	// Invoker runs the function.
	Invoker invoke.Invoker
	// Log receives what happened to each batch; nil discards.
	Log *slog.Logger
}

// sqsRun is one running SQSSource: its checked settings and the state its pollers
// share.
type sqsRun struct {
	src        *SQSSource
	log        *slog.Logger
	fifo       bool
	region     string
	batchSize  int
	window     time.Duration
	pollWait   time.Duration
	visibility time.Duration
	groups     groupLocks
}

// check validates the settings as CreateEventSourceMapping would, fills in defaults,
// and returns the run state.
func (s *SQSSource) check() (*sqsRun, error) {
	r := &sqsRun{
		src:       s,
		log:       logger(s.Log).With("source", "sqs", "event", s.Name, "queue", s.QueueARN),
		fifo:      strings.HasSuffix(s.QueueURL, ".fifo"),
		region:    s.Region,
		batchSize: s.BatchSize,
		window:    s.MaximumBatchingWindow,
		pollWait:  s.PollWait,
	}
	switch {
	case s.Client == nil:
		return nil, errors.New("sqs source: no client")
	case s.Invoker == nil:
		return nil, errors.New("sqs source: no invoker")
	case s.QueueURL == "":
		return nil, errors.New("sqs source: no queue URL")
	}
	if r.region == "" {
		r.region = arnRegion(s.QueueARN)
	}
	if r.batchSize == 0 {
		r.batchSize = DefaultSQSBatchSize
	}
	if r.pollWait <= 0 {
		r.pollWait = defaultPollWait
	}
	r.pollWait = min(r.pollWait, 20*time.Second)
	switch {
	case r.batchSize < 1 || r.batchSize > MaxSQSBatchSize:
		return nil, fmt.Errorf("sqs source %s: batch size %d is not between 1 and %d", s.Name, r.batchSize, MaxSQSBatchSize)
	case r.window < 0 || r.window > MaxBatchingWindow:
		return nil, fmt.Errorf("sqs source %s: batching window %s is not between 0 and %s", s.Name, r.window, MaxBatchingWindow)
	case r.fifo && r.batchSize > 10:
		return nil, fmt.Errorf("sqs source %s: batch size must not exceed 10 for FIFO queues", s.Name)
	case r.fifo && r.window > 0:
		return nil, fmt.Errorf("sqs source %s: batching window is not supported for FIFO queues", s.Name)
	case r.batchSize > 10 && r.window == 0:
		return nil, fmt.Errorf("sqs source %s: batch size above 10 needs a batching window", s.Name)
	}
	return r, nil
}

// Run polls the queue until ctx is done.
func (s *SQSSource) Run(ctx context.Context) error {
	r, err := s.check()
	if err != nil {
		return err
	}
	if !r.loadVisibility(ctx) {
		return nil
	}
	n := max(s.Concurrency, 1)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() { r.poll(ctx) })
	}
	wg.Wait()
	return nil
}

// loadVisibility reads the queue's visibility timeout, which bounds how long a
// throttled batch is retried; it waits for the queue to exist. It reports false when
// ctx ended first.
func (r *sqsRun) loadVisibility(ctx context.Context) bool {
	b := backoff{min: 200 * time.Millisecond, max: 5 * time.Second}
	for {
		out, err := r.src.Client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
			QueueUrl:       aws.String(r.src.QueueURL),
			AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameVisibilityTimeout},
		})
		if err == nil {
			secs, perr := strconv.Atoi(out.Attributes[string(types.QueueAttributeNameVisibilityTimeout)])
			if perr != nil {
				secs = 30 // SQS's default
			}
			r.visibility = time.Duration(secs) * time.Second
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		r.log.Warn("read queue attributes", "err", err)
		if !sleep(ctx, b.next()) {
			return false
		}
	}
}

// poll is one poller: gather a batch, invoke, settle, until ctx is done.
func (r *sqsRun) poll(ctx context.Context) {
	errWait := backoff{min: 200 * time.Millisecond, max: 5 * time.Second}
	fnWait := backoff{min: 100 * time.Millisecond, max: 2 * time.Second}
	for ctx.Err() == nil {
		batch, received, err := r.gather(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			r.log.Warn("receive messages", "err", err)
			sleep(ctx, errWait.next())
			continue
		}
		errWait.reset()
		if len(batch) == 0 {
			continue
		}
		if r.settle(ctx, batch, received) {
			fnWait.reset()
		} else if !r.src.ReportBatchItemFailures {
			// Lambda scales an SQS mapping down after function errors (but not
			// with ReportBatchItemFailures); locally that is a short pause.
			sleep(ctx, fnWait.next())
		}
	}
}

// receive makes one ReceiveMessage call.
func (r *sqsRun) receive(ctx context.Context, n int, wait time.Duration) ([]types.Message, error) {
	out, err := r.src.Client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(r.src.QueueURL),
		MaxNumberOfMessages:         int32(min(n, 10)),
		WaitTimeSeconds:             int32(wait / time.Second),
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		MessageAttributeNames:       []string{"All"},
	})
	if err != nil {
		return nil, err
	}
	return out.Messages, nil
}

// gather returns the next batch: what one long poll returns, then, within the batching
// window, more until the batch is full or its event would pass Lambda's payload limit.
// received is when the first messages arrived.
func (r *sqsRun) gather(ctx context.Context) (batch []types.Message, received time.Time, err error) {
	batch, err = r.receive(ctx, r.batchSize, r.pollWait)
	if err != nil || len(batch) == 0 {
		return nil, time.Time{}, err
	}
	received = time.Now()
	size := 0
	for _, m := range batch {
		size += messageSize(m)
	}
	deadline := received.Add(r.window)
	for len(batch) < r.batchSize && size < maxPayload-256<<10 {
		left := time.Until(deadline)
		if left <= 0 {
			break
		}
		wait := min(left, r.pollWait)
		more, err := r.receive(ctx, r.batchSize-len(batch), wait)
		if err != nil {
			// Invoke with what we have; the next receive reports the error.
			break
		}
		if len(more) == 0 && wait < time.Second {
			sleep(ctx, min(left, 50*time.Millisecond))
		}
		for _, m := range more {
			size += messageSize(m)
		}
		batch = appendLatest(batch, more)
	}
	return batch, received, nil
}

// appendLatest appends received messages to a batch. A message already in the batch
// (its visibility timeout ran out while the batch was gathering) is replaced by the
// new receipt, whose handle is the one that can still delete it.
func appendLatest(batch, more []types.Message) []types.Message {
	for _, m := range more {
		replaced := false
		for i := range batch {
			if aws.ToString(batch[i].MessageId) == aws.ToString(m.MessageId) {
				batch[i], replaced = m, true
				break
			}
		}
		if !replaced {
			batch = append(batch, m)
		}
	}
	return batch
}

// settle invokes the function with a batch and deletes what Lambda would delete. It
// reports whether the invocation succeeded as a whole.
func (r *sqsRun) settle(ctx context.Context, batch []types.Message, received time.Time) bool {
	var groups []string
	if r.fifo {
		groups = messageGroups(batch)
		if !r.groups.claim(ctx, groups) {
			return false
		}
		defer r.groups.release(groups)
	}
	payload, err := MarshalSQSEvent(SQSEvent(batch, r.src.QueueARN, r.region))
	if err != nil {
		r.log.Error("build event", "err", err)
		return false
	}
	log := r.log.With("messages", len(batch))
	resp, err := r.invoke(ctx, payload, received)
	if err != nil {
		var fe *invoke.FunctionError
		switch {
		case errors.As(err, &fe):
			log.Info("function error: batch returns after the visibility timeout", "errorType", fe.Type, "errorMessage", fe.Message)
		case ctx.Err() != nil:
		default:
			log.Warn("invocation failed: batch returns after the visibility timeout", "err", err)
		}
		return false
	}
	keep := map[string]bool{}
	if r.src.ReportBatchItemFailures {
		failed, err := ParseSQSBatchResponse(resp, batch)
		if err != nil {
			log.Warn("invalid partial batch response: whole batch failed", "err", err)
			return false
		}
		if r.fifo {
			failed = fifoFailures(batch, failed)
		}
		keep = failed
	}
	var done []types.Message
	for _, m := range batch {
		if !keep[aws.ToString(m.MessageId)] {
			done = append(done, m)
		}
	}
	r.delete(context.WithoutCancel(ctx), done)
	if len(keep) > 0 {
		log.Info("partial batch failure: reported messages return after the visibility timeout", "failed", len(keep), "deleted", len(done))
	} else {
		log.Debug("batch done", "deleted", len(done))
	}
	return len(keep) == 0
}

// invoke invokes the function, retrying while it is throttled until the batch's
// visibility timeout is nearly over, as Lambda does; after that the messages return
// to the queue by themselves.
func (r *sqsRun) invoke(ctx context.Context, payload []byte, received time.Time) ([]byte, error) {
	b := backoff{min: 100 * time.Millisecond, max: 2 * time.Second}
	deadline := received.Add(r.visibility * 9 / 10)
	for {
		resp, err := r.src.Invoker.Invoke(ctx, payload)
		if !errors.Is(err, invoke.ErrThrottled) {
			return resp, err
		}
		d := b.next()
		if time.Now().Add(d).After(deadline) {
			return nil, fmt.Errorf("throttled until the visibility timeout: %w", err)
		}
		if !sleep(ctx, d) {
			return nil, ctx.Err()
		}
	}
}

// delete deletes messages, ten at a time.
func (r *sqsRun) delete(ctx context.Context, msgs []types.Message) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for len(msgs) > 0 {
		n := min(len(msgs), 10)
		entries := make([]types.DeleteMessageBatchRequestEntry, n)
		for i, m := range msgs[:n] {
			entries[i] = types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle}
		}
		msgs = msgs[n:]
		out, err := r.src.Client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(r.src.QueueURL), Entries: entries})
		if err != nil {
			r.log.Warn("delete messages", "err", err)
			continue
		}
		for _, f := range out.Failed {
			r.log.Warn("delete message", "code", aws.ToString(f.Code), "message", aws.ToString(f.Message))
		}
	}
}

// SQSEvent builds the event Lambda sends for a batch of received messages (received
// with all system and message attributes).
func SQSEvent(msgs []types.Message, queueARN, region string) events.SQSEvent {
	ev := events.SQSEvent{Records: make([]events.SQSMessage, 0, len(msgs))}
	for _, m := range msgs {
		attrs := map[string]string{}
		for k, v := range m.Attributes {
			attrs[k] = v
		}
		mattrs := map[string]events.SQSMessageAttribute{}
		for k, v := range m.MessageAttributes {
			a := events.SQSMessageAttribute{
				StringValue:      v.StringValue,
				BinaryValue:      v.BinaryValue,
				StringListValues: append([]string{}, v.StringListValues...),
				BinaryListValues: append([][]byte{}, v.BinaryListValues...),
				DataType:         aws.ToString(v.DataType),
			}
			mattrs[k] = a
		}
		ev.Records = append(ev.Records, events.SQSMessage{
			MessageId:              aws.ToString(m.MessageId),
			ReceiptHandle:          aws.ToString(m.ReceiptHandle),
			Body:                   aws.ToString(m.Body),
			Md5OfBody:              aws.ToString(m.MD5OfBody),
			Md5OfMessageAttributes: aws.ToString(m.MD5OfMessageAttributes),
			Attributes:             attrs,
			MessageAttributes:      mattrs,
			EventSourceARN:         queueARN,
			EventSource:            "aws:sqs",
			AWSRegion:              region,
		})
	}
	return ev
}

// sqsWireMessage is an events.SQSMessage as Lambda writes it: md5OfMessageAttributes
// is left out when the message has no attributes, where events.SQSMessage would write "".
type sqsWireMessage struct {
	events.SQSMessage
	Md5OfMessageAttributes *string `json:"md5OfMessageAttributes,omitempty"`
}

// MarshalSQSEvent encodes an SQS event as Lambda sends it.
func MarshalSQSEvent(ev events.SQSEvent) ([]byte, error) {
	wire := struct {
		Records []sqsWireMessage `json:"Records"`
	}{Records: make([]sqsWireMessage, len(ev.Records))}
	for i, m := range ev.Records {
		wire.Records[i].SQSMessage = m
		if m.Md5OfMessageAttributes != "" {
			wire.Records[i].Md5OfMessageAttributes = aws.String(m.Md5OfMessageAttributes)
		}
	}
	b, err := json.Marshal(wire)
	if err != nil {
		return nil, fmt.Errorf("encode sqs event: %w", err)
	}
	return b, nil
}

// ParseSQSBatchResponse reads a function's response under ReportBatchItemFailures and
// returns the message ids to keep. It applies Lambda's rules: an empty or null
// response, or an empty or null batchItemFailures list, is complete success; invalid
// JSON, an itemIdentifier that is empty, null, missing (a bad key name) or not a
// message of the batch is an error, which fails the whole batch.
func ParseSQSBatchResponse(resp []byte, batch []types.Message) (map[string]bool, error) {
	ids := map[string]bool{}
	for _, m := range batch {
		ids[aws.ToString(m.MessageId)] = true
	}
	items, err := batchItemFailures(resp)
	if err != nil {
		return nil, err
	}
	failed := map[string]bool{}
	for _, id := range items {
		if !ids[id] {
			return nil, fmt.Errorf("itemIdentifier %q is not a message of the batch", id)
		}
		failed[id] = true
	}
	return failed, nil
}

// batchItemFailures decodes {"batchItemFailures":[{"itemIdentifier":"..."}]} strictly:
// keys must match exactly, as in Lambda's own decoding. A response that is empty,
// null or has no (or a null) batchItemFailures key has no failures.
func batchItemFailures(resp []byte) ([]string, error) {
	resp = bytes.TrimSpace(resp)
	if len(resp) == 0 || string(resp) == "null" {
		return nil, nil
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(resp, &top); err != nil {
		return nil, fmt.Errorf("response is not a batch response object: %w", err)
	}
	raw, ok := top["batchItemFailures"]
	if !ok || string(raw) == "null" {
		return nil, nil
	}
	var list []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("batchItemFailures is not a list of objects: %w", err)
	}
	out := make([]string, 0, len(list))
	for i, item := range list {
		v, ok := item["itemIdentifier"]
		if !ok || string(v) == "null" {
			return nil, fmt.Errorf("batchItemFailures[%d] has no itemIdentifier", i)
		}
		var id string
		if err := json.Unmarshal(v, &id); err != nil {
			return nil, fmt.Errorf("batchItemFailures[%d].itemIdentifier is not a string", i)
		}
		if id == "" {
			return nil, fmt.Errorf("batchItemFailures[%d].itemIdentifier is empty", i)
		}
		out = append(out, id)
	}
	return out, nil
}

// fifoFailures extends the failed set of a FIFO batch so that, in each message group,
// every message after the first failed one is kept too: Lambda stops processing a
// group at its first failure, which keeps the group in order.
func fifoFailures(batch []types.Message, failed map[string]bool) map[string]bool {
	out := map[string]bool{}
	stopped := map[string]bool{}
	for _, m := range batch {
		id := aws.ToString(m.MessageId)
		g := m.Attributes[string(types.MessageSystemAttributeNameMessageGroupId)]
		if failed[id] {
			stopped[g] = true
		}
		if stopped[g] {
			out[id] = true
		}
	}
	return out
}

// messageGroups lists the distinct message groups of a batch.
func messageGroups(batch []types.Message) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range batch {
		g := m.Attributes[string(types.MessageSystemAttributeNameMessageGroupId)]
		if !seen[g] {
			seen[g] = true
			out = append(out, g)
		}
	}
	return out
}

// messageSize approximates a message's share of the event payload.
func messageSize(m types.Message) int {
	n := len(aws.ToString(m.Body)) + len(aws.ToString(m.ReceiptHandle)) + 512
	for k, v := range m.MessageAttributes {
		n += len(k) + len(aws.ToString(v.StringValue)) + len(v.BinaryValue)*4/3 + 64
	}
	return n
}

// groupLocks keeps two batches of one FIFO message group from being in flight at once
// across the pollers of a source. SQS already withholds a group while its messages
// are in flight, but not once their visibility timeout lapses during a slow
// invocation; then the later batch waits here.
type groupLocks struct {
	mu   sync.Mutex
	held map[string]chan struct{}
}

// claim waits until none of groups is held, then holds them all. It reports false if
// ctx ended first.
func (g *groupLocks) claim(ctx context.Context, groups []string) bool {
	for {
		g.mu.Lock()
		var busy chan struct{}
		for _, name := range groups {
			if ch, ok := g.held[name]; ok {
				busy = ch
				break
			}
		}
		if busy == nil {
			if g.held == nil {
				g.held = map[string]chan struct{}{}
			}
			for _, name := range groups {
				g.held[name] = make(chan struct{})
			}
			g.mu.Unlock()
			return true
		}
		g.mu.Unlock()
		select {
		case <-busy:
		case <-ctx.Done():
			return false
		}
	}
}

// release lets go of groups.
func (g *groupLocks) release(groups []string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, name := range groups {
		if ch, ok := g.held[name]; ok {
			close(ch)
			delete(g.held, name)
		}
	}
}

// arnRegion returns the region field of an ARN, or "".
func arnRegion(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return ""
	}
	return parts[3]
}
