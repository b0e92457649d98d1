package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/etalase/etalase/infra/localaccount"
	"github.com/etalase/etalase/infra/localrun"
	"github.com/etalase/etalase/infra/localrun/lambda"
	"github.com/etalase/etalase/infra/localrun/localtest/flow"
	"github.com/etalase/etalase/infra/localrun/paysandbox"
)

// MeteredWindow is the PaymentWindowSeconds of the metered runner: short, so that the
// expiry messages that every order gets arrive within the stage (with the template's
// 900 s they would arrive in 15 minutes; any window up to 900 s is one message with
// one delay, so the count is the same). Every paid order of the stages is paid well
// within it.
var MeteredWindow = 4 * time.Second

// Function logical ids the stages measure.
const (
	fnPromotion = "SocialPromotionFunction"
	fnInbox     = "SocialInboxFunction"
	fnCart      = "CommerceCartFunction"
	fnCheckout  = "CommerceCheckoutFunction"
	fnOrders    = "CommerceOrdersFunction"
	fnWebhook   = "CommercePaymentWebhookFunction"
	fnPayments  = "CommercePaymentsFunction"
	fnExpiry    = "CommerceExpiryFunction"
	fnRelay     = "CommerceRelayFunction"
)

// metered is a second runner of the whole template whose functions reach the
// emulators through a Meter, with one seller's product and one creator's promotion of
// it. The requests and cost stages share it (Env.metered); it is closed when the run
// ends.
type metered struct {
	env   *Env
	r     *localrun.Runner
	meter *Meter
	c     *flow.Client
	run   string
	// names maps physical table and queue names to their logical ids.
	names map[string]string

	seller, creator    string // tokens
	product, promotion string

	mu     sync.Mutex
	buyers int // buyers made so far, for unique subjects
}

var (
	meteredMu       sync.Mutex
	meteredSessions = map[*Env]*metered{}
)

// metered returns the run's metered runner, starting it and its product and promotion
// on first use.
func (e *Env) metered(ctx context.Context) (*metered, error) {
	meteredMu.Lock()
	defer meteredMu.Unlock()
	if m, ok := meteredSessions[e]; ok {
		return m, nil
	}
	m, err := startMetered(ctx, e)
	if err != nil {
		return nil, err
	}
	meteredSessions[e] = m
	e.Defer(func() {
		meteredMu.Lock()
		delete(meteredSessions, e)
		meteredMu.Unlock()
		m.close()
	})
	return m, nil
}

// Defer registers f to run when the run ends, after the last stage, before the runner
// and the emulators stop; the last registered runs first.
func (e *Env) Defer(f func()) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.deferred = append(e.deferred, f)
}

// runDeferred runs what Defer registered.
func (e *Env) runDeferred() {
	e.mu.Lock()
	fs := e.deferred
	e.deferred = nil
	e.mu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
}

func startMetered(ctx context.Context, e *Env) (*metered, error) {
	t0 := time.Now()
	params, err := localrun.LoadParams(filepath.Join(e.Root, localrun.ParamsFile))
	if err != nil {
		return nil, err
	}
	params["PaymentWindowSeconds"] = fmt.Sprint(int(MeteredWindow / time.Second))
	meter := NewMeter(e.DynamoDBEndpoint, e.SQSEndpoint)
	e.Progressf("metered runner: starting the template again behind the counting proxy (prefix %smeter-, payment window %s)", e.Prefix, MeteredWindow)
	r, err := localrun.Start(ctx, localrun.Options{
		Root: e.Root, Template: e.Template, Params: params,
		DynamoDBEndpoint: e.DynamoDBEndpoint, SQSEndpoint: e.SQSEndpoint,
		Addr: "127.0.0.1:0", Prefix: e.Prefix + "meter-",
		BinDir: filepath.Join(e.WorkDir, "bin"), Log: e.Log,
		DefaultConcurrency: RunnerConcurrency,
		Endpoints:          meter.Endpoints,
	})
	if err != nil {
		meter.Close()
		return nil, fmt.Errorf("metered runner: %w", err)
	}
	m := &metered{env: e, r: r, meter: meter, c: flow.NewClient(r), run: fmt.Sprintf("%06x", rand.Uint32()>>8), names: map[string]string{}}
	if err := meter.Err(); err != nil {
		m.close()
		return nil, err
	}
	for _, res := range r.Resources {
		for id, t := range res.Tables {
			m.names[t.Name] = id
		}
		for id, q := range res.Queues {
			m.names[q.Name] = id
		}
	}
	if err := m.setup(ctx); err != nil {
		m.close()
		return nil, err
	}
	e.Progressf("metered runner: ready in %s (product %s, promotion %s)", time.Since(t0).Round(100*time.Millisecond), m.product, m.promotion)
	return m, nil
}

func (m *metered) close() {
	m.r.Close()
	m.meter.Close()
}

// setup lists a product and promotes it, waiting until social has its snapshot.
func (m *metered) setup(ctx context.Context) error {
	var err error
	if m.seller, err = m.token("seller", "seller"); err != nil {
		return err
	}
	if m.creator, err = m.token("creator", "creator"); err != nil {
		return err
	}
	if m.product, err = m.c.CreateProduct(ctx, m.seller, flow.Product{Title: "Kopi Gayo 250 g", Price: 89000, Stock: 1_000_000}); err != nil {
		return fmt.Errorf("metered runner: %w", err)
	}
	if m.promotion, err = m.c.Promote(ctx, m.creator, m.product, 1000); err != nil {
		return fmt.Errorf("metered runner: %w", err)
	}
	return nil
}

func (m *metered) token(sub string, scopes ...string) (string, error) {
	return flow.Token(m.r, "bench-"+m.run+"-"+sub, scopes...)
}

// newBuyer returns a fresh buyer's token and number.
func (m *metered) newBuyer() (string, int, error) {
	m.mu.Lock()
	m.buyers++
	n := m.buyers
	m.mu.Unlock()
	tok, err := m.token(fmt.Sprintf("buyer-%d", n), "buyer")
	return tok, n, err
}

// name is the logical id of a physical table or queue name ("A+B" for several), or
// the name itself.
func (m *metered) name(physical string) string {
	parts := strings.Split(physical, "+")
	for i, p := range parts {
		if id, ok := m.names[p]; ok {
			parts[i] = id
		}
	}
	return strings.Join(parts, "+")
}

// placedOrder is one order a stage placed.
type placedOrder struct {
	id    string
	buyer string
}

// buyOptions say what a buyer does.
type buyOptions struct {
	pay       bool // notify the payment (Xendit PAID) right after the checkout
	readCart  bool // GET the cart before checking out
	readOrder int  // GET the order this many times after paying
}

// buy makes one buyer hand off from the promotion, add one unit to the cart, check
// out with Xendit and, per o, read the cart, pay and read the order.
func (m *metered) buy(ctx context.Context, o buyOptions) (placedOrder, error) {
	buyer, n, err := m.newBuyer()
	if err != nil {
		return placedOrder{}, err
	}
	tok, err := m.c.Handoff(ctx, m.promotion)
	if err != nil {
		return placedOrder{}, err
	}
	if err := m.c.AddToCart(ctx, buyer, flow.Item{HandoffToken: tok, Quantity: 1}); err != nil {
		return placedOrder{}, err
	}
	if o.readCart {
		r, err := m.c.Do(ctx, "GET", "/commerce/v1/cart", buyer, nil)
		if err != nil {
			return placedOrder{}, err
		}
		if err := r.Want("read cart", 200); err != nil {
			return placedOrder{}, err
		}
	}
	p, resp, err := m.c.Checkout(ctx, buyer, "xendit", fmt.Sprintf("bench-%s-%d", m.run, n))
	if err != nil {
		return placedOrder{}, err
	}
	if p.OrderID == "" {
		return placedOrder{}, fmt.Errorf("checkout: %d %s", resp.Status, resp.Body)
	}
	if p.PaymentURL == nil {
		return placedOrder{}, fmt.Errorf("checkout of order %s opened no payment session", p.OrderID)
	}
	if o.pay {
		if _, err := m.c.Notify(ctx, paysandbox.NotifyRequest{Provider: "xendit", OrderID: p.OrderID, Status: "PAID"}, true); err != nil {
			return placedOrder{}, err
		}
	}
	for range o.readOrder {
		if _, err := m.c.Order(ctx, buyer, p.OrderID); err != nil {
			return placedOrder{}, err
		}
	}
	return placedOrder{id: p.OrderID, buyer: buyer}, nil
}

// buyMany runs n buyers, conc at a time, and returns their orders in start order.
func (m *metered) buyMany(ctx context.Context, n, conc int, o buyOptions) ([]placedOrder, error) {
	out := make([]placedOrder, n)
	errs := make([]error, n)
	sem := make(chan struct{}, max(conc, 1))
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			out[i], errs[i] = m.buy(ctx, o)
		})
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// statuses reads the orders' statuses from OrdersTable directly (uncounted).
func (m *metered) statuses(ctx context.Context, orders []placedOrder) (map[string]string, error) {
	db := m.env.DynamoDB(localaccount.Commerce)
	table := m.r.Resources[localaccount.Commerce.Side].Tables["OrdersTable"].Name
	out := map[string]string{}
	for start := 0; start < len(orders); start += 100 {
		var keys []map[string]types.AttributeValue
		for _, o := range orders[start:min(start+100, len(orders))] {
			keys = append(keys, map[string]types.AttributeValue{"orderId": &types.AttributeValueMemberS{Value: o.id}})
		}
		req := map[string]types.KeysAndAttributes{table: {Keys: keys, ConsistentRead: aws.Bool(true), ProjectionExpression: aws.String("orderId, #s"),
			ExpressionAttributeNames: map[string]string{"#s": "status"}}}
		for len(req) > 0 {
			res, err := db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
			if err != nil {
				return nil, fmt.Errorf("read order statuses: %w", err)
			}
			for _, it := range res.Responses[table] {
				id, _ := it["orderId"].(*types.AttributeValueMemberS)
				st, _ := it["status"].(*types.AttributeValueMemberS)
				if id != nil && st != nil {
					out[id.Value] = st.Value
				}
			}
			req = res.UnprocessedKeys
		}
	}
	return out, nil
}

// outboxSince returns, by event type, how many outbox records were written since
// before (an earlier outboxTypes).
func (m *metered) outboxSince(ctx context.Context, before map[string]int) (map[string]int, error) {
	now, err := m.outboxTypes(ctx)
	if err != nil {
		return nil, err
	}
	since := map[string]int{}
	for t, n := range now {
		if d := n - before[t]; d > 0 {
			since[t] = d
		}
	}
	return since, nil
}

// outboxTypes counts the outbox records by event type (a direct, uncounted scan).
func (m *metered) outboxTypes(ctx context.Context) (map[string]int, error) {
	db := m.env.DynamoDB(localaccount.Commerce)
	table := m.r.Resources[localaccount.Commerce.Side].Tables["OutboxTable"].Name
	out := map[string]int{}
	var start map[string]types.AttributeValue
	for {
		res, err := db.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table), ExclusiveStartKey: start,
			ProjectionExpression: aws.String("eventType")})
		if err != nil {
			return nil, fmt.Errorf("scan the outbox: %w", err)
		}
		for _, it := range res.Items {
			t, _ := it["eventType"].(*types.AttributeValueMemberS)
			if t != nil {
				out[t.Value]++
			} else {
				out["?"]++
			}
		}
		if len(res.LastEvaluatedKey) == 0 {
			return out, nil
		}
		start = res.LastEvaluatedKey
	}
}

// queuesEmpty reports whether every consumed queue (not the dead-letter queues) of both
// accounts holds no message, visible, in flight or delayed.
func (m *metered) queuesEmpty(ctx context.Context) (bool, error) {
	for _, acct := range localaccount.All {
		q := m.env.SQS(acct)
		for id, qu := range m.r.Resources[acct.Side].Queues {
			if strings.HasSuffix(id, "DLQ") {
				continue
			}
			out, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(qu.URL), AttributeNames: []sqstypes.QueueAttributeName{
				sqstypes.QueueAttributeNameApproximateNumberOfMessages,
				sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
				sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed,
			}})
			if err != nil {
				return false, fmt.Errorf("queue %s: %w", id, err)
			}
			for _, v := range out.Attributes {
				if v != "0" && v != "" {
					return false, nil
				}
			}
		}
	}
	return true, nil
}

// poolStats returns every function's pool counters.
func (m *metered) poolStats() map[string]lambda.Stats {
	out := map[string]lambda.Stats{}
	for id, fn := range m.r.Functions {
		out[id] = fn.Pool.Stats()
	}
	return out
}

// subStats returns after minus before, per function (counters and sums only).
func subStats(after, before map[string]lambda.Stats) map[string]lambda.Stats {
	out := map[string]lambda.Stats{}
	for id, a := range after {
		b := before[id]
		out[id] = lambda.Stats{
			ColdStarts: a.ColdStarts - b.ColdStarts, Invocations: a.Invocations - b.Invocations,
			Throttles: a.Throttles - b.Throttles, Kills: a.Kills - b.Kills, Reported: a.Reported - b.Reported,
			BilledDuration: a.BilledDuration - b.BilledDuration, Duration: a.Duration - b.Duration,
			InitDuration: a.InitDuration - b.InitDuration,
		}
	}
	return out
}

// settle waits, within limit, until done says yes and then nothing has moved for
// quiet: no request through the meter, no invocation, no busy process, every consumed
// queue empty.
func (m *metered) settle(ctx context.Context, limit, quiet time.Duration, done func() (bool, error)) error {
	deadline := time.Now().Add(limit)
	fingerprint := func() (string, int) {
		calls := m.meter.Snapshot().Calls.Total().Requests
		n, busy := 0, 0
		for _, s := range m.poolStats() {
			n += s.Invocations
			busy += s.Busy
		}
		return fmt.Sprint(calls, n), busy
	}
	last, since := "", time.Now()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		ok := true
		if done != nil {
			var err error
			if ok, err = done(); err != nil {
				return err
			}
		}
		if ok {
			ok, _ = m.queuesEmpty(ctx)
		}
		fp, busy := fingerprint()
		if fp != last || !ok || busy > 0 {
			last, since = fp, time.Now()
		} else if time.Since(since) >= quiet {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the system did not settle within %s", limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sortedKeys returns a map's keys, sorted.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
