// Package webhook is CommercePaymentWebhookFunction's handler: the HTTP endpoints that
// Midtrans and Xendit call with payment notifications (DESIGN.md flow 6).
//
// A provider retries a notification until it gets a 2xx, may deliver one twice, and
// delivers them out of order. The webhook therefore does as little as it can, fast,
// and leaves the order's state to the payments consumer:
//
//  1. verify: the Midtrans signature_key or the Xendit x-callback-token, in constant
//     time (the adapters in package payment). A notification that does not verify is
//     401 invalid_signature; nothing is read, stored or enqueued, and the only trace is
//     the router's one log line.
//  2. parse: a verified body that is not the provider's documented shape is 400
//     invalid_notification.
//  3. check the order: one GetItem of OrdersTable (total and currency only). An unknown
//     order is 404 order_not_found (there is no ledger to record it in; the log line
//     says). An amount or currency that differs from the order's total is 422
//     amount_mismatch, and the rejection is appended to the order's audit ledger
//     (notification_rejected). Every rejected delivery is recorded, so a provider's
//     retries of one bad notification show as several entries.
//  4. store once: a conditional PutItem into PaymentEventsTable keyed by
//     "<provider>/<notificationId>" (package paymentevents). A duplicate answers 200
//     {"status":"duplicate"} and changes nothing.
//  5. enqueue on PaymentEventsQueue (FIFO, grouped by order) and answer 200
//     {"status":"accepted"}.
//
// The happy path is three requests: GetItem, PutItem, SendMessage. No provider API is
// called.
//
// If the enqueue fails after the put, the answer is 500, so the provider retries. The
// retry is a duplicate of a notification the payments consumer has not marked
// processed, which the webhook sends again (with the same FIFO deduplication id, so
// SQS drops it if the first send did get through within the last 5 minutes); see
// package paymentevents. A duplicate of a processed notification sends nothing.
package webhook

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/etalase/etalase/shared/commerce/ledger"
	"github.com/etalase/etalase/shared/commerce/money"
	"github.com/etalase/etalase/shared/commerce/payment"
	"github.com/etalase/etalase/shared/commerce/payment/midtrans"
	"github.com/etalase/etalase/shared/commerce/payment/xendit"
	"github.com/etalase/etalase/shared/commerce/paymentevents"
	"github.com/etalase/etalase/shared/commerce/paymentevents/eventqueue"
	"github.com/etalase/etalase/shared/platform/httpapi"
)

// Route keys of CommercePaymentWebhookFunction, exactly as template.yaml declares them:
// one per provider, both without JWT (the providers authenticate by signature or token).
const (
	RouteMidtrans = "POST /commerce/v1/webhooks/midtrans"
	RouteXendit   = "POST /commerce/v1/webhooks/xendit"
)

// Error codes this package adds to httpapi's.
const (
	// CodeInvalidSignature (401): the signature or callback token does not verify.
	CodeInvalidSignature = "invalid_signature"
	// CodeInvalidNotification (400): verified, but not the provider's documented shape.
	CodeInvalidNotification = "invalid_notification"
	// CodeOrderNotFound (404): the notification names an order commerce does not have.
	CodeOrderNotFound = "order_not_found"
	// CodeAmountMismatch (422): the amount or currency is not the order's total.
	CodeAmountMismatch = "amount_mismatch"
)

// Answer statuses of a 200.
const (
	// StatusAccepted: stored and enqueued.
	StatusAccepted = "accepted"
	// StatusDuplicate: this notification was stored before; nothing changed.
	StatusDuplicate = "duplicate"
)

// ReasonAmountMismatch is the reason of the ledger's notification_rejected entry.
const ReasonAmountMismatch = "amount_mismatch"

// ErrOrderNotFound is what an OrderReader returns for an order that does not exist.
var ErrOrderNotFound = errors.New("order not found")

// OrderReader reads the total of an order (its amount and currency).
type OrderReader interface {
	OrderTotal(ctx context.Context, orderID string) (money.Money, error)
}

// EventStore stores a notification once (paymentevents.Store).
type EventStore interface {
	PutOnce(ctx context.Context, e paymentevents.Event, body []byte) (prior paymentevents.Stored, fresh bool, err error)
}

// Enqueuer sends a notification to the payments consumer (eventqueue.Queue).
type Enqueuer interface {
	Send(ctx context.Context, e paymentevents.Event) error
}

// Ledger appends an entry to an order's audit ledger (ledger.DynamoStore).
type Ledger interface {
	Append(ctx context.Context, orderID, typ string, data any) (ledger.Entry, error)
}

var (
	_ OrderReader = (*DynamoOrders)(nil)
	_ EventStore  = (*paymentevents.Store)(nil)
	_ Enqueuer    = (*eventqueue.Queue)(nil)
	_ Ledger      = (*ledger.DynamoStore)(nil)
)

// Config is what NewHandler needs.
type Config struct {
	// Midtrans and Xendit verify and parse each provider's notifications.
	Midtrans, Xendit payment.NotificationVerifier
	// Orders reads order totals.
	Orders OrderReader
	// Events stores notifications once.
	Events EventStore
	// Queue enqueues them.
	Queue Enqueuer
	// Ledger records rejected notifications.
	Ledger Ledger
	// Log receives one line per rejected or failed request; nil means slog.Default().
	Log *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Handler serves the webhook routes.
type Handler struct {
	cfg    Config
	router *httpapi.Router
}

// NewHandler returns the handler of both webhook routes.
func NewHandler(cfg Config) (*Handler, error) {
	switch {
	case cfg.Midtrans == nil || cfg.Xendit == nil:
		return nil, errors.New("webhook: a verifier per provider is required")
	case cfg.Orders == nil || cfg.Events == nil || cfg.Queue == nil || cfg.Ledger == nil:
		return nil, errors.New("webhook: orders, events, queue and ledger are required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	h := &Handler{cfg: cfg, router: httpapi.NewRouter(cfg.Log)}
	h.router.Route(RouteMidtrans, h.serve(midtrans.Name, cfg.Midtrans))
	h.router.Route(RouteXendit, h.serve(xendit.Name, cfg.Xendit))
	return h, nil
}

// Handle is the Lambda handler.
func (h *Handler) Handle(ctx context.Context, req httpapi.Request) (httpapi.Response, error) {
	return h.router.Handle(ctx, req)
}

// RouteKeys returns the routes the handler serves.
func (h *Handler) RouteKeys() []string { return h.router.RouteKeys() }

// answer is the body of a 200.
type answer struct {
	Status string `json:"status"`
}

// serve returns the handler of one provider's route.
func (h *Handler) serve(provider string, v payment.NotificationVerifier) httpapi.HandlerFunc {
	return func(ctx context.Context, req httpapi.Request) (httpapi.Response, error) {
		received := h.cfg.Now()
		body, err := requestBody(req)
		if err != nil {
			return httpapi.Response{}, &httpapi.Error{Status: http.StatusBadRequest, Code: CodeInvalidNotification,
				Message: "the body is not a notification", Cause: err}
		}
		n, err := v.VerifyAndParse(req.Headers, body)
		switch {
		case errors.Is(err, payment.ErrBadSignature):
			return httpapi.Response{}, &httpapi.Error{Status: http.StatusUnauthorized, Code: CodeInvalidSignature,
				Message: "the notification's signature does not verify", Cause: err}
		case err != nil:
			return httpapi.Response{}, &httpapi.Error{Status: http.StatusBadRequest, Code: CodeInvalidNotification,
				Message: "the notification is not in the provider's format", Cause: err}
		case n.Provider != provider:
			return httpapi.Response{}, fmt.Errorf("webhook %s: the verifier returned a %s notification", provider, n.Provider)
		}

		total, err := h.cfg.Orders.OrderTotal(ctx, n.OrderID)
		if errors.Is(err, ErrOrderNotFound) {
			return httpapi.Response{}, &httpapi.Error{Status: http.StatusNotFound, Code: CodeOrderNotFound,
				Message: "no such order", Cause: fmt.Errorf("%s notification %s for unknown order %q", provider, n.NotificationID, n.OrderID)}
		}
		if err != nil {
			return httpapi.Response{}, fmt.Errorf("read order %s: %w", n.OrderID, err)
		}
		if n.Amount != total {
			return h.rejectAmount(ctx, n, total)
		}

		ev, err := paymentevents.FromNotification(n, received)
		if err != nil {
			return httpapi.Response{}, &httpapi.Error{Status: http.StatusBadRequest, Code: CodeInvalidNotification,
				Message: "the notification is not in the provider's format", Cause: err}
		}
		prior, fresh, err := h.cfg.Events.PutOnce(ctx, ev, n.Raw)
		if err != nil {
			return httpapi.Response{}, fmt.Errorf("store notification: %w", err)
		}
		if !fresh {
			if prior.Processed() {
				return httpapi.JSON(http.StatusOK, answer{Status: StatusDuplicate}), nil
			}
			// Stored but not yet processed: its first enqueue may have failed. Send it
			// again; SQS drops the copy if the first send got through (see package doc).
			resend := ev
			if prior.Validate() == nil {
				resend = prior.Event
			}
			if err := h.cfg.Queue.Send(ctx, resend); err != nil {
				return httpapi.Response{}, fmt.Errorf("enqueue duplicate: %w", err)
			}
			return httpapi.JSON(http.StatusOK, answer{Status: StatusDuplicate}), nil
		}
		if err := h.cfg.Queue.Send(ctx, ev); err != nil {
			// The provider retries on 5xx; its retry re-sends the stored notification.
			return httpapi.Response{}, fmt.Errorf("enqueue: %w", err)
		}
		return httpapi.JSON(http.StatusOK, answer{Status: StatusAccepted}), nil
	}
}

// rejectAmount records a notification whose amount or currency is not the order's
// total in the order's ledger and answers 422. Storing nothing, it also keeps the
// notification's key free: a correct notification with the same identity still goes
// through.
func (h *Handler) rejectAmount(ctx context.Context, n payment.Notification, total money.Money) (httpapi.Response, error) {
	data := map[string]any{
		"reason":           ReasonAmountMismatch,
		"source":           "webhook",
		"provider":         n.Provider,
		"notificationKey":  n.Key(),
		"providerStatus":   n.Status,
		"amount":           n.Amount.Amount,
		"currency":         n.Amount.Currency,
		"expectedAmount":   total.Amount,
		"expectedCurrency": total.Currency,
	}
	if n.FraudStatus != "" {
		data["fraudStatus"] = n.FraudStatus
	}
	if _, err := h.cfg.Ledger.Append(ctx, n.OrderID, ledger.TypeNotificationRejected, data); err != nil {
		if errors.Is(err, ledger.ErrOrderNotFound) {
			return httpapi.Response{}, &httpapi.Error{Status: http.StatusNotFound, Code: CodeOrderNotFound, Message: "no such order", Cause: err}
		}
		return httpapi.Response{}, fmt.Errorf("record rejected notification: %w", err)
	}
	return httpapi.Response{}, &httpapi.Error{Status: http.StatusUnprocessableEntity, Code: CodeAmountMismatch,
		Message: "the notification's amount or currency is not the order's total",
		Cause:   fmt.Errorf("%s notification %s for order %s: %v, order total %v", n.Provider, n.NotificationID, n.OrderID, n.Amount, total)}
}

// requestBody returns the raw body, decoding API Gateway's base64 when it applied it.
func requestBody(req httpapi.Request) ([]byte, error) {
	if !req.IsBase64Encoded {
		return []byte(req.Body), nil
	}
	b, err := base64.StdEncoding.DecodeString(req.Body)
	if err != nil {
		return nil, fmt.Errorf("base64 body: %w", err)
	}
	return b, nil
}
