package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/etalase/etalase/infra/localaccount"
	"github.com/etalase/etalase/infra/localrun"
	"github.com/etalase/etalase/infra/localrun/gateway"
	"github.com/etalase/etalase/infra/localrun/lambda"
)

// The latency stage's targets (issue #8).
const (
	// LatencyTarget: an API operation's p99 within this many times the p99 of a bare
	// DynamoDB Local call (GetItem for reads, PutItem for writes) at the same
	// concurrency.
	LatencyTarget = 3.0
	// WebhookAckTarget: a payment webhook's acknowledgement p99 under this, absolute.
	WebhookAckTarget = time.Second
)

// Baseline kinds: the bare DynamoDB Local call an operation is compared with.
const (
	// LatencyRead is a GetItem of a small item, for GET routes.
	LatencyRead = "read"
	// LatencyWrite is a PutItem of a new small item, for every other method.
	LatencyWrite = "write"
)

// Verdicts of a latency result.
const (
	VerdictPass = "PASS"
	VerdictMiss = "MISS"
	// VerdictError: no successful request, or no baseline to compare with.
	VerdictError = "ERROR"
	// VerdictNotMeasured: the route has no driver, or the stage ran out of time.
	VerdictNotMeasured = "NOT MEASURED"
	// VerdictReference: a reference measurement, without a target.
	VerdictReference = "reference"
)

// LatencyLevels are the numbers of concurrent clients every operation is measured at.
var LatencyLevels = []int{1, 8, 32}

// LatencyOp is one HTTP operation of the template: one route.
type LatencyOp struct {
	// Route is the route key, e.g. "GET /commerce/v1/products/{productId}".
	Route string `json:"route"`
	// Name is the driver's short name, e.g. "get product"; the route key without one.
	Name string `json:"name"`
	// Function is the logical id of the function behind the route; Account its side.
	Function string `json:"function"`
	Account  string `json:"account"`
	// Kind is LatencyRead or LatencyWrite: the baseline the op is compared with.
	Kind string `json:"baseline"`
	// Webhook marks a payment provider's webhook: its target is absolute.
	Webhook bool `json:"webhook,omitempty"`
	// Measured says a driver exists for the route.
	Measured bool `json:"measured"`
	// Reference marks a measurement for comparison, not a route of the template: the
	// runner's floor, a bare transaction. It gets no verdict.
	Reference bool `json:"reference,omitempty"`
}

// LatencyResult is one operation at one level of concurrency. Latencies are in
// milliseconds, from sending the request until its whole answer was read, over the
// requests that answered 2xx.
type LatencyResult struct {
	LatencyOp
	// Clients is the level: how many clients sent requests at once. InFlight is the
	// most requests that were in flight at once: Clients, or fewer under quick counts
	// when the requests are fewer than the clients.
	Clients  int `json:"clients"`
	InFlight int `json:"inFlight"`
	// Latency summarizes the operation's successful requests; N is their count.
	Latency Summary `json:"latencyMs"`
	// Baseline summarizes the bare DynamoDB Local calls measured interleaved with them.
	Baseline Summary `json:"baselineMs"`
	// P50Ratio and P99Ratio are the operation's p50 and p99 over the baseline's.
	P50Ratio Float `json:"p50Ratio"`
	P99Ratio Float `json:"p99Ratio"`
	// Errors counts the answers that were not 2xx (or no answer); ErrorCodes has them
	// by "status code", e.g. "409 conflict".
	Errors     int            `json:"errors"`
	ErrorCodes map[string]int `json:"errorCodes,omitempty"`
	// BaselineErrors counts the baseline calls that failed.
	BaselineErrors int `json:"baselineErrors,omitempty"`
	// ColdStarts and Throttles are the function's pool counters during the measured
	// batches (warm-up excluded): both should be zero.
	ColdStarts int `json:"coldStarts"`
	Throttles  int `json:"throttles"`
	// Processes is how many processes the function had when the measurement began.
	Processes int `json:"processes"`
	// Verdict is PASS, MISS, ERROR or NOT MEASURED (see latencyVerdict).
	Verdict string `json:"verdict"`
	// Note says why fewer requests than planned were measured, or why none were.
	Note string `json:"note,omitempty"`
	// Took is the wall time of the measured batches, baseline included.
	Took Duration `json:"tookMs"`
}

// latencyVerdict judges a result: an API operation PASSes when its p99 is within
// LatencyTarget times the baseline's p99, a webhook when its p99 is under
// WebhookAckTarget. Errors do not change the verdict (they are flagged beside it); a
// result without a successful request, or an API operation without a baseline, is
// ERROR.
func latencyVerdict(r *LatencyResult) string {
	switch {
	case !r.Measured:
		return VerdictNotMeasured
	case r.Reference:
		return VerdictReference
	case r.Latency.N == 0:
		if r.Note != "" && r.Errors == 0 {
			return VerdictNotMeasured
		}
		return VerdictError
	case r.Webhook:
		if r.Latency.P99 < Millis(WebhookAckTarget) {
			return VerdictPass
		}
		return VerdictMiss
	}
	rt := float64(r.P99Ratio)
	switch {
	case math.IsNaN(rt) || math.IsInf(rt, 0):
		return VerdictError
	case rt <= LatencyTarget:
		return VerdictPass
	}
	return VerdictMiss
}

// latencyTarget is the table's target cell: the verdict, flagged when requests failed.
func latencyTarget(r *LatencyResult) string {
	v := r.Verdict
	if r.Errors > 0 && r.Measured {
		v += fmt.Sprintf(" ⚠ %d errors", r.Errors)
	}
	return v
}

// finish computes a result's summaries, ratios and verdict from its samples.
func (r *LatencyResult) finish(op, base []time.Duration) {
	r.Latency = Summarize(millisOf(op))
	r.Baseline = Summarize(millisOf(base))
	r.P50Ratio, r.P99Ratio = Float(math.NaN()), Float(math.NaN())
	if r.Latency.N > 0 && r.Baseline.N > 0 {
		r.P50Ratio = Float(Ratio(r.Latency.Median, r.Baseline.Median))
		r.P99Ratio = Float(Ratio(r.Latency.P99, r.Baseline.P99))
	}
	r.Verdict = latencyVerdict(r)
}

// LatencyOps lists the operations of the runner's routes, each with its driver if it
// has one, sorted in measuring order (producers of state before their consumers).
func LatencyOps(r *localrun.Runner) []LatencyOp {
	var out []LatencyOp
	for _, rt := range r.Routes {
		key := latencyRouteKey(rt)
		op := LatencyOp{Route: key, Function: rt.FunctionID, Kind: latencyKind(rt.Method)}
		if fn := r.Functions[rt.FunctionID]; fn != nil {
			op.Account = fn.Account
		}
		if d := latencyDrivers[key]; d != nil {
			op.Name, op.Webhook, op.Measured = d.name, d.webhook, true
		}
		out = append(out, op)
	}
	latencySortOps(out)
	return out
}

// latencySortOps orders operations by their driver's order, then by route.
func latencySortOps(ops []LatencyOp) {
	order := func(o LatencyOp) int {
		if d := latencyDrivers[o.Route]; d != nil {
			return d.order
		}
		return math.MaxInt
	}
	sort.SliceStable(ops, func(i, j int) bool {
		if a, b := order(ops[i]), order(ops[j]); a != b {
			return a < b
		}
		return ops[i].Route < ops[j].Route
	})
}

func latencyRouteKey(rt gateway.Route) string {
	if rt.Path == gateway.DefaultRouteKey {
		return rt.Path
	}
	return strings.ToUpper(rt.Method) + " " + rt.Path
}

// latencyKind is the baseline of a method: GetItem for GET, PutItem for the others.
func latencyKind(method string) string {
	if strings.EqualFold(method, http.MethodGet) {
		return LatencyRead
	}
	return LatencyWrite
}

// latencyCounts are the stage's counts.
type latencyCounts struct {
	// N is the measured requests per operation and level (and as many baseline calls).
	N int
	// Batches splits them: baseline and operation batches alternate, so that noise on
	// the machine hits both.
	Batches func(clients int) int
	// OpBound bounds one operation at one level, StageBound the whole stage.
	OpBound, StageBound time.Duration
}

// InFlight is how many clients a level runs: the level, or N when the requests are
// fewer (quick counts), since a client without a request to send does nothing. The
// warm-up starts as many processes and sends one request per client.
func (c latencyCounts) InFlight(clients int) int { return max(1, min(clients, c.N)) }

func latencyCountsFor(env *Env) latencyCounts {
	c := latencyCounts{
		N:          env.Count(200, 8),
		OpBound:    time.Duration(env.Count(40, 8)) * time.Second,
		StageBound: time.Duration(env.Count(420, 90)) * time.Second,
	}
	c.Batches = func(clients int) int {
		clients = c.InFlight(clients)
		// A batch holds at least three times the clients, so that most of it runs with
		// every client busy, and ten requests. One client needs no ramp: its batches
		// are short, so that the baseline's and the operation's alternate often.
		most := 4
		if clients == 1 {
			most = 20
		}
		return max(1, min(most, c.N/max(10, 3*clients)))
	}
	return c
}

// LatencyStage measures every HTTP operation of both accounts at 1, 8 and 32
// concurrent clients against a bare DynamoDB Local call at the same concurrency: the
// "Latency" section.
func LatencyStage(ctx context.Context, env *Env) ([]*Section, error) {
	begin := time.Now()
	counts := latencyCountsFor(env)
	ctx, cancel := context.WithTimeout(ctx, counts.StageBound+2*time.Minute)
	defer cancel()
	deadline := begin.Add(counts.StageBound)

	routes := LatencyOps(env.Runner)
	measured := 0
	for _, op := range routes {
		if op.Measured {
			measured++
		}
	}
	ops := append(latencyReferenceOps(), routes...)
	env.Progressf("latency: %d routes (%d with a driver) and %d references × %v clients, %d requests each, interleaved with as many DynamoDB Local calls",
		len(routes), measured, len(ops)-len(routes), LatencyLevels, counts.N)

	base, err := newLatencyBaseline(ctx, env)
	if err != nil {
		return nil, err
	}
	defer base.close()
	w, err := newLatencyWorld(ctx, env, latencyPoolFor(counts))
	if err != nil {
		return nil, fmt.Errorf("latency fixtures: %w", err)
	}
	defer w.close()
	w.base = base
	env.Progressf("latency: fixtures ready in %s (%d setup requests)", time.Since(begin).Round(100*time.Millisecond), w.setupRequests())

	m := &latencyMeter{env: env, w: w, base: base, counts: counts, deadline: deadline}
	var results []*LatencyResult
	var errs []error
	for _, clients := range LatencyLevels {
		rs, err := m.level(ctx, ops, clients)
		results = append(results, rs...)
		if err != nil {
			errs = append(errs, err)
		}
		if ctx.Err() != nil {
			break
		}
	}
	took := time.Since(begin)
	sec := LatencySection(results, ops, counts.N, took)
	pass, total := latencyPassCount(results)
	env.Progressf("latency: %d of %d (operation, clients) results PASS; %d setup requests; stage took %s",
		pass, total, w.setupRequests(), took.Round(time.Second))
	return []*Section{sec}, errors.Join(errs...)
}

// latencyMeter runs the measurements of one stage.
type latencyMeter struct {
	env      *Env
	w        *latencyWorld
	base     *latencyBaseline
	counts   latencyCounts
	deadline time.Time
}

// level measures every operation at one level of concurrency: it prepares each one's
// state (untimed), waits for the system to settle, then measures the operations one
// after the other.
func (m *latencyMeter) level(ctx context.Context, ops []LatencyOp, clients int) ([]*LatencyResult, error) {
	env, w := m.env, m.w
	count := m.counts.N + m.counts.InFlight(clients) // the warm-up sends one request per client first
	t0 := time.Now()
	builds := map[string]latencyBuild{}
	prepErr := map[string]error{}
	before := w.setupRequests()
	for _, op := range ops {
		if !op.Measured || time.Now().After(m.deadline) {
			continue
		}
		b, err := latencyDriverOf(op.Route).prepare(ctx, w, count)
		if err != nil {
			prepErr[op.Route] = err
			env.Progressf("latency: %s: prepare: %v", op.Route, err)
			continue
		}
		builds[op.Route] = b
	}
	w.settle(ctx, 15*time.Second)
	w.takeDirty()
	env.Progressf("latency: %d clients: state for %d requests per operation prepared in %s (%d setup requests)",
		clients, count, time.Since(t0).Round(100*time.Millisecond), w.setupRequests()-before)

	var out []*LatencyResult
	var errs []error
	for _, op := range ops {
		r := &LatencyResult{LatencyOp: op, Clients: clients, InFlight: m.counts.InFlight(clients)}
		out = append(out, r)
		switch {
		case !op.Measured:
			r.Note = "no latency driver for this route"
		case prepErr[op.Route] != nil:
			r.Note = "prepare: " + truncate(prepErr[op.Route].Error(), 200)
			errs = append(errs, fmt.Errorf("%s: %w", op.Route, prepErr[op.Route]))
		case builds[op.Route] == nil || time.Now().After(m.deadline):
			r.Note = "the stage ran out of time"
		default:
			if err := m.measure(ctx, r, builds[op.Route], count); err != nil {
				r.Note = truncate(err.Error(), 200)
				errs = append(errs, fmt.Errorf("%s at %d clients: %w", op.Route, clients, err))
			}
		}
		if r.Verdict == "" {
			r.finish(nil, nil)
		}
		if r.Measured && r.Latency.N > 0 {
			env.Progressf("latency: %2d clients  %-52s p50 %7s ms  p99 %7s ms  %6s p99 × baseline  %s",
				clients, op.Route, ms1(r.Latency.Median), ms1(r.Latency.P99), ratio(float64(r.P99Ratio)), latencyTarget(r))
		}
		if ctx.Err() != nil {
			errs = append(errs, ctx.Err())
			break
		}
	}
	return out, errors.Join(errs...)
}

// measure warms the function up and measures one operation at one level, interleaved
// with the baseline.
func (m *latencyMeter) measure(ctx context.Context, r *LatencyResult, build latencyBuild, count int) error {
	w := m.w
	d := latencyDriverOf(r.Route)
	reqs, err := build(ctx)
	if err != nil {
		return fmt.Errorf("build requests: %w", err)
	}
	if w.takeDirty() {
		w.settle(ctx, 10*time.Second)
	}
	if len(reqs) < count {
		return fmt.Errorf("%d requests prepared, want %d", len(reqs), count)
	}
	call := func(i int) (time.Duration, int, error) { return w.send(ctx, reqs[i]) }
	if d.direct != nil {
		call = func(int) (time.Duration, int, error) {
			start := time.Now()
			err := d.direct(ctx, w)
			return time.Since(start), 0, err
		}
	}
	var fn *localrun.Function
	if r.Function != "" {
		if fn = w.r.Functions[r.Function]; fn == nil {
			return fmt.Errorf("no function %s", r.Function)
		}
	}

	// Warm-up, not measured: processes up to the level, then one request per client.
	clients := r.InFlight
	if fn != nil {
		if err := w.spawn(ctx, fn, r.Function, clients); err != nil {
			return err
		}
	}
	latencyLoop(ctx, clients, clients, time.Now().Add(m.counts.OpBound), func(i int) { _, _, _ = call(i) })

	var stats0 lambda.Stats
	if fn != nil {
		stats0 = fn.Pool.Stats()
		r.Processes = stats0.Processes
	}
	var opLat, baseLat []time.Duration
	codes := map[string]int{}
	var mu sync.Mutex
	deadline := time.Now().Add(m.counts.OpBound)
	begin := time.Now()
	for _, b := range latencyPlan(m.counts.N, m.counts.Batches(clients)) {
		opBatch := func() {
			latencyLoop(ctx, clients, b.Size, deadline, func(i int) {
				d, status, err := call(clients + b.First + i)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					codes[latencyErrorCode(status, err)]++
					return
				}
				opLat = append(opLat, d)
			})
		}
		baseBatch := func() {
			baseLat = append(baseLat, m.base.run(ctx, r.Account, r.Kind, clients, b.Size, deadline, &r.BaselineErrors)...)
		}
		if b.BaselineFirst {
			baseBatch()
			opBatch()
		} else {
			opBatch()
			baseBatch()
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
	}
	r.Took = Duration(time.Since(begin))
	if fn != nil {
		stats1 := fn.Pool.Stats()
		r.ColdStarts = stats1.ColdStarts - stats0.ColdStarts
		r.Throttles = stats1.Throttles - stats0.Throttles
	}
	for k, v := range codes {
		r.Errors += v
		if r.ErrorCodes == nil {
			r.ErrorCodes = map[string]int{}
		}
		r.ErrorCodes[k] = v
	}
	if got := len(opLat) + r.Errors; got < m.counts.N {
		r.Note = fmt.Sprintf("stopped at the time bound (%s) after %d of %d requests", m.counts.OpBound, got, m.counts.N)
	}
	r.finish(opLat, baseLat)
	// Under quick counts only when the next operation needs the state settled.
	if d.background && (!m.env.Quick || d.chained) {
		w.settle(ctx, 10*time.Second)
	}
	return ctx.Err()
}

// latencyBatch is one operation batch of a measurement (and as many baseline calls):
// requests First to First+Size-1.
type latencyBatch struct {
	First, Size int
	// BaselineFirst says the baseline batch runs before the operation's.
	BaselineFirst bool
}

// latencyPlan splits n requests into batches of (nearly) equal size, the last taking
// the remainder, with the baseline first in every other batch.
func latencyPlan(n, batches int) []latencyBatch {
	batches = max(1, min(batches, n))
	var out []latencyBatch
	first := 0
	for b := 0; b < batches; b++ {
		size := n / batches
		if b == batches-1 {
			size = n - first
		}
		out = append(out, latencyBatch{First: first, Size: size, BaselineFirst: b%2 == 0})
		first += size
	}
	return out
}

// latencyErrorCode names a failed request: "409 conflict", "429", "no answer".
func latencyErrorCode(status int, err error) string {
	var he *latencyHTTPError
	if errors.As(err, &he) {
		if he.code != "" {
			return fmt.Sprintf("%d %s", he.status, he.code)
		}
		return fmt.Sprint(he.status)
	}
	if status == 0 {
		return "no answer"
	}
	return fmt.Sprint(status)
}

// latencyLoop runs fn(0..count-1) on up to clients goroutines, each taking the next
// index as soon as its last call returned (a closed loop), until every index ran, the
// deadline passed or ctx ended.
func latencyLoop(ctx context.Context, clients, count int, deadline time.Time, fn func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for c := 0; c < min(clients, count); c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil && time.Now().Before(deadline) {
				i := int(next.Add(1)) - 1
				if i >= count {
					return
				}
				fn(i)
			}
		}()
	}
	wg.Wait()
}

// latencyRequest is one prepared HTTP request.
type latencyRequest struct {
	Method, Path string
	// Body is sent as application/json when not nil.
	Body []byte
	// Header holds name, value pairs.
	Header []string
	// Expect is the status that answers the request; zero means any 2xx.
	Expect int
	// After, if set, receives a 2xx answer's body: the driver keeps what the next
	// operation needs (an order placed, a cart merged).
	After func(body []byte)
}

// latencyHTTPError is a non-2xx answer.
type latencyHTTPError struct {
	status int
	code   string
	body   string
}

func (e *latencyHTTPError) Error() string {
	return fmt.Sprintf("HTTP %d %s", e.status, truncate(e.body, 200))
}

// send sends one request and times it, from just before sending until the whole
// answer was read. A non-2xx answer is an error.
func (w *latencyWorld) send(ctx context.Context, q latencyRequest) (time.Duration, int, error) {
	var body io.Reader
	if q.Body != nil {
		body = bytes.NewReader(q.Body)
	}
	req, err := http.NewRequestWithContext(ctx, q.Method, w.r.URL+q.Path, body)
	if err != nil {
		return 0, 0, err
	}
	if q.Body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(q.Header); i += 2 {
		req.Header.Set(q.Header[i], q.Header[i+1])
	}
	start := time.Now()
	resp, err := w.hc.Do(req)
	if err != nil {
		return 0, 0, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	d := time.Since(start)
	if err != nil {
		return 0, resp.StatusCode, err
	}
	if q.Expect != 0 && resp.StatusCode == q.Expect {
		return d, resp.StatusCode, nil
	}
	if q.Expect != 0 || resp.StatusCode < 200 || resp.StatusCode > 299 {
		var env struct {
			Error struct {
				Code string `json:"code"`
			} `json:"error"`
		}
		_ = json.Unmarshal(b, &env)
		return d, resp.StatusCode, &latencyHTTPError{status: resp.StatusCode, code: env.Error.Code, body: string(b)}
	}
	if q.After != nil {
		q.After(b)
	}
	return d, resp.StatusCode, nil
}

// spawn makes sure the function has at least clients processes, each of which has
// served a request that reads its storage: rounds of clients concurrent warm requests
// until the pool has grown enough (at most a few rounds).
func (w *latencyWorld) spawn(ctx context.Context, fn *localrun.Function, function string, clients int) error {
	warm := w.warmFor(function)
	if warm == nil {
		return fmt.Errorf("no warm-up request for %s", function)
	}
	for round := 0; round < 4 && fn.Pool.Stats().Processes < clients; round++ {
		latencyLoop(ctx, clients, clients, time.Now().Add(30*time.Second), func(int) {
			_, _, _ = w.send(ctx, warm(w))
		})
	}
	return ctx.Err()
}

// settle waits until no function has run anything for a moment (longer than the
// stream sources' poll interval), so that the asynchronous work a setup or a write
// left behind (relay, inbox, payments consumer) does not run during the next
// measurement. It gives up after bound.
func (w *latencyWorld) settle(ctx context.Context, bound time.Duration) {
	const quiet = 300 * time.Millisecond
	end := time.Now().Add(bound)
	var idleSince time.Time
	last := -1
	for time.Now().Before(end) && ctx.Err() == nil {
		busy, invocations := 0, 0
		for _, fn := range w.r.Functions {
			st := fn.Pool.Stats()
			busy += st.Busy
			invocations += st.Invocations + st.Throttles
		}
		now := time.Now()
		switch {
		case busy > 0 || invocations != last:
			idleSince = now
			last = invocations
		case now.Sub(idleSince) >= quiet:
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// latencyBaseline makes the bare DynamoDB Local calls: GetItem of one of a few small
// items, PutItem of a new one, from this process through the SDK, on the probe table
// of the operation's account.
type latencyBaseline struct {
	clients map[string]*dynamodb.Client
	tables  map[string]string
	seq     atomic.Int64
	tr      *http.Transport
}

// latencyProbeItems is how many items the GetItem baseline reads, round-robin.
const latencyProbeItems = 64

func newLatencyBaseline(ctx context.Context, env *Env) (*latencyBaseline, error) {
	b := &latencyBaseline{clients: map[string]*dynamodb.Client{}, tables: map[string]string{}}
	// As many idle connections as clients: a new connection per call would be a
	// different baseline.
	b.tr = &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 128, IdleConnTimeout: 2 * time.Minute}
	for _, acct := range localaccount.All {
		table, err := env.ProbeTable(ctx, acct)
		if err != nil {
			return nil, err
		}
		db := dynamodb.NewFromConfig(env.AWSConfig(acct), func(o *dynamodb.Options) {
			o.BaseEndpoint = aws.String(env.DynamoDBEndpoint)
			o.HTTPClient = &http.Client{Transport: b.tr, Timeout: 30 * time.Second}
			o.RetryMaxAttempts = 1
		})
		b.clients[acct.Side], b.tables[acct.Side] = db, table
		for i := 0; i < latencyProbeItems; i++ {
			if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: latencyProbeItem(fmt.Sprintf("get-%02d", i))}); err != nil {
				return nil, fmt.Errorf("baseline items: %w", err)
			}
		}
	}
	return b, nil
}

func (b *latencyBaseline) close() { b.tr.CloseIdleConnections() }

// latencyProbeItem is a product-sized item (about 300 bytes).
func latencyProbeItem(pk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		ProbeKey:      &types.AttributeValueMemberS{Value: pk},
		"title":       &types.AttributeValueMemberS{Value: "Kopi Arabika Gayo 250 g, sangrai medium"},
		"description": &types.AttributeValueMemberS{Value: strings.Repeat("Biji kopi dari Aceh Tengah. ", 6)},
		"price":       &types.AttributeValueMemberN{Value: "85000"},
		"currency":    &types.AttributeValueMemberS{Value: "IDR"},
		"stock":       &types.AttributeValueMemberN{Value: "1000"},
		"sellerId":    &types.AttributeValueMemberS{Value: "seller-0123456789"},
		"status":      &types.AttributeValueMemberS{Value: "LISTED"},
		"version":     &types.AttributeValueMemberN{Value: "3"},
		"updatedAt":   &types.AttributeValueMemberS{Value: "2026-11-01T10:00:00.000000000Z"},
	}
}

// run makes count baseline calls of kind on clients goroutines and returns the
// durations of those that succeeded, adding the failures to *failed.
func (b *latencyBaseline) run(ctx context.Context, side, kind string, clients, count int, deadline time.Time, failed *int) []time.Duration {
	db, table := b.clients[side], b.tables[side]
	var mu sync.Mutex
	var out []time.Duration
	latencyLoop(ctx, clients, count, deadline, func(i int) {
		var err error
		start := time.Now()
		if db == nil {
			err = fmt.Errorf("no baseline client for %q", side)
		} else if kind == LatencyRead {
			_, err = db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table),
				Key: map[string]types.AttributeValue{ProbeKey: &types.AttributeValueMemberS{Value: fmt.Sprintf("get-%02d", i%latencyProbeItems)}}})
		} else {
			_, err = db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table),
				Item: latencyProbeItem(fmt.Sprintf("put-%d", b.seq.Add(1)))})
		}
		d := time.Since(start)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			*failed++
			return
		}
		out = append(out, d)
	})
	return out
}

// transact writes two new items in one TransactWriteItems: a reference for the
// operations whose writes are transactions.
func (b *latencyBaseline) transact(ctx context.Context, side string) error {
	db, table := b.clients[side], b.tables[side]
	if db == nil {
		return fmt.Errorf("no baseline client for %q", side)
	}
	var items []types.TransactWriteItem
	for k := 0; k < 2; k++ {
		items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(table),
			Item: latencyProbeItem(fmt.Sprintf("tx-%d", b.seq.Add(1)))}})
	}
	_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	return err
}

// latencyPassCount counts the measured results of routes that PASS, and all of them.
func latencyPassCount(results []*LatencyResult) (pass, total int) {
	for _, r := range results {
		if !r.Measured || r.Reference {
			continue
		}
		total++
		if r.Verdict == VerdictPass {
			pass++
		}
	}
	return pass, total
}
