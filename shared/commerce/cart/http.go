package cart

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/etalase/etalase/shared/commerce/money"
	"github.com/etalase/etalase/shared/contract"
	"github.com/etalase/etalase/shared/platform/httpapi"
)

// Route keys of CommerceCartFunction, exactly as template.yaml declares them.
const (
	RouteGetCart          = "GET /commerce/v1/cart"
	RouteAddItem          = "POST /commerce/v1/cart/items"
	RouteSetQuantity      = "PATCH /commerce/v1/cart/items/{productId}"
	RouteRemoveItem       = "DELETE /commerce/v1/cart/items/{productId}"
	RouteMerge            = "POST /commerce/v1/cart/merge"
	RouteGetGuestCart     = "GET /commerce/v1/guest-cart"
	RouteAddGuestItem     = "POST /commerce/v1/guest-cart/items"
	RouteSetGuestQuantity = "PATCH /commerce/v1/guest-cart/items/{productId}"
	RouteRemoveGuestItem  = "DELETE /commerce/v1/guest-cart/items/{productId}"
)

// ScopeBuyer is the OAuth scope of every buyer route.
const ScopeBuyer = "buyer"

// How a guest cart's id travels: a cookie for browsers, a header for apps. Requests
// may carry either; the header wins if both are present.
const (
	CookieName   = "etalase_cart"
	HeaderCartID = "X-Cart-Id"
	// cookieAttributes scope the cookie to the commerce API, keep it from scripts and
	// plain HTTP, and send it on top-level navigations but not cross-site requests.
	cookieAttributes = "; Path=/commerce; HttpOnly; Secure; SameSite=Lax"
)

// Error codes this package adds to httpapi's.
const (
	CodeHandoffMalformed      = "handoff_malformed"
	CodeHandoffBadSignature   = "handoff_bad_signature"
	CodeHandoffWrongAlgorithm = "handoff_wrong_algorithm"
	CodeHandoffWrongIssuer    = "handoff_wrong_issuer"
	CodeHandoffWrongAudience  = "handoff_wrong_audience"
	CodeHandoffExpired        = "handoff_expired"
	CodeHandoffNotYetValid    = "handoff_not_yet_valid"
	CodeProductNotFound       = ReasonProductNotFound
	CodeProductDelisted       = ReasonDelisted
	CodeOutOfStock            = ReasonOutOfStock
	CodeQuantityOutOfRange    = "quantity_out_of_range"
	CodeCartFull              = "cart_full"
	CodeCurrencyMismatch      = ReasonCurrencyMismatch
	CodeCartNotFound          = "cart_not_found"
	CodeLineNotFound          = "line_not_found"
	CodeConflict              = "conflict"
)

// maxBody is the request body limit of every cart route: a token and two fields.
const maxBody = 8 << 10

// Handler serves the cart's HTTP API.
type Handler struct {
	svc    *Service
	router *httpapi.Router
}

// route is one entry of the route table: its key, the cart it acts on (a buyer's,
// which needs ScopeBuyer, or a guest's, which is public) and its handler.
type route struct {
	key   string
	kind  Kind
	serve func(ctx context.Context, req httpapi.Request, o Owner) (httpapi.Response, error)
}

// NewHandler returns the handler of every cart route.
func NewHandler(svc *Service, log *slog.Logger) *Handler {
	h := &Handler{svc: svc, router: httpapi.NewRouter(log)}
	for _, r := range h.routes() {
		h.router.Route(r.key, func(ctx context.Context, req httpapi.Request) (httpapi.Response, error) {
			var o Owner
			if r.kind == KindBuyer {
				p, err := httpapi.RequireScope(req, ScopeBuyer)
				if err != nil {
					return httpapi.Response{}, err
				}
				o = Buyer(p.Subject)
			} else {
				o = Guest(GuestID(req))
			}
			resp, err := r.serve(ctx, req, o)
			if err != nil {
				return httpapi.Response{}, toHTTPError(err)
			}
			return resp, nil
		})
	}
	return h
}

func (h *Handler) routes() []route {
	return []route{
		{RouteGetCart, KindBuyer, h.get},
		{RouteAddItem, KindBuyer, h.add},
		{RouteSetQuantity, KindBuyer, h.setQuantity},
		{RouteRemoveItem, KindBuyer, h.remove},
		{RouteMerge, KindBuyer, h.merge},
		{RouteGetGuestCart, KindGuest, h.get},
		{RouteAddGuestItem, KindGuest, h.add},
		{RouteSetGuestQuantity, KindGuest, h.setQuantity},
		{RouteRemoveGuestItem, KindGuest, h.remove},
	}
}

// Handle is the Lambda handler.
func (h *Handler) Handle(ctx context.Context, req httpapi.Request) (httpapi.Response, error) {
	return h.router.Handle(ctx, req)
}

// GuestID returns the guest cart id a request carries in the X-Cart-Id header or the
// etalase_cart cookie, or "".
func GuestID(req httpapi.Request) string {
	if id := strings.TrimSpace(httpapi.Header(req, HeaderCartID)); id != "" {
		return id
	}
	lines := append([]string{}, req.Cookies...)
	if h := httpapi.Header(req, "Cookie"); h != "" {
		lines = append(lines, h)
	}
	for _, line := range lines {
		cookies, err := http.ParseCookie(line)
		if err != nil {
			continue
		}
		for _, c := range cookies {
			if c.Name == CookieName && c.Value != "" {
				return c.Value
			}
		}
	}
	return ""
}

// guestCookie sets the guest cart cookie for the cart's lifetime.
func guestCookie(id string) string {
	return CookieName + "=" + id + cookieAttributes + "; Max-Age=" + strconv.Itoa(int(GuestTTL/time.Second))
}

// clearGuestCookie removes the guest cart cookie.
func clearGuestCookie() string { return CookieName + "=" + cookieAttributes + "; Max-Age=0" }

// withGuest adds the guest cart's id to a response of a write: the cookie (refreshed
// with every write, as the cart's TTL is) and the header.
func withGuest(resp httpapi.Response, o Owner) httpapi.Response {
	if o.Kind != KindGuest {
		return resp
	}
	resp.Cookies = append(resp.Cookies, guestCookie(o.ID))
	resp.Headers[HeaderCartID] = o.ID
	return resp
}

// Transport models.

type moneyBody struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

func moneyOf(m money.Money) moneyBody { return moneyBody{Amount: m.Amount, Currency: m.Currency} }

type addItemRequest struct {
	HandoffToken *string `json:"handoffToken"`
	ProductID    *string `json:"productId"`
	Quantity     *int    `json:"quantity"`
}

type setQuantityRequest struct {
	Quantity *int `json:"quantity"`
}

type attributionBody struct {
	PromotionID    string    `json:"promotionId"`
	CreatorID      string    `json:"creatorId"`
	DisplayedPrice moneyBody `json:"displayedPrice"`
	AttributedAt   time.Time `json:"attributedAt"`
}

type lineBody struct {
	ProductID         string           `json:"productId"`
	Title             string           `json:"title"`
	ImageURL          string           `json:"imageUrl"`
	Quantity          int              `json:"quantity"`
	UnitPrice         *moneyBody       `json:"unitPrice"`
	LineTotal         *moneyBody       `json:"lineTotal"`
	Available         bool             `json:"available"`
	UnavailableReason string           `json:"unavailableReason,omitempty"`
	PriceChanged      bool             `json:"priceChanged"`
	Attribution       *attributionBody `json:"attribution"`
	AddedAt           time.Time        `json:"addedAt"`
	UpdatedAt         time.Time        `json:"updatedAt"`
}

type cartBody struct {
	Kind      string     `json:"kind"`
	Currency  string     `json:"currency,omitempty"`
	Lines     []lineBody `json:"lines"`
	Total     *moneyBody `json:"total"`
	LineCount int        `json:"lineCount"`
	ItemCount int        `json:"itemCount"`
	Version   int64      `json:"version"`
	ExpiresAt *time.Time `json:"expiresAt,omitempty"`
}

type summaryBody struct {
	Kind      string     `json:"kind"`
	Currency  string     `json:"currency,omitempty"`
	LineCount int        `json:"lineCount"`
	ItemCount int        `json:"itemCount"`
	Version   int64      `json:"version"`
	ExpiresAt *time.Time `json:"expiresAt,omitempty"`
}

type lineResponse struct {
	Line lineBody    `json:"line"`
	Cart summaryBody `json:"cart"`
}

type mergeResponse struct {
	Cart          summaryBody `json:"cart"`
	MergedLines   int         `json:"mergedLines"`
	AlreadyMerged bool        `json:"alreadyMerged"`
}

func toLineBody(l PricedLine) lineBody {
	b := lineBody{
		ProductID: l.ProductID, Title: l.Title, ImageURL: l.ImageURL, Quantity: l.Quantity,
		Available: l.Available, UnavailableReason: l.Reason, PriceChanged: l.PriceChanged,
		AddedAt: l.AddedAt.UTC(), UpdatedAt: l.UpdatedAt.UTC(),
	}
	if l.UnitPrice.Currency != "" {
		u, t := moneyOf(l.UnitPrice), moneyOf(l.LineTotal)
		b.UnitPrice, b.LineTotal = &u, &t
	}
	if a := l.Attribution; a != nil {
		b.Attribution = &attributionBody{
			PromotionID: a.PromotionID, CreatorID: a.CreatorID,
			DisplayedPrice: moneyOf(a.DisplayedPrice), AttributedAt: a.AttributedAt.UTC(),
		}
	}
	return b
}

func expiry(version int64, t time.Time) *time.Time {
	if version == 0 || t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func toSummaryBody(s Summary) summaryBody {
	return summaryBody{
		Kind: string(s.Owner.Kind), Currency: s.Currency, LineCount: s.LineCount, ItemCount: s.ItemCount,
		Version: s.Version, ExpiresAt: expiry(s.Version, s.ExpiresAt),
	}
}

func toCartBody(p PricedCart) cartBody {
	c := p.Cart
	b := cartBody{
		Kind: string(c.Owner.Kind), Currency: c.Currency, Lines: make([]lineBody, len(p.Lines)),
		LineCount: len(c.Lines), ItemCount: c.ItemCount(), Version: c.Version,
		ExpiresAt: expiry(c.Version, c.ExpiresAt),
	}
	for i, l := range p.Lines {
		b.Lines[i] = toLineBody(l)
	}
	if p.Total.Currency != "" {
		t := moneyOf(p.Total)
		b.Total = &t
	}
	return b
}

// Route handlers.

func (h *Handler) get(ctx context.Context, _ httpapi.Request, o Owner) (httpapi.Response, error) {
	p, err := h.svc.Get(ctx, o)
	if err != nil {
		return httpapi.Response{}, err
	}
	return httpapi.JSON(http.StatusOK, toCartBody(p)), nil
}

func (h *Handler) add(ctx context.Context, req httpapi.Request, o Owner) (httpapi.Response, error) {
	var body addItemRequest
	if err := httpapi.DecodeJSON(req, &body, maxBody); err != nil {
		return httpapi.Response{}, err
	}
	in := AddInput{Quantity: 1}
	var bad []httpapi.FieldError
	switch {
	case body.HandoffToken != nil && body.ProductID != nil:
		bad = append(bad, httpapi.FieldError{Message: "give either handoffToken or productId, not both"})
	case body.HandoffToken != nil:
		if in.HandoffToken = strings.TrimSpace(*body.HandoffToken); in.HandoffToken == "" {
			bad = append(bad, httpapi.FieldError{Field: "handoffToken", Message: "must not be empty"})
		}
	case body.ProductID != nil:
		if in.ProductID = strings.TrimSpace(*body.ProductID); in.ProductID == "" {
			bad = append(bad, httpapi.FieldError{Field: "productId", Message: "must not be empty"})
		}
	default:
		bad = append(bad, httpapi.FieldError{Message: "one of handoffToken or productId is required"})
	}
	if len(bad) > 0 {
		return httpapi.Response{}, httpapi.ValidationFailed(bad...)
	}
	if body.Quantity != nil {
		in.Quantity = *body.Quantity
	}
	res, err := h.svc.Add(ctx, o, in)
	if err != nil {
		return httpapi.Response{}, err
	}
	status := http.StatusOK
	if res.NewLine {
		status = http.StatusCreated
	}
	resp := httpapi.JSON(status, lineResponse{Line: toLineBody(res.Line), Cart: toSummaryBody(res.Cart)})
	return withGuest(resp, res.Cart.Owner), nil
}

func (h *Handler) setQuantity(ctx context.Context, req httpapi.Request, o Owner) (httpapi.Response, error) {
	var body setQuantityRequest
	if err := httpapi.DecodeJSON(req, &body, maxBody); err != nil {
		return httpapi.Response{}, err
	}
	if body.Quantity == nil {
		return httpapi.Response{}, httpapi.ValidationFailed(httpapi.FieldError{Field: "quantity", Message: "is required"})
	}
	res, err := h.svc.SetQuantity(ctx, o, req.PathParameters["productId"], *body.Quantity)
	if err != nil {
		return httpapi.Response{}, err
	}
	resp := httpapi.JSON(http.StatusOK, lineResponse{Line: toLineBody(res.Line), Cart: toSummaryBody(res.Cart)})
	return withGuest(resp, res.Cart.Owner), nil
}

func (h *Handler) remove(ctx context.Context, req httpapi.Request, o Owner) (httpapi.Response, error) {
	s, err := h.svc.Remove(ctx, o, req.PathParameters["productId"])
	if err != nil {
		return httpapi.Response{}, err
	}
	return withGuest(httpapi.JSON(http.StatusOK, toSummaryBody(s)), s.Owner), nil
}

func (h *Handler) merge(ctx context.Context, req httpapi.Request, o Owner) (httpapi.Response, error) {
	guestID := GuestID(req)
	if guestID == "" {
		return httpapi.Response{}, &httpapi.Error{
			Status: http.StatusNotFound, Code: CodeCartNotFound,
			Message: "no guest cart named: send its id in the etalase_cart cookie or the X-Cart-Id header",
		}
	}
	res, err := h.svc.Merge(ctx, o.ID, guestID)
	if err != nil {
		return httpapi.Response{}, err
	}
	resp := httpapi.JSON(http.StatusOK, mergeResponse{
		Cart: toSummaryBody(res.Cart), MergedLines: res.MergedLines, AlreadyMerged: res.AlreadyMerged,
	})
	resp.Cookies = append(resp.Cookies, clearGuestCookie())
	return resp, nil
}

// httpErrors maps each sentinel to its client error, in the order they are checked.
var httpErrors = []httpapi.ErrorCase{
	{Err: contract.ErrHandoffMalformed, Status: http.StatusBadRequest, Code: CodeHandoffMalformed, Message: "the hand-off token is not a well-formed token"},
	{Err: contract.ErrHandoffClaims, Status: http.StatusBadRequest, Code: CodeHandoffMalformed, Message: "the hand-off token's claims are incomplete or invalid"},
	{Err: contract.ErrHandoffAlgorithm, Status: http.StatusForbidden, Code: CodeHandoffWrongAlgorithm, Message: "the hand-off token must be signed with EdDSA"},
	{Err: contract.ErrHandoffSignature, Status: http.StatusForbidden, Code: CodeHandoffBadSignature, Message: "the hand-off token's signature is not valid"},
	{Err: contract.ErrHandoffIssuer, Status: http.StatusForbidden, Code: CodeHandoffWrongIssuer, Message: "the hand-off token was not issued by the social account"},
	{Err: contract.ErrHandoffAudience, Status: http.StatusForbidden, Code: CodeHandoffWrongAudience, Message: "the hand-off token is not meant for commerce"},
	{Err: contract.ErrHandoffExpired, Status: http.StatusUnprocessableEntity, Code: CodeHandoffExpired, Message: "the hand-off token has expired; go back to the promotion and try again"},
	{Err: contract.ErrHandoffNotYetValid, Status: http.StatusUnprocessableEntity, Code: CodeHandoffNotYetValid, Message: "the hand-off token is not valid yet"},
	{Err: ErrProductNotFound, Status: http.StatusNotFound, Code: CodeProductNotFound, Message: "product not found"},
	{Err: ErrDelisted, Status: http.StatusConflict, Code: CodeProductDelisted, Message: "the product is no longer on sale"},
	{Err: ErrOutOfStock, Status: http.StatusConflict, Code: CodeOutOfStock, Message: "the product does not have enough stock"},
	{Err: ErrQuantity, Status: http.StatusBadRequest, Code: CodeQuantityOutOfRange, Message: "quantity must be between 1 and 99"},
	{Err: ErrQuantityLimit, Status: http.StatusConflict, Code: CodeQuantityOutOfRange, Message: "a line holds at most 99 units"},
	{Err: ErrCartFull, Status: http.StatusConflict, Code: CodeCartFull, Message: "a cart holds at most 50 different products"},
	{Err: ErrCurrencyMismatch, Status: http.StatusConflict, Code: CodeCurrencyMismatch, Message: "a cart holds products of one currency only"},
	{Err: ErrCartNotFound, Status: http.StatusNotFound, Code: CodeCartNotFound, Message: "cart not found"},
	{Err: ErrLineNotFound, Status: http.StatusNotFound, Code: CodeLineNotFound, Message: "the cart has no line for this product"},
	{Err: ErrConflict, Status: http.StatusConflict, Code: CodeConflict, Message: "the cart was changed concurrently; retry"},
}

// toHTTPError maps the cart's and the contract's errors to client errors; anything
// else becomes a 500 "internal" in httpapi.ErrorResponse.
func toHTTPError(err error) error { return httpapi.MapError(err, httpErrors) }
