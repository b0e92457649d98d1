package ddbcount_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/etalase/etalase/infra/testenv/ddbcount"
)

// fakeHTTP answers every request with 200 "{}", except that the first failFirst
// requests get a retryable 500.
type fakeHTTP struct {
	mu        sync.Mutex
	failFirst int
	seen      int
}

func (f *fakeHTTP) Do(r *http.Request) (*http.Response, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seen++
	status, body := 200, "{}"
	if f.seen <= f.failFirst {
		status, body = 500, `{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"boom"}`
	}
	return &http.Response{
		StatusCode: status,
		Header:     http.Header{"Content-Type": {"application/x-amz-json-1.0"}},
		Body:       io.NopCloser(strings.NewReader(body)),
		Request:    r,
	}, nil
}

func client(h *fakeHTTP) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:       "ap-southeast-3",
		Credentials:  credentials.NewStaticCredentialsProvider("k", "s", ""),
		BaseEndpoint: aws.String("http://127.0.0.1:1"),
		HTTPClient:   h,
	})
}

func TestCounter(t *testing.T) {
	ctx := context.Background()
	h := &fakeHTTP{failFirst: 2}
	c := ddbcount.New()
	db := c.Wrap(client(h))
	key := map[string]types.AttributeValue{"k": &types.AttributeValueMemberS{Value: "a"}}

	if _, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("t"), Key: key}); err != nil {
		t.Fatal(err)
	}
	got := c.Take()
	if got.Calls["GetItem"] != 1 || got.Requests["GetItem"] != 3 || got.Retries() != 2 || got.Reads() != 3 || got.Writes() != 0 {
		t.Errorf("after a GetItem retried twice: %+v (reads %d writes %d retries %d)", got, got.Reads(), got.Writes(), got.Retries())
	}

	for range 2 {
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("t"), Item: key}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{"t": {Keys: []map[string]types.AttributeValue{key}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{{Put: &types.Put{TableName: aws.String("t"), Item: key}}}}); err != nil {
		t.Fatal(err)
	}
	got = c.Take()
	if got.String() != "BatchGetItem=1 PutItem=2 TransactWriteItems=1" || got.Reads() != 1 || got.Writes() != 3 || got.Total() != 4 {
		t.Errorf("counts %s, reads %d, writes %d", got, got.Reads(), got.Writes())
	}
	if after := c.Snapshot(); after.Total() != 0 {
		t.Errorf("Take did not reset: %s", after)
	}

	// A client without the counter is not counted: Wrap copies, it does not mutate.
	plain := client(&fakeHTTP{})
	_ = c.Wrap(plain)
	if _, err := plain.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("t"), Key: key}); err != nil {
		t.Fatal(err)
	}
	if got := c.Snapshot(); got.Total() != 0 {
		t.Errorf("the unwrapped client was counted: %s", got)
	}
}
