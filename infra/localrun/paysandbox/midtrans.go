package paysandbox

import (
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// wib is Western Indonesia Time (GMT+7), the zone of Midtrans's timestamps.
var wib = time.FixedZone("WIB", 7*60*60)

// midtransLayout is Midtrans's timestamp format ("2024-05-01 10:03:12", WIB).
const midtransLayout = "2006-01-02 15:04:05"

// midtransStatuses are the transaction_status values the sandbox sends, with the
// status_code Midtrans sends with each (200 success, 201 pending or challenged, 202
// denied or expired).
var midtransStatuses = map[string]string{
	"pending":            "201",
	"authorize":          "200",
	"capture":            "200",
	"settlement":         "200",
	"deny":               "202",
	"cancel":             "200",
	"expire":             "202",
	"failure":            "202",
	"refund":             "200",
	"partial_refund":     "200",
	"chargeback":         "200",
	"partial_chargeback": "200",
}

// snapRequest is the part of Snap's create-transaction body the sandbox reads.
type snapRequest struct {
	TransactionDetails *struct {
		OrderID     string      `json:"order_id"`
		GrossAmount json.Number `json:"gross_amount"`
	} `json:"transaction_details"`
	ItemDetails []struct {
		ID       string      `json:"id"`
		Price    json.Number `json:"price"`
		Quantity json.Number `json:"quantity"`
		Name     string      `json:"name"`
	} `json:"item_details"`
	Expiry *struct {
		StartTime string      `json:"start_time"`
		Unit      string      `json:"unit"`
		Duration  json.Number `json:"duration"`
	} `json:"expiry"`
	Callbacks *struct {
		Finish string `json:"finish"`
	} `json:"callbacks"`
}

func snapError(w http.ResponseWriter, status int, msgs ...string) {
	writeJSON(w, status, map[string][]string{"error_messages": msgs})
}

// snapCreate serves POST /snap/v1/transactions: 201 {token, redirect_url}.
func (s *Sandbox) snapCreate(w http.ResponseWriter, r *http.Request) {
	if !basicAuth(r, s.cfg.MidtransServerKey) {
		snapError(w, http.StatusUnauthorized,
			"Access denied due to unauthorized transaction, please check client or server key",
			"Visit https://snap-docs.midtrans.com/#request-headers for more details")
		return
	}
	var req snapRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody)).Decode(&req); err != nil {
		snapError(w, http.StatusBadRequest, "Invalid JSON: "+err.Error())
		return
	}
	var problems []string
	if req.TransactionDetails == nil || req.TransactionDetails.OrderID == "" {
		problems = append(problems, "transaction_details.order_id is required")
	}
	var gross int64
	if req.TransactionDetails != nil {
		var err error
		if gross, err = strconv.ParseInt(req.TransactionDetails.GrossAmount.String(), 10, 64); err != nil || gross < 1 {
			problems = append(problems, "transaction_details.gross_amount must be a positive integer")
		}
		if id := req.TransactionDetails.OrderID; len(id) > 50 || strings.Trim(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_~.") != "" {
			problems = append(problems, "transaction_details.order_id is invalid")
		}
	}
	var items []pageItem
	var sum int64
	for i, it := range req.ItemDetails {
		price, err1 := strconv.ParseInt(it.Price.String(), 10, 64)
		qty, err2 := strconv.ParseInt(it.Quantity.String(), 10, 64)
		if err1 != nil || err2 != nil || qty < 1 || it.Name == "" || len([]rune(it.Name)) > 50 {
			problems = append(problems, fmt.Sprintf("item_details[%d] is invalid", i))
			continue
		}
		sum += price * qty
		items = append(items, pageItem{Name: it.Name, Quantity: qty, Price: strconv.FormatInt(price, 10)})
	}
	if len(req.ItemDetails) > 0 && len(problems) == 0 && sum != gross {
		problems = append(problems, "transaction_details.gross_amount is not equal to the sum of item_details")
	}
	now := s.cfg.Now()
	expires := now.Add(24 * time.Hour)
	if e := req.Expiry; e != nil && len(problems) == 0 {
		start := now
		if e.StartTime != "" {
			t, err := time.Parse("2006-01-02 15:04:05 -0700", e.StartTime)
			if err != nil {
				problems = append(problems, "expiry.start_time must be in yyyy-MM-dd HH:mm:ss Z format")
			}
			start = t
		}
		unit := map[string]time.Duration{"minute": time.Minute, "minutes": time.Minute, "hour": time.Hour, "hours": time.Hour, "day": 24 * time.Hour, "days": 24 * time.Hour}[e.Unit]
		n, err := strconv.ParseInt(e.Duration.String(), 10, 64)
		if unit == 0 || err != nil || n < 1 {
			problems = append(problems, "expiry.unit and expiry.duration are invalid")
		} else {
			expires = start.Add(time.Duration(n) * unit)
		}
	}
	if len(problems) > 0 {
		snapError(w, http.StatusBadRequest, problems...)
		return
	}
	orderID := req.TransactionDetails.OrderID

	s.mu.Lock()
	ss := s.latest(Midtrans, orderID)
	switch {
	case ss != nil && ss.status != "":
		s.mu.Unlock()
		snapError(w, http.StatusBadRequest, "transaction_details.order_id has already been taken")
		return
	case ss == nil:
		ss = &session{
			provider: Midtrans, token: uuid(), orderID: orderID,
			amount: strconv.FormatInt(gross, 10), currency: "IDR",
			description: "Order " + orderID, items: items,
			created: now, updated: now, expiresAt: expires,
		}
		if req.Callbacks != nil {
			ss.successURL = req.Callbacks.Finish
		}
		s.add(ss)
	}
	token := ss.token
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]string{
		"token":        token,
		"redirect_url": s.cfg.Origin + PathPrefix + "page/midtrans/" + token,
	})
}

// midtransStatus serves GET /v2/{order_id or transaction_id}/status.
func (s *Sandbox) midtransStatus(w http.ResponseWriter, r *http.Request) {
	if !basicAuth(r, s.cfg.MidtransServerKey) {
		writeJSON(w, http.StatusUnauthorized, map[string]string{
			"status_code":    "401",
			"status_message": "Access denied due to unauthorized transaction, please check client or server key",
			"id":             uuid(),
		})
		return
	}
	id := r.PathValue("id")
	s.mu.Lock()
	ss := s.latest(Midtrans, id)
	if ss == nil {
		for _, x := range s.sessions {
			if x.provider == Midtrans && x.transactionID == id {
				ss = x
				break
			}
		}
	}
	var body []byte
	if ss != nil && ss.status != "" {
		body = s.midtransBody(ss, midtransNote{
			status: ss.status, statusCode: ss.statusCode, fraud: ss.fraudStatus,
			gross: ss.amount + ".00", message: "Success, transaction is found",
		}, s.cfg.Now())
	}
	s.mu.Unlock()
	if body == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{
			"status_code": "404", "status_message": "Transaction doesn't exist.", "id": uuid(),
		})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// midtransNote is one notification (or status answer) to build.
type midtransNote struct {
	status, statusCode, fraud string
	gross                     string // gross_amount exactly as it will be sent and signed
	refund                    string // refund_amount, for refunds
	message                   string
	badSignature              bool
}

// midtransWire is Midtrans's notification body, fields in Midtrans's order.
type midtransWire struct {
	TransactionTime   string     `json:"transaction_time"`
	TransactionStatus string     `json:"transaction_status"`
	TransactionID     string     `json:"transaction_id"`
	StatusMessage     string     `json:"status_message"`
	StatusCode        string     `json:"status_code"`
	SignatureKey      string     `json:"signature_key"`
	SettlementTime    string     `json:"settlement_time,omitempty"`
	PaymentType       string     `json:"payment_type"`
	OrderID           string     `json:"order_id"`
	MerchantID        string     `json:"merchant_id"`
	GrossAmount       string     `json:"gross_amount"`
	FraudStatus       string     `json:"fraud_status,omitempty"`
	Currency          string     `json:"currency"`
	VANumbers         []vaNumber `json:"va_numbers,omitempty"`
	ExpiryTime        string     `json:"expiry_time,omitempty"`
	RefundAmount      string     `json:"refund_amount,omitempty"`
}

type vaNumber struct {
	Bank     string `json:"bank"`
	VANumber string `json:"va_number"`
}

// midtransBody builds a signed notification body for ss. Callers hold mu (for ss).
func (s *Sandbox) midtransBody(ss *session, n midtransNote, now time.Time) []byte {
	if ss.transactionID == "" {
		ss.transactionID = uuid()
	}
	msg := n.message
	if msg == "" {
		msg = "midtrans payment notification"
	}
	key := s.cfg.MidtransServerKey
	if n.badSignature {
		key += "-not-the-server-key"
	}
	w := midtransWire{
		TransactionTime:   ss.created.In(wib).Format(midtransLayout),
		TransactionStatus: n.status,
		TransactionID:     ss.transactionID,
		StatusMessage:     msg,
		StatusCode:        n.statusCode,
		SignatureKey:      midtransSignature(ss.orderID, n.statusCode, n.gross, key),
		PaymentType:       "bank_transfer",
		OrderID:           ss.orderID,
		MerchantID:        "G000000000",
		GrossAmount:       n.gross,
		FraudStatus:       n.fraud,
		Currency:          "IDR",
		VANumbers:         []vaNumber{{Bank: "bca", VANumber: "80777" + ss.transactionID[:8]}},
		ExpiryTime:        ss.expiresAt.In(wib).Format(midtransLayout),
		RefundAmount:      n.refund,
	}
	if n.status == "settlement" {
		w.SettlementTime = now.In(wib).Format(midtransLayout)
	}
	if n.status == "capture" {
		w.PaymentType, w.VANumbers = "credit_card", nil
	}
	b, _ := json.Marshal(w) // a struct of strings always encodes
	return b
}

// midtransSignature is Midtrans's signature_key: hex(SHA-512(order_id + status_code +
// gross_amount + server key)).
func midtransSignature(orderID, statusCode, grossAmount, serverKey string) string {
	h := sha512.New()
	for _, p := range []string{orderID, statusCode, grossAmount, serverKey} {
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// midtransFinishURL is Snap's finish redirect: the merchant's URL with order_id,
// status_code and transaction_status appended.
func midtransFinishURL(base, orderID, statusCode, status string) string {
	if base == "" {
		return ""
	}
	u, err := url.Parse(base)
	if err != nil {
		return ""
	}
	q := u.Query()
	q.Set("order_id", orderID)
	q.Set("status_code", statusCode)
	q.Set("transaction_status", status)
	u.RawQuery = q.Encode()
	return u.String()
}
