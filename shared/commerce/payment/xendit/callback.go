package xendit

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"time"

	"github.com/etalase/etalase/shared/commerce/payment"
)

// CallbackTokenHeader is the header every Xendit callback carries the account's
// webhook verification token in.
const CallbackTokenHeader = "x-callback-token"

// VerifyAndParse authenticates an invoice callback by its x-callback-token header and
// parses the body. The token is compared in constant time (as SHA-256 digests, so that
// not even its length shows in the timing); a missing or wrong token, or a Client
// without a configured token, is ErrBadSignature.
//
// NotificationID is the invoice id and status ("<id>:PAID"). Xendit gives a callback no
// id of its own; it sends one callback per status change of an invoice and retries it
// unchanged, so the invoice id and the status identify it.
func (c *Client) VerifyAndParse(headers map[string]string, body []byte) (payment.Notification, error) {
	if err := c.verify(headers); err != nil {
		return payment.Notification{}, err
	}
	if len(body) > payment.MaxNotificationBytes {
		return payment.Notification{}, fmt.Errorf("xendit: %w: body of %d bytes", payment.ErrMalformed, len(body))
	}
	n, err := parseInvoice(body)
	if err != nil {
		return payment.Notification{}, fmt.Errorf("xendit: callback: %w", err)
	}
	return n, nil
}

func (c *Client) verify(headers map[string]string) error {
	if c.callbackToken == "" {
		return fmt.Errorf("xendit: %w: no callback token configured", payment.ErrBadSignature)
	}
	got, ok := payment.Header(headers, CallbackTokenHeader)
	if !ok || got == "" {
		return fmt.Errorf("xendit: %w: no %s header", payment.ErrBadSignature, CallbackTokenHeader)
	}
	g, w := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(c.callbackToken))
	if subtle.ConstantTimeCompare(g[:], w[:]) != 1 {
		return fmt.Errorf("xendit: %w: wrong %s", payment.ErrBadSignature, CallbackTokenHeader)
	}
	return nil
}

// parseInvoice reads an invoice object (a callback or a GET answer) into a
// Notification.
func parseInvoice(body []byte) (payment.Notification, error) {
	if !bytes.HasPrefix(bytes.TrimLeft(body, " \t\r\n"), []byte("{")) {
		return payment.Notification{}, fmt.Errorf("%w: body is not a JSON object", payment.ErrMalformed)
	}
	var inv invoice
	if err := json.Unmarshal(body, &inv); err != nil {
		return payment.Notification{}, fmt.Errorf("%w: %v", payment.ErrMalformed, err)
	}
	switch {
	case inv.ID == "":
		return payment.Notification{}, fmt.Errorf("%w: no id", payment.ErrMalformed)
	case inv.ExternalID == "":
		return payment.Notification{}, fmt.Errorf("%w: no external_id", payment.ErrMalformed)
	case inv.Status == "":
		return payment.Notification{}, fmt.Errorf("%w: no status", payment.ErrMalformed)
	case inv.Currency == "":
		return payment.Notification{}, fmt.Errorf("%w: no currency", payment.ErrMalformed)
	case inv.Amount == "":
		return payment.Notification{}, fmt.Errorf("%w: no amount", payment.ErrMalformed)
	}
	amount, err := payment.ParseDecimal(string(inv.Amount), inv.Currency)
	if err != nil {
		return payment.Notification{}, fmt.Errorf("amount: %w", err)
	}
	if inv.PaidAmount != "" {
		if amount, err = payment.ParseDecimal(string(inv.PaidAmount), inv.Currency); err != nil {
			return payment.Notification{}, fmt.Errorf("paid_amount: %w", err)
		}
	}
	at := inv.Updated
	if inv.PaidAt != "" && (inv.Status == StatusPaid || inv.Status == StatusSettled) {
		at = inv.PaidAt
	}
	occurred, err := time.Parse(time.RFC3339Nano, at)
	if err != nil {
		occurred = time.Time{}
	}
	return payment.Notification{
		Provider:       Name,
		NotificationID: inv.ID + ":" + inv.Status,
		OrderID:        inv.ExternalID,
		Amount:         amount,
		Status:         inv.Status,
		Outcome:        Outcome(inv.Status),
		ProviderRef:    inv.ID,
		OccurredAt:     occurred,
		Raw:            bytes.Clone(body),
	}, nil
}

// Outcome maps an invoice status to a payment.Outcome: PAID and SETTLED are paid (the
// money is received; SETTLED only says it reached the balance), EXPIRED is expired.
// Xendit has no failed invoice: a failed attempt leaves it PENDING.
func Outcome(status string) payment.Outcome {
	switch status {
	case StatusPending:
		return payment.OutcomePending
	case StatusPaid, StatusSettled:
		return payment.OutcomePaid
	case StatusExpired:
		return payment.OutcomeExpired
	}
	return payment.OutcomeUnknown
}
