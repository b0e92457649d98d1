// Package relay is CommerceRelayFunction's handler: it publishes the records of
// commerce's transactional outbox (package outbox), which the OutboxTable's DynamoDB
// stream delivers to it, as messages on queues.
//
// # Cross-account events
//
// Catalog and sale events (contract.CrossAccountEvents) go to the social inbox queue,
// in the social account: the one resource that crosses the boundary, and the relay's
// role the one principal allowed to send to it. Each message is a contract.Envelope
// (event id, type, schema version, occurred-at time, correlation id, payload), and is
// checked against the contract's JSON Schemas before it leaves: a payload with a field
// the schema does not name never reaches social (DESIGN.md section 1, rule 3). The
// envelope has no aggregate id, which for order events would be the order id.
//
// # Internal records
//
// Commerce's own records (package orders) never cross; the relay acts on them:
//
//   - OrderCreated (WithExpiryQueue) becomes the order's expiry message on ExpiryQueue:
//     expiry.Message {orderId, deadline}, delayed by expiry.Delay(deadline, now), that
//     is min(900 s, the time left until the deadline); the expiry consumer re-delays
//     it until the deadline. The record is written in the checkout's own transaction,
//     so every committed order gets its expiry, even if the checkout function dies
//     right after the commit; checkout sends none itself.
//   - OrderCreated and an OrderStatusChanged with releaseStock (WithStockSnapshots)
//     changed the stock of the order's products (a reservation, a release on expiry,
//     cancellation or failure) without a catalog event. The relay reads those products'
//     current items from CatalogTable (one strongly consistent BatchGetItem per 100
//     distinct products of a stream batch) and publishes each one's display snapshot
//     at its CURRENT version to the social inbox: ProductUpdated, or ProductDelisted
//     for a delisted product (a ProductUpdated would list it again in social). Social
//     applies a snapshot only if its version is newer than the one it holds, and every
//     commerce write of a product bumps its version, so a repeated, late or reordered
//     snapshot changes nothing; such an event's id is derived from (type, product,
//     version), so the same snapshot always has the same id. The record's payload
//     names the products (productIds); a record written before it did is acknowledged
//     with a WARN, and the product's next change refreshes social.
//   - Internal types that no consumer needs as messages (Unpublished, e.g.
//     OrderStatusChanged) are acknowledged at DEBUG level: not published, on purpose.
//
// WithInternalRoute publishes any other internal type to a commerce queue as an
// InternalMessage (the envelope plus the aggregate id).
//
// # Delivery
//
// A record is written once, in the same transaction as the change. Its messages are
// sent with SendMessageBatch, grouped by queue (the order of the stream within each
// queue). If a send or the catalog read fails, the first record not fully handled and
// every later record with work to do are reported as batch item failures by their
// sequence numbers; Lambda checkpoints before the first and retries from there
// (MaximumRetryAttempts -1: until it succeeds; the stream keeps records 24 hours and
// the outbox table 7 days), so a failed publish is retried, never lost. A retry may
// send a message twice: the social inbox applies each event id once and each product
// version once, and a second expiry of an order is a NoOp.
//
// Records the relay deliberately does not publish are acknowledged with an ERROR or
// WARN log line and stay in the outbox table until their TTL: a record whose payload
// breaks the contract's schema (a commerce bug; sending it would breach the boundary),
// a record that cannot be parsed, and an event type with no route that is not in
// Unpublished. REMOVE records (TTL expiry) and MODIFY records are ignored.
package relay

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/etalase/etalase/shared/commerce/expiry"
	"github.com/etalase/etalase/shared/commerce/outbox"
	"github.com/etalase/etalase/shared/contract"
	"github.com/etalase/etalase/shared/contract/schemacheck"
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

var _ SQSAPI = (*sqs.Client)(nil)

// Validator checks a cross-account message against the contract (schemacheck.Validator).
type Validator interface {
	ValidateMessage(body []byte) error
}

var _ Validator = (*schemacheck.Validator)(nil)

// Handler publishes outbox records.
type Handler struct {
	sqs       SQSAPI
	validator Validator
	log       *slog.Logger
	now       func() time.Time
	// routes maps an event type to its destination.
	routes map[string]destination
	// catalog reads products for stock snapshots; nil without WithStockSnapshots.
	catalog *catalogReader
}

// kind is how a destination's messages are made from a record.
type kind int

const (
	// kindCrossAccount: the contract envelope, validated against the JSON Schemas.
	kindCrossAccount kind = iota
	// kindInternal: an InternalMessage (the envelope plus the aggregate id).
	kindInternal
	// kindExpiry: an expiry.Message, delayed until the order's deadline (at most 900 s).
	kindExpiry
)

// destination is a queue and how its messages are made.
type destination struct {
	queueURL string
	kind     kind
}

// Option configures a Handler.
type Option func(*Handler)

// WithInternalRoute publishes eventType to a commerce queue, as an InternalMessage.
// A commerce event that a commerce consumer must hear about (a ledger entry to chain)
// gets a route here; cross-account types cannot be rerouted.
func WithInternalRoute(eventType, queueURL string) Option {
	return func(h *Handler) {
		if !contract.IsCrossAccount(eventType) && queueURL != "" {
			h.routes[eventType] = destination{queueURL: queueURL, kind: kindInternal}
		}
	}
}

// WithClock replaces time.Now (the expiry messages' delays are counted from it).
func WithClock(now func() time.Time) Option {
	return func(h *Handler) {
		if now != nil {
			h.now = now
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
	h := &Handler{sqs: client, validator: v, log: log, now: time.Now, routes: map[string]destination{}}
	for _, s := range contract.CrossAccountEvents() {
		h.routes[s.Type] = destination{queueURL: socialInboxURL, kind: kindCrossAccount}
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

// message is one SQS message to send, made from the stream record at index src.
type message struct {
	src      int
	queueURL string
	body     string
	// delay is the message's DelaySeconds.
	delay int32
	// eventType is the eventType message attribute; empty for none.
	eventType string
	// log says what the message is, for the "published" line.
	log []any
	// crossAccount is true for messages to the social inbox.
	crossAccount bool
}

func (m message) size() int { return len(m.body) + 64 }

// work is what one stream record asks of the relay.
type work struct {
	seq string
	rec outbox.Record
	// messages are the record's own messages.
	messages []message
	// products are the products whose display snapshots the record refreshes.
	products []string
}

// busy reports whether the record has anything to send; only such records are reported
// as batch item failures (the lowest one reported is where Lambda resumes).
func (w work) busy() bool { return len(w.messages) > 0 || len(w.products) > 0 }

// Handle is the Lambda handler of the OutboxTable stream (ReportBatchItemFailures).
// It never returns an error: unsent records are reported by sequence number.
func (h *Handler) Handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	works := make([]work, len(ev.Records))
	for i, r := range ev.Records {
		works[i] = h.prepare(ctx, i, r)
	}
	// failAt is the index of the first record that is not completely handled.
	failAt := len(works)
	var msgs []message
	for _, w := range works {
		msgs = append(msgs, w.messages...)
	}
	if h.catalog != nil {
		snaps, failed, err := h.snapshots(ctx, works)
		if err != nil {
			h.log.ErrorContext(ctx, "catalog read failed; the stream retries from this record",
				"eventId", works[failed].rec.EventID, "type", works[failed].rec.EventType, "sequenceNumber", works[failed].seq, "error", err)
			failAt = failed
		}
		msgs = append(msgs, snaps...)
	}
	msgs = slices.DeleteFunc(msgs, func(m message) bool { return m.src >= failAt })
	if at, ok := h.sendAll(ctx, msgs); !ok {
		failAt = min(failAt, at)
	}
	var resp events.DynamoDBEventResponse
	for _, w := range works[failAt:] {
		if w.busy() {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: w.seq})
		}
	}
	return resp, nil
}

// prepare turns stream record i into its work, or says why there is none.
func (h *Handler) prepare(ctx context.Context, i int, r events.DynamoDBEventRecord) work {
	w := work{seq: r.Change.SequenceNumber}
	log := h.log.With("sequenceNumber", w.seq, "eventName", r.EventName)
	if r.EventName != string(events.DynamoDBOperationTypeInsert) {
		log.DebugContext(ctx, "not an insert; ignored")
		return w
	}
	item, err := FromStreamImage(r.Change.NewImage)
	if err != nil {
		log.ErrorContext(ctx, "outbox record unreadable; not published", "error", err)
		return w
	}
	rec, err := outbox.FromItem(item)
	if err != nil {
		log.ErrorContext(ctx, "outbox record unreadable; not published", "error", err)
		return w
	}
	w.rec = rec
	log = log.With("eventId", rec.EventID, "type", rec.EventType, "schemaVersion", rec.SchemaVersion)
	if h.catalog != nil {
		w.products = h.stockProducts(ctx, log, rec)
	}
	dest, routed := h.routes[rec.EventType]
	if !routed {
		if _, ok := unpublished[rec.EventType]; ok {
			log.DebugContext(ctx, "internal record without a consumer; not published")
		} else {
			log.WarnContext(ctx, "no route for this event type; not published")
		}
		return w
	}
	m, ok := h.message(ctx, log, rec, dest)
	if ok {
		m.src = i
		w.messages = append(w.messages, m)
	}
	return w
}

// envelope is the contract envelope of a record.
func envelope(rec outbox.Record) contract.Envelope {
	env := contract.Envelope{
		EventID: rec.EventID, Type: rec.EventType, SchemaVersion: rec.SchemaVersion,
		OccurredAt: rec.OccurredAt.UTC(), CorrelationID: rec.CorrelationID, Payload: json.RawMessage(rec.Payload),
	}
	if env.CorrelationID == "" {
		env.CorrelationID = rec.EventID // the event starts its own chain
	}
	return env
}

// message makes a record's message for dest, or logs why it cannot be sent.
func (h *Handler) message(ctx context.Context, log *slog.Logger, rec outbox.Record, dest destination) (message, bool) {
	m := message{queueURL: dest.queueURL, eventType: rec.EventType, crossAccount: dest.kind == kindCrossAccount,
		log: []any{"eventId", rec.EventID, "type", rec.EventType, "schemaVersion", rec.SchemaVersion, "correlationId", rec.CorrelationID}}
	var body []byte
	var err error
	switch dest.kind {
	case kindCrossAccount:
		body, err = json.Marshal(envelope(rec))
		if err == nil {
			if verr := h.validator.ValidateMessage(body); verr != nil {
				log.ErrorContext(ctx, "outbox record breaks the contract; withheld from social", "error", verr)
				return message{}, false
			}
		}
	case kindInternal:
		body, err = json.Marshal(InternalMessage{Envelope: envelope(rec), AggregateID: rec.AggregateID})
	case kindExpiry:
		em, merr := expiryMessage(rec)
		if merr != nil {
			log.ErrorContext(ctx, "order record unusable; no expiry scheduled", "error", merr)
			return message{}, false
		}
		body, err = json.Marshal(em)
		m.delay, m.eventType = expiry.Delay(em.Deadline, h.now()), ""
		m.log = append(m.log, "orderId", em.OrderID, "deadline", em.Deadline, "delaySeconds", m.delay)
	}
	if err != nil {
		log.ErrorContext(ctx, "outbox record payload is not JSON; not published", "error", err)
		return message{}, false
	}
	m.body = string(body)
	return m, true
}

// sendAll sends msgs grouped by queue (in the order the queues first appear, each in
// the given order), in batches. On failure it stops and returns the lowest record
// index among the messages not sent, and false.
func (h *Handler) sendAll(ctx context.Context, msgs []message) (int, bool) {
	var queues []string
	for _, m := range msgs {
		if !slices.Contains(queues, m.queueURL) {
			queues = append(queues, m.queueURL)
		}
	}
	ordered := slices.Clone(msgs)
	slices.SortStableFunc(ordered, func(a, b message) int {
		return cmp.Compare(slices.Index(queues, a.queueURL), slices.Index(queues, b.queueURL))
	})
	for start := 0; start < len(ordered); {
		n := batchLen(ordered[start:])
		sent, err := h.send(ctx, ordered[start:start+n])
		for _, m := range ordered[start : start+sent] {
			h.log.InfoContext(ctx, "published", slices.Concat(m.log, []any{"crossAccount", m.crossAccount})...)
		}
		if err != nil {
			unsent := ordered[start+sent:]
			first := slices.MinFunc(unsent, func(a, b message) int { return cmp.Compare(a.src, b.src) })
			h.log.ErrorContext(ctx, "publish failed; the stream retries from the first record not published",
				slices.Concat(ordered[start+sent].log, []any{"unsent", len(unsent), "fromRecord", first.src, "error", err})...)
			return first.src, false
		}
		start += n
	}
	return 0, true
}

// batchLen returns how many of ms, from the first, go in one SendMessageBatch: same
// queue, at most 10 entries and 256 KiB.
func batchLen(ms []message) int {
	n, size := 0, 0
	for n < len(ms) && n < maxBatchEntries && ms[n].queueURL == ms[0].queueURL {
		if n > 0 && size+ms[n].size() > maxBatchBytes {
			break
		}
		size += ms[n].size()
		n++
	}
	return n
}

// send sends one batch. On failure it returns how many leading entries were sent, and
// the first failed entry's error.
func (h *Handler) send(ctx context.Context, batch []message) (int, error) {
	in := &sqs.SendMessageBatchInput{QueueUrl: aws.String(batch[0].queueURL)}
	for i, m := range batch {
		e := sqstypes.SendMessageBatchRequestEntry{
			Id:           aws.String(strconv.Itoa(i)),
			MessageBody:  aws.String(m.body),
			DelaySeconds: m.delay,
		}
		if m.eventType != "" {
			e.MessageAttributes = map[string]sqstypes.MessageAttributeValue{
				contract.MessageAttributeType: {DataType: aws.String("String"), StringValue: aws.String(m.eventType)},
			}
		}
		in.Entries = append(in.Entries, e)
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
