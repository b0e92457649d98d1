package sources

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/etalase/etalase/infra/localrun/invoke"
)

// StreamsClient is the part of *dynamodbstreams.Client that a StreamSource uses.
type StreamsClient interface {
	DescribeStream(ctx context.Context, in *dynamodbstreams.DescribeStreamInput, opts ...func(*dynamodbstreams.Options)) (*dynamodbstreams.DescribeStreamOutput, error)
	GetShardIterator(ctx context.Context, in *dynamodbstreams.GetShardIteratorInput, opts ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetShardIteratorOutput, error)
	GetRecords(ctx context.Context, in *dynamodbstreams.GetRecordsInput, opts ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error)
}

// Starting positions of a stream mapping.
const (
	// TrimHorizon starts at the oldest record still in the stream.
	TrimHorizon = "TRIM_HORIZON"
	// Latest starts with the records written after the mapping starts.
	Latest = "LATEST"
)

// Lambda's limits for DynamoDB stream event source mappings.
const (
	// DefaultStreamBatchSize is Lambda's default BatchSize for DynamoDB streams.
	DefaultStreamBatchSize = 100
	// MaxStreamBatchSize is the largest BatchSize for DynamoDB streams.
	MaxStreamBatchSize = 10000
	// defaultStreamPoll is how often an idle shard is polled: Lambda reads each shard
	// four times a second.
	defaultStreamPoll = 250 * time.Millisecond
	// describeEvery is how often the stream is described to find new shards.
	describeEvery = 5 * time.Second
)

// StreamSource reads a DynamoDB stream shard by shard and invokes a function with
// batches of its records, in order, as Lambda's DynamoDB event source mapping does.
type StreamSource struct {
	// Name names the mapping in logs (the template's event name).
	Name string
	// Client reads the stream (a dynamodbstreams client at DynamoDB Local's endpoint).
	Client StreamsClient
	// StreamARN is the stream to read.
	StreamARN string
	// EventSourceARN is the records' eventSourceARN; empty uses StreamARN. The local
	// runner sets it when DynamoDB Local's ARN names another account or region.
	EventSourceARN string
	// TableName names the table in logs.
	TableName string
	// Region is the records' awsRegion; empty keeps the region the stream reports
	// (DynamoDB Local reports "ddblocal").
	Region string
	// StartingPosition is TrimHorizon or Latest. SAM requires one; empty here is
	// TrimHorizon, so that no record is missed.
	StartingPosition string
	// BatchSize is the most records in one event: default 100, at most 10,000.
	BatchSize int
	// MaximumBatchingWindow is how long to keep gathering records before invoking
	// (at most 5 minutes); zero invokes as soon as records arrive.
	MaximumBatchingWindow time.Duration
	// MaximumRetryAttempts is how often a failed batch is retried before its records
	// are discarded; -1 retries until it succeeds. Lambda's default is -1, which
	// FromEvents fills in; the zero value here means no retries.
	MaximumRetryAttempts int
	// BisectBatchOnFunctionError splits a failed batch in two and retries each half;
	// splitting does not count as a retry.
	BisectBatchOnFunctionError bool
	// ReportBatchItemFailures makes the function's events.DynamoDBEventResponse
	// count: the shard is checkpointed before the first reported record and
	// processing resumes there.
	ReportBatchItemFailures bool
	// PollInterval is how often an idle shard is polled (default 250 ms).
	PollInterval time.Duration
	// Invoker runs the function.
	Invoker invoke.Invoker
	// Log receives what happened to each batch; nil discards.
	Log *slog.Logger
}

// streamRun is one running StreamSource.
type streamRun struct {
	src       *StreamSource
	log       *slog.Logger
	arn       string
	batchSize int
	window    time.Duration
	poll      time.Duration

	mu       sync.Mutex
	finished map[string]bool
	wake     chan struct{}
}

// check validates the settings as CreateEventSourceMapping would and fills in defaults.
func (s *StreamSource) check() (*streamRun, error) {
	r := &streamRun{
		src:       s,
		log:       logger(s.Log).With("source", "dynamodb", "event", s.Name, "table", s.TableName),
		arn:       s.EventSourceARN,
		batchSize: s.BatchSize,
		window:    s.MaximumBatchingWindow,
		poll:      s.PollInterval,
		finished:  map[string]bool{},
		wake:      make(chan struct{}, 1),
	}
	switch {
	case s.Client == nil:
		return nil, errors.New("stream source: no client")
	case s.Invoker == nil:
		return nil, errors.New("stream source: no invoker")
	case s.StreamARN == "":
		return nil, errors.New("stream source: no stream ARN")
	}
	if r.arn == "" {
		r.arn = s.StreamARN
	}
	if r.batchSize == 0 {
		r.batchSize = DefaultStreamBatchSize
	}
	if r.poll <= 0 {
		r.poll = defaultStreamPoll
	}
	switch {
	case s.StartingPosition != "" && s.StartingPosition != TrimHorizon && s.StartingPosition != Latest:
		return nil, fmt.Errorf("stream source %s: starting position %q is not %s or %s", s.Name, s.StartingPosition, TrimHorizon, Latest)
	case r.batchSize < 1 || r.batchSize > MaxStreamBatchSize:
		return nil, fmt.Errorf("stream source %s: batch size %d is not between 1 and %d", s.Name, r.batchSize, MaxStreamBatchSize)
	case r.window < 0 || r.window > MaxBatchingWindow:
		return nil, fmt.Errorf("stream source %s: batching window %s is not between 0 and %s", s.Name, r.window, MaxBatchingWindow)
	case s.MaximumRetryAttempts < -1 || s.MaximumRetryAttempts > 10000:
		return nil, fmt.Errorf("stream source %s: maximum retry attempts %d is not between -1 and 10000", s.Name, s.MaximumRetryAttempts)
	}
	return r, nil
}

// Run reads the stream until ctx is done. Each shard is read by its own goroutine, a
// child shard only after its parent is read to the end, so records of one item are
// delivered in order.
func (s *StreamSource) Run(ctx context.Context) error {
	r, err := s.check()
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	started := map[string]bool{}
	first := true
	b := backoff{min: 200 * time.Millisecond, max: 5 * time.Second}
	for ctx.Err() == nil {
		shards, err := r.describe(ctx)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			r.log.Warn("describe stream", "err", err)
			sleep(ctx, b.next())
			continue
		}
		b.reset()
		known := map[string]bool{}
		for _, sh := range shards {
			known[aws.ToString(sh.ShardId)] = true
		}
		latest := first && s.StartingPosition == Latest
		if latest {
			// LATEST: shards closed before the mapping started are behind it.
			for _, sh := range shards {
				if closed(sh) {
					started[aws.ToString(sh.ShardId)] = true
					r.finish(aws.ToString(sh.ShardId))
				}
			}
		}
		for _, sh := range shards {
			id := aws.ToString(sh.ShardId)
			parent := aws.ToString(sh.ParentShardId)
			if started[id] || parent != "" && known[parent] && !r.isFinished(parent) {
				continue
			}
			pos := types.ShardIteratorTypeTrimHorizon
			if latest {
				pos = types.ShardIteratorTypeLatest
			}
			started[id] = true
			wg.Go(func() {
				if r.shard(ctx, id, pos) {
					r.finish(id)
				}
			})
		}
		first = false
		t := time.NewTimer(describeEvery)
		select {
		case <-ctx.Done():
		case <-r.wake:
		case <-t.C:
		}
		t.Stop()
	}
	return nil
}

// describe lists all the stream's shards.
func (r *streamRun) describe(ctx context.Context) ([]types.Shard, error) {
	var shards []types.Shard
	var start *string
	for {
		out, err := r.src.Client.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(r.src.StreamARN), ExclusiveStartShardId: start})
		if err != nil {
			return nil, err
		}
		if out.StreamDescription == nil {
			return shards, nil
		}
		shards = append(shards, out.StreamDescription.Shards...)
		start = out.StreamDescription.LastEvaluatedShardId
		if start == nil {
			return shards, nil
		}
	}
}

// finish records that a shard has been read to its end and wakes Run to start its
// children.
func (r *streamRun) finish(id string) {
	r.mu.Lock()
	r.finished[id] = true
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// isFinished reports whether a shard has been read to its end.
func (r *streamRun) isFinished(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.finished[id]
}

// closed reports whether a shard has an end.
func closed(sh types.Shard) bool {
	return sh.SequenceNumberRange != nil && sh.SequenceNumberRange.EndingSequenceNumber != nil
}

// shardReader is the read state of one shard: an iterator and the records read but
// not yet checkpointed.
type shardReader struct {
	r        *streamRun
	id       string
	iter     *string
	start    types.ShardIteratorType
	lastRead string
	buf      []types.Record
	since    time.Time // when buf last became non-empty
	ended    bool
}

// shard processes one shard until it ends (true) or ctx is done (false).
func (r *streamRun) shard(ctx context.Context, id string, start types.ShardIteratorType) bool {
	sr := &shardReader{r: r, id: id, start: start}
	log := r.log.With("shard", id)
	p := &batchProcessor{r: r, log: log}
	for ctx.Err() == nil {
		got, err := sr.fill(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return false
			}
			log.Warn("read shard", "err", err)
			sleep(ctx, p.wait.next())
			continue
		}
		if len(sr.buf) == 0 {
			if sr.ended {
				log.Debug("shard read to its end")
				return true
			}
			sleep(ctx, r.poll)
			continue
		}
		if r.window > 0 && len(sr.buf) < r.batchSize && !sr.ended && time.Since(sr.since) < r.window {
			if got == 0 {
				sleep(ctx, r.poll)
			}
			continue
		}
		sr.buf = sr.buf[p.process(ctx, sr.buf):]
	}
	return false
}

// fill reads once more from the shard when the buffer has room, and returns how many
// records it read.
func (sr *shardReader) fill(ctx context.Context) (int, error) {
	if sr.ended || len(sr.buf) >= sr.r.batchSize {
		return 0, nil
	}
	if sr.iter == nil {
		in := &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(sr.r.src.StreamARN), ShardId: aws.String(sr.id), ShardIteratorType: sr.start}
		if sr.lastRead != "" {
			in.ShardIteratorType = types.ShardIteratorTypeAfterSequenceNumber
			in.SequenceNumber = aws.String(sr.lastRead)
		}
		out, err := sr.r.src.Client.GetShardIterator(ctx, in)
		if err != nil {
			return 0, fmt.Errorf("get shard iterator: %w", err)
		}
		sr.iter = out.ShardIterator
		if sr.iter == nil {
			sr.ended = true
			return 0, nil
		}
	}
	out, err := sr.r.src.Client.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{
		ShardIterator: sr.iter,
		Limit:         aws.Int32(int32(min(1000, sr.r.batchSize-len(sr.buf)))),
	})
	if err != nil {
		var expired *types.ExpiredIteratorException
		var trimmed *types.TrimmedDataAccessException
		switch {
		case errors.As(err, &expired):
			sr.iter = nil // a new one continues after the last record read
			return 0, nil
		case errors.As(err, &trimmed):
			sr.iter, sr.lastRead, sr.start = nil, "", types.ShardIteratorTypeTrimHorizon
			return 0, fmt.Errorf("records trimmed before they were read, restarting at the trim horizon: %w", err)
		}
		return 0, fmt.Errorf("get records: %w", err)
	}
	if len(out.Records) > 0 {
		if len(sr.buf) == 0 {
			sr.since = time.Now()
		}
		sr.buf = append(sr.buf, out.Records...)
		if d := out.Records[len(out.Records)-1].Dynamodb; d != nil {
			sr.lastRead = aws.ToString(d.SequenceNumber)
		}
	}
	sr.iter = out.NextShardIterator
	if sr.iter == nil {
		sr.ended = true
	}
	return len(out.Records), nil
}

// batchProcessor invokes the function with a shard's batches and keeps the retry state
// of the batch at the shard's checkpoint.
type batchProcessor struct {
	r   *streamRun
	log *slog.Logger
	// retries counts the failed attempts of the record at the checkpoint.
	retries int
	// halves are the sizes of the pending parts of a bisected batch, first first.
	halves []int
	wait   backoff
}

// process makes one invocation with the first records of buf and returns how many of
// them are done with (delivered, or discarded after the last retry). After a failure
// it waits before returning, so the caller just calls again.
func (p *batchProcessor) process(ctx context.Context, buf []types.Record) int {
	if p.wait.min == 0 {
		p.wait = backoff{min: 100 * time.Millisecond, max: 3 * time.Second}
	}
	n := min(len(buf), p.r.batchSize)
	if len(p.halves) > 0 {
		n = min(n, p.halves[0])
	}
	batch := buf[:n]
	payload, err := json.Marshal(DynamoDBEvent(batch, p.r.arn, p.r.src.Region))
	if err != nil {
		p.log.Error("build event", "err", err)
		sleep(ctx, p.wait.next())
		return 0
	}
	log := p.log.With("records", n, "firstSequenceNumber", sequenceNumber(batch[0]))
	resp, err := p.r.src.Invoker.Invoke(ctx, payload)
	var fe *invoke.FunctionError
	switch {
	case err == nil:
	case errors.As(err, &fe):
		log.Info("function error", "errorType", fe.Type, "errorMessage", fe.Message, "retries", p.retries)
		if p.r.src.BisectBatchOnFunctionError && n > 1 {
			// Splitting does not count as a retry.
			p.halves = append([]int{n / 2, n - n/2}, p.trimHalves(n)...)
			log.Info("bisecting batch", "first", n/2, "second", n-n/2)
			sleep(ctx, p.wait.next())
			return 0
		}
		return p.failed(ctx, log, 0, n)
	default:
		// Throttled, or the function could not be invoked: retry until it can be,
		// without counting a retry.
		if ctx.Err() == nil {
			log.Info("invocation not made, retrying", "err", err)
		}
		sleep(ctx, p.wait.next())
		return 0
	}
	if !p.r.src.ReportBatchItemFailures {
		return p.succeeded(n)
	}
	at, perr := streamFailure(resp, batch)
	switch {
	case perr != nil:
		log.Warn("invalid partial batch response: whole batch failed", "err", perr)
		return p.failed(ctx, log, 0, n)
	case at < 0:
		return p.succeeded(n)
	}
	log.Info("partial batch failure: checkpoint before the first failed record", "failedSequenceNumber", sequenceNumber(batch[at]), "succeeded", at)
	return p.failed(ctx, log, at, n)
}

// succeeded records that the first done records are delivered.
func (p *batchProcessor) succeeded(done int) int {
	p.retries = 0
	p.wait.reset()
	p.halves = p.trimHalvesBy(done)
	return done
}

// failed records a failed attempt of batch records [at, n) after the first at records
// were delivered: it checkpoints at the failed record and either discards the rest
// of the batch, when its retries are used up, or waits before the retry.
func (p *batchProcessor) failed(ctx context.Context, log *slog.Logger, at, n int) int {
	if at > 0 {
		p.retries = 0
		p.halves = p.trimHalvesBy(at)
	}
	p.retries++
	if limit := p.r.src.MaximumRetryAttempts; limit >= 0 && p.retries > limit {
		log.Warn("retries used up: discarding records", "discarded", n-at, "retries", p.retries-1)
		p.retries = 0
		p.halves = p.trimHalvesBy(n - at)
		return n
	}
	sleep(ctx, p.wait.next())
	return at
}

// trimHalves drops the first pending half when it is the batch of n records being
// replaced by its two halves.
func (p *batchProcessor) trimHalves(n int) []int {
	if len(p.halves) > 0 && p.halves[0] == n {
		return p.halves[1:]
	}
	return p.halves
}

// trimHalvesBy takes k delivered or discarded records off the pending halves.
func (p *batchProcessor) trimHalvesBy(k int) []int {
	h := p.halves
	for k > 0 && len(h) > 0 {
		if h[0] > k {
			h = append([]int{h[0] - k}, h[1:]...)
			break
		}
		k -= h[0]
		h = h[1:]
	}
	return h
}

// streamFailure reads a function's response under ReportBatchItemFailures and returns
// the index in batch of the first failed record, or -1 if all succeeded. Lambda's
// rules: an empty or null response or list is success; an empty, null or missing
// itemIdentifier fails the whole batch (an error here), as does one that is not a
// sequence number of the batch; with several, the lowest sequence number counts.
func streamFailure(resp []byte, batch []types.Record) (int, error) {
	items, err := batchItemFailures(resp)
	if err != nil {
		return 0, err
	}
	index := map[string]int{}
	for i, rec := range batch {
		index[sequenceNumber(rec)] = i
	}
	first := -1
	for _, id := range items {
		i, ok := index[id]
		if !ok {
			return 0, fmt.Errorf("itemIdentifier %q is not a sequence number of the batch", id)
		}
		if first < 0 || i < first {
			first = i
		}
	}
	return first, nil
}

// sequenceNumber returns a record's sequence number.
func sequenceNumber(rec types.Record) string {
	if rec.Dynamodb == nil {
		return ""
	}
	return aws.ToString(rec.Dynamodb.SequenceNumber)
}

// DynamoDBEvent builds the event Lambda sends for a batch of stream records.
// sourceARN is the eventSourceARN; a non-empty region replaces the records' awsRegion.
func DynamoDBEvent(recs []types.Record, sourceARN, region string) events.DynamoDBEvent {
	ev := events.DynamoDBEvent{Records: make([]events.DynamoDBEventRecord, 0, len(recs))}
	for _, rec := range recs {
		out := events.DynamoDBEventRecord{
			AWSRegion:      aws.ToString(rec.AwsRegion),
			EventID:        aws.ToString(rec.EventID),
			EventName:      string(rec.EventName),
			EventSource:    aws.ToString(rec.EventSource),
			EventVersion:   aws.ToString(rec.EventVersion),
			EventSourceArn: sourceARN,
		}
		if region != "" {
			out.AWSRegion = region
		}
		if out.EventSource == "" {
			out.EventSource = "aws:dynamodb"
		}
		if out.EventVersion == "" {
			out.EventVersion = "1.1"
		}
		if d := rec.Dynamodb; d != nil {
			out.Change = events.DynamoDBStreamRecord{
				Keys:           attributeMap(d.Keys),
				NewImage:       attributeMap(d.NewImage),
				OldImage:       attributeMap(d.OldImage),
				SequenceNumber: aws.ToString(d.SequenceNumber),
				SizeBytes:      aws.ToInt64(d.SizeBytes),
				StreamViewType: string(d.StreamViewType),
			}
			if d.ApproximateCreationDateTime != nil {
				out.Change.ApproximateCreationDateTime = events.SecondsEpochTime{Time: d.ApproximateCreationDateTime.Truncate(time.Second)}
			}
		}
		if u := rec.UserIdentity; u != nil {
			out.UserIdentity = &events.DynamoDBUserIdentity{Type: aws.ToString(u.Type), PrincipalID: aws.ToString(u.PrincipalId)}
		}
		ev.Records = append(ev.Records, out)
	}
	return ev
}

// attributeMap converts stream attribute values to the event's, which marshal as
// DynamoDB JSON ({"S":"x"}).
func attributeMap(m map[string]types.AttributeValue) map[string]events.DynamoDBAttributeValue {
	if m == nil {
		return nil
	}
	out := make(map[string]events.DynamoDBAttributeValue, len(m))
	for k, v := range m {
		out[k] = attributeValue(v)
	}
	return out
}

// attributeValue converts one stream attribute value.
func attributeValue(v types.AttributeValue) events.DynamoDBAttributeValue {
	switch x := v.(type) {
	case *types.AttributeValueMemberS:
		return events.NewStringAttribute(x.Value)
	case *types.AttributeValueMemberN:
		return events.NewNumberAttribute(x.Value)
	case *types.AttributeValueMemberB:
		return events.NewBinaryAttribute(x.Value)
	case *types.AttributeValueMemberBOOL:
		return events.NewBooleanAttribute(x.Value)
	case *types.AttributeValueMemberNULL:
		return events.NewNullAttribute()
	case *types.AttributeValueMemberSS:
		return events.NewStringSetAttribute(x.Value)
	case *types.AttributeValueMemberNS:
		return events.NewNumberSetAttribute(x.Value)
	case *types.AttributeValueMemberBS:
		return events.NewBinarySetAttribute(x.Value)
	case *types.AttributeValueMemberL:
		l := make([]events.DynamoDBAttributeValue, len(x.Value))
		for i, item := range x.Value {
			l[i] = attributeValue(item)
		}
		return events.NewListAttribute(l)
	case *types.AttributeValueMemberM:
		return events.NewMapAttribute(attributeMap(x.Value))
	}
	// An unknown union member cannot be represented; NULL keeps the event valid.
	return events.NewNullAttribute()
}
