// Package midtrans is commerce's adapter for Midtrans: Snap payment sessions, the HTTP
// notification (webhook) and the GET status API, in Midtrans's documented wire format.
//
// Midtrans has two API hosts, both configurable: Snap (app.midtrans.com, sandbox
// app.sandbox.midtrans.com) creates payment pages; the Core API (api.midtrans.com,
// sandbox api.sandbox.midtrans.com) answers status queries. Both authenticate with HTTP
// Basic auth, the server key as user name and an empty password.
//
// Notifications and status answers are authenticated by their signature_key field:
// hex(SHA-512(order_id + status_code + gross_amount + server key)), computed over the
// field values exactly as they were received (gross_amount "10000.00" is not "10000")
// and compared in constant time.
package midtrans

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/etalase/etalase/shared/commerce/payment"
)

// Name is the provider's name in notifications and webhook routes.
const Name = "midtrans"

// Base URLs of Midtrans's two API hosts.
const (
	SandboxSnapBaseURL    = "https://app.sandbox.midtrans.com"
	ProductionSnapBaseURL = "https://app.midtrans.com"
	SandboxAPIBaseURL     = "https://api.sandbox.midtrans.com"
	ProductionAPIBaseURL  = "https://api.midtrans.com"
)

// DefaultTimeout bounds one API call when Config.HTTPClient is nil; it leaves a Lambda
// with a 10-30 s timeout room to answer.
const DefaultTimeout = 8 * time.Second

// maxOrderID and maxItemName are Midtrans's field limits (transaction_details.order_id
// String(50), item_details.name String(50)).
const (
	maxOrderID  = 50
	maxItemName = 50
)

// wib is Western Indonesia Time (GMT+7), the zone of Midtrans's timestamps.
var wib = time.FixedZone("WIB", 7*60*60)

// Config configures a Client. Only ServerKey is needed to verify notifications;
// CreateSession needs SnapBaseURL and Status needs APIBaseURL.
type Config struct {
	// ServerKey is the merchant's server key (secret).
	ServerKey string
	// SnapBaseURL is the Snap host, e.g. SandboxSnapBaseURL or, locally,
	// "http://127.0.0.1:3000/_local/pay/midtrans"; Snap is {SnapBaseURL}/snap/v1/transactions.
	SnapBaseURL string
	// APIBaseURL is the Core API host, e.g. SandboxAPIBaseURL; the status API is
	// {APIBaseURL}/v2/{order_id}/status.
	APIBaseURL string
	// HTTPClient makes the API calls; nil means a client with DefaultTimeout.
	HTTPClient *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Client is the Midtrans provider. It is safe for concurrent use.
type Client struct {
	serverKey         string
	snapBase, apiBase string
	http              *http.Client
	now               func() time.Time
}

var _ payment.Provider = (*Client)(nil)

// New returns a Client for cfg.
func New(cfg Config) (*Client, error) {
	if cfg.ServerKey == "" {
		return nil, errors.New("midtrans: no server key")
	}
	c := &Client{serverKey: cfg.ServerKey, http: cfg.HTTPClient, now: cfg.Now}
	var err error
	if c.snapBase, err = baseURL("SnapBaseURL", cfg.SnapBaseURL); err != nil {
		return nil, err
	}
	if c.apiBase, err = baseURL("APIBaseURL", cfg.APIBaseURL); err != nil {
		return nil, err
	}
	if c.http == nil {
		c.http = &http.Client{Timeout: DefaultTimeout}
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// baseURL checks an optional base URL: http(s), a host, no credentials, no query.
func baseURL(name, raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("midtrans: %s must be an http(s) URL without credentials or query", name)
	}
	return strings.TrimSuffix(raw, "/"), nil
}

// Name returns "midtrans".
func (c *Client) Name() string { return Name }

// snapRequest is the body of POST /snap/v1/transactions (Snap API, "Backend
// Integration": transaction_details, item_details, expiry, callbacks, metadata).
type snapRequest struct {
	TransactionDetails transactionDetails `json:"transaction_details"`
	ItemDetails        []itemDetail       `json:"item_details,omitempty"`
	Expiry             *expiry            `json:"expiry,omitempty"`
	Callbacks          *callbacks         `json:"callbacks,omitempty"`
	Metadata           map[string]string  `json:"metadata,omitempty"`
}

type transactionDetails struct {
	OrderID     string `json:"order_id"`
	GrossAmount int64  `json:"gross_amount"` // whole rupiah, no decimals
}

type itemDetail struct {
	ID       string `json:"id,omitempty"`
	Price    int64  `json:"price"`
	Quantity int64  `json:"quantity"`
	Name     string `json:"name"`
}

type expiry struct {
	StartTime string `json:"start_time,omitempty"` // "yyyy-MM-dd HH:mm:ss Z"
	Unit      string `json:"unit"`                 // minute, hour or day
	Duration  int64  `json:"duration"`
}

type callbacks struct {
	Finish string `json:"finish,omitempty"`
}

// snapResponse is Snap's answer: 201 with token and redirect_url, or an error with
// error_messages.
type snapResponse struct {
	Token         string   `json:"token"`
	RedirectURL   string   `json:"redirect_url"`
	ErrorMessages []string `json:"error_messages"`
}

// CreateSession creates a Snap transaction and returns its payment page. The Snap
// expiry starts now and ends at the last whole minute before req.ExpiresAt, so the
// buyer can never pay after the order's deadline. Midtrans takes IDR only; FailureURL
// is not used (Snap's error page is configured in the Midtrans dashboard).
func (c *Client) CreateSession(ctx context.Context, req payment.SessionRequest) (payment.Session, error) {
	if err := req.Validate(); err != nil {
		return payment.Session{}, fmt.Errorf("midtrans: %w", err)
	}
	if c.snapBase == "" {
		return payment.Session{}, fmt.Errorf("midtrans: %w: no Snap base URL configured", payment.ErrInvalidRequest)
	}
	if err := checkOrderID(req.OrderID); err != nil {
		return payment.Session{}, err
	}
	if req.Amount.Currency != "IDR" {
		return payment.Session{}, fmt.Errorf("midtrans: %w: Snap takes IDR, not %s", payment.ErrInvalidRequest, req.Amount.Currency)
	}
	body := snapRequest{TransactionDetails: transactionDetails{OrderID: req.OrderID, GrossAmount: req.Amount.Amount}}
	for _, it := range req.Items {
		body.ItemDetails = append(body.ItemDetails, itemDetail{ID: it.ID, Price: it.Price.Amount, Quantity: it.Quantity, Name: truncate(it.Name, maxItemName)})
	}
	if !req.ExpiresAt.IsZero() {
		now := c.now()
		minutes := int64(req.ExpiresAt.Sub(now) / time.Minute)
		if minutes < 1 {
			return payment.Session{}, fmt.Errorf("midtrans: %w: payment deadline is less than a minute away", payment.ErrInvalidRequest)
		}
		body.Expiry = &expiry{StartTime: now.In(wib).Format("2006-01-02 15:04:05 -0700"), Unit: "minute", Duration: minutes}
	}
	if req.SuccessURL != "" {
		body.Callbacks = &callbacks{Finish: req.SuccessURL}
	}
	if req.CustomerRef != "" {
		body.Metadata = map[string]string{"customer_ref": req.CustomerRef}
	}
	payload, err := json.Marshal(body)
	if err != nil {
		return payment.Session{}, fmt.Errorf("midtrans: encode Snap request: %w", err)
	}
	status, respBody, err := c.do(ctx, http.MethodPost, c.snapBase+"/snap/v1/transactions", payload)
	if err != nil {
		return payment.Session{}, fmt.Errorf("midtrans: create Snap transaction for order %s: %w", req.OrderID, err)
	}
	var resp snapResponse
	decodeErr := json.Unmarshal(respBody, &resp)
	if status < 200 || status > 299 {
		return payment.Session{}, fmt.Errorf("midtrans: create Snap transaction for order %s: HTTP %d %s: %w",
			req.OrderID, status, clip(strings.Join(resp.ErrorMessages, "; ")), classify(status))
	}
	if decodeErr != nil || resp.Token == "" || resp.RedirectURL == "" {
		return payment.Session{}, fmt.Errorf("midtrans: create Snap transaction for order %s: %w: response has no token or redirect_url", req.OrderID, payment.ErrUnavailable)
	}
	return payment.Session{RedirectURL: resp.RedirectURL, ProviderRef: resp.Token, Token: resp.Token}, nil
}

// Status asks GET {APIBaseURL}/v2/{order_id}/status (or the transaction_id in
// q.ProviderRef, which Midtrans accepts in place of the order id). The answer carries a
// signature_key like a notification's, and is verified the same way. A transaction
// Midtrans does not know (the buyer never chose a payment method) is ErrNotFound.
func (c *Client) Status(ctx context.Context, q payment.StatusQuery) (payment.Notification, error) {
	id := q.ProviderRef
	if id == "" {
		id = q.OrderID
	}
	if id == "" {
		return payment.Notification{}, fmt.Errorf("midtrans: status: %w: no order id", payment.ErrInvalidRequest)
	}
	if c.apiBase == "" {
		return payment.Notification{}, fmt.Errorf("midtrans: status: %w: no API base URL configured", payment.ErrInvalidRequest)
	}
	status, body, err := c.do(ctx, http.MethodGet, c.apiBase+"/v2/"+url.PathEscape(id)+"/status", nil)
	if err != nil {
		return payment.Notification{}, fmt.Errorf("midtrans: status of %s: %w", id, err)
	}
	var probe struct {
		StatusCode        scalar `json:"status_code"`
		StatusMessage     string `json:"status_message"`
		TransactionStatus string `json:"transaction_status"`
	}
	if err := json.Unmarshal(body, &probe); err != nil {
		return payment.Notification{}, fmt.Errorf("midtrans: status of %s: HTTP %d: %w: response is not JSON", id, status, payment.ErrUnavailable)
	}
	if probe.TransactionStatus == "" {
		// Not a transaction: Midtrans says why in status_code (in the body, often with
		// HTTP 200) and status_message.
		code := status
		if n, ok := httpCode(string(probe.StatusCode)); ok && code >= 200 && code <= 299 {
			code = n
		}
		switch {
		case code == http.StatusNotFound:
			return payment.Notification{}, fmt.Errorf("midtrans: status of %s: %w", id, payment.ErrNotFound)
		case code < 400:
			return payment.Notification{}, fmt.Errorf("midtrans: status of %s: HTTP %d: %w: answer has no transaction_status", id, status, payment.ErrUnavailable)
		}
		return payment.Notification{}, fmt.Errorf("midtrans: status of %s: %d %s: %w", id, code, clip(probe.StatusMessage), classify(code))
	}
	// A transaction, whatever the HTTP status (Midtrans answers an expired one with
	// status_code 407): its signature says whether to believe it.
	n, err := c.VerifyAndParse(nil, body)
	if err != nil {
		return payment.Notification{}, fmt.Errorf("midtrans: status of %s: %w", id, err)
	}
	if q.OrderID != "" && n.OrderID != q.OrderID {
		return payment.Notification{}, fmt.Errorf("midtrans: status of %s: %w: the answer is for another order", id, payment.ErrMalformed)
	}
	return n, nil
}

// do sends one API request with the server key and returns the status and body.
// Transport failures are ErrUnavailable; the key never appears in an error.
func (c *Client) do(ctx context.Context, method, u string, body []byte) (int, []byte, error) {
	return payment.Do(ctx, c.http, method, u, c.serverKey, body)
}

// classify maps an HTTP status to ErrRejected (4xx: do not retry) or ErrUnavailable.
func classify(status int) error {
	if status >= 400 && status < 500 && status != http.StatusTooManyRequests {
		return payment.ErrRejected
	}
	return payment.ErrUnavailable
}

// checkOrderID applies Midtrans's order_id rules: at most 50 characters of letters,
// digits and - _ ~ . (the symbols Midtrans allows).
func checkOrderID(id string) error {
	if len(id) > maxOrderID {
		return fmt.Errorf("midtrans: %w: order id longer than %d characters", payment.ErrInvalidRequest, maxOrderID)
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_~.", r)) {
			return fmt.Errorf("midtrans: %w: order id may hold only letters, digits and - _ ~ .", payment.ErrInvalidRequest)
		}
	}
	return nil
}

// truncate shortens s to at most n runes.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}

// clip shortens provider text quoted in an error.
func clip(s string) string {
	s = truncate(s, 200)
	if s == "" {
		return "(no message)"
	}
	return s
}
