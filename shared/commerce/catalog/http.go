package catalog

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/etalase/etalase/shared/commerce/money"
	"github.com/etalase/etalase/shared/commerce/outbox"
	"github.com/etalase/etalase/shared/platform/httpapi"
)

// Route keys of CommerceCatalogFunction, exactly as template.yaml declares them.
const (
	RouteCreateProduct      = "POST /commerce/v1/products"
	RouteGetProduct         = "GET /commerce/v1/products/{productId}"
	RouteUpdateProduct      = "PATCH /commerce/v1/products/{productId}"
	RouteSetStock           = "PUT /commerce/v1/products/{productId}/stock"
	RouteAdjustStock        = "POST /commerce/v1/products/{productId}/stock/adjustments"
	RouteDelistProduct      = "DELETE /commerce/v1/products/{productId}"
	RouteListSellerProducts = "GET /commerce/v1/seller/products"
)

// ScopeSeller is the OAuth scope of every seller route.
const ScopeSeller = "seller"

// Error codes this package adds to httpapi's.
const (
	CodeProductNotFound   = "product_not_found"
	CodeInsufficientStock = "insufficient_stock"
	CodeProductDelisted   = "product_delisted"
	CodeConflict          = "conflict"
)

// maxBody is the request body limit of every catalog route.
const maxBody = httpapi.DefaultMaxBody

// Handler serves the catalog's HTTP API.
type Handler struct {
	svc    *Service
	router *httpapi.Router
}

// route is one entry of the route table: its key, the scope it requires ("" for a
// public route) and its handler, which receives the caller when a scope is required.
type route struct {
	key   string
	scope string
	serve httpapi.ScopedHandlerFunc
}

// NewHandler returns the handler of every catalog route.
func NewHandler(svc *Service, log *slog.Logger) *Handler {
	h := &Handler{svc: svc, router: httpapi.NewRouter(log)}
	for _, r := range h.routes() {
		h.router.Route(r.key, httpapi.Scoped(r.scope, toHTTPError, r.serve))
	}
	return h
}

func (h *Handler) routes() []route {
	return []route{
		{RouteCreateProduct, ScopeSeller, h.create},
		{RouteGetProduct, "", h.get},
		{RouteUpdateProduct, ScopeSeller, h.update},
		{RouteSetStock, ScopeSeller, h.setStock},
		{RouteAdjustStock, ScopeSeller, h.adjustStock},
		{RouteDelistProduct, ScopeSeller, h.delist},
		{RouteListSellerProducts, ScopeSeller, h.list},
	}
}

// Handle is the Lambda handler. The request id becomes the correlation id of every
// outbox record the request writes.
func (h *Handler) Handle(ctx context.Context, req httpapi.Request) (httpapi.Response, error) {
	ctx = outbox.WithCorrelationID(ctx, req.RequestContext.RequestID)
	return h.router.Handle(ctx, req)
}

// Transport models.

type priceBody struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

func (p priceBody) toMoney() money.Money { return money.Money{Amount: p.Amount, Currency: p.Currency} }

type createProductRequest struct {
	Title       string     `json:"title"`
	Description string     `json:"description"`
	ImageURL    string     `json:"imageUrl"`
	Price       *priceBody `json:"price"`
	Stock       int64      `json:"stock"`
}

type updateProductRequest struct {
	Title       *string    `json:"title"`
	Description *string    `json:"description"`
	ImageURL    *string    `json:"imageUrl"`
	Price       *priceBody `json:"price"`
}

type setStockRequest struct {
	Stock *int64 `json:"stock"`
}

type adjustStockRequest struct {
	Delta *int64 `json:"delta"`
}

type productResponse struct {
	ProductID   string    `json:"productId"`
	SellerID    string    `json:"sellerId"`
	Title       string    `json:"title"`
	Description string    `json:"description"`
	ImageURL    string    `json:"imageUrl"`
	Price       priceBody `json:"price"`
	Stock       int64     `json:"stock"`
	InStock     bool      `json:"inStock"`
	Status      string    `json:"status"`
	Version     int64     `json:"version"`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
}

type productListResponse struct {
	Items      []productResponse `json:"items"`
	NextCursor string            `json:"nextCursor,omitempty"`
}

func toResponse(p Product) productResponse {
	return productResponse{
		ProductID: p.ID, SellerID: p.SellerID,
		Title: p.Title, Description: p.Description, ImageURL: p.ImageURL,
		Price: priceBody{Amount: p.Price.Amount, Currency: p.Price.Currency},
		Stock: p.Stock, InStock: p.InStock(), Status: string(p.Status), Version: p.Version,
		CreatedAt: p.CreatedAt.UTC(), UpdatedAt: p.UpdatedAt.UTC(),
	}
}

// Route handlers.

func (h *Handler) create(ctx context.Context, req httpapi.Request, caller httpapi.Principal) (httpapi.Response, error) {
	var body createProductRequest
	if err := httpapi.DecodeJSON(req, &body, maxBody); err != nil {
		return httpapi.Response{}, err
	}
	in := NewProduct{Title: body.Title, Description: body.Description, ImageURL: body.ImageURL, Stock: body.Stock}
	if body.Price != nil {
		in.Price = body.Price.toMoney()
	} // else the zero price fails validation as "price: is required", with any other problem
	p, err := h.svc.Create(ctx, caller.Subject, in)
	if err != nil {
		return httpapi.Response{}, err
	}
	resp := httpapi.JSON(http.StatusCreated, toResponse(p))
	resp.Headers["Location"] = "/commerce/v1/products/" + p.ID
	return resp, nil
}

func (h *Handler) get(ctx context.Context, req httpapi.Request, _ httpapi.Principal) (httpapi.Response, error) {
	p, err := h.svc.Get(ctx, req.PathParameters["productId"])
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, toResponse(p)), nil
}

func (h *Handler) update(ctx context.Context, req httpapi.Request, caller httpapi.Principal) (httpapi.Response, error) {
	var body updateProductRequest
	if err := httpapi.DecodeJSON(req, &body, maxBody); err != nil {
		return httpapi.Response{}, err
	}
	c := Changes{Title: body.Title, Description: body.Description, ImageURL: body.ImageURL}
	if body.Price != nil {
		m := body.Price.toMoney()
		c.Price = &m
	}
	p, err := h.svc.Update(ctx, caller.Subject, req.PathParameters["productId"], c)
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, toResponse(p)), nil
}

func (h *Handler) setStock(ctx context.Context, req httpapi.Request, caller httpapi.Principal) (httpapi.Response, error) {
	var body setStockRequest
	if err := httpapi.DecodeJSON(req, &body, maxBody); err != nil {
		return httpapi.Response{}, err
	}
	if body.Stock == nil {
		return httpapi.Response{}, httpapi.ValidationFailed(httpapi.FieldError{Field: "stock", Message: "is required"})
	}
	p, err := h.svc.SetStock(ctx, caller.Subject, req.PathParameters["productId"], *body.Stock)
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, toResponse(p)), nil
}

func (h *Handler) adjustStock(ctx context.Context, req httpapi.Request, caller httpapi.Principal) (httpapi.Response, error) {
	var body adjustStockRequest
	if err := httpapi.DecodeJSON(req, &body, maxBody); err != nil {
		return httpapi.Response{}, err
	}
	if body.Delta == nil {
		return httpapi.Response{}, httpapi.ValidationFailed(httpapi.FieldError{Field: "delta", Message: "is required"})
	}
	p, err := h.svc.AdjustStock(ctx, caller.Subject, req.PathParameters["productId"], *body.Delta)
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, toResponse(p)), nil
}

func (h *Handler) delist(ctx context.Context, req httpapi.Request, caller httpapi.Principal) (httpapi.Response, error) {
	p, err := h.svc.Delist(ctx, caller.Subject, req.PathParameters["productId"])
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, toResponse(p)), nil
}

func (h *Handler) list(ctx context.Context, req httpapi.Request, caller httpapi.Principal) (httpapi.Response, error) {
	limit := 0
	if raw, ok := req.QueryStringParameters["limit"]; ok {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > MaxPageSize {
			return httpapi.Response{}, httpapi.ValidationFailed(httpapi.FieldError{
				Field: "limit", Message: "must be an integer between 1 and " + strconv.Itoa(MaxPageSize),
			})
		}
		limit = n
	}
	page, err := h.svc.ListBySeller(ctx, caller.Subject, limit, req.QueryStringParameters["cursor"])
	if err != nil {
		return httpapi.Response{}, err
	}
	out := productListResponse{Items: make([]productResponse, len(page.Products)), NextCursor: page.NextCursor}
	for i, p := range page.Products {
		out.Items[i] = toResponse(p)
	}
	return httpapi.JSON(http.StatusOK, out), nil
}

// httpErrors map the catalog's errors to client errors (httpapi.MapError); anything
// else becomes a 500 "internal" in httpapi.ErrorResponse.
var httpErrors = []httpapi.ErrorCase{
	{Err: ErrNotFound, Status: http.StatusNotFound, Code: CodeProductNotFound, Message: "product not found"},
	{Err: ErrInsufficientStock, Status: http.StatusConflict, Code: CodeInsufficientStock, Message: "not enough stock for this adjustment"},
	{Err: ErrDelisted, Status: http.StatusConflict, Code: CodeProductDelisted, Message: "the product is delisted and cannot be changed"},
	{Err: ErrConflict, Status: http.StatusConflict, Code: CodeConflict, Message: "the product was changed concurrently; retry"},
}

func toHTTPError(err error) error { return httpapi.MapError(err, httpErrors) }
