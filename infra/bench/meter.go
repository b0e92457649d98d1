package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"
)

// Services a Meter counts.
const (
	ServiceDynamoDB = "dynamodb"
	ServiceSQS      = "sqs"
)

// CallKey names what a Tally counts: one function's requests of one operation on one
// resource.
type CallKey struct {
	Function  string `json:"function"`
	Service   string `json:"service"`
	Operation string `json:"operation"`
	// Resource is the table (the tables of a transaction or batch, joined by "+") or
	// the queue's name.
	Resource string `json:"resource"`
}

// Tally counts requests of one CallKey.
type Tally struct {
	Requests int `json:"requests"`
	// Errors are the requests answered with a 4xx or 5xx (conditional check failures
	// included), or not answered.
	Errors int `json:"errors,omitempty"`
	// Items is the items a DynamoDB request named (a transaction's, a batch's keys), or
	// the messages an SQS request sent or deleted.
	Items int `json:"items"`
	// ReadUnits and WriteUnits are DynamoDB's read and write request units by its rules:
	// as DynamoDB Local reported them (Reported requests) or as the meter computed them
	// (Computed requests: transactions and failed conditional writes, which DynamoDB
	// Local does not report as DynamoDB does). LocalUnits is what DynamoDB Local
	// reported for the computed ones, for comparison.
	ReadUnits  float64 `json:"readUnits"`
	WriteUnits float64 `json:"writeUnits"`
	Reported   int     `json:"reported,omitempty"`
	Computed   int     `json:"computed,omitempty"`
	LocalUnits float64 `json:"localUnits,omitempty"`
	// BilledRequests is SQS's billed requests: one per started 64 KB of payload.
	BilledRequests int `json:"billedRequests,omitempty"`
}

func (t *Tally) add(o Tally) {
	t.Requests += o.Requests
	t.Errors += o.Errors
	t.Items += o.Items
	t.ReadUnits += o.ReadUnits
	t.WriteUnits += o.WriteUnits
	t.Reported += o.Reported
	t.Computed += o.Computed
	t.LocalUnits += o.LocalUnits
	t.BilledRequests += o.BilledRequests
}

func (t *Tally) sub(o Tally) {
	t.Requests -= o.Requests
	t.Errors -= o.Errors
	t.Items -= o.Items
	t.ReadUnits -= o.ReadUnits
	t.WriteUnits -= o.WriteUnits
	t.Reported -= o.Reported
	t.Computed -= o.Computed
	t.LocalUnits -= o.LocalUnits
	t.BilledRequests -= o.BilledRequests
}

// Counts are a Meter's tallies.
type Counts map[CallKey]Tally

// Sub returns c minus before: what happened in between.
func (c Counts) Sub(before Counts) Counts {
	out := Counts{}
	for k, t := range c {
		t.sub(before[k])
		if t != (Tally{}) {
			out[k] = t
		}
	}
	return out
}

// Filter returns the tallies whose keys keep says yes to.
func (c Counts) Filter(keep func(CallKey) bool) Counts {
	out := Counts{}
	for k, t := range c {
		if keep(k) {
			out[k] = t
		}
	}
	return out
}

// Function returns one function's tallies.
func (c Counts) Function(id string) Counts {
	return c.Filter(func(k CallKey) bool { return k.Function == id })
}

// Total adds up the tallies.
func (c Counts) Total() Tally {
	var t Tally
	for _, x := range c {
		t.add(x)
	}
	return t
}

// ByOperation adds up the tallies of each service and operation (over functions and
// resources), keyed "service operation".
func (c Counts) ByOperation() map[string]Tally {
	out := map[string]Tally{}
	for k, t := range c {
		x := out[k.Service+" "+k.Operation]
		x.add(t)
		out[k.Service+" "+k.Operation] = x
	}
	return out
}

// Keys returns the keys, sorted by function, service, operation and resource.
func (c Counts) Keys() []CallKey {
	keys := make([]CallKey, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.Function != b.Function {
			return a.Function < b.Function
		}
		if a.Service != b.Service {
			return a.Service < b.Service
		}
		if a.Operation != b.Operation {
			return a.Operation < b.Operation
		}
		return a.Resource < b.Resource
	})
	return keys
}

// Meter is a counting reverse proxy in front of DynamoDB Local and the SQS emulator,
// on 127.0.0.1, with one listener per function and service, so that every request is
// attributed to the function that sent it (localrun.Options.Endpoints). It counts
// each request by operation and resource, and DynamoDB's read and write request units:
//
//   - it asks DynamoDB Local for the consumed capacity (ReturnConsumedCapacity
//     INDEXES in a request that does not ask for it; DynamoDB Local does not check
//     signatures, so the changed request needs no new one) and reads it from the
//     answer. The answer reaches the function unchanged (the SDK checks its CRC32),
//     with the capacity it did not ask for, which it ignores;
//   - for TransactWriteItems, whose figures DynamoDB Local does not give as DynamoDB
//     does (it leaves out indexes and counts item sizes differently), it reads the
//     items before and after the transaction on the side (uncounted BatchGetItem
//     requests with the function's own credentials) and computes the units with
//     DynamoDB's rules (WriteUnits, Schema.IndexWriteUnits);
//   - a conditional write whose condition failed gets no figure from DynamoDB Local;
//     DynamoDB still bills it, at least one write unit (the larger of the stored and
//     the written item): the meter counts the written item's size, or one unit.
type Meter struct {
	dynamoURL, sqsURL string
	client            *http.Client

	mu       sync.Mutex
	counts   Counts
	messages map[MessageKey]int
	overhead map[string]time.Duration // by function
	servers  map[string]string        // function + "/" + service → URL
	closers  []io.Closer
	err      error // the first listener that failed

	schemaMu sync.Mutex
	schemas  map[string]Schema // access key + "/" + table
}

// NewMeter returns a meter in front of the emulators' endpoints.
func NewMeter(dynamoURL, sqsURL string) *Meter {
	return &Meter{
		dynamoURL: strings.TrimRight(dynamoURL, "/"),
		sqsURL:    strings.TrimRight(sqsURL, "/"),
		client: &http.Client{
			Timeout:   30 * time.Second,
			Transport: &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second},
		},
		counts:   Counts{},
		messages: map[MessageKey]int{},
		overhead: map[string]time.Duration{},
		servers:  map[string]string{},
		schemas:  map[string]Schema{},
	}
}

// Endpoints returns the function's DynamoDB and SQS endpoints on the meter, starting
// their listeners on first use: it fits localrun.Options.Endpoints. If a listener
// cannot start it answers "" (the emulator itself) and Err says why.
func (m *Meter) Endpoints(functionID string) (dynamoDB, sqs string) {
	return m.endpoint(functionID, ServiceDynamoDB), m.endpoint(functionID, ServiceSQS)
}

// Err is the first listener's failure, if any.
func (m *Meter) Err() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.err
}

func (m *Meter) endpoint(fn, service string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if u, ok := m.servers[fn+"/"+service]; ok {
		return u
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		if m.err == nil {
			m.err = fmt.Errorf("meter listener for %s %s: %w", fn, service, err)
		}
		return ""
	}
	srv := &http.Server{Handler: m.handler(fn, service), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	u := "http://" + ln.Addr().String()
	m.servers[fn+"/"+service] = u
	m.closers = append(m.closers, srv)
	return u
}

// Close stops the listeners.
func (m *Meter) Close() error {
	m.mu.Lock()
	closers := m.closers
	m.closers = nil
	m.mu.Unlock()
	var errs []error
	for _, c := range closers {
		errs = append(errs, c.Close())
	}
	m.client.CloseIdleConnections()
	return errors.Join(errs...)
}

// MessageKey names the messages of one type that one function sent to one queue.
type MessageKey struct {
	Function string `json:"function"`
	Queue    string `json:"queue"`
	// Type is the contract envelope's type, or "expiry" for an expiry message, or
	// "other".
	Type string `json:"type"`
}

// Snapshot is what a Meter counted until a moment.
type Snapshot struct {
	// Calls are the requests.
	Calls Counts
	// Messages are the messages sent, by type.
	Messages map[MessageKey]int
	// Overhead is, by function, the time the meter added to the function's requests:
	// each request's time in the meter less its time upstream (the side reads of
	// transactions, the re-encoding), which the function spent waiting.
	Overhead map[string]time.Duration
}

// Snapshot returns a copy of the counts so far.
func (m *Meter) Snapshot() Snapshot {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := Snapshot{Calls: make(Counts, len(m.counts)), Messages: map[MessageKey]int{}, Overhead: map[string]time.Duration{}}
	for k, t := range m.counts {
		out.Calls[k] = t
	}
	for k, n := range m.messages {
		out.Messages[k] = n
	}
	for k, d := range m.overhead {
		out.Overhead[k] = d
	}
	return out
}

// Sub returns what happened between before and s.
func (s Snapshot) Sub(before Snapshot) Snapshot {
	out := Snapshot{Calls: s.Calls.Sub(before.Calls), Messages: map[MessageKey]int{}, Overhead: map[string]time.Duration{}}
	for k, n := range s.Messages {
		if d := n - before.Messages[k]; d != 0 {
			out.Messages[k] = d
		}
	}
	for k, d := range s.Overhead {
		if x := d - before.Overhead[k]; x != 0 {
			out.Overhead[k] = x
		}
	}
	return out
}

// MessagesOf adds up the messages a function sent (any function when fn is ""), by
// type, to queues whose name contains queue.
func (s Snapshot) MessagesOf(fn, queue string) map[string]int {
	out := map[string]int{}
	for k, n := range s.Messages {
		if (fn == "" || k.Function == fn) && strings.Contains(k.Queue, queue) {
			out[k.Type] += n
		}
	}
	return out
}

func (m *Meter) record(k CallKey, t Tally, types map[string]int, overhead time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	x := m.counts[k]
	x.add(t)
	m.counts[k] = x
	for typ, n := range types {
		m.messages[MessageKey{Function: k.Function, Queue: k.Resource, Type: typ}] += n
	}
	m.overhead[k.Function] += overhead
}

// handler forwards one function's requests of one service and counts them. The count
// is recorded before the answer goes back, so that a snapshot taken once a function's
// invocation ended has all of its requests.
func (m *Meter) handler(fn, service string) http.Handler {
	upstream := m.dynamoURL
	if service == ServiceSQS {
		upstream = m.sqsURL
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		begin := time.Now()
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "meter: read request: "+err.Error(), http.StatusBadGateway)
			return
		}
		op := operation(r)
		var x *dynamoExchange
		send := body
		if service == ServiceDynamoDB {
			x = m.prepare(r.Context(), op, body, r.Header)
			send = x.body
		}
		sent := time.Now()
		status, header, resp, err := m.forward(r, upstream, send)
		upstreamTime := time.Since(sent)
		// A request that names no API operation is not an API call: the functions'
		// connection warm-up (awsclient.Preconnect's unauthenticated GET /), which the
		// services neither bill nor count. It is forwarded, not recorded.
		if op != unknownOperation {
			key := CallKey{Function: fn, Service: service, Operation: op}
			var t Tally
			var types map[string]int
			if service == ServiceDynamoDB {
				key.Resource, t = m.dynamoTally(r.Context(), x, status, resp, err)
			} else {
				key.Resource, t, types = sqsTally(op, body, status, resp, err)
			}
			m.record(key, t, types, time.Since(begin)-upstreamTime)
		}
		if err != nil {
			http.Error(w, "meter: "+err.Error(), http.StatusBadGateway)
			return
		}
		for k, vs := range header {
			if strings.EqualFold(k, "Content-Length") {
				continue
			}
			for _, v := range vs {
				w.Header().Add(k, v)
			}
		}
		w.WriteHeader(status)
		w.Write(resp)
	})
}

// operation is a request's API operation: the part of X-Amz-Target after the dot
// (both services' JSON protocols), or the Action of a query-protocol request.
func operation(r *http.Request) string {
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		if i := strings.LastIndexByte(t, '.'); i >= 0 {
			return t[i+1:]
		}
		return t
	}
	if a := r.URL.Query().Get("Action"); a != "" {
		return a
	}
	return unknownOperation
}

// unknownOperation is operation's answer for a request that names none.
const unknownOperation = "unknown"

// forward sends the request with body to upstream and returns the answer.
func (m *Meter) forward(r *http.Request, upstream string, body []byte) (int, http.Header, []byte, error) {
	u := upstream + r.URL.RequestURI()
	req, err := http.NewRequestWithContext(r.Context(), r.Method, u, bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	for k, vs := range r.Header {
		if strings.EqualFold(k, "Content-Length") || strings.EqualFold(k, "Host") {
			continue
		}
		req.Header[k] = vs
	}
	resp, err := m.client.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b, err
}

// dynamoExchange is one DynamoDB request as the meter prepared it.
type dynamoExchange struct {
	op     string
	body   []byte // what is sent upstream
	req    map[string]any
	header http.Header
	// items are a transaction's items with their stored images before it ran.
	items []txItem
}

// txItem is one item of a TransactWriteItems.
type txItem struct {
	kind   string // Put, Update, Delete, ConditionCheck
	table  string
	key    Item
	put    Item // Put's item
	before Item
	after  Item
}

// prepare asks for the consumed capacity and, for a transaction, reads its items
// first.
func (m *Meter) prepare(ctx context.Context, op string, body []byte, h http.Header) *dynamoExchange {
	x := &dynamoExchange{op: op, body: body, header: h}
	var req map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if dec.Decode(&req) != nil {
		return x
	}
	x.req = req
	if rc, _ := req["ReturnConsumedCapacity"].(string); rc == "" || rc == "NONE" {
		if _, ok := capacityOps[op]; ok {
			req["ReturnConsumedCapacity"] = "INDEXES"
			if b, err := json.Marshal(req); err == nil {
				x.body = b
			}
		}
	}
	if op == "TransactWriteItems" {
		x.items = m.readBefore(ctx, req, h)
	}
	return x
}

// capacityOps are the operations that accept ReturnConsumedCapacity, and whether
// they read.
var capacityOps = map[string]bool{
	"GetItem": true, "BatchGetItem": true, "Query": true, "Scan": true, "TransactGetItems": true,
	"PutItem": false, "UpdateItem": false, "DeleteItem": false, "BatchWriteItem": false, "TransactWriteItems": false,
}

// readBefore parses a transaction's items and reads their stored images.
func (m *Meter) readBefore(ctx context.Context, req map[string]any, h http.Header) []txItem {
	list, _ := req["TransactItems"].([]any)
	var items []txItem
	for _, e := range list {
		em, _ := e.(map[string]any)
		for _, kind := range []string{"Put", "Update", "Delete", "ConditionCheck"} {
			v, ok := em[kind].(map[string]any)
			if !ok {
				continue
			}
			it := txItem{kind: kind}
			it.table, _ = v["TableName"].(string)
			if kind == "Put" {
				it.put = toItem(v["Item"])
				if s, err := m.schema(ctx, it.table, h); err == nil {
					it.key = Item{}
					for _, k := range s.Keys {
						it.key[k] = it.put[k]
					}
				}
			} else {
				it.key = toItem(v["Key"])
			}
			items = append(items, it)
		}
	}
	images := m.batchGet(ctx, items, func(txItem) bool { return true }, h)
	for i := range items {
		items[i].before = images[i]
	}
	return items
}

// batchGet reads the stored images of the items want selects, strongly consistent,
// in one uncounted BatchGetItem per 100 keys; a missing item or a failed read is nil.
func (m *Meter) batchGet(ctx context.Context, items []txItem, want func(txItem) bool, h http.Header) []Item {
	out := make([]Item, len(items))
	var idx []int
	for i, it := range items {
		if want(it) && it.key != nil && it.table != "" {
			idx = append(idx, i)
		}
	}
	for len(idx) > 0 {
		chunk := idx[:min(len(idx), 100)]
		idx = idx[len(chunk):]
		reqItems := map[string]any{}
		for _, i := range chunk {
			t, _ := reqItems[items[i].table].(map[string]any)
			if t == nil {
				t = map[string]any{"ConsistentRead": true, "Keys": []any{}}
				reqItems[items[i].table] = t
			}
			// The same key twice in one BatchGetItem is an error; a transaction never
			// names an item twice.
			t["Keys"] = append(t["Keys"].([]any), map[string]any(items[i].key))
		}
		var resp struct {
			Responses map[string][]map[string]any
		}
		if err := m.side(ctx, "BatchGetItem", map[string]any{"RequestItems": reqItems}, h, &resp); err != nil {
			continue
		}
		for _, i := range chunk {
			s, err := m.schema(ctx, items[i].table, h)
			if err != nil {
				continue
			}
			for _, got := range resp.Responses[items[i].table] {
				if sameValues(Item(got), items[i].key, s.Keys) {
					out[i] = Item(got)
				}
			}
		}
	}
	return out
}

// side sends an uncounted request of the function's account to DynamoDB Local (which
// picks the account's database by the access key and checks no signature) and decodes
// its answer into out.
func (m *Meter) side(ctx context.Context, op string, in any, h http.Header, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.dynamoURL+"/", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810."+op)
	req.Header.Set("Authorization", h.Get("Authorization"))
	req.Header.Set("X-Amz-Date", h.Get("X-Amz-Date"))
	resp, err := m.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %d %s", op, resp.StatusCode, b)
	}
	return json.Unmarshal(b, out)
}

// schema returns a table's key attributes and indexes (DescribeTable, once per account
// and table).
func (m *Meter) schema(ctx context.Context, table string, h http.Header) (Schema, error) {
	key := accessKey(h.Get("Authorization")) + "/" + table
	m.schemaMu.Lock()
	s, ok := m.schemas[key]
	m.schemaMu.Unlock()
	if ok {
		return s, nil
	}
	var out struct {
		Table struct {
			KeySchema              []struct{ AttributeName string }
			GlobalSecondaryIndexes []struct {
				IndexName  string
				KeySchema  []struct{ AttributeName string }
				Projection struct {
					ProjectionType   string
					NonKeyAttributes []string
				}
			}
		}
	}
	if err := m.side(ctx, "DescribeTable", map[string]any{"TableName": table}, h, &out); err != nil {
		return Schema{}, err
	}
	for _, k := range out.Table.KeySchema {
		s.Keys = append(s.Keys, k.AttributeName)
	}
	for _, g := range out.Table.GlobalSecondaryIndexes {
		idx := Index{Name: g.IndexName, Projection: g.Projection.ProjectionType, NonKey: g.Projection.NonKeyAttributes}
		for _, k := range g.KeySchema {
			idx.Keys = append(idx.Keys, k.AttributeName)
		}
		s.Indexes = append(s.Indexes, idx)
	}
	m.schemaMu.Lock()
	m.schemas[key] = s
	m.schemaMu.Unlock()
	return s, nil
}

// accessKey is the access key id of a SigV4 Authorization header.
func accessKey(auth string) string {
	_, rest, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return ""
	}
	id, _, _ := strings.Cut(rest, "/")
	return id
}

// dynamoTally counts one DynamoDB request with its answer.
func (m *Meter) dynamoTally(ctx context.Context, x *dynamoExchange, status int, resp []byte, ferr error) (string, Tally) {
	t := Tally{Requests: 1, Items: 1}
	resource := tables(x.op, x.req)
	if ferr != nil || status >= 400 {
		t.Errors = 1
	}
	if x.op == "TransactWriteItems" {
		t.Items = len(x.items)
	}
	if x.op == "BatchGetItem" {
		t.Items = batchKeys(x.req)
	}
	if ferr != nil {
		return resource, t
	}
	local := consumed(resp)
	read, known := capacityOps[x.op]
	switch {
	case !known:
		// DescribeTable and the like: no capacity.
	case x.op == "TransactWriteItems" && status == http.StatusOK:
		t.Computed, t.LocalUnits = 1, local
		t.WriteUnits = m.transactionUnits(ctx, x)
	case x.op == "TransactWriteItems":
		// Cancelled: count the items' writes as attempted, without indexes.
		t.Computed, t.LocalUnits = 1, local
		for _, it := range x.items {
			t.WriteUnits += WriteUnits(max(ItemSize(it.before), ItemSize(it.put)), true)
		}
	case status >= 400 && errorType(resp) == "ConditionalCheckFailedException":
		t.Computed, t.LocalUnits = 1, local
		t.WriteUnits = WriteUnits(ItemSize(toItem(x.req["Item"])), false)
	case status >= 400:
		// A request DynamoDB rejects costs nothing.
	case read:
		t.Reported = 1
		t.ReadUnits = local
	default:
		t.Reported = 1
		t.WriteUnits = local
	}
	return resource, t
}

// transactionUnits computes a committed transaction's write units: each item's write
// at twice the larger of its stored sizes before and after (a condition check, a
// delete: the stored item), plus its indexes' writes.
func (m *Meter) transactionUnits(ctx context.Context, x *dynamoExchange) float64 {
	after := m.batchGet(ctx, x.items, func(it txItem) bool { return it.kind == "Update" }, x.header)
	units := 0.0
	for i, it := range x.items {
		var a Item
		switch it.kind {
		case "Put":
			a = it.put
		case "Update":
			a = after[i]
		case "Delete":
			a = nil
		case "ConditionCheck":
			units += WriteUnits(ItemSize(it.before), true)
			continue
		}
		units += WriteUnits(max(ItemSize(it.before), ItemSize(a)), true)
		if s, err := m.schema(ctx, it.table, x.header); err == nil {
			units += s.IndexWriteUnits(it.before, a)
		}
	}
	return units
}

// consumed adds up the CapacityUnits of an answer's ConsumedCapacity (an object, or a
// list for batches and transactions).
func consumed(resp []byte) float64 {
	var out struct {
		ConsumedCapacity json.RawMessage
	}
	if json.Unmarshal(resp, &out) != nil || len(out.ConsumedCapacity) == 0 {
		return 0
	}
	type cc struct{ CapacityUnits float64 }
	var one cc
	if json.Unmarshal(out.ConsumedCapacity, &one) == nil {
		return one.CapacityUnits
	}
	var many []cc
	sum := 0.0
	if json.Unmarshal(out.ConsumedCapacity, &many) == nil {
		for _, c := range many {
			sum += c.CapacityUnits
		}
	}
	return sum
}

// errorType is the __type of an error answer, without its namespace.
func errorType(resp []byte) string {
	var e struct {
		Type string `json:"__type"`
	}
	_ = json.Unmarshal(resp, &e)
	if i := strings.LastIndexByte(e.Type, '#'); i >= 0 {
		return e.Type[i+1:]
	}
	return e.Type
}

// tables names the tables a request touches, sorted and joined by "+".
func tables(op string, req map[string]any) string {
	set := map[string]bool{}
	if t, ok := req["TableName"].(string); ok {
		set[t] = true
	}
	if ri, ok := req["RequestItems"].(map[string]any); ok {
		for t := range ri {
			set[t] = true
		}
	}
	for _, list := range []string{"TransactItems"} {
		items, _ := req[list].([]any)
		for _, e := range items {
			em, _ := e.(map[string]any)
			for _, v := range em {
				if vm, ok := v.(map[string]any); ok {
					if t, ok := vm["TableName"].(string); ok {
						set[t] = true
					}
				}
			}
		}
	}
	names := make([]string, 0, len(set))
	for t := range set {
		names = append(names, t)
	}
	sort.Strings(names)
	return strings.Join(names, "+")
}

// batchKeys is the number of keys a BatchGetItem asks for.
func batchKeys(req map[string]any) int {
	n := 0
	ri, _ := req["RequestItems"].(map[string]any)
	for _, v := range ri {
		vm, _ := v.(map[string]any)
		keys, _ := vm["Keys"].([]any)
		n += len(keys)
	}
	return n
}

// toItem converts a decoded JSON item.
func toItem(v any) Item {
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	return Item(m)
}

// SQSChunkBytes is the payload SQS bills as one request: every started 64 KB of a
// request's messages is one billed request.
const SQSChunkBytes = 64 << 10

// SQSBilledRequests is the billed requests of one request carrying payload bytes.
func SQSBilledRequests(payload int) int {
	return max(1, int(math.Ceil(float64(payload)/SQSChunkBytes)))
}

// sqsTally counts one SQS request with its answer, and the messages it sent by type.
func sqsTally(op string, body []byte, status int, resp []byte, ferr error) (string, Tally, map[string]int) {
	t := Tally{Requests: 1, Items: 1}
	if ferr != nil || status >= 400 {
		t.Errors = 1
	}
	var req struct {
		QueueUrl    string
		MessageBody string
		Entries     []struct {
			MessageBody       string
			MessageAttributes map[string]json.RawMessage
		}
		MessageAttributes map[string]json.RawMessage
	}
	if json.Unmarshal(body, &req) != nil {
		// The query protocol: form fields.
		if form, err := url.ParseQuery(string(body)); err == nil {
			req.QueueUrl = form.Get("QueueUrl")
			req.MessageBody = form.Get("MessageBody")
		}
	}
	payload := len(req.MessageBody) + attributesSize(req.MessageAttributes)
	bodies := []string{req.MessageBody}
	if len(req.Entries) > 0 {
		t.Items = len(req.Entries)
		payload, bodies = 0, nil
		for _, e := range req.Entries {
			payload += len(e.MessageBody) + attributesSize(e.MessageAttributes)
			bodies = append(bodies, e.MessageBody)
		}
	}
	if op == "ReceiveMessage" && ferr == nil {
		var out struct{ Messages []json.RawMessage }
		_ = json.Unmarshal(resp, &out)
		t.Items = len(out.Messages)
	}
	t.BilledRequests = SQSBilledRequests(payload)
	var types map[string]int
	if strings.HasPrefix(op, "SendMessage") && t.Errors == 0 {
		types = map[string]int{}
		for _, b := range bodies {
			types[messageType(b)]++
		}
	}
	return queueName(req.QueueUrl), t, types
}

// messageType is a message's contract envelope type, "expiry" for an expiry message
// ({orderId, deadline}), or "other".
func messageType(body string) string {
	var m struct {
		Type     string `json:"type"`
		OrderID  string `json:"orderId"`
		Deadline string `json:"deadline"`
	}
	_ = json.Unmarshal([]byte(body), &m)
	switch {
	case m.Type != "":
		return m.Type
	case m.OrderID != "" && m.Deadline != "":
		return "expiry"
	}
	return "other"
}

// attributesSize approximates message attributes' share of the payload: their JSON.
func attributesSize(attrs map[string]json.RawMessage) int {
	n := 0
	for k, v := range attrs {
		n += len(k) + len(v)
	}
	return n
}

// queueName is the last path segment of a queue URL.
func queueName(u string) string {
	if i := strings.LastIndexByte(u, '/'); i >= 0 {
		return u[i+1:]
	}
	return u
}
