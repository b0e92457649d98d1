package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/etalase/etalase/infra/testenv"
	"github.com/etalase/etalase/shared/platform/envconfig"
)

func TestConfig(t *testing.T) {
	env := map[string]string{
		"SOCIAL_INBOX_QUEUE_URL": "https://sqs.ap-southeast-3.amazonaws.com/111111111111/etalase-social-inbox",
		"EXPIRY_QUEUE_URL":       "https://sqs.ap-southeast-3.amazonaws.com/222222222222/etalase-commerce-expiry",
		"CATALOG_TABLE":          "etalase-CatalogTable",
		"AWS_REGION":             "ap-southeast-3", "AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "SK",
		"AWS_ENDPOINT_URL_SQS": "http://127.0.0.1:9324", "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:8000",
	}
	var cfg Config
	if err := envconfig.LoadFrom(func(k string) (string, bool) { v, ok := env[k]; return v, ok }, &cfg); err != nil {
		t.Fatal(err)
	}
	want := Config{SocialInboxQueueURL: env["SOCIAL_INBOX_QUEUE_URL"], ExpiryQueueURL: env["EXPIRY_QUEUE_URL"], CatalogTable: "etalase-CatalogTable", LogLevel: "INFO"}
	want.Region, want.AccessKeyID, want.SecretAccessKey = "ap-southeast-3", "AK", "SK"
	want.SQSEndpoint, want.DynamoDBEndpoint = "http://127.0.0.1:9324", "http://127.0.0.1:8000"
	if cfg != want {
		t.Errorf("cfg = %+v", cfg)
	}
	if _, err := setupFrom(cfg); err != nil {
		t.Errorf("setup with a full config: %v", err)
	}
	err := envconfig.LoadFrom(func(string) (string, bool) { return "", false }, &cfg)
	for _, v := range []string{"SOCIAL_INBOX_QUEUE_URL", "EXPIRY_QUEUE_URL", "CATALOG_TABLE", "AWS_REGION"} {
		if err == nil || !strings.Contains(err.Error(), v) {
			t.Errorf("missing variables: err = %v, want %s named", err, v)
		}
	}
}

// fakeAWS answers SQS's SendMessageBatch and DynamoDB's BatchGetItem (AWS JSON
// protocols) and records the calls, as "Target body" lines.
type fakeAWS struct {
	mu    sync.Mutex
	calls []string
	// preconnects counts the GETs that open a client's connection at cold start.
	preconnects int
	// item is the one product BatchGetItem finds.
	item map[string]any
}

func (f *fakeAWS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet {
		// A client's connection opened at cold start (dynamoconn, sqsconn): no API call.
		f.mu.Lock()
		f.preconnects++
		f.mu.Unlock()
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	body, _ := io.ReadAll(r.Body)
	target := r.Header.Get("X-Amz-Target")
	f.mu.Lock()
	f.calls = append(f.calls, target+" "+string(body))
	f.mu.Unlock()
	var in struct {
		Entries      []struct{ Id string }
		RequestItems map[string]any
	}
	_ = json.Unmarshal(body, &in)
	var out any
	switch target {
	case "AmazonSQS.SendMessageBatch":
		ok := []map[string]string{}
		for _, e := range in.Entries {
			ok = append(ok, map[string]string{"Id": e.Id, "MessageId": "m-" + e.Id})
		}
		out = map[string]any{"Successful": ok, "Failed": []any{}}
	case "DynamoDB_20120810.BatchGetItem":
		resp := map[string]any{}
		for table := range in.RequestItems {
			resp[table] = []any{f.item}
		}
		out = map[string]any{"Responses": resp, "UnprocessedKeys": map[string]any{}}
	default:
		http.Error(w, "unexpected "+target, http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	_ = json.NewEncoder(w).Encode(out)
}

// The wiring: an OrderCreated record becomes the order's expiry message on the
// configured ExpiryQueue and, after a read of the configured CatalogTable, the
// product's snapshot on the social inbox.
func TestSetupRoutesOrderCreated(t *testing.T) {
	fake := &fakeAWS{item: map[string]any{
		"productId": map[string]string{"S": "p_rocsknolsez4jj42y44l7ga3ou"}, "sellerId": map[string]string{"S": "seller-1"},
		"title": map[string]string{"S": "Kopi"}, "imageUrl": map[string]string{"S": "/i.jpg"},
		"priceAmount": map[string]string{"N": "85000"}, "priceCurrency": map[string]string{"S": "IDR"},
		"stock": map[string]string{"N": "0"}, "status": map[string]string{"S": "LISTED"}, "version": map[string]string{"N": "7"},
		"updatedAt": map[string]string{"S": "2026-01-05T13:00:00.000000000Z"},
	}}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	cfg := Config{SocialInboxQueueURL: "https://sqs.example/111111111111/inbox", ExpiryQueueURL: "https://sqs.example/222222222222/expiry",
		CatalogTable: "catalog-table", LogLevel: "ERROR"}
	cfg.Region, cfg.AccessKeyID, cfg.SecretAccessKey, cfg.SQSEndpoint, cfg.DynamoDBEndpoint = "ap-southeast-3", "AK", "SK", srv.URL, srv.URL
	h, err := setupFrom(cfg)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	payload, _ := json.Marshal(map[string]any{"orderId": "o_mfrggzdfmztwq2lknnwg23tpob", "deadline": deadline, "productIds": []string{"p_rocsknolsez4jj42y44l7ga3ou"}})
	s := events.NewStringAttribute
	resp, err := h.Handle(context.Background(), events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{{
		EventName: "INSERT",
		Change: events.DynamoDBStreamRecord{SequenceNumber: "1", NewImage: map[string]events.DynamoDBAttributeValue{
			"eventId": s("9d8c7b6a-5e4f-4a3b-8c2d-1e0f9a8b7c66"), "eventType": s("OrderCreated"), "aggregateId": s("o_mfrggzdfmztwq2lknnwg23tpob"),
			"schemaVersion": events.NewNumberAttribute("1"), "occurredAt": s(time.Now().UTC().Format(time.RFC3339Nano)),
			"payload": s(string(payload)), "expiresAt": events.NewNumberAttribute("1767831000"),
		}},
	}}})
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("Handle = %+v, %v", resp, err)
	}
	calls := strings.Join(fake.calls, "\n")
	for _, want := range []string{
		`DynamoDB_20120810.BatchGetItem {"RequestItems":{"catalog-table":`,
		`AmazonSQS.SendMessageBatch {"Entries":[{"DelaySeconds":900,"Id":"0","MessageBody":"{\"orderId\":\"o_mfrggzdfmztwq2lknnwg23tpob\"`,
		`"QueueUrl":"https://sqs.example/222222222222/expiry"`,
		`\"type\":\"ProductUpdated\"`, `\"inStock\":false,\"version\":7`, `"QueueUrl":"https://sqs.example/111111111111/inbox"`,
	} {
		if !strings.Contains(calls, want) {
			t.Errorf("no %s in the calls:\n%s", want, calls)
		}
	}
	if len(fake.calls) != 3 {
		t.Errorf("%d calls, want a read and two sends:\n%s", len(fake.calls), calls)
	}
	// Both clients opened their connection at cold start.
	for end := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		fake.mu.Lock()
		n := fake.preconnects
		fake.mu.Unlock()
		if n == 2 || time.Now().After(end) {
			if n != 2 {
				t.Errorf("%d connections opened at cold start, want one per client", n)
			}
			break
		}
	}
}

// Without its configuration the function fails at init, non-zero, with one JSON log line.
func TestInitFailsWithoutConfig(t *testing.T) {
	testenv.InitFails(t, main, []string{"AWS_REGION=ap-southeast-3"}, "commerce-relay", "SOCIAL_INBOX_QUEUE_URL is required")
}
