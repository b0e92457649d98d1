package orders

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/etalase/etalase/shared/commerce/ledger"
	"github.com/etalase/etalase/shared/commerce/money"
	"github.com/etalase/etalase/shared/commerce/order"
	"github.com/etalase/etalase/shared/platform/httpapi"
)

// Route keys of CommerceOrdersFunction, exactly as template.yaml declares them.
const (
	RouteListOrders  = "GET /commerce/v1/orders"
	RouteGetOrder    = "GET /commerce/v1/orders/{orderId}"
	RouteCancelOrder = "POST /commerce/v1/orders/{orderId}/cancel"
	RouteAuditLedger = ledger.RouteAuditLedger
)

// ScopeBuyer is the OAuth scope of the buyer routes.
const ScopeBuyer = "buyer"

// Error codes of the order routes (besides httpapi's).
const (
	CodeOrderNotFound       = "order_not_found"
	CodeOrderNotCancellable = "order_not_cancellable"
	CodeInvalidCursor       = "invalid_cursor"
	CodeConflict            = "conflict"
)

// OrderStore is what the order routes need of a Store.
type OrderStore interface {
	Get(ctx context.Context, orderID string) (order.Order, error)
	ListByBuyer(ctx context.Context, buyerID, after string, limit int) (Page, error)
	Apply(ctx context.Context, orderID string, decide func(order.Order) (order.Decision, error), ev LedgerEvent) (Result, error)
}

var _ OrderStore = (*Store)(nil)

// Handler serves a buyer's orders and the auditor's ledger route.
type Handler struct {
	store  OrderStore
	audit  *ledger.AuditHandler
	router *httpapi.Router
}

// NewHandler returns the handler of every route of CommerceOrdersFunction. audit
// serves RouteAuditLedger.
func NewHandler(store OrderStore, audit *ledger.AuditHandler, log *slog.Logger) *Handler {
	h := &Handler{store: store, audit: audit, router: httpapi.NewRouter(log)}
	h.router.Route(RouteListOrders, h.buyer(h.list))
	h.router.Route(RouteGetOrder, h.buyer(h.get))
	h.router.Route(RouteCancelOrder, h.buyer(h.cancel))
	h.router.Route(RouteAuditLedger, audit.ServeLedger)
	return h
}

// Handle is the Lambda handler.
func (h *Handler) Handle(ctx context.Context, req httpapi.Request) (httpapi.Response, error) {
	return h.router.Handle(ctx, req)
}

// RouteKeys lists the routes the handler serves.
func (h *Handler) RouteKeys() []string { return h.router.RouteKeys() }

// buyer requires the buyer scope and passes the buyer's id on.
func (h *Handler) buyer(serve func(ctx context.Context, req httpapi.Request, buyerID string) (httpapi.Response, error)) httpapi.HandlerFunc {
	return httpapi.Scoped(ScopeBuyer, ToHTTPError, func(ctx context.Context, req httpapi.Request, caller httpapi.Principal) (httpapi.Response, error) {
		return serve(ctx, req, caller.Subject)
	})
}

// errNotOwner: the order belongs to another buyer. It answers exactly as a missing
// order does, so that order ids cannot be probed.
var errNotOwner = errors.New("order of another buyer")

// own returns the caller's order, or ErrOrderNotFound for another buyer's.
func own(o order.Order, buyerID string) error {
	if o.BuyerID != buyerID {
		return errNotOwner
	}
	return nil
}

func (h *Handler) list(ctx context.Context, req httpapi.Request, buyerID string) (httpapi.Response, error) {
	limit := DefaultListLimit
	if s, ok := req.QueryStringParameters["limit"]; ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxListLimit {
			return httpapi.Response{}, httpapi.ValidationFailed(httpapi.FieldError{Field: "limit", Message: "must be an integer from 1 to " + strconv.Itoa(MaxListLimit)})
		}
		limit = n
	}
	p, err := h.store.ListByBuyer(ctx, buyerID, req.QueryStringParameters["cursor"], limit)
	if err != nil {
		return httpapi.Response{}, err
	}
	out := listBody{Orders: make([]OrderBody, len(p.Orders))}
	for i, o := range p.Orders {
		out.Orders[i] = ToBody(o)
	}
	if p.Next != "" {
		out.NextCursor = &p.Next
	}
	return httpapi.JSON(http.StatusOK, out), nil
}

func (h *Handler) get(ctx context.Context, req httpapi.Request, buyerID string) (httpapi.Response, error) {
	o, err := h.store.Get(ctx, req.PathParameters["orderId"])
	if err == nil {
		err = own(o, buyerID)
	}
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, ToBody(o)), nil
}

// cancel moves the caller's PENDING_PAYMENT order to CANCELLED and releases its stock
// (Apply with order.Cancel). Cancelling a cancelled order again changes nothing and
// answers the same.
func (h *Handler) cancel(ctx context.Context, req httpapi.Request, buyerID string) (httpapi.Response, error) {
	r, err := h.store.Apply(ctx, req.PathParameters["orderId"], func(o order.Order) (order.Decision, error) {
		if err := own(o, buyerID); err != nil {
			return order.Decision{From: o.Status, Next: o.Status}, err
		}
		return order.Cancel(o)
	}, LedgerEvent{Type: ledger.TypeStatusChanged, Data: map[string]any{"event": string(order.EventBuyerCancelled)}})
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, ToBody(r.Order)), nil
}

// httpErrors map the Store's errors to client errors (httpapi.MapError).
var httpErrors = []httpapi.ErrorCase{
	{Err: ErrOrderNotFound, Status: http.StatusNotFound, Code: CodeOrderNotFound, Message: "order not found"},
	{Err: errNotOwner, Status: http.StatusNotFound, Code: CodeOrderNotFound, Message: "order not found"},
	{Err: order.ErrRejected, Status: http.StatusConflict, Code: CodeOrderNotCancellable, Message: "only an unpaid order can be cancelled"},
	{Err: ErrInvalidCursor, Status: http.StatusBadRequest, Code: CodeInvalidCursor, Message: "the cursor is not valid"},
	{Err: ErrConflict, Status: http.StatusConflict, Code: CodeConflict, Message: "the order changed concurrently; retry"},
}

// ToHTTPError maps the Store's errors to client errors; others stay internal.
func ToHTTPError(err error) error { return httpapi.MapError(err, httpErrors) }

// Transport models.

// MoneyBody is an amount on the wire: integer minor units and an ISO 4217 code.
type MoneyBody struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

// MoneyOf converts an amount to its wire form.
func MoneyOf(m money.Money) MoneyBody { return MoneyBody{Amount: m.Amount, Currency: m.Currency} }

// LineBody is an order line on the wire.
type LineBody struct {
	ProductID string    `json:"productId"`
	Title     string    `json:"title"`
	Quantity  int64     `json:"quantity"`
	UnitPrice MoneyBody `json:"unitPrice"`
	LineTotal MoneyBody `json:"lineTotal"`
}

// OrderBody is an order as its buyer sees it. The payment URL is shown only while the
// order waits for its payment.
type OrderBody struct {
	OrderID         string     `json:"orderId"`
	Status          string     `json:"status"`
	Lines           []LineBody `json:"lines"`
	Subtotal        MoneyBody  `json:"subtotal"`
	Total           MoneyBody  `json:"total"`
	Refunded        MoneyBody  `json:"refunded"`
	PaymentProvider *string    `json:"paymentProvider"`
	PaymentURL      *string    `json:"paymentUrl"`
	Deadline        time.Time  `json:"deadline"`
	NeedsRefund     bool       `json:"needsRefund"`
	CreatedAt       time.Time  `json:"createdAt"`
	UpdatedAt       time.Time  `json:"updatedAt"`
}

type listBody struct {
	Orders     []OrderBody `json:"orders"`
	NextCursor *string     `json:"nextCursor"`
}

// ToBody converts an order to its buyer's view.
func ToBody(o order.Order) OrderBody {
	b := OrderBody{
		OrderID: o.ID, Status: string(o.Status), Lines: make([]LineBody, len(o.Lines)),
		Subtotal: MoneyOf(o.Subtotal), Total: MoneyOf(o.Total),
		Refunded: MoneyBody{Amount: o.Refunded.Amount, Currency: o.Currency},
		Deadline: o.Deadline.UTC(), NeedsRefund: o.NeedsRefund,
		CreatedAt: o.CreatedAt.UTC(), UpdatedAt: o.UpdatedAt.UTC(),
	}
	for i, l := range o.Lines {
		total, _ := l.LineTotal() // Validate bounds prices and quantities
		b.Lines[i] = LineBody{ProductID: l.ProductID, Title: l.Title, Quantity: l.Quantity, UnitPrice: MoneyOf(l.UnitPrice), LineTotal: MoneyOf(total)}
	}
	if o.PaymentProvider != "" {
		p := o.PaymentProvider
		b.PaymentProvider = &p
	}
	if o.Status == order.StatusPendingPayment && o.PaymentURL != "" {
		u := o.PaymentURL
		b.PaymentURL = &u
	}
	return b
}
