// Package payment is the provider-neutral side of commerce's payment providers: what
// checkout asks a provider for (a payment session), what the webhook gets back (a
// verified Notification), and what reconciliation asks when a webhook never came (the
// provider's status of an order).
//
// The adapters live in sub-packages named for the provider (midtrans, xendit). Each one
// speaks its provider's documented wire format; nothing provider-specific leaks out of
// them except the raw status string, kept for the audit ledger and for logs. Amounts
// cross this boundary as money.Money only: every decimal string or JSON number a
// provider sends is parsed exactly (ParseDecimal), never through a float.
//
// Errors are sentinels to match with errors.Is:
//
//   - ErrBadSignature: a notification whose signature or token does not verify; the
//     webhook answers 401 and stores nothing.
//   - ErrMalformed: a notification that verified (or could not even be read) but is not
//     the shape the provider documents; the webhook answers 400.
//   - ErrInvalidRequest: the caller's SessionRequest breaks a rule before any request is
//     sent.
//   - ErrRejected: the provider answered 4xx (bad key, duplicate order id, ...); retrying
//     the same request will not help.
//   - ErrUnavailable: the network failed, timed out or the provider answered 5xx; the
//     request may be retried.
//   - ErrNotFound: the status API does not know the order or invoice.
//
// Error text never contains a key, a token or a signature.
package payment

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/etalase/etalase/shared/commerce/money"
)

// Sentinel errors; see the package documentation for what the callers do with each.
var (
	// ErrBadSignature: the notification's signature or callback token does not verify.
	ErrBadSignature = errors.New("payment: notification signature does not verify")
	// ErrMalformed: the notification or provider response is not the documented shape.
	ErrMalformed = errors.New("payment: malformed notification")
	// ErrInvalidRequest: a SessionRequest or StatusQuery breaks a rule.
	ErrInvalidRequest = errors.New("payment: invalid request")
	// ErrRejected: the provider refused the request (HTTP 4xx).
	ErrRejected = errors.New("payment: provider rejected the request")
	// ErrUnavailable: the provider could not be reached or failed (network, timeout, 5xx).
	ErrUnavailable = errors.New("payment: provider unavailable")
	// ErrNotFound: the provider's status API does not know the order.
	ErrNotFound = errors.New("payment: transaction not found")
)

// MaxNotificationBytes bounds a notification body; both providers' notifications are a
// few kilobytes.
const MaxNotificationBytes = 256 << 10

// Provider is one payment provider as checkout, the webhook and reconciliation use it.
// Implementations are safe for concurrent use.
type Provider interface {
	SessionCreator
	StatusChecker
	NotificationVerifier
	// Name is the provider's stable lower-case name ("midtrans", "xendit"), as it
	// appears in Notification.Provider and in webhook routes.
	Name() string
}

// SessionCreator opens a hosted payment session; checkout needs only this.
type SessionCreator interface {
	// CreateSession asks the provider for a payment page for one order.
	CreateSession(ctx context.Context, req SessionRequest) (Session, error)
}

// StatusChecker asks the provider about an order; reconciliation needs only this.
type StatusChecker interface {
	// Status returns the provider's current state of an order as a Notification, so
	// that it can go through the same store-once path as a webhook notification: the
	// NotificationID of a status answer is formed as the notification's is, and so
	// normally equals that of the notification announcing the same state (when a
	// provider words a state differently in the two, the payments consumer sees it
	// twice and, its state machine being idempotent, changes nothing the second time).
	// It returns ErrNotFound when the provider knows no such transaction.
	Status(ctx context.Context, q StatusQuery) (Notification, error)
}

// NotificationVerifier authenticates and parses a webhook request; the webhook needs
// only this.
type NotificationVerifier interface {
	// VerifyAndParse checks the notification's authenticity (in constant time) and
	// parses it. headers are the request headers (names in any case, as API Gateway
	// passes them); body is the raw request body. It returns ErrBadSignature or
	// ErrMalformed (wrapped).
	VerifyAndParse(headers map[string]string, body []byte) (Notification, error)
}

// Item is one line of a payment session, shown on the provider's page.
type Item struct {
	// ID is the merchant's item id (a product id).
	ID string
	// Name is shown to the buyer; adapters shorten it to the provider's limit.
	Name string
	// Price is the unit price.
	Price money.Money
	// Quantity is at least 1.
	Quantity int64
}

// SessionRequest is what checkout asks a provider for.
type SessionRequest struct {
	// OrderID is commerce's order id; it becomes the provider's order reference
	// (Midtrans order_id, Xendit external_id) and comes back in every notification.
	OrderID string
	// Amount is the order total; it must be positive.
	Amount money.Money
	// Items, if any, must add up to Amount exactly (Midtrans refuses otherwise).
	Items []Item
	// Description is a short text for the payment page; empty means "Order <id>".
	Description string
	// CustomerRef is an opaque buyer reference (never a name, e-mail or phone); it is
	// sent as metadata only.
	CustomerRef string
	// ExpiresAt is the order's payment deadline: the provider's session is made to end
	// no later than it. Zero means the provider's default.
	ExpiresAt time.Time
	// SuccessURL and FailureURL are where the provider's page sends the buyer back to;
	// empty means the provider's configured default.
	SuccessURL, FailureURL string
}

// Validate checks the request's own rules: an order id, a positive valid amount, items
// in the same currency that add up to it.
func (r SessionRequest) Validate() error {
	if strings.TrimSpace(r.OrderID) == "" {
		return fmt.Errorf("%w: no order id", ErrInvalidRequest)
	}
	if err := r.Amount.Validate(); err != nil {
		return fmt.Errorf("%w: amount: %v", ErrInvalidRequest, err)
	}
	if r.Amount.Amount <= 0 {
		return fmt.Errorf("%w: amount must be positive", ErrInvalidRequest)
	}
	if len(r.Items) == 0 {
		return nil
	}
	sum := money.Money{Currency: r.Amount.Currency}
	for i, it := range r.Items {
		if it.Quantity < 1 {
			return fmt.Errorf("%w: item %d: quantity must be at least 1", ErrInvalidRequest, i)
		}
		if strings.TrimSpace(it.Name) == "" {
			return fmt.Errorf("%w: item %d: no name", ErrInvalidRequest, i)
		}
		if err := it.Price.Validate(); err != nil {
			return fmt.Errorf("%w: item %d: price: %v", ErrInvalidRequest, i, err)
		}
		line, err := it.Price.Mul(it.Quantity)
		if err == nil {
			sum, err = sum.Add(line)
		}
		if err != nil {
			return fmt.Errorf("%w: item %d: %v", ErrInvalidRequest, i, err)
		}
	}
	if sum != r.Amount {
		return fmt.Errorf("%w: items add up to %s, not %s", ErrInvalidRequest, sum, r.Amount)
	}
	return nil
}

// Session is an open payment session.
type Session struct {
	// RedirectURL is the provider's hosted payment page for the buyer.
	RedirectURL string
	// ProviderRef is the provider's id of the session: the Snap token for Midtrans
	// (Midtrans assigns a transaction_id only once the buyer pays), the invoice id for
	// Xendit.
	ProviderRef string
	// Token is the token a provider's front-end library takes (Midtrans Snap); empty
	// for Xendit.
	Token string
	// ExpiresAt is when the provider says the session ends, when it says so (Xendit's
	// expiry_date); zero otherwise.
	ExpiresAt time.Time
}

// StatusQuery names the order whose status reconciliation asks for. OrderID is enough
// for both providers; ProviderRef (a Xendit invoice id, a Midtrans transaction_id) is
// used instead when set.
type StatusQuery struct {
	// OrderID is commerce's order id.
	OrderID string
	// ProviderRef is the provider's id of the transaction or invoice, if known.
	ProviderRef string
}

// Outcome is the provider-neutral meaning of a notification's raw status, what the
// payments consumer drives the order state machine with.
type Outcome string

// Outcomes. A Pending outcome (including a card payment held by a fraud check) changes
// nothing; only Paid moves an order to PAID.
const (
	OutcomePending           Outcome = "PENDING"
	OutcomePaid              Outcome = "PAID"
	OutcomeFailed            Outcome = "FAILED"
	OutcomeCancelled         Outcome = "CANCELLED"
	OutcomeExpired           Outcome = "EXPIRED"
	OutcomeRefunded          Outcome = "REFUNDED"
	OutcomePartiallyRefunded Outcome = "PARTIALLY_REFUNDED"
	// OutcomeUnknown is a verified notification with a status this code does not know
	// (a provider added one); it is stored, never acted on.
	OutcomeUnknown Outcome = "UNKNOWN"
)

// Notification is a verified, parsed provider notification, or a status API answer in
// the same shape.
type Notification struct {
	// Provider is the provider's Name().
	Provider string
	// NotificationID is the provider's identity of this notification: the same state
	// change delivered twice has the same id, different changes have different ids.
	// See each adapter for how it is formed; Key() makes it unique across providers.
	NotificationID string
	// OrderID is commerce's order id as the provider echoes it.
	OrderID string
	// Amount is the amount the notification is about: the paid amount when the
	// provider reports one, else the transaction's amount. The webhook compares it
	// with the order's total.
	Amount money.Money
	// Status is the provider's raw status ("settlement", "PAID", ...).
	Status string
	// FraudStatus is Midtrans's fraud_status (accept, challenge, deny); empty otherwise.
	FraudStatus string
	// Outcome is what Status (and FraudStatus) mean.
	Outcome Outcome
	// ProviderRef is the provider's id of the transaction (Midtrans transaction_id,
	// Xendit invoice id).
	ProviderRef string
	// OccurredAt is when the provider says the state change happened; zero when it
	// does not say in a form this package reads.
	OccurredAt time.Time
	// Raw is the body exactly as received, for the audit ledger.
	Raw []byte
}

// Key is the notification's store-once key: provider and NotificationID.
func (n Notification) Key() string { return n.Provider + "/" + n.NotificationID }

// Header returns the value of the header named name, matching names case-insensitively
// (API Gateway lower-cases them, other callers may not).
func Header(headers map[string]string, name string) (string, bool) {
	if v, ok := headers[name]; ok {
		return v, true
	}
	for k, v := range headers {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}
