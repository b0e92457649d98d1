package checkout

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/etalase/etalase/shared/commerce/cart"
	"github.com/etalase/etalase/shared/commerce/order"
	"github.com/etalase/etalase/shared/commerce/orders"
	"github.com/etalase/etalase/shared/commerce/outbox"
	"github.com/etalase/etalase/shared/commerce/payment"
	"github.com/etalase/etalase/shared/platform/httpapi"
	"github.com/etalase/etalase/shared/platform/idempotency"
)

// Route keys of CommerceCheckoutFunction, exactly as template.yaml declares them.
const (
	RouteCheckout = "POST /commerce/v1/checkout"
	RoutePayment  = "POST /commerce/v1/orders/{orderId}/payment"
)

// ScopeBuyer is the OAuth scope of both routes.
const ScopeBuyer = "buyer"

// Error codes of the checkout routes (besides httpapi's, idempotency's and the
// orders package's order_not_found and conflict).
const (
	CodeCartEmpty           = "cart_empty"
	CodeInsufficientStock   = "insufficient_stock"
	CodeItemsUnavailable    = "items_unavailable"
	CodeCartChanged         = "cart_changed"
	CodeTooManyLines        = "too_many_lines"
	CodeOrderNotPending     = "order_not_pending"
	CodePaymentOpened       = "payment_already_opened"
	CodeProviderUnavailable = "payment_provider_unavailable"
	CodeProviderError       = "payment_provider_error"
)

// maxBody bounds the request body: one field.
const maxBody = 1 << 10

// Handler serves checkout's routes.
type Handler struct {
	svc    *Service
	idem   *idempotency.Middleware
	router *httpapi.Router
}

// NewHandler returns the handler of RouteCheckout (made idempotent by idem: the
// Idempotency-Key header is required) and RoutePayment.
func NewHandler(svc *Service, idem *idempotency.Middleware, log *slog.Logger) *Handler {
	h := &Handler{svc: svc, idem: idem, router: httpapi.NewRouter(log)}
	h.router.Route(RouteCheckout, buyer(idem.Wrap(h.checkout)))
	h.router.Route(RoutePayment, buyer(h.payment))
	return h
}

// Handle is the Lambda handler.
func (h *Handler) Handle(ctx context.Context, req httpapi.Request) (httpapi.Response, error) {
	return h.router.Handle(ctx, req)
}

// RouteKeys lists the routes the handler serves.
func (h *Handler) RouteKeys() []string { return h.router.RouteKeys() }

// buyer requires the buyer scope before anything else (the idempotency record too),
// and tags the outbox records with API Gateway's request id.
func buyer(next httpapi.HandlerFunc) httpapi.HandlerFunc {
	return func(ctx context.Context, req httpapi.Request) (httpapi.Response, error) {
		if _, err := httpapi.RequireScope(req, ScopeBuyer); err != nil {
			return httpapi.Response{}, err
		}
		return next(outbox.WithCorrelationID(ctx, req.RequestContext.RequestID), req)
	}
}

// Transport models.

type requestBody struct {
	Provider string `json:"provider"`
}

type paymentErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// responseBody is what both routes answer.
type responseBody struct {
	OrderID         string            `json:"orderId"`
	Status          string            `json:"status"`
	Amount          orders.MoneyBody  `json:"amount"`
	PaymentProvider *string           `json:"paymentProvider"`
	PaymentURL      *string           `json:"paymentUrl"`
	Deadline        time.Time         `json:"deadline"`
	PaymentError    *paymentErrorBody `json:"paymentError,omitempty"`
}

func toResponse(r Result) responseBody {
	o := r.Order
	b := responseBody{OrderID: o.ID, Status: string(o.Status), Amount: orders.MoneyOf(o.Total), Deadline: o.Deadline.UTC()}
	if o.PaymentProvider != "" {
		p := o.PaymentProvider
		b.PaymentProvider = &p
	}
	if o.Status == order.StatusPendingPayment && o.PaymentURL != "" {
		u := o.PaymentURL
		b.PaymentURL = &u
	}
	if r.PaymentErr != nil {
		he := paymentError(r.PaymentErr)
		b.PaymentError = &paymentErrorBody{Code: he.Code, Message: he.Message +
			"; the order is reserved until its deadline: retry with POST /commerce/v1/orders/" + o.ID + "/payment"}
	}
	return b
}

// provider decodes and checks the body's provider.
func (h *Handler) provider(req httpapi.Request) (string, error) {
	var body requestBody
	if err := httpapi.DecodeJSON(req, &body, maxBody); err != nil {
		return "", err
	}
	names := h.svc.Providers()
	for _, n := range names {
		if body.Provider == n {
			return n, nil
		}
	}
	return "", httpapi.ValidationFailed(httpapi.FieldError{Field: "provider", Message: "must be one of " + strings.Join(names, ", ")})
}

// checkout serves RouteCheckout behind the idempotency middleware. It returns an error
// only when nothing was committed (the middleware then frees the key for a retry);
// once the order exists it answers 201, with paymentUrl null and paymentError when the
// provider failed.
func (h *Handler) checkout(ctx context.Context, req httpapi.Request) (httpapi.Response, error) {
	buyerID := httpapi.PrincipalFrom(req).Subject
	provider, err := h.provider(req)
	if err != nil {
		return httpapi.Response{}, err
	}
	r, err := h.svc.Checkout(ctx, buyerID, provider)
	if err != nil {
		return httpapi.Response{}, toHTTPError(err)
	}
	resp := httpapi.JSON(http.StatusCreated, toResponse(r))
	resp.Headers["Location"] = "/commerce/v1/orders/" + r.Order.ID
	return resp, nil
}

// payment serves RoutePayment.
func (h *Handler) payment(ctx context.Context, req httpapi.Request) (httpapi.Response, error) {
	buyerID := httpapi.PrincipalFrom(req).Subject
	provider, err := h.provider(req)
	if err != nil {
		return httpapi.Response{}, err
	}
	r, err := h.svc.OpenPayment(ctx, buyerID, req.PathParameters["orderId"], provider)
	if err != nil {
		return httpapi.Response{}, toHTTPError(err)
	}
	return httpapi.JSON(http.StatusOK, toResponse(r)), nil
}

// paymentError maps a provider's failure to a client error.
func paymentError(err error) *httpapi.Error {
	if errors.Is(err, payment.ErrUnavailable) {
		return &httpapi.Error{Status: http.StatusServiceUnavailable, Code: CodeProviderUnavailable, Message: "the payment provider is unavailable", Cause: err}
	}
	return &httpapi.Error{Status: http.StatusBadGateway, Code: CodeProviderError, Message: "the payment provider refused the payment session", Cause: err}
}

// toHTTPError maps the service's errors to client errors; others stay internal.
func toHTTPError(err error) error {
	var he *httpapi.Error
	if errors.As(err, &he) {
		return err
	}
	var short *orders.InsufficientStockError
	if errors.As(err, &short) {
		details := make([]httpapi.FieldError, len(short.ProductIDs))
		for i, id := range short.ProductIDs {
			details[i] = httpapi.FieldError{Field: "lines." + id, Message: cart.ReasonOutOfStock}
		}
		return &httpapi.Error{Status: http.StatusConflict, Code: CodeInsufficientStock,
			Message: "not enough stock for: " + strings.Join(short.ProductIDs, ", "), Details: details, Cause: err}
	}
	var bad *orders.UnavailableError
	if errors.As(err, &bad) {
		details := make([]httpapi.FieldError, len(bad.Lines))
		ids := make([]string, len(bad.Lines))
		for i, l := range bad.Lines {
			details[i] = httpapi.FieldError{Field: "lines." + l.ProductID, Message: l.Reason}
			ids[i] = l.ProductID
		}
		return &httpapi.Error{Status: http.StatusConflict, Code: CodeItemsUnavailable,
			Message: "these products cannot be ordered now: " + strings.Join(ids, ", "), Details: details, Cause: err}
	}
	conflict := func(code, msg string) error {
		return &httpapi.Error{Status: http.StatusConflict, Code: code, Message: msg, Cause: err}
	}
	switch {
	case errors.Is(err, orders.ErrCartEmpty):
		return conflict(CodeCartEmpty, "the cart is empty")
	case errors.Is(err, orders.ErrCartChanged):
		return conflict(CodeCartChanged, "the cart kept changing during checkout; retry")
	case errors.Is(err, orders.ErrTooManyLines):
		return conflict(CodeTooManyLines, "the cart has more lines than one order holds")
	case errors.Is(err, orders.ErrNotPending), errors.Is(err, ErrWindowClosed):
		return conflict(CodeOrderNotPending, "the order no longer waits for a payment")
	case errors.Is(err, orders.ErrPaymentOpened):
		return conflict(CodePaymentOpened, "the order already has a payment session with another provider")
	case errors.Is(err, ErrUnknownProvider):
		return httpapi.ValidationFailed(httpapi.FieldError{Field: "provider", Message: "unknown payment provider"})
	case errors.Is(err, payment.ErrUnavailable), errors.Is(err, payment.ErrRejected), errors.Is(err, payment.ErrInvalidRequest):
		return paymentError(err)
	}
	return orders.ToHTTPError(err)
}
