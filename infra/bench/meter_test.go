package bench

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// fakeDynamo answers the few operations the meter's test sends, from a store of items
// keyed by table and key value, and remembers what it received.
type fakeDynamo struct {
	mu       sync.Mutex
	items    map[string]map[string]Item // table → key value → item
	received []map[string]any
	targets  []string
	gets     int // GET / health checks
}

func (f *fakeDynamo) key(table string, key Item) string {
	k := "orderId"
	if table == "outbox" {
		k = "eventId"
	}
	v, _ := key[k].(map[string]any)
	s, _ := v["S"].(string)
	return s
}

func (f *fakeDynamo) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Method == http.MethodGet {
		f.gets++
		w.Write([]byte("healthy: dynamodb.ap-southeast-3.amazonaws.com"))
		return
	}
	body, _ := io.ReadAll(r.Body)
	var req map[string]any
	_ = json.Unmarshal(body, &req)
	op := operation(r)
	f.received = append(f.received, req)
	f.targets = append(f.targets, op+" "+accessKey(r.Header.Get("Authorization")))
	answer := func(status int, v any) {
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(v)
	}
	switch op {
	case "DescribeTable":
		if req["TableName"] == "outbox" {
			answer(200, map[string]any{"Table": map[string]any{"KeySchema": []any{map[string]any{"AttributeName": "eventId"}}}})
			return
		}
		answer(200, map[string]any{"Table": map[string]any{
			"KeySchema": []any{map[string]any{"AttributeName": "orderId"}},
			"GlobalSecondaryIndexes": []any{map[string]any{
				"IndexName": "byStatus", "KeySchema": []any{map[string]any{"AttributeName": "status"}},
				"Projection": map[string]any{"ProjectionType": "KEYS_ONLY"},
			}},
		}})
	case "GetItem":
		answer(200, map[string]any{"Item": map[string]any{}, "ConsumedCapacity": map[string]any{"CapacityUnits": 0.5}})
	case "BatchGetItem":
		resp := map[string][]Item{}
		for table, v := range req["RequestItems"].(map[string]any) {
			for _, k := range v.(map[string]any)["Keys"].([]any) {
				if it, ok := f.items[table][f.key(table, Item(k.(map[string]any)))]; ok {
					resp[table] = append(resp[table], it)
				}
			}
		}
		answer(200, map[string]any{"Responses": resp})
	case "TransactWriteItems":
		for _, e := range req["TransactItems"].([]any) {
			em := e.(map[string]any)
			if p, ok := em["Put"].(map[string]any); ok {
				table := p["TableName"].(string)
				f.items[table][f.key(table, Item(p["Item"].(map[string]any)))] = Item(p["Item"].(map[string]any))
			}
			if u, ok := em["Update"].(map[string]any); ok {
				// The one update of the test: the order becomes PAID.
				it := f.items["orders"]["o_1"]
				it["status"] = map[string]any{"S": "PAID"}
				_ = u
			}
		}
		answer(200, map[string]any{"ConsumedCapacity": []any{map[string]any{"TableName": "orders", "CapacityUnits": 12}}})
	case "PutItem":
		answer(400, map[string]any{"__type": "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException", "message": "The conditional request failed"})
	default:
		answer(400, map[string]any{"__type": "UnknownOperationException"})
	}
}

// post sends a JSON request to a meter endpoint as a function's SDK would.
func post(t *testing.T, url, target, body string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Target", target)
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=commercekey/20261123/ap-southeast-3/dynamodb/aws4_request, SignedHeaders=host, Signature=00")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func TestMeterCounts(t *testing.T) {
	big := strings.Repeat("x", 1500)
	dynamo := &fakeDynamo{items: map[string]map[string]Item{
		"orders": {"o_1": {"orderId": map[string]any{"S": "o_1"}, "status": map[string]any{"S": "PENDING_PAYMENT"}, "lines": map[string]any{"S": big}}},
		"outbox": {},
	}}
	dsrv := httptest.NewServer(dynamo)
	defer dsrv.Close()
	var sqsBodies []string
	qsrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		sqsBodies = append(sqsBodies, string(b))
		w.Write([]byte(`{}`))
	}))
	defer qsrv.Close()

	m := NewMeter(dsrv.URL, qsrv.URL)
	defer m.Close()
	aDynamo, aSQS := m.Endpoints("A")
	bDynamo, _ := m.Endpoints("B")
	if again, _ := m.Endpoints("A"); again != aDynamo || aDynamo == bDynamo || aDynamo == aSQS {
		t.Fatalf("endpoints: A %s (again %s), A's SQS %s, B %s: want one per function and service", aDynamo, again, aSQS, bDynamo)
	}

	before := m.Snapshot()
	if s := post(t, aDynamo, "DynamoDB_20120810.GetItem", `{"TableName":"orders","Key":{"orderId":{"S":"o_1"}}}`); s != 200 {
		t.Fatalf("GetItem: %d", s)
	}
	tx := `{"TransactItems":[
		{"Update":{"TableName":"orders","Key":{"orderId":{"S":"o_1"}},"UpdateExpression":"SET #s = :p"}},
		{"Put":{"TableName":"outbox","Item":{"eventId":{"S":"e_1"},"type":{"S":"SaleAttributed"}}}}]}`
	if s := post(t, aDynamo, "DynamoDB_20120810.TransactWriteItems", tx); s != 200 {
		t.Fatalf("TransactWriteItems: %d", s)
	}
	put := `{"TableName":"outbox","Item":{"eventId":{"S":"e_2"},"p":{"S":"` + big + `"}},"ConditionExpression":"attribute_not_exists(eventId)","ReturnConsumedCapacity":"TOTAL"}`
	if s := post(t, bDynamo, "DynamoDB_20120810.PutItem", put); s != 400 {
		t.Fatalf("PutItem: %d, want the condition's 400", s)
	}
	batch := `{"QueueUrl":"http://127.0.0.1:1/000000000000/etalase-social-inbox","Entries":[
		{"Id":"0","MessageBody":"{\"type\":\"ProductUpdated\",\"payload\":{}}"},
		{"Id":"1","MessageBody":"{\"type\":\"SaleAttributed\",\"payload\":{}}"},
		{"Id":"2","MessageBody":"` + strings.Repeat("y", 70<<10) + `"}]}`
	if s := post(t, aSQS, "AmazonSQS.SendMessageBatch", batch); s != 200 {
		t.Fatalf("SendMessageBatch: %d", s)
	}
	// A function's connection warm-up (awsclient.Preconnect: GET /, no operation)
	// reaches the service and is not counted: it is not an API call.
	warm, err := http.Get(aDynamo + "/")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, warm.Body)
	warm.Body.Close()
	if dynamo.gets != 1 {
		t.Errorf("the warm-up GET reached DynamoDB %d times, want once", dynamo.gets)
	}
	got := m.Snapshot().Sub(before)

	// The meter asked DynamoDB Local for the capacity where the function did not, and
	// left a request that asked alone.
	if rc := dynamo.received[0]["ReturnConsumedCapacity"]; rc != "INDEXES" {
		t.Errorf("GetItem reached DynamoDB with ReturnConsumedCapacity %v, want INDEXES", rc)
	}
	for i, target := range dynamo.targets {
		if target == "PutItem commercekey" && dynamo.received[i]["ReturnConsumedCapacity"] != "TOTAL" {
			t.Errorf("PutItem's own ReturnConsumedCapacity changed to %v", dynamo.received[i]["ReturnConsumedCapacity"])
		}
		if !strings.HasSuffix(target, " commercekey") {
			t.Errorf("request %q was not sent with the function's access key", target)
		}
	}
	want := map[CallKey]Tally{
		{"A", ServiceDynamoDB, "GetItem", "orders"}: {Requests: 1, Items: 1, ReadUnits: 0.5, Reported: 1},
		// Order update: 2 × 2 KB (1.5 KB item) + byStatus key change (delete + put, 1
		// each); outbox put: 2 × 1, no index. DynamoDB Local said 12.
		{"A", ServiceDynamoDB, "TransactWriteItems", "orders+outbox"}: {Requests: 1, Items: 2, WriteUnits: 4 + 2 + 2, Computed: 1, LocalUnits: 12},
		// A failed condition still bills the write: 1.5 KB → 2 units.
		{"B", ServiceDynamoDB, "PutItem", "outbox"}: {Requests: 1, Errors: 1, Items: 1, WriteUnits: 2, Computed: 1},
		// Three messages, 70 KB and a little: two billed requests.
		{"A", ServiceSQS, "SendMessageBatch", "etalase-social-inbox"}: {Requests: 1, Items: 3, BilledRequests: 2},
	}
	for k, w := range want {
		if g := got.Calls[k]; g != w {
			t.Errorf("%+v:\n got %+v\nwant %+v", k, g, w)
		}
	}
	if len(got.Calls) != len(want) {
		t.Errorf("counted %v, want only %d keys", got.Calls.Keys(), len(want))
	}
	types := got.MessagesOf("A", "social-inbox")
	if types["ProductUpdated"] != 1 || types["SaleAttributed"] != 1 || types["other"] != 1 {
		t.Errorf("message types %v, want one ProductUpdated, one SaleAttributed, one other", types)
	}
	if len(sqsBodies) != 1 || sqsBodies[0] != batch {
		t.Errorf("the SQS request reached the emulator changed")
	}
	if tot := got.Calls.Function("A").Total(); tot.Requests != 3 || tot.WriteUnits != 8 {
		t.Errorf("A's total %+v, want 3 requests and 8 write units", tot)
	}
}
