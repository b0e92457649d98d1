package xendit_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/etalase/etalase/shared/commerce/money"
	"github.com/etalase/etalase/shared/commerce/payment"
	"github.com/etalase/etalase/shared/commerce/payment/xendit"
)

const (
	secretKey     = "xnd_development_TESTSECRET"
	callbackToken = "xnd-callback-token-TEST"
)

func idr(a int64) money.Money { return money.Money{Amount: a, Currency: "IDR"} }

func newClient(t *testing.T, cfg xendit.Config) *xendit.Client {
	t.Helper()
	if cfg.SecretKey == "" {
		cfg.SecretKey = secretKey
	}
	if cfg.CallbackToken == "" {
		cfg.CallbackToken = callbackToken
	}
	c, err := xendit.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// callback returns a PAID invoice callback body shaped like Xendit's, with fields
// replaced or removed (nil) by over.
func callback(over map[string]any) []byte {
	m := map[string]any{
		"id":                  "579c8d61f23fa4ca35e52da4",
		"external_id":         "ord-1",
		"user_id":             "5781d19b2e2385880609791c",
		"is_high":             false,
		"payment_method":      "BANK_TRANSFER",
		"status":              "PAID",
		"merchant_name":       "etalase",
		"amount":              json.Number("10000"),
		"paid_amount":         json.Number("10000"),
		"bank_code":           "BCA",
		"paid_at":             "2024-05-01T03:03:12.000Z",
		"description":         "Order ord-1",
		"created":             "2024-05-01T03:00:00.000Z",
		"updated":             "2024-05-01T03:03:12.000Z",
		"currency":            "IDR",
		"payment_channel":     "BCA",
		"payment_destination": "8808999912345678",
		"payment_id":          "pay-1",
	}
	for k, v := range over {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

func TestVerifyAndParse(t *testing.T) {
	c := newClient(t, xendit.Config{})
	good := map[string]string{"x-callback-token": callbackToken, "content-type": "application/json"}
	tests := []struct {
		name    string
		headers map[string]string
		body    []byte
		wantErr error
		check   func(t *testing.T, n payment.Notification)
	}{
		{name: "paid", headers: good, body: callback(nil), check: func(t *testing.T, n payment.Notification) {
			want := payment.Notification{
				Provider:       "xendit",
				NotificationID: "579c8d61f23fa4ca35e52da4:PAID",
				OrderID:        "ord-1",
				Amount:         idr(10000),
				Status:         "PAID",
				Outcome:        payment.OutcomePaid,
				ProviderRef:    "579c8d61f23fa4ca35e52da4",
				OccurredAt:     time.Date(2024, 5, 1, 3, 3, 12, 0, time.UTC),
				Raw:            callback(nil),
			}
			if diff := cmp.Diff(want, n); diff != "" {
				t.Errorf("notification (-want +got):\n%s", diff)
			}
		}},
		{name: "header name in any case", headers: map[string]string{"X-Callback-Token": callbackToken}, body: callback(nil)},
		{name: "settled", headers: good, body: callback(map[string]any{"status": "SETTLED"}), check: func(t *testing.T, n payment.Notification) {
			if n.Outcome != payment.OutcomePaid || n.NotificationID != "579c8d61f23fa4ca35e52da4:SETTLED" {
				t.Errorf("got %+v", n)
			}
		}},
		{name: "expired", headers: good, body: callback(map[string]any{"status": "EXPIRED", "paid_amount": nil, "paid_at": nil, "updated": "2024-05-02T03:00:00Z"}), check: func(t *testing.T, n payment.Notification) {
			if n.Outcome != payment.OutcomeExpired || n.Amount != idr(10000) || !n.OccurredAt.Equal(time.Date(2024, 5, 2, 3, 0, 0, 0, time.UTC)) {
				t.Errorf("got %+v", n)
			}
		}},
		{name: "paid amount differs from the invoice", headers: good, body: callback(map[string]any{"paid_amount": json.Number("9000")}), check: func(t *testing.T, n payment.Notification) {
			if n.Amount != idr(9000) {
				t.Errorf("amount = %v, want the paid amount", n.Amount)
			}
		}},
		{name: "decimals in a two-digit currency", headers: good, body: callback(map[string]any{"currency": "PHP", "amount": json.Number("125.5"), "paid_amount": json.Number("125.50")}), check: func(t *testing.T, n payment.Notification) {
			if n.Amount != (money.Money{Amount: 12550, Currency: "PHP"}) {
				t.Errorf("amount = %v", n.Amount)
			}
		}},
		{name: "IDR with .0", headers: good, body: callback(map[string]any{"amount": json.Number("10000.0"), "paid_amount": json.Number("10000.00")}), check: func(t *testing.T, n payment.Notification) {
			if n.Amount != idr(10000) {
				t.Errorf("amount = %v", n.Amount)
			}
		}},
		{name: "unknown status", headers: good, body: callback(map[string]any{"status": "VOIDED"}), check: func(t *testing.T, n payment.Notification) {
			if n.Outcome != payment.OutcomeUnknown {
				t.Errorf("got %+v", n)
			}
		}},

		// Tokens that must not verify: equal length, shorter, longer, empty, absent.
		{name: "wrong token of equal length", headers: map[string]string{"x-callback-token": "xnd-callback-token-TESX"}, body: callback(nil), wantErr: payment.ErrBadSignature},
		{name: "token differing in case", headers: map[string]string{"x-callback-token": strings.ToLower(callbackToken)}, body: callback(nil), wantErr: payment.ErrBadSignature},
		{name: "token prefix", headers: map[string]string{"x-callback-token": callbackToken[:5]}, body: callback(nil), wantErr: payment.ErrBadSignature},
		{name: "token with a suffix", headers: map[string]string{"x-callback-token": callbackToken + "x"}, body: callback(nil), wantErr: payment.ErrBadSignature},
		{name: "token with spaces", headers: map[string]string{"x-callback-token": " " + callbackToken}, body: callback(nil), wantErr: payment.ErrBadSignature},
		{name: "two tokens joined", headers: map[string]string{"x-callback-token": callbackToken + "," + callbackToken}, body: callback(nil), wantErr: payment.ErrBadSignature},
		{name: "empty token", headers: map[string]string{"x-callback-token": ""}, body: callback(nil), wantErr: payment.ErrBadSignature},
		{name: "no token", headers: map[string]string{"content-type": "application/json"}, body: callback(nil), wantErr: payment.ErrBadSignature},
		{name: "nil headers", headers: nil, body: callback(nil), wantErr: payment.ErrBadSignature},
		{name: "token in another header", headers: map[string]string{"authorization": callbackToken}, body: callback(nil), wantErr: payment.ErrBadSignature},
		{name: "bad token beats bad body", headers: map[string]string{"x-callback-token": "nope"}, body: []byte("garbage"), wantErr: payment.ErrBadSignature},

		// Authentic but not the documented shape.
		{name: "fractional rupiah", headers: good, body: callback(map[string]any{"paid_amount": json.Number("10000.5")}), wantErr: payment.ErrMalformed},
		{name: "fractional rupiah amount", headers: good, body: callback(map[string]any{"amount": json.Number("0.5"), "paid_amount": nil}), wantErr: payment.ErrMalformed},
		{name: "amount with exponent", headers: good, body: callback(map[string]any{"paid_amount": json.Number("1e4")}), wantErr: payment.ErrMalformed},
		{name: "negative amount", headers: good, body: callback(map[string]any{"paid_amount": json.Number("-10000")}), wantErr: payment.ErrMalformed},
		{name: "amount not a number", headers: good, body: callback(map[string]any{"amount": "ten thousand"}), wantErr: payment.ErrMalformed},
		{name: "amount an object", headers: good, body: callback(map[string]any{"amount": map[string]any{"value": 1}}), wantErr: payment.ErrMalformed},
		{name: "no amount", headers: good, body: callback(map[string]any{"amount": nil}), wantErr: payment.ErrMalformed},
		{name: "no currency", headers: good, body: callback(map[string]any{"currency": nil}), wantErr: payment.ErrMalformed},
		{name: "unsupported currency", headers: good, body: callback(map[string]any{"currency": "XXX"}), wantErr: payment.ErrMalformed},
		{name: "no id", headers: good, body: callback(map[string]any{"id": nil}), wantErr: payment.ErrMalformed},
		{name: "no external_id", headers: good, body: callback(map[string]any{"external_id": nil}), wantErr: payment.ErrMalformed},
		{name: "no status", headers: good, body: callback(map[string]any{"status": nil}), wantErr: payment.ErrMalformed},
		{name: "not JSON", headers: good, body: []byte("id=1"), wantErr: payment.ErrMalformed},
		{name: "JSON array", headers: good, body: []byte(`[]`), wantErr: payment.ErrMalformed},
		{name: "empty body", headers: good, body: nil, wantErr: payment.ErrMalformed},
		{name: "too large", headers: good, body: callback(map[string]any{"description": strings.Repeat("x", payment.MaxNotificationBytes)}), wantErr: payment.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := c.VerifyAndParse(tt.headers, tt.body)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), callbackToken) || strings.Contains(err.Error(), secretKey) {
					t.Errorf("error holds a secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if string(n.Raw) != string(tt.body) {
				t.Error("Raw is not the body as received")
			}
			if tt.check != nil {
				tt.check(t, n)
			}
		})
	}
}

// A client configured without a callback token accepts nothing, not even an empty
// token.
func TestVerifyWithoutConfiguredToken(t *testing.T) {
	c, err := xendit.New(xendit.Config{SecretKey: secretKey})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []map[string]string{nil, {"x-callback-token": ""}, {"x-callback-token": callbackToken}} {
		if _, err := c.VerifyAndParse(h, callback(nil)); !errors.Is(err, payment.ErrBadSignature) {
			t.Errorf("headers %v: err = %v", h, err)
		}
	}
	if _, err := xendit.New(xendit.Config{}); err == nil {
		t.Error("New with no key and no token succeeded")
	}
	if _, err := xendit.New(xendit.Config{SecretKey: "k", BaseURL: "https://k:@api.xendit.co"}); err == nil {
		t.Error("New with credentials in the URL succeeded")
	}
}

func TestOutcome(t *testing.T) {
	for status, want := range map[string]payment.Outcome{
		"PENDING": payment.OutcomePending, "PAID": payment.OutcomePaid, "SETTLED": payment.OutcomePaid,
		"EXPIRED": payment.OutcomeExpired, "paid": payment.OutcomeUnknown, "": payment.OutcomeUnknown,
	} {
		if got := xendit.Outcome(status); got != want {
			t.Errorf("Outcome(%q) = %s, want %s", status, got, want)
		}
	}
}

// fakeXendit answers each request with the response registered for its path (and
// query), recording requests.
type fakeXendit struct {
	mu      sync.Mutex
	reqs    []recorded
	answers map[string]answer
}

type answer struct {
	status int
	body   string
}

type recorded struct {
	method, uri, auth, contentType string
	body                           []byte
}

func (f *fakeXendit) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.reqs = append(f.reqs, recorded{r.Method, r.URL.RequestURI(), r.Header.Get("Authorization"), r.Header.Get("Content-Type"), b})
	a, ok := f.answers[r.Method+" "+r.URL.RequestURI()]
	f.mu.Unlock()
	if !ok {
		a = answer{404, `{"error_code":"INVOICE_NOT_FOUND_ERROR","message":"Invoice not found"}`}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(a.status)
	io.WriteString(w, a.body)
}

func (f *fakeXendit) requests() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.reqs...)
}

const invoiceResponse = `{"id":"579c8d61f23fa4ca35e52da4","external_id":"ord-1","user_id":"5781d19b2e2385880609791c","status":"PENDING","merchant_name":"etalase","amount":25000,"description":"Order ord-1","expiry_date":"2024-05-01T03:30:59.000Z","invoice_url":"https://checkout-staging.xendit.co/web/579c8d61f23fa4ca35e52da4","currency":"IDR","created":"2024-05-01T03:00:00.000Z","updated":"2024-05-01T03:00:00.000Z"}`

func TestCreateSession(t *testing.T) {
	now := time.Date(2024, 5, 1, 3, 0, 0, 500_000_000, time.UTC)
	f := &fakeXendit{answers: map[string]answer{"POST /v2/invoices": {200, invoiceResponse}}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	c := newClient(t, xendit.Config{BaseURL: srv.URL + "/", Now: func() time.Time { return now }})
	s, err := c.CreateSession(context.Background(), payment.SessionRequest{
		OrderID:     "ord-1",
		Amount:      idr(25000),
		Items:       []payment.Item{{ID: "p1", Name: "Kopi Susu", Price: idr(10000), Quantity: 2}, {ID: "p2", Name: "Roti", Price: idr(5000), Quantity: 1}},
		CustomerRef: "cust-7f3a",
		ExpiresAt:   now.Add(30*time.Minute + 59*time.Second + 900*time.Millisecond),
		SuccessURL:  "https://shop.example/orders/ord-1",
		FailureURL:  "https://shop.example/orders/ord-1?failed=1",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := payment.Session{
		RedirectURL: "https://checkout-staging.xendit.co/web/579c8d61f23fa4ca35e52da4",
		ProviderRef: "579c8d61f23fa4ca35e52da4",
		ExpiresAt:   time.Date(2024, 5, 1, 3, 30, 59, 0, time.UTC),
	}
	if diff := cmp.Diff(want, s); diff != "" {
		t.Errorf("session (-want +got):\n%s", diff)
	}
	reqs := f.requests()
	if len(reqs) != 1 || reqs[0].method != "POST" || reqs[0].uri != "/v2/invoices" || reqs[0].contentType != "application/json" {
		t.Fatalf("requests %+v", reqs)
	}
	if want := "Basic " + base64.StdEncoding.EncodeToString([]byte(secretKey+":")); reqs[0].auth != want {
		t.Errorf("Authorization = %q, want %q", reqs[0].auth, want)
	}
	var got map[string]any
	dec := json.NewDecoder(strings.NewReader(string(reqs[0].body)))
	dec.UseNumber()
	if err := dec.Decode(&got); err != nil {
		t.Fatal(err)
	}
	wantBody := map[string]any{
		"external_id":          "ord-1",
		"amount":               json.Number("25000"),
		"currency":             "IDR",
		"description":          "Order ord-1",
		"invoice_duration":     json.Number("1859"),
		"success_redirect_url": "https://shop.example/orders/ord-1",
		"failure_redirect_url": "https://shop.example/orders/ord-1?failed=1",
		"items": []any{
			map[string]any{"name": "Kopi Susu", "quantity": json.Number("2"), "price": json.Number("10000"), "reference_id": "p1"},
			map[string]any{"name": "Roti", "quantity": json.Number("1"), "price": json.Number("5000"), "reference_id": "p2"},
		},
		"metadata": map[string]any{"customer_ref": "cust-7f3a"},
	}
	if diff := cmp.Diff(wantBody, got); diff != "" {
		t.Errorf("invoice request (-want +got):\n%s", diff)
	}
}

func TestCreateSessionDecimalCurrency(t *testing.T) {
	f := &fakeXendit{answers: map[string]answer{"POST /v2/invoices": {200, invoiceResponse}}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	c := newClient(t, xendit.Config{BaseURL: srv.URL})
	if _, err := c.CreateSession(context.Background(), payment.SessionRequest{OrderID: "ord-1", Amount: money.Money{Amount: 12550, Currency: "PHP"}}); err != nil {
		t.Fatal(err)
	}
	if body := string(f.requests()[0].body); !strings.Contains(body, `"amount":125.50,`) || !strings.Contains(body, `"currency":"PHP"`) || strings.Contains(body, "invoice_duration") {
		t.Errorf("body %s", body)
	}
}

func TestCreateSessionErrors(t *testing.T) {
	valid := payment.SessionRequest{OrderID: "ord-1", Amount: idr(10000)}
	tests := []struct {
		name    string
		req     payment.SessionRequest
		ans     answer
		wantErr error
	}{
		{"bad key", valid, answer{401, `{"error_code":"INVALID_API_KEY","message":"API key is not authorized for this API service"}`}, payment.ErrRejected},
		{"validation", valid, answer{400, `{"error_code":"API_VALIDATION_ERROR","message":"amount must be a number"}`}, payment.ErrRejected},
		{"server error", valid, answer{500, `{"error_code":"SERVER_ERROR","message":"oops"}`}, payment.ErrUnavailable},
		{"rate limited", valid, answer{429, `{"error_code":"RATE_LIMIT_EXCEEDED"}`}, payment.ErrUnavailable},
		{"no invoice_url", valid, answer{200, `{"id":"x"}`}, payment.ErrUnavailable},
		{"invalid request", payment.SessionRequest{OrderID: "", Amount: idr(10000)}, answer{200, invoiceResponse}, payment.ErrInvalidRequest},
		{"deadline passed", payment.SessionRequest{OrderID: "ord-1", Amount: idr(10000), ExpiresAt: time.Now().Add(-time.Minute)}, answer{200, invoiceResponse}, payment.ErrInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeXendit{answers: map[string]answer{"POST /v2/invoices": tt.ans}}
			srv := httptest.NewServer(f)
			defer srv.Close()
			c := newClient(t, xendit.Config{BaseURL: srv.URL})
			_, err := c.CreateSession(context.Background(), tt.req)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), secretKey) || strings.Contains(err.Error(), base64.StdEncoding.EncodeToString([]byte(secretKey+":"))) {
				t.Errorf("error holds the key: %v", err)
			}
		})
	}
	// Unreachable, and slower than the injected client's timeout.
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.URL
	srv.Close()
	if _, err := newClient(t, xendit.Config{BaseURL: addr}).CreateSession(context.Background(), valid); !errors.Is(err, payment.ErrUnavailable) {
		t.Errorf("closed server: err = %v", err)
	}
	block := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-block }))
	defer slow.Close()
	defer close(block)
	c := newClient(t, xendit.Config{BaseURL: slow.URL, HTTPClient: &http.Client{Timeout: 50 * time.Millisecond}})
	if _, err := c.CreateSession(context.Background(), valid); !errors.Is(err, payment.ErrUnavailable) {
		t.Errorf("timeout: err = %v", err)
	}
	// Only a callback token: no API calls.
	c, err := xendit.New(xendit.Config{CallbackToken: callbackToken, BaseURL: addr})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateSession(context.Background(), valid); !errors.Is(err, payment.ErrInvalidRequest) {
		t.Errorf("no secret key: err = %v", err)
	}
}

func TestStatus(t *testing.T) {
	inv := func(id, status, updated string) string {
		return `{"id":"` + id + `","external_id":"ord-1","status":"` + status + `","amount":25000,"currency":"IDR","updated":"` + updated + `"}`
	}
	tests := []struct {
		name     string
		q        payment.StatusQuery
		answers  map[string]answer
		wantURI  string
		wantErr  error
		wantID   string
		wantStat string
	}{
		{"by invoice id", payment.StatusQuery{OrderID: "ord-1", ProviderRef: "inv-1"},
			map[string]answer{"GET /v2/invoices/inv-1": {200, inv("inv-1", "PAID", "2024-05-01T03:00:00Z")}},
			"/v2/invoices/inv-1", nil, "inv-1:PAID", "PAID"},
		{"by invoice id, unknown", payment.StatusQuery{ProviderRef: "inv-9"}, nil,
			"/v2/invoices/inv-9", payment.ErrNotFound, "", ""},
		{"by invoice id, another order", payment.StatusQuery{OrderID: "ord-2", ProviderRef: "inv-1"},
			map[string]answer{"GET /v2/invoices/inv-1": {200, inv("inv-1", "PAID", "2024-05-01T03:00:00Z")}},
			"/v2/invoices/inv-1", payment.ErrMalformed, "", ""},
		{"by order, furthest invoice wins", payment.StatusQuery{OrderID: "ord-1"},
			map[string]answer{"GET /v2/invoices?external_id=ord-1": {200, "[" + inv("inv-1", "EXPIRED", "2024-05-02T03:00:00Z") + "," + inv("inv-2", "PAID", "2024-05-01T03:00:00Z") + "," + inv("inv-3", "PENDING", "2024-05-03T03:00:00Z") + "]"}},
			"/v2/invoices?external_id=ord-1", nil, "inv-2:PAID", "PAID"},
		{"by order, latest among pending", payment.StatusQuery{OrderID: "ord-1"},
			map[string]answer{"GET /v2/invoices?external_id=ord-1": {200, "[" + inv("inv-1", "PENDING", "2024-05-02T03:00:00Z") + "," + inv("inv-3", "PENDING", "2024-05-03T03:00:00Z") + "]"}},
			"/v2/invoices?external_id=ord-1", nil, "inv-3:PENDING", "PENDING"},
		{"by order, none", payment.StatusQuery{OrderID: "ord-1"},
			map[string]answer{"GET /v2/invoices?external_id=ord-1": {200, "[]"}},
			"/v2/invoices?external_id=ord-1", payment.ErrNotFound, "", ""},
		{"by order, escaped", payment.StatusQuery{OrderID: "ord 1&x=2"},
			map[string]answer{"GET /v2/invoices?external_id=ord+1%26x%3D2": {200, "[]"}},
			"/v2/invoices?external_id=ord+1%26x%3D2", payment.ErrNotFound, "", ""},
		{"bad key", payment.StatusQuery{OrderID: "ord-1"},
			map[string]answer{"GET /v2/invoices?external_id=ord-1": {401, `{"error_code":"INVALID_API_KEY","message":"no"}`}},
			"/v2/invoices?external_id=ord-1", payment.ErrRejected, "", ""},
		{"server error", payment.StatusQuery{OrderID: "ord-1"},
			map[string]answer{"GET /v2/invoices?external_id=ord-1": {503, `upstream`}},
			"/v2/invoices?external_id=ord-1", payment.ErrUnavailable, "", ""},
		{"not a list", payment.StatusQuery{OrderID: "ord-1"},
			map[string]answer{"GET /v2/invoices?external_id=ord-1": {200, `{"data":[]}`}},
			"/v2/invoices?external_id=ord-1", payment.ErrMalformed, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeXendit{answers: tt.answers}
			srv := httptest.NewServer(f)
			defer srv.Close()
			c := newClient(t, xendit.Config{BaseURL: srv.URL})
			n, err := c.Status(context.Background(), tt.q)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			} else if n.NotificationID != tt.wantID || n.Status != tt.wantStat || n.Amount != idr(25000) || n.Provider != "xendit" {
				t.Errorf("notification %+v", n)
			}
			reqs := f.requests()
			if len(reqs) != 1 || reqs[0].method != "GET" || reqs[0].uri != tt.wantURI {
				t.Fatalf("requests %+v, want GET %s", reqs, tt.wantURI)
			}
			if want := "Basic " + base64.StdEncoding.EncodeToString([]byte(secretKey+":")); reqs[0].auth != want {
				t.Errorf("Authorization = %q", reqs[0].auth)
			}
		})
	}
}
