package orders

import (
	"context"
	"fmt"

	"github.com/etalase/etalase/shared/commerce/ledger"
	"github.com/etalase/etalase/shared/commerce/order"
)

// PaymentSession is an opened payment session to record on an order.
type PaymentSession struct {
	// Provider is order.ProviderMidtrans or order.ProviderXendit.
	Provider string
	// Ref is the provider's id of the session (Snap token, Xendit invoice id).
	Ref string
	// URL is where the buyer pays.
	URL string
}

// AttachPayment records an opened payment session on a PENDING_PAYMENT order: the
// provider, its reference and the payment URL, with a payment_opened ledger entry, in
// one TransactWriteItems conditioned on the order as known (the order checkout just
// wrote, so no read is needed; a lost race re-reads). The first session wins: an order
// that already has one with the same provider is returned unchanged, one with another
// provider is ErrPaymentOpened, and an order no longer pending is ErrNotPending (a
// payment can arrive before the session is recorded; the order is returned with it).
// Cost: 1 TransactWriteItems.
func (s *Store) AttachPayment(ctx context.Context, known order.Order, ps PaymentSession) (order.Order, error) {
	if ps.Provider == "" || ps.URL == "" {
		return order.Order{}, fmt.Errorf("attach payment to order %s: provider and URL are required", known.ID)
	}
	decide := func(o order.Order) (order.Decision, error) {
		d := order.Decision{From: o.Status, Next: o.Status}
		switch {
		case o.Status != order.StatusPendingPayment:
			return d, fmt.Errorf("attach payment to order %s in %s: %w", o.ID, o.Status, ErrNotPending)
		case o.PaymentURL != "" && o.PaymentProvider == ps.Provider:
			d.NoOp = true
		case o.PaymentURL != "":
			return d, fmt.Errorf("order %s has a %s session: %w", o.ID, o.PaymentProvider, ErrPaymentOpened)
		default:
			d.RecordOnly = true
		}
		return d, nil
	}
	set := func(_ order.Order, after *order.Order) {
		after.PaymentProvider, after.PaymentRef, after.PaymentURL = ps.Provider, ps.Ref, ps.URL
	}
	ev := LedgerEvent{Type: ledger.TypePaymentOpened, Data: map[string]any{"provider": ps.Provider, "paymentRef": ps.Ref}}
	r, err := s.apply(ctx, known.ID, &known, decide, ev, set)
	if err != nil {
		return r.Order, err
	}
	return r.Order, nil
}
