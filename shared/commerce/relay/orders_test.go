package relay_test

// Unit tests of the internal order records (events/commerce/relay/order-stream.json):
// OrderCreated → the expiry message on ExpiryQueue; OrderCreated and a releasing
// OrderStatusChanged → the products' current snapshots on the social inbox.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"github.com/etalase/etalase/shared/commerce/expiry"
	"github.com/etalase/etalase/shared/commerce/orders"
	"github.com/etalase/etalase/shared/commerce/relay"
	"github.com/etalase/etalase/shared/contract"
	"github.com/etalase/etalase/shared/contract/schemacheck"
)

const (
	expiryURL    = "https://sqs.ap-southeast-3.amazonaws.com/222222222222/etalase-commerce-expiry"
	catalogTable = "etalase-CatalogTable-1AB2CD3EF4"
	kopi         = "p_rocsknolsez4jj42y44l7ga3ou"
	teh          = "p_k6sjssdkag4mlixyo3uj4aakbm"
	expiredOrder = "o_mfrggzdfmztwq2lknnwg23tpob"
	paidOrder    = "o_e2fnodvvxrdtpivofalczpfdae"
)

// The fixture's records, in stream order.
const (
	recCreated  = iota // OrderCreated of expiredOrder: kopi and teh reserved, deadline 13:15:00.25
	recPaid            // OrderStatusChanged of paidOrder to PAID: no stock moved
	recReleased        // OrderStatusChanged of expiredOrder to EXPIRED: kopi and teh released
)

func orderFixture(t *testing.T) events.DynamoDBEvent {
	t.Helper()
	raw, err := os.ReadFile("../../../events/commerce/relay/order-stream.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev events.DynamoDBEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

// only returns the event with the fixture's records at idx.
func only(ev events.DynamoDBEvent, idx ...int) events.DynamoDBEvent {
	var out events.DynamoDBEvent
	for _, i := range idx {
		out.Records = append(out.Records, ev.Records[i])
	}
	return out
}

// fakeCatalog answers BatchGetItem from items, keyed by product id.
type fakeCatalog struct {
	mu    sync.Mutex
	items map[string]map[string]types.AttributeValue
	calls []*dynamodb.BatchGetItemInput
	err   error
	// unprocessed is how many calls leave every key unprocessed.
	unprocessed int
}

func (f *fakeCatalog) BatchGetItem(_ context.Context, in *dynamodb.BatchGetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, in)
	if f.err != nil {
		return nil, f.err
	}
	out := &dynamodb.BatchGetItemOutput{Responses: map[string][]map[string]types.AttributeValue{}}
	for table, ka := range in.RequestItems {
		if f.unprocessed > 0 {
			f.unprocessed--
			out.UnprocessedKeys = map[string]types.KeysAndAttributes{table: ka}
			continue
		}
		for _, k := range ka.Keys {
			if it, ok := f.items[k["productId"].(*types.AttributeValueMemberS).Value]; ok {
				out.Responses[table] = append(out.Responses[table], it)
			}
		}
	}
	return out, nil
}

// keys returns the product ids each call asked for.
func (f *fakeCatalog) keys() [][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out [][]string
	for _, c := range f.calls {
		var ids []string
		for _, k := range c.RequestItems[catalogTable].Keys {
			ids = append(ids, k["productId"].(*types.AttributeValueMemberS).Value)
		}
		out = append(out, ids)
	}
	return out
}

// product is a CatalogTable item in the catalog's storage form.
func product(t *testing.T, id string, stock, version int64, status string) map[string]types.AttributeValue {
	t.Helper()
	av, err := attributevalue.MarshalMap(map[string]any{
		"productId": id, "sellerId": "5b0e8f3c-2d1a-4c9e-9f7b-1a2b3c4d5e6f", "title": "Kopi Arabika Gayo 250 g",
		"description": "not for social", "imageUrl": "/assets/kopi.jpg", "priceAmount": 85000, "priceCurrency": "IDR",
		"stock": stock, "status": status, "version": version,
		"createdAt": "2026-01-01T00:00:00.000000000Z", "updatedAt": "2026-01-05T12:00:00.000000000Z",
	})
	if err != nil {
		t.Fatal(err)
	}
	return av
}

func newOrderHandler(t *testing.T, f *fakeSQS, cat *fakeCatalog, logs *bytes.Buffer, now time.Time) *relay.Handler {
	t.Helper()
	opts := []relay.Option{relay.WithExpiryQueue(expiryURL), relay.WithClock(func() time.Time { return now })}
	if cat != nil {
		opts = append(opts, relay.WithStockSnapshots(cat, catalogTable))
	}
	return newHandler(t, f, logs, opts...)
}

// sent returns the bodies sent to queueURL, in order.
func (f *fakeSQS) sent(queueURL string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, b := range f.batches {
		if aws.ToString(b.QueueUrl) != queueURL {
			continue
		}
		for _, e := range b.Entries {
			out = append(out, aws.ToString(e.MessageBody))
		}
	}
	return out
}

// warnings returns the WARN and ERROR lines of a JSON log.
func warnings(logs *bytes.Buffer) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if strings.Contains(l, `"level":"WARN"`) || strings.Contains(l, `"level":"ERROR"`) {
			out = append(out, l)
		}
	}
	return out
}

// An OrderCreated record is the order's expiry: {orderId, deadline} on ExpiryQueue,
// exactly what the expiry consumer parses, delayed by min(900 s, until the deadline).
func TestOrderCreatedSchedulesTheExpiry(t *testing.T) {
	deadline := time.Date(2026, 1, 5, 13, 15, 0, 250_000_000, time.UTC)
	tests := []struct {
		name string
		now  time.Time
		want int32
	}{
		{"window longer than SQS's delay", deadline.Add(-24 * time.Hour), 900},
		{"exactly 15 minutes", deadline.Add(-15 * time.Minute), 900},
		{"10 minutes left", deadline.Add(-10 * time.Minute), 600},
		{"1.5 s left: rounded up, never early", deadline.Add(-1500 * time.Millisecond), 2},
		{"deadline passed (a late relay)", deadline.Add(time.Minute), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeSQS{}
			var logs bytes.Buffer
			h := newOrderHandler(t, f, nil, &logs, tt.now)
			resp, _ := h.Handle(context.Background(), only(orderFixture(t), recCreated))
			if len(resp.BatchItemFailures) != 0 || len(f.batches) != 1 || len(f.batches[0].Entries) != 1 {
				t.Fatalf("failures %v, batches %+v", seqs(resp), f.batches)
			}
			b := f.batches[0]
			e := b.Entries[0]
			if aws.ToString(b.QueueUrl) != expiryURL || e.DelaySeconds != tt.want {
				t.Errorf("sent to %s delayed %d s, want %s and %d s", aws.ToString(b.QueueUrl), e.DelaySeconds, expiryURL, tt.want)
			}
			m, err := expiry.Parse(aws.ToString(e.MessageBody))
			if err != nil || m.OrderID != expiredOrder || !m.Deadline.Equal(deadline) {
				t.Errorf("expiry message %s = %+v, %v", aws.ToString(e.MessageBody), m, err)
			}
			var fields map[string]any
			_ = json.Unmarshal([]byte(aws.ToString(e.MessageBody)), &fields)
			if len(fields) != 2 {
				t.Errorf("expiry message %s: want exactly orderId and deadline", aws.ToString(e.MessageBody))
			}
			if w := warnings(&logs); len(w) != 0 {
				t.Errorf("warnings: %v", w)
			}
		})
	}
}

// Without an expiry queue an OrderCreated has no route, and says so; an OrderCreated
// that names no valid order is not scheduled, and says so.
func TestOrderCreatedWithoutRouteOrOrder(t *testing.T) {
	f := &fakeSQS{}
	var logs bytes.Buffer
	h := newHandler(t, f, &logs)
	_, _ = h.Handle(context.Background(), only(orderFixture(t), recCreated))
	if len(f.batches) != 0 || !strings.Contains(logs.String(), "no route for this event type") {
		t.Errorf("batches %d, logs:\n%s", len(f.batches), logs.String())
	}

	f, logs = &fakeSQS{}, bytes.Buffer{}
	h = newOrderHandler(t, f, nil, &logs, time.Now())
	ev := only(orderFixture(t), recCreated)
	img := ev.Records[0].Change.NewImage
	img["payload"] = events.NewStringAttribute(`{"orderId":"not-an-order","deadline":"2026-01-05T13:15:00Z"}`)
	resp, _ := h.Handle(context.Background(), ev)
	if len(resp.BatchItemFailures) != 0 || len(f.batches) != 0 || !strings.Contains(logs.String(), "no expiry scheduled") {
		t.Errorf("failures %v, batches %d, logs:\n%s", seqs(resp), len(f.batches), logs.String())
	}
}

// OrderStatusChanged has no consumer: acknowledged without a message and without a
// WARN (it is on the documented allow-list); an unknown internal type still warns.
func TestUnpublishedInternalTypesAreQuiet(t *testing.T) {
	if got := relay.Unpublished(); !slices.Equal(got, []string{orders.EventOrderStatusChanged}) {
		t.Errorf("Unpublished() = %v", got)
	}
	for _, withCatalog := range []bool{false, true} {
		f := &fakeSQS{}
		var logs bytes.Buffer
		var cat *fakeCatalog
		if withCatalog {
			cat = &fakeCatalog{}
		}
		h := newOrderHandler(t, f, cat, &logs, time.Now())
		resp, _ := h.Handle(context.Background(), only(orderFixture(t), recPaid, recPaid, recPaid))
		if len(resp.BatchItemFailures) != 0 || len(f.batches) != 0 {
			t.Errorf("catalog %v: failures %v, batches %d", withCatalog, seqs(resp), len(f.batches))
		}
		if cat != nil && len(cat.calls) != 0 {
			t.Errorf("a change that moved no stock read the catalog: %v", cat.keys())
		}
		if w := warnings(&logs); len(w) != 0 {
			t.Errorf("catalog %v: OrderStatusChanged logged warnings: %v", withCatalog, w)
		}
	}
	var logs bytes.Buffer
	_, _ = newOrderHandler(t, &fakeSQS{}, &fakeCatalog{}, &logs, time.Now()).Handle(context.Background(), fixture(t))
	if w := warnings(&logs); len(w) != 1 || !strings.Contains(w[0], "OrderExpiryScheduled") || !strings.Contains(w[0], "no route") {
		t.Errorf("an unknown internal type: warnings %v, want one naming it", w)
	}
}

// snapshot is a decoded snapshot message.
type snapshot struct {
	env     contract.Envelope
	display contract.ProductDisplay
}

func snapshots(t *testing.T, f *fakeSQS) map[string]snapshot {
	t.Helper()
	v, _ := schemacheck.New()
	out := map[string]snapshot{}
	for _, b := range f.batches {
		if aws.ToString(b.QueueUrl) != inboxURL {
			continue
		}
		for _, e := range b.Entries {
			body := aws.ToString(e.MessageBody)
			if err := v.ValidateMessage([]byte(body)); err != nil {
				t.Errorf("snapshot breaks the contract: %v", err)
			}
			for _, leak := range []string{expiredOrder, paidOrder, "aggregateId", "stock\"", "not for social"} {
				if strings.Contains(body, leak) {
					t.Errorf("snapshot carries %q: %s", leak, body)
				}
			}
			var s snapshot
			if err := json.Unmarshal([]byte(body), &s.env); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(s.env.Payload, &s.display); err != nil {
				t.Fatal(err)
			}
			if got := aws.ToString(e.MessageAttributes[contract.MessageAttributeType].StringValue); got != s.env.Type {
				t.Errorf("eventType attribute %q, envelope %q", got, s.env.Type)
			}
			if _, dup := out[s.display.ProductID]; dup {
				t.Errorf("two snapshots of %s in one batch", s.display.ProductID)
			}
			out[s.display.ProductID] = s
		}
	}
	return out
}

// A checkout's reservation and an expiry's release publish the products' CURRENT
// snapshots to social: read once per batch, strongly consistent; a product at stock 0
// is out of stock; a delisted one stays delisted (ProductDelisted).
func TestStockChangesRefreshSnapshots(t *testing.T) {
	cat := &fakeCatalog{items: map[string]map[string]types.AttributeValue{
		kopi: product(t, kopi, 0, 9, "LISTED"),
		teh:  product(t, teh, 4, 12, "DELISTED"),
	}}
	f := &fakeSQS{}
	var logs bytes.Buffer
	now := time.Date(2026, 1, 5, 13, 0, 1, 0, time.UTC)
	h := newOrderHandler(t, f, cat, &logs, now)
	resp, _ := h.Handle(context.Background(), orderFixture(t))
	if len(resp.BatchItemFailures) != 0 {
		t.Fatalf("failures %v", seqs(resp))
	}
	if diff := cmp.Diff([][]string{{kopi, teh}}, cat.keys()); diff != "" {
		t.Errorf("catalog reads (-want +got):\n%s", diff)
	}
	ka := cat.calls[0].RequestItems[catalogTable]
	if !aws.ToBool(ka.ConsistentRead) || ka.ProjectionExpression == nil {
		t.Errorf("read %+v, want strongly consistent and projected", ka)
	}
	got := snapshots(t, f)
	if len(got) != 2 {
		t.Fatalf("snapshots %v", got)
	}
	k := got[kopi]
	wantKopi := contract.ProductDisplay{ProductID: kopi, SellerID: "5b0e8f3c-2d1a-4c9e-9f7b-1a2b3c4d5e6f", Title: "Kopi Arabika Gayo 250 g",
		ImageURL: "/assets/kopi.jpg", Price: contract.Price{Amount: 85000, Currency: "IDR"}, InStock: false, Version: 9}
	if diff := cmp.Diff(wantKopi, k.display); diff != "" || k.env.Type != contract.EventProductUpdated {
		t.Errorf("kopi: %s (-want +got):\n%s", k.env.Type, diff)
	}
	// The first record that names it is the cause: the checkout's request; the latest
	// record naming it (the expiry) is when.
	if k.env.CorrelationID != "Yh5uPpXYoAMEgVa=" || !k.env.OccurredAt.Equal(time.Date(2026, 1, 5, 13, 15, 1, 0, time.UTC)) ||
		k.env.EventID != relay.SnapshotEventID(contract.EventProductUpdated, kopi, 9) || k.env.SchemaVersion != contract.CatalogSchemaVersion {
		t.Errorf("kopi envelope = %+v", k.env)
	}
	if tt := got[teh]; tt.env.Type != contract.EventProductDelisted || tt.display.InStock || tt.display.Version != 12 {
		t.Errorf("teh (delisted, stock 4) = %s %+v, want ProductDelisted, not in stock, version 12", tt.env.Type, tt.display)
	}
	// And the expiry message went to ExpiryQueue.
	if e := f.sent(expiryURL); len(e) != 1 || !strings.Contains(e[0], expiredOrder) {
		t.Errorf("expiry messages %v", e)
	}
	if w := warnings(&logs); len(w) != 0 {
		t.Errorf("warnings: %v", w)
	}

	// In stock again (the release): a newer version, in stock; the event id differs.
	cat.items[kopi] = product(t, kopi, 2, 10, "LISTED")
	f = &fakeSQS{}
	h = newOrderHandler(t, f, cat, &bytes.Buffer{}, now)
	_, _ = h.Handle(context.Background(), only(orderFixture(t), recReleased))
	if k2 := snapshots(t, f)[kopi]; !k2.display.InStock || k2.display.Version != 10 || k2.env.EventID == k.env.EventID ||
		k2.env.CorrelationID != "7e2b5d3a-4c6f-4e8a-9b0c-9d3e4f5a6b72" {
		t.Errorf("after the release: %+v", k2)
	}
}

func TestSnapshotEventID(t *testing.T) {
	a := relay.SnapshotEventID(contract.EventProductUpdated, kopi, 9)
	if !uuidShape(a) || a != relay.SnapshotEventID(contract.EventProductUpdated, kopi, 9) {
		t.Errorf("id %q: not a stable UUID", a)
	}
	for _, other := range []string{
		relay.SnapshotEventID(contract.EventProductUpdated, kopi, 10),
		relay.SnapshotEventID(contract.EventProductDelisted, kopi, 9),
		relay.SnapshotEventID(contract.EventProductUpdated, teh, 9),
	} {
		if other == a {
			t.Errorf("%s repeats for another snapshot", a)
		}
	}
}

func uuidShape(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case !strings.ContainsRune("0123456789abcdef", c):
			return false
		}
	}
	return true
}

// A failed catalog read sends what comes before the first record that needs it and
// reports that record and every later busy one, for the stream to retry.
func TestCatalogReadFailureIsRetried(t *testing.T) {
	ev := orderFixture(t)
	lead := record(1, goodPayload) // a catalog event before the order records
	ev.Records = append([]events.DynamoDBEventRecord{lead}, ev.Records...)
	cat := &fakeCatalog{err: errors.New("ProvisionedThroughputExceededException")}
	f := &fakeSQS{}
	var logs bytes.Buffer
	h := newOrderHandler(t, f, cat, &logs, time.Now())
	resp, _ := h.Handle(context.Background(), ev)
	// The PAID change (recPaid) has nothing to do but is after the failure: not reported.
	want := []string{"200000000000000000001", "200000000000000000003"}
	if diff := cmp.Diff(want, seqs(resp)); diff != "" {
		t.Errorf("reported (-want +got):\n%s", diff)
	}
	if got := f.sent(inboxURL); len(got) != 1 || !strings.Contains(got[0], `"type":"ProductUpdated"`) {
		t.Errorf("social got %v, want only the leading catalog event", got)
	}
	if got := f.sent(expiryURL); len(got) != 0 {
		t.Errorf("the expiry of a reported record was sent: %v", got)
	}
	if !strings.Contains(logs.String(), "catalog read failed") {
		t.Errorf("logs:\n%s", logs.String())
	}

	// Unprocessed keys are asked again; after five rounds the read fails.
	cat = &fakeCatalog{items: map[string]map[string]types.AttributeValue{kopi: product(t, kopi, 1, 3, "LISTED")}, unprocessed: 2}
	f = &fakeSQS{}
	resp, _ = newOrderHandler(t, f, cat, &bytes.Buffer{}, time.Now()).Handle(context.Background(), only(orderFixture(t), recCreated))
	if len(resp.BatchItemFailures) != 0 || len(cat.calls) != 3 || len(snapshots(t, f)) != 1 {
		t.Errorf("with unprocessed keys: failures %v, %d reads, %d snapshots", seqs(resp), len(cat.calls), len(snapshots(t, f)))
	}
	cat = &fakeCatalog{items: cat.items, unprocessed: 100}
	f = &fakeSQS{}
	resp, _ = newOrderHandler(t, f, cat, &bytes.Buffer{}, time.Now()).Handle(context.Background(), only(orderFixture(t), recCreated))
	if len(resp.BatchItemFailures) != 1 || len(cat.calls) != 5 || len(f.batches) != 0 {
		t.Errorf("never processed: failures %v, %d reads, %d batches", seqs(resp), len(cat.calls), len(f.batches))
	}
}

// A failed send of a snapshot reports the first record that named the product, and
// every later busy record: the retry reads the product again.
func TestSnapshotSendFailureIsRetried(t *testing.T) {
	cat := &fakeCatalog{items: map[string]map[string]types.AttributeValue{
		kopi: product(t, kopi, 0, 9, "LISTED"), teh: product(t, teh, 3, 4, "LISTED"),
	}}
	// Batch 1 goes to ExpiryQueue (the first queue in the stream), batch 2 to social.
	f := &fakeSQS{failCall: 2, callErr: errors.New("AWS.SimpleQueueService.NonExistentQueue")}
	resp, _ := newOrderHandler(t, f, cat, &bytes.Buffer{}, time.Now()).Handle(context.Background(), orderFixture(t))
	if diff := cmp.Diff([]string{"200000000000000000001", "200000000000000000003"}, seqs(resp)); diff != "" {
		t.Errorf("reported (-want +got):\n%s", diff)
	}
	if len(f.batches) != 2 || aws.ToString(f.batches[0].QueueUrl) != expiryURL {
		t.Errorf("batches %d", len(f.batches))
	}
}

// Records written before productIds existed, and products missing from the catalog,
// are acknowledged with a warning: nothing to retry.
func TestStockRecordsWithoutProducts(t *testing.T) {
	ev := only(orderFixture(t), recReleased)
	ev.Records[0].Change.NewImage["payload"] = events.NewStringAttribute(
		`{"orderId":"` + expiredOrder + `","from":"PENDING_PAYMENT","to":"EXPIRED","releaseStock":true,"needsRefund":false,"version":3,"at":"2026-01-05T13:15:01Z"}`)
	cat := &fakeCatalog{}
	f := &fakeSQS{}
	var logs bytes.Buffer
	resp, _ := newOrderHandler(t, f, cat, &logs, time.Now()).Handle(context.Background(), ev)
	if len(resp.BatchItemFailures) != 0 || len(cat.calls) != 0 || len(f.batches) != 0 || !strings.Contains(logs.String(), "names no products") {
		t.Errorf("legacy record: failures %v, %d reads, %d batches, logs:\n%s", seqs(resp), len(cat.calls), len(f.batches), logs.String())
	}

	cat = &fakeCatalog{items: map[string]map[string]types.AttributeValue{teh: product(t, teh, 3, 4, "LISTED")}}
	f, logs = &fakeSQS{}, bytes.Buffer{}
	resp, _ = newOrderHandler(t, f, cat, &logs, time.Now()).Handle(context.Background(), only(orderFixture(t), recReleased))
	got := snapshots(t, f)
	if len(resp.BatchItemFailures) != 0 || len(got) != 1 || got[teh].display.Version != 4 || !strings.Contains(logs.String(), "not in the catalog") {
		t.Errorf("missing product: failures %v, snapshots %v, logs:\n%s", seqs(resp), got, logs.String())
	}
}

// Many orders in one batch: one read for their distinct products, one snapshot each,
// all expiry messages, in full batches.
func TestManyOrdersOneRead(t *testing.T) {
	cat := &fakeCatalog{items: map[string]map[string]types.AttributeValue{}}
	var ev events.DynamoDBEvent
	base := only(orderFixture(t), recCreated).Records[0]
	for i := range 25 {
		r := base
		img := map[string]events.DynamoDBAttributeValue{}
		for k, v := range base.Change.NewImage {
			img[k] = v
		}
		p := fmt.Sprintf("p_%026d", i%7)
		p = strings.NewReplacer("0", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5", "f", "6", "g").Replace(p)
		cat.items[p] = product(t, p, int64(i%2), int64(i+1), "LISTED")
		img["payload"] = events.NewStringAttribute(`{"orderId":"` + expiredOrder + `","deadline":"2026-01-05T13:15:00Z","productIds":["` + p + `"]}`)
		r.Change = events.DynamoDBStreamRecord{SequenceNumber: fmt.Sprintf("%021d", i+1), NewImage: img}
		ev.Records = append(ev.Records, r)
	}
	f := &fakeSQS{}
	resp, _ := newOrderHandler(t, f, cat, &bytes.Buffer{}, time.Date(2026, 1, 5, 13, 0, 0, 0, time.UTC)).Handle(context.Background(), ev)
	if len(resp.BatchItemFailures) != 0 || len(cat.calls) != 1 || len(cat.keys()[0]) != 7 {
		t.Fatalf("failures %v, reads %v", seqs(resp), cat.keys())
	}
	if n := len(f.sent(expiryURL)); n != 25 {
		t.Errorf("%d expiry messages, want 25", n)
	}
	if n := len(snapshots(t, f)); n != 7 {
		t.Errorf("%d snapshots, want 7", n)
	}
	var sizes []int
	for _, b := range f.batches {
		sizes = append(sizes, len(b.Entries))
	}
	if diff := cmp.Diff([]int{10, 10, 5, 7}, sizes); diff != "" {
		t.Errorf("batch sizes (-want +got):\n%s", diff)
	}
}
