package awsclient

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

func TestParseFaults(t *testing.T) {
	f, err := ParseFaults("rate=0.05; seed=42;kinds=throttle,5xx;after=0.25;services=DynamoDB")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := f.String(), "rate=0.05;seed=42;kinds=throttle,5xx;after=0.25;services=dynamodb"; got != want {
		t.Errorf("parsed %s, want %s", got, want)
	}
	if f, err = ParseFaults("rate=1"); err != nil || f.String() != "rate=1;seed=1;kinds=throttle,conflict,5xx,timeout;after=0.5;services=dynamodb,sqs" {
		t.Errorf("defaults: %v %v", f, err)
	}
	for _, bad := range []string{"", "seed=1", "rate=2", "rate=-0.1", "rate=x", "rate=0.1;kinds=oops", "rate=0.1;after=1.5",
		"rate=0.1;services=ssm", "rate=0.1;frequency=3", "rate"} {
		if _, err := ParseFaults(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	if _, err := New(Config{Region: "r", AccessKeyID: "AK", SecretAccessKey: "SK", Faults: "rate=oops"}); err == nil {
		t.Error("New accepted a bad ETALASE_FAULTS")
	}
}

// fakeHTTP answers every request with an empty JSON object and counts them: no network.
type fakeHTTP struct{ calls atomic.Int64 }

func (f *fakeHTTP) Do(r *http.Request) (*http.Response, error) {
	f.calls.Add(1)
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
	}
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/x-amz-json-1.0"}},
		Body: io.NopCloser(strings.NewReader("{}")), Request: r}, nil
}

// faultyConfig is an aws.Config whose clients inject spec's faults; the sent requests
// are counted by the returned fakeHTTP and the log lines written to the buffer.
func faultyConfig(t *testing.T, spec string) (aws.Config, *fakeHTTP, *Injector, *bytes.Buffer) {
	t.Helper()
	f, err := ParseFaults(spec)
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	f.Log = &log
	in := NewInjector(f)
	httpc := &fakeHTTP{}
	cfg := aws.Config{Region: "ap-southeast-3", Credentials: aws.AnonymousCredentials{}, HTTPClient: httpc,
		BaseEndpoint: aws.String("http://127.0.0.1:1"), RetryMaxAttempts: 3}
	in.Apply(&cfg)
	return cfg, httpc, in, &log
}

func TestFaultsReachTheRetryerAsRealErrors(t *testing.T) {
	ctx := context.Background()
	get := &dynamodb.GetItemInput{TableName: aws.String("t"), Key: map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "a"}}}
	put := &dynamodb.PutItemInput{TableName: aws.String("t"), Item: map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "a"}}}
	txPut := &ddbtypes.Put{TableName: put.TableName, Item: put.Item}
	tx := &dynamodb.TransactWriteItemsInput{TransactItems: []ddbtypes.TransactWriteItem{{Put: txPut}, {Put: txPut}, {Put: txPut}}}

	t.Run("throttles are retried, never sent", func(t *testing.T) {
		cfg, httpc, in, log := faultyConfig(t, "rate=1;kinds=throttle")
		_, err := dynamodb.NewFromConfig(cfg).GetItem(ctx, get)
		var pt *ddbtypes.ProvisionedThroughputExceededException
		var th *ddbtypes.ThrottlingException
		if !errors.As(err, &pt) && !errors.As(err, &th) {
			t.Fatalf("error %v, want a DynamoDB throttling error", err)
		}
		if in.Counts()["throttle/before"] != 3 {
			t.Errorf("counts %v, want 3 attempts: %v", in.Counts(), err)
		}
		if httpc.calls.Load() != 0 {
			t.Errorf("%d requests sent, want 0", httpc.calls.Load())
		}
		if n := strings.Count(log.String(), `"msg":"`+FaultLogMessage+`"`); int64(n) != in.Counts()["throttle/before"] {
			t.Errorf("%d log lines for %v", n, in.Counts())
		}
	})

	t.Run("a conflict cancels the transaction and is not retried by the SDK", func(t *testing.T) {
		cfg, httpc, in, _ := faultyConfig(t, "rate=1;kinds=conflict")
		_, err := dynamodb.NewFromConfig(cfg).TransactWriteItems(ctx, tx)
		var tce *ddbtypes.TransactionCanceledException
		if !errors.As(err, &tce) || len(tce.CancellationReasons) != 3 {
			t.Fatalf("error %v, want a TransactionCanceledException with 3 reasons", err)
		}
		conflicts := 0
		for _, r := range tce.CancellationReasons {
			if aws.ToString(r.Code) == "TransactionConflict" {
				conflicts++
			}
		}
		if conflicts != 1 || in.Counts()["conflict/before"] != 1 || httpc.calls.Load() != 0 {
			t.Errorf("%d conflicts, counts %v, %d sent", conflicts, in.Counts(), httpc.calls.Load())
		}
		// A single-item write conflicts with an ongoing transaction instead.
		_, err = dynamodb.NewFromConfig(cfg).PutItem(ctx, put)
		var conflict *ddbtypes.TransactionConflictException
		if !errors.As(err, &conflict) {
			t.Errorf("PutItem error %v, want TransactionConflictException", err)
		}
		// Reads never conflict: with only conflicts asked for, a read is left alone.
		if _, err := dynamodb.NewFromConfig(cfg).GetItem(ctx, get); err != nil {
			t.Errorf("GetItem: %v", err)
		}
	})

	t.Run("5xx after the call succeeded: sent every attempt, failed every time", func(t *testing.T) {
		cfg, httpc, in, _ := faultyConfig(t, "rate=1;kinds=5xx;after=1")
		_, err := dynamodb.NewFromConfig(cfg).PutItem(ctx, put)
		var re *awshttp.ResponseError
		if !errors.As(err, &re) || re.HTTPStatusCode() < 500 {
			t.Fatalf("error %v, want an HTTP 5xx response error", err)
		}
		if httpc.calls.Load() != 3 || in.Counts()["5xx/after"] != 3 {
			t.Errorf("%d sent, counts %v: want 3 attempts, each sent and then failed", httpc.calls.Load(), in.Counts())
		}
	})

	t.Run("timeouts before sending, on SQS too", func(t *testing.T) {
		cfg, httpc, in, _ := faultyConfig(t, "rate=1;kinds=timeout;after=0")
		_, err := sqs.NewFromConfig(cfg).SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String("http://127.0.0.1:1/q"), MessageBody: aws.String("x")})
		var send *smithyhttp.RequestSendError
		var to interface{ Timeout() bool }
		if !errors.As(err, &send) || !errors.As(err, &to) || !to.Timeout() {
			t.Fatalf("error %v, want a timed-out RequestSendError", err)
		}
		if httpc.calls.Load() != 0 || in.Counts()["timeout/before"] != 3 {
			t.Errorf("%d sent, counts %v", httpc.calls.Load(), in.Counts())
		}
	})

	t.Run("SSM and rate 0 are left alone", func(t *testing.T) {
		cfg, httpc, in, _ := faultyConfig(t, "rate=1")
		if _, err := ssm.NewFromConfig(cfg).GetParameters(ctx, &ssm.GetParametersInput{Names: []string{"/x"}}); err != nil {
			t.Errorf("SSM: %v", err)
		}
		cfg, httpc2, in2, _ := faultyConfig(t, "rate=0")
		if _, err := dynamodb.NewFromConfig(cfg).GetItem(ctx, get); err != nil {
			t.Errorf("rate 0: %v", err)
		}
		if len(in.Counts())+len(in2.Counts()) != 0 || httpc.calls.Load() != 1 || httpc2.calls.Load() != 1 {
			t.Errorf("counts %v %v", in.Counts(), in2.Counts())
		}
	})

	t.Run("a share of calls", func(t *testing.T) {
		cfg, httpc, in, log := faultyConfig(t, "rate=0.3;seed=7")
		db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.RetryMaxAttempts = 1 })
		failed := 0
		for range 300 {
			if _, err := db.PutItem(ctx, put); err != nil {
				failed++
				var api smithy.APIError
				var send *smithyhttp.RequestSendError
				if !errors.As(err, &api) && !errors.As(err, &send) {
					t.Errorf("not an AWS error: %v", err)
				}
			}
		}
		var total int64
		for _, n := range in.Counts() {
			total += n
		}
		if total != int64(failed) || failed < 45 || failed > 135 || int64(strings.Count(log.String(), "\n")) != total {
			t.Errorf("%d of 300 failed, counts %v (%d sent)", failed, in.Counts(), httpc.calls.Load())
		}
	})
}
