// Package expiry expires unpaid orders at their payment deadline (DESIGN flow 7):
// the relay schedules an SQS message for the deadline from the OrderCreated outbox
// record that the checkout transaction writes (package relay; so every committed order
// has one), and CommerceExpiryFunction (Handler) moves the order to EXPIRED through the
// state machine when it arrives, releasing its stock in the same transaction, exactly
// once. The Handler's Scheduler sends an early message again.
//
// # Messages and delays
//
// A message on ExpiryQueue (a standard queue) is {"orderId": "o_…", "deadline":
// RFC 3339}. SQS delays a message by at most 15 minutes (MaxDelay), so a deadline
// further away is reached in hops: the message is sent with the longest delay that
// does not pass the deadline, and a consumer that receives it before the deadline
// sends it again with the remaining delay (at most MaxDelay) and acknowledges the
// original. A 24-hour window costs 96 hops; the default 15-minute window one.
//
// # Exactly once
//
// At or after the deadline the handler calls orders.Store.Apply with order.Expire:
// one TransactWriteItems conditioned on the order's status, version and ledger head
// writes EXPIRED, the stock release of every line, the status_changed ledger entry and
// the OrderStatusChanged outbox record. A message delivered twice, or racing a payment,
// finds the order changed: the second decision is a NoOp (an order paid in time stays
// PAID), so stock returns once. An order whose stored deadline is later than the
// message's (order.ErrNotDue) is scheduled again for its own deadline.
//
// Failures: a message that cannot be parsed, or whose Apply fails (DynamoDB down, a
// conflict that outlasted the retries), is reported as a batch item failure; SQS
// redelivers it after the visibility timeout and moves it to the dead-letter queue
// after maxReceiveCount receives. An order that does not exist is acknowledged with a
// warning (there is nothing to expire).
package expiry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/etalase/etalase/shared/commerce/ledger"
	"github.com/etalase/etalase/shared/commerce/order"
	"github.com/etalase/etalase/shared/commerce/orders"
)

// MaxDelay is SQS's longest message delay: 900 seconds.
const MaxDelay = 15 * time.Minute

// Message is the body of an ExpiryQueue message.
type Message struct {
	// OrderID is the order to expire.
	OrderID string `json:"orderId"`
	// Deadline is the order's payment deadline.
	Deadline time.Time `json:"deadline"`
}

// Parse reads a message body; it must name an order id and a deadline.
func Parse(body string) (Message, error) {
	var m Message
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		return Message{}, fmt.Errorf("expiry message: %w", err)
	}
	if !order.ValidID(m.OrderID) || m.Deadline.IsZero() {
		return Message{}, errors.New("expiry message: an order id and a deadline are required")
	}
	return m, nil
}

// Delay is the SQS DelaySeconds of a message for deadline sent at now: the whole
// seconds until the deadline, rounded up so that the message never arrives early
// because of rounding, and capped at MaxDelay (0 when the deadline has passed).
func Delay(deadline, now time.Time) int32 {
	d := deadline.Sub(now)
	if d <= 0 {
		return 0
	}
	return int32(min(math.Ceil(d.Seconds()), MaxDelay.Seconds()))
}

// SQSAPI is the part of the SQS client the Scheduler uses.
type SQSAPI interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

var _ SQSAPI = (*sqs.Client)(nil)

// Scheduler sends expiry messages to ExpiryQueue.
type Scheduler struct {
	sqs      SQSAPI
	queueURL string
	now      func() time.Time
}

// NewScheduler returns a Scheduler for the queue at queueURL; now nil means time.Now.
func NewScheduler(client SQSAPI, queueURL string, now func() time.Time) *Scheduler {
	if now == nil {
		now = time.Now
	}
	return &Scheduler{sqs: client, queueURL: queueURL, now: now}
}

// Schedule sends the order's expiry message, delayed until the deadline or by
// MaxDelay if the deadline is further away. It costs one SendMessage.
func (s *Scheduler) Schedule(ctx context.Context, orderID string, deadline time.Time) error {
	body, err := json.Marshal(Message{OrderID: orderID, Deadline: deadline.UTC()})
	if err != nil {
		return fmt.Errorf("schedule expiry: %w", err)
	}
	_, err = s.sqs.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:     aws.String(s.queueURL),
		MessageBody:  aws.String(string(body)),
		DelaySeconds: Delay(deadline, s.now()),
	})
	if err != nil {
		return fmt.Errorf("schedule expiry of order %s: %w", orderID, err)
	}
	return nil
}

// Applier is what the Handler needs of orders.Store.
type Applier interface {
	Apply(ctx context.Context, orderID string, decide func(order.Order) (order.Decision, error), ev orders.LedgerEvent) (orders.Result, error)
}

var _ Applier = (*orders.Store)(nil)

// Handler is CommerceExpiryFunction's SQS handler.
type Handler struct {
	orders Applier
	sched  *Scheduler
	log    *slog.Logger
	now    func() time.Time
}

// NewHandler returns a Handler that expires orders through store and re-schedules
// early messages with sched. now nil means time.Now.
func NewHandler(store Applier, sched *Scheduler, log *slog.Logger, now func() time.Time) *Handler {
	if log == nil {
		log = slog.Default()
	}
	if now == nil {
		now = time.Now
	}
	return &Handler{orders: store, sched: sched, log: log, now: now}
}

// Handle is the Lambda handler (ReportBatchItemFailures): it processes each message
// and reports the ones to retry. It never returns an error.
func (h *Handler) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	for _, r := range ev.Records {
		if err := h.process(ctx, r); err != nil {
			h.log.ErrorContext(ctx, "expiry failed; the message will be retried", "messageId", r.MessageId, "error", err)
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
		}
	}
	return resp, nil
}

// Outcome says what processing one message did, for logs and tests.
type Outcome string

// Outcomes of Process.
const (
	// OutcomeRescheduled: the deadline lies ahead; the message was sent again.
	OutcomeRescheduled Outcome = "rescheduled"
	// OutcomeExpired: the order became EXPIRED and its stock returned.
	OutcomeExpired Outcome = "expired"
	// OutcomeUnchanged: the order was paid or closed already (a NoOp).
	OutcomeUnchanged Outcome = "unchanged"
	// OutcomeMissing: no such order.
	OutcomeMissing Outcome = "missing"
)

func (h *Handler) process(ctx context.Context, r events.SQSMessage) error {
	m, err := Parse(r.Body)
	if err != nil {
		return err
	}
	out, err := h.Process(ctx, m)
	if err != nil {
		return err
	}
	level := slog.LevelInfo
	if out == OutcomeMissing {
		level = slog.LevelWarn
	}
	h.log.Log(ctx, level, "expiry message processed", "orderId", m.OrderID, "deadline", m.Deadline, "outcome", string(out), "messageId", r.MessageId)
	return nil
}

// Process handles one message: it re-schedules a message that arrived before its
// deadline, and otherwise expires the order through Apply with order.Expire.
func (h *Handler) Process(ctx context.Context, m Message) (Outcome, error) {
	now := h.now()
	if now.Before(m.Deadline) {
		return OutcomeRescheduled, h.sched.Schedule(ctx, m.OrderID, m.Deadline)
	}
	res, err := h.orders.Apply(ctx, m.OrderID, func(o order.Order) (order.Decision, error) {
		return order.Expire(o, now)
	}, orders.LedgerEvent{Type: ledger.TypeStatusChanged, Data: map[string]any{"event": string(order.EventDeadlinePassed)}})
	switch {
	case errors.Is(err, order.ErrNotDue):
		// The order's own deadline is later than the message's: follow the order.
		return OutcomeRescheduled, h.sched.Schedule(ctx, m.OrderID, res.Order.Deadline)
	case errors.Is(err, orders.ErrOrderNotFound):
		return OutcomeMissing, nil
	case err != nil:
		return "", fmt.Errorf("expire order %s: %w", m.OrderID, err)
	case res.Applied:
		return OutcomeExpired, nil
	}
	return OutcomeUnchanged, nil
}
