// Package sources is the local runner's event source mappings: the pollers that Lambda
// runs for a function's SQS queues and DynamoDB streams, and the EventBridge rules that
// invoke it on a schedule.
//
// Each source reads from the local emulators (fauxqs for SQS, DynamoDB Local for
// streams) through the ordinary AWS SDK clients, builds the event exactly as Lambda
// would (events.SQSEvent, events.DynamoDBEvent, an EventBridge "Scheduled Event"), and
// hands it to an invoke.Invoker. What happens to the records afterwards follows
// Lambda's documented rules, so that a handler which passes here behaves the same
// against real Lambda:
//
//   - SQS ("Using Lambda with Amazon SQS", "Handling errors for an SQS event source in
//     Lambda"): a successful batch is deleted; a failed invocation deletes nothing and
//     the messages come back after the queue's visibility timeout, reaching the queue's
//     own dead-letter queue after maxReceiveCount; with ReportBatchItemFailures only the
//     reported messages come back, and an invalid response fails the whole batch.
//   - DynamoDB streams ("Using AWS Lambda with Amazon DynamoDB", "Configuring partial
//     batch response with DynamoDB and Lambda"): records are delivered per shard in
//     order; a failed batch is retried until it succeeds or MaximumRetryAttempts runs
//     out, and nothing after it is delivered first.
//   - Schedules: EventBridge rate() and six-field cron() expressions, in UTC (or
//     a Scheduler timezone), invoking asynchronously with a "Scheduled Event".
//
// FromEvents turns a template function's Events into sources.
package sources

import (
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"time"
)

// Source is one event source mapping. Run polls (or waits for its schedule) and invokes
// the function until ctx is done; it returns nil then, and an error only when the
// source is misconfigured.
type Source interface {
	Run(ctx context.Context) error
}

// logger returns l, or a logger that discards everything.
func logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return l
}

// backoff is a capped exponential backoff with jitter.
type backoff struct {
	min, max time.Duration
	cur      time.Duration
}

// next returns the next delay and doubles the following one.
func (b *backoff) next() time.Duration {
	if b.cur < b.min {
		b.cur = b.min
	}
	d := b.cur
	b.cur = min(b.cur*2, b.max)
	// ±20% jitter, so several pollers do not retry in lock step.
	return d - d/5 + time.Duration(rand.Int64N(int64(d/5)*2+1))
}

// reset starts the backoff over.
func (b *backoff) reset() { b.cur = 0 }

// sleep waits for d or until ctx is done, and reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
