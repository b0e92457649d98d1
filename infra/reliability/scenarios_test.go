package reliability

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/etalase/etalase/infra/localrun/localtest/flow"
	"github.com/etalase/etalase/infra/localrun/paysandbox"
	"github.com/etalase/etalase/shared/commerce/order"
	"github.com/etalase/etalase/shared/platform/awsclient"
)

// shortWindow is the payment window (seconds) of the scenarios where buyers let orders
// expire. Xendit only: Midtrans's Snap refuses a session shorter than a minute.
const shortWindow = 6

// TestNoOversell: rounds of many concurrent buyers on a few products with little stock.
// Each buyer has their own cart (attributed through a creator's hand-off for some),
// and all check out at once; each placed order is then paid, failed by the provider,
// cancelled, left to expire, or paid after it expired. After the last round the
// system settles and every invariant must hold, each 201 naming an order, with no
// order that no client knows.
func TestNoOversell(t *testing.T) {
	rounds, products, buyers := pick(3, 5), pick(3, 5), pick(40, 80)
	const stock = 5
	s := start(t, shortWindow, "", 0)
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(rounds)*time.Minute)
	defer cancel()
	creator := s.token("creator", "creator")
	for round := range rounds {
		s.oversellRound(ctx, round, creator, products, stock, buyers)
	}
	st := s.settle(60 * time.Second)
	rep := s.verify("no-oversell", st, true)
	if rep.Figures.Sold == 0 || rep.Figures.ByStatus[order.StatusExpired] == 0 || s.outcomes["409 insufficient_stock"] == 0 {
		t.Errorf("the scenario did not exercise what it should: %s, outcomes %v", rep.Figures, s.outcomes)
	}
}

// oversellRound is one round: a new seller's products, buyers' carts, one rush of
// checkouts, then each order's fate.
func (s *system) oversellRound(ctx context.Context, round int, creator string, products int, stock int64, buyers int) {
	s.runs.Add(1)
	seller := s.token(fmt.Sprintf("seller-%d", round), "seller")
	ids, promos := s.products(ctx, seller, creator, products, stock)
	s.phase(fmt.Sprintf("round %d: products", round))
	tokens := make([]string, buyers)
	parallel(buyers, 12, func(i int) {
		tokens[i] = s.token(fmt.Sprintf("buyer-%d-%d", round, i), "buyer")
		p := rand.IntN(products)
		promo := ""
		if p < len(promos) && i%2 == 0 {
			promo = promos[p]
		}
		qty := 1
		if i%5 == 0 {
			qty = 2
		}
		if err := s.cart(ctx, tokens[i], ids[p], promo, qty); err != nil {
			s.t.Errorf("round %d buyer %d: %v", round, i, err)
		}
	})
	s.phase(fmt.Sprintf("round %d: carts", round))
	// Everyone at once.
	gate := make(chan struct{})
	var wg sync.WaitGroup
	for i := range buyers {
		wg.Go(func() {
			<-gate
			key := fmt.Sprintf("%s-rush-%d-%d", s.run, round, i)
			p, ok := s.checkout(ctx, tokens[i], "xendit", key)
			if ok {
				s.fate(ctx, tokens[i], p, rand.IntN(100))
			}
		})
	}
	close(gate)
	wg.Wait()
	s.phase(fmt.Sprintf("round %d: done", round))
}

// fate decides what happens to a placed order (dice in 0..99) and records the statuses
// it may end in. A payment may land after the deadline under load: PAID_LATE then.
func (s *system) fate(ctx context.Context, buyer string, p flow.Placed, dice int) {
	id := p.OrderID
	if p.PaymentURL == nil {
		// No payment session (its opening failed, or the checkout's process died
		// before it): the order can only expire.
		s.allow(id, order.StatusExpired)
		return
	}
	pay := func() {
		s.notify(ctx, paysandbox.NotifyRequest{Provider: "xendit", OrderID: id, Status: "PAID", Duplicate: dice % 3})
	}
	switch {
	case dice < 35:
		s.allow(id, order.StatusPaid, order.StatusPaidLate)
		pay()
	case dice < 50:
		s.allow(id, order.StatusExpired)
		s.notify(ctx, paysandbox.NotifyRequest{Provider: "xendit", OrderID: id, Status: "EXPIRED", Duplicate: 1})
	case dice < 65:
		s.allow(id, order.StatusCancelled, order.StatusExpired)
		r, err := s.c.Cancel(ctx, buyer, id)
		if err != nil || r.Status != http.StatusOK && !(r.Status == http.StatusConflict && r.Code() == "order_not_pending") {
			s.t.Errorf("cancel %s: %d %s %v", id, r.Status, r.Body, err)
		}
	case dice < 90:
		s.allow(id, order.StatusExpired)
	default:
		// Paid after the deadline: the order expired and released its stock; the
		// payment must not take it again.
		s.allow(id, order.StatusPaidLate)
		wctx, cancel := context.WithTimeout(ctx, 40*time.Second)
		defer cancel()
		if _, err := s.c.WaitStatus(wctx, buyer, id, func(st string) bool { return st == string(order.StatusExpired) }); err != nil {
			s.t.Errorf("late payment: %v", err)
			return
		}
		pay()
	}
}

// stormPlan is what the provider says about one order in the storm.
type stormPlan struct {
	provider string
	status   string   // the notification that decides the order
	dup      int      // extra copies of it
	stale    []string // sent after it, in the same request: out-of-date statuses
	early    string   // a stale status sent in its own request, maybe first
	refund   bool     // after it is PAID, the provider refunds it (Midtrans)
	want     order.Status
}

var stormPlans = []stormPlan{
	{provider: "midtrans", status: "settlement", dup: 2, stale: []string{"pending", "expire"}, early: "pending", want: order.StatusPaid},
	{provider: "midtrans", status: "deny", dup: 1, stale: []string{"pending"}, early: "pending", want: order.StatusFailed},
	{provider: "midtrans", status: "settlement", dup: 1, early: "pending", refund: true, want: order.StatusRefunded},
	{provider: "midtrans", status: "cancel", dup: 1, stale: []string{"pending"}, early: "pending", want: order.StatusCancelled},
	{provider: "midtrans", status: "expire", dup: 2, stale: []string{"pending"}, early: "pending", want: order.StatusExpired},
	{provider: "xendit", status: "PAID", dup: 2, stale: []string{"PENDING"}, early: "PENDING", want: order.StatusPaid},
	{provider: "xendit", status: "EXPIRED", dup: 2, stale: []string{"PENDING"}, early: "PENDING", want: order.StatusExpired},
	{provider: "xendit", status: "SETTLED", dup: 1, stale: []string{"PAID", "PENDING"}, early: "PENDING", want: order.StatusPaid},
}

// TestWebhookStorm: orders of both providers, and for each the notification that
// decides it sent with duplicates and followed by out-of-date ones, a stale one in its
// own request, forged copies (a bad signature: 401, nothing stored) and for a third a
// copy with a wrong amount (422, recorded in the order's ledger), all shuffled and
// sent concurrently; refunds follow once paid. Every order must end where its plan
// says, with one status_changed entry per transition, one SaleAttributed per paid
// attributed line reaching social's commissions once, and every forgery refused.
func TestWebhookStorm(t *testing.T) {
	n := pick(24, 64)
	s := start(t, 0, "", 0)
	ctx, cancel := context.WithTimeout(context.Background(), pick(3*time.Minute, 6*time.Minute))
	defer cancel()
	orders := s.stormOrders(ctx, n, stormPlans)
	s.storm(ctx, orders, true)
	st := s.settle(60 * time.Second)
	s.verify("webhook-storm", st, true)
	s.checkForgeries()
}

// stormOrder is a placed order and its plan.
type stormOrder struct {
	plan  stormPlan
	buyer string
	p     flow.Placed
}

// stormOrders places n orders, the i-th following plans[i % len(plans)], each with one
// attributed line and for every other order a second, plain one.
func (s *system) stormOrders(ctx context.Context, n int, plans []stormPlan) []stormOrder {
	s.runs.Add(1)
	seller, creator := s.token("storm-seller", "seller"), s.token("storm-creator", "creator")
	ids, promos := s.products(ctx, seller, creator, 4, 1000)
	out := make([]stormOrder, n)
	parallel(n, 8, func(i int) {
		o := stormOrder{plan: plans[i%len(plans)], buyer: s.token(fmt.Sprintf("storm-buyer-%d", i), "buyer")}
		if err := s.cart(ctx, o.buyer, ids[i%3], promos[i%3], 1+i%2); err != nil {
			s.t.Errorf("storm cart %d: %v", i, err)
			return
		}
		if i%2 == 1 {
			if err := s.cart(ctx, o.buyer, ids[3], "", 1); err != nil {
				s.t.Errorf("storm cart %d: %v", i, err)
				return
			}
		}
		p, ok := s.checkout(ctx, o.buyer, o.plan.provider, fmt.Sprintf("%s-storm-%d", s.run, i))
		if !ok {
			return
		}
		o.p = p
		out[i] = o
	})
	return out
}

// storm sends every order's notifications, shuffled and concurrent, then the refunds.
// exact records the plans' final statuses as the only ones allowed; otherwise (under
// faults, with a short window) a payment may land after the deadline.
func (s *system) storm(ctx context.Context, orders []stormOrder, exact bool) {
	var reqs []paysandbox.NotifyRequest
	for i, o := range orders {
		if o.p.OrderID == "" {
			continue
		}
		pl, id := o.plan, o.p.OrderID
		switch {
		case o.p.PaymentURL == nil:
			s.allow(id, order.StatusExpired)
			continue
		case exact:
			s.allow(id, pl.want)
		case pl.want == order.StatusPaid:
			s.allow(id, order.StatusPaid, order.StatusPaidLate)
		case pl.want == order.StatusRefunded:
			s.allow(id, order.StatusRefunded)
		default:
			s.allow(id, pl.want, order.StatusExpired)
		}
		reqs = append(reqs,
			paysandbox.NotifyRequest{Provider: pl.provider, OrderID: id, Status: pl.status, Duplicate: pl.dup, ReorderWith: pl.stale},
			paysandbox.NotifyRequest{Provider: pl.provider, OrderID: id, Status: pl.early},
			paysandbox.NotifyRequest{Provider: pl.provider, OrderID: id, Status: pl.status, BadSignature: true, Duplicate: i % 2})
		if i%3 == 0 {
			reqs = append(reqs, paysandbox.NotifyRequest{Provider: pl.provider, OrderID: id, Status: pl.status,
				AmountOverride: json.Number(fmt.Sprint(o.p.Amount.Amount + 1000))})
		}
	}
	rand.Shuffle(len(reqs), func(i, j int) { reqs[i], reqs[j] = reqs[j], reqs[i] })
	// A stale status sent alone also becomes the sandbox's record of the session, which
	// only the status API reads (the reconcile sweep, fired under faults only, for
	// orders past their deadline): whatever it answers then, the state machine keeps
	// a closed order closed.
	parallel(len(reqs), 8, func(i int) { s.notify(ctx, reqs[i]) })
	var wg sync.WaitGroup
	for _, o := range orders {
		if o.p.OrderID == "" || !o.plan.refund || o.p.PaymentURL == nil {
			continue
		}
		wg.Go(func() {
			wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
			defer cancel()
			if _, err := s.c.WaitStatus(wctx, o.buyer, o.p.OrderID, func(st string) bool {
				return st == string(order.StatusPaid) || st == string(order.StatusPaidLate)
			}); err != nil {
				s.t.Errorf("refund: %v", err)
				return
			}
			s.notify(ctx, paysandbox.NotifyRequest{Provider: o.plan.provider, OrderID: o.p.OrderID, Status: "refund", Duplicate: 2, ReorderWith: []string{"settlement"}})
			s.notify(ctx, paysandbox.NotifyRequest{Provider: o.plan.provider, OrderID: o.p.OrderID, Status: "refund", BadSignature: true})
		})
	}
	wg.Wait()
}

// checkForgeries checks that every forged delivery was refused with 401 and changed
// nothing, that every other one was acknowledged (200) or, with a wrong amount,
// refused with 422, and that the webhook logged each refusal.
func (s *system) checkForgeries() {
	forged, refused := 0, 0
	for _, d := range s.r.Sandbox.Sent("") {
		switch {
		case d.BadSignature:
			forged++
			switch {
			case d.ResponseStatus == http.StatusUnauthorized:
				refused++
			case s.faults && (d.ResponseStatus == 0 || d.ResponseStatus >= 500):
				// The webhook's process was killed before it answered: nothing was
				// accepted either (the signature is checked before anything is read).
			default:
				s.t.Errorf("forged %s %s for %s answered %d", d.Provider, d.Status, d.OrderID, d.ResponseStatus)
			}
		case d.ResponseStatus != http.StatusOK && d.ResponseStatus != http.StatusUnprocessableEntity && !s.faults:
			s.t.Errorf("%s %s for %s answered %d", d.Provider, d.Status, d.OrderID, d.ResponseStatus)
		}
	}
	logged := countLines(s.log.String(), "[commerce/CommercePaymentWebhookFunction]", `"code":"invalid_signature"`)
	if forged == 0 || logged < refused {
		s.t.Errorf("%d forged deliveries, %d refused, %d refusals logged", forged, refused, logged)
	}
	s.t.Logf("FIGURES forgeries: %d sent, %d refused with 401, %d logged by the webhook", forged, refused, logged)
}

// TestFaults: the no-oversell rounds and a Xendit storm with a share of the functions'
// DynamoDB and SQS calls failing (throttles, transaction conflicts, 5xx and timeouts,
// some after the call took effect) and function processes killed mid-invocation.
// Clients retry with the same Idempotency-Key, the provider retries what the webhook
// did not acknowledge, SQS and the stream redeliver, and the reconcile sweep asks the
// provider about orders past their deadline. Once the system settles the invariants
// hold: nothing oversold, nothing lost (every message processed or in a dead-letter
// queue, listed), no side effect twice.
func TestFaults(t *testing.T) {
	rounds, buyers, storm := pick(2, 4), pick(30, 60), pick(12, 32)
	faults, killRate := pick("rate=0.05;seed=42", "rate=0.1;seed=42"), pick(0.02, 0.04)
	if *faultsFlag != "" {
		faults = *faultsFlag
	}
	if *killRateFlag >= 0 {
		killRate = *killRateFlag
	}
	s := start(t, shortWindow, faults, killRate)
	ctx, cancel := context.WithTimeout(context.Background(), pick(4*time.Minute, 8*time.Minute))
	defer cancel()
	creator := s.token("creator", "creator")
	for round := range rounds {
		s.oversellRound(ctx, round, creator, 3, 5, buyers)
	}
	var xendit []stormPlan
	for _, p := range stormPlans {
		if p.provider == "xendit" {
			xendit = append(xendit, p)
		}
	}
	s.storm(ctx, s.stormOrders(ctx, storm, xendit), false)
	st := s.settle(pick(120*time.Second, 180*time.Second))
	s.verify("faults", st, false)
	s.checkForgeries()
	fc := s.faultCounts()
	total := 0
	for _, n := range fc {
		total += n
	}
	if f, err := awsclient.ParseFaults(faults); err != nil || f.Rate > 0 && total == 0 {
		t.Errorf("no faults injected (%s: %v): the scenario proved nothing", faults, err)
	}
	if killRate > 0 && s.r.Kills() == 0 {
		t.Error("no process killed: the scenario proved nothing")
	}
}

// countLines counts the lines holding every one of subs.
func countLines(log string, subs ...string) int {
	n := 0
	for _, line := range strings.Split(log, "\n") {
		all := true
		for _, s := range subs {
			all = all && strings.Contains(line, s)
		}
		if all {
			n++
		}
	}
	return n
}
