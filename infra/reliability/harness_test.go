package reliability

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/etalase/etalase/infra/localaccount"
	"github.com/etalase/etalase/infra/localrun"
	"github.com/etalase/etalase/infra/localrun/localtest"
	"github.com/etalase/etalase/infra/localrun/localtest/flow"
	"github.com/etalase/etalase/infra/localrun/paysandbox"
	"github.com/etalase/etalase/infra/testenv"
	"github.com/etalase/etalase/shared/commerce/order"
	"github.com/etalase/etalase/shared/platform/awsclient"
)

var (
	heavyFlag    = flag.Bool("heavy", false, "run the heavier variants of the reliability scenarios (also ETALASE_HEAVY=1)")
	faultsFlag   = flag.String("faults", "", "TestFaults: the ETALASE_FAULTS spec instead of the default (see awsclient.ParseFaults)")
	killRateFlag = flag.Float64("killrate", -1, "TestFaults: the share of invocations whose process is killed, instead of the default")
)

// heavy reports whether the heavier variants run.
func heavy() bool { return *heavyFlag || os.Getenv("ETALASE_HEAVY") == "1" }

// pick returns light, or heavy under -heavy.
func pick[T any](light, hv T) T {
	if heavy() {
		return hv
	}
	return light
}

// queueVisibility is the visibility timeout the scenarios give the consumed queues: a
// batch that failed (a killed process, a fault that outlasted the retries) returns in
// seconds instead of the template's minutes (6x the consumer's timeout), so that the
// system settles within a test's bounds. Still longer than any local invocation.
const queueVisibility = 10

// system is one running system under test, with its client and figures.
type system struct {
	t      *testing.T
	r      *localrun.Runner
	log    *localtest.Log
	c      *flow.Client
	run    string // unique per test: prefixes subjects and keys
	faults bool
	began  time.Time

	runs       atomic.Int64 // rounds of a scenario
	checkouts  atomic.Int64 // checkouts attempted (inputs)
	notifies   atomic.Int64 // control requests to the sandbox (inputs)
	mu         sync.Mutex
	outcomes   map[string]int // checkout answers by "status code"
	known      map[string]bool
	allowed    map[string][]order.Status
	initial    map[string]int64
	mismatches map[string]int
}

// start runs template.yaml locally with the payment window (seconds; 0 keeps the
// template's) and, when faults, ETALASE_FAULTS and process kills.
func start(t *testing.T, window int, faults string, killRate float64) *system {
	t.Helper()
	began := time.Now()
	params, err := localrun.LoadParams(filepath.Join(localtest.Root(), localrun.ParamsFile))
	if err != nil {
		t.Fatal(err)
	}
	if window > 0 {
		params["PaymentWindowSeconds"] = fmt.Sprint(window)
	}
	r, log := localtest.StartWith(t, localrun.Options{Params: params, Faults: faults, KillRate: killRate})
	s := &system{t: t, r: r, log: log, c: flow.NewClient(r), run: fmt.Sprintf("%x", rand.Uint32()), faults: faults != "" || killRate > 0,
		began: began, outcomes: map[string]int{}, known: map[string]bool{}, allowed: map[string][]order.Status{}, initial: map[string]int64{}, mismatches: map[string]int{}}
	s.shortenVisibility()
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		// Everything the functions and the runner logged, for the post-mortem.
		path := filepath.Join(os.TempDir(), "etalase-reliability-"+t.Name()+".log")
		if err := os.WriteFile(path, []byte(log.String()), 0o644); err == nil {
			t.Logf("the runner's log is in %s", path)
		}
	})
	s.phase("started")
	return s
}

// shortenVisibility sets queueVisibility on every consumed queue of both accounts.
func (s *system) shortenVisibility() {
	ctx := context.Background()
	for _, acct := range localaccount.All {
		q := testenv.SQS(s.t, acct)
		for id, qu := range s.r.Resources[acct.Side].Queues {
			if strings.HasSuffix(id, "DLQ") {
				continue
			}
			if _, err := q.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(qu.URL),
				Attributes: map[string]string{string(sqstypes.QueueAttributeNameVisibilityTimeout): fmt.Sprint(queueVisibility)}}); err != nil {
				s.t.Fatalf("shorten the visibility timeout of %s: %v", id, err)
			}
		}
	}
}

// phase logs how long the scenario has run, for the figures.
func (s *system) phase(what string) {
	s.t.Logf("%s: %s after %s", s.t.Name(), what, time.Since(s.began).Round(time.Millisecond))
}

// token mints a token, failing the test if it cannot.
func (s *system) token(sub string, scopes ...string) string {
	tok, err := flow.Token(s.r, s.run+"-"+sub, scopes...)
	if err != nil {
		s.t.Fatal(err)
	}
	return tok
}

// products creates n products of stock units each for a new seller and records
// every product the seller ends up with (a retried create may list one twice) with
// that initial stock. With a creator, each product but the last is promoted.
func (s *system) products(ctx context.Context, seller, creator string, n int, stock int64) (ids, promotions []string) {
	s.t.Helper()
	ids = make([]string, n)
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			ids[i], errs[i] = s.c.CreateProduct(ctx, seller, flow.Product{Title: fmt.Sprintf("Kopi %d", i), Price: 25000 + int64(i)*1000, Stock: stock})
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			s.t.Fatalf("create product: %v", err)
		}
	}
	all, err := s.c.SellerProducts(ctx, seller)
	if err != nil {
		s.t.Fatal(err)
	}
	s.mu.Lock()
	for _, p := range all {
		s.initial[p.ProductID] = stock
	}
	s.mu.Unlock()
	if len(all) < n {
		s.t.Fatalf("the seller lists %d products, created %d", len(all), n)
	}
	if creator == "" {
		return ids, nil
	}
	promotions = make([]string, n-1)
	for i := range n - 1 {
		wg.Go(func() { promotions[i], errs[i] = s.c.Promote(ctx, creator, ids[i], 1000+100*i) })
	}
	wg.Wait()
	for _, err := range errs[:n-1] {
		if err != nil {
			s.t.Fatalf("promote: %v", err)
		}
	}
	return ids, promotions
}

// cart fills a buyer's cart with one line of product (through a hand-off of
// promotion when it is not empty, so that the line is attributed).
func (s *system) cart(ctx context.Context, buyer, product, promotion string, qty int) error {
	it := flow.Item{ProductID: product, Quantity: qty}
	if promotion != "" {
		tok, err := s.c.Handoff(ctx, promotion)
		if err != nil {
			return err
		}
		it = flow.Item{HandoffToken: tok, Quantity: qty}
	}
	return s.c.AddToCart(ctx, buyer, it)
}

// checkout checks a buyer's cart out and records the answer. A checkout that the
// client retried until the cart was gone (its first attempt committed, and its
// process died before answering, or the answer was lost) is found in the buyer's
// orders, as the app would show them.
func (s *system) checkout(ctx context.Context, buyer, provider, key string) (flow.Placed, bool) {
	s.checkouts.Add(1)
	p, resp, err := s.c.Checkout(ctx, buyer, provider, key)
	outcome := fmt.Sprintf("%d %s", resp.Status, resp.Code())
	if err != nil {
		outcome = "error"
	}
	if resp.Status == 409 && resp.Code() == "cart_empty" {
		if list, lerr := s.c.Orders(ctx, buyer); lerr == nil && len(list) > 0 {
			p, outcome = list[0], "recovered from the order list"
		}
	}
	s.mu.Lock()
	s.outcomes[outcome]++
	if p.OrderID != "" {
		s.known[p.OrderID] = true
	}
	s.mu.Unlock()
	if err != nil {
		s.t.Errorf("checkout of %s: %v", buyer, err)
	}
	return p, p.OrderID != ""
}

// allow records the statuses an order may end in.
func (s *system) allow(orderID string, st ...order.Status) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.allowed[orderID] = st
}

// notify sends notifications through the sandbox, as the provider (retrying what the
// webhook did not acknowledge), and returns the deliveries.
func (s *system) notify(ctx context.Context, req paysandbox.NotifyRequest) []paysandbox.Delivery {
	s.notifies.Add(1)
	ds, err := s.c.Notify(ctx, req, true)
	if err != nil {
		s.t.Errorf("notify %+v: %v", req, err)
	}
	n := 0
	for _, d := range ds {
		if d.ResponseStatus == 422 {
			n++
		}
	}
	if n > 0 {
		s.mu.Lock()
		s.mismatches[req.OrderID] += n
		s.mu.Unlock()
	}
	return ds
}

// settle waits, within limit, until the system is at rest: no order pending payment,
// every notification processed, every queue drained (but the dead-letter queues), and
// social has applied every sale event (attributions and reversals) commerce published. Under faults it fires the
// reconcile sweep every few seconds, which asks the provider about orders whose
// deadline has passed (a lost webhook, a lost expiry).
func (s *system) settle(limit time.Duration) State {
	s.t.Helper()
	deadline := time.Now().Add(limit)
	lastReconcile := time.Now()
	for {
		st := Read(s.t, s.r)
		rep := Check(st, Expect{Initial: s.initialCopy()})
		reason := ""
		switch {
		case rep.Figures.ByStatus[order.StatusPendingPayment] > 0:
			reason = fmt.Sprintf("%d orders pending payment", rep.Figures.ByStatus[order.StatusPendingPayment])
		case rep.Figures.Unprocessed > 0:
			reason = fmt.Sprintf("%d notifications unprocessed", rep.Figures.Unprocessed)
		case rep.Figures.QueueLeft > 0:
			reason = fmt.Sprintf("%d messages in queues", rep.Figures.QueueLeft)
		case rep.Figures.SocialPending > 0:
			reason = fmt.Sprintf("social has not applied %d sale events", rep.Figures.SocialPending)
		}
		if reason == "" {
			return st
		}
		if time.Now().After(deadline) {
			s.t.Errorf("not settled after %s: %s", limit, reason)
			return st
		}
		if s.faults && time.Since(lastReconcile) > 3*time.Second {
			lastReconcile = time.Now()
			ctx, cancel := context.WithTimeout(context.Background(), 70*time.Second)
			if err := s.r.FireSchedule(ctx, "CommerceReconcileFunction"); err != nil {
				s.t.Logf("reconcile: %v", err)
			}
			cancel()
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func (s *system) initialCopy() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := make(map[string]int64, len(s.initial))
	for k, v := range s.initial {
		m[k] = v
	}
	return m
}

// verify checks the invariants on a settled state, with the statuses the scenario
// allows, and logs the figures; any violation fails the test.
func (s *system) verify(name string, st State, exact bool) Report {
	s.t.Helper()
	s.mu.Lock()
	x := Expect{Initial: s.initial, AllowedFinal: s.allowed, AmountMismatches: s.mismatches, AtLeast: !exact, Known: s.known}
	s.mu.Unlock()
	rep := Check(st, x)
	for _, v := range rep.Violations {
		s.t.Errorf("invariant violated: %s", v)
	}
	s.summary(name, rep)
	return rep
}

// summary logs the scenario's figures on one line (and the dead-letter queues' contents).
func (s *system) summary(name string, rep Report) {
	cs := s.c.Stats()
	sent := s.r.Sandbox.Sent("")
	byResp := map[int]int{}
	for _, d := range sent {
		byResp[d.ResponseStatus]++
	}
	faults := s.faultCounts()
	s.mu.Lock()
	outcomes := fmt.Sprint(sortedCounts(s.outcomes))
	s.mu.Unlock()
	kills := map[string]int{}
	for id, fn := range s.r.Functions {
		if n := fn.Pool.Stats().Kills; n > 0 {
			kills[id] = n
		}
	}
	s.t.Logf("FIGURES %s: runs=%d http_requests=%d (client %d incl. %d retries, webhook deliveries %d) checkouts_tried=%d [%s] "+
		"client_errors=%v notify_requests=%d deliveries_by_status=%v faults_injected=%v process_kills=%d %v dlq_messages=%d invariant_violations=%d | %s",
		name, s.runs.Load(), cs.Requests+int64(len(sent)), cs.Requests, cs.Retries, len(sent), s.checkouts.Load(), outcomes, cs.Codes,
		s.notifies.Load(), byResp, faults, s.r.Kills(), kills, rep.Figures.DLQ, len(rep.Violations), rep.Figures)
	for _, b := range rep.Figures.DLQBodies {
		s.t.Logf("FIGURES %s: dead-letter message %s", name, b)
	}
}

// faultCounts counts the fault lines the functions logged, by "kind/when".
func (s *system) faultCounts() map[string]int {
	out := map[string]int{}
	for _, line := range strings.Split(s.log.String(), "\n") {
		i := strings.Index(line, `{"level"`)
		if i < 0 || !strings.Contains(line, awsclient.FaultLogMessage) {
			continue
		}
		var f struct{ Msg, Kind, When, Service string }
		if json.Unmarshal([]byte(line[i:]), &f) == nil && f.Msg == awsclient.FaultLogMessage {
			out[f.Service+":"+f.Kind+"/"+f.When]++
		}
	}
	return out
}

func sortedCounts(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, fmt.Sprintf("%s ×%d", k, v))
	}
	sort.Strings(out)
	return out
}

// parallel runs f(i) for i in [0, n) on at most width goroutines.
func parallel(n, width int, f func(i int)) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, width)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			f(i)
		}()
	}
	wg.Wait()
}
