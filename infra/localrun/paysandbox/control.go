package paysandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Control API limits.
const (
	maxDuplicate = 20
	maxReorder   = 10
	maxDelay     = 60 * time.Second
)

// NotifyRequest is the body of POST /_local/pay/control/notify. It sends, for the
// newest session of OrderID at Provider:
//
//  1. the notification for Status, 1 + Duplicate times, byte for byte the same (as a
//     provider's retry is);
//  2. then one notification for each of ReorderWith, in that order: stale states
//     arriving after the current one, as retries of earlier notifications do.
//
// DelayMs waits before the first one; with a delay the request answers 202 at once and
// the notifications go out in the background (see GET /control/sent), without one it
// answers 200 with the deliveries. BadSignature signs every one with a wrong key
// (Midtrans) or sends a wrong x-callback-token (Xendit). AmountOverride (a decimal in
// major units, e.g. 9000 or "10000.50") replaces the amount, correctly signed, so that
// only the webhook's amount check can catch it.
//
// Status (but not ReorderWith) becomes the session's state that the status APIs report,
// unless BadSignature is set (a forgery changes nothing at the provider).
type NotifyRequest struct {
	// Provider is "midtrans" or "xendit".
	Provider string `json:"provider"`
	// OrderID is the Midtrans order_id or Xendit external_id.
	OrderID string `json:"orderId"`
	// Status is the provider's raw status: a Midtrans transaction_status (pending,
	// capture, settlement, deny, cancel, expire, failure, refund, partial_refund, ...)
	// or a Xendit invoice status (PENDING, PAID, SETTLED, EXPIRED).
	Status string `json:"status"`
	// FraudStatus is Midtrans's fraud_status; empty means accept.
	FraudStatus string `json:"fraudStatus,omitempty"`
	// StatusCode is Midtrans's status_code; empty means the one Midtrans sends with
	// the status (200, 201 or 202).
	StatusCode string `json:"statusCode,omitempty"`
	// RefundAmount is Midtrans's refund_amount for refunds; empty means the full
	// amount for refund, half for partial_refund.
	RefundAmount json.Number `json:"refundAmount,omitempty"`
	// Duplicate is how many extra copies of Status's notification to send (0-20).
	Duplicate int `json:"duplicate,omitempty"`
	// ReorderWith are statuses sent after Status's notification, in order (at most 10).
	ReorderWith []string `json:"reorderWith,omitempty"`
	// DelayMs waits before the first notification (at most 60000).
	DelayMs int `json:"delayMs,omitempty"`
	// BadSignature makes every notification fail verification.
	BadSignature bool `json:"badSignature,omitempty"`
	// AmountOverride replaces the amount (major units).
	AmountOverride json.Number `json:"amountOverride,omitempty"`
}

// NotifyResponse answers POST /_local/pay/control/notify.
type NotifyResponse struct {
	// Scheduled is how many notifications were (or will be) sent.
	Scheduled int `json:"scheduled"`
	// Deliveries are the notifications sent, when the request had no delay.
	Deliveries []Delivery `json:"deliveries,omitempty"`
}

// SentResponse answers GET /_local/pay/control/sent.
type SentResponse struct {
	// Deliveries are the notifications sent, oldest first.
	Deliveries []Delivery `json:"deliveries"`
}

// Delivery records one notification the sandbox sent.
type Delivery struct {
	// Seq numbers deliveries in the order they were made, from 1.
	Seq int64 `json:"seq"`
	// Provider, OrderID and Status say what was notified.
	Provider string `json:"provider"`
	OrderID  string `json:"orderId"`
	Status   string `json:"status"`
	// StatusCode is Midtrans's status_code; empty for Xendit.
	StatusCode string `json:"statusCode,omitempty"`
	// ProviderRef is the Midtrans transaction_id or the Xendit invoice id.
	ProviderRef string `json:"providerRef"`
	// Amount is the amount sent, as it appeared in the notification.
	Amount string `json:"amount"`
	// Copy is 0 for the first delivery of a notification, 1.. for duplicates.
	Copy int `json:"copy"`
	// Stale marks a ReorderWith notification.
	Stale bool `json:"stale,omitempty"`
	// BadSignature marks a notification signed to fail verification.
	BadSignature bool `json:"badSignature,omitempty"`
	// Source is "page" or "control".
	Source string `json:"source"`
	// URL is where it was sent.
	URL string `json:"url"`
	// SentAt is when it was sent.
	SentAt time.Time `json:"sentAt"`
	// ResponseStatus is the webhook's HTTP status; 0 when there was no answer.
	ResponseStatus int `json:"responseStatus"`
	// Error says why there was no answer.
	Error string `json:"error,omitempty"`
	// Body is the notification body exactly as sent.
	Body json.RawMessage `json:"body"`
}

// outgoing is a built notification waiting to be delivered.
type outgoing struct {
	d       Delivery
	headers map[string]string
}

func controlError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]map[string]string{"error": {"code": code, "message": msg}})
}

// controlNotify serves POST /_local/pay/control/notify.
func (s *Sandbox) controlNotify(w http.ResponseWriter, r *http.Request) {
	var req NotifyRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		controlError(w, http.StatusBadRequest, "invalid_body", err.Error())
		return
	}
	if err := req.validate(); err != nil {
		controlError(w, http.StatusBadRequest, "validation_failed", err.Error())
		return
	}
	s.mu.Lock()
	ss := s.latest(req.Provider, req.OrderID)
	if ss == nil {
		s.mu.Unlock()
		controlError(w, http.StatusNotFound, "unknown_order", fmt.Sprintf("no %s session for order %q", req.Provider, req.OrderID))
		return
	}
	out := s.build(ss, req, "control")
	s.mu.Unlock()

	if req.DelayMs > 0 {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			t := time.NewTimer(time.Duration(req.DelayMs) * time.Millisecond)
			defer t.Stop()
			select {
			case <-s.ctx.Done():
				return
			case <-t.C:
			}
			s.deliverAll(s.ctx, out)
		}()
		writeJSON(w, http.StatusAccepted, NotifyResponse{Scheduled: len(out)})
		return
	}
	writeJSON(w, http.StatusOK, NotifyResponse{Scheduled: len(out), Deliveries: s.deliverAll(r.Context(), out)})
}

func (req *NotifyRequest) validate() error {
	valid := func(st string) bool {
		if req.Provider == Midtrans {
			_, ok := midtransStatuses[st]
			return ok
		}
		return xenditStatuses[st]
	}
	switch {
	case req.Provider != Midtrans && req.Provider != Xendit:
		return fmt.Errorf("provider must be %q or %q", Midtrans, Xendit)
	case req.OrderID == "":
		return fmt.Errorf("orderId is required")
	case !valid(req.Status):
		return fmt.Errorf("status %q is not a %s status", req.Status, req.Provider)
	case req.Duplicate < 0 || req.Duplicate > maxDuplicate:
		return fmt.Errorf("duplicate must be 0-%d", maxDuplicate)
	case len(req.ReorderWith) > maxReorder:
		return fmt.Errorf("reorderWith holds at most %d statuses", maxReorder)
	case req.DelayMs < 0 || time.Duration(req.DelayMs)*time.Millisecond > maxDelay:
		return fmt.Errorf("delayMs must be 0-%d", maxDelay.Milliseconds())
	case req.Provider == Xendit && (req.FraudStatus != "" || req.StatusCode != "" || req.RefundAmount != ""):
		return fmt.Errorf("fraudStatus, statusCode and refundAmount are Midtrans fields")
	case req.StatusCode != "" && (len(req.StatusCode) != 3 || strings.Trim(req.StatusCode, "0123456789") != ""):
		return fmt.Errorf("statusCode must be 3 digits")
	}
	for _, st := range req.ReorderWith {
		if !valid(st) {
			return fmt.Errorf("reorderWith: %q is not a %s status", st, req.Provider)
		}
	}
	for _, n := range []json.Number{req.AmountOverride, req.RefundAmount} {
		if n != "" && !plainNumber.MatchString(n.String()) && !plainNumber.MatchString(strings.TrimPrefix(n.String(), "-")) {
			return fmt.Errorf("amounts must be plain decimals")
		}
	}
	return nil
}

// build makes the notifications a request asks for and applies its status to the
// session. Callers hold mu.
func (s *Sandbox) build(ss *session, req NotifyRequest, source string) []outgoing {
	now := s.cfg.Now()
	var out []outgoing
	add := func(status string, copies int, stale bool) {
		var o outgoing
		switch ss.provider {
		case Midtrans:
			code := req.StatusCode
			if code == "" || stale {
				code = midtransStatuses[status]
			}
			fraud := "accept"
			if req.FraudStatus != "" && !stale {
				fraud = req.FraudStatus
			}
			if status == "capture" && fraud == "challenge" && req.StatusCode == "" {
				code = "201"
			}
			gross := ss.amount + ".00"
			if req.AmountOverride != "" {
				gross = req.AmountOverride.String()
				if !strings.Contains(gross, ".") {
					gross += ".00"
				}
			}
			refund := ""
			if status == "refund" || status == "partial_refund" {
				refund = ss.amount + ".00"
				if status == "partial_refund" {
					refund = halfOf(ss.amount) + ".00"
				}
				if req.RefundAmount != "" && !stale {
					refund = req.RefundAmount.String()
				}
			}
			body := s.midtransBody(ss, midtransNote{status: status, statusCode: code, fraud: fraud, gross: gross, refund: refund, badSignature: req.BadSignature}, now)
			o = outgoing{
				d: Delivery{Provider: Midtrans, OrderID: ss.orderID, Status: status, StatusCode: code, ProviderRef: ss.transactionID,
					Amount: gross, Stale: stale, BadSignature: req.BadSignature, Source: source, URL: s.cfg.MidtransNotifyURL, Body: body},
				headers: map[string]string{"Content-Type": "application/json", "Accept": "application/json"},
			}
			if !stale && !req.BadSignature {
				ss.status, ss.statusCode, ss.fraudStatus, ss.updated = status, code, fraud, now
			}
		case Xendit:
			amount := ss.amount
			if req.AmountOverride != "" {
				amount = req.AmountOverride.String()
			}
			if !stale && !req.BadSignature {
				ss.status, ss.updated = status, now
				if (status == "PAID" || status == "SETTLED") && ss.paidAt.IsZero() {
					ss.paidAt = now
				}
			}
			token := s.cfg.XenditCallbackToken
			if req.BadSignature {
				token = "not-" + token
			}
			body := s.xenditCallback(ss, status, amount)
			o = outgoing{
				d: Delivery{Provider: Xendit, OrderID: ss.orderID, Status: status, ProviderRef: ss.token,
					Amount: amount, Stale: stale, BadSignature: req.BadSignature, Source: source, URL: s.cfg.XenditCallbackURL, Body: body},
				headers: map[string]string{"Content-Type": "application/json", "x-callback-token": token},
			}
		}
		for i := 0; i < copies; i++ {
			c := o
			c.d.Copy = i
			out = append(out, c)
		}
	}
	add(req.Status, 1+req.Duplicate, false)
	for _, st := range req.ReorderWith {
		add(st, 1, true)
	}
	return out
}

// deliverAll sends out in order, recording each delivery.
func (s *Sandbox) deliverAll(ctx context.Context, out []outgoing) []Delivery {
	var done []Delivery
	for _, o := range out {
		if ctx.Err() != nil {
			break
		}
		done = append(done, s.deliver(ctx, o))
	}
	return done
}

// deliver POSTs one notification and records it.
func (s *Sandbox) deliver(ctx context.Context, o outgoing) Delivery {
	d := o.d
	d.SentAt = s.cfg.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(d.Body))
	if err == nil {
		for k, v := range o.headers {
			req.Header.Set(k, v)
		}
		req.Header.Set("User-Agent", "etalase-paysandbox/1")
		var resp *http.Response
		if resp, err = s.cfg.HTTPClient.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
			resp.Body.Close()
			d.ResponseStatus = resp.StatusCode
		}
	}
	if err != nil {
		d.Error = err.Error()
	}
	s.mu.Lock()
	s.seq++
	d.Seq = s.seq
	s.sent = append(s.sent, d)
	if over := len(s.sent) - s.cfg.MaxSent; over > 0 {
		s.sent = append([]Delivery(nil), s.sent[over:]...)
	}
	s.mu.Unlock()
	s.log.Info("paysandbox: notification sent", "provider", d.Provider, "order", d.OrderID, "status", d.Status,
		"copy", d.Copy, "stale", d.Stale, "badSignature", d.BadSignature, "url", d.URL, "response", d.ResponseStatus, "error", d.Error)
	return d
}

// controlSent serves GET /_local/pay/control/sent?orderId=&provider=.
func (s *Sandbox) controlSent(w http.ResponseWriter, r *http.Request) {
	order, provider := r.URL.Query().Get("orderId"), r.URL.Query().Get("provider")
	out := []Delivery{}
	for _, d := range s.Sent(order) {
		if provider == "" || d.Provider == provider {
			out = append(out, d)
		}
	}
	writeJSON(w, http.StatusOK, SentResponse{Deliveries: out})
}

// halfOf halves a whole decimal amount ("25000" → "12500"), for a default partial
// refund.
func halfOf(amount string) string {
	var n int64
	for _, c := range amount {
		if c < '0' || c > '9' {
			return amount
		}
		n = n*10 + int64(c-'0')
	}
	return fmt.Sprint(n / 2)
}
