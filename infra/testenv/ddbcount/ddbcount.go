// Package ddbcount counts the requests a DynamoDB client sends, by operation, so that
// tests can state what an operation costs ("adding a cart item is one read and one
// write") and fail when a change adds a round trip.
//
// It is an SDK middleware, not a wrapper type: the code under test keeps its real
// *dynamodb.Client.
//
//	c := ddbcount.New()
//	db := c.Wrap(testenv.DynamoDB(t, localaccount.Commerce))
//	... exercise code that uses db ...
//	if got := c.Take(); got.Reads() != 1 || got.Writes() != 1 { ... }
//
// Two numbers are kept per operation: Calls, the API calls the code made (one per
// client method call), and Requests, the HTTP requests that reached the service
// (one per attempt, so the SDK's retries show). Against DynamoDB Local, which never
// throttles, they are equal unless a test injects failures.
package ddbcount

import (
	"context"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"
)

// readOps and writeOps classify DynamoDB's data-plane operations. A transaction's
// TransactGetItems is a read, TransactWriteItems a write.
var (
	readOps  = []string{"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems", "ExecuteStatement"}
	writeOps = []string{"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems", "BatchExecuteStatement", "ExecuteTransaction"}
)

// Counter counts requests by operation name ("GetItem", "TransactWriteItems"). It is
// safe for concurrent use.
type Counter struct {
	mu       sync.Mutex
	calls    map[string]int
	requests map[string]int
}

// New returns a Counter with nothing counted.
func New() *Counter {
	return &Counter{calls: map[string]int{}, requests: map[string]int{}}
}

// Option returns a client option that installs the counter, for dynamodb.New and
// dynamodb.NewFromConfig.
func (c *Counter) Option() func(*dynamodb.Options) {
	return func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, c.install)
	}
}

// Wrap returns a copy of client (same configuration and middleware) that also counts.
func (c *Counter) Wrap(client *dynamodb.Client) *dynamodb.Client {
	return dynamodb.New(client.Options(), c.Option())
}

// install adds the two middlewares: one at the start of the Initialize step (once per
// call) and one at the end of the Finalize step, after the retry middleware (once per
// attempt, i.e. per HTTP request).
func (c *Counter) install(stack *middleware.Stack) error {
	err := stack.Initialize.Add(middleware.InitializeMiddlewareFunc("ddbcountCalls",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			c.add(c.calls, middleware.GetOperationName(ctx))
			return next.HandleInitialize(ctx, in)
		}), middleware.Before)
	if err != nil {
		return err
	}
	return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("ddbcountRequests",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			c.add(c.requests, middleware.GetOperationName(ctx))
			return next.HandleFinalize(ctx, in)
		}), middleware.After)
}

func (c *Counter) add(m map[string]int, op string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m[op]++
}

// Counts is a snapshot of a Counter.
type Counts struct {
	// Calls are API calls by operation.
	Calls map[string]int
	// Requests are HTTP requests (attempts) by operation.
	Requests map[string]int
}

// Snapshot returns the counts so far.
func (c *Counter) Snapshot() Counts {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Counts{Calls: maps.Clone(c.calls), Requests: maps.Clone(c.requests)}
}

// Reset forgets everything counted.
func (c *Counter) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.calls)
	clear(c.requests)
}

// Take returns the counts so far and resets the counter: the cost of what ran since the
// last Take or Reset.
func (c *Counter) Take() Counts {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := Counts{Calls: maps.Clone(c.calls), Requests: maps.Clone(c.requests)}
	clear(c.calls)
	clear(c.requests)
	return out
}

// Reads is the number of read requests (GetItem, BatchGetItem, Query, Scan,
// TransactGetItems, ExecuteStatement).
func (n Counts) Reads() int { return sum(n.Requests, readOps) }

// Writes is the number of write requests (PutItem, UpdateItem, DeleteItem,
// BatchWriteItem, TransactWriteItems, ...).
func (n Counts) Writes() int { return sum(n.Requests, writeOps) }

// Total is the number of requests of any operation, control-plane ones included.
func (n Counts) Total() int {
	t := 0
	for _, v := range n.Requests {
		t += v
	}
	return t
}

// Retries is the number of requests beyond the calls: the SDK's retry attempts.
func (n Counts) Retries() int {
	t := 0
	for op, v := range n.Requests {
		t += v - n.Calls[op]
	}
	return t
}

// String lists the requests by operation, sorted: "BatchGetItem=1 PutItem=1".
func (n Counts) String() string {
	ops := slices.Collect(maps.Keys(n.Requests))
	sort.Strings(ops)
	parts := make([]string, 0, len(ops))
	for _, op := range ops {
		parts = append(parts, op+"="+strconv.Itoa(n.Requests[op]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " ")
}

func sum(m map[string]int, ops []string) int {
	t := 0
	for _, op := range ops {
		t += m[op]
	}
	return t
}
