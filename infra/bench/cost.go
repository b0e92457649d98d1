package bench

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/etalase/etalase/infra/localaccount"
	"github.com/etalase/etalase/infra/localrun/lambda"
)

// CostStage runs the whole paid-order flow K times through the metered runner and
// prices what it used, per one million paid orders, at on-demand list prices for
// PriceRegion (Prices): the "Cost" section.
func CostStage(ctx context.Context, env *Env) ([]*Section, error) {
	m, err := env.metered(ctx)
	if err != nil {
		return nil, err
	}
	run, err := runCost(ctx, m, env.Count(30, 4))
	if err != nil {
		return nil, err
	}
	model := CostModelOf(run)
	rows, err := PriceLines(model.Lines, Prices)
	if err != nil {
		return nil, err
	}
	total, _, _ := CostTotals(rows)
	env.Progressf("cost: %d paid orders in %s; $%.2f per million paid orders", run.Orders, run.Took.Round(100*time.Millisecond), total)
	return []*Section{CostSection(run, model, rows, env.Quick)}, nil
}

// buyerModel is what one paying buyer does in the cost model: the requests a real
// buyer's app sends around one paid order.
var buyerModel = buyOptions{readCart: true, pay: true, readOrder: 2}

// buyerModelText describes buyerModel for the report.
const buyerModelText = `hand-off from the promotion (social), add to cart, read the cart, check out (Xendit),
the provider's PAID notification to the webhook, and the order page read twice (once on
returning from the payment page, once more as it refreshes); then, without the buyer:
payments, relay (OrderCreated with its expiry message and stock snapshot,
OrderStatusChanged, SaleAttributed), the inbox (snapshot, creator commission) and the
order's expiry message, which comes for every order and is a NoOp once it is paid`

// costRun is what the cost scenario measured.
type costRun struct {
	Orders int
	Calls  Snapshot
	Pools  map[string]lambda.Stats
	// Functions' account, memory and whether the HTTP API invokes them.
	Functions map[string]costFunction
	// Queues by logical id: account and FIFO.
	Queues map[string]costQueue
	// Outbox are the outbox records the orders wrote, by type.
	Outbox map[string]int
	// WarmedUp says a warm-up order ran first (the runner was cold).
	WarmedUp bool
	Took     time.Duration
	name     func(string) string
}

type costFunction struct {
	Account  string `json:"account"`
	MemoryMB int    `json:"memoryMB"`
	HTTP     bool   `json:"http"`
	// Queue is the queue an SQS consumer polls, by logical id.
	Queue string `json:"queue,omitempty"`
}

type costQueue struct {
	Account string `json:"account"`
	FIFO    bool   `json:"fifo"`
}

// flowFunctions are the functions a paid order runs; the warm-up starts each.
var flowFunctions = []string{fnPromotion, fnCart, fnCheckout, fnOrders, fnWebhook, fnPayments, fnRelay, fnInbox, fnExpiry}

// runCost runs orders paying buyers one at a time, after a warm-up order when the
// runner is cold, and waits until every order is PAID, its expiry message consumed and
// everything settled.
func runCost(ctx context.Context, m *metered, orders int) (*costRun, error) {
	t0 := time.Now()
	env := m.env
	run := &costRun{Orders: orders, Functions: map[string]costFunction{}, Queues: map[string]costQueue{}, name: m.name}
	for id, fn := range m.r.Functions {
		run.Functions[id] = costFunction{Account: fn.Account, MemoryMB: fn.Config.MemoryMB}
	}
	for _, rt := range m.r.Routes {
		f := run.Functions[rt.FunctionID]
		f.HTTP = true
		run.Functions[rt.FunctionID] = f
	}
	for _, q := range esmQueues {
		f := run.Functions[q.Function]
		f.Queue = q.Queue
		run.Functions[q.Function] = f
	}
	for side, res := range m.r.Resources {
		for id, q := range res.Queues {
			run.Queues[id] = costQueue{Account: side, FIFO: q.FIFO}
		}
	}
	cold, err := m.warmHTTP(ctx)
	if err != nil {
		return nil, err
	}
	if cold {
		env.Progressf("cost: a warm-up order (the functions start cold; it is not counted)")
		since := m.meter.Snapshot()
		warm, err := m.buy(ctx, buyerModel)
		if err != nil {
			return nil, fmt.Errorf("warm-up order: %w", err)
		}
		if err := m.waitOrders(ctx, []placedOrder{warm}, since); err != nil {
			return nil, fmt.Errorf("warm-up order: %w", err)
		}
		run.WarmedUp = true
	} else if err := m.settle(ctx, 30*time.Second, 300*time.Millisecond, nil); err != nil {
		return nil, err
	}
	before, pools0 := m.meter.Snapshot(), m.poolStats()
	out0, err := m.outboxTypes(ctx)
	if err != nil {
		return nil, err
	}
	env.Progressf("cost: %d paid orders, one buyer at a time (%s)", orders, "hand-off, cart, checkout, payment, two order reads")
	placed, err := m.buyMany(ctx, orders, 1, buyerModel)
	if err != nil {
		return nil, err
	}
	env.Progressf("cost: waiting for payments, relay, inbox and the orders' expiry messages (payment window %s)", MeteredWindow)
	if err := m.waitOrders(ctx, placed, before); err != nil {
		return nil, err
	}
	run.Calls = m.meter.Snapshot().Sub(before)
	run.Pools = subStats(m.poolStats(), pools0)
	if run.Outbox, err = m.outboxSince(ctx, out0); err != nil {
		return nil, err
	}
	run.Took = time.Since(t0)
	return run, nil
}

// warmHTTP starts a process of each cold function of the flow that a cheap read
// warms (the buyer's order and cart reads, a promotion read) and reports whether
// another one is still cold, which only a whole order warms.
func (m *metered) warmHTTP(ctx context.Context) (bool, error) {
	buyer, _, err := m.newBuyer()
	if err != nil {
		return false, err
	}
	reads := map[string]string{
		fnOrders:    "/commerce/v1/orders?limit=1",
		fnCart:      "/commerce/v1/cart",
		fnPromotion: "/social/v1/promotions/" + m.promotion,
	}
	cold := false
	for _, id := range flowFunctions {
		fn, ok := m.r.Functions[id]
		if !ok || fn.Pool.Stats().Processes > 0 {
			continue
		}
		path, ok := reads[id]
		if !ok {
			cold = true
			continue
		}
		r, err := m.c.Do(ctx, "GET", path, buyer, nil)
		if err != nil {
			return false, fmt.Errorf("warm %s: %w", id, err)
		}
		if err := r.Want("warm "+id, 200); err != nil {
			return false, err
		}
	}
	return cold, nil
}

// expiryReads is how many expiry messages the expiry consumer has read (its GetItems)
// since before.
func (m *metered) expiryReads(before Snapshot) int {
	n := 0
	for k, t := range m.meter.Snapshot().Sub(before).Calls.Function(fnExpiry) {
		if k.Operation == "GetItem" {
			n += t.Requests
		}
	}
	return n
}

// waitOrders waits until the orders are PAID, the expiry consumer has read one
// message per order since the snapshot since (the orders' expiry messages: nothing
// else places orders meanwhile), and everything settled.
func (m *metered) waitOrders(ctx context.Context, orders []placedOrder, since Snapshot) error {
	reads := func() int { return m.expiryReads(since) }
	err := m.settle(ctx, MeteredWindow+60*time.Second, 400*time.Millisecond, func() (bool, error) {
		if reads() < len(orders) {
			return false, nil
		}
		st, err := m.statuses(ctx, orders)
		if err != nil {
			return false, err
		}
		for _, o := range orders {
			if st[o.id] != "PAID" {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		st, _ := m.statuses(ctx, orders)
		counts := map[string]int{}
		for _, v := range st {
			counts[v]++
		}
		return fmt.Errorf("%w (order statuses %v, expiry messages read %d of %d)", err, counts, reads(), len(orders))
	}
	return nil
}

// CostLine is one billed quantity per paid order.
type CostLine struct {
	Service  string  `json:"service"`
	Item     string  `json:"item"`
	Account  string  `json:"account"`
	PriceKey string  `json:"priceKey"`
	PerOrder float64 `json:"perOrder"`
}

// CostRow is a CostLine priced for one million paid orders.
type CostRow struct {
	CostLine
	PerMillion float64 `json:"perMillionOrders"`
	Price      Price   `json:"price"`
	USD        float64 `json:"usdPerMillionOrders"`
}

// Orders is what the cost model prices: one million paid orders.
const Orders = 1_000_000

// PriceLines prices each line for Orders paid orders: quantity × Orders / price.Per ×
// price.USD.
func PriceLines(lines []CostLine, prices []Price) ([]CostRow, error) {
	byKey := map[string]Price{}
	for _, p := range prices {
		byKey[p.Key] = p
	}
	var rows []CostRow
	for _, l := range lines {
		p, ok := byKey[l.PriceKey]
		if !ok || p.Per <= 0 {
			return nil, fmt.Errorf("cost: no price %q for %s %s", l.PriceKey, l.Service, l.Item)
		}
		q := l.PerOrder * Orders
		rows = append(rows, CostRow{CostLine: l, PerMillion: q, Price: p, USD: q / p.Per * p.USD})
	}
	return rows, nil
}

// CostTotals adds up priced rows: in all, by account and by service.
func CostTotals(rows []CostRow) (total float64, byAccount, byService map[string]float64) {
	byAccount, byService = map[string]float64{}, map[string]float64{}
	for _, r := range rows {
		total += r.USD
		byAccount[r.Account] += r.USD
		byService[r.Service] += r.USD
	}
	return total, byAccount, byService
}

// FunctionCost is one function's share of a paid order.
type FunctionCost struct {
	Function    string  `json:"function"`
	Account     string  `json:"account"`
	MemoryMB    int     `json:"memoryMB"`
	Invocations float64 `json:"invocationsPerOrder"`
	ColdStarts  int     `json:"coldStarts"`
	// BilledMs is the REPORT lines' billed duration per order; MeterMs the time the
	// counting proxy added to the function's requests, per order; NetMs is BilledMs
	// less MeterMs, which the model bills.
	BilledMs float64 `json:"billedMsPerOrder"`
	MeterMs  float64 `json:"meterMsPerOrder"`
	NetMs    float64 `json:"netMsPerOrder"`
	GBs      float64 `json:"gbSecondsPerOrder"`
	RRU      float64 `json:"rruPerOrder"`
	WRU      float64 `json:"wruPerOrder"`
	DynamoDB float64 `json:"dynamodbRequestsPerOrder"`
	SQS      float64 `json:"sqsRequestsPerOrder"`
}

// CostModel is a cost run turned into quantities per paid order.
type CostModel struct {
	Orders    int            `json:"orders"`
	Functions []FunctionCost `json:"functions"`
	Lines     []CostLine     `json:"lines"`
}

// CostModelOf turns a cost run into quantities per paid order: Lambda requests and
// GB-seconds (billed duration less the proxy's share, at the function's memory), HTTP
// API requests (the HTTP functions' invocations: one per API request), DynamoDB read
// and write request units, and SQS requests by queue type: the functions' sends (64
// KB chunks) and the event source mappings' one ReceiveMessage and one
// DeleteMessageBatch per batch, billed to the account that owns the queue.
func CostModelOf(run *costRun) CostModel {
	k := float64(max(run.Orders, 1))
	cm := CostModel{Orders: run.Orders}
	type acc struct{ req, gbs, api, rru, wru float64 }
	accounts := map[string]*acc{}
	a := func(side string) *acc {
		if accounts[side] == nil {
			accounts[side] = &acc{}
		}
		return accounts[side]
	}
	sqsReq := map[[2]string]float64{} // account, standard|FIFO
	queueOf := func(resource string) (costQueue, bool) {
		q, ok := run.Queues[run.name(resource)]
		return q, ok
	}
	for _, id := range sortedKeys(run.Functions) {
		f := run.Functions[id]
		p := run.Pools[id]
		calls := run.Calls.Calls.Function(id)
		tot := calls.Total()
		if p.Invocations == 0 && tot.Requests == 0 {
			continue
		}
		fc := FunctionCost{Function: id, Account: f.Account, MemoryMB: f.MemoryMB, Invocations: float64(p.Invocations) / k, ColdStarts: p.ColdStarts,
			BilledMs: Millis(p.BilledDuration) / k, MeterMs: Millis(run.Calls.Overhead[id]) / k,
			RRU: tot.ReadUnits / k, WRU: tot.WriteUnits / k}
		fc.NetMs = math.Max(0, fc.BilledMs-fc.MeterMs)
		fc.GBs = fc.NetMs / 1000 * float64(f.MemoryMB) / 1024
		for ck, t := range calls {
			if ck.Service == ServiceSQS {
				fc.SQS += float64(t.Requests) / k
				if q, ok := queueOf(ck.Resource); ok {
					sqsReq[[2]string{q.Account, queueKind(q.FIFO)}] += float64(t.BilledRequests) / k
				}
			} else {
				fc.DynamoDB += float64(t.Requests) / k
			}
		}
		if f.Queue != "" {
			q := run.Queues[f.Queue]
			sqsReq[[2]string{q.Account, queueKind(q.FIFO)}] += 2 * float64(p.Invocations) / k
		}
		cm.Functions = append(cm.Functions, fc)
		x := a(f.Account)
		x.req += fc.Invocations
		x.gbs += fc.GBs
		if f.HTTP {
			x.api += fc.Invocations
		}
		x.rru += fc.RRU
		x.wru += fc.WRU
	}
	for _, side := range []string{localaccount.Social.Side, localaccount.Commerce.Side} {
		x := a(side)
		cm.Lines = append(cm.Lines,
			CostLine{"Lambda", "requests", side, PriceLambdaRequests, x.req},
			CostLine{"Lambda", "GB-seconds (arm64)", side, PriceLambdaArmGBs, x.gbs},
			CostLine{"API Gateway", "HTTP API requests", side, PriceHTTPAPIRequests, x.api},
			CostLine{"DynamoDB", "read request units", side, PriceDynamoDBRRU, x.rru},
			CostLine{"DynamoDB", "write request units", side, PriceDynamoDBWRU, x.wru},
			CostLine{"SQS", "standard requests", side, PriceSQSStandard, sqsReq[[2]string{side, "standard"}]},
			CostLine{"SQS", "FIFO requests", side, PriceSQSFIFO, sqsReq[[2]string{side, "FIFO"}]},
		)
	}
	return cm
}

// UnbatchedLines are what a paid order would cost more if traffic were so low that
// nothing batches: the relay invoked once per outbox record, the inbox once per
// message (one snapshot per order created, not coalesced, and one sale), the expiry
// consumer once per expiry message; each extra invocation at its function's measured
// duration per invocation, with its event source mapping's receive and delete, and the
// relay's sends one per record and queue (two for OrderCreated, one for SaleAttributed).
func UnbatchedLines(run *costRun, model CostModel) []CostLine {
	k := float64(max(run.Orders, 1))
	perOrder := func(n int) float64 { return float64(n) / k }
	records := 0
	for _, n := range run.Outbox {
		records += n
	}
	created, sales := perOrder(run.Outbox["OrderCreated"]), perOrder(run.Outbox["SaleAttributed"])
	alone := map[string]float64{fnRelay: perOrder(records), fnInbox: created + sales, fnExpiry: created}
	var lines []CostLine
	for _, fc := range model.Functions {
		want, ok := alone[fc.Function]
		d := want - fc.Invocations
		if !ok || d <= 0 || fc.Invocations <= 0 {
			continue
		}
		lines = append(lines,
			CostLine{"Lambda", "requests", fc.Account, PriceLambdaRequests, d},
			CostLine{"Lambda", "GB-seconds (arm64)", fc.Account, PriceLambdaArmGBs, d * fc.GBs / fc.Invocations})
		if f := run.Functions[fc.Function]; f.Queue != "" {
			q := run.Queues[f.Queue]
			lines = append(lines, CostLine{"SQS", queueKind(q.FIFO) + " requests", q.Account, sqsPrice(q.FIFO), 2 * d})
		}
	}
	sent := map[string]float64{}
	for ck, t := range run.Calls.Calls.Function(fnRelay) {
		if ck.Service == ServiceSQS {
			sent[run.name(ck.Resource)] += float64(t.BilledRequests) / k
		}
	}
	for queue, want := range map[string]float64{"ExpiryQueue": created, "SocialInboxQueue": created + sales} {
		if d := want - sent[queue]; d > 0 {
			q := run.Queues[queue]
			lines = append(lines, CostLine{"SQS", queueKind(q.FIFO) + " requests", q.Account, sqsPrice(q.FIFO), d})
		}
	}
	return lines
}

func sqsPrice(fifo bool) string {
	if fifo {
		return PriceSQSFIFO
	}
	return PriceSQSStandard
}

func queueKind(fifo bool) string {
	if fifo {
		return "FIFO"
	}
	return "standard"
}

// CostSection renders the cost run: the model, a table per service, the total, the
// split by account, each function's share, and the prices with their sources.
func CostSection(run *costRun, model CostModel, rows []CostRow, quick bool) *Section {
	total, byAccount, byService := CostTotals(rows)
	s := &Section{ID: "cost", Title: "Cost per million paid orders", Data: map[string]any{
		"orders": run.Orders, "region": PriceRegion, "pricesRead": PricesRead, "model": model, "rows": rows,
		"totalUsd": total, "byAccountUsd": byAccount, "byServiceUsd": byService, "prices": Prices,
		"warmedUp": run.WarmedUp, "tookMs": Millis(run.Took), "functions": run.Functions, "queues": run.Queues,
	}}
	unverified := 0
	for _, p := range Prices {
		if strings.HasPrefix(p.Note, "unverified") {
			unverified++
		}
	}
	coldStarts := 0
	for _, f := range model.Functions {
		coldStarts += f.ColdStarts
	}
	s.Blocks = append(s.Blocks, Text(fmt.Sprintf(`**$%.2f per million paid orders** at on-demand list prices for %s, without free
tiers: social $%.2f, commerce $%.2f. %d paid orders ran through the metered runner, one
buyer at a time, each the whole flow: %s.

Every quantity is counted, per function: Lambda invocations and their REPORT lines' billed
duration at the template's memory size (arm64), HTTP API requests (the HTTP functions'
invocations), DynamoDB read and write request units (see "Requests and capacity"), SQS
requests by queue type (the functions' sends in 64 KB chunks, and one ReceiveMessage and
one DeleteMessageBatch per batch for Lambda's event source mappings, billed to the queue's
owner: the social inbox is social's). Durations are this machine's (%s, not Graviton,
and shared with the emulators), less the time the counting proxy added to each function's
requests; %d cold starts fell in the measured orders (their init is billed, as on
provided.al2023). **%d of %d prices are unverified for Jakarta** (the US East figure is
used; see the price table).`,
		total, PriceRegion, byAccount[localaccount.Social.Side], byAccount[localaccount.Commerce.Side], run.Orders,
		strings.Join(strings.Fields(buyerModelText), " "), hostArch(), coldStarts, unverified, len(Prices))))

	for _, svc := range []string{"Lambda", "API Gateway", "DynamoDB", "SQS"} {
		t := &Table{Caption: fmt.Sprintf("%s: $%.2f per million paid orders", svc, byService[svc]), Columns: []Column{
			{Name: "Item"}, {Name: "Account"}, {Name: "Per order", Right: true}, {Name: "Per 1M orders", Right: true},
			{Name: "Unit price (USD)", Right: true}, {Name: "Cost (USD)", Right: true},
		}}
		for _, r := range rows {
			if r.Service != svc || r.PerOrder == 0 {
				continue
			}
			t.Rows = append(t.Rows, []string{r.Item, r.Account, fmtQty(r.PerOrder), fmtQty(r.PerMillion),
				fmt.Sprintf("%s per %s", fmtPrice(r.Price.USD), r.Price.Unit), fmtUSD(r.USD)})
		}
		s.Blocks = append(s.Blocks, t)
	}
	tot := &Table{Caption: "Total per million paid orders (USD)", Columns: []Column{
		{Name: "Service"}, {Name: "social", Right: true}, {Name: "commerce", Right: true}, {Name: "Total", Right: true},
	}}
	chart := &Chart{Name: "cost", Title: "Cost per million paid orders, by service and account", Unit: "USD", Series: []string{"social", "commerce"}, Decimals: 2}
	for _, svc := range []string{"Lambda", "API Gateway", "DynamoDB", "SQS"} {
		var soc, com float64
		for _, r := range rows {
			if r.Service == svc {
				if r.Account == localaccount.Social.Side {
					soc += r.USD
				} else {
					com += r.USD
				}
			}
		}
		tot.Rows = append(tot.Rows, []string{svc, fmtUSD(soc), fmtUSD(com), fmtUSD(soc + com)})
		chart.Groups = append(chart.Groups, Group{Label: svc, Values: []float64{soc, com}})
	}
	tot.Rows = append(tot.Rows, []string{"**Total**", fmtUSD(byAccount[localaccount.Social.Side]), fmtUSD(byAccount[localaccount.Commerce.Side]), "**" + fmtUSD(total) + "**"})
	s.Blocks = append(s.Blocks, tot, chart)
	if extra, err := PriceLines(UnbatchedLines(run, model), Prices); err == nil {
		more, _, _ := CostTotals(extra)
		s.Data.(map[string]any)["unbatchedExtraUsd"] = more
		var inv float64
		for _, r := range extra {
			if r.Service == "Lambda" && r.Item == "requests" {
				inv += r.PerOrder
			}
		}
		s.Blocks = append(s.Blocks, Text(fmt.Sprintf(`Batching: the relay, inbox and expiry consumers ran %s, %s and %s times per order here,
because consecutive orders' records and messages shared batches. If traffic were so low
that nothing batched (each outbox record, message and expiry alone), a paid order would
take %s more invocations and their queue requests: **+%s per million paid orders** (%s in
all).`, fmtQty(invocationsOf(model, fnRelay)), fmtQty(invocationsOf(model, fnInbox)), fmtQty(invocationsOf(model, fnExpiry)),
			fmtQty(inv), fmtUSD(more), fmtUSD(total+more))))
	}

	ft := &Table{Caption: "Per function, per paid order", Columns: []Column{
		{Name: "Function"}, {Name: "MB", Right: true}, {Name: "Invocations", Right: true}, {Name: "Billed ms", Right: true},
		{Name: "Proxy ms", Right: true}, {Name: "Net ms", Right: true}, {Name: "GB-s", Right: true},
		{Name: "DynamoDB req", Right: true}, {Name: "RRU", Right: true}, {Name: "WRU", Right: true}, {Name: "SQS req", Right: true},
	}}
	fns := append([]FunctionCost(nil), model.Functions...)
	sort.Slice(fns, func(i, j int) bool {
		if fns[i].Account != fns[j].Account {
			return fns[i].Account > fns[j].Account
		}
		return fns[i].Function < fns[j].Function
	})
	for _, f := range fns {
		ft.Rows = append(ft.Rows, []string{shortID(f.Function), fmt.Sprint(f.MemoryMB), fmtQty(f.Invocations), fmt.Sprintf("%.1f", f.BilledMs),
			fmt.Sprintf("%.1f", f.MeterMs), fmt.Sprintf("%.1f", f.NetMs), fmt.Sprintf("%.4f", f.GBs),
			fmtQty(f.DynamoDB), fmtQty(f.RRU), fmtQty(f.WRU), fmtQty(f.SQS)})
	}
	s.Blocks = append(s.Blocks, ft)

	pt := &Table{Caption: fmt.Sprintf("Prices (USD, on demand, read %s)", PricesRead), Columns: []Column{
		{Name: "Service"}, {Name: "Item"}, {Name: "Price", Right: true}, {Name: "Source"}, {Name: "Note"},
	}}
	for _, p := range Prices {
		pt.Rows = append(pt.Rows, []string{p.Service, p.Item, fmt.Sprintf("%s per %s", fmtPrice(p.USD), p.Unit), p.Source, orDash(p.Note)})
	}
	s.Blocks = append(s.Blocks, pt, Text(`Not in the figure: data transfer out (the responses' bytes), CloudWatch Logs (each
function logs JSON lines), X-Ray (Tracing: Active), DynamoDB storage, streams and
point-in-time recovery, SSM (standard parameters, read once per cold start), the
reconcile schedule (one invocation every 5 minutes, whatever the orders) and Lambda's
empty long polls on idle queues: costs per month or per byte, not per order.`))
	if quick {
		s.Blocks = append(s.Blocks, Text("Quick counts: indicative only."))
	}
	return s
}

// invocationsOf is a function's invocations per order in the model.
func invocationsOf(m CostModel, fn string) float64 {
	for _, f := range m.Functions {
		if f.Function == fn {
			return f.Invocations
		}
	}
	return 0
}

// hostArch names the machine the durations were measured on.
func hostArch() string {
	h := hostInfo()
	return fmt.Sprintf("%s/%s, %d CPUs", h.OS, h.Arch, h.CPUs)
}

// fmtQty formats a quantity: up to three significant decimals below 10, whole above.
func fmtQty(x float64) string {
	switch {
	case x == 0:
		return "0"
	case math.Abs(x) >= 1000:
		return groupThousands(x)
	case math.Abs(x) >= 10:
		return fmt.Sprintf("%.1f", x)
	case math.Abs(x) >= 0.01:
		return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.3f", x), "0"), ".")
	}
	return fmt.Sprintf("%.2g", x)
}

// groupThousands writes a whole number with thousands separators.
func groupThousands(x float64) string {
	s := fmt.Sprintf("%.0f", math.Round(x))
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// fmtPrice writes a unit price with all its digits, and at least cents.
func fmtPrice(x float64) string {
	s := strconv.FormatFloat(x, 'f', -1, 64)
	if i := strings.IndexByte(s, '.'); i < 0 || len(s)-i-1 < 2 {
		s = fmt.Sprintf("%.2f", x)
	}
	return "$" + s
}

// fmtUSD writes dollars: cents above a dollar, more digits below.
func fmtUSD(x float64) string {
	switch {
	case x >= 1:
		return "$" + groupThousands(math.Floor(x)) + fmt.Sprintf("%.2f", x-math.Floor(x))[1:]
	case x >= 0.01:
		return fmt.Sprintf("$%.2f", x)
	case x == 0:
		return "$0"
	}
	return "$" + strings.TrimRight(fmt.Sprintf("%.10f", x), "0")
}
