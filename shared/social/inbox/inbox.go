// Package inbox is SocialInboxFunction's handler: it consumes the social inbox queue,
// where commerce's relay publishes one contract.Envelope per committed outbox record,
// and applies each event:
//
//   - ProductListed, ProductUpdated, ProductDelisted maintain the product's display
//     snapshot (package snapshot); a snapshot is replaced only by a newer product
//     version, so duplicates and reordered events change nothing. ProductDelisted also
//     ends the product's promotions (package promotion), every time it is seen, so a
//     retry after a partial failure finishes the job.
//   - SaleAttributed and SaleReversed go to the commission ledger (package commission),
//     which applies each event id once, in any order.
//
// A message that cannot be applied — malformed, an unknown type or schema version, a
// sale of an unknown promotion, or a transient AWS error — is reported as a batch item
// failure: SQS delivers it again after the visibility timeout and, after the queue's
// maxReceiveCount, moves it to the dead-letter queue, where it waits to be redriven
// (after a fix or a deployment that knows the new version). Nothing is dropped
// silently, and the rest of the batch is not held back.
package inbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"github.com/etalase/etalase/shared/contract"
	"github.com/etalase/etalase/shared/social/commission"
	"github.com/etalase/etalase/shared/social/snapshot"
)

// ErrUnsupported: the message's type or schema version is not one this code knows.
var ErrUnsupported = errors.New("unsupported event type or schema version")

// ErrMalformed: the message is not a contract envelope, or its payload not its type.
var ErrMalformed = errors.New("malformed message")

// Snapshots stores display snapshots.
type Snapshots interface {
	Put(ctx context.Context, s snapshot.Snapshot) (bool, error)
}

// Promotions ends the promotions of a delisted product.
type Promotions interface {
	EndForProduct(ctx context.Context, productID string) (int, error)
}

// Ledger applies sale events once.
type Ledger interface {
	ApplyAttributed(ctx context.Context, eventID string, ev contract.SaleAttributed) error
	ApplyReversed(ctx context.Context, eventID string, ev contract.SaleReversed) error
}

// Outcome says what applying one message did.
type Outcome string

// Outcomes of Apply.
const (
	// Applied: the event changed social's state.
	Applied Outcome = "applied"
	// Stale: a snapshot of the same or a newer version was already stored.
	Stale Outcome = "stale"
	// Duplicate: the sale event was applied before.
	Duplicate Outcome = "duplicate"
)

// Handler applies inbox messages.
type Handler struct {
	snapshots  Snapshots
	promotions Promotions
	ledger     Ledger
	log        *slog.Logger
}

// NewHandler returns the inbox handler.
func NewHandler(snapshots Snapshots, promotions Promotions, ledger Ledger, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.Default()
	}
	return &Handler{snapshots: snapshots, promotions: promotions, ledger: ledger, log: log}
}

// Handle is the Lambda handler of the SQS event source (ReportBatchItemFailures). It
// never returns an error: each message that fails is reported by its message id.
func (h *Handler) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	for _, m := range ev.Records {
		log := h.log.With("messageId", m.MessageId, "receiveCount", m.Attributes["ApproximateReceiveCount"])
		env, outcome, err := h.Apply(ctx, []byte(m.Body))
		log = log.With("eventId", env.EventID, "type", env.Type, "schemaVersion", env.SchemaVersion, "correlationId", env.CorrelationID)
		if err != nil {
			// The body may be anything; it is not logged (it would be commerce's data).
			log.ErrorContext(ctx, "inbox message failed; it will be retried, then dead-lettered", "error", err)
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
			continue
		}
		log.InfoContext(ctx, "inbox message", "outcome", string(outcome))
	}
	return resp, nil
}

// Apply applies one message body and says what it did. The envelope is returned as far
// as it could be read, for logging.
func (h *Handler) Apply(ctx context.Context, body []byte) (contract.Envelope, Outcome, error) {
	var env contract.Envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return contract.Envelope{}, "", fmt.Errorf("%w: not an envelope: %v", ErrMalformed, err)
	}
	if env.EventID == "" || env.Type == "" || len(env.Payload) == 0 {
		return env, "", fmt.Errorf("%w: envelope lacks eventId, type or payload", ErrMalformed)
	}
	if _, ok := contract.LookupEvent(env.Type, env.SchemaVersion); !ok {
		return env, "", fmt.Errorf("%s v%d: %w", env.Type, env.SchemaVersion, ErrUnsupported)
	}
	switch env.Type {
	case contract.EventProductListed, contract.EventProductUpdated, contract.EventProductDelisted:
		outcome, err := h.applyCatalog(ctx, env)
		return env, outcome, err
	case contract.EventSaleAttributed:
		var ev contract.SaleAttributed
		if err := decode(env, &ev); err != nil {
			return env, "", err
		}
		outcome, err := saleOutcome(h.ledger.ApplyAttributed(ctx, env.EventID, ev))
		return env, outcome, err
	case contract.EventSaleReversed:
		var ev contract.SaleReversed
		if err := decode(env, &ev); err != nil {
			return env, "", err
		}
		outcome, err := saleOutcome(h.ledger.ApplyReversed(ctx, env.EventID, ev))
		return env, outcome, err
	}
	return env, "", fmt.Errorf("%s: %w", env.Type, ErrUnsupported)
}

// applyCatalog stores the snapshot a catalog event announces, and ends the promotions
// of a delisted product.
func (h *Handler) applyCatalog(ctx context.Context, env contract.Envelope) (Outcome, error) {
	var d contract.ProductDisplay
	if err := decode(env, &d); err != nil {
		return "", err
	}
	s, err := snapshot.FromEvent(env.Type, d, env.OccurredAt)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	wrote, err := h.snapshots.Put(ctx, s)
	if err != nil {
		return "", err
	}
	outcome := Applied
	if !wrote {
		outcome = Stale
	}
	if env.Type == contract.EventProductDelisted {
		// Delisting is final in commerce, so ending is right even for a stale event.
		n, err := h.promotions.EndForProduct(ctx, s.ProductID)
		if err != nil {
			return "", err
		}
		if n > 0 {
			h.log.InfoContext(ctx, "ended the promotions of a delisted product", "productId", s.ProductID, "ended", n)
			outcome = Applied
		}
	}
	return outcome, nil
}

// saleOutcome turns the ledger's answer into an outcome: a duplicate is a success.
func saleOutcome(err error) (Outcome, error) {
	switch {
	case err == nil:
		return Applied, nil
	case errors.Is(err, commission.ErrDuplicate):
		return Duplicate, nil
	}
	return "", err
}

// decode reads the payload; unknown fields are ignored (a producer validates strictly
// against the schema, a consumer reads what it knows).
func decode(env contract.Envelope, dst any) error {
	if err := json.Unmarshal(env.Payload, dst); err != nil {
		return fmt.Errorf("%w: %s payload: %v", ErrMalformed, env.Type, err)
	}
	return nil
}
