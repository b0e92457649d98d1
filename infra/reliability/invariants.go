package reliability

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/etalase/etalase/infra/localaccount"
	"github.com/etalase/etalase/infra/localrun"
	"github.com/etalase/etalase/infra/testenv"
	"github.com/etalase/etalase/shared/commerce/ledger"
	"github.com/etalase/etalase/shared/commerce/order"
	"github.com/etalase/etalase/shared/commerce/orders"
	"github.com/etalase/etalase/shared/commerce/outbox"
	"github.com/etalase/etalase/shared/contract"
)

// State is everything the invariants look at, read from both accounts' tables and
// queues, each with its own account's credentials.
type State struct {
	// Products by id: the catalog's stock and status.
	Products map[string]Product
	// Orders by id, and their ledgers (by seq).
	Orders  map[string]order.Order
	Ledgers map[string][]ledger.Entry
	// Outbox is every outbox record.
	Outbox []outbox.Record
	// PaymentEvents are the stored notifications.
	PaymentEvents []PaymentEvent
	// Social is social's commission ledger.
	Social Social
	// Queues are both accounts' queues.
	Queues []Queue
}

// Product is a catalog item's stock.
type Product struct {
	ID     string
	Stock  int64
	Status string
}

// PaymentEvent is a stored notification and whether the consumer processed it.
type PaymentEvent struct {
	Key, OrderID, Status, Outcome string
	Processed                     bool
}

// Social is what social's CommissionsTable holds.
type Social struct {
	// Markers are the applied-event markers: event id → event type.
	Markers map[string]string
	// Lines by "<orderRef>#<lineRef>".
	Lines map[string]SocialLine
	// Sales and Reversals are the creators' earnings' totals, all currencies.
	Sales, Reversals int64
}

// SocialLine is one attributed line at social.
type SocialLine struct {
	Attributed    bool
	Quantity      int64
	Amount        int64
	RefundedTotal int64
}

// Queue is one queue's message counts; a dead-letter queue's messages are listed.
type Queue struct {
	Side, ID                   string
	DLQ                        bool
	Visible, InFlight, Delayed int
	Bodies                     []string // DLQ only
}

// Read reads the State of the runner's two accounts. Reads are strongly consistent
// where DynamoDB allows.
func Read(t testing.TB, r *localrun.Runner) State {
	t.Helper()
	cdb := testenv.DynamoDB(t, localaccount.Commerce)
	sdb := testenv.DynamoDB(t, localaccount.Social)
	ctab := func(id string) string { return r.Resources[localaccount.Commerce.Side].Tables[id].Name }
	stab := func(id string) string { return r.Resources[localaccount.Social.Side].Tables[id].Name }
	s := State{Products: map[string]Product{}, Orders: map[string]order.Order{}, Ledgers: map[string][]ledger.Entry{},
		Social: Social{Markers: map[string]string{}, Lines: map[string]SocialLine{}}}

	for _, it := range scan(t, cdb, ctab("CatalogTable")) {
		var p struct {
			ID     string `dynamodbav:"productId"`
			Stock  int64  `dynamodbav:"stock"`
			Status string `dynamodbav:"status"`
		}
		unmarshal(t, it, &p)
		s.Products[p.ID] = Product{ID: p.ID, Stock: p.Stock, Status: p.Status}
	}
	for _, it := range scan(t, cdb, ctab("OrdersTable")) {
		o, err := order.UnmarshalItem(it)
		if err != nil {
			t.Fatalf("order item: %v", err)
		}
		s.Orders[o.ID] = o
	}
	for _, it := range scan(t, cdb, ctab("LedgerTable")) {
		e, err := ledger.UnmarshalItem(it)
		if err != nil {
			t.Fatalf("ledger item: %v", err)
		}
		s.Ledgers[e.OrderID] = append(s.Ledgers[e.OrderID], e)
	}
	for id := range s.Ledgers {
		slices.SortFunc(s.Ledgers[id], func(a, b ledger.Entry) int { return int(a.Seq - b.Seq) })
	}
	for _, it := range scan(t, cdb, ctab("OutboxTable")) {
		rec, err := outbox.FromItem(it)
		if err != nil {
			t.Fatalf("outbox item: %v", err)
		}
		s.Outbox = append(s.Outbox, rec)
	}
	for _, it := range scan(t, cdb, ctab("PaymentEventsTable")) {
		var e struct {
			Key         string `dynamodbav:"notificationKey"`
			OrderID     string `dynamodbav:"orderId"`
			Status      string `dynamodbav:"status"`
			ProcessedAt string `dynamodbav:"processedAt"`
			Outcome     string `dynamodbav:"outcome"`
		}
		unmarshal(t, it, &e)
		s.PaymentEvents = append(s.PaymentEvents, PaymentEvent{Key: e.Key, OrderID: e.OrderID, Status: e.Status, Outcome: e.Outcome, Processed: e.ProcessedAt != ""})
	}
	for _, it := range scan(t, sdb, stab("CommissionsTable")) {
		var c struct {
			PK            string `dynamodbav:"pk"`
			SK            string `dynamodbav:"sk"`
			EventType     string `dynamodbav:"eventType"`
			Attributed    bool   `dynamodbav:"attributed"`
			Quantity      int64  `dynamodbav:"quantity"`
			Amount        int64  `dynamodbav:"amount"`
			RefundedTotal int64  `dynamodbav:"refundedTotal"`
			Sales         int64  `dynamodbav:"sales"`
			Reversals     int64  `dynamodbav:"reversals"`
		}
		unmarshal(t, it, &c)
		switch {
		case strings.HasPrefix(c.PK, "EVENT#"):
			s.Social.Markers[strings.TrimPrefix(c.PK, "EVENT#")] = c.EventType
		case strings.HasPrefix(c.PK, "LINE#"):
			s.Social.Lines[strings.TrimPrefix(c.PK, "LINE#")] = SocialLine{Attributed: c.Attributed, Quantity: c.Quantity, Amount: c.Amount, RefundedTotal: c.RefundedTotal}
		case strings.HasPrefix(c.PK, "CREATOR#"):
			s.Social.Sales += c.Sales
			s.Social.Reversals += c.Reversals
		}
	}
	s.Queues = ReadQueues(t, r)
	return s
}

// ReadQueues counts the messages of every queue of both accounts and lists those of
// the dead-letter queues (peeked, not deleted).
func ReadQueues(t testing.TB, r *localrun.Runner) []Queue {
	t.Helper()
	ctx := context.Background()
	var out []Queue
	for _, acct := range localaccount.All {
		q := testenv.SQS(t, acct)
		ids := make([]string, 0, len(r.Resources[acct.Side].Queues))
		for id := range r.Resources[acct.Side].Queues {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			url := r.Resources[acct.Side].Queues[id].URL
			attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{
				sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
				sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed}})
			if err != nil {
				t.Fatalf("queue %s: %v", id, err)
			}
			n := func(a sqstypes.QueueAttributeName) int {
				v, _ := strconv.Atoi(attrs.Attributes[string(a)])
				return v
			}
			qu := Queue{Side: acct.Side, ID: id, DLQ: strings.HasSuffix(id, "DLQ"),
				Visible:  n(sqstypes.QueueAttributeNameApproximateNumberOfMessages),
				InFlight: n(sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible),
				Delayed:  n(sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed)}
			if qu.DLQ && qu.Visible > 0 {
				qu.Bodies = peek(t, q, url, qu.Visible)
			}
			out = append(out, qu)
		}
	}
	return out
}

// peek receives up to n messages without deleting them (they return after a second).
func peek(t testing.TB, q *sqs.Client, url string, n int) []string {
	seen := map[string]string{}
	for attempt := 0; attempt < 10 && len(seen) < n; attempt++ {
		out, err := q.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10, VisibilityTimeout: 1})
		if err != nil {
			t.Fatalf("peek %s: %v", url, err)
		}
		for _, m := range out.Messages {
			seen[aws.ToString(m.MessageId)] = aws.ToString(m.Body)
		}
	}
	bodies := make([]string, 0, len(seen))
	for _, b := range seen {
		bodies = append(bodies, b)
	}
	sort.Strings(bodies)
	return bodies
}

func scan(t testing.TB, db *dynamodb.Client, table string) []map[string]ddbtypes.AttributeValue {
	t.Helper()
	var items []map[string]ddbtypes.AttributeValue
	in := &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)}
	for {
		out, err := db.Scan(context.Background(), in)
		if err != nil {
			t.Fatalf("scan %s: %v", table, err)
		}
		items = append(items, out.Items...)
		if len(out.LastEvaluatedKey) == 0 {
			return items
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

func unmarshal(t testing.TB, it map[string]ddbtypes.AttributeValue, v any) {
	t.Helper()
	if err := attributevalue.UnmarshalMap(it, v); err != nil {
		t.Fatalf("unmarshal %v: %v", it, err)
	}
}

// Expect is what a scenario knows besides the invariants.
type Expect struct {
	// Initial is every product's initial stock; a product not in it is a violation.
	Initial map[string]int64
	// AllowPending allows PENDING_PAYMENT orders (before settling).
	AllowPending bool
	// AllowedFinal are the statuses each order may end in, by order id, where the
	// scenario knows them.
	AllowedFinal map[string][]order.Status
	// Known are the orders the scenario's clients placed (checkout answers, or the
	// buyer's order list); when not nil, an order outside it is a violation: a
	// checkout that committed without the buyer ever learning of it.
	Known map[string]bool
	// AmountMismatches are how many amount-mismatch deliveries a scenario caused, by
	// order id; the ledger holds exactly that many (at least, with AtLeast).
	AmountMismatches map[string]int
	// AtLeast relaxes AmountMismatches to a lower bound (under faults a delivery that
	// failed after it was recorded is retried and recorded again).
	AtLeast bool
}

// Report is what Check found.
type Report struct {
	// Violations of the invariants; the target is none.
	Violations []string
	// Figures count what was checked.
	Figures Figures
}

// Figures are the counts of a checked State.
type Figures struct {
	Products, Orders                    int
	ByStatus                            map[order.Status]int
	Initial, Stock, Reserved, Sold      int64
	Transitions, SaleAttributed, Social int
	SaleReversed                        int
	// SocialPending are sale events commerce published that social has not applied.
	SocialPending              int
	Rejected                   map[string]int // notification_rejected by reason
	Notifications, Unprocessed int
	QueueLeft, Scheduled, DLQ  int
	DLQBodies                  []string
}

// String is a one-line summary.
func (f Figures) String() string {
	st := make([]string, 0, len(f.ByStatus))
	for s, n := range f.ByStatus {
		st = append(st, fmt.Sprintf("%s=%d", s, n))
	}
	sort.Strings(st)
	rj := make([]string, 0, len(f.Rejected))
	for r, n := range f.Rejected {
		rj = append(rj, fmt.Sprintf("%s=%d", r, n))
	}
	sort.Strings(rj)
	return fmt.Sprintf("products=%d units initial=%d stock=%d reserved=%d sold=%d; orders=%d [%s]; transitions=%d; "+
		"SaleAttributed=%d (social lines %d) SaleReversed=%d; rejected notifications [%s]; notifications stored=%d unprocessed=%d; "+
		"queue messages left=%d, scheduled=%d, in DLQs=%d",
		f.Products, f.Initial, f.Stock, f.Reserved, f.Sold, f.Orders, strings.Join(st, " "), f.Transitions,
		f.SaleAttributed, f.Social, f.SaleReversed, strings.Join(rj, " "), f.Notifications, f.Unprocessed, f.QueueLeft, f.Scheduled, f.DLQ)
}

// transition is one status_changed entry.
type transition struct {
	From, To     order.Status
	ReleaseStock bool
}

// Check checks every invariant of the package documentation on s.
func Check(s State, x Expect) Report {
	var rep Report
	bad := func(format string, args ...any) {
		rep.Violations = append(rep.Violations, fmt.Sprintf(format, args...))
	}
	f := &rep.Figures
	f.ByStatus, f.Rejected = map[order.Status]int{}, map[string]int{}

	// Orders and their ledgers: the path of transitions, and whether they hold stock.
	paths := map[string][]transition{}
	held := map[string]bool{}
	mismatches := map[string]int{}
	ids := make([]string, 0, len(s.Orders))
	for id := range s.Orders {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		o := s.Orders[id]
		f.Orders++
		f.ByStatus[o.Status]++
		es := s.Ledgers[id]
		if v := ledger.VerifyHead(es, ledger.Head{Seq: o.LedgerSeq, Hash: o.LedgerHash}, true); !v.OK {
			bad("order %s: ledger does not verify: %s (first bad seq %d)", id, v.Reason, v.FirstBadSeq)
		}
		if len(es) == 0 || es[0].Type != ledger.TypeOrderCreated {
			bad("order %s: ledger does not start with order_created", id)
		}
		cur, hold := order.StatusPendingPayment, true
		for _, e := range es {
			var d struct {
				From, To     string
				ReleaseStock bool
				Reason       string
			}
			_ = json.Unmarshal(e.Data, &d)
			switch e.Type {
			case ledger.TypeNotificationRejected:
				f.Rejected[d.Reason]++
				if d.Reason == "amount_mismatch" {
					mismatches[id]++
				}
				continue
			case ledger.TypeStatusChanged:
			default:
				continue
			}
			tr := transition{From: order.Status(d.From), To: order.Status(d.To), ReleaseStock: d.ReleaseStock}
			if tr.From != cur {
				bad("order %s: ledger seq %d changes %s → %s, but the order was %s", id, e.Seq, tr.From, tr.To, cur)
			}
			wantRelease := tr.From == order.StatusPendingPayment &&
				(tr.To == order.StatusExpired || tr.To == order.StatusCancelled || tr.To == order.StatusFailed)
			if tr.ReleaseStock != wantRelease {
				bad("order %s: ledger seq %d %s → %s with releaseStock %v", id, e.Seq, tr.From, tr.To, tr.ReleaseStock)
			}
			if tr.ReleaseStock {
				hold = false
			}
			paths[id] = append(paths[id], tr)
			cur = tr.To
			f.Transitions++
		}
		if cur != o.Status {
			bad("order %s is %s, but its ledger's transitions end at %s", id, o.Status, cur)
		}
		held[id] = hold
		if o.Status == order.StatusPendingPayment && !x.AllowPending {
			bad("order %s is still PENDING_PAYMENT (deadline %s) after settling", id, o.Deadline.UTC().Format("15:04:05.000"))
		}
		if want, ok := x.AllowedFinal[id]; ok && !slices.Contains(want, o.Status) {
			bad("order %s is %s, want one of %v", id, o.Status, want)
		}
		if x.Known != nil && !x.Known[id] {
			bad("order %s (%s) was placed but no client knows it", id, o.Status)
		}
	}
	for id := range x.AllowedFinal {
		if _, ok := s.Orders[id]; !ok {
			bad("order %s: not in OrdersTable", id)
		}
	}
	for id, want := range x.AmountMismatches {
		if got := mismatches[id]; got != want && !(x.AtLeast && got > want) {
			bad("order %s: %d amount_mismatch entries in its ledger, want %d", id, got, want)
		}
	}

	// Stock: stock + reserved + sold = initial, per product.
	reserved, sold := map[string]int64{}, map[string]int64{}
	for id, o := range s.Orders {
		if !held[id] {
			continue
		}
		for _, l := range o.Lines {
			if o.Status == order.StatusPendingPayment {
				reserved[l.ProductID] += l.Quantity
			} else {
				sold[l.ProductID] += l.Quantity
			}
		}
	}
	pids := make([]string, 0, len(s.Products))
	for id := range s.Products {
		pids = append(pids, id)
	}
	sort.Strings(pids)
	for _, id := range pids {
		p := s.Products[id]
		f.Products++
		f.Stock += p.Stock
		f.Reserved += reserved[id]
		f.Sold += sold[id]
		if p.Stock < 0 {
			bad("product %s: stock %d below zero", id, p.Stock)
		}
		initial, ok := x.Initial[id]
		if !ok {
			bad("product %s: not created by the scenario (stock %d)", id, p.Stock)
			continue
		}
		f.Initial += initial
		if p.Stock+reserved[id]+sold[id] != initial {
			bad("product %s: stock %d + reserved %d + sold %d = %d, want the initial %d",
				id, p.Stock, reserved[id], sold[id], p.Stock+reserved[id]+sold[id], initial)
		}
	}
	for id := range x.Initial {
		if _, ok := s.Products[id]; !ok {
			bad("product %s: not in the catalog", id)
		}
	}
	for id, o := range s.Orders {
		for _, l := range o.Lines {
			if _, ok := s.Products[l.ProductID]; !ok {
				bad("order %s: line of unknown product %s", id, l.ProductID)
			}
		}
	}

	// The outbox: one record per side effect.
	created := map[string]int{}
	changed := map[string][]transition{}
	type lineEvents struct{ attributed, reversed []outbox.Record }
	sales := map[string]*lineEvents{} // "<orderRef>#<lineRef>"
	saleOrder := map[string]string{}  // line → order id
	for _, rec := range s.Outbox {
		switch rec.EventType {
		case orders.EventOrderCreated:
			created[rec.AggregateID]++
		case orders.EventOrderStatusChanged:
			var p orders.OrderStatusChanged
			if err := json.Unmarshal([]byte(rec.Payload), &p); err != nil {
				bad("outbox %s: %v", rec.EventID, err)
				continue
			}
			changed[rec.AggregateID] = append(changed[rec.AggregateID], transition{From: order.Status(p.From), To: order.Status(p.To), ReleaseStock: p.ReleaseStock})
		case contract.EventSaleAttributed, contract.EventSaleReversed:
			var p struct {
				OrderRef string `json:"orderRef"`
				LineRef  string `json:"lineRef"`
			}
			if err := json.Unmarshal([]byte(rec.Payload), &p); err != nil {
				bad("outbox %s: %v", rec.EventID, err)
				continue
			}
			k := p.OrderRef + "#" + p.LineRef
			if sales[k] == nil {
				sales[k] = &lineEvents{}
			}
			if rec.EventType == contract.EventSaleAttributed {
				sales[k].attributed = append(sales[k].attributed, rec)
				f.SaleAttributed++
			} else {
				sales[k].reversed = append(sales[k].reversed, rec)
				f.SaleReversed++
			}
			saleOrder[k] = rec.AggregateID
		}
	}
	for _, id := range ids {
		o := s.Orders[id]
		if created[id] != 1 {
			bad("order %s: %d OrderCreated records, want 1", id, created[id])
		}
		if !sameTransitions(paths[id], changed[id]) {
			bad("order %s: OrderStatusChanged records %v, want one per ledger transition %v", id, changed[id], paths[id])
		}
		paid, refunded := false, false
		for _, tr := range paths[id] {
			paid = paid || tr.To == order.StatusPaid
			refunded = refunded || tr.From == order.StatusPaid && tr.To == order.StatusRefunded
		}
		for _, l := range o.Lines {
			k := o.OrderRef + "#" + l.ProductID
			ev := sales[k]
			if ev == nil {
				ev = &lineEvents{}
			}
			wantA, wantR := 0, 0
			if l.Attribution != nil && o.OrderRef != "" {
				if paid {
					wantA = 1
				}
				if refunded {
					wantR = 1
				}
			}
			if len(ev.attributed) != wantA || len(ev.reversed) != wantR {
				bad("order %s line %s: %d SaleAttributed and %d SaleReversed records, want %d and %d",
					id, l.ProductID, len(ev.attributed), len(ev.reversed), wantA, wantR)
			}
			delete(sales, k)
		}
	}
	for k := range sales {
		bad("sale events for %s, which is no line of any order (order %s)", k, saleOrder[k])
	}

	// Social: each sale event applied exactly once.
	var attributedRecs []outbox.Record
	for _, rec := range s.Outbox {
		if rec.EventType != contract.EventSaleAttributed && rec.EventType != contract.EventSaleReversed {
			continue
		}
		if typ, ok := s.Social.Markers[rec.EventID]; !ok || typ != rec.EventType {
			f.SocialPending++
			bad("social has no applied marker of %s %s (order %s)", rec.EventType, rec.EventID, rec.AggregateID)
		}
		var p struct {
			OrderRef string         `json:"orderRef"`
			LineRef  string         `json:"lineRef"`
			Quantity int64          `json:"quantity"`
			Amount   contract.Price `json:"amount"`
		}
		_ = json.Unmarshal([]byte(rec.Payload), &p)
		line, ok := s.Social.Lines[p.OrderRef+"#"+p.LineRef]
		switch {
		case !ok:
			bad("social has no line %s#%s of %s %s", p.OrderRef, p.LineRef, rec.EventType, rec.EventID)
		case rec.EventType == contract.EventSaleAttributed && (!line.Attributed || line.Quantity != p.Quantity || line.Amount != p.Amount.Amount):
			bad("social line %s#%s is %+v, want attributed %d units for %d", p.OrderRef, p.LineRef, line, p.Quantity, p.Amount.Amount)
		case rec.EventType == contract.EventSaleReversed && line.RefundedTotal != p.Amount.Amount:
			bad("social line %s#%s refunded %d, want %d", p.OrderRef, p.LineRef, line.RefundedTotal, p.Amount.Amount)
		}
		if rec.EventType == contract.EventSaleAttributed {
			attributedRecs = append(attributedRecs, rec)
		}
	}
	for _, l := range s.Social.Lines {
		if l.Attributed {
			f.Social++
		}
	}
	if f.Social != len(attributedRecs) {
		bad("social has %d attributed lines, commerce published %d SaleAttributed", f.Social, len(attributedRecs))
	}
	if s.Social.Sales != int64(f.SaleAttributed) || s.Social.Reversals != int64(f.SaleReversed) {
		bad("creators' earnings count %d sales and %d reversals, want %d and %d", s.Social.Sales, s.Social.Reversals, f.SaleAttributed, f.SaleReversed)
	}

	// Messages: processed, or in a dead-letter queue.
	var dlqBodies []string
	for _, q := range s.Queues {
		if q.DLQ {
			f.DLQ += q.Visible + q.InFlight + q.Delayed
			for _, b := range q.Bodies {
				dlqBodies = append(dlqBodies, q.ID+": "+b)
			}
			continue
		}
		// Delayed messages are work scheduled for later (an expiry message waits for a
		// deadline up to 15 minutes away), not work left undone.
		f.Scheduled += q.Delayed
		if n := q.Visible + q.InFlight; n > 0 {
			f.QueueLeft += n
			bad("queue %s/%s still has %d messages (%d visible, %d in flight)", q.Side, q.ID, n, q.Visible, q.InFlight)
		}
	}
	f.DLQBodies = dlqBodies
	for _, e := range s.PaymentEvents {
		f.Notifications++
		if e.Processed {
			continue
		}
		f.Unprocessed++
		inDLQ := false
		for _, b := range dlqBodies {
			inDLQ = inDLQ || strings.Contains(b, e.Key)
		}
		if !inDLQ {
			bad("notification %s (order %s, %s) was stored but never processed, and is in no dead-letter queue", e.Key, e.OrderID, e.Status)
		}
	}
	return rep
}

// sameTransitions reports whether a and b hold the same transitions, in any order.
func sameTransitions(a, b []transition) bool {
	if len(a) != len(b) {
		return false
	}
	count := map[transition]int{}
	for _, t := range a {
		count[t]++
	}
	for _, t := range b {
		count[t]--
	}
	for _, n := range count {
		if n != 0 {
			return false
		}
	}
	return true
}
