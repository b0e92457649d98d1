package checkout

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/etalase/etalase/shared/commerce/order"
	"github.com/etalase/etalase/shared/commerce/orders"
	"github.com/etalase/etalase/shared/commerce/payment"
)

// Orders is what checkout needs of orders.Store.
type Orders interface {
	Checkout(ctx context.Context, in orders.CheckoutInput) (order.Order, error)
	AttachPayment(ctx context.Context, known order.Order, ps orders.PaymentSession) (order.Order, error)
	Get(ctx context.Context, orderID string) (order.Order, error)
}

var _ Orders = (*orders.Store)(nil)

// Errors of the service, besides the orders package's.
var (
	// ErrUnknownProvider: a provider that is not configured.
	ErrUnknownProvider = errors.New("unknown payment provider")
	// ErrWindowClosed: the order's payment deadline has passed.
	ErrWindowClosed = errors.New("payment window closed")
)

// Service places orders and opens their payment sessions.
type Service struct {
	orders    Orders
	providers map[string]payment.SessionCreator
	window    time.Duration
	log       *slog.Logger
	now       func() time.Time
	// storefront is the origin providers send the buyer back to ("" = none).
	storefront string
}

// Option configures a Service.
type Option func(*Service)

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithStorefront sets the storefront's origin: providers send the buyer back to the
// order's page there, {storefront}/#/orders/{orderId}, after paying or failing.
func WithStorefront(origin string) Option {
	return func(s *Service) { s.storefront = strings.TrimRight(origin, "/") }
}

// NewService returns a Service. providers maps a provider's name (order.ProviderMidtrans,
// order.ProviderXendit) to its session creator; window is the payment window.
//
// There is no expiry scheduler: the checkout transaction's OrderCreated outbox record
// is the order's expiry, which the relay sends to ExpiryQueue (package relay), so an
// order committed by a checkout that dies right after the commit still expires.
func NewService(o Orders, providers map[string]payment.SessionCreator, window time.Duration, log *slog.Logger, opts ...Option) (*Service, error) {
	if o == nil || len(providers) == 0 || window <= 0 {
		return nil, errors.New("checkout: orders, at least one provider and a positive payment window are required")
	}
	if log == nil {
		log = slog.Default()
	}
	s := &Service{orders: o, providers: providers, window: window, log: log, now: time.Now}
	for _, opt := range opts {
		opt(s)
	}
	return s, nil
}

// Providers returns the configured provider names, sorted.
func (s *Service) Providers() []string {
	names := make([]string, 0, len(s.providers))
	for n := range s.providers {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Result is a placed (or re-opened) order and the state of its payment session.
type Result struct {
	// Order is the order; its PaymentURL is empty when PaymentErr is set.
	Order order.Order
	// PaymentErr says why no payment session could be opened. The order stands
	// (PENDING_PAYMENT, stock reserved until the deadline, when the expiry releases it);
	// the buyer opens the session again with RoutePayment.
	PaymentErr error
}

// Checkout places the buyer's cart as an order and opens its payment session:
//
//  1. orders.Store.Checkout re-prices the cart and commits the order, the stock
//     reservations, the cart's closing, the ledger entry and the OrderCreated outbox
//     record in one transaction. An error here means nothing was written. The record
//     schedules the expiry: the relay turns it into the delayed ExpiryQueue message,
//     so the expiry exists if and only if the order does.
//  2. The provider opens a session and the order records it (AttachPayment). A
//     provider that is down or refuses does not undo the order: Result.PaymentErr
//     says so, and the stock stays reserved until the buyer retries the payment or the
//     deadline releases it.
//
// So once step 1 succeeded, Checkout returns a Result and no error.
func (s *Service) Checkout(ctx context.Context, buyerID, provider string) (Result, error) {
	p, ok := s.providers[provider]
	if !ok {
		return Result{}, fmt.Errorf("%w: %q", ErrUnknownProvider, provider)
	}
	o, err := s.orders.Checkout(ctx, orders.CheckoutInput{BuyerID: buyerID, Window: s.window, Provider: provider})
	if err != nil {
		return Result{}, err
	}
	o, perr := s.openPayment(ctx, o, provider, p)
	if perr != nil {
		s.log.WarnContext(ctx, "payment session not opened; the order waits for a retry or its deadline", "orderId", o.ID, "provider", provider, "error", perr)
	}
	return Result{Order: o, PaymentErr: perr}, nil
}

// OpenPayment opens the payment session of the buyer's PENDING_PAYMENT order that has
// none (a checkout whose provider was down): the order's own session if it has one
// with this provider, ErrPaymentOpened if it has one with another, ErrNotPending or
// ErrWindowClosed if it no longer waits for a payment, and the provider's error if it
// fails again (nothing is written then). Another buyer's order is ErrOrderNotFound.
func (s *Service) OpenPayment(ctx context.Context, buyerID, orderID, provider string) (Result, error) {
	p, ok := s.providers[provider]
	if !ok {
		return Result{}, fmt.Errorf("%w: %q", ErrUnknownProvider, provider)
	}
	o, err := s.orders.Get(ctx, orderID)
	if err != nil {
		return Result{}, err
	}
	switch {
	case o.BuyerID != buyerID:
		return Result{}, orders.ErrOrderNotFound
	case o.Status != order.StatusPendingPayment:
		return Result{}, fmt.Errorf("order %s is %s: %w", o.ID, o.Status, orders.ErrNotPending)
	case o.PaymentURL != "" && o.PaymentProvider == provider:
		return Result{Order: o}, nil
	case o.PaymentURL != "":
		return Result{}, fmt.Errorf("order %s pays with %s: %w", o.ID, o.PaymentProvider, orders.ErrPaymentOpened)
	case !s.now().Before(o.Deadline):
		return Result{}, fmt.Errorf("order %s was due at %s: %w", o.ID, o.Deadline, ErrWindowClosed)
	}
	o, err = s.openPayment(ctx, o, provider, p)
	if err != nil {
		return Result{}, err
	}
	return Result{Order: o}, nil
}

// openPayment asks the provider for a session and records it on the order. If the
// record fails after the provider answered, the buyer still gets the URL (the webhook
// finds the order by its id), and the failure is logged.
func (s *Service) openPayment(ctx context.Context, o order.Order, provider string, p payment.SessionCreator) (order.Order, error) {
	sess, err := p.CreateSession(ctx, SessionRequest(o, s.storefront))
	if err != nil {
		return o, fmt.Errorf("open %s session: %w", provider, err)
	}
	after, err := s.orders.AttachPayment(ctx, o, orders.PaymentSession{Provider: provider, Ref: sess.ProviderRef, URL: sess.RedirectURL})
	switch {
	case err == nil:
		return after, nil
	case errors.Is(err, orders.ErrNotPending):
		// Paid, cancelled or expired while the session opened: show the order as it is.
		return after, nil
	case errors.Is(err, orders.ErrPaymentOpened):
		// A concurrent retry recorded another session first; that one stands.
		return after, nil
	}
	s.log.ErrorContext(ctx, "payment session opened but not recorded on the order", "orderId", o.ID, "provider", provider, "error", err)
	o.PaymentProvider, o.PaymentRef, o.PaymentURL = provider, sess.ProviderRef, sess.RedirectURL
	return o, nil
}

// SessionRequest is the payment session request of an order: its id (the provider's
// order reference), total, lines and deadline (the session ends no later), and, when a
// storefront origin is known, where the provider sends the buyer back.
func SessionRequest(o order.Order, storefront string) payment.SessionRequest {
	req := payment.SessionRequest{OrderID: o.ID, Amount: o.Total, ExpiresAt: o.Deadline}
	if storefront != "" {
		req.SuccessURL = storefront + "/#/orders/" + o.ID
		req.FailureURL = req.SuccessURL
	}
	for _, l := range o.Lines {
		req.Items = append(req.Items, payment.Item{ID: l.ProductID, Name: l.Title, Price: l.UnitPrice, Quantity: l.Quantity})
	}
	return req
}
