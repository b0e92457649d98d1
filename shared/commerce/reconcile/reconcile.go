// Package reconcile is CommerceReconcileFunction's handler: on a schedule, it asks the
// payment providers' status APIs about orders still waiting for their payment, which
// catches a webhook that never came (DESIGN.md flow 9).
//
// A run:
//
//  1. queries OrdersTable's byStatusDeadline index for PENDING_PAYMENT orders, earliest
//     deadline first, at most MaxOrders of them (one Query, one BatchGetItem);
//  2. keeps those placed at least After ago, or whose deadline has passed, that have a
//     payment session (a provider);
//  3. asks each one's provider for the transaction's status (Midtrans GET
//     /v2/{order_id}/status, Xendit GET /v2/invoices/{id}); an order the provider does
//     not know yet (the buyer never chose a payment method) and a pending answer are
//     left alone;
//  4. checks the answer's amount against the order's total (a mismatch is recorded in
//     the ledger as notification_rejected and not applied), and applies it with
//     payments.Applier, the payments consumer's own path: the same state machine, the
//     same single transaction, with "reconciled_<status>" as the ledger entry's event.
//
// Work per run is bounded (MaxOrders, and it stops early when the invocation's time
// runs short), and a run is idempotent: an answer that was already applied, by the
// consumer or by an earlier run, is a NoOp. Orders are taken earliest deadline first,
// so with more pending orders than MaxOrders, the oldest are asked first; the expiry
// consumer closes them at their deadline, after which they leave the index's
// PENDING_PAYMENT partition.
package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/etalase/etalase/shared/commerce/ledger"
	"github.com/etalase/etalase/shared/commerce/order"
	"github.com/etalase/etalase/shared/commerce/payment"
	"github.com/etalase/etalase/shared/commerce/paymentevents"
	"github.com/etalase/etalase/shared/commerce/payments"
)

// Defaults of a Config.
const (
	// DefaultAfter is how long an order may wait for its webhook before the provider is
	// asked.
	DefaultAfter = 10 * time.Minute
	// DefaultMaxOrders bounds one run.
	DefaultMaxOrders = 25
	// MaxMaxOrders is the most one run may take (one BatchGetItem).
	MaxMaxOrders = 100
	// reserve is the time left for the last order when the invocation has a deadline.
	reserve = 10 * time.Second
)

// OrderSource lists orders pending payment (DynamoPending).
type OrderSource interface {
	Pending(ctx context.Context, limit int) ([]order.Order, error)
}

// Applier applies a provider status (payments.Applier).
type Applier interface {
	Apply(ctx context.Context, e paymentevents.Event, source string) (payments.Result, error)
}

// Ledger records a rejected status answer (ledger.DynamoStore).
type Ledger interface {
	Append(ctx context.Context, orderID, typ string, data any) (ledger.Entry, error)
}

var (
	_ OrderSource = (*DynamoPending)(nil)
	_ Applier     = (*payments.Applier)(nil)
	_ Ledger      = (*ledger.DynamoStore)(nil)
)

// Config is what New needs.
type Config struct {
	// Orders lists pending orders.
	Orders OrderSource
	// Providers answer status queries, by provider name (order.PaymentProvider).
	Providers map[string]payment.StatusChecker
	// Applier applies the answers.
	Applier Applier
	// Ledger records answers whose amount is not the order's total.
	Ledger Ledger
	// After is how old a pending order must be; zero means DefaultAfter.
	After time.Duration
	// MaxOrders bounds a run; zero means DefaultMaxOrders, at most MaxMaxOrders.
	MaxOrders int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Log receives a line per order acted on and a summary per run; nil discards.
	Log *slog.Logger
}

// Reconciler runs the sweep.
type Reconciler struct{ cfg Config }

// New returns a Reconciler.
func New(cfg Config) (*Reconciler, error) {
	if cfg.Orders == nil || cfg.Applier == nil || cfg.Ledger == nil || len(cfg.Providers) == 0 {
		return nil, errors.New("reconcile: orders, providers, applier and ledger are required")
	}
	if cfg.After <= 0 {
		cfg.After = DefaultAfter
	}
	if cfg.MaxOrders <= 0 {
		cfg.MaxOrders = DefaultMaxOrders
	}
	cfg.MaxOrders = min(cfg.MaxOrders, MaxMaxOrders)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Reconciler{cfg: cfg}, nil
}

// Summary counts what a run did, by what happened to each order looked at.
type Summary struct {
	// Listed is how many pending orders the index gave.
	Listed int `json:"listed"`
	// TooRecent were placed less than After ago, with their deadline ahead.
	TooRecent int `json:"tooRecent"`
	// NoSession have no payment provider yet.
	NoSession int `json:"noSession"`
	// Asked is how many status queries were made.
	Asked int `json:"asked"`
	// Unknown: the provider does not know the transaction yet.
	Unknown int `json:"unknown"`
	// Pending: the provider says it is still pending.
	Pending int `json:"pending"`
	// Applied changed or recorded something; NoOp changed nothing.
	Applied int `json:"applied"`
	NoOp    int `json:"noop"`
	// Rejected: recorded as notification_rejected (amount, transition, status).
	Rejected int `json:"rejected"`
	// Failed: a provider or storage error; the next run tries again.
	Failed int `json:"failed"`
	// Skipped: left for the next run because the time ran short.
	Skipped int `json:"skipped"`
}

// Handle is the Lambda handler of the schedule's event. It fails only when the
// pending orders cannot be listed; a failure with one order is counted and logged,
// and the next run tries it again.
func (r *Reconciler) Handle(ctx context.Context, _ events.EventBridgeEvent) (Summary, error) {
	return r.Run(ctx)
}

// Run is one sweep.
func (r *Reconciler) Run(ctx context.Context) (Summary, error) {
	var s Summary
	pending, err := r.cfg.Orders.Pending(ctx, r.cfg.MaxOrders)
	if err != nil {
		return s, fmt.Errorf("list pending orders: %w", err)
	}
	s.Listed = len(pending)
	now := r.cfg.Now()
	deadline, hasDeadline := ctx.Deadline()
	for i, o := range pending {
		if hasDeadline && time.Until(deadline) < reserve || ctx.Err() != nil {
			s.Skipped += len(pending) - i
			break
		}
		switch {
		case o.Status != order.StatusPendingPayment:
		case now.Sub(o.CreatedAt) < r.cfg.After && now.Before(o.Deadline):
			s.TooRecent++
		case o.PaymentProvider == "" || r.cfg.Providers[o.PaymentProvider] == nil:
			s.NoSession++
		default:
			r.one(ctx, o, now, &s)
		}
	}
	r.cfg.Log.InfoContext(ctx, "reconcile run", "summary", s)
	return s, nil
}

// one asks the provider about o and applies the answer.
func (r *Reconciler) one(ctx context.Context, o order.Order, now time.Time, s *Summary) {
	log := r.cfg.Log.With("orderId", o.ID, "provider", o.PaymentProvider)
	q := payment.StatusQuery{OrderID: o.ID}
	if o.PaymentProvider == order.ProviderXendit {
		q.ProviderRef = o.PaymentRef // the invoice id; Midtrans's PaymentRef is a Snap token, not a transaction id
	}
	s.Asked++
	n, err := r.cfg.Providers[o.PaymentProvider].Status(ctx, q)
	switch {
	case errors.Is(err, payment.ErrNotFound):
		s.Unknown++
		return
	case err != nil:
		s.Failed++
		log.WarnContext(ctx, "status query failed", "error", err)
		return
	case n.Outcome == payment.OutcomePending:
		s.Pending++
		return
	}
	if n.Amount != o.Total {
		data := map[string]any{
			"reason": "amount_mismatch", "source": payments.SourceReconcile, "provider": n.Provider,
			"notificationKey": n.Key(), "providerStatus": n.Status, "amount": n.Amount.Amount, "currency": n.Amount.Currency,
			"expectedAmount": o.Total.Amount, "expectedCurrency": o.Total.Currency,
		}
		if _, err := r.cfg.Ledger.Append(ctx, o.ID, ledger.TypeNotificationRejected, data); err != nil {
			s.Failed++
			log.WarnContext(ctx, "record amount mismatch", "error", err)
			return
		}
		s.Rejected++
		log.ErrorContext(ctx, "provider reports another amount", "amount", n.Amount.String(), "total", o.Total.String(), "status", n.Status)
		return
	}
	e, err := paymentevents.FromNotification(n, now)
	if err != nil {
		s.Failed++
		log.WarnContext(ctx, "status answer", "error", err)
		return
	}
	res, err := r.cfg.Applier.Apply(ctx, e, payments.SourceReconcile)
	if err != nil {
		s.Failed++
		log.WarnContext(ctx, "apply status answer", "error", err)
		return
	}
	switch res.Outcome {
	case payments.OutcomeChanged, payments.OutcomeRecorded:
		s.Applied++
		log.InfoContext(ctx, "reconciled", "status", n.Status, "from", res.Decision.From, "to", res.Decision.Next)
	case payments.OutcomeNoOp:
		s.NoOp++
	default:
		s.Rejected++
	}
}
