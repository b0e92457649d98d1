package order

import (
	"errors"
	"fmt"
	"time"
)

// Status is an order's payment status.
type Status string

// Order statuses.
const (
	// StatusPendingPayment: created, stock reserved, waiting for the payment until the
	// deadline.
	StatusPendingPayment Status = "PENDING_PAYMENT"
	// StatusPaid: the provider confirmed the payment (settlement, or a card capture that
	// fraud detection accepted).
	StatusPaid Status = "PAID"
	// StatusRefunded: the money went back to the buyer (refund, or the void of a capture).
	StatusRefunded Status = "REFUNDED"
	// StatusExpired: not paid by the deadline; stock released.
	StatusExpired Status = "EXPIRED"
	// StatusCancelled: cancelled by the buyer or the provider before payment; stock released.
	StatusCancelled Status = "CANCELLED"
	// StatusFailed: the payment was denied or failed; stock released.
	StatusFailed Status = "FAILED"
	// StatusPaidLate: paid after the order had closed (expired, cancelled, failed). The
	// money must go back (NeedsRefund); the stock is not taken again.
	StatusPaidLate Status = "PAID_LATE"
)

// Statuses lists every status, in lifecycle order.
func Statuses() []Status {
	return []Status{StatusPendingPayment, StatusPaid, StatusRefunded, StatusExpired, StatusCancelled, StatusFailed, StatusPaidLate}
}

// Valid reports whether s is one of Statuses.
func (s Status) Valid() bool {
	switch s {
	case StatusPendingPayment, StatusPaid, StatusRefunded, StatusExpired, StatusCancelled, StatusFailed, StatusPaidLate:
		return true
	}
	return false
}

// Open reports whether the order still waits for its payment.
func (s Status) Open() bool { return s == StatusPendingPayment }

// EventKind is what happened to an order's payment, in provider-neutral terms.
type EventKind string

// Event kinds. The first nine come from a payment provider (a notification or the
// reconcile sweep's status query); the last two from commerce itself.
const (
	// EventPending: the payment is started but not complete (Midtrans pending/authorize,
	// Xendit PENDING).
	EventPending EventKind = "pending"
	// EventPaid: the money is taken (Midtrans settlement, or capture with fraud_status
	// accept; Xendit PAID or SETTLED).
	EventPaid EventKind = "paid"
	// EventChallenge: a card capture that fraud detection flagged for the merchant's
	// review (Midtrans capture + challenge). Not paid yet; the order stays pending, flagged.
	EventChallenge EventKind = "challenge"
	// EventDenied: the payment was denied (by the bank or fraud detection).
	EventDenied EventKind = "denied"
	// EventCancelled: the provider transaction was cancelled (a void after capture).
	EventCancelled EventKind = "cancelled"
	// EventFailed: the payment failed (Midtrans failure).
	EventFailed EventKind = "failed"
	// EventExpired: the provider's payment session expired unpaid.
	EventExpired EventKind = "expired"
	// EventRefunded: the whole amount went back to the buyer (refund, chargeback).
	EventRefunded EventKind = "refunded"
	// EventPartiallyRefunded: part of the amount went back to the buyer.
	EventPartiallyRefunded EventKind = "partially_refunded"
	// EventDeadlinePassed: the order's payment deadline passed (expiry consumer,
	// reconcile sweep). See Expire, which checks the deadline.
	EventDeadlinePassed EventKind = "deadline_passed"
	// EventBuyerCancelled: the buyer cancelled the order.
	EventBuyerCancelled EventKind = "buyer_cancelled"
)

// EventKinds lists every event kind.
func EventKinds() []EventKind {
	return []EventKind{
		EventPending, EventPaid, EventChallenge, EventDenied, EventCancelled, EventFailed,
		EventExpired, EventRefunded, EventPartiallyRefunded, EventDeadlinePassed, EventBuyerCancelled,
	}
}

// Valid reports whether k is one of EventKinds.
func (k EventKind) Valid() bool {
	switch k {
	case EventPending, EventPaid, EventChallenge, EventDenied, EventCancelled, EventFailed,
		EventExpired, EventRefunded, EventPartiallyRefunded, EventDeadlinePassed, EventBuyerCancelled:
		return true
	}
	return false
}

// Event is one thing that happened to an order's payment.
type Event struct {
	// Kind decides the transition.
	Kind EventKind
	// Provider names the payment provider the event came from (ProviderMidtrans,
	// ProviderXendit); empty for commerce's own events. For the ledger only.
	Provider string
	// ProviderStatus is the provider's status as received, e.g. "capture/challenge" or
	// "PAID"; empty for commerce's own events. For the ledger only.
	ProviderStatus string
}

// Decision is what applying an event to an order means. Exactly one of these holds:
// the status changes (Changed), RecordOnly, or NoOp.
type Decision struct {
	// From is the status the event was applied to.
	From Status
	// Next is the status after the event; From when the status does not change.
	Next Status
	// ReleaseStock: the order's reserved stock returns to the catalog, in the same
	// transaction as the status change.
	ReleaseStock bool
	// NeedsRefund: money was taken for an order that will not be fulfilled; it must be
	// refunded (PAID_LATE).
	NeedsRefund bool
	// NeedsReview: a person should look at the order (fraud challenge).
	NeedsReview bool
	// RecordOnly: the status stays, but the event is recorded (ledger entry, flags,
	// refunded amount): a fraud challenge, a partial refund.
	RecordOnly bool
	// NoOp: a replayed, late or out-of-date event; nothing changes and nothing is written.
	NoOp bool
}

// Changed reports whether the status changes.
func (d Decision) Changed() bool { return d.Next != d.From }

// Sentinel errors of the state machine.
var (
	// ErrRejected: the event contradicts the order's history (see the package doc).
	// The order does not change; the notification is recorded as rejected. Every
	// *TransitionError matches it.
	ErrRejected = errors.New("transition rejected")
	// ErrUnknownStatus: a status that is not one of Statuses (corrupt data).
	ErrUnknownStatus = errors.New("unknown order status")
	// ErrUnknownEvent: an event kind that is not one of EventKinds (a programming error).
	ErrUnknownEvent = errors.New("unknown event kind")
	// ErrNotDue: Expire was asked to expire an order before its deadline.
	ErrNotDue = errors.New("order deadline not reached")
)

// TransitionError is a rejected transition. It matches ErrRejected.
type TransitionError struct {
	// From is the order's status.
	From Status
	// Event is the rejected event's kind.
	Event EventKind
}

// Error implements error.
func (e *TransitionError) Error() string {
	return fmt.Sprintf("event %s rejected in status %s", e.Event, e.From)
}

// Is makes errors.Is(err, ErrRejected) true.
func (e *TransitionError) Is(target error) bool { return target == ErrRejected }

// outcome is one cell of the transition table.
type outcome uint8

const (
	noop outcome = iota
	reject
	record       // RecordOnly
	recordReview // RecordOnly + NeedsReview
	toPaid       // → PAID
	toPaidLate   // → PAID_LATE + NeedsRefund
	toRefunded   // → REFUNDED
	toFailed     // → FAILED + ReleaseStock
	toCancelled  // → CANCELLED + ReleaseStock
	toExpired    // → EXPIRED + ReleaseStock
)

// numberOfStates is len(Statuses()).
const numberOfStates = 7

// column is the index of a status in the rows of table.
var column = map[Status]int{
	StatusPendingPayment: 0, StatusPaid: 1, StatusRefunded: 2, StatusExpired: 3,
	StatusCancelled: 4, StatusFailed: 5, StatusPaidLate: 6,
}

// table is the state machine: one row per event kind, one column per status in the
// order of column. The package doc prints it; keep both in step.
var table = map[EventKind][numberOfStates]outcome{
	// Columns: PENDING_PAYMENT, PAID, REFUNDED, EXPIRED, CANCELLED, FAILED, PAID_LATE.
	EventPending:           {noop, noop, noop, noop, noop, noop, noop},
	EventPaid:              {toPaid, noop, noop, toPaidLate, toPaidLate, toPaidLate, noop},
	EventChallenge:         {recordReview, noop, noop, recordReview, recordReview, recordReview, noop},
	EventDenied:            {toFailed, reject, reject, noop, noop, noop, reject},
	EventCancelled:         {toCancelled, toRefunded, noop, noop, noop, noop, toRefunded},
	EventFailed:            {toFailed, reject, reject, noop, noop, noop, reject},
	EventExpired:           {toExpired, reject, reject, noop, noop, noop, reject},
	EventRefunded:          {reject, toRefunded, noop, reject, reject, reject, toRefunded},
	EventPartiallyRefunded: {reject, record, noop, reject, reject, reject, record},
	EventDeadlinePassed:    {toExpired, noop, noop, noop, noop, noop, noop},
	EventBuyerCancelled:    {toCancelled, reject, reject, reject, noop, reject, reject},
}

// Transition decides what ev does to an order in status current. It is pure: the
// caller writes the decision (status change, stock release, ledger entry, outbox
// record) in one transaction conditioned on current, so that a replayed or concurrent
// event cannot apply twice. A rejected event returns the no-change Decision and an
// error matching ErrRejected.
func Transition(current Status, ev Event) (Decision, error) {
	col, ok := column[current]
	if !ok {
		return Decision{}, fmt.Errorf("%w: %q", ErrUnknownStatus, current)
	}
	row, ok := table[ev.Kind]
	if !ok {
		return Decision{}, fmt.Errorf("%w: %q", ErrUnknownEvent, ev.Kind)
	}
	d := Decision{From: current, Next: current}
	switch row[col] {
	case noop:
		d.NoOp = true
	case reject:
		return d, &TransitionError{From: current, Event: ev.Kind}
	case record:
		d.RecordOnly = true
	case recordReview:
		d.RecordOnly, d.NeedsReview = true, true
	case toPaid:
		d.Next = StatusPaid
	case toPaidLate:
		d.Next, d.NeedsRefund = StatusPaidLate, true
	case toRefunded:
		d.Next = StatusRefunded
	case toFailed:
		d.Next, d.ReleaseStock = StatusFailed, true
	case toCancelled:
		d.Next, d.ReleaseStock = StatusCancelled, true
	case toExpired:
		d.Next, d.ReleaseStock = StatusExpired, true
	}
	return d, nil
}

// Expire is the expiry consumer's and the reconcile sweep's transition: it applies
// deadline_passed to o if o's deadline is at or before now, and returns ErrNotDue
// otherwise (an early expiry message; SQS delays are at most 15 minutes, so the
// consumer schedules it again). A paid or closed order gives NoOp.
func Expire(o Order, now time.Time) (Decision, error) {
	if o.Status.Open() && now.Before(o.Deadline) {
		return Decision{From: o.Status, Next: o.Status}, fmt.Errorf("order %s due at %s: %w", o.ID, o.Deadline.UTC().Format(time.RFC3339), ErrNotDue)
	}
	return Transition(o.Status, Event{Kind: EventDeadlinePassed})
}

// Cancel is the buyer's cancellation: allowed while the order is unpaid, a NoOp on an
// order already cancelled, rejected (ErrRejected) otherwise.
func Cancel(o Order) (Decision, error) {
	return Transition(o.Status, Event{Kind: EventBuyerCancelled})
}
