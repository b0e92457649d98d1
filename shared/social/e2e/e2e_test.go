package e2e_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/etalase/etalase/infra/localaccount"
	"github.com/etalase/etalase/infra/localrun/localtest"
	"github.com/etalase/etalase/infra/provision"
	"github.com/etalase/etalase/infra/testenv"
	"github.com/etalase/etalase/shared/contract"
)

// client is an HTTP client of the runner's one origin, as the app would be.
type client struct {
	t    *testing.T
	base string
}

type response struct {
	status  int
	body    map[string]any
	headers http.Header
	raw     string
}

func (c client) do(method, path, token, body string, headers ...string) response {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode, headers: resp.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &r.body)
	return r
}

func (c client) want(r response, statuses ...int) response {
	c.t.Helper()
	for _, s := range statuses {
		if r.status == s {
			return r
		}
	}
	c.t.Fatalf("status %d, want %v: %s", r.status, statuses, r.raw)
	return r
}

// eventually retries check until it returns nil, or fails the test with its last error.
func eventually(t *testing.T, what string, within time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s: %v", what, within, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func field(m map[string]any, path ...string) any {
	var cur any = m
	for _, p := range path {
		mm, _ := cur.(map[string]any)
		cur = mm[p]
	}
	return cur
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// outbox writes a record into commerce's OutboxTable with commerce's credentials, as
// a commerce transaction does (package outbox's storage form), and returns its event id.
func outbox(t *testing.T, db *dynamodb.Client, table, eventType, aggregateID string, payload any) string {
	t.Helper()
	body, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	id := fmt.Sprintf("%s-%s-4%s-8%s-%s", randomHex(4), randomHex(2), randomHex(2)[1:], randomHex(2)[1:], randomHex(6))
	now := time.Now().UTC()
	item, err := attributevalue.MarshalMap(map[string]any{
		"eventId": id, "eventType": eventType, "aggregateId": aggregateID, "schemaVersion": 1,
		"occurredAt": now.Format(time.RFC3339Nano), "correlationId": "e2e-" + randomHex(4),
		"payload": string(body), "expiresAt": now.Add(7 * 24 * time.Hour).Unix(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.PutItem(context.Background(), &dynamodb.PutItemInput{
		TableName: aws.String(table), Item: item, ConditionExpression: aws.String("attribute_not_exists(eventId)"),
	}); err != nil {
		t.Fatal(err)
	}
	return id
}

// outboxRecord finds the outbox record of eventType for an order (read with commerce's
// credentials) and returns its event id and payload.
func outboxRecord(t *testing.T, db *dynamodb.Client, table, eventType, orderID string) (string, []byte) {
	t.Helper()
	var found []map[string]any
	eventually(t, eventType+" in the outbox", 10*time.Second, func() error {
		found = found[:0]
		out, err := db.Scan(context.Background(), &dynamodb.ScanInput{
			TableName:                 aws.String(table),
			FilterExpression:          aws.String("eventType = :t AND aggregateId = :o"),
			ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":t": &ddbtypes.AttributeValueMemberS{Value: eventType}, ":o": &ddbtypes.AttributeValueMemberS{Value: orderID}},
		})
		if err != nil {
			return err
		}
		for _, it := range out.Items {
			var m map[string]any
			if err := attributevalue.UnmarshalMap(it, &m); err != nil {
				return err
			}
			found = append(found, m)
		}
		if len(found) != 1 {
			return fmt.Errorf("%d records", len(found))
		}
		return nil
	})
	id, _ := found[0]["eventId"].(string)
	payload, _ := found[0]["payload"].(string)
	return id, []byte(payload)
}

// TestSocialCommerceEndToEnd walks the whole flow across both accounts through the
// local runner: real function processes, the real template, both HTTP APIs on one
// origin, the OutboxTable stream, the cross-account inbox queue.
func TestSocialCommerceEndToEnd(t *testing.T) {
	r, logs := localtest.Start(t)
	ctx := context.Background()
	api := client{t: t, base: r.URL}
	commerceDB := testenv.DynamoDB(t, localaccount.Commerce)
	socialDB := testenv.DynamoDB(t, localaccount.Social)
	social, commerce := r.Resources["social"], r.Resources["commerce"]

	run := randomHex(4)
	sellerID, creatorID, buyerID, otherCreator := "seller-"+run, "creator-"+run, "buyer-"+run, "creator-other-"+run
	mint := func(sub string, scopes ...string) string {
		tok, err := r.IdP.Mint(sub, scopes, time.Hour, nil)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	seller, creator, buyer, other := mint(sellerID, "seller"), mint(creatorID, "creator"), mint(buyerID, "buyer"), mint(otherCreator, "creator")

	// 1. A seller lists a product in commerce; the relay carries ProductListed to social.
	created := api.want(api.do("POST", "/commerce/v1/products", seller,
		`{"title":"Kopi Arabika Gayo 250 g","description":"Sangrai medium","imageUrl":"/assets/kopi.jpg","price":{"amount":85000,"currency":"IDR"},"stock":10}`), 201)
	productID := created.body["productId"].(string)
	snapshot := func() (map[string]any, error) {
		out, err := socialDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(social.Tables["SnapshotsTable"].Name),
			Key: map[string]ddbtypes.AttributeValue{"productId": &ddbtypes.AttributeValueMemberS{Value: productID}}})
		if err != nil {
			return nil, err
		}
		var m map[string]any
		if err := attributevalue.UnmarshalMap(out.Item, &m); err != nil || len(m) == 0 {
			return nil, errors.New("no snapshot yet")
		}
		return m, nil
	}
	eventually(t, "the listed product reaches social", 30*time.Second, func() error {
		s, err := snapshot()
		if err != nil {
			return err
		}
		if s["title"] != "Kopi Arabika Gayo 250 g" || s["priceAmount"] != 85000.0 || s["inStock"] != true {
			return fmt.Errorf("snapshot %v", s)
		}
		return nil
	})
	// A price change follows as ProductUpdated (version 2).
	api.want(api.do("PATCH", "/commerce/v1/products/"+productID, seller, `{"price":{"amount":79000,"currency":"IDR"}}`), 200)
	eventually(t, "the new price reaches social", 30*time.Second, func() error {
		s, err := snapshot()
		if err != nil || s["version"] != 2.0 || s["priceAmount"] != 79000.0 {
			return fmt.Errorf("snapshot %v, %v", s, err)
		}
		return nil
	})

	// 2. A creator promotes it; it is in the public feed with its product.
	promo := api.want(api.do("POST", "/social/v1/promotions", creator, fmt.Sprintf(
		`{"productId":%q,"kind":"video","caption":"Kopi pagi","mediaUrl":"https://cdn.etalase.example/v/kopi.mp4","commissionBps":1000,"endsAt":%q}`,
		productID, time.Now().Add(48*time.Hour).UTC().Format(time.RFC3339))), 201)
	promotionID := promo.body["promotionId"].(string)
	eventually(t, "the promotion is in the feed", 10*time.Second, func() error {
		feed := api.want(api.do("GET", "/social/v1/feed?limit=50", "", ""), 200)
		for _, it := range feed.body["items"].([]any) {
			m := it.(map[string]any)
			if m["promotionId"] == promotionID {
				if field(m, "product", "price", "amount") != 79000.0 || field(m, "product", "title") != "Kopi Arabika Gayo 250 g" {
					return fmt.Errorf("feed item %v", m)
				}
				return nil
			}
		}
		return errors.New("not in the feed")
	})
	// Another creator can neither change it nor read this creator's earnings.
	api.want(api.do("PATCH", "/social/v1/promotions/"+promotionID, other, `{"status":"ENDED"}`), 404)
	api.want(api.do("GET", "/social/v1/creators/"+creatorID+"/earnings", other, ""), 404)

	// 3. A viewer takes a hand-off (no account needed) and the buyer adds it to the
	// commerce cart, on the same origin; commerce prices it from its own catalog.
	ho := api.want(api.do("POST", "/social/v1/promotions/"+promotionID+"/handoff", "", ""), 200)
	if field(ho.body, "commerce", "addToCart", "path") != "/commerce/v1/cart/items" {
		t.Fatalf("hand-off = %s", ho.raw)
	}
	added := api.want(api.do("POST", "/commerce/v1/cart/items", buyer,
		fmt.Sprintf(`{"handoffToken":%q,"quantity":2}`, ho.body["token"])), 200, 201)
	if field(added.body, "line", "attribution", "promotionId") != promotionID || field(added.body, "line", "attribution", "creatorId") != creatorID ||
		field(added.body, "line", "unitPrice", "amount") != 79000.0 {
		t.Fatalf("cart line = %s", added.raw)
	}
	// A guest can do the same.
	ho2 := api.want(api.do("POST", "/social/v1/promotions/"+promotionID+"/handoff", "", ""), 200)
	guest := api.want(api.do("POST", "/commerce/v1/guest-cart/items", "", fmt.Sprintf(`{"handoffToken":%q,"quantity":1}`, ho2.body["token"])), 200, 201)
	guestCartID := guest.headers.Get("X-Cart-Id")
	if field(guest.body, "line", "attribution", "promotionId") != promotionID {
		t.Fatalf("guest cart line = %s", guest.raw)
	}

	// 4. The buyer checks out and pays in the payment sandbox; the webhook, the payments
	// consumer and the relay carry the paid sale to social as SaleAttributed, naming the
	// order only by its opaque reference.
	outboxTable := commerce.Tables["OutboxTable"].Name
	placed := api.want(api.do("POST", "/commerce/v1/checkout", buyer, `{"provider":"midtrans"}`, "Idempotency-Key", "e2e-social-"+run), 201)
	orderID, _ := placed.body["orderId"].(string)
	if orderID == "" || field(placed.body, "amount", "amount") != 158000.0 {
		t.Fatalf("checkout = %s", placed.raw)
	}
	pay := func(status string) {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"provider": "midtrans", "orderId": orderID, "status": status})
		res := api.want(api.do("POST", "/_local/pay/control/notify", "", string(body)), 200)
		for _, d := range res.body["deliveries"].([]any) {
			if st := field(d.(map[string]any), "responseStatus"); st != 200.0 {
				t.Fatalf("the webhook answered %v to the %s notification: %s", st, status, res.raw)
			}
		}
	}
	orderStatus := func(want string) func() error {
		return func() error {
			o := api.do("GET", "/commerce/v1/orders/"+orderID, buyer, "")
			if o.body["status"] != want {
				return fmt.Errorf("order %s: %s", orderID, o.raw)
			}
			return nil
		}
	}
	pay("settlement")
	eventually(t, "the order is paid", 30*time.Second, orderStatus("PAID"))
	earnings := func(want map[string]float64) func() error {
		return func() error {
			e := api.do("GET", "/social/v1/creators/"+creatorID+"/earnings", creator, "")
			if e.status != 200 {
				return fmt.Errorf("status %d", e.status)
			}
			list, _ := e.body["earnings"].([]any)
			if len(list) != 1 {
				return fmt.Errorf("earnings %s", e.raw)
			}
			got := list[0].(map[string]any)
			for k, v := range want {
				if got[k] != v {
					return fmt.Errorf("%s = %v, want %v (%s)", k, got[k], v, e.raw)
				}
			}
			return nil
		}
	}
	// 158000 × 1000 bps = 15800, floor.
	eventually(t, "the commission shows in the creator's earnings", 30*time.Second,
		earnings(map[string]float64{"sales": 1, "units": 2, "salesAmount": 158000, "commission": 15800, "net": 15800}))
	own := api.want(api.do("GET", "/social/v1/creator/promotions", creator, ""), 200)
	mine := own.body["items"].([]any)[0].(map[string]any)
	if mine["clicks"] != 2.0 || field(mine, "sales", "count") != 1.0 || field(mine, "earnings", "net") != 15800.0 {
		t.Errorf("own promotion = %v", mine)
	}

	// The relay retries, so social may get the same event twice: applied once. The
	// duplicate is the payment transaction's own outbox record, sent again.
	inboxURL := social.Queues["SocialInboxQueue"].URL
	saleEventID, payload := outboxRecord(t, commerceDB, outboxTable, contract.EventSaleAttributed, orderID)
	var sale contract.SaleAttributed
	if err := json.Unmarshal(payload, &sale); err != nil {
		t.Fatal(err)
	}
	if sale.PromotionID != promotionID || sale.CreatorID != creatorID || sale.Quantity != 2 || sale.Amount.Amount != 158000 ||
		!strings.HasPrefix(sale.OrderRef, "or_") || strings.Contains(string(payload), orderID) {
		t.Fatalf("SaleAttributed = %s", payload)
	}
	dup, _ := json.Marshal(contract.Envelope{EventID: saleEventID, Type: contract.EventSaleAttributed, SchemaVersion: 1,
		OccurredAt: time.Now().UTC(), CorrelationID: "redelivery", Payload: payload})
	commerceSQS := testenv.SQS(t, localaccount.Commerce)
	if _, err := commerceSQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(inboxURL), MessageBody: aws.String(string(dup))}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the duplicate is consumed", 30*time.Second, func() error {
		if !strings.Contains(logs.String(), `"outcome":"duplicate"`) {
			return errors.New("no duplicate outcome logged yet")
		}
		return nil
	})
	eventually(t, "earnings unchanged by the duplicate", 5*time.Second,
		earnings(map[string]float64{"sales": 1, "commission": 15800, "net": 15800}))

	// A record that breaks the contract (a buyer's email in the payload) never leaves
	// commerce: the relay withholds it.
	leak := map[string]any{}
	_ = json.Unmarshal(payload, &leak)
	leakRef, _ := contract.NewOrderRef()
	leak["orderRef"], leak["buyerEmail"] = leakRef, "siti."+run+"@example.id"
	outbox(t, commerceDB, outboxTable, contract.EventSaleAttributed, orderID, leak)
	eventually(t, "the relay withholds the leaky record", 30*time.Second, func() error {
		if !strings.Contains(logs.String(), "withheld from social") {
			return errors.New("not yet")
		}
		return nil
	})

	// 5. The provider refunds the payment in full: the order becomes REFUNDED and the
	// relay carries SaleReversed, which takes back exactly the commission paid.
	pay("refund")
	eventually(t, "the order is refunded", 30*time.Second, orderStatus("REFUNDED"))
	eventually(t, "the refund reverses the commission", 30*time.Second,
		earnings(map[string]float64{"sales": 1, "commission": 15800, "refunds": 1, "reversedCommission": 15800, "net": 0}))

	// 6. The seller delists the product: its promotion ends and leaves the feed.
	api.want(api.do("DELETE", "/commerce/v1/products/"+productID, seller, ""), 200)
	eventually(t, "the promotion ends with its product", 30*time.Second, func() error {
		p := api.want(api.do("GET", "/social/v1/promotions/"+promotionID, "", ""), 200)
		if p.body["state"] != "ENDED" || field(p.body, "product", "listed") != false {
			return fmt.Errorf("promotion %s", p.raw)
		}
		return nil
	})
	api.want(api.do("POST", "/social/v1/promotions/"+promotionID+"/handoff", "", ""), 409)

	// 7. The boundary in the data: scanned with social's credentials, social's tables
	// hold no order, payment or buyer data, and commerce's tables are out of sight.
	scanSocial(t, socialDB, social.Tables, []string{buyerID, orderID, "siti." + run, guestCartID, "Bearer"})
	for id, tb := range commerce.Tables {
		_, err := socialDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(tb.Name)})
		var nf *ddbtypes.ResourceNotFoundException
		if !errors.As(err, &nf) {
			t.Errorf("social's credentials see commerce's %s: %v", id, err)
		}
	}
	checkQueuesEmpty(t, testenv.SQS(t, localaccount.Social), inboxURL, social.Queues["SocialInboxDLQ"].URL)

	for _, fn := range []string{"[commerce/CommerceRelayFunction] REPORT", "[social/SocialInboxFunction] REPORT", "[social/SocialPromotionFunction] REPORT"} {
		if !strings.Contains(logs.String(), fn) {
			t.Errorf("no %q line: the function did not run", fn)
		}
	}
}

// scanSocial reads every item of every social table and fails on an attribute whose
// name suggests buyer identity, an address, payment data or an order id, and on any
// value containing one of the forbidden strings.
func scanSocial(t *testing.T, db *dynamodb.Client, tables map[string]provision.Table, forbidden []string) {
	t.Helper()
	items := 0
	for id, tb := range tables {
		var start map[string]ddbtypes.AttributeValue
		for {
			out, err := db.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(tb.Name), ExclusiveStartKey: start})
			if err != nil {
				t.Fatalf("scan %s with social's credentials: %v", id, err)
			}
			for _, it := range out.Items {
				items++
				var m map[string]any
				if err := attributevalue.UnmarshalMap(it, &m); err != nil {
					t.Fatal(err)
				}
				for name, v := range m {
					if c, bad := contract.ForbiddenField(name); bad {
						t.Errorf("%s holds attribute %s (%s): %v", id, name, c, m)
					}
					s := fmt.Sprint(v)
					for _, f := range forbidden {
						if f != "" && strings.Contains(s, f) {
							t.Errorf("%s.%s holds %q: %v", id, name, f, m)
						}
					}
				}
			}
			if len(out.LastEvaluatedKey) == 0 {
				break
			}
			start = out.LastEvaluatedKey
		}
	}
	if items == 0 {
		t.Error("the social tables are empty: the scan proved nothing")
	}
	t.Logf("scanned %d items in %d social tables", items, len(tables))
}

// checkQueuesEmpty waits for the inbox to drain and checks nothing was dead-lettered.
func checkQueuesEmpty(t *testing.T, q *sqs.Client, inbox, dlq string) {
	t.Helper()
	count := func(url string) (int, error) {
		out, err := q.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
			AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
		if err != nil {
			return 0, err
		}
		n := 0
		for _, v := range out.Attributes {
			var k int
			fmt.Sscan(v, &k)
			n += k
		}
		return n, nil
	}
	eventually(t, "the inbox drains", 30*time.Second, func() error {
		n, err := count(inbox)
		if err == nil && n != 0 {
			err = fmt.Errorf("%d messages left", n)
		}
		return err
	})
	if n, err := count(dlq); err != nil || n != 0 {
		t.Errorf("dead-letter queue: %d messages, %v", n, err)
	}
}
