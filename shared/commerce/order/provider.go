package order

import (
	"errors"
	"fmt"
)

// Payment providers, as Order.PaymentProvider and Event.Provider name them.
const (
	ProviderMidtrans = "midtrans"
	ProviderXendit   = "xendit"
)

// ErrUnknownProviderStatus: a provider status (or status combination) the mapping does
// not know. The notification is recorded as rejected and left to the reconcile sweep;
// guessing could mark an unpaid order paid.
var ErrUnknownProviderStatus = errors.New("unknown provider status")

// Midtrans transaction_status values
// (https://docs.midtrans.com/docs/https-notification-webhooks, "Status Definition").
const (
	MidtransPending           = "pending"
	MidtransCapture           = "capture"
	MidtransSettlement        = "settlement"
	MidtransDeny              = "deny"
	MidtransCancel            = "cancel"
	MidtransExpire            = "expire"
	MidtransFailure           = "failure"
	MidtransRefund            = "refund"
	MidtransPartialRefund     = "partial_refund"
	MidtransAuthorize         = "authorize"
	MidtransChargeback        = "chargeback"
	MidtransPartialChargeback = "partial_chargeback"
)

// Midtrans fraud_status values; card payments carry one, most other methods none ("").
const (
	MidtransFraudAccept    = "accept"
	MidtransFraudChallenge = "challenge"
	MidtransFraudDeny      = "deny"
)

// MidtransTransactionStatuses lists every transaction_status MidtransEvent knows.
func MidtransTransactionStatuses() []string {
	return []string{
		MidtransPending, MidtransCapture, MidtransSettlement, MidtransDeny, MidtransCancel,
		MidtransExpire, MidtransFailure, MidtransRefund, MidtransPartialRefund,
		MidtransAuthorize, MidtransChargeback, MidtransPartialChargeback,
	}
}

// MidtransFraudStatuses lists every fraud_status, including none ("").
func MidtransFraudStatuses() []string {
	return []string{"", MidtransFraudAccept, MidtransFraudChallenge, MidtransFraudDeny}
}

// MidtransEvent maps a Midtrans notification's (or status query's) transaction_status
// and fraud_status to an Event. The strings are compared exactly, as Midtrans sends
// them (lower case).
//
//	capture + accept          → paid          capture + challenge → challenge
//	capture + deny            → denied        capture + none      → unknown (never sent for cards)
//	settlement + none|accept  → paid          settlement + challenge|deny → unknown (contradictory)
//	pending, authorize        → pending       deny → denied; cancel → cancelled
//	expire → expired; failure → failed        refund, chargeback → refunded
//	partial_refund, partial_chargeback → partially_refunded
//
// Outside capture and settlement, fraud_status does not change the event. A pre-
// authorization ("authorize") is not yet money taken; etalase does not pre-authorize,
// so it can only come from a misconfigured merchant account and waits like pending.
// A chargeback returns the money to the buyer as a refund does.
func MidtransEvent(transactionStatus, fraudStatus string) (Event, error) {
	ev := Event{Provider: ProviderMidtrans, ProviderStatus: transactionStatus}
	if fraudStatus != "" {
		ev.ProviderStatus += "/" + fraudStatus
	}
	switch fraudStatus {
	case "", MidtransFraudAccept, MidtransFraudChallenge, MidtransFraudDeny:
	default:
		return ev, fmt.Errorf("midtrans fraud_status %q: %w", fraudStatus, ErrUnknownProviderStatus)
	}
	switch transactionStatus {
	case MidtransCapture:
		switch fraudStatus {
		case MidtransFraudAccept:
			ev.Kind = EventPaid
		case MidtransFraudChallenge:
			ev.Kind = EventChallenge
		case MidtransFraudDeny:
			ev.Kind = EventDenied
		default:
			return ev, fmt.Errorf("midtrans capture without fraud_status: %w", ErrUnknownProviderStatus)
		}
	case MidtransSettlement:
		if fraudStatus != "" && fraudStatus != MidtransFraudAccept {
			return ev, fmt.Errorf("midtrans settlement with fraud_status %q: %w", fraudStatus, ErrUnknownProviderStatus)
		}
		ev.Kind = EventPaid
	case MidtransPending, MidtransAuthorize:
		ev.Kind = EventPending
	case MidtransDeny:
		ev.Kind = EventDenied
	case MidtransCancel:
		ev.Kind = EventCancelled
	case MidtransExpire:
		ev.Kind = EventExpired
	case MidtransFailure:
		ev.Kind = EventFailed
	case MidtransRefund, MidtransChargeback:
		ev.Kind = EventRefunded
	case MidtransPartialRefund, MidtransPartialChargeback:
		ev.Kind = EventPartiallyRefunded
	default:
		return ev, fmt.Errorf("midtrans transaction_status %q: %w", transactionStatus, ErrUnknownProviderStatus)
	}
	return ev, nil
}

// Xendit invoice statuses (https://developers.xendit.co/api-reference/#invoices).
const (
	XenditPending = "PENDING"
	XenditPaid    = "PAID"
	XenditSettled = "SETTLED"
	XenditExpired = "EXPIRED"
)

// XenditStatuses lists every invoice status XenditEvent knows.
func XenditStatuses() []string {
	return []string{XenditPending, XenditPaid, XenditSettled, XenditExpired}
}

// XenditEvent maps a Xendit invoice status (callback or GET /v2/invoices) to an Event:
// PENDING → pending; PAID, SETTLED → paid (SETTLED is PAID with the funds in the
// merchant's balance, so it often follows PAID and is then a NoOp); EXPIRED → expired.
// Invoices have no refund status; Xendit refunds are reported by other APIs.
func XenditEvent(status string) (Event, error) {
	ev := Event{Provider: ProviderXendit, ProviderStatus: status}
	switch status {
	case XenditPending:
		ev.Kind = EventPending
	case XenditPaid, XenditSettled:
		ev.Kind = EventPaid
	case XenditExpired:
		ev.Kind = EventExpired
	default:
		return ev, fmt.Errorf("xendit invoice status %q: %w", status, ErrUnknownProviderStatus)
	}
	return ev, nil
}
