// Package xendit is commerce's adapter for Xendit invoices: creating an invoice (the
// hosted payment page), the invoice callback (webhook) and getting an invoice for
// reconciliation, in Xendit's documented wire format (Invoice API v2).
//
// API calls authenticate with HTTP Basic auth, the secret API key as user name and an
// empty password. Callbacks are authenticated by the x-callback-token header, which
// must equal the account's webhook verification token; it is compared in constant time.
// Amounts are JSON numbers on the wire, read and written here as exact decimals.
package xendit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/etalase/etalase/shared/commerce/money"
	"github.com/etalase/etalase/shared/commerce/payment"
)

// Name is the provider's name in notifications and webhook routes.
const Name = "xendit"

// BaseURL is Xendit's API host; test and live mode differ by key, not by host.
const BaseURL = "https://api.xendit.co"

// DefaultTimeout bounds one API call when Config.HTTPClient is nil.
const DefaultTimeout = 8 * time.Second

// Invoice statuses (InvoiceStatus).
const (
	StatusPending = "PENDING"
	StatusPaid    = "PAID"
	StatusSettled = "SETTLED"
	StatusExpired = "EXPIRED"
)

// Config configures a Client. VerifyAndParse needs only CallbackToken; CreateSession
// and Status need SecretKey and BaseURL.
type Config struct {
	// SecretKey is the secret API key.
	SecretKey string
	// CallbackToken is the webhook verification token from the Xendit dashboard, the
	// value every callback carries in x-callback-token.
	CallbackToken string
	// BaseURL is the API host: BaseURL, or locally
	// "http://127.0.0.1:3000/_local/pay/xendit". Invoices are {BaseURL}/v2/invoices.
	BaseURL string
	// HTTPClient makes the API calls; nil means a client with DefaultTimeout.
	HTTPClient *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Client is the Xendit provider. It is safe for concurrent use.
type Client struct {
	secretKey, callbackToken string
	base                     string
	http                     *http.Client
	now                      func() time.Time
}

var _ payment.Provider = (*Client)(nil)

// New returns a Client for cfg.
func New(cfg Config) (*Client, error) {
	if cfg.SecretKey == "" && cfg.CallbackToken == "" {
		return nil, errors.New("xendit: neither a secret key nor a callback token")
	}
	c := &Client{secretKey: cfg.SecretKey, callbackToken: cfg.CallbackToken, http: cfg.HTTPClient, now: cfg.Now}
	if cfg.BaseURL != "" {
		u, err := url.Parse(cfg.BaseURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			return nil, errors.New("xendit: BaseURL must be an http(s) URL without credentials or query")
		}
		c.base = strings.TrimSuffix(cfg.BaseURL, "/")
	}
	if c.http == nil {
		c.http = &http.Client{Timeout: DefaultTimeout}
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// Name returns "xendit".
func (c *Client) Name() string { return Name }

// invoiceRequest is the body of POST /v2/invoices.
type invoiceRequest struct {
	ExternalID         string            `json:"external_id"`
	Amount             json.Number       `json:"amount"`
	Currency           string            `json:"currency"`
	Description        string            `json:"description"`
	InvoiceDuration    int64             `json:"invoice_duration,omitempty"` // seconds
	SuccessRedirectURL string            `json:"success_redirect_url,omitempty"`
	FailureRedirectURL string            `json:"failure_redirect_url,omitempty"`
	Items              []invoiceItem     `json:"items,omitempty"`
	Metadata           map[string]string `json:"metadata,omitempty"`
}

type invoiceItem struct {
	Name        string      `json:"name"`
	Quantity    int64       `json:"quantity"`
	Price       json.Number `json:"price"`
	ReferenceID string      `json:"reference_id,omitempty"`
}

// invoice is Xendit's invoice object, and (with the same names) the invoice callback.
// Only the fields commerce reads are here; Raw keeps the rest.
type invoice struct {
	ID          string      `json:"id"`
	ExternalID  string      `json:"external_id"`
	Status      string      `json:"status"`
	Amount      json.Number `json:"amount"`
	PaidAmount  json.Number `json:"paid_amount"`
	Currency    string      `json:"currency"`
	InvoiceURL  string      `json:"invoice_url"`
	ExpiryDate  string      `json:"expiry_date"`
	PaidAt      string      `json:"paid_at"`
	Created     string      `json:"created"`
	Updated     string      `json:"updated"`
	Description string      `json:"description"`
}

// apiError is Xendit's error body.
type apiError struct {
	ErrorCode string `json:"error_code"`
	Message   string `json:"message"`
}

// CreateSession creates an invoice for the order and returns its page. The invoice's
// duration ends at or before req.ExpiresAt (whole seconds, rounded down).
func (c *Client) CreateSession(ctx context.Context, req payment.SessionRequest) (payment.Session, error) {
	if err := req.Validate(); err != nil {
		return payment.Session{}, fmt.Errorf("xendit: %w", err)
	}
	if err := c.apiReady(); err != nil {
		return payment.Session{}, err
	}
	amount, err := number(req.Amount)
	if err != nil {
		return payment.Session{}, fmt.Errorf("xendit: %w: %v", payment.ErrInvalidRequest, err)
	}
	body := invoiceRequest{
		ExternalID:         req.OrderID,
		Amount:             amount,
		Currency:           req.Amount.Currency,
		Description:        req.Description,
		SuccessRedirectURL: req.SuccessURL,
		FailureRedirectURL: req.FailureURL,
	}
	if body.Description == "" {
		body.Description = "Order " + req.OrderID
	}
	if !req.ExpiresAt.IsZero() {
		body.InvoiceDuration = int64(req.ExpiresAt.Sub(c.now()) / time.Second)
		if body.InvoiceDuration < 1 {
			return payment.Session{}, fmt.Errorf("xendit: %w: payment deadline has passed", payment.ErrInvalidRequest)
		}
	}
	for _, it := range req.Items {
		price, err := number(it.Price)
		if err != nil {
			return payment.Session{}, fmt.Errorf("xendit: %w: %v", payment.ErrInvalidRequest, err)
		}
		body.Items = append(body.Items, invoiceItem{Name: it.Name, Quantity: it.Quantity, Price: price, ReferenceID: it.ID})
	}
	if req.CustomerRef != "" {
		body.Metadata = map[string]string{"customer_ref": req.CustomerRef}
	}
	payload, err := json.Marshal(body)
	if err != nil {
		return payment.Session{}, fmt.Errorf("xendit: encode invoice: %w", err)
	}
	status, respBody, err := c.do(ctx, http.MethodPost, c.base+"/v2/invoices", payload)
	if err != nil {
		return payment.Session{}, fmt.Errorf("xendit: create invoice for order %s: %w", req.OrderID, err)
	}
	if status < 200 || status > 299 {
		return payment.Session{}, fmt.Errorf("xendit: create invoice for order %s: %w", req.OrderID, apiErr(status, respBody))
	}
	var inv invoice
	if err := json.Unmarshal(respBody, &inv); err != nil || inv.ID == "" || inv.InvoiceURL == "" {
		return payment.Session{}, fmt.Errorf("xendit: create invoice for order %s: %w: response has no id or invoice_url", req.OrderID, payment.ErrUnavailable)
	}
	s := payment.Session{RedirectURL: inv.InvoiceURL, ProviderRef: inv.ID}
	if t, err := time.Parse(time.RFC3339Nano, inv.ExpiryDate); err == nil {
		s.ExpiresAt = t
	}
	return s, nil
}

// Status gets the invoice: GET /v2/invoices/{id} when q.ProviderRef names it, else
// GET /v2/invoices?external_id={order id}. An order with several invoices is reported
// by the one that went furthest (SETTLED, PAID, PENDING, EXPIRED), the latest updated
// among equals. The answer is a Notification whose NotificationID matches the callback
// for the same state.
func (c *Client) Status(ctx context.Context, q payment.StatusQuery) (payment.Notification, error) {
	if q.OrderID == "" && q.ProviderRef == "" {
		return payment.Notification{}, fmt.Errorf("xendit: status: %w: no order id", payment.ErrInvalidRequest)
	}
	if err := c.apiReady(); err != nil {
		return payment.Notification{}, err
	}
	if q.ProviderRef != "" {
		status, body, err := c.do(ctx, http.MethodGet, c.base+"/v2/invoices/"+url.PathEscape(q.ProviderRef), nil)
		if err != nil {
			return payment.Notification{}, fmt.Errorf("xendit: get invoice %s: %w", q.ProviderRef, err)
		}
		if status < 200 || status > 299 {
			return payment.Notification{}, fmt.Errorf("xendit: get invoice %s: %w", q.ProviderRef, apiErr(status, body))
		}
		n, err := parseInvoice(body)
		if err != nil {
			return payment.Notification{}, fmt.Errorf("xendit: get invoice %s: %w", q.ProviderRef, err)
		}
		if q.OrderID != "" && n.OrderID != q.OrderID {
			return payment.Notification{}, fmt.Errorf("xendit: get invoice %s: %w: it is for another order", q.ProviderRef, payment.ErrMalformed)
		}
		return n, nil
	}
	status, body, err := c.do(ctx, http.MethodGet, c.base+"/v2/invoices?"+url.Values{"external_id": {q.OrderID}}.Encode(), nil)
	if err != nil {
		return payment.Notification{}, fmt.Errorf("xendit: invoices of order %s: %w", q.OrderID, err)
	}
	if status < 200 || status > 299 {
		return payment.Notification{}, fmt.Errorf("xendit: invoices of order %s: %w", q.OrderID, apiErr(status, body))
	}
	var list []json.RawMessage
	if err := json.Unmarshal(body, &list); err != nil {
		return payment.Notification{}, fmt.Errorf("xendit: invoices of order %s: %w: not a list", q.OrderID, payment.ErrMalformed)
	}
	var best payment.Notification
	found := false
	for _, raw := range list {
		n, err := parseInvoice(raw)
		if err != nil {
			return payment.Notification{}, fmt.Errorf("xendit: invoices of order %s: %w", q.OrderID, err)
		}
		if n.OrderID != q.OrderID {
			continue
		}
		if !found || rank(n.Status) > rank(best.Status) || rank(n.Status) == rank(best.Status) && n.OccurredAt.After(best.OccurredAt) {
			best, found = n, true
		}
	}
	if !found {
		return payment.Notification{}, fmt.Errorf("xendit: invoices of order %s: %w", q.OrderID, payment.ErrNotFound)
	}
	return best, nil
}

// rank orders invoice statuses by how far the payment got.
func rank(status string) int {
	switch status {
	case StatusSettled:
		return 4
	case StatusPaid:
		return 3
	case StatusPending:
		return 2
	case StatusExpired:
		return 1
	}
	return 0
}

func (c *Client) apiReady() error {
	if c.secretKey == "" || c.base == "" {
		return fmt.Errorf("xendit: %w: no secret key or base URL configured", payment.ErrInvalidRequest)
	}
	return nil
}

// do sends one API request with the secret key and returns the status and body.
func (c *Client) do(ctx context.Context, method, u string, body []byte) (int, []byte, error) {
	return payment.Do(ctx, c.http, method, u, c.secretKey, body)
}

// apiErr turns a non-2xx answer into an error: 404 is ErrNotFound, other 4xx (but 429)
// ErrRejected, the rest ErrUnavailable; Xendit's error_code and message are kept.
func apiErr(status int, body []byte) error {
	var e apiError
	_ = json.Unmarshal(body, &e)
	what := strings.TrimSpace(e.ErrorCode + " " + truncate(e.Message, 200))
	if what == "" {
		what = "(no message)"
	}
	var kind error
	switch {
	case status == http.StatusNotFound:
		kind = payment.ErrNotFound
	case status >= 400 && status < 500 && status != http.StatusTooManyRequests:
		kind = payment.ErrRejected
	default:
		kind = payment.ErrUnavailable
	}
	return fmt.Errorf("HTTP %d %s: %w", status, what, kind)
}

// number writes m as a JSON number in major units ("10000", "12.50").
func number(m money.Money) (json.Number, error) {
	d, err := money.MinorDigits(m.Currency)
	if err != nil {
		return "", err
	}
	s, err := payment.FormatDecimal(m, d)
	if err != nil {
		return "", err
	}
	return json.Number(s), nil
}

// truncate shortens s to at most n runes.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}
