package paysandbox

import (
	"html/template"
	"net/http"
	"strings"
	"time"
)

// pageView is what the payment page shows.
type pageView struct {
	Provider, ProviderTitle, Token, OrderID string
	Amount, Description                     string
	Items                                   []pageItem
	Status                                  string
	ExpiresAt                               string
	Open, TimeUp                            bool
	Result                                  *pageResult
}

// pageResult is what a click did.
type pageResult struct {
	Title, Detail  string
	OK             bool
	Deliveries     []Delivery
	ReturnURL      string
	ReturnURLLabel string
}

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.ProviderTitle}} (local sandbox) · {{.OrderID}}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem;color:#222}
.card{border:1px solid #ddd;border-radius:8px;padding:1rem 1.25rem}
.amount{font-size:1.8rem;font-weight:600;margin:.25rem 0}
.muted{color:#666;font-size:.9rem} table{width:100%;border-collapse:collapse} td{padding:.2rem 0}
td.r{text-align:right} button{font-size:1rem;padding:.6rem 1.1rem;margin:.25rem .25rem 0 0;border-radius:6px;border:1px solid #999;cursor:pointer}
button.pay{background:#0a7d32;color:#fff;border-color:#0a7d32} .ok{color:#0a7d32} .bad{color:#b00020}
.banner{background:#fff4ce;border:1px solid #e6c200;padding:.4rem .6rem;border-radius:6px;font-size:.85rem;margin-bottom:1rem}
code{font-size:.85rem}
</style></head><body>
<div class="banner">Local payment sandbox: no money moves. This page stands in for {{.ProviderTitle}}'s hosted payment page.</div>
<div class="card">
<div class="muted">{{.ProviderTitle}} · order <code id="order-id">{{.OrderID}}</code></div>
<div class="amount" id="amount">{{.Amount}}</div>
{{if .Description}}<div>{{.Description}}</div>{{end}}
{{if .Items}}<table>{{range .Items}}<tr><td>{{.Quantity}} × {{.Name}}</td><td class="r">{{.Price}}</td></tr>{{end}}</table>{{end}}
<p class="muted">Status: <strong id="status">{{if .Status}}{{.Status}}{{else}}awaiting payment{{end}}</strong>{{if .ExpiresAt}} · pay before {{.ExpiresAt}}{{end}}</p>
{{with .Result}}
<p id="result" class="{{if .OK}}ok{{else}}bad{{end}}"><strong>{{.Title}}</strong><br>{{.Detail}}</p>
{{range .Deliveries}}<p class="muted">Notification <code>{{.Status}}</code> sent to <code>{{.URL}}</code>: {{if .ResponseStatus}}HTTP {{.ResponseStatus}}{{else}}no answer ({{.Error}}){{end}}</p>{{end}}
{{if .ReturnURL}}<p><a id="return" href="{{.ReturnURL}}">{{.ReturnURLLabel}}</a></p>{{end}}
{{end}}
{{if .Open}}
<form method="post">
{{if not .TimeUp}}<button class="pay" name="action" value="pay">Pay</button>{{end}}
{{if not .TimeUp}}<button name="action" value="fail">Fail</button>{{end}}
<button name="action" value="expire">Let expire</button>
</form>
{{if .TimeUp}}<p class="muted">The payment time is up; the session can only expire.</p>{{end}}
{{end}}
</div></body></html>
`))

var indexTmpl = template.Must(template.New("index").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Local payment sandbox</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem}td,th{padding:.2rem .6rem;text-align:left}</style></head><body>
<h1>Local payment sandbox</h1>
<p>Notifications go to <code>{{.MidtransURL}}</code> (Midtrans) and <code>{{.XenditURL}}</code> (Xendit). Sent notifications: <a href="control/sent">control/sent</a>.</p>
<table><tr><th>provider</th><th>order</th><th>amount</th><th>status</th><th>created</th></tr>
{{range .Sessions}}<tr><td>{{.Provider}}</td><td><a href="page/{{.Provider}}/{{.Token}}">{{.OrderID}}</a></td><td>{{.Amount}}</td><td>{{.Status}}</td><td>{{.Created}}</td></tr>{{end}}
</table></body></html>
`))

// page serves GET /page/{provider}/{token}: the hosted payment page.
func (s *Sandbox) page(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	ss := s.sessions[r.PathValue("provider")+"/"+r.PathValue("token")]
	var v pageView
	if ss != nil {
		v = s.view(ss)
	}
	s.mu.Unlock()
	if ss == nil {
		http.Error(w, "no such payment session", http.StatusNotFound)
		return
	}
	render(w, http.StatusOK, v)
}

// pageAction serves POST /page/{provider}/{token}: a click on Pay, Fail or Let expire,
// which sends the notification the provider would send and shows what happened.
func (s *Sandbox) pageAction(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	action := r.FormValue("action")
	s.mu.Lock()
	ss := s.sessions[r.PathValue("provider")+"/"+r.PathValue("token")]
	if ss == nil {
		s.mu.Unlock()
		http.Error(w, "no such payment session", http.StatusNotFound)
		return
	}
	v := s.view(ss)
	if !v.Open {
		s.mu.Unlock()
		render(w, http.StatusConflict, v)
		return
	}
	var status, title string
	var ok bool
	switch {
	case action == "pay" && !v.TimeUp:
		status, title, ok = map[string]string{Midtrans: "settlement", Xendit: "PAID"}[ss.provider], "Payment successful", true
	case action == "fail" && !v.TimeUp && ss.provider == Midtrans:
		status, title = "deny", "Payment denied"
	case action == "fail" && !v.TimeUp:
		// Xendit has no failed invoice: a failed attempt sends no callback and leaves
		// the invoice PENDING, open for another attempt.
		s.mu.Unlock()
		v.Result = &pageResult{Title: "Payment attempt failed",
			Detail: "Xendit sends no callback for a failed attempt; the invoice stays PENDING.", ReturnURL: ss.failureURL, ReturnURLLabel: "Back to the shop"}
		render(w, http.StatusOK, v)
		return
	case action == "expire":
		status, title = map[string]string{Midtrans: "expire", Xendit: "EXPIRED"}[ss.provider], "Payment expired"
	default:
		s.mu.Unlock()
		http.Error(w, "unknown action", http.StatusBadRequest)
		return
	}
	out := s.build(ss, NotifyRequest{Provider: ss.provider, OrderID: ss.orderID, Status: status}, "page")
	res := &pageResult{Title: title, OK: ok}
	switch ss.provider {
	case Midtrans:
		if u := midtransFinishURL(ss.successURL, ss.orderID, ss.statusCode, ss.status); u != "" {
			res.ReturnURL, res.ReturnURLLabel = u, "Back to the shop"
		}
	case Xendit:
		res.ReturnURL, res.ReturnURLLabel = ss.successURL, "Back to the shop"
		if !ok {
			res.ReturnURL = ss.failureURL
		}
	}
	s.mu.Unlock()

	res.Deliveries = s.deliverAll(r.Context(), out)
	res.Detail = "The shop has been notified."
	for _, d := range res.Deliveries {
		if d.ResponseStatus < 200 || d.ResponseStatus > 299 {
			res.Detail = "The shop did not accept the notification; it can still learn the outcome from the status API."
		}
	}
	s.mu.Lock()
	v = s.view(ss)
	s.mu.Unlock()
	v.Result = res
	render(w, http.StatusOK, v)
}

// view returns ss for the page. Callers hold mu.
func (s *Sandbox) view(ss *session) pageView {
	now := s.cfg.Now()
	if ss.provider == Xendit {
		s.invoice(ss, now) // applies Xendit's own expiry
	}
	v := pageView{
		Provider: ss.provider, ProviderTitle: map[string]string{Midtrans: "Midtrans Snap", Xendit: "Xendit Invoice"}[ss.provider],
		Token: ss.token, OrderID: ss.orderID, Amount: displayAmount(ss.currency, ss.amount),
		Description: ss.description, Items: ss.items, Status: ss.status,
		ExpiresAt: ss.expiresAt.In(wib).Format("2 Jan 2006 15:04 MST"),
		TimeUp:    !now.Before(ss.expiresAt),
	}
	switch ss.status {
	case "", "pending", "PENDING":
		v.Open = true
	}
	return v
}

func render(w http.ResponseWriter, status int, v pageView) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = pageTmpl.Execute(w, v)
}

// index serves GET /_local/pay/: the newest sessions, for people.
func (s *Sandbox) index(w http.ResponseWriter, r *http.Request) {
	type row struct{ Provider, Token, OrderID, Amount, Status, Created string }
	var rows []row
	s.mu.Lock()
	for i := len(s.fifo) - 1; i >= 0 && len(rows) < 100; i-- {
		if ss := s.sessions[s.fifo[i]]; ss != nil {
			rows = append(rows, row{ss.provider, ss.token, ss.orderID, displayAmount(ss.currency, ss.amount), ss.status, ss.created.Format(time.DateTime)})
		}
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = indexTmpl.Execute(w, map[string]any{"Sessions": rows, "MidtransURL": s.cfg.MidtransNotifyURL, "XenditURL": s.cfg.XenditCallbackURL})
}

// displayAmount formats a decimal amount for people: "IDR 25.000", "PHP 125,50" (Indonesian
// digit grouping).
func displayAmount(currency, amount string) string {
	intPart, frac, hasFrac := strings.Cut(amount, ".")
	var b strings.Builder
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(c)
	}
	out := currency + " " + b.String()
	if hasFrac {
		out += "," + frac
	}
	return out
}
