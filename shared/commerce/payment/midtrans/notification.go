package midtrans

import (
	"bytes"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/etalase/etalase/shared/commerce/payment"
)

// Transaction statuses Midtrans sends in transaction_status ("Transaction Status
// Cycle").
const (
	StatusAuthorize         = "authorize"
	StatusCapture           = "capture"
	StatusSettlement        = "settlement"
	StatusPending           = "pending"
	StatusDeny              = "deny"
	StatusCancel            = "cancel"
	StatusExpire            = "expire"
	StatusFailure           = "failure"
	StatusRefund            = "refund"
	StatusPartialRefund     = "partial_refund"
	StatusChargeback        = "chargeback"
	StatusPartialChargeback = "partial_chargeback"
)

// Fraud statuses Midtrans sends in fraud_status with a card capture.
const (
	FraudAccept    = "accept"
	FraudChallenge = "challenge"
	FraudDeny      = "deny"
)

// wireNotification is the HTTP notification Midtrans POSTs, and the GET status answer
// (the same fields). Only the fields commerce reads are here; the raw body keeps the
// rest. StatusCode, GrossAmount and RefundAmount keep the exact text received, string
// or number, because the signature is over that text.
type wireNotification struct {
	TransactionTime   string `json:"transaction_time"`
	TransactionStatus string `json:"transaction_status"`
	TransactionID     string `json:"transaction_id"`
	StatusMessage     string `json:"status_message"`
	StatusCode        scalar `json:"status_code"`
	SignatureKey      string `json:"signature_key"`
	SettlementTime    string `json:"settlement_time"`
	PaymentType       string `json:"payment_type"`
	OrderID           string `json:"order_id"`
	MerchantID        string `json:"merchant_id"`
	GrossAmount       scalar `json:"gross_amount"`
	FraudStatus       string `json:"fraud_status"`
	Currency          string `json:"currency"`
	RefundAmount      scalar `json:"refund_amount"`
}

// scalar is a JSON string or number kept as the exact text received: a string's
// (unescaped) value, a number's literal. Midtrans documents status_code and
// gross_amount as strings; a number is accepted too, and signed over as written.
type scalar string

// UnmarshalJSON implements json.Unmarshaler.
func (s *scalar) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) > 0 && b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = scalar(v)
	case bytes.Equal(b, []byte("null")):
		*s = ""
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("want a string or a number: %w", err)
		}
		*s = scalar(n)
	}
	return nil
}

// Signature returns Midtrans's signature_key for a notification:
// hex(SHA-512(order_id + status_code + gross_amount + server key)), over the strings
// exactly as they appear in the notification. Tests and the local sandbox sign with it.
func Signature(orderID, statusCode, grossAmount, serverKey string) string {
	sum := sha512.Sum512([]byte(orderID + statusCode + grossAmount + serverKey))
	return hex.EncodeToString(sum[:])
}

// VerifyAndParse verifies and parses a Midtrans HTTP notification. Midtrans signs the
// body, not headers, so headers are not read. The signature is checked before anything
// else about the content, so an unauthenticated caller learns only ErrBadSignature
// (or ErrMalformed for a body that is not a JSON object at all).
//
// NotificationID is transaction_id:transaction_status:status_code, plus
// :refund_amount for refunds and chargebacks. Midtrans gives a notification no id of
// its own; it sends one notification per status change of a transaction, and retries
// (or rarely duplicates) it unchanged, so those fields identify it. transaction_id, not
// order_id, because one order may see several transactions (a denied card, then a
// bank transfer); status_code because a card capture is sent first held by the fraud
// check (201, fraud_status challenge) and again accepted (200); refund_amount (the
// total refunded so far) because partial refunds repeat the same status and code.
func (c *Client) VerifyAndParse(_ map[string]string, body []byte) (payment.Notification, error) {
	if len(body) > payment.MaxNotificationBytes {
		return payment.Notification{}, fmt.Errorf("midtrans: %w: body of %d bytes", payment.ErrMalformed, len(body))
	}
	var w wireNotification
	if !bytes.HasPrefix(bytes.TrimLeft(body, " \t\r\n"), []byte("{")) {
		return payment.Notification{}, fmt.Errorf("midtrans: %w: body is not a JSON object", payment.ErrMalformed)
	}
	if err := json.Unmarshal(body, &w); err != nil {
		return payment.Notification{}, fmt.Errorf("midtrans: %w: %v", payment.ErrMalformed, err)
	}
	if err := c.verify(w); err != nil {
		return payment.Notification{}, err
	}
	return parse(w, body)
}

// verify checks w.SignatureKey in constant time against the expected signature.
func (c *Client) verify(w wireNotification) error {
	if w.SignatureKey == "" {
		return fmt.Errorf("midtrans: %w: no signature_key", payment.ErrBadSignature)
	}
	got, err := hex.DecodeString(w.SignatureKey)
	if err != nil || len(got) != sha512.Size {
		return fmt.Errorf("midtrans: %w: signature_key is not a hex SHA-512", payment.ErrBadSignature)
	}
	want := sha512.Sum512([]byte(w.OrderID + string(w.StatusCode) + string(w.GrossAmount) + c.serverKey))
	if subtle.ConstantTimeCompare(got, want[:]) != 1 {
		return fmt.Errorf("midtrans: %w", payment.ErrBadSignature)
	}
	return nil
}

// parse turns a verified wire notification into a payment.Notification.
func parse(w wireNotification, body []byte) (payment.Notification, error) {
	switch {
	case w.OrderID == "":
		return payment.Notification{}, fmt.Errorf("midtrans: %w: no order_id", payment.ErrMalformed)
	case w.TransactionID == "":
		return payment.Notification{}, fmt.Errorf("midtrans: %w: no transaction_id", payment.ErrMalformed)
	case w.TransactionStatus == "":
		return payment.Notification{}, fmt.Errorf("midtrans: %w: no transaction_status", payment.ErrMalformed)
	}
	if _, ok := httpCode(string(w.StatusCode)); !ok {
		return payment.Notification{}, fmt.Errorf("midtrans: %w: status_code %q is not a 3-digit code", payment.ErrMalformed, clip(string(w.StatusCode)))
	}
	currency := w.Currency
	if currency == "" {
		currency = "IDR" // Midtrans's only settlement currency; older notifications omit it
	}
	amount, err := payment.ParseDecimal(string(w.GrossAmount), currency)
	if err != nil {
		return payment.Notification{}, fmt.Errorf("midtrans: gross_amount: %w", err)
	}
	id := w.TransactionID + ":" + w.TransactionStatus + ":" + string(w.StatusCode)
	switch w.TransactionStatus {
	case StatusRefund, StatusPartialRefund, StatusChargeback, StatusPartialChargeback:
		if w.RefundAmount != "" {
			id += ":" + string(w.RefundAmount)
		}
	}
	return payment.Notification{
		Provider:       Name,
		NotificationID: id,
		OrderID:        w.OrderID,
		Amount:         amount,
		Status:         w.TransactionStatus,
		FraudStatus:    w.FraudStatus,
		Outcome:        Outcome(w.TransactionStatus, w.FraudStatus),
		ProviderRef:    w.TransactionID,
		OccurredAt:     occurredAt(w),
		Raw:            bytes.Clone(body),
	}, nil
}

// Outcome maps Midtrans's transaction_status and fraud_status to a payment.Outcome, as
// Midtrans's notification guide reads them: settlement, and capture accepted by the
// fraud check, are paid; a capture the fraud check challenges is still pending (the
// merchant must approve it); a capture it denies has failed.
func Outcome(status, fraud string) payment.Outcome {
	switch status {
	case StatusSettlement:
		return payment.OutcomePaid
	case StatusCapture:
		switch fraud {
		case FraudAccept:
			return payment.OutcomePaid
		case FraudDeny:
			return payment.OutcomeFailed
		}
		return payment.OutcomePending
	case StatusPending, StatusAuthorize:
		return payment.OutcomePending
	case StatusDeny, StatusFailure:
		return payment.OutcomeFailed
	case StatusCancel:
		return payment.OutcomeCancelled
	case StatusExpire:
		return payment.OutcomeExpired
	case StatusRefund, StatusChargeback:
		return payment.OutcomeRefunded
	case StatusPartialRefund, StatusPartialChargeback:
		return payment.OutcomePartiallyRefunded
	}
	return payment.OutcomeUnknown
}

// occurredAt reads the time of the change where Midtrans states it: settlement_time for
// a settlement, transaction_time for the statuses that start a transaction. Other
// changes (expire, cancel, refund) carry no time of their own.
func occurredAt(w wireNotification) time.Time {
	var s string
	switch w.TransactionStatus {
	case StatusSettlement:
		s = w.SettlementTime
		if s == "" {
			s = w.TransactionTime
		}
	case StatusPending, StatusCapture, StatusAuthorize:
		s = w.TransactionTime
	}
	t, err := time.ParseInLocation(time.DateTime, s, wib)
	if err != nil {
		return time.Time{}
	}
	return t
}

// httpCode parses a 3-digit status code such as "200".
func httpCode(s string) (int, bool) {
	if len(s) != 3 {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 100 {
		return 0, false
	}
	return n, true
}
