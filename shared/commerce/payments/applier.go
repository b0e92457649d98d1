// Package payments is CommercePaymentsFunction's handler and the one place where a
// provider's word about a payment becomes a change of an order (DESIGN.md flow 6): the
// payments consumer applies the notifications the webhook queued, and the reconcile
// sweep applies the providers' status answers, both through Applier.
//
// # Applying a provider status
//
// Applier.Apply maps the provider's raw status to an order event (order.MidtransEvent,
// order.XenditEvent) and hands order.Transition to orders.Store (ApplyChange), which
// writes the decision in one transaction conditioned on the order's current status,
// version and ledger head: the order's update, the stock release (FAILED, CANCELLED,
// EXPIRED), the ledger entry and the outbox records (SaleAttributed on → PAID,
// SaleReversed on PAID → REFUNDED). So:
//
//   - settlement (or capture with fraud accept, Xendit PAID/SETTLED): PENDING_PAYMENT →
//     PAID; deny/failure → FAILED, cancel → CANCELLED, expire → EXPIRED, with the stock
//     released; refund: PAID → REFUNDED; partial_refund: recorded, with the refunded
//     amount; a payment after the order closed: → PAID_LATE with NeedsRefund, the
//     stock not taken again (the state machine decides; the ledger entry and the
//     order carry needsRefund).
//   - a replayed, late or out-of-date notification (pending after settlement, expire
//     after settlement, a second settlement) is a NoOp and writes nothing. A repeated
//     record-only event is a NoOp too: a partial refund whose amount is already
//     recorded, a fraud challenge on an order already flagged for review.
//   - a notification the state machine rejects (a refund of an unpaid order, a denial
//     after settlement) or whose status it does not know is appended to the order's
//     ledger as notification_rejected and acknowledged: retrying cannot change the
//     answer. The reconcile sweep asks the provider for the truth later.
//
// The ledger entries use the ledger's standard types (status_changed,
// notification_recorded, notification_rejected); what happened is in their data:
// event ("payment_paid", "payment_refunded", ... for notifications,
// "reconciled_settlement", "reconciled_paid", ... for status answers), provider,
// notificationKey, providerStatus, amount, currency, and refundAmount for refunds.
//
// # The consumer
//
// Handler.Handle takes a batch of PaymentEventsQueue (SQS FIFO) messages and reports
// partial batch failures. Messages of one order (one message group) are applied in
// order, one at a time; different orders in parallel. A transient failure (DynamoDB,
// a transaction that kept losing races) reports that message and every later message
// of its group in the batch, so that SQS redelivers them in order; a message that
// cannot be parsed is reported too, and reaches the dead-letter queue after 5
// receives. After applying a notification the consumer marks its stored record
// processed (package paymentevents), which tells the webhook that a duplicate needs
// no re-send.
package payments

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/etalase/etalase/shared/commerce/ledger"
	"github.com/etalase/etalase/shared/commerce/money"
	"github.com/etalase/etalase/shared/commerce/order"
	"github.com/etalase/etalase/shared/commerce/orders"
	"github.com/etalase/etalase/shared/commerce/paymentevents"
)

// Sources of a provider status, as the ledger data's "source" names them.
const (
	// SourceNotification: a webhook notification, through the queue.
	SourceNotification = "notification"
	// SourceReconcile: a status API answer of the reconcile sweep.
	SourceReconcile = "reconcile"
)

// Outcome is what applying a provider status did.
type Outcome string

// Outcomes of Apply.
const (
	// OutcomeChanged: the order's status changed.
	OutcomeChanged Outcome = "changed"
	// OutcomeRecorded: the status stayed; the event was recorded (RecordOnly).
	OutcomeRecorded Outcome = "recorded"
	// OutcomeNoOp: a replayed, late or out-of-date status; nothing was written.
	OutcomeNoOp Outcome = "noop"
	// OutcomeRejected: the state machine rejected it; recorded as notification_rejected.
	OutcomeRejected Outcome = "rejected"
	// OutcomeUnmapped: a status the mapping does not know; recorded as notification_rejected.
	OutcomeUnmapped Outcome = "unmapped"
	// OutcomeOrderNotFound: no such order; nothing to record it in.
	OutcomeOrderNotFound Outcome = "order_not_found"
)

// Reasons of the notification_rejected entries Apply appends.
const (
	ReasonTransitionRejected    = "transition_rejected"
	ReasonUnknownProviderStatus = "unknown_provider_status"
)

// Store writes state-machine decisions (orders.Store).
type Store interface {
	ApplyChange(ctx context.Context, orderID string, decide func(order.Order) (order.Decision, error), ev orders.LedgerEvent,
		change func(before order.Order, after *order.Order)) (orders.Result, error)
}

// Ledger appends entries outside a transition (ledger.DynamoStore).
type Ledger interface {
	Append(ctx context.Context, orderID, typ string, data any) (ledger.Entry, error)
}

var (
	_ Store  = (*orders.Store)(nil)
	_ Ledger = (*ledger.DynamoStore)(nil)
)

// Applier applies provider statuses to orders.
type Applier struct {
	store  Store
	ledger Ledger
	log    *slog.Logger
}

// NewApplier returns an Applier writing through store and ledger; log nil discards.
func NewApplier(store Store, ledger Ledger, log *slog.Logger) *Applier {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Applier{store: store, ledger: ledger, log: log}
}

// Result is what Apply did, with the order after it (or as read).
type Result struct {
	Outcome Outcome
	Order   order.Order
	// Decision is the state machine's decision (zero for OutcomeUnmapped).
	Decision order.Decision
}

// Apply applies e, from source, to its order. An error is transient (storage, lost
// races): nothing was recorded and the caller should retry. Rejected and unknown
// statuses are not errors: they are recorded in the ledger and reported in Result.
func (a *Applier) Apply(ctx context.Context, e paymentevents.Event, source string) (Result, error) {
	ev, err := Event(e)
	if err != nil {
		if !errors.Is(err, order.ErrUnknownProviderStatus) {
			return Result{}, err
		}
		return a.reject(ctx, e, source, order.Event{}, ReasonUnknownProviderStatus, OutcomeUnmapped, Result{}, err)
	}
	data := ledgerData(e, source, ev)
	res, err := a.store.ApplyChange(ctx, e.OrderID, decide(ev, e.RefundAmount), orders.LedgerEvent{Data: data}, change(e.RefundAmount))
	switch {
	case errors.Is(err, order.ErrRejected):
		return a.reject(ctx, e, source, ev, ReasonTransitionRejected, OutcomeRejected, Result{Order: res.Order, Decision: res.Decision}, err)
	case errors.Is(err, orders.ErrOrderNotFound):
		a.log.ErrorContext(ctx, "payment for an unknown order", "orderId", e.OrderID, "notificationKey", e.Key, "source", source)
		return Result{Outcome: OutcomeOrderNotFound}, nil
	case err != nil:
		return Result{}, fmt.Errorf("apply %s to order %s: %w", e.Key, e.OrderID, err)
	}
	out := Result{Order: res.Order, Decision: res.Decision}
	switch {
	case !res.Applied:
		out.Outcome = OutcomeNoOp
	case res.Decision.Changed():
		out.Outcome = OutcomeChanged
	default:
		out.Outcome = OutcomeRecorded
	}
	if out.Outcome != OutcomeNoOp {
		a.log.InfoContext(ctx, "payment applied", "orderId", e.OrderID, "notificationKey", e.Key, "source", source,
			"event", data["event"], "from", res.Decision.From, "to", res.Decision.Next, "needsRefund", res.Order.NeedsRefund)
	}
	return out, nil
}

// Event maps a provider status to an order event.
func Event(e paymentevents.Event) (order.Event, error) {
	switch e.Provider {
	case order.ProviderMidtrans:
		return order.MidtransEvent(e.Status, e.FraudStatus)
	case order.ProviderXendit:
		return order.XenditEvent(e.Status)
	}
	return order.Event{Provider: e.Provider, ProviderStatus: e.Status},
		fmt.Errorf("provider %q: %w", e.Provider, order.ErrUnknownProviderStatus)
}

// decide is order.Transition, with the replays of record-only events made NoOps: a
// partial refund whose amount the order already records, a fraud challenge on an
// order already flagged for review.
func decide(ev order.Event, refund money.Money) func(order.Order) (order.Decision, error) {
	return func(o order.Order) (order.Decision, error) {
		d, err := order.Transition(o.Status, ev)
		if err != nil || !d.RecordOnly {
			return d, err
		}
		replay := ev.Kind == order.EventPartiallyRefunded && refund.Currency == o.Currency && refund.Amount > 0 && refund.Amount <= o.Refunded.Amount ||
			ev.Kind == order.EventChallenge && o.NeedsReview
		if replay {
			return order.Decision{From: o.Status, Next: o.Status, NoOp: true}, nil
		}
		return d, nil
	}
}

// change records a refund's amount (the total refunded so far, as Midtrans reports
// it) on the order; a full refund's is set by the store (the total).
func change(refund money.Money) func(before order.Order, after *order.Order) {
	return func(before order.Order, after *order.Order) {
		if refund.Currency != before.Currency || refund.Amount <= before.Refunded.Amount || refund.Amount > before.Total.Amount {
			return
		}
		if after.Status != order.StatusRefunded {
			after.Refunded = money.Money{Amount: refund.Amount, Currency: before.Currency}
		}
	}
}

// reject appends a notification_rejected entry and reports outcome; a failed append is
// a transient error.
func (a *Applier) reject(ctx context.Context, e paymentevents.Event, source string, ev order.Event, reason string, outcome Outcome, res Result, cause error) (Result, error) {
	data := ledgerData(e, source, ev)
	data["reason"] = reason
	if res.Order.Status != "" {
		data["orderStatus"] = string(res.Order.Status)
	}
	_, err := a.ledger.Append(ctx, e.OrderID, ledger.TypeNotificationRejected, data)
	switch {
	case errors.Is(err, ledger.ErrOrderNotFound):
		a.log.ErrorContext(ctx, "payment for an unknown order", "orderId", e.OrderID, "notificationKey", e.Key, "source", source)
		return Result{Outcome: OutcomeOrderNotFound}, nil
	case err != nil:
		return Result{}, fmt.Errorf("record rejected %s for order %s: %w", e.Key, e.OrderID, err)
	}
	a.log.WarnContext(ctx, "payment rejected", "orderId", e.OrderID, "notificationKey", e.Key, "source", source,
		"reason", reason, "orderStatus", res.Order.Status, "cause", cause.Error())
	res.Outcome = outcome
	return res, nil
}

// ledgerData is the data of the ledger entry a provider status writes.
func ledgerData(e paymentevents.Event, source string, ev order.Event) map[string]any {
	data := map[string]any{
		"event":           eventName(e, source, ev),
		"source":          source,
		"provider":        e.Provider,
		"notificationKey": e.Key,
		"providerStatus":  e.Status,
		"amount":          e.Amount.Amount,
		"currency":        e.Amount.Currency,
	}
	if e.FraudStatus != "" {
		data["fraudStatus"] = e.FraudStatus
	}
	if e.ProviderRef != "" {
		data["providerRef"] = e.ProviderRef
	}
	if e.RefundAmount != (money.Money{}) {
		data["refundAmount"] = e.RefundAmount.Amount
	}
	return data
}

// eventName is "payment_<event kind>" for a notification, "reconciled_<provider
// status>" for a status answer, lower case.
func eventName(e paymentevents.Event, source string, ev order.Event) string {
	if source == SourceReconcile {
		return "reconciled_" + slug(e.Status)
	}
	if ev.Kind != "" {
		return "payment_" + string(ev.Kind)
	}
	return "payment_" + slug(e.Status)
}

// slug lower-cases s and keeps letters, digits and underscores.
func slug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "unknown"
	}
	return b.String()
}
