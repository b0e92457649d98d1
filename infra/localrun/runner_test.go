package localrun_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/etalase/etalase/infra/localaccount"
	"github.com/etalase/etalase/infra/localrun"
	"github.com/etalase/etalase/infra/localrun/localtest"
	"github.com/etalase/etalase/infra/testenv"
)

// logBuffer collects the runner's output for assertions on REPORT lines.
type logBuffer struct {
	mu sync.Mutex
	sb strings.Builder
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sb.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sb.String()
}

// startRunner runs the test-only template under testdata as make dev would.
func startRunner(t *testing.T) (*localrun.Runner, *logBuffer) {
	t.Helper()
	dynamoURL, sqsURL := testenv.Endpoints(t)
	root, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	r, err := localrun.Start(ctx, localrun.Options{
		Root:             root,
		Template:         filepath.Join(root, "template.yaml"),
		DynamoDBEndpoint: dynamoURL,
		SQSEndpoint:      sqsURL,
		Addr:             "127.0.0.1:0",
		Prefix:           testenv.Prefix(t),
		BinDir:           t.TempDir(),
		Log:              io.MultiWriter(logs, testWriter{t}),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return r, logs
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	if testing.Verbose() {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func get(t *testing.T, url, token string) (int, map[string]any) {
	t.Helper()
	return do(t, http.MethodGet, url, token, "")
}

func do(t *testing.T, method, url, token, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	if m == nil {
		m = map[string]any{"raw": string(raw)}
	}
	return resp.StatusCode, m
}

// waitMark polls the marks table until key appears, within a bounded time.
func waitMark(t *testing.T, r *localrun.Runner, key string, within time.Duration) {
	t.Helper()
	table := r.Resources["commerce"].Tables["MarksTable"].Name
	client := testenv.DynamoDB(t, localaccount.Commerce)
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		out, err := client.GetItem(context.Background(), &dynamodb.GetItemInput{
			TableName: aws.String(table),
			Key:       map[string]ddb.AttributeValue{"pk": &ddb.AttributeValueMemberS{Value: key}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if out.Item != nil {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("mark %q did not appear within %s", key, within)
}

func TestRunnerEndToEnd(t *testing.T) {
	r, logs := startRunner(t)

	t.Run("http reaches a function process with its template environment", func(t *testing.T) {
		code, body := get(t, r.URL+"/commerce/echo/halo", "")
		if code != 200 || body["word"] != "halo" || body["greeting"] != "hello from "+localaccount.Commerce.ID {
			t.Fatalf("GET echo = %d %v", code, body)
		}
		if body["routeKey"] != "GET /commerce/echo/{word}" {
			t.Errorf("routeKey = %v", body["routeKey"])
		}
		if !strings.Contains(logs.String(), "[commerce/CommerceEchoFunction] REPORT RequestId:") {
			t.Errorf("no attributed REPORT line in the log:\n%s", logs.String())
		}
		if code, body := get(t, r.URL+"/nowhere", ""); code != 404 || body["message"] != "Not Found" {
			t.Errorf("unknown route = %d %v", code, body)
		}
	})

	t.Run("each account's function gets only its own credentials", func(t *testing.T) {
		code, body := get(t, r.URL+"/social/whoami", "")
		if code != 200 || body["accessKey"] != localaccount.Social.AccessKeyID || body["seesMarksTable"] != false {
			t.Fatalf("social whoami = %d %v", code, body)
		}
	})

	t.Run("jwt authorizer", func(t *testing.T) {
		mint := func(scopes []string, ttl time.Duration, extra map[string]any) string {
			tok, err := r.IdP.Mint("seller-1", scopes, ttl, extra)
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}
		tests := []struct {
			name  string
			token string
			want  int
		}{
			{"missing", "", 401},
			{"garbage", "not-a-jwt", 401},
			{"expired", mint([]string{"seller"}, -time.Minute, nil), 401},
			{"wrong audience", mint([]string{"seller"}, time.Hour, map[string]any{"aud": "someone-else"}), 401},
			{"wrong issuer", mint([]string{"seller"}, time.Hour, map[string]any{"iss": "https://evil.example"}), 401},
			{"wrong scope", mint([]string{"buyer"}, time.Hour, nil), 403},
			{"valid", mint([]string{"seller"}, time.Hour, nil), 200},
		}
		for _, tt := range tests {
			code, body := do(t, http.MethodPost, r.URL+"/commerce/secure", tt.token, `{"a":1}`)
			if code != tt.want {
				t.Errorf("%s: status %d, want %d (%v)", tt.name, code, tt.want, body)
			}
			if tt.want == 200 && (body["sub"] != "seller-1" || body["body"] != `{"a":1}`) {
				t.Errorf("valid token: function saw %v", body)
			}
		}
	})

	t.Run("timeout ends the process and the next call is cold", func(t *testing.T) {
		pool := r.Functions["CommerceSleepFunction"].Pool
		code, _ := get(t, r.URL+"/commerce/sleep/10", "")
		if code != 200 {
			t.Fatalf("warm-up = %d", code)
		}
		before := pool.Stats().ColdStarts
		if code, _ := get(t, r.URL+"/commerce/sleep/3000", ""); code != 500 {
			t.Errorf("timed-out call = %d, want 500", code)
		}
		if !strings.Contains(logs.String(), "Status: timeout") {
			t.Error("no timeout REPORT line")
		}
		if code, _ := get(t, r.URL+"/commerce/sleep/0", ""); code != 200 {
			t.Errorf("call after timeout = %d", code)
		}
		if got := pool.Stats().ColdStarts; got != before+1 {
			t.Errorf("cold starts %d -> %d, want one more after the timeout", before, got)
		}
	})

	t.Run("concurrency up to the reserved limit, then 429", func(t *testing.T) {
		pool := r.Functions["CommerceSleepFunction"].Pool
		const n = 5
		codes := make(chan int, n)
		var wg sync.WaitGroup
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				code, _ := get(t, r.URL+"/commerce/sleep/600", "")
				codes <- code
			}()
		}
		wg.Wait()
		close(codes)
		count := map[int]int{}
		for c := range codes {
			count[c]++
		}
		if count[200] != 2 || count[429] != n-2 {
			t.Errorf("statuses = %v, want 2×200 and %d×429 (ReservedConcurrentExecutions 2)", count, n-2)
		}
		if p := pool.Stats().Processes; p > 2 {
			t.Errorf("%d processes, limit is 2", p)
		}
	})

	t.Run("sqs batch: only the poison message retries, then reaches the DLQ", func(t *testing.T) {
		q := r.Resources["commerce"].Queues
		client := testenv.SQS(t, localaccount.Commerce)
		ctx := context.Background()
		for _, body := range []string{"a", "poison", "b", "c"} {
			if _, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(q["WorkQueue"].URL), MessageBody: aws.String(body)}); err != nil {
				t.Fatal(err)
			}
		}
		for _, k := range []string{"work#a", "work#b", "work#c"} {
			waitMark(t, r, k, 20*time.Second)
		}
		deadline := time.Now().Add(40 * time.Second)
		for {
			out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(q["WorkDLQ"].URL), WaitTimeSeconds: 1, MaxNumberOfMessages: 10})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Messages) > 0 {
				if len(out.Messages) != 1 || aws.ToString(out.Messages[0].Body) != "poison" {
					t.Fatalf("DLQ holds %d messages, first %q; want only the poison message", len(out.Messages), aws.ToString(out.Messages[0].Body))
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("poison message did not reach the DLQ")
			}
		}
	})

	t.Run("a stream record reaches its consumer", func(t *testing.T) {
		client := testenv.DynamoDB(t, localaccount.Commerce)
		key := fmt.Sprintf("rec-%d", time.Now().UnixNano())
		if _, err := client.PutItem(context.Background(), &dynamodb.PutItemInput{
			TableName: aws.String(r.Resources["commerce"].Tables["SourceTable"].Name),
			Item:      map[string]ddb.AttributeValue{"pk": &ddb.AttributeValueMemberS{Value: key}},
		}); err != nil {
			t.Fatal(err)
		}
		waitMark(t, r, "stream#"+key, 30*time.Second)
	})

	t.Run("a schedule fires", func(t *testing.T) {
		if err := r.FireSchedule(context.Background(), "CommerceTickFunction"); err != nil {
			t.Fatal(err)
		}
		waitMark(t, r, "tick#Scheduled Event", 15*time.Second)
		if err := r.FireSchedule(context.Background(), "CommerceEchoFunction"); err == nil {
			t.Error("FireSchedule on a function without a schedule succeeded")
		}
	})
}

func TestFunctionDir(t *testing.T) {
	tests := []struct {
		side, id, want string
		ok             bool
	}{
		{"commerce", "CommerceCatalogFunction", "functions/commerce/catalog", true},
		{"commerce", "CommercePaymentWebhookFunction", "functions/commerce/paymentwebhook", true},
		{"social", "SocialInboxFunction", "functions/social/inbox", true},
		{"social", "CommerceCatalogFunction", "", false},
		{"commerce", "CommerceFunction", "", false},
		{"commerce", "CommerceCatalog", "", false},
	}
	for _, tt := range tests {
		got, err := localrun.FunctionDir(tt.side, tt.id)
		if (err == nil) != tt.ok || filepath.ToSlash(got) != tt.want {
			t.Errorf("FunctionDir(%s, %s) = %q, %v", tt.side, tt.id, got, err)
		}
	}
}

// TestCatalogThroughRunner: an HTTP request reaches the real catalog function process
// and DynamoDB Local, through the JWT authorizer of the real template.
func TestCatalogThroughRunner(t *testing.T) {
	r, logs := localtest.Start(t)
	seller, err := r.IdP.Mint("seller-1", []string{"seller"}, time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	code, created := do(t, http.MethodPost, r.URL+"/commerce/v1/products", seller,
		`{"title":"Batik tulis","description":"Hand-drawn","imageUrl":"/assets/batik.jpg","price":{"amount":250000,"currency":"IDR"},"stock":5}`)
	id, _ := created["productId"].(string)
	if code != http.StatusCreated || id == "" {
		t.Fatalf("create = %d %v", code, created)
	}
	code, got := get(t, r.URL+"/commerce/v1/products/"+id, "")
	if code != 200 || got["title"] != "Batik tulis" {
		t.Fatalf("get = %d %v", code, got)
	}
	if code, _ := do(t, http.MethodPost, r.URL+"/commerce/v1/products", "", `{}`); code != 401 {
		t.Errorf("create without a token = %d, want 401", code)
	}
	if !strings.Contains(logs.String(), "[commerce/CommerceCatalogFunction] REPORT RequestId:") {
		t.Error("no REPORT line from the catalog process")
	}
}
