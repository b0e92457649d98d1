package relay_test

// Integration tests against the emulators: the relay publishes the fixture's records
// to the social inbox queue as the template creates it, and a queue that does not exist
// makes it report the records for the stream to retry; and the order records, written
// by the real stores and read from the real OutboxTable stream, become expiry messages
// and stock snapshots.

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/etalase/etalase/infra/localaccount"
	"github.com/etalase/etalase/infra/localrun/sources"
	"github.com/etalase/etalase/infra/provision"
	"github.com/etalase/etalase/infra/samtemplate"
	"github.com/etalase/etalase/infra/testenv"
	"github.com/etalase/etalase/infra/testenv/ddbcount"
	"github.com/etalase/etalase/shared/commerce/cart"
	"github.com/etalase/etalase/shared/commerce/catalog"
	"github.com/etalase/etalase/shared/commerce/expiry"
	"github.com/etalase/etalase/shared/commerce/money"
	"github.com/etalase/etalase/shared/commerce/order"
	"github.com/etalase/etalase/shared/commerce/orders"
	"github.com/etalase/etalase/shared/commerce/relay"
	"github.com/etalase/etalase/shared/contract"
	"github.com/etalase/etalase/shared/contract/schemacheck"
)

func TestPublishToTheEmulatedInbox(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	social := testenv.SQS(t, localaccount.Social)
	tpl, err := samtemplate.Load("../../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	res, err := provision.Provision(ctx, provision.Options{
		Template: tpl, Account: localaccount.Social,
		Params: map[string]string{"JwtIssuer": "https://id.etalase.example", "JwtAudience": "etalase"},
		Prefix: testenv.Prefix(t), DynamoDB: testenv.DynamoDB(t, localaccount.Social), SQS: social,
	})
	if err != nil {
		t.Fatal(err)
	}
	inbox := res.Queues["SocialInboxQueue"].URL
	t.Cleanup(func() {
		for _, q := range res.Queues {
			_, _ = social.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: aws.String(q.URL)})
		}
	})

	// The relay sends with the commerce account's client, as across accounts.
	commerce := testenv.SQS(t, localaccount.Commerce)
	v, err := schemacheck.New()
	if err != nil {
		t.Fatal(err)
	}
	h, err := relay.NewHandler(commerce, inbox, v, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := h.Handle(ctx, fixture(t))
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("Handle = %v, %v", seqs(resp), err)
	}
	got := map[string]string{}
	for len(got) < 2 {
		out, err := social.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(inbox), MaxNumberOfMessages: 10,
			WaitTimeSeconds: 2, MessageAttributeNames: []string{"All"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			t.Fatalf("received %d of 2 messages", len(got))
		}
		for _, m := range out.Messages {
			if err := v.ValidateMessage([]byte(aws.ToString(m.Body))); err != nil {
				t.Errorf("received message breaks the contract: %v", err)
			}
			got[aws.ToString(m.MessageAttributes[contract.MessageAttributeType].StringValue)] = aws.ToString(m.Body)
		}
	}
	if got[contract.EventProductListed] == "" || got[contract.EventSaleAttributed] == "" {
		t.Errorf("received types %v", got)
	}

	// An unreachable queue: every record is reported for the stream to retry.
	h, err = relay.NewHandler(commerce, inbox+"-missing", v, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	resp, _ = h.Handle(ctx, fixture(t))
	if len(resp.BatchItemFailures) != 2 {
		t.Errorf("failures = %v, want the two sendable records", seqs(resp))
	}
}

// world is both accounts' resources from the template, for the order records' test.
type world struct {
	db       *dynamodb.Client // commerce
	streams  *dynamodbstreams.Client
	commerce *provision.Resources
	inbox    string
	social   *sqs.Client
	sqs      *sqs.Client // commerce
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	tpl, err := samtemplate.Load("../../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	params := map[string]string{"JwtIssuer": "https://id.etalase.example", "JwtAudience": "etalase"}
	prefix := testenv.Prefix(t)
	w := &world{db: testenv.DynamoDB(t, localaccount.Commerce), social: testenv.SQS(t, localaccount.Social), sqs: testenv.SQS(t, localaccount.Commerce)}
	socialRes, err := provision.Provision(ctx, provision.Options{Template: tpl, Account: localaccount.Social, Params: params, Prefix: prefix,
		DynamoDB: testenv.DynamoDB(t, localaccount.Social), SQS: w.social})
	if err != nil {
		t.Fatal(err)
	}
	w.commerce, err = provision.Provision(ctx, provision.Options{Template: tpl, Account: localaccount.Commerce, Params: params, Prefix: prefix,
		DynamoDB: w.db, SQS: w.sqs})
	if err != nil {
		t.Fatal(err)
	}
	w.inbox = socialRes.Queues["SocialInboxQueue"].URL
	t.Cleanup(func() {
		ctx := context.Background()
		for _, q := range socialRes.Queues {
			_, _ = w.social.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(q.URL)})
		}
		for _, q := range w.commerce.Queues {
			_, _ = w.sqs.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(q.URL)})
		}
		for _, tb := range w.commerce.Tables {
			_, _ = w.db.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(tb.Name)})
		}
	})
	endpoint, _ := testenv.Endpoints(t)
	w.streams = dynamodbstreams.NewFromConfig(testenv.AWSConfig(t, localaccount.Commerce), func(o *dynamodbstreams.Options) { o.BaseEndpoint = aws.String(endpoint) })
	return w
}

func (w *world) table(id string) string { return w.commerce.Tables[id].Name }

// stream returns the OutboxTable stream's records after sequence number after (""
// for all), as Lambda's event, waiting up to 10 s until there are at least n.
func (w *world) stream(t *testing.T, after string, n int) events.DynamoDBEvent {
	t.Helper()
	ctx := context.Background()
	arn := w.commerce.Tables["OutboxTable"].StreamArn
	less := func(a, b string) bool { return len(a) < len(b) || len(a) == len(b) && a < b }
	deadline := time.Now().Add(10 * time.Second)
	for {
		desc, err := w.streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(arn)})
		if err != nil {
			t.Fatal(err)
		}
		var recs []streamtypes.Record
		for _, sh := range desc.StreamDescription.Shards {
			it, err := w.streams.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(arn),
				ShardId: sh.ShardId, ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon})
			if err != nil {
				t.Fatal(err)
			}
			for iter := it.ShardIterator; iter != nil; {
				out, err := w.streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter})
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range out.Records {
					if after == "" || less(after, aws.ToString(r.Dynamodb.SequenceNumber)) {
						recs = append(recs, r)
					}
				}
				if len(out.Records) == 0 {
					break
				}
				iter = out.NextShardIterator
			}
		}
		slices.SortFunc(recs, func(a, b streamtypes.Record) int {
			x, y := aws.ToString(a.Dynamodb.SequenceNumber), aws.ToString(b.Dynamodb.SequenceNumber)
			if x == y {
				return 0
			}
			if less(x, y) {
				return -1
			}
			return 1
		})
		if len(recs) >= n || time.Now().After(deadline) {
			return sources.DynamoDBEvent(recs, arn, localaccount.Region)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// receive returns (and deletes) the messages of a queue, waiting up to within until
// there are n.
func receive(t *testing.T, q *sqs.Client, url string, n int, within time.Duration) []sqstypes.Message {
	t.Helper()
	var got []sqstypes.Message
	deadline := time.Now().Add(within)
	for len(got) < n && time.Now().Before(deadline) {
		out, err := q.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10,
			WaitTimeSeconds: 1, MessageAttributeNames: []string{"All"}})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			got = append(got, m)
			_, _ = q.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle})
		}
	}
	return got
}

// catalogEvents decodes the social inbox's messages: their display snapshots by type.
func catalogEvents(t *testing.T, v *schemacheck.Validator, msgs []sqstypes.Message) map[string][]contract.ProductDisplay {
	t.Helper()
	out := map[string][]contract.ProductDisplay{}
	for _, m := range msgs {
		body := aws.ToString(m.Body)
		if err := v.ValidateMessage([]byte(body)); err != nil {
			t.Errorf("message breaks the contract: %v", err)
		}
		var env contract.Envelope
		var d contract.ProductDisplay
		if err := json.Unmarshal([]byte(body), &env); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(env.Payload, &d); err != nil {
			t.Fatal(err)
		}
		out[env.Type] = append(out[env.Type], d)
	}
	return out
}

// The order records through the emulators, with the real stores writing them and the
// real OutboxTable stream delivering them: a committed order — with no checkout
// function involved at all, as if it had died right after the commit — gets its
// expiry message on ExpiryQueue; the reservation of the last unit publishes the
// product as out of stock at its current version, and the cancellation's release as
// in stock again.
func TestOrderRecordsThroughTheEmulators(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t)
	cat := catalog.NewService(catalog.NewDynamoStore(w.db, w.table("CatalogTable"), w.table("OutboxTable")))
	carts := cart.NewService(cart.NewDynamoStore(w.db, w.table("CartTable"), w.table("CatalogTable")), contract.HandoffVerifier{})
	store := orders.NewStore(w.db, orders.Tables{Orders: w.table("OrdersTable"), Catalog: w.table("CatalogTable"), Cart: w.table("CartTable"),
		Ledger: w.table("LedgerTable"), Outbox: w.table("OutboxTable")})
	p, err := cat.Create(ctx, "seller-relay", catalog.NewProduct{Title: "Kopi Gayo", ImageURL: "/assets/kopi.jpg",
		Price: money.Money{Amount: 85000, Currency: "IDR"}, Stock: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := carts.Add(ctx, cart.Buyer("buyer-relay"), cart.AddInput{ProductID: p.ID, Quantity: 1}); err != nil {
		t.Fatal(err)
	}
	o, err := store.Checkout(ctx, orders.CheckoutInput{BuyerID: "buyer-relay", Window: 2 * time.Second, Provider: "xendit"})
	if err != nil {
		t.Fatal(err)
	}

	v, err := schemacheck.New()
	if err != nil {
		t.Fatal(err)
	}
	count := ddbcount.New()
	expiryURL := w.commerce.Queues["ExpiryQueue"].URL
	h, err := relay.NewHandler(w.sqs, w.inbox, v, slog.New(slog.DiscardHandler),
		relay.WithExpiryQueue(expiryURL), relay.WithStockSnapshots(count.Wrap(w.db), w.table("CatalogTable")))
	if err != nil {
		t.Fatal(err)
	}
	ev := w.stream(t, "", 2) // ProductListed, OrderCreated
	if len(ev.Records) != 2 {
		t.Fatalf("%d stream records, want ProductListed and OrderCreated", len(ev.Records))
	}
	resp, _ := h.Handle(ctx, ev)
	if len(resp.BatchItemFailures) != 0 {
		t.Fatalf("failures %v", seqs(resp))
	}
	if got := count.Take().String(); got != "BatchGetItem=1" {
		t.Errorf("catalog reads %s, want BatchGetItem=1", got)
	}

	// The expiry message, exactly what the expiry consumer reads, due at the deadline.
	msgs := receive(t, w.sqs, expiryURL, 1, 10*time.Second)
	if len(msgs) != 1 {
		t.Fatalf("%d expiry messages, want 1", len(msgs))
	}
	m, err := expiry.Parse(aws.ToString(msgs[0].Body))
	if err != nil || m.OrderID != o.ID || !m.Deadline.Equal(o.Deadline) {
		t.Errorf("expiry message %s = %+v, %v; want order %s due %v", aws.ToString(msgs[0].Body), m, err, o.ID, o.Deadline)
	}

	// Social: the listing (version 1, in stock), then the reservation's snapshot:
	// version 2 (the reservation bumped it), out of stock, the catalog's display data.
	got := catalogEvents(t, v, receive(t, w.social, w.inbox, 2, 10*time.Second))
	current, err := cat.Get(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := contract.ProductDisplay{ProductID: p.ID, SellerID: "seller-relay", Title: "Kopi Gayo", ImageURL: "/assets/kopi.jpg",
		Price: contract.Price{Amount: 85000, Currency: "IDR"}, InStock: false, Version: current.Version}
	if current.Version != 2 || current.Stock != 0 {
		t.Errorf("product after the reservation: %+v", current)
	}
	if diff := cmp.Diff(map[string][]contract.ProductDisplay{
		contract.EventProductListed:  {{ProductID: p.ID, SellerID: "seller-relay", Title: "Kopi Gayo", ImageURL: "/assets/kopi.jpg", Price: want.Price, InStock: true, Version: 1}},
		contract.EventProductUpdated: {want},
	}, got); diff != "" {
		t.Errorf("social inbox (-want +got):\n%s", diff)
	}

	// The buyer cancels: the release's OrderStatusChanged brings it back in stock.
	if _, err := store.Apply(ctx, o.ID, order.Cancel, orders.LedgerEvent{}); err != nil {
		t.Fatal(err)
	}
	last := ev.Records[len(ev.Records)-1].Change.SequenceNumber
	ev = w.stream(t, last, 1)
	if len(ev.Records) != 1 {
		t.Fatalf("%d new stream records, want the OrderStatusChanged", len(ev.Records))
	}
	if resp, _ := h.Handle(ctx, ev); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("failures %v", seqs(resp))
	}
	want.InStock, want.Version = true, 3
	if diff := cmp.Diff(map[string][]contract.ProductDisplay{contract.EventProductUpdated: {want}},
		catalogEvents(t, v, receive(t, w.social, w.inbox, 1, 10*time.Second))); diff != "" {
		t.Errorf("after the cancellation (-want +got):\n%s", diff)
	}
	if extra := receive(t, w.sqs, expiryURL, 1, 2*time.Second); len(extra) != 0 {
		t.Errorf("the cancellation sent an expiry message: %v", aws.ToString(extra[0].Body))
	}
}
