package bench

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/etalase/etalase/infra/localaccount"
	"github.com/etalase/etalase/infra/localrun"
	"github.com/etalase/etalase/infra/localrun/localtest/flow"
	"github.com/etalase/etalase/infra/localrun/paysandbox"
	"github.com/etalase/etalase/shared/commerce/payment/midtrans"
	"github.com/etalase/etalase/shared/commerce/paymentevents"
)

// Representative events. A function's cold start is measured with one typical unit of
// work on a success path (docs/bench.md): the fixture choosePayload picks
// (events/<side>/<name>/bench.json where the usual pick is not representative), with the
// ids and the state it names made real before the measurement, through the running
// system's HTTP API as its users would. A read gets a product, order, promotion or cart
// that exists; a queue consumer gets a one-message batch (what Lambda delivers at low
// traffic); a request or message that changes state gets fresh state for every
// invocation (an order to pay, a cart to check out), made before the invocation and
// outside its timing.

// Events makes the event of one invocation, and the state it needs.
type Events func(ctx context.Context) ([]byte, error)

// scenario prepares a function's representative event from the fixture the cold start
// chose for it: it seeds what the event names and returns the events to invoke the
// function with.
type scenario struct {
	// fixture is the fixture it expects: bench.json where the usual choice (the first
	// "get" fixture, ...; see choosePayload) is not representative, else that choice.
	fixture string
	prepare func(ctx context.Context, w *coldWorld, fixture []byte, n int) (Events, error)
	// quiet is how long to wait after each of the function's cold starts, outside any
	// timing, for what its invocations set off in the running system (the outbox
	// stream and the relay, social's inbox, the payments consumer) to be over before
	// the next subject's cold start: that work would otherwise load the DynamoDB
	// emulator that every function's first response waits on.
	quiet time.Duration
}

// scenarios are the functions whose event needs state; the others' chosen fixture is
// used as it is (reconcile's scheduled event).
var scenarios = map[string]scenario{
	"CommerceCatalogFunction":        {"get-product.json", getProductScenario, 0},
	"CommerceOrdersFunction":         {"get-order.json", getOrderScenario, 0},
	"CommerceCartFunction":           {"get-cart.json", getCartScenario, 0},
	"SocialPromotionFunction":        {"get-promotion.json", getPromotionScenario, 0},
	"CommerceCheckoutFunction":       {"checkout-midtrans.json", checkoutScenario, pipelineQuiet},
	"CommercePaymentWebhookFunction": {BenchFixture, webhookScenario, pipelineQuiet},
	"CommercePaymentsFunction":       {BenchFixture, paymentsScenario, pipelineQuiet},
	"CommerceExpiryFunction":         {BenchFixture, expiryScenario, 0},
	"CommerceRelayFunction":          {BenchFixture, relayScenario, pipelineQuiet / 2},
	"SocialInboxFunction":            {BenchFixture, inboxScenario, 0},
}

// Users of the seeded state. Each scenario has a buyer of its own, so that one's cart
// is never another's.
const (
	benchSeller   = "bench-seller"
	benchCreator  = "bench-creator"
	benchPrice    = 85000
	benchStock    = 100_000_000
	orderPaidWait = 60 * time.Second
	// coldSettle follows the seeding: the running system reacts to it in the
	// background (the outbox stream, polled every 250 ms, brings the relay, which tells
	// social), and that work should not fall in the measurement.
	coldSettle = 3 * time.Second
	// seedWorkers make the events of state-changing scenarios in parallel.
	seedWorkers = 4
	// pipelineQuiet is a scenario's quiet when its invocations place or pay orders: the
	// outbox stream is polled every 250 ms, then the relay and social's inbox run.
	pipelineQuiet = 400 * time.Millisecond
)

// coldWorld is the state the scenarios share, seeded once through the runner's HTTP API
// with flow.Client (retried as a client retries).
type coldWorld struct {
	env *Env
	c   *flow.Client

	mu      sync.Mutex
	product string // a listed product with a large stock
	seq     atomic.Int64
}

func newColdWorld(env *Env) *coldWorld {
	return &coldWorld{env: env, c: &flow.Client{Base: env.Runner.URL, Within: 90 * time.Second}}
}

// token mints an access token of the runner's identity provider for sub.
func (w *coldWorld) token(sub, scope string) (string, error) {
	return flow.Token(w.env.Runner, sub, scope)
}

// buyer is a fresh buyer for one invocation of a scenario (a cart of its own).
func (w *coldWorld) buyer(scenario string) string {
	return fmt.Sprintf("bench-buyer-%s-%d", scenario, w.seq.Add(1))
}

// listedProduct lists the bench's product once (a seller, through the catalog API).
func (w *coldWorld) listedProduct(ctx context.Context) (string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.product != "" {
		return w.product, nil
	}
	tok, err := w.token(benchSeller, "seller")
	if err != nil {
		return "", err
	}
	id, err := w.c.CreateProduct(ctx, tok, flow.Product{Title: "Kopi Gayo 250 g (bench)", Price: benchPrice, Stock: benchStock})
	if err != nil {
		return "", fmt.Errorf("list the bench product: %w", err)
	}
	w.product = id
	return id, nil
}

// addToCart puts one unit of the product in buyer's cart.
func (w *coldWorld) addToCart(ctx context.Context, buyer, product string) error {
	tok, err := w.token(buyer, "buyer")
	if err != nil {
		return err
	}
	return w.c.AddToCart(ctx, tok, flow.Item{ProductID: product, Quantity: 1})
}

// coldOrder is an order placed through checkout, pending payment.
type coldOrder struct {
	ID       string
	Amount   int64
	Deadline time.Time
}

// placeOrder checks out one unit of the product as buyer (Midtrans, through the local
// payment sandbox): an order pending payment.
func (w *coldWorld) placeOrder(ctx context.Context, buyer string) (coldOrder, error) {
	product, err := w.listedProduct(ctx)
	if err != nil {
		return coldOrder{}, err
	}
	if err := w.addToCart(ctx, buyer, product); err != nil {
		return coldOrder{}, err
	}
	tok, err := w.token(buyer, "buyer")
	if err != nil {
		return coldOrder{}, err
	}
	p, r, err := w.c.Checkout(ctx, tok, "midtrans", coldID())
	if err == nil {
		err = r.Want("check out", http.StatusCreated)
	}
	if err != nil {
		return coldOrder{}, err
	}
	return coldOrder{ID: p.OrderID, Amount: p.Amount.Amount, Deadline: p.Deadline}, nil
}

// payOrder has the local payment sandbox notify the order's settlement, which the
// running webhook and payments consumer apply, and waits until the order is PAID.
func (w *coldWorld) payOrder(ctx context.Context, buyer, orderID string) error {
	if _, err := w.c.Notify(ctx, paysandbox.NotifyRequest{Provider: "midtrans", OrderID: orderID, Status: "settlement"}, true); err != nil {
		return err
	}
	tok, err := w.token(buyer, "buyer")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, orderPaidWait)
	defer cancel()
	_, err = w.c.WaitStatus(ctx, tok, orderID, func(status string) bool { return status == "PAID" })
	return err
}

// midtransSettlement is a Midtrans settlement notification of the order, signed with
// the local server key as Midtrans signs it, from the fixture's notification body.
func (w *coldWorld) midtransSettlement(template string, o coldOrder) (string, error) {
	key, err := w.env.Runner.Secret(localrun.ParamMidtransServerKey)
	if err != nil {
		return "", err
	}
	var n map[string]any
	if err := json.Unmarshal([]byte(template), &n); err != nil {
		return "", fmt.Errorf("the Midtrans notification in the fixture: %w", err)
	}
	gross := fmt.Sprintf("%d.00", o.Amount)
	n["order_id"], n["gross_amount"], n["transaction_id"] = o.ID, gross, coldID()
	n["transaction_status"], n["status_code"], n["fraud_status"] = "settlement", "200", "accept"
	sum := sha512.Sum512([]byte(o.ID + "200" + gross + key))
	n["signature_key"] = hex.EncodeToString(sum[:])
	b, err := json.Marshal(n)
	return string(b), err
}

// Scenarios.

// getProductScenario: anyone reads a listed product.
func getProductScenario(ctx context.Context, w *coldWorld, fixture []byte, _ int) (Events, error) {
	product, err := w.listedProduct(ctx)
	if err != nil {
		return nil, err
	}
	return fixedEvents(editHTTP(fixture, func(ev map[string]any) { setPathParam(ev, "productId", product) }))
}

// getOrderScenario: a buyer reads one of their orders.
func getOrderScenario(ctx context.Context, w *coldWorld, fixture []byte, _ int) (Events, error) {
	const buyer = "bench-buyer-orders"
	o, err := w.placeOrder(ctx, buyer)
	if err != nil {
		return nil, err
	}
	return fixedEvents(editHTTP(fixture, func(ev map[string]any) {
		setPathParam(ev, "orderId", o.ID)
		setSubject(ev, buyer)
	}))
}

// getCartScenario: a buyer reads their cart, which holds a product (priced from the
// catalog on every read).
func getCartScenario(ctx context.Context, w *coldWorld, fixture []byte, _ int) (Events, error) {
	const buyer = "bench-buyer-cart"
	product, err := w.listedProduct(ctx)
	if err != nil {
		return nil, err
	}
	if err := w.addToCart(ctx, buyer, product); err != nil {
		return nil, err
	}
	return fixedEvents(editHTTP(fixture, func(ev map[string]any) { setSubject(ev, buyer) }))
}

// getPromotionScenario: anyone reads a creator's live promotion of the product.
func getPromotionScenario(ctx context.Context, w *coldWorld, fixture []byte, _ int) (Events, error) {
	product, err := w.listedProduct(ctx)
	if err != nil {
		return nil, err
	}
	tok, err := w.token(benchCreator, "creator")
	if err != nil {
		return nil, err
	}
	// Promote waits until the product's snapshot has reached social (outbox, relay, inbox).
	id, err := w.c.Promote(ctx, tok, product, 1000)
	if err != nil {
		return nil, fmt.Errorf("promote the bench product: %w", err)
	}
	return fixedEvents(editHTTP(fixture, func(ev map[string]any) { setPathParam(ev, "promotionId", id) }))
}

// checkoutScenario: a buyer checks out a cart of one product (Midtrans); every
// invocation gets a cart of its own and an Idempotency-Key of its own.
func checkoutScenario(ctx context.Context, w *coldWorld, fixture []byte, n int) (Events, error) {
	product, err := w.listedProduct(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := editHTTP(fixture, func(map[string]any) {}); err != nil {
		return nil, err
	}
	return pregenerated(ctx, n, func(ctx context.Context) ([]byte, error) {
		buyer := w.buyer("checkout") // a cart of its own
		if err := w.addToCart(ctx, buyer, product); err != nil {
			return nil, err
		}
		return editHTTP(fixture, func(ev map[string]any) {
			setSubject(ev, buyer)
			setHeader(ev, "idempotency-key", coldID())
		})
	})
}

// webhookScenario: Midtrans notifies the settlement of an order pending payment; every
// invocation gets an order of its own.
func webhookScenario(ctx context.Context, w *coldWorld, fixture []byte, n int) (Events, error) {
	var ev map[string]any
	if err := json.Unmarshal(fixture, &ev); err != nil {
		return nil, err
	}
	template, _ := ev["body"].(string)
	if template == "" {
		return nil, errors.New("the fixture has no notification body")
	}
	return pregenerated(ctx, n, func(ctx context.Context) ([]byte, error) {
		o, err := w.placeOrder(ctx, w.buyer("webhook"))
		if err != nil {
			return nil, err
		}
		body, err := w.midtransSettlement(template, o)
		if err != nil {
			return nil, err
		}
		return editHTTP(fixture, func(ev map[string]any) {
			ev["body"] = body
			deleteHeader(ev, "content-length")
		})
	})
}

// paymentsScenario: the payments consumer gets a one-message batch, the settlement of an
// order pending payment as the webhook stored and enqueued it; every invocation gets an
// order of its own.
func paymentsScenario(ctx context.Context, w *coldWorld, fixture []byte, n int) (Events, error) {
	webhookFixture, err := readColdFixture(w.env.Root, "events/commerce/paymentwebhook/midtrans-settlement.json")
	if err != nil {
		return nil, err
	}
	var hook struct {
		Body    string            `json:"body"`
		Headers map[string]string `json:"headers"`
	}
	if err := json.Unmarshal(webhookFixture, &hook); err != nil {
		return nil, err
	}
	key, err := w.env.Runner.Secret(localrun.ParamMidtransServerKey)
	if err != nil {
		return nil, err
	}
	verifier, err := midtrans.New(midtrans.Config{ServerKey: key})
	if err != nil {
		return nil, err
	}
	fn := w.env.Runner.Functions["CommercePaymentsFunction"]
	if fn == nil || fn.Env["PAYMENT_EVENTS_TABLE"] == "" {
		return nil, errors.New("the payments function's PAYMENT_EVENTS_TABLE is unknown")
	}
	store := paymentevents.NewStore(w.env.DynamoDB(localaccount.Commerce), fn.Env["PAYMENT_EVENTS_TABLE"])
	return pregenerated(ctx, n, func(ctx context.Context) ([]byte, error) {
		o, err := w.placeOrder(ctx, w.buyer("payments"))
		if err != nil {
			return nil, err
		}
		body, err := w.midtransSettlement(hook.Body, o)
		if err != nil {
			return nil, err
		}
		// What the webhook does with it: verify, store once, enqueue.
		n, err := verifier.VerifyAndParse(hook.Headers, []byte(body))
		if err != nil {
			return nil, fmt.Errorf("the bench's settlement notification: %w", err)
		}
		e, err := paymentevents.FromNotification(n, time.Now())
		if err != nil {
			return nil, err
		}
		if _, _, err := store.PutOnce(ctx, e, n.Raw); err != nil {
			return nil, err
		}
		msg, err := paymentevents.MarshalMessage(e)
		if err != nil {
			return nil, err
		}
		return editSQS(fixture, func(r map[string]any) {
			setSQSBody(r, msg)
			attrs, _ := r["attributes"].(map[string]any)
			if attrs != nil {
				attrs["MessageGroupId"] = o.ID
				attrs["MessageDeduplicationId"] = paymentevents.DedupID(e.Key)
			}
		})
	})
}

// expiryScenario: an order's expiry message arrives at its deadline and finds it paid,
// as it does for most orders (an order still unpaid then is expired instead).
func expiryScenario(ctx context.Context, w *coldWorld, fixture []byte, _ int) (Events, error) {
	const buyer = "bench-buyer-expiry"
	o, err := w.placeOrder(ctx, buyer)
	if err != nil {
		return nil, err
	}
	if err := w.payOrder(ctx, buyer, o.ID); err != nil {
		return nil, err
	}
	body, _ := json.Marshal(map[string]any{"orderId": o.ID, "deadline": time.Now().Add(-time.Second).UTC().Format(time.RFC3339)})
	return fixedEvents(editSQS(fixture, func(r map[string]any) { setSQSBody(r, string(body)) }))
}

// relayScenario: the outbox stream brings one OrderCreated record, of an order of the
// bench product: the relay schedules its expiry and sends social the product's stock
// snapshot (after reading it from the catalog).
func relayScenario(ctx context.Context, w *coldWorld, fixture []byte, _ int) (Events, error) {
	const buyer = "bench-buyer-relay"
	o, err := w.placeOrder(ctx, buyer)
	if err != nil {
		return nil, err
	}
	product, err := w.listedProduct(ctx)
	if err != nil {
		return nil, err
	}
	return fixedEvents(editRecords(fixture, func(r map[string]any) error {
		img, _ := coldDig(r, "dynamodb", "NewImage").(map[string]any)
		if img == nil {
			return errors.New("the fixture's record has no NewImage")
		}
		payload, _ := coldDig(img, "payload", "S").(string)
		var p map[string]any
		if err := json.Unmarshal([]byte(payload), &p); err != nil {
			return fmt.Errorf("the OrderCreated payload: %w", err)
		}
		p["orderId"], p["total"], p["lines"], p["productIds"] = o.ID, o.Amount, 1, []string{product}
		p["deadline"] = o.Deadline.UTC().Format(time.RFC3339Nano)
		b, _ := json.Marshal(p)
		img["payload"] = map[string]any{"S": string(b)}
		img["aggregateId"] = map[string]any{"S": o.ID}
		return nil
	}))
}

// inboxScenario: social's inbox gets a one-message batch with a product's newer display
// snapshot (ProductUpdated); every invocation gets a newer version, so that it is
// applied, not dropped as stale.
func inboxScenario(ctx context.Context, w *coldWorld, fixture []byte, _ int) (Events, error) {
	if _, err := editSQS(fixture, func(map[string]any) {}); err != nil {
		return nil, err
	}
	base := time.Now().Unix() // versions above any the fixture or a run has used
	return func(ctx context.Context) ([]byte, error) {
		version := base + w.seq.Add(1)
		var err error
		out, eerr := editSQS(fixture, func(r map[string]any) {
			var env map[string]any
			if err = json.Unmarshal([]byte(r["body"].(string)), &env); err != nil {
				return
			}
			p, _ := env["payload"].(map[string]any)
			if p == nil {
				err = errors.New("the envelope has no payload")
				return
			}
			p["version"] = version
			env["eventId"] = coldUUID()
			env["occurredAt"] = time.Now().UTC().Format(time.RFC3339Nano)
			b, _ := json.Marshal(env)
			setSQSBody(r, string(b))
		})
		if err == nil {
			err = eerr
		}
		return out, err
	}, nil
}

// pregenerated makes n events now (gen makes one, with its state), seedWorkers at a time, and returns Events that hands
// them out in turn, then makes more one at a time if the measurement wants more: the
// state they need is made before the measurement, not between its cold starts.
func pregenerated(ctx context.Context, n int, gen Events) (Events, error) {
	events := make([][]byte, n)
	errs := make([]error, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(seedWorkers, n) {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				events[i], errs[i] = gen(ctx)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	var mu sync.Mutex
	return func(ctx context.Context) ([]byte, error) {
		mu.Lock()
		if len(events) > 0 {
			ev := events[0]
			events = events[1:]
			mu.Unlock()
			return ev, nil
		}
		mu.Unlock()
		return gen(ctx)
	}, nil
}

// Event editing.

// fixedEvents is an Events that gives the same event every time.
func fixedEvents(body []byte, err error) (Events, error) {
	if err != nil {
		return nil, err
	}
	return func(context.Context) ([]byte, error) { return body, nil }, nil
}

// editHTTP decodes an HTTP API event, lets edit change it and encodes it.
func editHTTP(fixture []byte, edit func(ev map[string]any)) ([]byte, error) {
	var ev map[string]any
	if err := json.Unmarshal(fixture, &ev); err != nil {
		return nil, err
	}
	if _, ok := ev["routeKey"].(string); !ok {
		return nil, errors.New("not an HTTP API event")
	}
	edit(ev)
	return json.Marshal(ev)
}

// editSQS decodes an SQS event of one message, lets edit change the message and
// encodes it with a fresh message id.
func editSQS(fixture []byte, edit func(r map[string]any)) ([]byte, error) {
	return editRecords(fixture, func(r map[string]any) error {
		if _, ok := r["body"].(string); !ok {
			return errors.New("not an SQS message")
		}
		r["messageId"] = coldUUID()
		edit(r)
		return nil
	})
}

// editRecords decodes an event of exactly one record (a representative batch at low
// traffic) and edits it.
func editRecords(fixture []byte, edit func(r map[string]any) error) ([]byte, error) {
	var ev map[string]any
	if err := json.Unmarshal(fixture, &ev); err != nil {
		return nil, err
	}
	recs, _ := ev["Records"].([]any)
	if len(recs) != 1 {
		return nil, fmt.Errorf("the event has %d records, want one", len(recs))
	}
	r, _ := recs[0].(map[string]any)
	if r == nil {
		return nil, errors.New("the record is not an object")
	}
	if err := edit(r); err != nil {
		return nil, err
	}
	return json.Marshal(ev)
}

// setPathParam sets a path parameter and the raw path that carries it.
func setPathParam(ev map[string]any, name, value string) {
	params, _ := ev["pathParameters"].(map[string]any)
	if params == nil {
		params = map[string]any{}
		ev["pathParameters"] = params
	}
	old, _ := params[name].(string)
	params[name] = value
	if old == "" {
		return
	}
	if p, ok := ev["rawPath"].(string); ok {
		ev["rawPath"] = strings.Replace(p, old, value, 1)
	}
	if h, ok := coldDig(ev, "requestContext", "http").(map[string]any); ok {
		if p, ok := h["path"].(string); ok {
			h["path"] = strings.Replace(p, old, value, 1)
		}
	}
}

// setSubject makes the request's JWT subject sub.
func setSubject(ev map[string]any, sub string) {
	if claims, ok := coldDig(ev, "requestContext", "authorizer", "jwt", "claims").(map[string]any); ok {
		claims["sub"] = sub
	}
}

// setHeader sets a header, replacing it in any case.
func setHeader(ev map[string]any, name, value string) {
	deleteHeader(ev, name)
	h, _ := ev["headers"].(map[string]any)
	if h == nil {
		h = map[string]any{}
		ev["headers"] = h
	}
	h[strings.ToLower(name)] = value
}

func deleteHeader(ev map[string]any, name string) {
	h, _ := ev["headers"].(map[string]any)
	for k := range h {
		if strings.EqualFold(k, name) {
			delete(h, k)
		}
	}
}

// setSQSBody sets a message's body and its MD5.
func setSQSBody(r map[string]any, body string) {
	sum := md5.Sum([]byte(body))
	r["body"], r["md5OfBody"] = body, hex.EncodeToString(sum[:])
}

// coldDig follows object keys.
func coldDig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// readColdFixture reads a fixture (a path relative to the module root).
func readColdFixture(root, rel string) ([]byte, error) {
	return os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
}

// coldID is a random hex id (idempotency keys, transaction ids).
func coldID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// coldUUID is a random version 4 UUID.
func coldUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
