package paysandbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/etalase/etalase/infra/localrun/paysandbox"
	"github.com/etalase/etalase/shared/commerce/money"
	"github.com/etalase/etalase/shared/commerce/payment"
	"github.com/etalase/etalase/shared/commerce/payment/midtrans"
	"github.com/etalase/etalase/shared/commerce/payment/xendit"
)

const (
	midtransKey = "SB-Mid-server-sandbox-test"
	xenditKey   = "xnd_development_sandbox_test"
	xenditToken = "sandbox-test-callback-token"
)

func idr(a int64) money.Money { return money.Money{Amount: a, Currency: "IDR"} }

// received is one request the fake webhook got, and what the adapter made of it.
type received struct {
	provider string
	headers  map[string]string
	body     []byte
	note     payment.Notification
	err      error
}

// webhook is a fake commerce webhook: it verifies each notification with the real
// adapter, as the paymentwebhook function will, and answers 200, 401 or 400.
type webhook struct {
	mu        sync.Mutex
	got       []received
	verifiers map[string]payment.NotificationVerifier
}

func (wh *webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	provider := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
	body, _ := io.ReadAll(r.Body)
	headers := map[string]string{}
	for k, v := range r.Header {
		headers[strings.ToLower(k)] = strings.Join(v, ",") // as API Gateway passes them
	}
	v, ok := wh.verifiers[provider]
	if !ok {
		http.NotFound(w, r)
		return
	}
	n, err := v.VerifyAndParse(headers, body)
	wh.mu.Lock()
	wh.got = append(wh.got, received{provider, headers, body, n, err})
	wh.mu.Unlock()
	switch {
	case errors.Is(err, payment.ErrBadSignature):
		w.WriteHeader(http.StatusUnauthorized)
	case err != nil:
		w.WriteHeader(http.StatusBadRequest)
	}
}

func (wh *webhook) received() []received {
	wh.mu.Lock()
	defer wh.mu.Unlock()
	return append([]received(nil), wh.got...)
}

// env is a sandbox on its own origin, a fake webhook, and the two adapters pointed at
// the sandbox.
type env struct {
	origin   string
	sb       *paysandbox.Sandbox
	wh       *webhook
	midtrans *midtrans.Client
	xendit   *xendit.Client
	now      time.Time
}

func newEnv(t *testing.T, mod func(*paysandbox.Config)) *env {
	t.Helper()
	e := &env{now: time.Now()}
	var err error
	e.midtrans, err = midtrans.New(midtrans.Config{ServerKey: midtransKey})
	if err != nil {
		t.Fatal(err)
	}
	e.xendit, err = xendit.New(xendit.Config{SecretKey: xenditKey, CallbackToken: xenditToken})
	if err != nil {
		t.Fatal(err)
	}
	e.wh = &webhook{verifiers: map[string]payment.NotificationVerifier{"midtrans": e.midtrans, "xendit": e.xendit}}
	hook := httptest.NewServer(e.wh)
	t.Cleanup(hook.Close)

	srv := httptest.NewUnstartedServer(nil)
	e.origin = "http://" + srv.Listener.Addr().String()
	cfg := paysandbox.Config{
		MidtransServerKey:   midtransKey,
		XenditSecretKey:     xenditKey,
		XenditCallbackToken: xenditToken,
		MidtransNotifyURL:   hook.URL + "/commerce/v1/webhooks/midtrans",
		XenditCallbackURL:   hook.URL + "/commerce/v1/webhooks/xendit",
		Origin:              e.origin,
	}
	if mod != nil {
		mod(&cfg)
	}
	e.sb = paysandbox.New(cfg)
	srv.Config.Handler = e.sb.Handler()
	srv.Start()
	t.Cleanup(srv.Close)
	t.Cleanup(e.sb.Close)

	// The adapters as the functions configure them locally: both Midtrans hosts and
	// the Xendit host are the sandbox.
	if e.midtrans, err = midtrans.New(midtrans.Config{ServerKey: midtransKey, SnapBaseURL: e.origin + "/_local/pay/midtrans", APIBaseURL: e.origin + "/_local/pay/midtrans"}); err != nil {
		t.Fatal(err)
	}
	if e.xendit, err = xendit.New(xendit.Config{SecretKey: xenditKey, CallbackToken: xenditToken, BaseURL: e.origin + "/_local/pay/xendit"}); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (e *env) click(t *testing.T, pageURL, action string) (int, string) {
	t.Helper()
	resp, err := http.PostForm(pageURL, url.Values{"action": {action}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (e *env) control(t *testing.T, body string) (int, paysandbox.NotifyResponse, string) {
	t.Helper()
	resp, err := http.Post(e.origin+"/_local/pay/control/notify", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out paysandbox.NotifyResponse
	_ = json.Unmarshal(b, &out)
	return resp.StatusCode, out, string(b)
}

func (e *env) sent(t *testing.T, query string) []paysandbox.Delivery {
	t.Helper()
	status, body := e.get(t, e.origin+"/_local/pay/control/sent?"+query)
	if status != 200 {
		t.Fatalf("control/sent: %d %s", status, body)
	}
	var out paysandbox.SentResponse
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatal(err)
	}
	return out.Deliveries
}

func (e *env) midtransSession(t *testing.T, orderID string, amount int64) payment.Session {
	t.Helper()
	s, err := e.midtrans.CreateSession(context.Background(), payment.SessionRequest{
		OrderID: orderID, Amount: idr(amount), ExpiresAt: time.Now().Add(30 * time.Minute),
		SuccessURL: "https://shop.example/orders/" + orderID,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (e *env) xenditSession(t *testing.T, orderID string, amount int64) payment.Session {
	t.Helper()
	s, err := e.xendit.CreateSession(context.Background(), payment.SessionRequest{
		OrderID: orderID, Amount: idr(amount), ExpiresAt: time.Now().Add(30 * time.Minute),
		SuccessURL: "https://shop.example/orders/" + orderID, FailureURL: "https://shop.example/orders/" + orderID + "?failed",
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestMidtransPayThroughThePage(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	s, err := e.midtrans.CreateSession(ctx, payment.SessionRequest{
		OrderID: "ord-m1", Amount: idr(25000),
		Items:      []payment.Item{{ID: "p1", Name: "Kopi Susu", Price: idr(10000), Quantity: 2}, {ID: "p2", Name: "Roti", Price: idr(5000), Quantity: 1}},
		ExpiresAt:  time.Now().Add(30 * time.Minute),
		SuccessURL: "https://shop.example/orders/ord-m1",
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.RedirectURL, e.origin+"/_local/pay/page/midtrans/") || s.Token == "" || !strings.HasSuffix(s.RedirectURL, s.Token) {
		t.Fatalf("session %+v", s)
	}
	// Before the buyer pays, Midtrans knows no transaction.
	if _, err := e.midtrans.Status(ctx, payment.StatusQuery{OrderID: "ord-m1"}); !errors.Is(err, payment.ErrNotFound) {
		t.Fatalf("status before paying: %v", err)
	}
	// Asking again for the same unpaid order gives the same session.
	if again := e.midtransSession(t, "ord-m1", 25000); again.Token != s.Token {
		t.Errorf("second session %+v", again)
	}

	status, html := e.get(t, s.RedirectURL)
	for _, want := range []string{"ord-m1", "IDR 25.000", "2 × Kopi Susu", `value="pay"`, `value="fail"`, `value="expire"`} {
		if status != 200 || !strings.Contains(html, want) {
			t.Fatalf("page (%d) lacks %q:\n%s", status, want, html)
		}
	}

	status, html = e.click(t, s.RedirectURL, "pay")
	if status != 200 || !strings.Contains(html, "Payment successful") || !strings.Contains(html, "HTTP 200") {
		t.Fatalf("after pay (%d):\n%s", status, html)
	}
	if !strings.Contains(html, "order_id=ord-m1&amp;status_code=200&amp;transaction_status=settlement") {
		t.Errorf("no Snap finish redirect to the shop:\n%s", html)
	}
	got := e.wh.received()
	if len(got) != 1 {
		t.Fatalf("webhook got %d notifications", len(got))
	}
	n := got[0].note
	if got[0].err != nil || n.Outcome != payment.OutcomePaid || n.Status != "settlement" || n.OrderID != "ord-m1" || n.Amount != idr(25000) {
		t.Fatalf("webhook: %+v, %v", n, got[0].err)
	}
	if !strings.Contains(string(got[0].body), `"gross_amount":"25000.00"`) || !strings.Contains(string(got[0].body), `"status_code":"200"`) {
		t.Errorf("notification body %s", got[0].body)
	}

	// Reconciliation sees the same state, with the same store-once key.
	st, err := e.midtrans.Status(ctx, payment.StatusQuery{OrderID: "ord-m1"})
	if err != nil || st.Key() != n.Key() || st.Outcome != payment.OutcomePaid {
		t.Fatalf("status after paying: %+v, %v (webhook key %s)", st, err, n.Key())
	}
	if st2, err := e.midtrans.Status(ctx, payment.StatusQuery{ProviderRef: n.ProviderRef}); err != nil || st2.OrderID != "ord-m1" {
		t.Errorf("status by transaction id: %+v, %v", st2, err)
	}

	// Paid: no buttons, the order id is taken, a second click is refused.
	if _, html := e.get(t, s.RedirectURL); strings.Contains(html, `value="pay"`) || !strings.Contains(html, "settlement") {
		t.Errorf("paid page still offers payment:\n%s", html)
	}
	if _, err := e.midtrans.CreateSession(ctx, payment.SessionRequest{OrderID: "ord-m1", Amount: idr(25000)}); !errors.Is(err, payment.ErrRejected) {
		t.Errorf("reusing a paid order id: %v", err)
	}
	if status, _ := e.click(t, s.RedirectURL, "pay"); status != http.StatusConflict {
		t.Errorf("second pay: %d", status)
	}
	if len(e.wh.received()) != 1 {
		t.Errorf("a refused click sent a notification")
	}
}

func TestPageFailAndExpire(t *testing.T) {
	tests := []struct {
		provider, action string
		wantStatus       string
		wantOutcome      payment.Outcome
		wantSent         bool
	}{
		{"midtrans", "fail", "deny", payment.OutcomeFailed, true},
		{"midtrans", "expire", "expire", payment.OutcomeExpired, true},
		{"xendit", "pay", "PAID", payment.OutcomePaid, true},
		{"xendit", "expire", "EXPIRED", payment.OutcomeExpired, true},
		{"xendit", "fail", "", "", false}, // Xendit sends nothing for a failed attempt
	}
	for _, tt := range tests {
		t.Run(tt.provider+" "+tt.action, func(t *testing.T) {
			e := newEnv(t, nil)
			var s payment.Session
			var prov payment.StatusChecker
			if tt.provider == "midtrans" {
				s, prov = e.midtransSession(t, "ord-1", 10000), e.midtrans
			} else {
				s, prov = e.xenditSession(t, "ord-1", 10000), e.xendit
			}
			status, html := e.click(t, s.RedirectURL, tt.action)
			if status != 200 {
				t.Fatalf("click: %d %s", status, html)
			}
			got := e.wh.received()
			if !tt.wantSent {
				if len(got) != 0 || !strings.Contains(html, "stays PENDING") {
					t.Fatalf("sent %d notifications; page:\n%s", len(got), html)
				}
				st, err := prov.Status(context.Background(), payment.StatusQuery{OrderID: "ord-1"})
				if err != nil || st.Status != "PENDING" {
					t.Errorf("status %+v, %v", st, err)
				}
				return
			}
			if len(got) != 1 || got[0].err != nil || got[0].note.Status != tt.wantStatus || got[0].note.Outcome != tt.wantOutcome {
				t.Fatalf("webhook got %+v", got)
			}
			st, err := prov.Status(context.Background(), payment.StatusQuery{OrderID: "ord-1"})
			if err != nil || st.Key() != got[0].note.Key() {
				t.Errorf("status %+v, %v; webhook key %s", st, err, got[0].note.Key())
			}
		})
	}
}

func TestXenditPayThroughThePage(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	s := e.xenditSession(t, "ord-x1", 150000)
	if !strings.HasPrefix(s.RedirectURL, e.origin+"/_local/pay/page/xendit/") || s.ProviderRef == "" || s.ExpiresAt.IsZero() {
		t.Fatalf("session %+v", s)
	}
	st, err := e.xendit.Status(ctx, payment.StatusQuery{ProviderRef: s.ProviderRef})
	if err != nil || st.Status != "PENDING" || st.Amount != idr(150000) || st.OrderID != "ord-x1" {
		t.Fatalf("status of a new invoice: %+v, %v", st, err)
	}
	status, html := e.get(t, s.RedirectURL)
	if status != 200 || !strings.Contains(html, "IDR 150.000") || !strings.Contains(html, "ord-x1") || !strings.Contains(html, `value="pay"`) {
		t.Fatalf("page (%d):\n%s", status, html)
	}
	if status, html = e.click(t, s.RedirectURL, "pay"); status != 200 || !strings.Contains(html, "HTTP 200") || !strings.Contains(html, "https://shop.example/orders/ord-x1") {
		t.Fatalf("after pay (%d):\n%s", status, html)
	}
	got := e.wh.received()
	if len(got) != 1 || got[0].err != nil {
		t.Fatalf("webhook got %+v", got)
	}
	if got[0].headers["x-callback-token"] != xenditToken || got[0].note.Outcome != payment.OutcomePaid || got[0].note.Amount != idr(150000) {
		t.Errorf("callback %+v", got[0])
	}
	body := string(got[0].body)
	for _, want := range []string{`"external_id":"ord-x1"`, `"status":"PAID"`, `"amount":150000`, `"paid_amount":150000`, `"currency":"IDR"`, `"paid_at":"`} {
		if !strings.Contains(body, want) {
			t.Errorf("callback body lacks %s: %s", want, body)
		}
	}
	for _, q := range []payment.StatusQuery{{ProviderRef: s.ProviderRef}, {OrderID: "ord-x1"}} {
		st, err := e.xendit.Status(ctx, q)
		if err != nil || st.Key() != got[0].note.Key() {
			t.Errorf("status %+v: %+v, %v", q, st, err)
		}
	}
}

func TestProviderAPIsCheckKeys(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	req := payment.SessionRequest{OrderID: "ord-1", Amount: idr(10000)}
	badM, _ := midtrans.New(midtrans.Config{ServerKey: "SB-Mid-server-WRONG", SnapBaseURL: e.origin + "/_local/pay/midtrans", APIBaseURL: e.origin + "/_local/pay/midtrans"})
	if _, err := badM.CreateSession(ctx, req); !errors.Is(err, payment.ErrRejected) {
		t.Errorf("Snap with a wrong key: %v", err)
	}
	if _, err := badM.Status(ctx, payment.StatusQuery{OrderID: "ord-1"}); !errors.Is(err, payment.ErrRejected) {
		t.Errorf("status with a wrong key: %v", err)
	}
	badX, _ := xendit.New(xendit.Config{SecretKey: "xnd_development_WRONG", BaseURL: e.origin + "/_local/pay/xendit"})
	if _, err := badX.CreateSession(ctx, req); !errors.Is(err, payment.ErrRejected) {
		t.Errorf("invoice with a wrong key: %v", err)
	}
	for _, tt := range []struct{ method, path, body, want string }{
		{"POST", "/_local/pay/midtrans/snap/v1/transactions", `{"transaction_details":{"order_id":"o","gross_amount":1}}`, `"error_messages"`},
		{"GET", "/_local/pay/midtrans/v2/o/status", "", `"status_code":"401"`},
		{"POST", "/_local/pay/xendit/v2/invoices", `{"external_id":"o","amount":1}`, `"error_code":"INVALID_API_KEY"`},
		{"GET", "/_local/pay/xendit/v2/invoices/abc", "", `"error_code":"INVALID_API_KEY"`},
		{"GET", "/_local/pay/xendit/v2/invoices?external_id=o", "", `"error_code":"INVALID_API_KEY"`},
	} {
		for _, auth := range []string{"", "key-without-colon", midtransKey + ":x"} {
			r, _ := http.NewRequest(tt.method, e.origin+tt.path, strings.NewReader(tt.body))
			if auth != "" {
				user, pass, _ := strings.Cut(auth, ":")
				r.SetBasicAuth(user, pass)
			}
			resp, err := http.DefaultClient.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 401 || !strings.Contains(string(b), tt.want) {
				t.Errorf("%s %s (auth %q): %d %s", tt.method, tt.path, auth, resp.StatusCode, b)
			}
		}
	}
}

func TestProviderAPIsValidate(t *testing.T) {
	e := newEnv(t, nil)
	post := func(path, user, body string) (int, string) {
		r, _ := http.NewRequest("POST", e.origin+path, strings.NewReader(body))
		r.SetBasicAuth(user, "")
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	snap := "/_local/pay/midtrans/snap/v1/transactions"
	inv := "/_local/pay/xendit/v2/invoices"
	tests := []struct {
		name, path, user, body string
		want                   int
	}{
		{"snap ok", snap, midtransKey, `{"transaction_details":{"order_id":"a-1","gross_amount":10000}}`, 201},
		{"snap decimal amount", snap, midtransKey, `{"transaction_details":{"order_id":"a-2","gross_amount":10000.5}}`, 400},
		{"snap string amount", snap, midtransKey, `{"transaction_details":{"order_id":"a-3","gross_amount":"10000.00"}}`, 400},
		{"snap no order id", snap, midtransKey, `{"transaction_details":{"gross_amount":10000}}`, 400},
		{"snap bad order id", snap, midtransKey, `{"transaction_details":{"order_id":"a/4","gross_amount":10000}}`, 400},
		{"snap items do not add up", snap, midtransKey, `{"transaction_details":{"order_id":"a-5","gross_amount":10000},"item_details":[{"id":"p","price":5000,"quantity":1,"name":"x"}]}`, 400},
		{"snap bad expiry", snap, midtransKey, `{"transaction_details":{"order_id":"a-6","gross_amount":10000},"expiry":{"unit":"fortnight","duration":1}}`, 400},
		{"snap not JSON", snap, midtransKey, `order_id=a-7`, 400},
		{"invoice ok", inv, xenditKey, `{"external_id":"b-1","amount":10000}`, 200},
		{"invoice no external id", inv, xenditKey, `{"amount":10000}`, 400},
		{"invoice zero amount", inv, xenditKey, `{"external_id":"b-2","amount":0}`, 400},
		{"invoice negative amount", inv, xenditKey, `{"external_id":"b-3","amount":-5}`, 400},
		{"invoice currency", inv, xenditKey, `{"external_id":"b-4","amount":5,"currency":"EUR"}`, 400},
		{"invoice duration", inv, xenditKey, `{"external_id":"b-5","amount":5,"invoice_duration":0}`, 400},
	}
	for _, tt := range tests {
		if status, body := post(tt.path, tt.user, tt.body); status != tt.want {
			t.Errorf("%s: %d %s, want %d", tt.name, status, body, tt.want)
		}
	}
	if _, err := e.xendit.Status(context.Background(), payment.StatusQuery{ProviderRef: "no-such-invoice"}); !errors.Is(err, payment.ErrNotFound) {
		t.Errorf("unknown invoice: %v", err)
	}
	if _, err := e.xendit.Status(context.Background(), payment.StatusQuery{OrderID: "no-such-order"}); !errors.Is(err, payment.ErrNotFound) {
		t.Errorf("unknown order: %v", err)
	}
}

func TestControlNotify(t *testing.T) {
	tests := []struct {
		name, provider, body string
		// want lists, per delivery, status:outcome-or-error as the webhook saw it.
		want []string
		// wantState is the status the status API reports afterwards ("" means not found).
		wantState  string
		wantAmount int64
	}{
		{"midtrans duplicates", "midtrans", `{"provider":"midtrans","orderId":"ord-1","status":"settlement","duplicate":2}`,
			[]string{"settlement:PAID", "settlement:PAID", "settlement:PAID"}, "settlement", 10000},
		{"midtrans stale pending after settlement", "midtrans", `{"provider":"midtrans","orderId":"ord-1","status":"settlement","reorderWith":["pending","capture"]}`,
			[]string{"settlement:PAID", "pending:PENDING", "capture:PAID"}, "settlement", 10000},
		{"midtrans duplicated and reordered", "midtrans", `{"provider":"midtrans","orderId":"ord-1","status":"expire","duplicate":1,"reorderWith":["pending"]}`,
			[]string{"expire:EXPIRED", "expire:EXPIRED", "pending:PENDING"}, "expire", 10000},
		{"midtrans bad signature", "midtrans", `{"provider":"midtrans","orderId":"ord-1","status":"settlement","badSignature":true,"duplicate":1}`,
			[]string{"bad signature", "bad signature"}, "", 0},
		{"midtrans wrong amount, correctly signed", "midtrans", `{"provider":"midtrans","orderId":"ord-1","status":"settlement","amountOverride":9000}`,
			[]string{"settlement:PAID"}, "settlement", 9000},
		{"midtrans fractional amount", "midtrans", `{"provider":"midtrans","orderId":"ord-1","status":"settlement","amountOverride":"10000.50"}`,
			[]string{"malformed"}, "settlement", 0},
		{"midtrans challenged capture", "midtrans", `{"provider":"midtrans","orderId":"ord-1","status":"capture","fraudStatus":"challenge"}`,
			[]string{"capture:PENDING"}, "capture", 10000},
		{"midtrans late payment", "midtrans", `{"provider":"midtrans","orderId":"ord-1","status":"settlement","reorderWith":["expire"]}`,
			[]string{"settlement:PAID", "expire:EXPIRED"}, "settlement", 10000},
		{"xendit duplicates", "xendit", `{"provider":"xendit","orderId":"ord-1","status":"PAID","duplicate":3}`,
			[]string{"PAID:PAID", "PAID:PAID", "PAID:PAID", "PAID:PAID"}, "PAID", 10000},
		{"xendit stale pending after paid", "xendit", `{"provider":"xendit","orderId":"ord-1","status":"SETTLED","reorderWith":["PAID","EXPIRED"]}`,
			[]string{"SETTLED:PAID", "PAID:PAID", "EXPIRED:EXPIRED"}, "SETTLED", 10000},
		{"xendit bad token", "xendit", `{"provider":"xendit","orderId":"ord-1","status":"PAID","badSignature":true}`,
			[]string{"bad signature"}, "PENDING", 10000},
		{"xendit wrong amount", "xendit", `{"provider":"xendit","orderId":"ord-1","status":"PAID","amountOverride":1}`,
			[]string{"PAID:PAID"}, "PAID", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			var prov payment.StatusChecker = e.midtrans
			if tt.provider == "xendit" {
				e.xenditSession(t, "ord-1", 10000)
				prov = e.xendit
			} else {
				e.midtransSession(t, "ord-1", 10000)
			}
			e.midtransSession(t, "ord-other", 5000) // must not be touched

			status, resp, raw := e.control(t, tt.body)
			if status != 200 || resp.Scheduled != len(tt.want) || len(resp.Deliveries) != len(tt.want) {
				t.Fatalf("control: %d %s", status, raw)
			}
			got := e.wh.received()
			if len(got) != len(tt.want) {
				t.Fatalf("webhook got %d notifications, want %d", len(got), len(tt.want))
			}
			for i, r := range got {
				var desc string
				switch {
				case errors.Is(r.err, payment.ErrBadSignature):
					desc = "bad signature"
				case errors.Is(r.err, payment.ErrMalformed):
					desc = "malformed"
				case r.err != nil:
					desc = r.err.Error()
				default:
					desc = r.note.Status + ":" + string(r.note.Outcome)
					if r.note.OrderID != "ord-1" {
						t.Errorf("delivery %d is for order %s", i, r.note.OrderID)
					}
					if i == 0 && r.note.Amount != idr(tt.wantAmount) {
						t.Errorf("amount %v, want %d", r.note.Amount, tt.wantAmount)
					}
				}
				if desc != tt.want[i] {
					t.Errorf("delivery %d: %s, want %s", i, desc, tt.want[i])
				}
				// What was sent is what arrived, and what the record says.
				if !bytes.Equal(r.body, resp.Deliveries[i].Body) {
					t.Errorf("delivery %d: body differs from the record", i)
				}
			}
			// Duplicates are byte-identical and share the store-once key.
			for i := 1; i < len(resp.Deliveries); i++ {
				if resp.Deliveries[i].Copy > 0 {
					if !bytes.Equal(resp.Deliveries[i].Body, resp.Deliveries[0].Body) || (got[i].err == nil && got[i].note.Key() != got[0].note.Key()) {
						t.Errorf("duplicate %d differs from the first", i)
					}
				} else if resp.Deliveries[i].Stale && got[i].err == nil && got[0].err == nil && got[i].note.Key() == got[0].note.Key() {
					t.Errorf("stale delivery %d has the current one's key", i)
				}
			}
			// The record of sent notifications says the same, in order.
			recs := e.sent(t, "orderId=ord-1&provider="+tt.provider)
			if len(recs) != len(tt.want) {
				t.Fatalf("control/sent has %d records", len(recs))
			}
			for i, d := range recs {
				if d.Seq != resp.Deliveries[i].Seq || (i > 0 && d.Seq <= recs[i-1].Seq) || d.Source != "control" {
					t.Errorf("record %d: %+v", i, d)
				}
				wantCode := 200
				switch tt.want[i] {
				case "bad signature":
					wantCode = 401
				case "malformed":
					wantCode = 400
				}
				if d.ResponseStatus != wantCode {
					t.Errorf("record %d: webhook answered %d, want %d", i, d.ResponseStatus, wantCode)
				}
			}
			if others := e.sent(t, "orderId=ord-other"); len(others) != 0 {
				t.Errorf("another order got %d notifications", len(others))
			}
			// Only the current status, validly signed, changes what the provider reports.
			st, err := prov.Status(context.Background(), payment.StatusQuery{OrderID: "ord-1"})
			if tt.wantState == "" {
				if !errors.Is(err, payment.ErrNotFound) {
					t.Errorf("status: %+v, %v; want not found", st, err)
				}
			} else if err != nil || st.Status != tt.wantState {
				t.Errorf("status: %+v, %v; want %s", st, err, tt.wantState)
			}
		})
	}
}

func TestControlNotifyDelayed(t *testing.T) {
	e := newEnv(t, nil)
	e.midtransSession(t, "ord-1", 10000)
	status, resp, raw := e.control(t, `{"provider":"midtrans","orderId":"ord-1","status":"settlement","delayMs":20,"duplicate":1}`)
	if status != http.StatusAccepted || resp.Scheduled != 2 || len(resp.Deliveries) != 0 {
		t.Fatalf("control: %d %s", status, raw)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(e.sent(t, "orderId=ord-1")) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("delayed notifications never came")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := e.wh.received(); len(got) != 2 || got[0].err != nil || got[1].err != nil {
		t.Errorf("webhook got %+v", got)
	}

	// A long delay is cancelled by Close: nothing more is sent.
	e.midtransSession(t, "ord-2", 10000)
	if status, _, raw := e.control(t, `{"provider":"midtrans","orderId":"ord-2","status":"settlement","delayMs":60000}`); status != http.StatusAccepted {
		t.Fatalf("control: %d %s", status, raw)
	}
	e.sb.Close()
	if n := len(e.sb.Sent("ord-2")); n != 0 {
		t.Errorf("%d notifications sent after Close", n)
	}
}

func TestControlNotifyRejects(t *testing.T) {
	e := newEnv(t, nil)
	e.midtransSession(t, "ord-1", 10000)
	tests := []struct {
		name, body string
		want       int
	}{
		{"unknown order", `{"provider":"midtrans","orderId":"nope","status":"settlement"}`, 404},
		{"order of the other provider", `{"provider":"xendit","orderId":"ord-1","status":"PAID"}`, 404},
		{"unknown provider", `{"provider":"stripe","orderId":"ord-1","status":"settlement"}`, 400},
		{"xendit status for midtrans", `{"provider":"midtrans","orderId":"ord-1","status":"PAID"}`, 400},
		{"bad reorder status", `{"provider":"midtrans","orderId":"ord-1","status":"settlement","reorderWith":["paid"]}`, 400},
		{"too many duplicates", `{"provider":"midtrans","orderId":"ord-1","status":"settlement","duplicate":21}`, 400},
		{"negative delay", `{"provider":"midtrans","orderId":"ord-1","status":"settlement","delayMs":-1}`, 400},
		{"amount not a number", `{"provider":"midtrans","orderId":"ord-1","status":"settlement","amountOverride":"ten"}`, 400},
		{"unknown field", `{"provider":"midtrans","orderId":"ord-1","status":"settlement","dupes":2}`, 400},
		{"not JSON", `provider=midtrans`, 400},
	}
	for _, tt := range tests {
		if status, _, raw := e.control(t, tt.body); status != tt.want || !strings.Contains(raw, `"error"`) {
			t.Errorf("%s: %d %s, want %d", tt.name, status, raw, tt.want)
		}
	}
	if n := len(e.wh.received()); n != 0 {
		t.Errorf("rejected requests sent %d notifications", n)
	}
}

func TestStateIsBounded(t *testing.T) {
	e := newEnv(t, func(c *paysandbox.Config) { c.MaxSessions, c.MaxSent = 3, 2 })
	var sessions []payment.Session
	for _, id := range []string{"o-1", "o-2", "o-3", "o-4", "o-5"} {
		sessions = append(sessions, e.midtransSession(t, id, 1000))
	}
	for i, s := range sessions {
		status, _ := e.get(t, s.RedirectURL)
		if want := map[bool]int{true: 404, false: 200}[i < 2]; status != want {
			t.Errorf("session %d page: %d, want %d", i, status, want)
		}
	}
	if status, _, _ := e.control(t, `{"provider":"midtrans","orderId":"o-1","status":"settlement"}`); status != 404 {
		t.Errorf("evicted order: %d", status)
	}
	if status, _, raw := e.control(t, `{"provider":"midtrans","orderId":"o-5","status":"settlement","duplicate":3}`); status != 200 {
		t.Fatalf("control: %d %s", status, raw)
	}
	if recs := e.sent(t, ""); len(recs) != 2 || recs[0].Seq != 3 || recs[1].Seq != 4 {
		t.Errorf("records %+v, want the last two", recs)
	}
}

func TestIndexAndDefaults(t *testing.T) {
	e := newEnv(t, nil)
	e.midtransSession(t, "ord-idx", 12345)
	status, html := e.get(t, e.origin+"/_local/pay/")
	if status != 200 || !strings.Contains(html, "ord-idx") || !strings.Contains(html, "IDR 12.345") {
		t.Errorf("index (%d):\n%s", status, html)
	}
	if status, _ := e.get(t, e.origin+"/_local/pay/page/midtrans/nope"); status != 404 {
		t.Errorf("unknown page: %d", status)
	}

	// Defaults: keys, and webhook URLs on the origin.
	hits := make(chan string, 1)
	srv := httptest.NewUnstartedServer(nil)
	origin := "http://" + srv.Listener.Addr().String()
	sb := paysandbox.New(paysandbox.Config{Origin: origin})
	defer sb.Close()
	mux := http.NewServeMux()
	mux.Handle(paysandbox.PathPrefix, sb.Handler())
	mux.HandleFunc("POST /commerce/v1/webhooks/midtrans", func(w http.ResponseWriter, r *http.Request) { hits <- r.URL.Path })
	srv.Config.Handler = mux
	srv.Start()
	defer srv.Close()
	m, _ := midtrans.New(midtrans.Config{ServerKey: paysandbox.DefaultMidtransServerKey, SnapBaseURL: origin + "/_local/pay/midtrans"})
	s, err := m.CreateSession(context.Background(), payment.SessionRequest{OrderID: "d-1", Amount: idr(1000)})
	if err != nil {
		t.Fatal(err)
	}
	if status, html := e.click(t, s.RedirectURL, "pay"); status != 200 || !regexp.MustCompile(`HTTP 200`).MatchString(html) {
		t.Errorf("pay with defaults: %d\n%s", status, html)
	}
	select {
	case p := <-hits:
		if p != "/commerce/v1/webhooks/midtrans" {
			t.Errorf("default notify path %s", p)
		}
	default:
		t.Error("the default notify URL got nothing")
	}
}
