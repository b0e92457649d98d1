package contract

import (
	"encoding/json"
	"time"
)

// Envelope is the one message shape on the social inbox queue: every cross-account
// event is an envelope whose payload is the event's own type (ProductListed,
// SaleAttributed, ...). Commerce's relay builds it from an outbox record, one message
// per record; social's inbox reads it.
//
// The envelope deliberately has no aggregate id: the outbox keeps one per record (a
// product id, an order id), and for an order event that would be the order id in
// clear, which must not cross (DESIGN.md section 1, rule 3).
type Envelope struct {
	// EventID is the outbox record's event id (a random UUID), stable across redeliveries:
	// consumers apply an event at most once by remembering it.
	EventID string `json:"eventId"`
	// Type names the payload's Go type and schema (EventProductListed, EventSaleAttributed, ...).
	Type string `json:"type"`
	// SchemaVersion is the payload's schema version; a consumer refuses versions it does
	// not know instead of guessing.
	SchemaVersion int `json:"schemaVersion"`
	// OccurredAt is when the change committed in commerce (UTC).
	OccurredAt time.Time `json:"occurredAt"`
	// CorrelationID ties the event to the request that caused it (API Gateway's request
	// id in commerce), or to the event itself when no request did.
	CorrelationID string `json:"correlationId"`
	// Payload is the event, JSON encoded.
	Payload json.RawMessage `json:"payload"`
}

// MessageAttributeType is the SQS message attribute that carries Envelope.Type, so that
// a queue subscriber or an operator reading the dead-letter queue sees the type without
// parsing the body.
const MessageAttributeType = "eventType"
