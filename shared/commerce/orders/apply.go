package orders

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/etalase/etalase/shared/commerce/ledger"
	"github.com/etalase/etalase/shared/commerce/order"
	"github.com/etalase/etalase/shared/commerce/outbox"
	"github.com/etalase/etalase/shared/contract"
)

// LedgerEvent is the audit ledger entry a decision writes with the order's change.
type LedgerEvent struct {
	// Type is the entry type (ledger.ValidType). Empty means ledger.TypeStatusChanged
	// for a change of status and ledger.TypeNotificationRecorded for RecordOnly.
	Type string
	// Data is the entry's details: JSON-encodable, integers only (see package ledger).
	// Apply adds "from" and "to" (the statuses) and the decision's flags
	// ("releaseStock", "needsRefund", "needsReview", when true) unless Data has them.
	Data map[string]any
}

// Result is what Apply did.
type Result struct {
	// Order is the order after the write (Applied), or as read (not Applied).
	Order order.Order
	// Decision is decide's decision on the order as last read.
	Decision order.Decision
	// Applied is true when the decision was written; false for a NoOp, a rejected
	// decision or an error.
	Applied bool
}

// ErrInvalidDecision: decide returned a decision that is neither NoOp, RecordOnly nor
// a change of status, or one made for another status than the order's.
var ErrInvalidDecision = errors.New("invalid decision")

// Apply is the one way an order changes after checkout: the payments consumer, the
// expiry consumer, the reconcile sweep and the buyer's cancellation all go through it.
// It reads the order (strongly consistent; ErrOrderNotFound if there is none) and
// calls decide with it. Then:
//
//   - decide's error (order.ErrRejected, order.ErrNotDue, ...) is returned as is, with
//     the order as read in Result, and nothing is written: the caller records a
//     rejected notification with ledger.DynamoStore.Append;
//   - a NoOp writes nothing (Applied false): a replayed or late event;
//   - anything else is written in ONE TransactWriteItems: the order's update
//     (order.TransactUpdate, conditioned on the status, version and ledger seq read),
//     the stock release of every line when ReleaseStock, the ledger entry (ev; seq and
//     hash chained to the head on the order, which the update moves), and the outbox
//     records: on the change to PAID one contract.SaleAttributed per attributed line,
//     on PAID → REFUNDED one contract.SaleReversed per attributed line (both name the
//     order by its OrderRef, never its id, and the line by its product id), and an
//     internal OrderStatusChanged on every change of status. A change to REFUNDED sets
//     the refunded amount to the total.
//
// A lost race (the order changed after the read: a failed condition, or a transaction
// conflict) re-reads and decides again, at most maxAttempts times (then ErrConflict).
// So a replayed or concurrent event applies once: the second decision, made on the
// changed order, is a NoOp. Cost: 1 GetItem, plus 1 TransactWriteItems unless NoOp;
// again per lost race.
func (s *Store) Apply(ctx context.Context, orderID string, decide func(order.Order) (order.Decision, error), ev LedgerEvent) (Result, error) {
	return s.ApplyChange(ctx, orderID, decide, ev, nil)
}

// ApplyChange is Apply with change, which may set what the update writes beyond the
// decision (the refunded amount of a partial refund, the provider's reference): it is
// called on every attempt with the order as read and the order about to be written.
// Lines, buyer, totals and createdAt are never written, whatever change does.
func (s *Store) ApplyChange(ctx context.Context, orderID string, decide func(order.Order) (order.Decision, error), ev LedgerEvent,
	change func(before order.Order, after *order.Order),
) (Result, error) {
	return s.apply(ctx, orderID, nil, decide, ev, change)
}

// apply is ApplyChange; when known is not nil, the first attempt decides on it instead
// of reading the order (a caller that just wrote the order saves the read; a stale
// known order only costs a failed condition and a re-read).
func (s *Store) apply(ctx context.Context, orderID string, known *order.Order, decide func(order.Order) (order.Decision, error), ev LedgerEvent,
	change func(before order.Order, after *order.Order),
) (Result, error) {
	if decide == nil {
		return Result{}, errors.New("apply: no decide function")
	}
	for attempt := 1; ; attempt++ {
		var o order.Order
		if attempt == 1 && known != nil && known.ID == orderID {
			o = *known
		} else {
			var err error
			if o, err = s.Get(ctx, orderID); err != nil {
				return Result{}, err
			}
		}
		d, err := decide(o)
		if err != nil {
			return Result{Order: o, Decision: d}, err
		}
		switch {
		case d.NoOp:
			return Result{Order: o, Decision: d}, nil
		case d.From != o.Status:
			return Result{Order: o, Decision: d}, fmt.Errorf("decision from %s for order in %s: %w", d.From, o.Status, ErrInvalidDecision)
		case !d.Changed() && !d.RecordOnly:
			return Result{Order: o, Decision: d}, fmt.Errorf("decision changes nothing but is no NoOp: %w", ErrInvalidDecision)
		}
		now := s.now().UTC()
		after := o.Apply(d, now)
		if d.Next == order.StatusRefunded {
			after.Refunded = o.Total
		}
		if change != nil {
			change(o, &after)
		}
		entry, err := ledger.Next(ledger.Head{Seq: o.LedgerSeq, Hash: o.LedgerHash}, o.ID, entryType(ev.Type, d), now, entryData(ev.Data, d))
		if err != nil {
			return Result{Order: o, Decision: d}, err
		}
		after.LedgerSeq, after.LedgerHash = entry.Seq, entry.Hash
		items, ledgerIndex, err := s.transitionItems(ctx, o, after, d, entry, now)
		if err != nil {
			return Result{Order: o, Decision: d}, err
		}
		if err = s.transact(ctx, items); err == nil {
			return Result{Order: after, Decision: d, Applied: true}, nil
		}
		rs, conflict := reasons(err)
		lost := conflict || code(rs, 0) == "ConditionalCheckFailed" || code(rs, ledgerIndex) == "ConditionalCheckFailed"
		if !lost {
			return Result{Order: o, Decision: d}, fmt.Errorf("apply to order %s: %w", orderID, err)
		}
		if attempt >= s.maxAttempts {
			return Result{Order: o, Decision: d}, fmt.Errorf("apply to order %s after %d attempts: %w", orderID, attempt, ErrConflict)
		}
		if err := s.sleep(ctx, attempt); err != nil {
			return Result{Order: o, Decision: d}, fmt.Errorf("apply to order %s: %w", orderID, err)
		}
	}
}

// entryType is the ledger entry type of a decision: the caller's, or the default.
func entryType(typ string, d order.Decision) string {
	switch {
	case typ != "":
		return typ
	case d.Changed():
		return ledger.TypeStatusChanged
	}
	return ledger.TypeNotificationRecorded
}

// transitionItems builds a transition's transaction: the order's update (index 0),
// the stock releases, the ledger entry (at the returned index), the outbox records;
// after carries the entry's head already.
func (s *Store) transitionItems(ctx context.Context, before, after order.Order, d order.Decision, entry ledger.Entry, now time.Time) ([]types.TransactWriteItem, int, error) {
	upd, err := order.TransactUpdate(s.t.Orders, before, after)
	if err != nil {
		return nil, 0, err
	}
	items := []types.TransactWriteItem{upd}
	if d.ReleaseStock {
		for _, l := range before.Lines {
			items = append(items, s.release(l))
		}
	}
	put, err := entry.TransactPut(s.t.Ledger)
	if err != nil {
		return nil, 0, err
	}
	ledgerIndex := len(items)
	items = append(items, put)
	recs, err := transitionEvents(ctx, before, after, d, now)
	if err != nil {
		return nil, 0, err
	}
	for _, r := range recs {
		p, err := r.TransactPut(s.t.Outbox)
		if err != nil {
			return nil, 0, err
		}
		items = append(items, p)
	}
	if len(items) > MaxTransactItems {
		return nil, 0, fmt.Errorf("transition of order %s needs %d items: %w", before.ID, len(items), ErrTooManyLines)
	}
	return items, ledgerIndex, nil
}

// entryData is the ledger entry's data: the caller's, plus the statuses and flags.
func entryData(data map[string]any, d order.Decision) map[string]any {
	out := maps.Clone(data)
	if out == nil {
		out = map[string]any{}
	}
	set := func(k string, v any) {
		if _, ok := out[k]; !ok {
			out[k] = v
		}
	}
	set("from", string(d.From))
	set("to", string(d.Next))
	for k, v := range map[string]bool{"releaseStock": d.ReleaseStock, "needsRefund": d.NeedsRefund, "needsReview": d.NeedsReview} {
		if v {
			set(k, true)
		}
	}
	return out
}

// transitionEvents are the outbox records of a decision (see Apply).
func transitionEvents(ctx context.Context, before, after order.Order, d order.Decision, now time.Time) ([]outbox.Record, error) {
	if !d.Changed() {
		return nil, nil
	}
	var recs []outbox.Record
	add := func(typ string, version int, payload any) error {
		r, err := outbox.New(ctx, typ, before.ID, version, payload, now)
		if err != nil {
			return err
		}
		recs = append(recs, r)
		return nil
	}
	for _, p := range SaleEvents(before, d, now) {
		if err := add(p.Type, contract.SalesSchemaVersion, p.Payload); err != nil {
			return nil, err
		}
	}
	err := add(EventOrderStatusChanged, EventSchemaVersion, OrderStatusChanged{
		OrderID: before.ID, From: string(d.From), To: string(d.Next),
		ReleaseStock: d.ReleaseStock, NeedsRefund: after.NeedsRefund, Version: after.Version, At: now,
		ProductIDs: ProductIDs(before),
	})
	return recs, err
}

// SaleEvent is one cross-account sale event of a transition.
type SaleEvent struct {
	// Type is contract.EventSaleAttributed or contract.EventSaleReversed.
	Type string
	// Payload is a contract.SaleAttributed or contract.SaleReversed.
	Payload any
}

// SaleEvents returns the sale events a decision on o publishes to social: on the change
// to PAID one SaleAttributed per attributed line, on PAID → REFUNDED one SaleReversed
// per attributed line (the whole line). They name the order by its opaque OrderRef
// only; an order without one (stored before OrderRefs existed) publishes none.
// Refunds of a PAID_LATE order reverse nothing: nothing was attributed.
func SaleEvents(o order.Order, d order.Decision, at time.Time) []SaleEvent {
	if o.OrderRef == "" || !d.Changed() {
		return nil
	}
	attributed := d.Next == order.StatusPaid
	reversed := d.From == order.StatusPaid && d.Next == order.StatusRefunded
	if !attributed && !reversed {
		return nil
	}
	var out []SaleEvent
	for _, l := range o.Lines {
		a := l.Attribution
		if a == nil {
			continue
		}
		total, err := l.LineTotal()
		if err != nil {
			continue // Validate bounds prices and quantities: cannot overflow
		}
		amount := contract.Price{Amount: total.Amount, Currency: total.Currency}
		if attributed {
			out = append(out, SaleEvent{contract.EventSaleAttributed, contract.SaleAttributed{
				PromotionID: a.PromotionID, CreatorID: a.CreatorID, ProductID: l.ProductID,
				Quantity: int(l.Quantity), Amount: amount, OrderRef: o.OrderRef, LineRef: l.ProductID,
				SoldAt: at.UTC(),
			}})
		} else {
			out = append(out, SaleEvent{contract.EventSaleReversed, contract.SaleReversed{
				PromotionID: a.PromotionID, CreatorID: a.CreatorID, ProductID: l.ProductID,
				Quantity: int(l.Quantity), Amount: amount, OrderRef: o.OrderRef, LineRef: l.ProductID,
				ReversedAt: at.UTC(),
			}})
		}
	}
	return out
}
