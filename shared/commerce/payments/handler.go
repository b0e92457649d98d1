package payments

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/etalase/etalase/shared/commerce/paymentevents"
)

// Marker records that a stored notification was processed (paymentevents.Store).
type Marker interface {
	MarkProcessed(ctx context.Context, key, outcome string, at time.Time) error
}

var _ Marker = (*paymentevents.Store)(nil)

// Handler is the payments consumer: PaymentEventsQueue's SQS FIFO batches.
type Handler struct {
	applier *Applier
	marker  Marker
	log     *slog.Logger
	now     func() time.Time
}

// NewHandler returns the consumer; log nil discards.
func NewHandler(applier *Applier, marker Marker, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{applier: applier, marker: marker, log: log, now: time.Now}
}

// groupAttribute is the SQS system attribute naming a FIFO message's group.
const groupAttribute = "MessageGroupId"

// Handle applies a batch and reports the messages to retry. Each message group (one
// order) is applied in order; groups run in parallel. It never returns an error: a
// failure is a batch item failure, as the whole batch failing would retry the messages
// that succeeded.
func (h *Handler) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var keys []string
	groups := map[string][]events.SQSMessage{}
	for _, m := range ev.Records {
		g := m.Attributes[groupAttribute]
		if _, ok := groups[g]; !ok {
			keys = append(keys, g)
		}
		groups[g] = append(groups[g], m)
	}
	failed := make([][]string, len(keys))
	var wg sync.WaitGroup
	for i, g := range keys {
		wg.Go(func() { failed[i] = h.group(ctx, groups[g]) })
	}
	wg.Wait()
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	for _, ids := range failed {
		for _, id := range ids {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: id})
		}
	}
	return resp, nil
}

// group applies one group's messages in order; at the first failure it stops and
// returns the ids of that message and every later one.
func (h *Handler) group(ctx context.Context, msgs []events.SQSMessage) []string {
	for i, m := range msgs {
		if !h.one(ctx, m) {
			ids := make([]string, 0, len(msgs)-i)
			for _, later := range msgs[i:] {
				ids = append(ids, later.MessageId)
			}
			return ids
		}
	}
	return nil
}

// one applies one message and reports whether it is done (applied, a no-op, or
// recorded as rejected).
func (h *Handler) one(ctx context.Context, m events.SQSMessage) bool {
	log := h.log.With("messageId", m.MessageId, "receiveCount", m.Attributes["ApproximateReceiveCount"])
	e, err := paymentevents.ParseMessage(m.Body)
	if err != nil {
		// Only the webhook sends here: a bad message is a bug. Retried, it reaches
		// the dead-letter queue, where someone looks at it.
		log.ErrorContext(ctx, "unreadable payment message", "error", err)
		return false
	}
	res, err := h.applier.Apply(ctx, e, SourceNotification)
	if err != nil {
		log.WarnContext(ctx, "payment not applied; will retry", "orderId", e.OrderID, "notificationKey", e.Key, "error", err)
		return false
	}
	if err := h.mark(ctx, e.Key, string(res.Outcome)); err != nil {
		// Not marking only means a later duplicate is sent again, and is a no-op.
		log.WarnContext(ctx, "mark payment event processed", "notificationKey", e.Key, "error", err)
	}
	return true
}

// markAttempts bounds mark's tries.
const markAttempts = 4

// mark marks a stored notification processed, trying again at once after a failure:
// the message is about to be deleted, and a record left unmarked stays so, since a
// duplicate the webhook sends again within SQS's five-minute deduplication window is
// dropped. A transaction conflict on the record (a TransactionConflictException,
// which the SDK does not retry) is the usual cause; marking twice is harmless.
func (h *Handler) mark(ctx context.Context, key, outcome string) error {
	var err error
	for attempt := range markAttempts {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return errors.Join(err, ctx.Err())
			case <-time.After(time.Duration(attempt*(10+rand.IntN(20))) * time.Millisecond):
			}
		}
		if err = h.marker.MarkProcessed(ctx, key, outcome, h.now()); err == nil {
			return nil
		}
	}
	return err
}
