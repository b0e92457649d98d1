// Package relay is CommerceRelayFunction's handler: it publishes the records of
// commerce's transactional outbox (package outbox), which the OutboxTable's DynamoDB
// stream delivers to it, as messages on queues.
//
// Catalog and sale events (contract.CrossAccountEvents) go to the social inbox queue,
// in the social account: the one resource that crosses the boundary, and the relay's
// role the one principal allowed to send to it. Each message is a contract.Envelope
// (event id, type, schema version, occurred-at time, correlation id, payload), and is
// checked against the contract's JSON Schemas before it leaves: a payload with a field
// the schema does not name never reaches social (DESIGN.md section 1, rule 3). The
// envelope has no aggregate id, which for order events would be the order id.
//
// Delivery: one message per outbox record (a record is written once, in the same
// transaction as the change). Messages are sent with SendMessageBatch, in stream order.
// If a send fails, the record and every later record of the batch are reported as batch
// item failures by their sequence numbers; Lambda checkpoints before the first and
// retries from there (MaximumRetryAttempts -1: until it succeeds; the stream keeps
// records 24 hours and the outbox table 7 days), so a failed publish is retried, never
// lost. A retry may send a message twice; consumers apply each event id once.
//
// Records the relay deliberately does not publish are acknowledged with an ERROR or
// WARN log line and stay in the outbox table until their TTL: a record whose payload
// breaks the contract's schema (a commerce bug; sending it would breach the boundary),
// a record that cannot be parsed, and an event type with no route. REMOVE records
// (TTL expiry) and MODIFY records are ignored.
package relay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/etalase/etalase/shared/commerce/outbox"
	"github.com/etalase/etalase/shared/contract"
)

// SendMessageBatch limits.
const (
	maxBatchEntries = 10
	maxBatchBytes   = 256 << 10
)

// SQSAPI is the part of the SQS client the relay uses.
type SQSAPI interface {
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
}

// Validator checks a cross-account message against the contract (contract.Validator).
type Validator interface {
	ValidateMessage(body []byte) error
}

var _ Validator = (*contract.Validator)(nil)

// Handler publishes outbox records.
type Handler struct {
	sqs       SQSAPI
	validator Validator
	log       *slog.Logger
	// routes maps an event type to its destination.
	routes map[string]destination
}

// destination is a queue and how its messages are made.
type destination struct {
	queueURL string
	// crossAccount messages are contract envelopes, validated; internal ones carry the
	// aggregate id too.
	crossAccount bool
}

// Option configures a Handler.
type Option func(*Handler)

// WithInternalRoute publishes eventType to a commerce queue, as an InternalMessage.
// A commerce event that a commerce consumer must hear about (an order to expire, a
// ledger entry to chain) gets a route here; cross-account types cannot be rerouted.
func WithInternalRoute(eventType, queueURL string) Option {
	return func(h *Handler) {
		if !contract.IsCrossAccount(eventType) {
			h.routes[eventType] = destination{queueURL: queueURL}
		}
	}
}

// NewHandler returns a relay that publishes every cross-account event type to the
// social inbox at socialInboxURL.
func NewHandler(client SQSAPI, socialInboxURL string, v Validator, log *slog.Logger, opts ...Option) (*Handler, error) {
	if client == nil || v == nil || socialInboxURL == "" {
		return nil, errors.New("relay: an SQS client, a validator and the social inbox URL are required")
	}
	if log == nil {
		log = slog.Default()
	}
	h := &Handler{sqs: client, validator: v, log: log, routes: map[string]destination{}}
	for _, s := range contract.CrossAccountEvents() {
		h.routes[s.Type] = destination{queueURL: socialInboxURL, crossAccount: true}
	}
	for _, o := range opts {
		o(h)
	}
	return h, nil
}

// InternalMessage is the body of a message to a commerce queue: the envelope plus the
// outbox record's aggregate id (an order id may travel inside commerce).
type InternalMessage struct {
	contract.Envelope
	// AggregateID is the id of the entity the event is about.
	AggregateID string `json:"aggregateId"`
}

// pending is one record ready to send.
type pending struct {
	seq   string
	rec   outbox.Record
	dest  destination
	body  string
	bytes int
}

// Handle is the Lambda handler of the OutboxTable stream (ReportBatchItemFailures).
// It never returns an error: unsent records are reported by sequence number.
func (h *Handler) Handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	var todo []pending
	for _, r := range ev.Records {
		p, ok := h.prepare(ctx, r)
		if ok {
			todo = append(todo, p)
		}
	}
	var resp events.DynamoDBEventResponse
	for start := 0; start < len(todo); {
		n := batchLen(todo[start:])
		sent, err := h.send(ctx, todo[start:start+n])
		if err != nil {
			failed := todo[start+sent]
			h.log.ErrorContext(ctx, "publish failed; the stream retries from this record",
				"eventId", failed.rec.EventID, "type", failed.rec.EventType, "sequenceNumber", failed.seq,
				"unsent", len(todo)-start-sent, "error", err)
			for _, p := range todo[start+sent:] {
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: p.seq})
			}
			return resp, nil
		}
		for _, p := range todo[start : start+n] {
			h.log.InfoContext(ctx, "published", "eventId", p.rec.EventID, "type", p.rec.EventType,
				"schemaVersion", p.rec.SchemaVersion, "correlationId", p.rec.CorrelationID, "crossAccount", p.dest.crossAccount)
		}
		start += n
	}
	return resp, nil
}

// prepare turns a stream record into a message, or says why it is not sent.
func (h *Handler) prepare(ctx context.Context, r events.DynamoDBEventRecord) (pending, bool) {
	seq := r.Change.SequenceNumber
	log := h.log.With("sequenceNumber", seq, "eventName", r.EventName)
	if r.EventName != string(events.DynamoDBOperationTypeInsert) {
		log.DebugContext(ctx, "not an insert; ignored")
		return pending{}, false
	}
	item, err := FromStreamImage(r.Change.NewImage)
	if err != nil {
		log.ErrorContext(ctx, "outbox record unreadable; not published", "error", err)
		return pending{}, false
	}
	rec, err := outbox.FromItem(item)
	if err != nil {
		log.ErrorContext(ctx, "outbox record unreadable; not published", "error", err)
		return pending{}, false
	}
	log = log.With("eventId", rec.EventID, "type", rec.EventType, "schemaVersion", rec.SchemaVersion)
	dest, ok := h.routes[rec.EventType]
	if !ok {
		log.WarnContext(ctx, "no route for this event type; not published")
		return pending{}, false
	}
	env := contract.Envelope{
		EventID: rec.EventID, Type: rec.EventType, SchemaVersion: rec.SchemaVersion,
		OccurredAt: rec.OccurredAt.UTC(), CorrelationID: rec.CorrelationID, Payload: json.RawMessage(rec.Payload),
	}
	if env.CorrelationID == "" {
		env.CorrelationID = rec.EventID // the event starts its own chain
	}
	var body []byte
	if dest.crossAccount {
		body, err = json.Marshal(env)
		if err == nil {
			if verr := h.validator.ValidateMessage(body); verr != nil {
				log.ErrorContext(ctx, "outbox record breaks the contract; withheld from social", "error", verr)
				return pending{}, false
			}
		}
	} else {
		body, err = json.Marshal(InternalMessage{Envelope: env, AggregateID: rec.AggregateID})
	}
	if err != nil {
		log.ErrorContext(ctx, "outbox record payload is not JSON; not published", "error", err)
		return pending{}, false
	}
	return pending{seq: seq, rec: rec, dest: dest, body: string(body), bytes: len(body) + 64}, true
}

// batchLen returns how many of ps, from the first, go in one SendMessageBatch: same
// queue, at most 10 entries and 256 KiB.
func batchLen(ps []pending) int {
	n, size := 0, 0
	for n < len(ps) && n < maxBatchEntries && ps[n].dest.queueURL == ps[0].dest.queueURL {
		if n > 0 && size+ps[n].bytes > maxBatchBytes {
			break
		}
		size += ps[n].bytes
		n++
	}
	return n
}

// send sends one batch. On failure it returns how many leading entries were sent, and
// the first failed entry's error.
func (h *Handler) send(ctx context.Context, batch []pending) (int, error) {
	in := &sqs.SendMessageBatchInput{QueueUrl: aws.String(batch[0].dest.queueURL)}
	for i, p := range batch {
		in.Entries = append(in.Entries, sqstypes.SendMessageBatchRequestEntry{
			Id:          aws.String(strconv.Itoa(i)),
			MessageBody: aws.String(p.body),
			MessageAttributes: map[string]sqstypes.MessageAttributeValue{
				contract.MessageAttributeType: {DataType: aws.String("String"), StringValue: aws.String(p.rec.EventType)},
			},
		})
	}
	out, err := h.sqs.SendMessageBatch(ctx, in)
	if err != nil {
		return 0, fmt.Errorf("send message batch: %w", err)
	}
	if len(out.Failed) == 0 {
		if len(out.Successful) != len(batch) {
			return 0, fmt.Errorf("send message batch: %d of %d entries confirmed", len(out.Successful), len(batch))
		}
		return len(batch), nil
	}
	first := len(batch)
	var firstErr error
	for _, f := range out.Failed {
		i, err := strconv.Atoi(aws.ToString(f.Id))
		if err != nil || i < 0 || i >= len(batch) {
			return 0, fmt.Errorf("send message batch: unknown failed entry %q", aws.ToString(f.Id))
		}
		if i < first {
			first = i
			firstErr = fmt.Errorf("send message batch: entry %d: %s: %s (sender fault %v)",
				i, aws.ToString(f.Code), aws.ToString(f.Message), f.SenderFault)
		}
	}
	return first, firstErr
}
