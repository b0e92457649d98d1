package promotion

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/etalase/etalase/shared/platform/httpapi"
	"github.com/etalase/etalase/shared/social/commission"
)

// Route keys of SocialPromotionFunction, exactly as template.yaml declares them.
const (
	RouteCreatePromotion = "POST /social/v1/promotions"
	RouteGetPromotion    = "GET /social/v1/promotions/{promotionId}"
	RouteUpdatePromotion = "PATCH /social/v1/promotions/{promotionId}"
	RouteHandoff         = "POST /social/v1/promotions/{promotionId}/handoff"
	RouteFeed            = "GET /social/v1/feed"
	RouteListOwn         = "GET /social/v1/creator/promotions"
	RouteCreatorEarnings = "GET /social/v1/creators/{creatorId}/earnings"
)

// ScopeCreator is the OAuth scope of every creator route.
const ScopeCreator = "creator"

// The commerce cart routes a hand-off token is presented to, on the same origin (the
// CDN routes /commerce/* to commerce), and the body field that carries it. Social only
// names them; it has no permission there.
const (
	CommerceAddToCart      = "/commerce/v1/cart/items"
	CommerceGuestAddToCart = "/commerce/v1/guest-cart/items"
	CommerceTokenField     = "handoffToken"
)

// maxBody is the request body limit of every promotion route.
const maxBody = httpapi.DefaultMaxBody

// Error codes this package adds to httpapi's.
const (
	CodePromotionNotFound  = "promotion_not_found"
	CodeProductNotFound    = "product_not_found"
	CodeProductUnavailable = "product_unavailable"
	CodePromotionNotLive   = "promotion_not_live"
	CodePromotionEnded     = "promotion_ended"
	CodeCreatorNotFound    = "creator_not_found"
	CodeConflict           = "conflict"
)

// Handler serves the promotion function's HTTP API.
type Handler struct {
	svc    *Service
	router *httpapi.Router
	now    func() time.Time
}

// route is one entry of the route table: its key, the scope it requires ("" for a
// public route) and its handler.
type route struct {
	key   string
	scope string
	serve httpapi.ScopedHandlerFunc
}

// NewHandler returns the handler of every promotion route.
func NewHandler(svc *Service, log *slog.Logger) *Handler {
	h := &Handler{svc: svc, router: httpapi.NewRouter(log), now: time.Now}
	if svc != nil {
		h.now = svc.now
	}
	for _, r := range h.routes() {
		h.router.Route(r.key, httpapi.Scoped(r.scope, toHTTPError, r.serve))
	}
	return h
}

func (h *Handler) routes() []route {
	return []route{
		{RouteCreatePromotion, ScopeCreator, h.create},
		{RouteGetPromotion, "", h.get},
		{RouteUpdatePromotion, ScopeCreator, h.update},
		{RouteHandoff, "", h.handoff},
		{RouteFeed, "", h.feed},
		{RouteListOwn, ScopeCreator, h.listOwn},
		{RouteCreatorEarnings, ScopeCreator, h.earnings},
	}
}

// Handle is the Lambda handler.
func (h *Handler) Handle(ctx context.Context, req httpapi.Request) (httpapi.Response, error) {
	return h.router.Handle(ctx, req)
}

// Transport models.

type priceBody struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

type createRequest struct {
	ProductID     string     `json:"productId"`
	Kind          string     `json:"kind"`
	Caption       string     `json:"caption"`
	MediaURL      string     `json:"mediaUrl"`
	CommissionBps *int       `json:"commissionBps"`
	StartsAt      *time.Time `json:"startsAt"`
	EndsAt        *time.Time `json:"endsAt"`
}

type updateRequest struct {
	Status *string `json:"status"`
}

type productBody struct {
	ProductID string    `json:"productId"`
	Title     string    `json:"title"`
	ImageURL  string    `json:"imageUrl"`
	Price     priceBody `json:"price"`
	InStock   bool      `json:"inStock"`
	Listed    bool      `json:"listed"`
	Available bool      `json:"available"`
}

// promotionBody is the public view.
type promotionBody struct {
	PromotionID string       `json:"promotionId"`
	CreatorID   string       `json:"creatorId"`
	ProductID   string       `json:"productId"`
	Kind        string       `json:"kind"`
	Caption     string       `json:"caption"`
	MediaURL    string       `json:"mediaUrl,omitempty"`
	StartsAt    time.Time    `json:"startsAt"`
	EndsAt      time.Time    `json:"endsAt"`
	Status      string       `json:"status"`
	State       string       `json:"state"`
	CreatedAt   time.Time    `json:"createdAt"`
	Product     *productBody `json:"product,omitempty"`
}

type salesBody struct {
	Count  int64     `json:"count"`
	Units  int64     `json:"units"`
	Amount priceBody `json:"amount"`
}

type earningsBody struct {
	Commission         int64  `json:"commission"`
	ReversedCommission int64  `json:"reversedCommission"`
	Net                int64  `json:"net"`
	Currency           string `json:"currency"`
}

// ownPromotionBody is the creator's view: the public one plus terms and performance.
type ownPromotionBody struct {
	promotionBody
	CommissionBps int          `json:"commissionBps"`
	EndReason     string       `json:"endReason,omitempty"`
	Clicks        int64        `json:"clicks"`
	Sales         salesBody    `json:"sales"`
	Refunds       int64        `json:"refunds"`
	Earnings      earningsBody `json:"earnings"`
	Version       int64        `json:"version"`
	UpdatedAt     time.Time    `json:"updatedAt"`
}

type listBody[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"nextCursor,omitempty"`
}

type endpointBody struct {
	Method string `json:"method"`
	Path   string `json:"path"`
	// TokenField names the JSON body field the token goes in.
	TokenField string `json:"tokenField"`
}

type handoffBody struct {
	Token          string    `json:"token"`
	ExpiresAt      time.Time `json:"expiresAt"`
	PromotionID    string    `json:"promotionId"`
	CreatorID      string    `json:"creatorId"`
	ProductID      string    `json:"productId"`
	DisplayedPrice priceBody `json:"displayedPrice"`
	Commerce       struct {
		AddToCart      endpointBody `json:"addToCart"`
		GuestAddToCart endpointBody `json:"guestAddToCart"`
	} `json:"commerce"`
}

type currencyEarningsBody struct {
	Currency           string `json:"currency"`
	Sales              int64  `json:"sales"`
	Units              int64  `json:"units"`
	SalesAmount        int64  `json:"salesAmount"`
	Commission         int64  `json:"commission"`
	Refunds            int64  `json:"refunds"`
	ReversedAmount     int64  `json:"reversedAmount"`
	ReversedCommission int64  `json:"reversedCommission"`
	Net                int64  `json:"net"`
}

type creatorEarningsBody struct {
	CreatorID string                 `json:"creatorId"`
	Earnings  []currencyEarningsBody `json:"earnings"`
}

func toPublic(v View, now time.Time) promotionBody {
	p := v.Promotion
	b := promotionBody{
		PromotionID: p.ID, CreatorID: p.CreatorID, ProductID: p.ProductID, Kind: string(p.Kind),
		Caption: p.Caption, MediaURL: p.MediaURL, StartsAt: p.StartsAt.UTC(), EndsAt: p.EndsAt.UTC(),
		Status: string(p.Status), State: string(p.StateAt(now)), CreatedAt: p.CreatedAt.UTC(),
	}
	if v.HasProduct {
		s := v.Product
		b.Product = &productBody{
			ProductID: s.ProductID, Title: s.Title, ImageURL: s.ImageURL,
			Price:   priceBody{Amount: s.Price.Amount, Currency: s.Price.Currency},
			InStock: s.InStock, Listed: s.Listed, Available: s.Available(),
		}
	}
	return b
}

func toOwn(v CreatorView, now time.Time) ownPromotionBody {
	p, t := v.Promotion, v.Stats
	return ownPromotionBody{
		promotionBody: toPublic(v.View, now),
		CommissionBps: p.CommissionBps, EndReason: p.EndReason, Clicks: p.Clicks,
		Sales:   salesBody{Count: t.Sales, Units: t.Units, Amount: priceBody{Amount: t.SalesAmount, Currency: p.Currency}},
		Refunds: t.Reversals,
		Earnings: earningsBody{
			Commission: t.Commission, ReversedCommission: t.ReversedCommission, Net: t.Net(), Currency: p.Currency,
		},
		Version: p.Version, UpdatedAt: p.UpdatedAt.UTC(),
	}
}

// Route handlers.

func (h *Handler) create(ctx context.Context, req httpapi.Request, caller httpapi.Principal) (httpapi.Response, error) {
	var body createRequest
	if err := httpapi.DecodeJSON(req, &body, maxBody); err != nil {
		return httpapi.Response{}, err
	}
	in := NewPromotion{ProductID: body.ProductID, Kind: Kind(body.Kind), Caption: body.Caption, MediaURL: body.MediaURL}
	if body.CommissionBps != nil {
		in.CommissionBps = *body.CommissionBps
	} // else 0 fails validation as out of bounds, with any other problem
	if body.StartsAt != nil {
		in.StartsAt = *body.StartsAt
	}
	if body.EndsAt != nil {
		in.EndsAt = *body.EndsAt
	}
	p, err := h.svc.Create(ctx, caller.Subject, in)
	if err != nil {
		return httpapi.Response{}, err
	}
	v, err := h.svc.creatorView(ctx, p)
	if err != nil {
		return httpapi.Response{}, err
	}
	resp := httpapi.JSON(http.StatusCreated, toOwn(v, h.now()))
	resp.Headers["Location"] = "/social/v1/promotions/" + p.ID
	return resp, nil
}

func (h *Handler) get(ctx context.Context, req httpapi.Request, _ httpapi.Principal) (httpapi.Response, error) {
	v, err := h.svc.Get(ctx, req.PathParameters["promotionId"])
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, toPublic(v, h.now())), nil
}

func (h *Handler) update(ctx context.Context, req httpapi.Request, caller httpapi.Principal) (httpapi.Response, error) {
	var body updateRequest
	if err := httpapi.DecodeJSON(req, &body, maxBody); err != nil {
		return httpapi.Response{}, err
	}
	if body.Status == nil {
		return httpapi.Response{}, httpapi.ValidationFailed(httpapi.FieldError{Field: "status", Message: "is required: one of ACTIVE, PAUSED, ENDED"})
	}
	v, err := h.svc.SetStatus(ctx, caller.Subject, req.PathParameters["promotionId"], Status(*body.Status))
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, toOwn(v, h.now())), nil
}

func (h *Handler) handoff(ctx context.Context, req httpapi.Request, _ httpapi.Principal) (httpapi.Response, error) {
	ho, err := h.svc.Handoff(ctx, req.PathParameters["promotionId"])
	if err != nil {
		return httpapi.Response{}, err
	}
	c := ho.Claims
	b := handoffBody{
		Token: ho.Token, ExpiresAt: ho.ExpiresAt.UTC(),
		PromotionID: c.PromotionID, CreatorID: c.CreatorID, ProductID: c.ProductID,
		DisplayedPrice: priceBody{Amount: c.DisplayedPrice.Amount, Currency: c.DisplayedPrice.Currency},
	}
	b.Commerce.AddToCart = endpointBody{Method: http.MethodPost, Path: CommerceAddToCart, TokenField: CommerceTokenField}
	b.Commerce.GuestAddToCart = endpointBody{Method: http.MethodPost, Path: CommerceGuestAddToCart, TokenField: CommerceTokenField}
	return httpapi.JSON(http.StatusOK, b), nil
}

func (h *Handler) feed(ctx context.Context, req httpapi.Request, _ httpapi.Principal) (httpapi.Response, error) {
	limit, err := limitParam(req)
	if err != nil {
		return httpapi.Response{}, err
	}
	page, err := h.svc.Feed(ctx, limit, req.QueryStringParameters["cursor"])
	if err != nil {
		return httpapi.Response{}, err
	}
	now := h.now()
	out := listBody[promotionBody]{Items: make([]promotionBody, len(page.Items)), NextCursor: page.NextCursor}
	for i, v := range page.Items {
		out.Items[i] = toPublic(v, now)
	}
	return httpapi.JSON(http.StatusOK, out), nil
}

func (h *Handler) listOwn(ctx context.Context, req httpapi.Request, caller httpapi.Principal) (httpapi.Response, error) {
	limit, err := limitParam(req)
	if err != nil {
		return httpapi.Response{}, err
	}
	page, err := h.svc.ListByCreator(ctx, caller.Subject, limit, req.QueryStringParameters["cursor"])
	if err != nil {
		return httpapi.Response{}, err
	}
	now := h.now()
	out := listBody[ownPromotionBody]{Items: make([]ownPromotionBody, len(page.Items)), NextCursor: page.NextCursor}
	for i, v := range page.Items {
		out.Items[i] = toOwn(v, now)
	}
	return httpapi.JSON(http.StatusOK, out), nil
}

func (h *Handler) earnings(ctx context.Context, req httpapi.Request, caller httpapi.Principal) (httpapi.Response, error) {
	creatorID := req.PathParameters["creatorId"]
	es, err := h.svc.Earnings(ctx, caller.Subject, creatorID)
	if err != nil {
		return httpapi.Response{}, err
	}
	out := creatorEarningsBody{CreatorID: creatorID, Earnings: make([]currencyEarningsBody, len(es))}
	for i, e := range es {
		out.Earnings[i] = earningsOf(e)
	}
	return httpapi.JSON(http.StatusOK, out), nil
}

func earningsOf(e commission.Earnings) currencyEarningsBody {
	return currencyEarningsBody{
		Currency: e.Currency, Sales: e.Sales, Units: e.Units, SalesAmount: e.SalesAmount, Commission: e.Commission,
		Refunds: e.Reversals, ReversedAmount: e.ReversedAmount, ReversedCommission: e.ReversedCommission, Net: e.Net(),
	}
}

// limitParam reads the optional limit query parameter.
func limitParam(req httpapi.Request) (int, error) {
	raw, ok := req.QueryStringParameters["limit"]
	if !ok {
		return 0, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > MaxPageSize {
		return 0, httpapi.ValidationFailed(httpapi.FieldError{
			Field: "limit", Message: "must be an integer between 1 and " + strconv.Itoa(MaxPageSize),
		})
	}
	return n, nil
}

// httpErrors map the service's errors to client errors (httpapi.MapError); anything
// else becomes a 500 "internal" in httpapi.ErrorResponse.
var httpErrors = []httpapi.ErrorCase{
	{Err: ErrNotFound, Status: http.StatusNotFound, Code: CodePromotionNotFound, Message: "promotion not found"},
	{Err: ErrCreatorNotFound, Status: http.StatusNotFound, Code: CodeCreatorNotFound, Message: "creator not found"},
	{Err: ErrProductNotFound, Status: http.StatusNotFound, Code: CodeProductNotFound, Message: "product not found"},
	{Err: ErrProductUnavailable, Status: http.StatusConflict, Code: CodeProductUnavailable, Message: "the product is delisted or out of stock"},
	{Err: ErrNotLive, Status: http.StatusConflict, Code: CodePromotionNotLive, Message: "the promotion is not live"},
	{Err: ErrEnded, Status: http.StatusConflict, Code: CodePromotionEnded, Message: "the promotion has ended and cannot change"},
	{Err: ErrConflict, Status: http.StatusConflict, Code: CodeConflict, Message: "the promotion was changed concurrently; retry"},
}

func toHTTPError(err error) error { return httpapi.MapError(err, httpErrors) }
