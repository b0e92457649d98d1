// Package outbox is commerce's transactional outbox. A write that others must hear about
// (a product listed, an order paid) adds one outbox record to the same DynamoDB
// transaction as the state change, so the event exists if and only if the change
// committed. The outbox table's stream feeds the relay, which publishes each record;
// records expire by TTL once they are surely relayed.
package outbox

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Retention is how long a record stays in the table after it occurred. The stream
// delivers within seconds and keeps records 24 hours; a week leaves room to investigate
// and replay.
const Retention = 7 * 24 * time.Hour

// Record is one event waiting to be relayed.
type Record struct {
	// EventID is unique per event (a random UUID); consumers deduplicate on it.
	EventID string
	// EventType names the payload schema, e.g. contract.EventProductListed.
	EventType string
	// AggregateID is the id of the entity the event is about (product, order).
	AggregateID string
	// SchemaVersion is the payload's schema version.
	SchemaVersion int
	// OccurredAt is when the change was made.
	OccurredAt time.Time
	// CorrelationID ties the event to the request that caused it (API Gateway's request
	// id); empty if unknown.
	CorrelationID string
	// Payload is the event payload, JSON encoded.
	Payload string
	// ExpiresAt is when DynamoDB's TTL may delete the record.
	ExpiresAt time.Time
}

// New returns a record with a fresh event id for payload (JSON encoded here), occurring
// at now and expiring Retention later. The correlation id comes from ctx (see
// WithCorrelationID).
func New(ctx context.Context, eventType, aggregateID string, schemaVersion int, payload any, now time.Time) (Record, error) {
	if eventType == "" || aggregateID == "" || schemaVersion < 1 {
		return Record{}, errors.New("outbox record: event type, aggregate id and schema version are required")
	}
	body, err := json.Marshal(payload)
	if err != nil {
		return Record{}, fmt.Errorf("outbox record: encode payload: %w", err)
	}
	id, err := newEventID()
	if err != nil {
		return Record{}, fmt.Errorf("outbox record: %w", err)
	}
	now = now.UTC()
	return Record{
		EventID:       id,
		EventType:     eventType,
		AggregateID:   aggregateID,
		SchemaVersion: schemaVersion,
		OccurredAt:    now,
		CorrelationID: CorrelationID(ctx),
		Payload:       string(body),
		ExpiresAt:     now.Add(Retention),
	}, nil
}

// newEventID returns a random (version 4) UUID.
func newEventID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("event id: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}

// item is the record's storage form in the outbox table.
type item struct {
	EventID       string `dynamodbav:"eventId"`
	EventType     string `dynamodbav:"eventType"`
	AggregateID   string `dynamodbav:"aggregateId"`
	SchemaVersion int    `dynamodbav:"schemaVersion"`
	OccurredAt    string `dynamodbav:"occurredAt"`
	CorrelationID string `dynamodbav:"correlationId,omitempty"`
	Payload       string `dynamodbav:"payload"`
	ExpiresAt     int64  `dynamodbav:"expiresAt"` // epoch seconds, as DynamoDB TTL requires
}

// Item returns the record as a DynamoDB item.
func (r Record) Item() (map[string]types.AttributeValue, error) {
	av, err := attributevalue.MarshalMap(item{
		EventID:       r.EventID,
		EventType:     r.EventType,
		AggregateID:   r.AggregateID,
		SchemaVersion: r.SchemaVersion,
		OccurredAt:    r.OccurredAt.UTC().Format(time.RFC3339Nano),
		CorrelationID: r.CorrelationID,
		Payload:       r.Payload,
		ExpiresAt:     r.ExpiresAt.Unix(),
	})
	if err != nil {
		return nil, fmt.Errorf("marshal outbox record: %w", err)
	}
	return av, nil
}

// FromItem parses an outbox table item.
func FromItem(av map[string]types.AttributeValue) (Record, error) {
	var it item
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return Record{}, fmt.Errorf("unmarshal outbox record: %w", err)
	}
	at, err := time.Parse(time.RFC3339Nano, it.OccurredAt)
	if err != nil {
		return Record{}, fmt.Errorf("outbox record %s: occurredAt: %w", it.EventID, err)
	}
	return Record{
		EventID:       it.EventID,
		EventType:     it.EventType,
		AggregateID:   it.AggregateID,
		SchemaVersion: it.SchemaVersion,
		OccurredAt:    at,
		CorrelationID: it.CorrelationID,
		Payload:       it.Payload,
		ExpiresAt:     time.Unix(it.ExpiresAt, 0).UTC(),
	}, nil
}

// TransactPut returns the transaction item that writes r into table, on the condition
// that no record with its event id exists: a record is written once, never overwritten.
func (r Record) TransactPut(table string) (types.TransactWriteItem, error) {
	av, err := r.Item()
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return types.TransactWriteItem{Put: &types.Put{
		TableName:           aws.String(table),
		Item:                av,
		ConditionExpression: aws.String("attribute_not_exists(eventId)"),
	}}, nil
}

// String identifies the record in logs without its payload.
func (r Record) String() string {
	return r.EventType + "/" + r.AggregateID + "/" + r.EventID + "/v" + strconv.Itoa(r.SchemaVersion)
}

type correlationKey struct{}

// WithCorrelationID returns a context whose outbox records carry id as their
// correlation id; HTTP handlers set it to API Gateway's request id.
func WithCorrelationID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, correlationKey{}, id)
}

// CorrelationID returns the correlation id set by WithCorrelationID, or "".
func CorrelationID(ctx context.Context) string {
	id, _ := ctx.Value(correlationKey{}).(string)
	return id
}
