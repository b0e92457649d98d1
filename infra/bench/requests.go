package bench

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// RequestsStage measures the DynamoDB and SQS requests, and DynamoDB's read and write
// request units, that each business operation costs, as the real function processes
// send them through the local runner (a second runner whose functions reach the
// emulators through a counting proxy, Meter), beside the minimum the design allows
// (designMinimums): the "Requests and capacity" section.
func RequestsStage(ctx context.Context, env *Env) ([]*Section, error) {
	m, err := env.metered(ctx)
	if err != nil {
		return nil, err
	}
	paid, unpaid := env.Count(30, 4), env.Count(10, 2)
	run, err := runRequests(ctx, m, paid, unpaid, 3)
	if err != nil {
		return nil, err
	}
	results := requestResults(run, m.name)
	esm := esmResults(run, m)
	excess := 0
	for _, r := range results {
		excess += len(r.Excess)
	}
	env.Progressf("requests: %d operations measured in %s; %d %s above the design minimum", len(results), run.Took.Round(100*time.Millisecond), excess, unitsOf("request kind", excess))
	return []*Section{RequestsSection(run, results, esm, env.Quick)}, nil
}

// CallResult is one kind of request of an operation, per unit of work: measured and
// the design's minimum.
type CallResult struct {
	Service   string  `json:"service"`
	Operation string  `json:"operation"`
	Resource  string  `json:"resource"`
	Measured  float64 `json:"measured"`
	Minimum   float64 `json:"minimum"`
	RRU       float64 `json:"rru"`
	WRU       float64 `json:"wru"`
	MinRRU    float64 `json:"minRru"`
	MinWRU    float64 `json:"minWru"`
	// Units says where RRU and WRU come from: "reported" (DynamoDB Local),
	// "computed" (the meter, by DynamoDB's rules) or "mixed".
	Units string `json:"units,omitempty"`
	// Local is what DynamoDB Local reported for computed units, per unit.
	Local float64 `json:"localReported,omitempty"`
	// Errors per unit: answers 4xx/5xx (a failed condition, a retried conflict).
	Errors float64 `json:"errors,omitempty"`
	Why    string  `json:"why,omitempty"`
}

// PerUnit are an operation's totals per unit of work.
type PerUnit struct {
	DynamoDB float64 `json:"dynamodbRequests"`
	SQS      float64 `json:"sqsRequests"`
	RRU      float64 `json:"rru"`
	WRU      float64 `json:"wru"`
}

// OpResult is one business operation's measured requests beside the design minimum.
type OpResult struct {
	ID          string         `json:"id"`
	Op          string         `json:"operation"`
	Function    string         `json:"function"`
	Unit        string         `json:"unit"`
	Units       int            `json:"units"`
	Mix         map[string]int `json:"mix,omitempty"`
	Invocations int            `json:"invocations,omitempty"`
	Calls       []CallResult   `json:"calls"`
	Measured    PerUnit        `json:"measured"`
	Minimum     PerUnit        `json:"minimum"`
	// Excess names each request kind measured above its minimum (more than 2 % of a
	// request per unit), or measured and not in the minimum.
	Excess []string `json:"excess,omitempty"`
	Sizes  string   `json:"sizes"`
	Reason string   `json:"reason"`
}

// excessTolerance is how far above the minimum (requests per unit) a measurement may
// be without counting as excess.
const excessTolerance = 0.02

// CompareOp sets the counts of mo's function (counts: its tallies, resources by
// logical id) over units units of work (mix: units by variant) beside the minimum.
func CompareOp(mo MinOp, counts Counts, units int, mix map[string]int) OpResult {
	r := OpResult{ID: mo.ID, Op: mo.Op, Function: mo.Function, Unit: mo.Unit, Units: units, Mix: mix, Sizes: mo.Sizes, Reason: mo.Reason}
	if units <= 0 {
		return r
	}
	u := float64(units)
	mins := mo.MinPerUnit(mix)
	byKey := map[CallKey]*CallResult{}
	get := func(k CallKey) *CallResult {
		k.Function = ""
		if c, ok := byKey[k]; ok {
			return c
		}
		c := &CallResult{Service: k.Service, Operation: k.Operation, Resource: k.Resource}
		byKey[k] = c
		return c
	}
	sources := map[CallKey][2]int{}
	for k, t := range counts {
		c := get(k)
		c.Measured += float64(t.Requests) / u
		c.RRU += t.ReadUnits / u
		c.WRU += t.WriteUnits / u
		c.Errors += float64(t.Errors) / u
		c.Local += t.LocalUnits / u
		k.Function = ""
		s := sources[k]
		s[0] += t.Reported
		s[1] += t.Computed
		sources[k] = s
	}
	for k, mc := range mins {
		c := get(k)
		c.Minimum, c.MinRRU, c.MinWRU, c.Why = mc.Count, mc.RRU, mc.WRU, mc.Why
	}
	for k, c := range byKey {
		if why, ok := mo.Beyond[k.Service+" "+k.Operation+" "+k.Resource]; ok && c.Minimum == 0 {
			c.Why = "not needed: " + why
		}
		switch s := sources[k]; {
		case s[0] > 0 && s[1] > 0:
			c.Units = "mixed"
		case s[0] > 0:
			c.Units = "reported"
		case s[1] > 0:
			c.Units = "computed"
		}
		r.Calls = append(r.Calls, *c)
	}
	sort.Slice(r.Calls, func(i, j int) bool {
		a, b := r.Calls[i], r.Calls[j]
		if a.Service != b.Service {
			return a.Service < b.Service
		}
		if a.Operation != b.Operation {
			return a.Operation < b.Operation
		}
		return a.Resource < b.Resource
	})
	for _, c := range r.Calls {
		add := func(p *PerUnit, n, rru, wru float64) {
			if c.Service == ServiceSQS {
				p.SQS += n
			} else {
				p.DynamoDB += n
			}
			p.RRU += rru
			p.WRU += wru
		}
		add(&r.Measured, c.Measured, c.RRU, c.WRU)
		add(&r.Minimum, c.Minimum, c.MinRRU, c.MinWRU)
		if c.Measured > c.Minimum+excessTolerance {
			r.Excess = append(r.Excess, fmt.Sprintf("%s %s %s: %.2f per %s, minimum %.2f", c.Service, c.Operation, c.Resource, c.Measured, mo.Unit, c.Minimum))
		}
	}
	return r
}

// requestResults compares each operation of a requests run with its minimum.
func requestResults(run *requestsRun, name func(string) string) []OpResult {
	all := renamed(run.After.Sub(run.Before).Calls, name)
	expired := renamed(run.ExpiredAt.Sub(run.Before).Calls.Function(fnExpiry), name)
	noops := renamed(run.After.Sub(run.ExpiredAt).Calls.Function(fnExpiry), name)
	d := run.After.Sub(run.Before)
	inboxMix := map[string]int{}
	for typ, n := range d.MessagesOf(fnRelay, "social-inbox") {
		inboxMix[typ] += n
	}
	relayMix := map[string]int{
		"OrderCreated":                        run.Outbox["OrderCreated"],
		"OrderStatusChanged (paid)":           min(run.Paid, run.Outbox["OrderStatusChanged"]),
		"OrderStatusChanged (stock released)": max(run.Outbox["OrderStatusChanged"]-run.Paid, 0),
		"SaleAttributed":                      run.Outbox["SaleAttributed"],
	}
	for t, n := range run.Outbox {
		if _, ok := relayMix[t]; !ok && t != "OrderStatusChanged" {
			relayMix[t] = n
		}
	}
	paymentMessages := 0
	for _, n := range d.MessagesOf(fnWebhook, "payment-events") {
		paymentMessages += n
	}
	sum := func(m map[string]int) int {
		n := 0
		for _, v := range m {
			n += v
		}
		return n
	}
	type spec struct {
		id     string
		counts Counts
		units  int
		mix    map[string]int
	}
	adds := run.Paid + run.Unpaid
	specs := []spec{
		{"handoff", all.Function(fnPromotion), adds, map[string]int{"hand-off": adds}},
		{"add-to-cart", all.Function(fnCart), adds, map[string]int{"add": adds}},
		{"checkout", all.Function(fnCheckout), adds, map[string]int{"checkout": adds}},
		{"webhook", all.Function(fnWebhook), run.Pools[fnWebhook].Invocations, map[string]int{"notification": run.Pools[fnWebhook].Invocations}},
		{"payment-apply", all.Function(fnPayments), paymentMessages, map[string]int{"message": paymentMessages}},
		{"expiry", expired, run.Unpaid, map[string]int{"expired": run.Unpaid}},
		{"expiry-noop", noops, run.Paid, map[string]int{"noop": run.Paid}},
		{"relay", all.Function(fnRelay), sum(relayMix), relayMix},
		{"inbox", all.Function(fnInbox), sum(inboxMix), inboxMix},
	}
	if !run.ExpirySplit {
		// The two kinds of expiry messages overlapped: one row for both.
		for i := range specs {
			if specs[i].id == "expiry" {
				specs[i] = spec{"expiry", all.Function(fnExpiry), run.Paid + run.Unpaid, map[string]int{"expired": run.Unpaid}}
				specs = append(specs[:i+1], specs[i+2:]...)
				break
			}
		}
	}
	var out []OpResult
	for _, s := range specs {
		mo, _ := minimumOf(s.id)
		if s.id == "expiry" && !run.ExpirySplit {
			noop, _ := minimumOf("expiry-noop")
			mo.Op = "Expiry messages (unpaid → EXPIRED and paid → NoOp, together)"
			mo.Variants = append(mo.Variants, noop.Variants...)
			s.mix["noop"] = run.Paid
		}
		r := CompareOp(mo, s.counts, s.units, s.mix)
		if p, ok := run.Pools[mo.Function]; ok && mo.ID != "expiry" && mo.ID != "expiry-noop" {
			r.Invocations = p.Invocations
		}
		out = append(out, r)
	}
	return out
}

// renamed returns c with each resource by its logical id.
func renamed(c Counts, name func(string) string) Counts {
	out := Counts{}
	for k, t := range c {
		k.Resource = name(k.Resource)
		x := out[k]
		x.add(t)
		out[k] = x
	}
	return out
}

// ESMResult is what Lambda's event source mapping of an SQS consumer costs in SQS
// requests: in AWS, Lambda's pollers receive and delete the messages and SQS bills
// those requests to the queue's account. Locally the runner polls; it does what Lambda
// does per batch: one ReceiveMessage that returns the batch and one
// DeleteMessageBatch (with ReportBatchItemFailures, of the messages not reported).
type ESMResult struct {
	Function  string `json:"function"`
	Queue     string `json:"queue"`
	FIFO      bool   `json:"fifo"`
	BatchSize int    `json:"batchSize"`
	Messages  int    `json:"messages"`
	Batches   int    `json:"batches"`
	// PerMessage is (ReceiveMessage + DeleteMessageBatch) per message as measured
	// (2 per batch); AtFullBatches is the same at the template's BatchSize.
	PerMessage    float64 `json:"perMessage"`
	AtFullBatches float64 `json:"atFullBatches"`
}

// esmQueues are the SQS consumers and their queues (template.yaml's SQS events).
var esmQueues = []struct {
	Function, Queue string
	BatchSize       int
}{
	{fnPayments, "PaymentEventsQueue", 10},
	{fnExpiry, "ExpiryQueue", 10},
	{fnInbox, "SocialInboxQueue", 10},
}

func esmResults(run *requestsRun, m *metered) []ESMResult {
	d := run.After.Sub(run.Before)
	var out []ESMResult
	for _, q := range esmQueues {
		r := ESMResult{Function: q.Function, Queue: q.Queue, BatchSize: q.BatchSize, Batches: run.Pools[q.Function].Invocations}
		for _, res := range m.r.Resources {
			if qu, ok := res.Queues[q.Queue]; ok {
				r.FIFO = qu.FIFO
			}
		}
		for k, n := range d.Messages {
			if m.name(k.Queue) == q.Queue {
				r.Messages += n
			}
		}
		if r.Messages > 0 {
			r.PerMessage = 2 * float64(r.Batches) / float64(r.Messages)
			r.AtFullBatches = 2 / float64(q.BatchSize)
		}
		out = append(out, r)
	}
	return out
}

// RequestsSection renders the requests run: a summary per operation, a chart, each
// operation's requests beside its minimum, and the event source mappings' requests.
func RequestsSection(run *requestsRun, results []OpResult, esm []ESMResult, quick bool) *Section {
	s := &Section{ID: "requests", Title: "Requests and capacity per operation", Data: map[string]any{
		"paidBuyers": run.Paid, "unpaidBuyers": run.Unpaid, "outboxRecords": run.Outbox,
		"expirySplit": run.ExpirySplit, "tookMs": Millis(run.Took), "operations": results, "eventSourceMappings": esm,
		"paymentWindowSeconds": MeteredWindow.Seconds(),
	}}
	excess := 0
	for _, r := range results {
		excess += len(r.Excess)
	}
	verdict := "No operation sends a request above the design minimum."
	if excess > 0 {
		verdict = fmt.Sprintf("**%d %s above the design minimum** (marked EXCESS below).", excess, unitsOf("request kind", excess))
	}
	s.Blocks = append(s.Blocks, Text(fmt.Sprintf(`Every request the function processes send, counted by a proxy in front of DynamoDB
Local and the SQS emulator with one listener per function (a second runner of the whole
template, payment window %s so that expiry messages arrive within the stage). %d buyers
who hand off from a promotion, add to their cart and check out without paying, then %d
who do the same and pay (Xendit PAID notification); the system then settles (payments,
expiries, relay, inbox). Per unit of work of the function that performs the operation,
beside the design minimum (one line each in the detail table). %s

RRU/WRU are DynamoDB's read and write request units: *reported* by DynamoDB Local for
single-item operations, queries and batches, whose figures follow DynamoDB's rules;
*computed* by the proxy for transactions (2 × each item's size in KB, from the items read
before and after, plus index entries at the standard rate) and for failed conditional
writes, which DynamoDB Local leaves out or counts differently (its own figures for the
transactions are in the last table).`,
		MeteredWindow, run.Unpaid, run.Paid, verdict)))

	sum := &Table{Caption: "Per unit of work: measured (minimum)", Columns: []Column{
		{Name: "Operation"}, {Name: "Function"}, {Name: "Units", Right: true}, {Name: "DynamoDB req", Right: true},
		{Name: "SQS req", Right: true}, {Name: "RRU", Right: true}, {Name: "WRU", Right: true}, {Name: "Verdict"},
	}}
	chart := &Chart{Name: "requests", Title: "Requests per unit of work (DynamoDB + SQS)", Unit: "requests", Series: []string{"measured", "design minimum"}, Decimals: 2}
	for _, r := range results {
		v := "minimum"
		switch {
		case len(r.Excess) > 0:
			v = "EXCESS"
		case r.Measured.DynamoDB+r.Measured.SQS < r.Minimum.DynamoDB+r.Minimum.SQS-excessTolerance:
			v = "below (batched)"
		}
		sum.Rows = append(sum.Rows, []string{
			r.Op, shortID(r.Function), fmt.Sprintf("%d %s", r.Units, unitsOf(r.Unit, r.Units)),
			fmtPair(r.Measured.DynamoDB, r.Minimum.DynamoDB), fmtPair(r.Measured.SQS, r.Minimum.SQS),
			fmtPair(r.Measured.RRU, r.Minimum.RRU), fmtPair(r.Measured.WRU, r.Minimum.WRU), v,
		})
		chart.Groups = append(chart.Groups, Group{Label: r.Op, Values: []float64{r.Measured.DynamoDB + r.Measured.SQS, r.Minimum.DynamoDB + r.Minimum.SQS},
			Miss: []bool{len(r.Excess) > 0, false}})
	}
	s.Blocks = append(s.Blocks, sum, chart)

	det := &Table{Caption: "Each request kind, per unit of work", Columns: []Column{
		{Name: "Operation"}, {Name: "Request"}, {Name: "Table or queue"}, {Name: "Measured", Right: true}, {Name: "Minimum", Right: true},
		{Name: "RRU", Right: true}, {Name: "WRU", Right: true}, {Name: "Units"}, {Name: "Why (design)"},
	}}
	for _, r := range results {
		for _, c := range r.Calls {
			mark := ""
			if c.Errors > 0 {
				mark = fmt.Sprintf(" (%s failed)", fmtPer(c.Errors))
			}
			if c.Measured > c.Minimum+excessTolerance {
				mark += " EXCESS"
			}
			det.Rows = append(det.Rows, []string{
				r.Op, c.Service + " " + c.Operation + mark, c.Resource, fmtPer(c.Measured), fmtPer(c.Minimum),
				fmtPair(c.RRU, c.MinRRU), fmtPair(c.WRU, c.MinWRU), orDash(c.Units), orDash(c.Why),
			})
		}
	}
	s.Blocks = append(s.Blocks, det)

	mixes := []string{}
	for _, r := range results {
		if len(r.Mix) > 1 {
			var parts []string
			for _, k := range sortedKeys(r.Mix) {
				if r.Mix[k] > 0 {
					parts = append(parts, fmt.Sprintf("%d %s", r.Mix[k], k))
				}
			}
			line := fmt.Sprintf("- %s: %d %s in %d invocations (%s); the minimum counts each as if it came alone.",
				r.Op, r.Units, unitsOf(r.Unit, r.Units), r.Invocations, strings.Join(parts, ", "))
			mixes = append(mixes, line)
		}
	}
	if len(mixes) > 0 {
		s.Blocks = append(s.Blocks, Text("Mixed units:\n\n"+strings.Join(mixes, "\n")))
	}

	et := &Table{Caption: "SQS requests of Lambda's event source mappings (computed from the batches: one ReceiveMessage and one DeleteMessageBatch each)", Columns: []Column{
		{Name: "Consumer"}, {Name: "Queue"}, {Name: "Messages", Right: true}, {Name: "Batches", Right: true},
		{Name: "Requests per message", Right: true}, {Name: "At full batches (BatchSize)", Right: true},
	}}
	for _, e := range esm {
		q := e.Queue
		if e.FIFO {
			q += " (FIFO)"
		}
		et.Rows = append(et.Rows, []string{shortID(e.Function), q, fmt.Sprint(e.Messages), fmt.Sprint(e.Batches),
			fmtPer(e.PerMessage), fmt.Sprintf("%s (%d)", fmtPer(e.AtFullBatches), e.BatchSize)})
	}
	s.Blocks = append(s.Blocks, et, Text(`Not counted here: the empty long polls Lambda's pollers make on idle queues (a fixed
cost per queue, not per order), and the DynamoDB stream reads that feed the relay
(GetRecords calls made by Lambda for a DynamoDB trigger are not billed).`))
	if lt := localTransactionTable(results); len(lt.Rows) > 0 {
		s.Blocks = append(s.Blocks, lt)
	}
	if !run.ExpirySplit {
		s.Blocks = append(s.Blocks, Text("The two kinds of expiry messages overlapped in this run; they are shown together."))
	}
	if quick {
		s.Blocks = append(s.Blocks, Text("Quick counts: indicative only."))
	}
	return s
}

// localTransactionTable sets what DynamoDB Local reported for each transaction beside
// the units DynamoDB's rules give (what the report uses).
func localTransactionTable(results []OpResult) *Table {
	t := &Table{Caption: "Transactions: DynamoDB Local's own figure against DynamoDB's rules (WRU per transaction)", Columns: []Column{
		{Name: "Operation"}, {Name: "Transaction's tables"}, {Name: "DynamoDB Local", Right: true}, {Name: "DynamoDB's rules", Right: true},
	}}
	for _, r := range results {
		for _, c := range r.Calls {
			if c.Operation == "TransactWriteItems" && c.Units == "computed" && c.Measured > 0 {
				t.Rows = append(t.Rows, []string{r.Op, c.Resource, fmtPer(c.Local / c.Measured), fmtPer(c.WRU / c.Measured)})
			}
		}
	}
	return t
}

func fmtPair(measured, minimum float64) string {
	return fmtPer(measured) + " (" + fmtPer(minimum) + ")"
}

// fmtPer formats a per-unit figure: whole numbers plainly, others with two decimals.
func fmtPer(x float64) string {
	if math.IsNaN(x) {
		return "–"
	}
	if x == math.Trunc(x) {
		return fmt.Sprintf("%.0f", x)
	}
	return fmt.Sprintf("%.2f", x)
}

// shortID drops the account prefix and "Function" suffix of a logical id.
func shortID(id string) string {
	id = strings.TrimSuffix(id, "Function")
	for _, p := range []string{"Commerce", "Social"} {
		if rest, ok := strings.CutPrefix(id, p); ok {
			return strings.ToLower(p) + "/" + strings.ToLower(rest)
		}
	}
	return id
}

func unitsOf(unit string, n int) string {
	if n == 1 || strings.HasSuffix(unit, "s") {
		return unit
	}
	return unit + "s"
}
