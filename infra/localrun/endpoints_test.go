package localrun_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/etalase/etalase/infra/localaccount"
	"github.com/etalase/etalase/infra/localrun"
	"github.com/etalase/etalase/infra/testenv"
)

// TestEndpointsHook gives one function its own DynamoDB endpoint, a proxy in front of
// DynamoDB Local that records what it forwards: the function's writes go through it,
// the other functions keep the emulator, and the event source that feeds the function
// still polls the SQS emulator itself.
func TestEndpointsHook(t *testing.T) {
	dynamoURL, sqsURL := testenv.Endpoints(t)
	upstream, err := url.Parse(dynamoURL)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var targets []string
	rp := httputil.NewSingleHostReverseProxy(upstream)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		targets = append(targets, r.Header.Get("X-Amz-Target"))
		mu.Unlock()
		rp.ServeHTTP(w, r)
	}))
	defer proxy.Close()

	const worker = "CommerceWorkerFunction"
	root, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	r, err := localrun.Start(ctx, localrun.Options{
		Root: root, Template: filepath.Join(root, "template.yaml"),
		DynamoDBEndpoint: dynamoURL, SQSEndpoint: sqsURL,
		Addr: "127.0.0.1:0", Prefix: testenv.Prefix(t), BinDir: t.TempDir(), Log: io.Discard,
		Endpoints: func(id string) (string, string) {
			if id == worker {
				return proxy.URL, ""
			}
			return "", ""
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	env := func(id string) []string { return r.Functions[id].Config.Env }
	if e := env(worker); !slices.Contains(e, "AWS_ENDPOINT_URL_DYNAMODB="+proxy.URL) || !slices.Contains(e, "AWS_ENDPOINT_URL_SQS="+sqsURL) {
		t.Errorf("%s environment %v: want the proxy for DynamoDB and the emulator for SQS", worker, e)
	}
	if e := env("CommerceEchoFunction"); !slices.Contains(e, "AWS_ENDPOINT_URL_DYNAMODB="+dynamoURL) {
		t.Errorf("CommerceEchoFunction environment %v: want the emulator", e)
	}

	q := r.Resources["commerce"].Queues["WorkQueue"].URL
	client := testenv.SQS(t, localaccount.Commerce)
	if _, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(q), MessageBody: aws.String("through-proxy")}); err != nil {
		t.Fatal(err)
	}
	waitMark(t, r, "work#through-proxy", 20*time.Second)
	mu.Lock()
	defer mu.Unlock()
	if !slices.Contains(targets, "DynamoDB_20120810.PutItem") {
		t.Errorf("the proxy forwarded %v, want the worker's PutItem", targets)
	}
}
