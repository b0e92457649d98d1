package paysandbox

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// xenditStatuses are the invoice statuses the sandbox sends.
var xenditStatuses = map[string]bool{"PENDING": true, "PAID": true, "SETTLED": true, "EXPIRED": true}

// xenditCurrencies are the invoice currencies Xendit takes.
var xenditCurrencies = map[string]bool{"IDR": true, "PHP": true, "THB": true, "VND": true, "MYR": true}

// xenditTime is Xendit's timestamp format (ISO 8601, UTC, milliseconds).
const xenditTime = "2006-01-02T15:04:05.000Z"

// xenditUserID is the sandbox's business id (user_id in invoices).
const xenditUserID = "5f0e1a2b3c4d5e6f7a8b9c0d"

// plainNumber is a JSON number without sign or exponent.
var plainNumber = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)

// invoiceRequest is the part of POST /v2/invoices the sandbox reads.
type invoiceRequest struct {
	ExternalID         string          `json:"external_id"`
	Amount             json.Number     `json:"amount"`
	Currency           string          `json:"currency"`
	Description        string          `json:"description"`
	InvoiceDuration    json.Number     `json:"invoice_duration"`
	SuccessRedirectURL string          `json:"success_redirect_url"`
	FailureRedirectURL string          `json:"failure_redirect_url"`
	Items              []invoiceItem   `json:"items"`
	Metadata           json.RawMessage `json:"metadata"`
}

type invoiceItem struct {
	Name     string      `json:"name"`
	Quantity json.Number `json:"quantity"`
	Price    json.Number `json:"price"`
}

// invoiceWire is Xendit's invoice object, and its invoice callback.
type invoiceWire struct {
	ID                 string      `json:"id"`
	ExternalID         string      `json:"external_id"`
	UserID             string      `json:"user_id"`
	IsHigh             *bool       `json:"is_high,omitempty"`
	Status             string      `json:"status"`
	MerchantName       string      `json:"merchant_name"`
	Amount             json.Number `json:"amount"`
	PaidAmount         json.Number `json:"paid_amount,omitempty"`
	BankCode           string      `json:"bank_code,omitempty"`
	PaidAt             string      `json:"paid_at,omitempty"`
	PaymentMethod      string      `json:"payment_method,omitempty"`
	PaymentChannel     string      `json:"payment_channel,omitempty"`
	PaymentDestination string      `json:"payment_destination,omitempty"`
	PaymentID          string      `json:"payment_id,omitempty"`
	Description        string      `json:"description"`
	ExpiryDate         string      `json:"expiry_date,omitempty"`
	InvoiceURL         string      `json:"invoice_url,omitempty"`
	Created            string      `json:"created"`
	Updated            string      `json:"updated"`
	Currency           string      `json:"currency"`
	SuccessRedirectURL string      `json:"success_redirect_url,omitempty"`
	FailureRedirectURL string      `json:"failure_redirect_url,omitempty"`
}

func xenditError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]string{"error_code": code, "message": msg})
}

func (s *Sandbox) xenditAuth(w http.ResponseWriter, r *http.Request) bool {
	if basicAuth(r, s.cfg.XenditSecretKey) {
		return true
	}
	xenditError(w, http.StatusUnauthorized, "INVALID_API_KEY", "API key is not authorized for this API service")
	return false
}

// xenditCreate serves POST /v2/invoices.
func (s *Sandbox) xenditCreate(w http.ResponseWriter, r *http.Request) {
	if !s.xenditAuth(w, r) {
		return
	}
	var req invoiceRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody)).Decode(&req); err != nil {
		xenditError(w, http.StatusBadRequest, "API_VALIDATION_ERROR", "invalid JSON: "+err.Error())
		return
	}
	if req.Currency == "" {
		req.Currency = "IDR"
	}
	amount := req.Amount.String()
	switch {
	case req.ExternalID == "":
		xenditError(w, http.StatusBadRequest, "API_VALIDATION_ERROR", `"external_id" is required`)
		return
	case !plainNumber.MatchString(amount) || strings.Trim(amount, "0.") == "":
		xenditError(w, http.StatusBadRequest, "API_VALIDATION_ERROR", `"amount" must be a positive number`)
		return
	case !xenditCurrencies[req.Currency]:
		xenditError(w, http.StatusBadRequest, "UNSUPPORTED_CURRENCY", "the currency is not supported")
		return
	}
	if req.Currency == "IDR" {
		amount, _, _ = strings.Cut(amount, ".") // Xendit truncates IDR decimals
	}
	duration := int64(86400)
	if req.InvoiceDuration != "" {
		d, err := req.InvoiceDuration.Int64()
		if err != nil || d < 1 || d > 31536000 {
			xenditError(w, http.StatusBadRequest, "API_VALIDATION_ERROR", `"invoice_duration" must be between 1 and 31536000 seconds`)
			return
		}
		duration = d
	}
	var items []pageItem
	for _, it := range req.Items {
		q, err := it.Quantity.Int64()
		if err != nil || q < 1 || it.Name == "" || !plainNumber.MatchString(it.Price.String()) {
			xenditError(w, http.StatusBadRequest, "API_VALIDATION_ERROR", `"items" are invalid`)
			return
		}
		items = append(items, pageItem{Name: it.Name, Quantity: q, Price: it.Price.String()})
	}
	now := s.cfg.Now()
	ss := &session{
		provider: Xendit, token: randomHex(12), orderID: req.ExternalID,
		amount: amount, currency: req.Currency, description: req.Description, items: items,
		successURL: req.SuccessRedirectURL, failureURL: req.FailureRedirectURL,
		created: now, updated: now, expiresAt: now.Add(time.Duration(duration) * time.Second),
		status: "PENDING",
	}
	s.mu.Lock()
	s.add(ss)
	inv := s.invoice(ss, now)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, inv)
}

// xenditGet serves GET /v2/invoices/{id}.
func (s *Sandbox) xenditGet(w http.ResponseWriter, r *http.Request) {
	if !s.xenditAuth(w, r) {
		return
	}
	s.mu.Lock()
	ss := s.sessions[Xendit+"/"+r.PathValue("id")]
	var inv invoiceWire
	if ss != nil {
		inv = s.invoice(ss, s.cfg.Now())
	}
	s.mu.Unlock()
	if ss == nil {
		xenditError(w, http.StatusNotFound, "INVOICE_NOT_FOUND_ERROR", "Could not find invoice")
		return
	}
	writeJSON(w, http.StatusOK, inv)
}

// xenditList serves GET /v2/invoices?external_id=: the order's invoices, newest first.
func (s *Sandbox) xenditList(w http.ResponseWriter, r *http.Request) {
	if !s.xenditAuth(w, r) {
		return
	}
	ext := r.URL.Query().Get("external_id")
	now := s.cfg.Now()
	out := []invoiceWire{}
	s.mu.Lock()
	list := s.orders[Xendit+"/"+ext]
	for i := len(list) - 1; i >= 0; i-- {
		out = append(out, s.invoice(list[i], now))
	}
	if ext == "" {
		for i := len(s.fifo) - 1; i >= 0 && len(out) < 50; i-- {
			if ss := s.sessions[s.fifo[i]]; ss != nil && ss.provider == Xendit {
				out = append(out, s.invoice(ss, now))
			}
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// invoice returns ss as Xendit's invoice object, expiring a pending invoice whose time
// is up as Xendit does. Callers hold mu.
func (s *Sandbox) invoice(ss *session, now time.Time) invoiceWire {
	if ss.status == "PENDING" && !now.Before(ss.expiresAt) {
		ss.status, ss.updated = "EXPIRED", ss.expiresAt
	}
	inv := s.invoiceFor(ss, ss.status, ss.amount)
	inv.ExpiryDate = ss.expiresAt.UTC().Format(xenditTime)
	inv.InvoiceURL = s.cfg.Origin + PathPrefix + "page/xendit/" + ss.token
	return inv
}

// invoiceFor returns ss as an invoice (or callback) body with status and amount.
func (s *Sandbox) invoiceFor(ss *session, status, amount string) invoiceWire {
	inv := invoiceWire{
		ID:                 ss.token,
		ExternalID:         ss.orderID,
		UserID:             xenditUserID,
		Status:             status,
		MerchantName:       "etalase (local sandbox)",
		Amount:             json.Number(amount),
		Description:        ss.description,
		Created:            ss.created.UTC().Format(xenditTime),
		Updated:            ss.updated.UTC().Format(xenditTime),
		Currency:           ss.currency,
		SuccessRedirectURL: ss.successURL,
		FailureRedirectURL: ss.failureURL,
	}
	if status == "PAID" || status == "SETTLED" {
		paidAt := ss.paidAt
		if paidAt.IsZero() {
			paidAt = ss.updated
		}
		if ss.paymentID == "" {
			ss.paymentID = randomHex(12)
		}
		inv.PaidAmount = json.Number(amount)
		inv.PaidAt = paidAt.UTC().Format(xenditTime)
		inv.PaymentMethod, inv.PaymentChannel, inv.BankCode = "BANK_TRANSFER", "BCA", "BCA"
		inv.PaymentDestination = "8808999" + ss.token[:8]
		inv.PaymentID = ss.paymentID
	}
	return inv
}

// xenditCallback builds an invoice callback body for ss. Callers hold mu.
func (s *Sandbox) xenditCallback(ss *session, status, amount string) []byte {
	inv := s.invoiceFor(ss, status, amount)
	high := false
	inv.IsHigh = &high
	b, _ := json.Marshal(inv) // strings and numbers always encode
	return b
}
