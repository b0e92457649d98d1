package orders

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/etalase/etalase/shared/commerce/cart"
	"github.com/etalase/etalase/shared/commerce/order"
	"github.com/etalase/etalase/shared/contract"
)

// DynamoAPI is the part of the DynamoDB client the Store uses. It is a superset of
// cart.DynamoAPI and ledger.DynamoAPI, so that the Store can read carts through the
// cart package's storage model and ledgers through the ledger package's.
type DynamoAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

var _ DynamoAPI = (*dynamodb.Client)(nil)

// Tables names the tables a Store works on. A function passes the names its template
// entry gives it; a table it has no permission on may be left empty if it never calls
// the methods that need it (Checkout needs all five, Apply all but Cart, Get and
// ListByBuyer only Orders).
type Tables struct {
	// Orders is OrdersTable.
	Orders string
	// Catalog is CatalogTable: checkout takes stock, a release gives it back.
	Catalog string
	// Cart is CartTable: checkout reads and closes the buyer's cart.
	Cart string
	// Ledger is LedgerTable: every write appends the order's next audit entry.
	Ledger string
	// Outbox is OutboxTable: every write adds its events.
	Outbox string
}

// Defaults of a Store.
const (
	// DefaultMaxAttempts bounds Apply's and Checkout's re-reads after a lost race.
	// Every lost race of Apply means another write of the same order committed; an
	// order has only a handful of writes in its life, so a few attempts suffice.
	DefaultMaxAttempts = 8
	// DefaultListLimit and MaxListLimit bound ListByBuyer's page.
	DefaultListLimit = 20
	MaxListLimit     = 100
)

// Sentinel errors of the Store. Handlers map them to HTTP statuses with errors.Is.
var (
	// ErrOrderNotFound: no order with that id (or an id that cannot be one).
	ErrOrderNotFound = errors.New("order not found")
	// ErrCartEmpty: the buyer has no live cart, or it has no lines.
	ErrCartEmpty = errors.New("cart is empty")
	// ErrCartChanged: the cart kept changing between checkout's read and its commit.
	ErrCartChanged = errors.New("cart changed during checkout")
	// ErrInsufficientStock: a line wants more units than the catalog has. Checkout
	// returns an *InsufficientStockError that names the products.
	ErrInsufficientStock = errors.New("insufficient stock")
	// ErrUnavailable: lines that cannot be bought (product gone, delisted, re-priced
	// in another currency). Checkout returns an *UnavailableError that names them.
	ErrUnavailable = errors.New("cart lines unavailable")
	// ErrTooManyLines: more lines than one transaction holds (MaxLines).
	ErrTooManyLines = errors.New("too many order lines")
	// ErrConflict: the order (or cart, or product) kept changing concurrently until
	// the attempts ran out; the caller may retry.
	ErrConflict = errors.New("concurrent modification")
	// ErrInvalidCursor: a ListByBuyer cursor this Store did not issue for this buyer.
	ErrInvalidCursor = errors.New("invalid cursor")
	// ErrPaymentOpened: the order already has a payment session with another provider.
	ErrPaymentOpened = errors.New("payment session already opened")
	// ErrNotPending: the order no longer waits for its payment.
	ErrNotPending = errors.New("order is not pending payment")
)

// InsufficientStockError is ErrInsufficientStock with the products that are short.
type InsufficientStockError struct {
	// ProductIDs are the short products, in the order of the cart's lines.
	ProductIDs []string
}

// Error implements error.
func (e *InsufficientStockError) Error() string {
	return fmt.Sprintf("insufficient stock for %v", e.ProductIDs)
}

// Is makes errors.Is(err, ErrInsufficientStock) true.
func (e *InsufficientStockError) Is(target error) bool { return target == ErrInsufficientStock }

// UnavailableLine is one line checkout refuses, and why (a cart.Reason* value).
type UnavailableLine struct {
	ProductID string
	Reason    string
}

// UnavailableError is ErrUnavailable with the lines that cannot be bought.
type UnavailableError struct {
	// Lines are the refused lines, in the order of the cart's lines.
	Lines []UnavailableLine
}

// Error implements error.
func (e *UnavailableError) Error() string { return fmt.Sprintf("cart lines unavailable: %v", e.Lines) }

// Is makes errors.Is(err, ErrUnavailable) true.
func (e *UnavailableError) Is(target error) bool { return target == ErrUnavailable }

// Store is the DynamoDB side of orders: checkout's transaction, the shared applier of
// state-machine decisions, the payment session's attachment, and reads.
type Store struct {
	db          DynamoAPI
	t           Tables
	carts       *cart.DynamoStore
	now         func() time.Time
	maxAttempts int
	sleep       func(ctx context.Context, attempt int) error
	newID       func() (string, error)
	newRef      func() (string, error)
}

// Option configures a Store.
type Option func(*Store)

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// WithMaxAttempts replaces DefaultMaxAttempts.
func WithMaxAttempts(n int) Option { return func(s *Store) { s.maxAttempts = max(1, n) } }

// NewStore returns a Store over db and the tables.
func NewStore(db DynamoAPI, t Tables, opts ...Option) *Store {
	s := &Store{
		db: db, t: t, carts: cart.NewDynamoStore(db, t.Cart, t.Catalog),
		now: time.Now, maxAttempts: DefaultMaxAttempts, sleep: backoff,
		newID: order.NewID, newRef: contract.NewOrderRef,
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Tables returns the table names the Store was made with.
func (s *Store) Tables() Tables { return s.t }

// backoff waits a random, growing time (full jitter, at most 50 ms) before attempt.
func backoff(ctx context.Context, attempt int) error {
	d := time.Duration(rand.Int64N(int64(min(attempt, 10)) * int64(5*time.Millisecond)))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Get returns an order, read strongly consistent, or ErrOrderNotFound. It costs one
// GetItem.
func (s *Store) Get(ctx context.Context, orderID string) (order.Order, error) {
	if !order.ValidID(orderID) {
		return order.Order{}, ErrOrderNotFound
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.t.Orders), Key: order.Key(orderID), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return order.Order{}, fmt.Errorf("get order %s: %w", orderID, err)
	}
	if len(out.Item) == 0 {
		return order.Order{}, ErrOrderNotFound
	}
	return order.UnmarshalItem(out.Item)
}

// Page is one page of a buyer's orders, newest first.
type Page struct {
	// Orders on this page.
	Orders []order.Order
	// Next is the cursor of the next page; empty on the last.
	Next string
}

// cursor is the opaque position after which the next page starts: the last order's
// index key. The buyer id is not in it; it comes from the caller, so that a cursor
// cannot reach another buyer's orders.
type cursor struct {
	CreatedAt string `json:"c"`
	OrderID   string `json:"o"`
}

// ListByBuyer returns a page of the buyer's orders, newest first, from the byBuyer
// index (eventually consistent: an order placed a moment ago may be missing). limit
// <= 0 means DefaultListLimit; it is capped at MaxListLimit. It costs one Query.
func (s *Store) ListByBuyer(ctx context.Context, buyerID, after string, limit int) (Page, error) {
	if limit <= 0 {
		limit = DefaultListLimit
	}
	limit = min(limit, MaxListLimit)
	if buyerID == "" {
		return Page{}, errors.New("list orders: no buyer")
	}
	keyCond := expression.Key("buyerId").Equal(expression.Value(buyerID))
	expr, err := expression.NewBuilder().WithKeyCondition(keyCond).Build()
	if err != nil {
		return Page{}, fmt.Errorf("build query: %w", err)
	}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.t.Orders),
		IndexName:                 aws.String(order.ByBuyerIndex),
		KeyConditionExpression:    expr.KeyCondition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
		ScanIndexForward:          aws.Bool(false),
		// One more than the page, to know without a second query whether another follows.
		Limit: aws.Int32(int32(limit + 1)),
	}
	if after != "" {
		c, err := decodeCursor(after)
		if err != nil {
			return Page{}, err
		}
		in.ExclusiveStartKey = map[string]types.AttributeValue{
			"buyerId":         &types.AttributeValueMemberS{Value: buyerID},
			"createdAt":       &types.AttributeValueMemberS{Value: c.CreatedAt},
			order.AttrOrderID: &types.AttributeValueMemberS{Value: c.OrderID},
		}
	}
	out, err := s.db.Query(ctx, in)
	if err != nil {
		return Page{}, fmt.Errorf("query %s: %w", order.ByBuyerIndex, err)
	}
	p := Page{Orders: make([]order.Order, 0, len(out.Items))}
	for _, av := range out.Items {
		o, err := order.UnmarshalItem(av)
		if err != nil {
			return Page{}, err
		}
		p.Orders = append(p.Orders, o)
	}
	more := len(out.LastEvaluatedKey) > 0
	if len(p.Orders) > limit {
		p.Orders, more = p.Orders[:limit], true
	}
	if more && len(p.Orders) > 0 {
		last := p.Orders[len(p.Orders)-1]
		p.Next = encodeCursor(cursor{CreatedAt: order.FormatTime(last.CreatedAt), OrderID: last.ID})
	}
	return p, nil
}

func encodeCursor(c cursor) string {
	b, _ := json.Marshal(c) // two strings cannot fail
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) > 256 {
		return cursor{}, ErrInvalidCursor
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil || !order.ValidID(c.OrderID) {
		return cursor{}, ErrInvalidCursor
	}
	if _, err := time.Parse(order.TimeLayout, c.CreatedAt); err != nil {
		return cursor{}, ErrInvalidCursor
	}
	return c, nil
}

// transact runs one TransactWriteItems.
func (s *Store) transact(ctx context.Context, items []types.TransactWriteItem) error {
	if len(items) > MaxTransactItems {
		return fmt.Errorf("transaction of %d items exceeds DynamoDB's %d: %w", len(items), MaxTransactItems, ErrTooManyLines)
	}
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	return err
}

// reasons returns the cancellation reason codes of a cancelled transaction (nil for
// any other error) and whether any is a TransactionConflict.
func reasons(err error) ([]types.CancellationReason, bool) {
	var canceled *types.TransactionCanceledException
	if errors.As(err, &canceled) {
		conflict := false
		for _, r := range canceled.CancellationReasons {
			if aws.ToString(r.Code) == "TransactionConflict" {
				conflict = true
			}
		}
		return canceled.CancellationReasons, conflict
	}
	var conflict *types.TransactionConflictException
	return nil, errors.As(err, &conflict)
}

func code(rs []types.CancellationReason, i int) string {
	if i < 0 || i >= len(rs) {
		return ""
	}
	return aws.ToString(rs[i].Code)
}
