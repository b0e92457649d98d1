// Package flow drives the two-account system through the local runner's HTTP API as
// the app would: create products, promote them, hand a buyer over from social to
// commerce, fill a cart, check out, pay through the payment sandbox, read orders. It
// is the one home of such end-to-end helpers; tests that need them use this package
// rather than writing their own.
//
// Everything returns errors instead of failing a test, so that many buyers can run
// concurrently in goroutines, and so that a test under injected faults decides what
// an error means. The Client retries what a real client retries — 429 (Lambda
// throttling), 5xx, a dropped connection, 409 idempotency_in_progress, conflict and
// cart_changed (the API's "retry") — with the same
// request, headers and Idempotency-Key, and counts every request it sends.
package flow

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/etalase/etalase/infra/localrun"
	"github.com/etalase/etalase/infra/localrun/paysandbox"
)

// Client is an HTTP client of the runner's one origin.
type Client struct {
	// Base is the origin, e.g. r.URL.
	Base string
	// HTTP sends the requests; nil means a client with a 30 s timeout.
	HTTP *http.Client
	// Within bounds one call with its retries; zero means 60 s. A retried checkout
	// whose first attempt's process died waits out the idempotency lease (the
	// function's timeout plus 5 s) before it can run again.
	Within time.Duration

	requests atomic.Int64
	retries  atomic.Int64
	mu       sync.Mutex
	statuses map[int]int64
	codes    map[string]int64
}

// NewClient returns a client of the runner's HTTP API.
func NewClient(r *localrun.Runner) *Client { return &Client{Base: r.URL} }

// Stats are what a Client sent.
type Stats struct {
	// Requests is every HTTP request sent, retries included; Retries the retries.
	Requests, Retries int64
	// Statuses counts the answers by HTTP status (0: no answer).
	Statuses map[int]int64
	// Codes counts the error answers by "status code", e.g. "409 insufficient_stock".
	Codes map[string]int64
}

// Stats returns the counts so far.
func (c *Client) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := Stats{Requests: c.requests.Load(), Retries: c.retries.Load(), Statuses: map[int]int64{}, Codes: map[string]int64{}}
	for k, v := range c.statuses {
		s.Statuses[k] = v
	}
	for k, v := range c.codes {
		s.Codes[k] = v
	}
	return s
}

// Response is an answer.
type Response struct {
	Status int
	Body   []byte
	Header http.Header
}

// Code is the error envelope's code ({"error":{"code":...}}), empty if there is none.
func (r Response) Code() string {
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(r.Body, &e)
	return e.Error.Code
}

// Decode decodes the body into v.
func (r Response) Decode(v any) error {
	if err := json.Unmarshal(r.Body, v); err != nil {
		return fmt.Errorf("decode %d %s: %w", r.Status, trim(r.Body), err)
	}
	return nil
}

// Want returns an error unless the status is one of want.
func (r Response) Want(what string, want ...int) error {
	for _, w := range want {
		if r.Status == w {
			return nil
		}
	}
	return fmt.Errorf("%s: %d %s, want %v", what, r.Status, trim(r.Body), want)
}

func trim(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// retryable says whether a client retries an answer: throttling, a server or gateway
// error, or another attempt of the same Idempotency-Key still running.
func retryable(r Response) bool {
	switch {
	case r.Status == 0, r.Status == http.StatusTooManyRequests, r.Status >= 500:
		return true
	case r.Status == http.StatusConflict:
		// The API says "retry" with these: another attempt still runs, or concurrent
		// writes (a transaction conflict) outlasted the function's own retries.
		switch r.Code() {
		case "idempotency_in_progress", "conflict", "cart_changed":
			return true
		}
	}
	return false
}

// Do sends a request with a JSON body (or none) and a bearer token (or none); headers
// are name, value pairs. It retries retryable answers with the same request until one
// is not, or Within has passed: then it returns the last answer and an error.
func (c *Client) Do(ctx context.Context, method, path, token string, body any, headers ...string) (Response, error) {
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			return Response{}, err
		}
	}
	within := c.Within
	if within <= 0 {
		within = 60 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	var last Response
	var lastErr error
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			c.retries.Add(1)
			d := time.Duration(min(50<<min(attempt, 5), 1000)+rand.IntN(100)) * time.Millisecond
			select {
			case <-ctx.Done():
				if lastErr == nil {
					lastErr = fmt.Errorf("%s %s: %d %s", method, path, last.Status, trim(last.Body))
				}
				return last, fmt.Errorf("%w after %d attempts: %v", ctx.Err(), attempt, lastErr)
			case <-time.After(d):
			}
		}
		last, lastErr = c.send(ctx, method, path, token, raw, headers)
		if lastErr == nil && !retryable(last) {
			return last, nil
		}
	}
}

func (c *Client) send(ctx context.Context, method, path, token string, body []byte, headers []string) (Response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, rd)
	if err != nil {
		return Response{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	c.requests.Add(1)
	resp, err := hc.Do(req)
	if err != nil {
		c.count(0, "")
		return Response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.count(0, "")
		return Response{Status: 0}, err
	}
	r := Response{Status: resp.StatusCode, Body: b, Header: resp.Header}
	code := ""
	if r.Status >= 400 {
		code = fmt.Sprintf("%d %s", r.Status, r.Code())
	}
	c.count(resp.StatusCode, code)
	return r, nil
}

func (c *Client) count(status int, code string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.statuses == nil {
		c.statuses, c.codes = map[int]int64{}, map[string]int64{}
	}
	c.statuses[status]++
	if code != "" {
		c.codes[code]++
	}
}

// Token mints an access token of the runner's identity provider.
func Token(r *localrun.Runner, sub string, scopes ...string) (string, error) {
	return r.IdP.Mint(sub, scopes, 2*time.Hour, nil)
}

// Product is what CreateProduct creates.
type Product struct {
	Title string
	// Price is in IDR.
	Price int64
	Stock int64
}

// CreateProduct lists a product as seller and returns its id. A retried create whose
// first attempt committed lists a second product: list the seller's products
// (SellerProducts) to see them all.
func (c *Client) CreateProduct(ctx context.Context, seller string, p Product) (string, error) {
	r, err := c.Do(ctx, http.MethodPost, "/commerce/v1/products", seller, map[string]any{
		"title": p.Title, "description": "reliability test", "imageUrl": "/assets/kopi.jpg",
		"price": map[string]any{"amount": p.Price, "currency": "IDR"}, "stock": p.Stock,
	})
	if err != nil {
		return "", err
	}
	var out struct {
		ProductID string `json:"productId"`
	}
	if err := r.Want("create product", http.StatusCreated); err != nil {
		return "", err
	}
	err = r.Decode(&out)
	return out.ProductID, err
}

// SellerProduct is one of a seller's products as the catalog lists it.
type SellerProduct struct {
	ProductID string `json:"productId"`
	Stock     int64  `json:"stock"`
	Status    string `json:"status"`
}

// SellerProducts lists every product of the seller.
func (c *Client) SellerProducts(ctx context.Context, seller string) ([]SellerProduct, error) {
	var all []SellerProduct
	cursor := ""
	for {
		path := "/commerce/v1/seller/products?limit=100"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		r, err := c.Do(ctx, http.MethodGet, path, seller, nil)
		if err != nil {
			return nil, err
		}
		if err := r.Want("list seller products", http.StatusOK); err != nil {
			return nil, err
		}
		var page struct {
			Items      []SellerProduct `json:"items"`
			NextCursor string          `json:"nextCursor"`
		}
		if err := r.Decode(&page); err != nil {
			return nil, err
		}
		all = append(all, page.Items...)
		if page.NextCursor == "" {
			return all, nil
		}
		cursor = page.NextCursor
	}
}

// Promote creates a video promotion of productID by creator with a commission rate
// in basis points, waiting (within the client's bound) until social has the
// product's snapshot, which the relay and the inbox bring a moment after the listing.
func (c *Client) Promote(ctx context.Context, creator, productID string, bps int) (string, error) {
	body := map[string]any{"productId": productID, "kind": "video", "caption": "reliability", "mediaUrl": "https://cdn.etalase.example/v/r.mp4",
		"commissionBps": bps, "endsAt": time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for {
		r, err := c.Do(ctx, http.MethodPost, "/social/v1/promotions", creator, body)
		if err != nil {
			return "", err
		}
		if r.Status == http.StatusNotFound && r.Code() == "product_not_found" {
			select {
			case <-ctx.Done():
				return "", fmt.Errorf("promote %s: social never got its snapshot: %w", productID, ctx.Err())
			case <-time.After(200 * time.Millisecond):
				continue
			}
		}
		if err := r.Want("create promotion", http.StatusCreated); err != nil {
			return "", err
		}
		var out struct {
			PromotionID string `json:"promotionId"`
		}
		err = r.Decode(&out)
		return out.PromotionID, err
	}
}

// Handoff takes a hand-off token of a promotion, as a viewer's "Buy" does.
func (c *Client) Handoff(ctx context.Context, promotionID string) (string, error) {
	r, err := c.Do(ctx, http.MethodPost, "/social/v1/promotions/"+promotionID+"/handoff", "", nil)
	if err != nil {
		return "", err
	}
	if err := r.Want("hand-off", http.StatusOK); err != nil {
		return "", err
	}
	var out struct {
		Token string `json:"token"`
	}
	err = r.Decode(&out)
	return out.Token, err
}

// Item is a cart item to add: a hand-off token (attributed) or a product id.
type Item struct {
	HandoffToken string
	ProductID    string
	Quantity     int
}

// AddToCart adds an item to the buyer's cart.
func (c *Client) AddToCart(ctx context.Context, buyer string, it Item) error {
	body := map[string]any{"quantity": it.Quantity}
	if it.HandoffToken != "" {
		body["handoffToken"] = it.HandoffToken
	} else {
		body["productId"] = it.ProductID
	}
	r, err := c.Do(ctx, http.MethodPost, "/commerce/v1/cart/items", buyer, body)
	if err != nil {
		return err
	}
	return r.Want("add to cart", http.StatusOK, http.StatusCreated)
}

// Placed is a checkout's answer, or an order as the buyer reads it.
type Placed struct {
	OrderID    string    `json:"orderId"`
	Status     string    `json:"status"`
	PaymentURL *string   `json:"paymentUrl"`
	Deadline   time.Time `json:"deadline"`
	Amount     struct {
		Amount int64 `json:"amount"`
	} `json:"amount"`
	Lines []struct {
		ProductID string `json:"productId"`
		Quantity  int64  `json:"quantity"`
	} `json:"lines"`
}

// Checkout checks the buyer's cart out with provider under key. It returns the order
// on 201; otherwise the answer, for the caller to judge (409 insufficient_stock is
// expected when buyers outnumber the stock).
func (c *Client) Checkout(ctx context.Context, buyer, provider, key string) (Placed, Response, error) {
	r, err := c.Do(ctx, http.MethodPost, "/commerce/v1/checkout", buyer, map[string]any{"provider": provider}, "Idempotency-Key", key)
	if err != nil || r.Status != http.StatusCreated {
		return Placed{}, r, err
	}
	var p Placed
	err = r.Decode(&p)
	return p, r, err
}

// Order reads one of the buyer's orders.
func (c *Client) Order(ctx context.Context, buyer, orderID string) (Placed, error) {
	r, err := c.Do(ctx, http.MethodGet, "/commerce/v1/orders/"+orderID, buyer, nil)
	if err != nil {
		return Placed{}, err
	}
	if err := r.Want("get order", http.StatusOK); err != nil {
		return Placed{}, err
	}
	var p Placed
	err = r.Decode(&p)
	return p, err
}

// Orders lists the buyer's orders (newest first, one page of up to 100).
func (c *Client) Orders(ctx context.Context, buyer string) ([]Placed, error) {
	r, err := c.Do(ctx, http.MethodGet, "/commerce/v1/orders?limit=100", buyer, nil)
	if err != nil {
		return nil, err
	}
	if err := r.Want("list orders", http.StatusOK); err != nil {
		return nil, err
	}
	var out struct {
		Orders []Placed `json:"orders"`
	}
	err = r.Decode(&out)
	return out.Orders, err
}

// Cancel cancels one of the buyer's orders; the answer is returned as is (200, or 409
// when the order is no longer pending).
func (c *Client) Cancel(ctx context.Context, buyer, orderID string) (Response, error) {
	return c.Do(ctx, http.MethodPost, "/commerce/v1/orders/"+orderID+"/cancel", buyer, nil)
}

// WaitStatus polls the buyer's order until done(status) or ctx ends.
func (c *Client) WaitStatus(ctx context.Context, buyer, orderID string, done func(status string) bool) (Placed, error) {
	for {
		p, err := c.Order(ctx, buyer, orderID)
		if err == nil && done(p.Status) {
			return p, nil
		}
		select {
		case <-ctx.Done():
			return p, fmt.Errorf("order %s is %q: %w (%v)", orderID, p.Status, ctx.Err(), err)
		case <-time.After(150 * time.Millisecond):
		}
	}
}

// Notify asks the payment sandbox to send notifications (its control API) and returns
// what it sent. The sandbox itself sends each notification once; a provider retries
// one the webhook did not acknowledge with a 2xx, and so does Notify when retry is
// set: it sends Status again (without ReorderWith and Duplicate; the same
// notification, so the webhook sees a duplicate) until the webhook answers < 500, at
// most 20 times. Forged notifications (BadSignature) are never retried.
func (c *Client) Notify(ctx context.Context, req paysandbox.NotifyRequest, retry bool) ([]paysandbox.Delivery, error) {
	var all []paysandbox.Delivery
	for attempt := 0; attempt < 20; attempt++ {
		r, err := c.Do(ctx, http.MethodPost, paysandbox.PathPrefix+"control/notify", "", req)
		if err != nil {
			return all, err
		}
		if err := r.Want("sandbox notify", http.StatusOK); err != nil {
			return all, err
		}
		var out paysandbox.NotifyResponse
		if err := r.Decode(&out); err != nil {
			return all, err
		}
		all = append(all, out.Deliveries...)
		failed := false
		for _, d := range out.Deliveries {
			if !d.Stale && (d.ResponseStatus == 0 || d.ResponseStatus >= 500) {
				failed = true
			}
		}
		if !retry || req.BadSignature || !failed {
			return all, nil
		}
		req.Duplicate, req.ReorderWith, req.DelayMs = 0, nil, 0
		select {
		case <-ctx.Done():
			return all, ctx.Err()
		case <-time.After(time.Duration(100+rand.IntN(200)) * time.Millisecond):
		}
	}
	return all, errors.New("sandbox notify: the webhook kept failing")
}
