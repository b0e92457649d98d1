// Package paysandbox is the local stand-in for the payment providers: Midtrans (Snap,
// the status API, HTTP notifications) and Xendit (invoices, invoice callbacks), served
// under PathPrefix on the local HTTP API's origin, so that the commerce functions run
// locally against the same wire formats as in the cloud, only with other base URLs.
//
// Its handler serves:
//
//	POST /_local/pay/midtrans/snap/v1/transactions   Snap: create a transaction (201 token, redirect_url)
//	GET  /_local/pay/midtrans/v2/{order_id}/status   Core API: transaction status, signed
//	POST /_local/pay/xendit/v2/invoices              create an invoice
//	GET  /_local/pay/xendit/v2/invoices/{id}         get an invoice
//	GET  /_local/pay/xendit/v2/invoices?external_id= the invoices of an order (a list)
//	GET  /_local/pay/page/{provider}/{token}         the hosted payment page (Pay, Fail, Let expire)
//	POST /_local/pay/page/{provider}/{token}         a click on the page: sends the notification
//	POST /_local/pay/control/notify                  tests/ops: send notifications on demand
//	GET  /_local/pay/control/sent?orderId=&provider= tests/ops: every notification sent
//	GET  /_local/pay/                                an index of recent sessions
//
// The provider APIs check HTTP Basic auth with the configured keys as the real ones do
// (401 otherwise). Notifications are signed as the providers sign them: Midtrans's
// signature_key = hex(SHA-512(order_id + status_code + gross_amount + server key)),
// Xendit's x-callback-token header. The signing here is written independently of the
// adapters in shared/commerce/payment, so that a test of one against the other means
// something.
//
// The sandbox sends no notification by itself (no retries, no expiry timer): a click on
// the page sends one, and the control API sends exactly what it is asked for:
// duplicates, stale statuses after the current one, delays, bad signatures and wrong
// amounts. All state is in memory and bounded (oldest sessions and records go first).
package paysandbox

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
)

// PathPrefix is where the runner mounts the Sandbox's handler.
const PathPrefix = "/_local/pay/"

// Defaults for a Config that leaves keys empty; the local template parameters use the
// same values so that functions and sandbox agree.
const (
	DefaultMidtransServerKey   = "SB-Mid-server-local-sandbox"
	DefaultXenditSecretKey     = "xnd_development_local_sandbox"
	DefaultXenditCallbackToken = "local-sandbox-callback-token"
)

// Default bounds of the in-memory state.
const (
	DefaultMaxSessions = 10_000
	DefaultMaxSent     = 10_000
)

// Provider names, as in paths and control requests.
const (
	Midtrans = "midtrans"
	Xendit   = "xendit"
)

// maxBody bounds a request body the sandbox reads.
const maxBody = 1 << 20

// Config configures a Sandbox.
type Config struct {
	// MidtransServerKey is the server key Snap and the status API accept and that
	// notifications are signed with; empty means DefaultMidtransServerKey.
	MidtransServerKey string
	// XenditSecretKey is the API key the invoice API accepts; empty means
	// DefaultXenditSecretKey.
	XenditSecretKey string
	// XenditCallbackToken is sent in x-callback-token; empty means
	// DefaultXenditCallbackToken.
	XenditCallbackToken string
	// MidtransNotifyURL and XenditCallbackURL are the webhook routes notifications go
	// to; empty means {Origin}/commerce/v1/webhooks/midtrans and .../xendit.
	MidtransNotifyURL, XenditCallbackURL string
	// Origin is the local HTTP API's origin, e.g. "http://127.0.0.1:3000"; payment
	// page URLs are built on it.
	Origin string
	// HTTPClient delivers notifications; nil means a client with a 10 s timeout.
	HTTPClient *http.Client
	// Log receives one line per notification sent (never a key, token or signature);
	// nil means no log.
	Log *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// MaxSessions and MaxSent bound the state; zero means the defaults.
	MaxSessions, MaxSent int
}

// Sandbox is the local payment sandbox. It is safe for concurrent use.
type Sandbox struct {
	cfg  Config
	log  *slog.Logger
	mux  *http.ServeMux
	ctx  context.Context
	stop context.CancelFunc
	wg   sync.WaitGroup

	mu       sync.Mutex
	sessions map[string]*session   // by provider + "/" + token
	orders   map[string][]*session // by provider + "/" + order id, oldest first
	fifo     []string              // session keys, oldest first, for eviction
	sent     []Delivery            // oldest first, at most MaxSent
	seq      int64
}

// session is one Snap transaction or Xendit invoice.
type session struct {
	provider    string
	token       string // Snap token, or Xendit invoice id
	orderID     string
	amount      string // major units as a decimal ("25000", "125.50")
	currency    string
	description string
	items       []pageItem
	successURL  string
	failureURL  string
	created     time.Time
	expiresAt   time.Time
	updated     time.Time

	// Provider state, changed by notifications sent with a valid signature.
	status        string // "" (Midtrans: no transaction yet), then the last status sent
	statusCode    string // Midtrans
	fraudStatus   string // Midtrans
	transactionID string // Midtrans, assigned with the first notification
	paidAt        time.Time
	paymentID     string // Xendit
}

// pageItem is an item line shown on the payment page.
type pageItem struct {
	Name     string
	Quantity int64
	Price    string
}

// New returns a Sandbox for cfg, filling in defaults.
func New(cfg Config) *Sandbox {
	cfg.Origin = strings.TrimSuffix(cfg.Origin, "/")
	if cfg.MidtransServerKey == "" {
		cfg.MidtransServerKey = DefaultMidtransServerKey
	}
	if cfg.XenditSecretKey == "" {
		cfg.XenditSecretKey = DefaultXenditSecretKey
	}
	if cfg.XenditCallbackToken == "" {
		cfg.XenditCallbackToken = DefaultXenditCallbackToken
	}
	if cfg.MidtransNotifyURL == "" {
		cfg.MidtransNotifyURL = cfg.Origin + "/commerce/v1/webhooks/midtrans"
	}
	if cfg.XenditCallbackURL == "" {
		cfg.XenditCallbackURL = cfg.Origin + "/commerce/v1/webhooks/xendit"
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = DefaultMaxSessions
	}
	if cfg.MaxSent <= 0 {
		cfg.MaxSent = DefaultMaxSent
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	ctx, stop := context.WithCancel(context.Background())
	s := &Sandbox{
		cfg: cfg, log: log, ctx: ctx, stop: stop,
		sessions: map[string]*session{},
		orders:   map[string][]*session{},
	}
	m := http.NewServeMux()
	m.HandleFunc("POST /_local/pay/midtrans/snap/v1/transactions", s.snapCreate)
	m.HandleFunc("GET /_local/pay/midtrans/v2/{id}/status", s.midtransStatus)
	m.HandleFunc("POST /_local/pay/xendit/v2/invoices", s.xenditCreate)
	m.HandleFunc("GET /_local/pay/xendit/v2/invoices", s.xenditList)
	m.HandleFunc("GET /_local/pay/xendit/v2/invoices/{id}", s.xenditGet)
	m.HandleFunc("GET /_local/pay/page/{provider}/{token}", s.page)
	m.HandleFunc("POST /_local/pay/page/{provider}/{token}", s.pageAction)
	m.HandleFunc("POST /_local/pay/control/notify", s.controlNotify)
	m.HandleFunc("GET /_local/pay/control/sent", s.controlSent)
	m.HandleFunc("GET /_local/pay/{$}", s.index)
	s.mux = m
	return s
}

// Handler returns the HTTP handler to mount under PathPrefix; it sees full paths.
func (s *Sandbox) Handler() http.Handler { return s.mux }

// Close cancels notifications still waiting for their delay and waits for those being
// sent.
func (s *Sandbox) Close() {
	s.stop()
	s.wg.Wait()
}

// Sent returns the notifications sent for orderID (all when empty), oldest first.
func (s *Sandbox) Sent(orderID string) []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Delivery
	for _, d := range s.sent {
		if orderID == "" || d.OrderID == orderID {
			out = append(out, d)
		}
	}
	return out
}

// add stores a new session, evicting the oldest beyond MaxSessions. Callers hold mu.
func (s *Sandbox) add(ss *session) {
	key := ss.provider + "/" + ss.token
	s.sessions[key] = ss
	okey := ss.provider + "/" + ss.orderID
	s.orders[okey] = append(s.orders[okey], ss)
	s.fifo = append(s.fifo, key)
	for len(s.fifo) > s.cfg.MaxSessions {
		old := s.sessions[s.fifo[0]]
		delete(s.sessions, s.fifo[0])
		s.fifo = s.fifo[1:]
		if old == nil {
			continue
		}
		ok := old.provider + "/" + old.orderID
		list := s.orders[ok]
		for i, x := range list {
			if x == old {
				list = append(list[:i:i], list[i+1:]...)
				break
			}
		}
		if len(list) == 0 {
			delete(s.orders, ok)
		} else {
			s.orders[ok] = list
		}
	}
}

// latest returns the newest session of an order. Callers hold mu.
func (s *Sandbox) latest(provider, orderID string) *session {
	list := s.orders[provider+"/"+orderID]
	if len(list) == 0 {
		return nil
	}
	return list[len(list)-1]
}

// basicAuth reports whether r carries key as Basic auth user with an empty password.
func basicAuth(r *http.Request, key string) bool {
	user, pass, ok := r.BasicAuth()
	return ok && pass == "" && subtle.ConstantTimeCompare([]byte(user), []byte(key)) == 1
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"message":"Internal Server Error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read does not fail on supported platforms
	return hex.EncodeToString(b)
}

// uuid returns a random (version 4) UUID, the form of Midtrans's tokens and ids.
func uuid() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
