package idempotency_test

// Integration tests against DynamoDB Local, with IdempotencyTable created from
// template.yaml. Run them with `make test` or
// `go run ./infra/cmd/etalase env -- go test ./shared/platform/idempotency`; a plain
// `go test` skips them.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/etalase/etalase/infra/localaccount"
	"github.com/etalase/etalase/infra/provision"
	"github.com/etalase/etalase/infra/samtemplate"
	"github.com/etalase/etalase/infra/testenv"
	"github.com/etalase/etalase/shared/platform/httpapi"
	"github.com/etalase/etalase/shared/platform/idempotency"
)

// clock is a settable time source shared by the store and the middleware.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.now = c.now.Add(d) }

type env struct {
	db    *dynamodb.Client
	table string
	clock *clock
	store *idempotency.DynamoStore
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db := testenv.DynamoDB(t, localaccount.Commerce)
	tpl, err := samtemplate.Load("../../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	res, err := provision.Provision(context.Background(), provision.Options{
		Template: tpl,
		Account:  localaccount.Commerce,
		Params:   map[string]string{"JwtIssuer": "https://id.etalase.example", "JwtAudience": "etalase-commerce"},
		Prefix:   testenv.Prefix(t),
		DynamoDB: db,
		SQS:      testenv.SQS(t, localaccount.Commerce),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, tb := range res.Tables {
			_, _ = db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(tb.Name)})
		}
	})
	e := &env{db: db, table: res.Tables["IdempotencyTable"].Name, clock: &clock{now: time.Now().Truncate(time.Millisecond)}}
	if e.table == "" {
		t.Fatalf("template has no IdempotencyTable: %+v", res.Tables)
	}
	e.store, err = idempotency.NewDynamoStore(db, e.table, idempotency.WithClock(e.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) raw(t *testing.T, scope, key string) map[string]types.AttributeValue {
	t.Helper()
	out, err := e.db.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(e.table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: idempotency.PK(scope, key)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}

var (
	hashA = bytes.Repeat([]byte{0xaa}, 32)
	hashB = bytes.Repeat([]byte{0xbb}, 32)
)

const (
	scope = "buyer-0001"
	key   = "0b5e6a3c-8d41-4e6b-b0b7-3f2f9c1d7a10"
)

// Twenty concurrent Begins of one key: exactly one Fresh, the rest InProgress; after
// Complete, Replay with the identical bytes; another request hash, Mismatch.
func TestDynamoConcurrentBegin(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	until := e.clock.Now().Add(15 * time.Second)
	const n = 20
	outcomes := make([]idempotency.Outcome, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			outcomes[i], errs[i] = e.store.Begin(ctx, scope, key, hashA, until)
		})
	}
	close(start)
	wg.Wait()
	var fresh []idempotency.Outcome
	for i, o := range outcomes {
		if errs[i] != nil {
			t.Fatalf("Begin %d: %v", i, errs[i])
		}
		switch o.Kind {
		case idempotency.Fresh:
			fresh = append(fresh, o)
		case idempotency.InProgress:
			if !o.InProgressUntil.Equal(until) {
				t.Errorf("InProgressUntil = %s, want %s", o.InProgressUntil, until)
			}
		default:
			t.Errorf("Begin %d = %v", i, o.Kind)
		}
	}
	if len(fresh) != 1 || fresh[0].Token == "" {
		t.Fatalf("%d Fresh outcomes (%+v), want exactly 1 with a token", len(fresh), fresh)
	}

	response := []byte(`{"v":1,"status":201,"body":"{\"orderId\":\"o_1\"}"}` + "\x00\xff")
	if err := e.store.Complete(ctx, scope, key, fresh[0].Token, response); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		o, err := e.store.Begin(ctx, scope, key, hashA, until)
		if err != nil || o.Kind != idempotency.Replay || !bytes.Equal(o.Response, response) {
			t.Fatalf("after Complete: %v %q, %v; want Replay of the identical bytes", o.Kind, o.Response, err)
		}
	}
	if o, err := e.store.Begin(ctx, scope, key, hashB, until); err != nil || o.Kind != idempotency.Mismatch {
		t.Errorf("another request: %v, %v; want Mismatch", o.Kind, err)
	}
	// Another scope has its own keys.
	if o, err := e.store.Begin(ctx, "buyer-0002", key, hashB, until); err != nil || o.Kind != idempotency.Fresh {
		t.Errorf("another scope: %v, %v; want Fresh", o.Kind, err)
	}
	// The record: pk scope#key, COMPLETED, kept at least 24 h, no token left.
	it := e.raw(t, scope, key)
	exp, _ := strconv.ParseInt(it["expiresAt"].(*types.AttributeValueMemberN).Value, 10, 64)
	if it["state"].(*types.AttributeValueMemberS).Value != idempotency.StateCompleted ||
		exp < e.clock.Now().Add(24*time.Hour).Unix() || it["token"] != nil || it["inProgressUntil"] != nil {
		t.Errorf("stored record %v", it)
	}
}

// A mismatching request is reported while the first one is still in progress too.
func TestDynamoMismatchWhileInProgress(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	until := e.clock.Now().Add(10 * time.Second)
	if o, _ := e.store.Begin(ctx, scope, key, hashA, until); o.Kind != idempotency.Fresh {
		t.Fatal(o.Kind)
	}
	if o, err := e.store.Begin(ctx, scope, key, hashB, until); err != nil || o.Kind != idempotency.Mismatch {
		t.Errorf("different request while in progress: %v, %v; want Mismatch", o.Kind, err)
	}
}

// An in-progress record past its lease (a timed-out attempt) is taken over; the old
// attempt can then neither complete nor release it.
func TestDynamoLeaseExpiry(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	first, err := e.store.Begin(ctx, scope, key, hashA, e.clock.Now().Add(10*time.Second))
	if err != nil || first.Kind != idempotency.Fresh {
		t.Fatal(first.Kind, err)
	}
	e.clock.Advance(10*time.Second - time.Millisecond)
	if o, _ := e.store.Begin(ctx, scope, key, hashA, e.clock.Now().Add(10*time.Second)); o.Kind != idempotency.InProgress {
		t.Errorf("1 ms before the lease ends: %v, want InProgress", o.Kind)
	}
	e.clock.Advance(time.Millisecond)
	second, err := e.store.Begin(ctx, scope, key, hashA, e.clock.Now().Add(10*time.Second))
	if err != nil || second.Kind != idempotency.Fresh || second.Token == first.Token {
		t.Fatalf("at the lease's end: %+v, %v; want Fresh with a new token", second, err)
	}
	if err := e.store.Complete(ctx, scope, key, first.Token, []byte("late")); !errors.Is(err, idempotency.ErrLeaseLost) {
		t.Errorf("old attempt's Complete: %v, want ErrLeaseLost", err)
	}
	if err := e.store.Release(ctx, scope, key, first.Token); !errors.Is(err, idempotency.ErrLeaseLost) {
		t.Errorf("old attempt's Release: %v, want ErrLeaseLost", err)
	}
	if err := e.store.Complete(ctx, scope, key, second.Token, []byte("ok")); err != nil {
		t.Fatal(err)
	}
	if o, _ := e.store.Begin(ctx, scope, key, hashA, e.clock.Now().Add(time.Second)); o.Kind != idempotency.Replay || string(o.Response) != "ok" {
		t.Errorf("after the new attempt completed: %v %q", o.Kind, o.Response)
	}
	if err := e.store.Complete(ctx, scope, key, second.Token, []byte("again")); !errors.Is(err, idempotency.ErrLeaseLost) {
		t.Errorf("second Complete: %v, want ErrLeaseLost", err)
	}
}

// A completed record past its expiry still sits in the table (TTL deletes lazily) but
// counts as absent.
func TestDynamoExpiredRecordIsAbsent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	o, err := e.store.Begin(ctx, scope, key, hashA, e.clock.Now().Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.Complete(ctx, scope, key, o.Token, []byte("first")); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(24*time.Hour - time.Second)
	if o, _ := e.store.Begin(ctx, scope, key, hashB, e.clock.Now().Add(time.Second)); o.Kind != idempotency.Mismatch {
		t.Errorf("a second before expiry: %v, want Mismatch", o.Kind)
	}
	e.clock.Advance(time.Second)
	if len(e.raw(t, scope, key)) == 0 {
		t.Fatal("the record is gone; the test needs it present past its expiry")
	}
	o, err = e.store.Begin(ctx, scope, key, hashB, e.clock.Now().Add(time.Second))
	if err != nil || o.Kind != idempotency.Fresh {
		t.Errorf("expired record, another request: %v, %v; want Fresh", o.Kind, err)
	}
}

func TestDynamoRelease(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	until := e.clock.Now().Add(time.Minute)
	o, err := e.store.Begin(ctx, scope, key, hashA, until)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.Release(ctx, scope, key, "not-the-token"); !errors.Is(err, idempotency.ErrLeaseLost) {
		t.Errorf("Release with another token: %v", err)
	}
	if err := e.store.Release(ctx, scope, key, o.Token); err != nil {
		t.Fatal(err)
	}
	// Released: the retry (even with a corrected body) starts afresh.
	if o, err := e.store.Begin(ctx, scope, key, hashB, until); err != nil || o.Kind != idempotency.Fresh {
		t.Errorf("after Release: %v, %v; want Fresh", o.Kind, err)
	}
}

func TestDynamoStoreRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	now := e.clock.Now()
	if _, err := e.store.Begin(ctx, scope, "bad#key-123", hashA, now.Add(time.Second)); !errors.Is(err, idempotency.ErrInvalidKey) {
		t.Errorf("bad key: %v", err)
	}
	if _, err := e.store.Begin(ctx, "", key, hashA, now.Add(time.Second)); !errors.Is(err, idempotency.ErrInvalidKey) {
		t.Errorf("empty scope: %v", err)
	}
	if _, err := e.store.Begin(ctx, scope, key, hashA, now); !errors.Is(err, idempotency.ErrInvalidLease) {
		t.Errorf("lease ending now: %v", err)
	}
	if _, err := e.store.Begin(ctx, scope, key, hashA, now.Add(25*time.Hour)); !errors.Is(err, idempotency.ErrInvalidLease) {
		t.Errorf("lease beyond the record: %v", err)
	}
	o, err := e.store.Begin(ctx, scope, key, hashA, now.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.Complete(ctx, scope, key, o.Token, make([]byte, idempotency.MaxResponseBytes+1)); !errors.Is(err, idempotency.ErrResponseTooLarge) {
		t.Errorf("huge response: %v", err)
	}
	if _, err := idempotency.NewDynamoStore(e.db, e.table, idempotency.WithRetention(23*time.Hour)); err == nil {
		t.Error("a retention under 24 h was accepted")
	}
}

// The table's TTL attribute is expiresAt, as the store writes it.
func TestDynamoTableTTL(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	out, err := e.db.DescribeTimeToLive(context.Background(), &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(e.table)})
	if err != nil {
		t.Fatal(err)
	}
	d := out.TimeToLiveDescription
	if d == nil || aws.ToString(d.AttributeName) != "expiresAt" || d.TimeToLiveStatus != types.TimeToLiveStatusEnabled {
		t.Errorf("TTL = %+v, want expiresAt enabled", d)
	}
}

// Concurrent identical requests through the middleware run the handler once (one
// order); every answer is that order's response, replayed, or 409; a later retry is a
// replay of the identical response, and the key with another body is 422.
func TestDynamoMiddlewareConcurrentRequests(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	m := idempotency.NewMiddleware(e.store, slog.New(slog.DiscardHandler), idempotency.WithMiddlewareClock(e.clock.Now))
	var orders atomic.Int32
	router := httpapi.NewRouter(slog.New(slog.DiscardHandler))
	router.Route("POST /commerce/v1/checkout", m.Wrap(func(ctx context.Context, req httpapi.Request) (httpapi.Response, error) {
		n := orders.Add(1)
		time.Sleep(100 * time.Millisecond) // the work: reserve stock, write the order
		resp := httpapi.JSON(201, map[string]string{"orderId": fmt.Sprintf("o_%d", n)})
		resp.Headers["Location"] = fmt.Sprintf("/commerce/v1/orders/o_%d", n)
		return resp, nil
	}))
	const n = 20
	resps := make([]httpapi.Response, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			resps[i], _ = router.Handle(ctx, fixture(t))
		})
	}
	close(start)
	wg.Wait()
	if got := orders.Load(); got != 1 {
		t.Fatalf("the handler ran %d times, want 1 order", got)
	}
	first := `{"orderId":"o_1"}`
	created, conflicts := 0, 0
	for _, r := range resps {
		switch {
		case r.StatusCode == 201 && r.Body == first:
			created++
		case r.StatusCode == 409:
			conflicts++
		default:
			t.Errorf("unexpected response %d %s", r.StatusCode, r.Body)
		}
	}
	if created < 1 || created+conflicts != n {
		t.Errorf("%d created, %d in progress", created, conflicts)
	}

	later, _ := router.Handle(context.Background(), fixture(t))
	if later.StatusCode != 201 || later.Body != first || later.Headers[idempotency.HeaderReplayed] != "true" ||
		later.Headers["Location"] != "/commerce/v1/orders/o_1" {
		t.Errorf("retry = %d %v %s; want the replayed 201", later.StatusCode, later.Headers, later.Body)
	}
	other := fixture(t)
	other.Body = `{"paymentProvider":"xendit"}`
	if r, _ := router.Handle(context.Background(), other); r.StatusCode != 422 {
		t.Errorf("same key, another body: %d %s; want 422", r.StatusCode, r.Body)
	}
	if got := orders.Load(); got != 1 {
		t.Errorf("%d orders after the retries, want 1", got)
	}
}

// A handler error frees the key: the retry runs.
func TestDynamoMiddlewareReleasesOnError(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	m := idempotency.NewMiddleware(e.store, slog.New(slog.DiscardHandler), idempotency.WithMiddlewareClock(e.clock.Now))
	calls := 0
	h := m.Wrap(func(context.Context, httpapi.Request) (httpapi.Response, error) {
		calls++
		if calls == 1 {
			return httpapi.Response{}, httpapi.NewError(409, "insufficient_stock", "not enough stock")
		}
		return httpapi.JSON(201, map[string]string{"orderId": "o_1"}), nil
	})
	if _, err := h(context.Background(), fixture(t)); err == nil {
		t.Fatal("the first attempt should fail")
	}
	if r, err := h(context.Background(), fixture(t)); err != nil || r.StatusCode != 201 || calls != 2 {
		t.Errorf("retry after a failure: %d, %v, %d calls", r.StatusCode, err, calls)
	}
}
