package midtrans_test

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
	"github.com/etalase/etalase/shared/commerce/payment/midtrans"
)

const serverKey = "SB-Mid-server-TEST"

var wib = time.FixedZone("WIB", 7*60*60)

func idr(a int64) money.Money { return money.Money{Amount: a, Currency: "IDR"} }

func newClient(t *testing.T, cfg midtrans.Config) *midtrans.Client {
	t.Helper()
	if cfg.ServerKey == "" {
		cfg.ServerKey = serverKey
	}
	c, err := midtrans.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSignatureKnownAnswers(t *testing.T) {
	// Expected values computed independently with `printf %s ... | sha512sum`.
	tests := []struct{ order, code, gross, key, want string }{
		{"ord-1", "200", "10000.00", serverKey,
			"b1eb8f169641cbff5bf2bd2a769aa5f0c24e686999300c94023e1d3522b96f36571ab64aa05c1df38b7060fe08032e8249e4c15947f03593c52281b68558d7e3"},
		// The inputs of Midtrans's own example ("Handle Notifications").
		{"1111", "200", "100000.00", "askvnoibnosifnboseofinbofinfgbiufglnbfg",
			"edc076b21793ebe3e17926350f5b8ae67d902fe657b3d0aa31b932d5c127e2375d308a2bc94f3265ac2d80a1f181a79b997ac178a236fcff35af263fc4d4c231"},
	}
	for _, tt := range tests {
		if got := midtrans.Signature(tt.order, tt.code, tt.gross, tt.key); got != tt.want {
			t.Errorf("Signature(%s, %s, %s) = %s, want %s", tt.order, tt.code, tt.gross, got, tt.want)
		}
	}
}

// notification returns a settlement notification body shaped like Midtrans's, with
// fields replaced or removed (nil) by over, signed over sign's values (order_id,
// status_code, gross_amount, key) where given, else over the body's own values.
func notification(over map[string]any, sign ...string) []byte {
	m := map[string]any{
		"transaction_time":   "2024-05-01 10:00:00",
		"transaction_status": "settlement",
		"transaction_id":     "9aed5972-5b6a-401e-894b-a32c91ed1a3a",
		"status_message":     "midtrans payment notification",
		"status_code":        "200",
		"settlement_time":    "2024-05-01 10:03:12",
		"payment_type":       "bank_transfer",
		"order_id":           "ord-1",
		"merchant_id":        "G141532850",
		"gross_amount":       "10000.00",
		"fraud_status":       "accept",
		"currency":           "IDR",
		"va_numbers":         []map[string]string{{"bank": "bca", "va_number": "812785002530231"}},
	}
	for k, v := range over {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	if _, ok := over["signature_key"]; !ok {
		str := func(k string) string {
			switch v := m[k].(type) {
			case string:
				return v
			case json.Number:
				return string(v)
			}
			return ""
		}
		order, code, gross, key := str("order_id"), str("status_code"), str("gross_amount"), serverKey
		if len(sign) == 4 {
			order, code, gross, key = sign[0], sign[1], sign[2], sign[3]
		}
		m["signature_key"] = midtrans.Signature(order, code, gross, key)
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

func TestVerifyAndParse(t *testing.T) {
	c := newClient(t, midtrans.Config{})
	validSig := midtrans.Signature("ord-1", "200", "10000.00", serverKey)
	tests := []struct {
		name    string
		body    []byte
		wantErr error
		check   func(t *testing.T, n payment.Notification)
	}{
		{name: "settlement", body: notification(nil), check: func(t *testing.T, n payment.Notification) {
			want := payment.Notification{
				Provider:       "midtrans",
				NotificationID: "9aed5972-5b6a-401e-894b-a32c91ed1a3a:settlement:200",
				OrderID:        "ord-1",
				Amount:         idr(10000),
				Status:         "settlement",
				FraudStatus:    "accept",
				Outcome:        payment.OutcomePaid,
				ProviderRef:    "9aed5972-5b6a-401e-894b-a32c91ed1a3a",
				OccurredAt:     time.Date(2024, 5, 1, 10, 3, 12, 0, wib),
				Raw:            notification(nil),
			}
			if diff := cmp.Diff(want, n); diff != "" {
				t.Errorf("notification (-want +got):\n%s", diff)
			}
		}},
		{name: "pending", body: notification(map[string]any{"transaction_status": "pending", "status_code": "201", "fraud_status": nil, "settlement_time": nil}),
			check: func(t *testing.T, n payment.Notification) {
				if n.Outcome != payment.OutcomePending || n.NotificationID != "9aed5972-5b6a-401e-894b-a32c91ed1a3a:pending:201" || !n.OccurredAt.Equal(time.Date(2024, 5, 1, 10, 0, 0, 0, wib)) {
					t.Errorf("got %+v", n)
				}
			}},
		{name: "capture challenged", body: notification(map[string]any{"transaction_status": "capture", "status_code": "201", "fraud_status": "challenge", "payment_type": "credit_card"}),
			check: func(t *testing.T, n payment.Notification) {
				if n.Outcome != payment.OutcomePending || n.FraudStatus != "challenge" || !strings.HasSuffix(n.NotificationID, ":capture:201") {
					t.Errorf("got %+v", n)
				}
			}},
		{name: "capture accepted", body: notification(map[string]any{"transaction_status": "capture", "fraud_status": "accept", "payment_type": "credit_card"}),
			check: func(t *testing.T, n payment.Notification) {
				if n.Outcome != payment.OutcomePaid || !strings.HasSuffix(n.NotificationID, ":capture:200") {
					t.Errorf("got %+v", n)
				}
			}},
		{name: "expire", body: notification(map[string]any{"transaction_status": "expire", "status_code": "202", "settlement_time": nil}),
			check: func(t *testing.T, n payment.Notification) {
				if n.Outcome != payment.OutcomeExpired || !n.OccurredAt.IsZero() {
					t.Errorf("got %+v", n)
				}
			}},
		{name: "partial refunds differ by refund_amount", body: notification(map[string]any{"transaction_status": "partial_refund", "refund_amount": "2500.00"}),
			check: func(t *testing.T, n payment.Notification) {
				if n.Outcome != payment.OutcomePartiallyRefunded || !strings.HasSuffix(n.NotificationID, ":partial_refund:200:2500.00") {
					t.Errorf("got %+v", n)
				}
			}},
		{name: "unknown status is kept, not acted on", body: notification(map[string]any{"transaction_status": "something_new"}),
			check: func(t *testing.T, n payment.Notification) {
				if n.Outcome != payment.OutcomeUnknown || n.Status != "something_new" {
					t.Errorf("got %+v", n)
				}
			}},
		{name: "no currency means IDR", body: notification(map[string]any{"currency": nil}),
			check: func(t *testing.T, n payment.Notification) {
				if n.Amount != idr(10000) {
					t.Errorf("amount = %v", n.Amount)
				}
			}},
		{name: "gross_amount signed as received without decimals", body: notification(map[string]any{"gross_amount": "10000"}),
			check: func(t *testing.T, n payment.Notification) {
				if n.Amount != idr(10000) {
					t.Errorf("amount = %v", n.Amount)
				}
			}},
		{name: "gross_amount as a JSON number, signed as written", body: notification(map[string]any{"gross_amount": json.Number("10000.00")}),
			check: func(t *testing.T, n payment.Notification) {
				if n.Amount != idr(10000) {
					t.Errorf("amount = %v", n.Amount)
				}
			}},
		{name: "upper-case hex signature", body: notification(map[string]any{"signature_key": strings.ToUpper(validSig)})},

		// Signatures that must not verify.
		{name: "tampered order_id", body: notification(map[string]any{"order_id": "ord-2"}, "ord-1", "200", "10000.00", serverKey), wantErr: payment.ErrBadSignature},
		{name: "tampered status_code", body: notification(map[string]any{"status_code": "201"}, "ord-1", "200", "10000.00", serverKey), wantErr: payment.ErrBadSignature},
		{name: "tampered gross_amount", body: notification(map[string]any{"gross_amount": "100.00"}, "ord-1", "200", "10000.00", serverKey), wantErr: payment.ErrBadSignature},
		{name: "wrong server key", body: notification(nil, "ord-1", "200", "10000.00", "SB-Mid-server-OTHER"), wantErr: payment.ErrBadSignature},
		{name: "signed over 10000.00, body says 10000", body: notification(map[string]any{"gross_amount": "10000"}, "ord-1", "200", "10000.00", serverKey), wantErr: payment.ErrBadSignature},
		{name: "signed over 10000, body says 10000.00", body: notification(nil, "ord-1", "200", "10000", serverKey), wantErr: payment.ErrBadSignature},
		{name: "no signature_key", body: notification(map[string]any{"signature_key": nil}), wantErr: payment.ErrBadSignature},
		{name: "empty signature_key", body: notification(map[string]any{"signature_key": ""}), wantErr: payment.ErrBadSignature},
		{name: "signature of the right length, all zeros", body: notification(map[string]any{"signature_key": strings.Repeat("0", 128)}), wantErr: payment.ErrBadSignature},
		{name: "signature one byte short", body: notification(map[string]any{"signature_key": validSig[:126]}), wantErr: payment.ErrBadSignature},
		{name: "signature one byte long", body: notification(map[string]any{"signature_key": validSig + "00"}), wantErr: payment.ErrBadSignature},
		{name: "signature odd length", body: notification(map[string]any{"signature_key": validSig[:127]}), wantErr: payment.ErrBadSignature},
		{name: "signature not hex", body: notification(map[string]any{"signature_key": strings.Repeat("z", 128)}), wantErr: payment.ErrBadSignature},
		{name: "signature of another type", body: notification(map[string]any{"signature_key": 12}), wantErr: payment.ErrMalformed},
		{name: "signature of the bare key", body: notification(map[string]any{"signature_key": serverKey}), wantErr: payment.ErrBadSignature},

		// Verified but not the documented shape.
		{name: "fractional rupiah", body: notification(map[string]any{"gross_amount": "10000.50"}), wantErr: payment.ErrMalformed},
		{name: "negative amount", body: notification(map[string]any{"gross_amount": "-10000.00"}), wantErr: payment.ErrMalformed},
		{name: "amount with exponent", body: notification(map[string]any{"gross_amount": json.Number("1e4")}), wantErr: payment.ErrMalformed},
		{name: "unsupported currency", body: notification(map[string]any{"currency": "XXX"}), wantErr: payment.ErrMalformed},
		{name: "no transaction_id", body: notification(map[string]any{"transaction_id": nil}), wantErr: payment.ErrMalformed},
		{name: "no transaction_status", body: notification(map[string]any{"transaction_status": nil}), wantErr: payment.ErrMalformed},
		{name: "no order_id", body: notification(map[string]any{"order_id": nil}), wantErr: payment.ErrMalformed},
		{name: "status_code not 3 digits", body: notification(map[string]any{"status_code": "2000"}), wantErr: payment.ErrMalformed},
		{name: "status_code a boolean", body: notification(map[string]any{"status_code": true}), wantErr: payment.ErrMalformed},
		{name: "not JSON", body: []byte("order_id=ord-1"), wantErr: payment.ErrMalformed},
		{name: "JSON array", body: []byte(`[{"order_id":"ord-1"}]`), wantErr: payment.ErrMalformed},
		{name: "JSON null", body: []byte(`null`), wantErr: payment.ErrMalformed},
		{name: "empty body", body: nil, wantErr: payment.ErrMalformed},
		{name: "truncated JSON", body: notification(nil)[:40], wantErr: payment.ErrMalformed},
		{name: "too large", body: notification(map[string]any{"padding": strings.Repeat("x", payment.MaxNotificationBytes)}), wantErr: payment.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := c.VerifyAndParse(map[string]string{"content-type": "application/json"}, tt.body)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), serverKey) {
					t.Errorf("error text holds the server key: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if string(n.Raw) != string(tt.body) {
				t.Errorf("Raw is not the body as received")
			}
			if tt.check != nil {
				tt.check(t, n)
			}
		})
	}
}

func TestVerifyAndParseKeepsRawCopy(t *testing.T) {
	c := newClient(t, midtrans.Config{})
	body := notification(nil)
	n, err := c.VerifyAndParse(nil, body)
	if err != nil {
		t.Fatal(err)
	}
	body[0] = 'X'
	if n.Raw[0] != '{' {
		t.Error("Raw aliases the caller's buffer")
	}
}

func TestOutcome(t *testing.T) {
	tests := []struct {
		status, fraud string
		want          payment.Outcome
	}{
		{"settlement", "", payment.OutcomePaid},
		{"settlement", "accept", payment.OutcomePaid},
		{"capture", "accept", payment.OutcomePaid},
		{"capture", "challenge", payment.OutcomePending},
		{"capture", "deny", payment.OutcomeFailed},
		{"capture", "", payment.OutcomePending},
		{"pending", "", payment.OutcomePending},
		{"authorize", "accept", payment.OutcomePending},
		{"deny", "", payment.OutcomeFailed},
		{"failure", "", payment.OutcomeFailed},
		{"cancel", "", payment.OutcomeCancelled},
		{"expire", "", payment.OutcomeExpired},
		{"refund", "", payment.OutcomeRefunded},
		{"chargeback", "", payment.OutcomeRefunded},
		{"partial_refund", "", payment.OutcomePartiallyRefunded},
		{"partial_chargeback", "", payment.OutcomePartiallyRefunded},
		{"SETTLEMENT", "", payment.OutcomeUnknown},
		{"", "", payment.OutcomeUnknown},
	}
	for _, tt := range tests {
		if got := midtrans.Outcome(tt.status, tt.fraud); got != tt.want {
			t.Errorf("Outcome(%q, %q) = %s, want %s", tt.status, tt.fraud, got, tt.want)
		}
	}
}

// fakeMidtrans records requests and answers with a fixed status and body.
type fakeMidtrans struct {
	mu     sync.Mutex
	reqs   []recorded
	status int
	body   string
}

type recorded struct {
	method, path, auth, contentType string
	body                            []byte
}

func (f *fakeMidtrans) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.reqs = append(f.reqs, recorded{r.Method, r.URL.EscapedPath(), r.Header.Get("Authorization"), r.Header.Get("Content-Type"), b})
	status, body := f.status, f.body
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func (f *fakeMidtrans) requests() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.reqs...)
}

func TestCreateSession(t *testing.T) {
	now := time.Date(2024, 5, 1, 3, 0, 30, 0, time.UTC) // 10:00:30 WIB
	req := payment.SessionRequest{
		OrderID: "ord-1",
		Amount:  idr(25000),
		Items: []payment.Item{
			{ID: "p1", Name: "Kopi Susu", Price: idr(10000), Quantity: 2},
			{ID: "p2", Name: strings.Repeat("Roti ", 20), Price: idr(5000), Quantity: 1},
		},
		CustomerRef: "cust-7f3a",
		ExpiresAt:   now.Add(30*time.Minute + 59*time.Second),
		SuccessURL:  "https://shop.example/orders/ord-1",
	}
	f := &fakeMidtrans{status: 201, body: `{"token":"66e4fa55-fdac-4ef9-91b5-733b97d1b862","redirect_url":"https://app.sandbox.midtrans.com/snap/v4/redirection/66e4fa55-fdac-4ef9-91b5-733b97d1b862"}`}
	srv := httptest.NewServer(f)
	defer srv.Close()
	c := newClient(t, midtrans.Config{SnapBaseURL: srv.URL + "/", Now: func() time.Time { return now }})

	s, err := c.CreateSession(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	want := payment.Session{
		RedirectURL: "https://app.sandbox.midtrans.com/snap/v4/redirection/66e4fa55-fdac-4ef9-91b5-733b97d1b862",
		ProviderRef: "66e4fa55-fdac-4ef9-91b5-733b97d1b862",
		Token:       "66e4fa55-fdac-4ef9-91b5-733b97d1b862",
	}
	if diff := cmp.Diff(want, s); diff != "" {
		t.Errorf("session (-want +got):\n%s", diff)
	}
	reqs := f.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	if r.method != "POST" || r.path != "/snap/v1/transactions" || r.contentType != "application/json" {
		t.Errorf("request %s %s (%s)", r.method, r.path, r.contentType)
	}
	if want := "Basic " + base64.StdEncoding.EncodeToString([]byte(serverKey+":")); r.auth != want {
		t.Errorf("Authorization = %q, want %q", r.auth, want)
	}
	var got map[string]any
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatal(err)
	}
	wantBody := map[string]any{
		"transaction_details": map[string]any{"order_id": "ord-1", "gross_amount": 25000.0},
		"item_details": []any{
			map[string]any{"id": "p1", "price": 10000.0, "quantity": 2.0, "name": "Kopi Susu"},
			map[string]any{"id": "p2", "price": 5000.0, "quantity": 1.0, "name": strings.Repeat("Roti ", 10)},
		},
		"expiry":    map[string]any{"start_time": "2024-05-01 10:00:30 +0700", "unit": "minute", "duration": 30.0},
		"callbacks": map[string]any{"finish": "https://shop.example/orders/ord-1"},
		"metadata":  map[string]any{"customer_ref": "cust-7f3a"},
	}
	if diff := cmp.Diff(wantBody, got); diff != "" {
		t.Errorf("Snap request body (-want +got):\n%s", diff)
	}
	// gross_amount is an integer on the wire, never "25000.00" or 25000.0.
	if !strings.Contains(string(r.body), `"gross_amount":25000}`) {
		t.Errorf("gross_amount is not a plain integer: %s", r.body)
	}
}

func TestCreateSessionErrors(t *testing.T) {
	now := time.Date(2024, 5, 1, 3, 0, 0, 0, time.UTC)
	valid := payment.SessionRequest{OrderID: "ord-1", Amount: idr(10000), ExpiresAt: now.Add(time.Hour)}
	tests := []struct {
		name     string
		mutate   func(r *payment.SessionRequest)
		status   int
		body     string
		wantErr  error
		wantCall bool
	}{
		{"401 bad key", nil, 401, `{"error_messages":["Access denied due to unauthorized transaction, please check client or server key"]}`, payment.ErrRejected, true},
		{"400 duplicate order", nil, 400, `{"error_messages":["transaction_details.order_id has already been taken"]}`, payment.ErrRejected, true},
		{"500", nil, 500, `{"error_messages":["internal"]}`, payment.ErrUnavailable, true},
		{"429", nil, 429, `{}`, payment.ErrUnavailable, true},
		{"201 without token", nil, 201, `{"redirect_url":"x"}`, payment.ErrUnavailable, true},
		{"201 not JSON", nil, 201, `<html>`, payment.ErrUnavailable, true},
		{"not IDR", func(r *payment.SessionRequest) { r.Amount = money.Money{Amount: 1000, Currency: "USD"} }, 201, "", payment.ErrInvalidRequest, false},
		{"order id with a slash", func(r *payment.SessionRequest) { r.OrderID = "ord/1" }, 201, "", payment.ErrInvalidRequest, false},
		{"order id too long", func(r *payment.SessionRequest) { r.OrderID = strings.Repeat("a", 51) }, 201, "", payment.ErrInvalidRequest, false},
		{"deadline under a minute", func(r *payment.SessionRequest) { r.ExpiresAt = now.Add(59 * time.Second) }, 201, "", payment.ErrInvalidRequest, false},
		{"deadline passed", func(r *payment.SessionRequest) { r.ExpiresAt = now.Add(-time.Hour) }, 201, "", payment.ErrInvalidRequest, false},
		{"zero amount", func(r *payment.SessionRequest) { r.Amount = idr(0) }, 201, "", payment.ErrInvalidRequest, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeMidtrans{status: tt.status, body: tt.body}
			srv := httptest.NewServer(f)
			defer srv.Close()
			c := newClient(t, midtrans.Config{SnapBaseURL: srv.URL, Now: func() time.Time { return now }})
			r := valid
			if tt.mutate != nil {
				tt.mutate(&r)
			}
			_, err := c.CreateSession(context.Background(), r)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), serverKey) || strings.Contains(err.Error(), base64.StdEncoding.EncodeToString([]byte(serverKey+":"))) {
				t.Errorf("error text holds the key: %v", err)
			}
			if called := len(f.requests()) > 0; called != tt.wantCall {
				t.Errorf("called Midtrans = %v, want %v", called, tt.wantCall)
			}
		})
	}
}

func TestCreateSessionTransportErrors(t *testing.T) {
	req := payment.SessionRequest{OrderID: "ord-1", Amount: idr(10000)}

	// Nothing listening.
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.URL
	srv.Close()
	c := newClient(t, midtrans.Config{SnapBaseURL: addr})
	if _, err := c.CreateSession(context.Background(), req); !errors.Is(err, payment.ErrUnavailable) {
		t.Errorf("closed server: err = %v", err)
	}

	// Slower than the injected client's timeout.
	block := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-block }))
	defer slow.Close()
	defer close(block)
	c = newClient(t, midtrans.Config{SnapBaseURL: slow.URL, HTTPClient: &http.Client{Timeout: 50 * time.Millisecond}})
	if _, err := c.CreateSession(context.Background(), req); !errors.Is(err, payment.ErrUnavailable) {
		t.Errorf("timeout: err = %v", err)
	}

	// No Snap base URL configured.
	c = newClient(t, midtrans.Config{})
	if _, err := c.CreateSession(context.Background(), req); !errors.Is(err, payment.ErrInvalidRequest) {
		t.Errorf("no base URL: err = %v", err)
	}
}

func TestNewConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  midtrans.Config
		ok   bool
	}{
		{"verify only", midtrans.Config{ServerKey: "k"}, true},
		{"sandbox", midtrans.Config{ServerKey: "k", SnapBaseURL: midtrans.SandboxSnapBaseURL, APIBaseURL: midtrans.SandboxAPIBaseURL}, true},
		{"no key", midtrans.Config{SnapBaseURL: midtrans.SandboxSnapBaseURL}, false},
		{"credentials in URL", midtrans.Config{ServerKey: "k", SnapBaseURL: "https://k:@app.midtrans.com"}, false},
		{"not http", midtrans.Config{ServerKey: "k", APIBaseURL: "ftp://api.midtrans.com"}, false},
		{"no host", midtrans.Config{ServerKey: "k", APIBaseURL: "https://"}, false},
	}
	for _, tt := range tests {
		_, err := midtrans.New(tt.cfg)
		if (err == nil) != tt.ok {
			t.Errorf("%s: New() err = %v", tt.name, err)
		}
		if err != nil && tt.cfg.ServerKey != "" && strings.Contains(err.Error(), tt.cfg.ServerKey+":@") {
			t.Errorf("%s: error holds the key", tt.name)
		}
	}
}

func TestStatus(t *testing.T) {
	expired := notification(map[string]any{"transaction_status": "expire", "status_code": "407", "status_message": "Success, transaction is found"})
	tests := []struct {
		name     string
		q        payment.StatusQuery
		status   int
		body     string
		wantPath string
		wantErr  error
		wantOut  payment.Outcome
	}{
		{"settled", payment.StatusQuery{OrderID: "ord-1"}, 200, string(notification(nil)), "/v2/ord-1/status", nil, payment.OutcomePaid},
		{"expired answers 407 in the body", payment.StatusQuery{OrderID: "ord-1"}, 200, string(expired), "/v2/ord-1/status", nil, payment.OutcomeExpired},
		{"by transaction id", payment.StatusQuery{OrderID: "ord-1", ProviderRef: "9aed5972"}, 200, string(notification(nil)), "/v2/9aed5972/status", nil, payment.OutcomePaid},
		{"id escaped", payment.StatusQuery{ProviderRef: "tx 1/2"}, 200, string(notification(nil)), "/v2/tx%201%2F2/status", nil, payment.OutcomePaid},
		{"answer for another order", payment.StatusQuery{OrderID: "ord-2"}, 200, string(notification(nil)), "/v2/ord-2/status", payment.ErrMalformed, ""},
		{"tampered answer", payment.StatusQuery{OrderID: "ord-1"}, 200, string(notification(map[string]any{"gross_amount": "1.00"}, "ord-1", "200", "10000.00", serverKey)), "/v2/ord-1/status", payment.ErrBadSignature, ""},
		{"not found in body", payment.StatusQuery{OrderID: "ord-9"}, 200, `{"status_code":"404","status_message":"Transaction doesn't exist.","id":"e3f1c5d2"}`, "/v2/ord-9/status", payment.ErrNotFound, ""},
		{"not found HTTP", payment.StatusQuery{OrderID: "ord-9"}, 404, `{"status_code":"404","status_message":"Transaction doesn't exist."}`, "/v2/ord-9/status", payment.ErrNotFound, ""},
		{"bad key", payment.StatusQuery{OrderID: "ord-1"}, 401, `{"status_code":"401","status_message":"Access denied"}`, "/v2/ord-1/status", payment.ErrRejected, ""},
		{"bad key in body", payment.StatusQuery{OrderID: "ord-1"}, 200, `{"status_code":"401","status_message":"Access denied"}`, "/v2/ord-1/status", payment.ErrRejected, ""},
		{"server error", payment.StatusQuery{OrderID: "ord-1"}, 500, `{"status_code":"500"}`, "/v2/ord-1/status", payment.ErrUnavailable, ""},
		{"server error in body", payment.StatusQuery{OrderID: "ord-1"}, 200, `{"status_code":"500","status_message":"Internal"}`, "/v2/ord-1/status", payment.ErrUnavailable, ""},
		{"not JSON", payment.StatusQuery{OrderID: "ord-1"}, 502, `<html>bad gateway</html>`, "/v2/ord-1/status", payment.ErrUnavailable, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeMidtrans{status: tt.status, body: tt.body}
			srv := httptest.NewServer(f)
			defer srv.Close()
			c := newClient(t, midtrans.Config{APIBaseURL: srv.URL})
			n, err := c.Status(context.Background(), tt.q)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			} else if n.Outcome != tt.wantOut || n.OrderID != "ord-1" || n.Provider != "midtrans" {
				t.Errorf("notification %+v", n)
			}
			reqs := f.requests()
			if len(reqs) != 1 || reqs[0].method != "GET" || reqs[0].path != tt.wantPath {
				t.Fatalf("requests %+v, want GET %s", reqs, tt.wantPath)
			}
			if want := "Basic " + base64.StdEncoding.EncodeToString([]byte(serverKey+":")); reqs[0].auth != want {
				t.Errorf("Authorization = %q", reqs[0].auth)
			}
		})
	}
	if _, err := newClient(t, midtrans.Config{APIBaseURL: "http://127.0.0.1:1"}).Status(context.Background(), payment.StatusQuery{}); !errors.Is(err, payment.ErrInvalidRequest) {
		t.Errorf("empty query: err = %v", err)
	}
}

// A status answer and the webhook notification for the same change share an id, so
// reconciliation and the webhook store it once.
func TestStatusAndNotificationShareID(t *testing.T) {
	body := notification(nil)
	f := &fakeMidtrans{status: 200, body: string(body)}
	srv := httptest.NewServer(f)
	defer srv.Close()
	c := newClient(t, midtrans.Config{APIBaseURL: srv.URL})
	st, err := c.Status(context.Background(), payment.StatusQuery{OrderID: "ord-1"})
	if err != nil {
		t.Fatal(err)
	}
	wh, err := c.VerifyAndParse(nil, body)
	if err != nil {
		t.Fatal(err)
	}
	if st.Key() != wh.Key() {
		t.Errorf("status key %q, webhook key %q", st.Key(), wh.Key())
	}
}
