package ledger

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Attribute names of the ledger head on OrdersTable items (package order names them
// order.AttrLedgerSeq and order.AttrLedgerHash), and of OrdersTable's key.
const (
	AttrHeadSeq  = "ledgerSeq"
	AttrHeadHash = "ledgerHash"
	attrOrderID  = "orderId"
)

// DefaultMaxAttempts bounds Append's retries. Each lost race means another entry was
// appended, so under N concurrent appenders an append needs at most N attempts.
const DefaultMaxAttempts = 50

// Errors of the store.
var (
	// ErrOrderNotFound: no order item with that id, so no ledger head to append to.
	ErrOrderNotFound = errors.New("order not found")
	// ErrConflict: the append kept losing races until its attempts ran out.
	ErrConflict = errors.New("ledger append conflict")
)

// DynamoAPI is the part of the DynamoDB client DynamoStore uses.
type DynamoAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// DynamoStore reads and appends ledgers in LedgerTable, with the heads on the order
// items of OrdersTable.
type DynamoStore struct {
	db          DynamoAPI
	ledgerTable string
	ordersTable string
	now         func() time.Time
	maxAttempts int
	sleep       func(ctx context.Context, attempt int) error
}

var _ Reader = (*DynamoStore)(nil)

// Option configures a DynamoStore.
type Option func(*DynamoStore)

// WithClock replaces time.Now (Append's entry time), for tests.
func WithClock(now func() time.Time) Option { return func(s *DynamoStore) { s.now = now } }

// WithMaxAttempts replaces DefaultMaxAttempts.
func WithMaxAttempts(n int) Option { return func(s *DynamoStore) { s.maxAttempts = max(1, n) } }

// NewDynamoStore returns a store over LedgerTable and OrdersTable.
func NewDynamoStore(db DynamoAPI, ledgerTable, ordersTable string, opts ...Option) *DynamoStore {
	s := &DynamoStore{db: db, ledgerTable: ledgerTable, ordersTable: ordersTable, now: time.Now, maxAttempts: DefaultMaxAttempts, sleep: backoff}
	for _, o := range opts {
		o(s)
	}
	return s
}

// item is an entry's storage form in LedgerTable. Data is the canonical JSON text.
type item struct {
	OrderID  string `dynamodbav:"orderId"`
	Seq      int64  `dynamodbav:"seq"`
	Type     string `dynamodbav:"type"`
	At       string `dynamodbav:"at"`
	Data     string `dynamodbav:"data"`
	PrevHash string `dynamodbav:"prevHash"`
	Hash     string `dynamodbav:"hash"`
}

// MarshalItem returns e as a LedgerTable item.
func MarshalItem(e Entry) (map[string]types.AttributeValue, error) {
	av, err := attributevalue.MarshalMap(item{
		OrderID: e.OrderID, Seq: e.Seq, Type: e.Type, At: e.At.UTC().Format(TimeLayout),
		Data: string(e.Data), PrevHash: e.PrevHash, Hash: e.Hash,
	})
	if err != nil {
		return nil, fmt.Errorf("marshal ledger entry: %w", err)
	}
	return av, nil
}

// UnmarshalItem parses a LedgerTable item. It does not verify it (see Verify).
func UnmarshalItem(av map[string]types.AttributeValue) (Entry, error) {
	var it item
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return Entry{}, fmt.Errorf("unmarshal ledger entry: %w", err)
	}
	at, err := time.Parse(TimeLayout, it.At)
	if err != nil {
		return Entry{}, fmt.Errorf("ledger entry %s/%d: at: %w", it.OrderID, it.Seq, err)
	}
	return Entry{OrderID: it.OrderID, Seq: it.Seq, Type: it.Type, At: at, Data: []byte(it.Data), PrevHash: it.PrevHash, Hash: it.Hash}, nil
}

// TransactPut returns the transaction item that writes e into LedgerTable on the
// condition that the order has no entry with e's seq yet: an entry is written once,
// never overwritten, and two writers of the same seq cannot both commit.
func (e Entry) TransactPut(table string) (types.TransactWriteItem, error) {
	if e.Seq < 1 || !validHash(e.Hash) {
		return types.TransactWriteItem{}, fmt.Errorf("%w: seq %d, hash %q", ErrInvalidEntry, e.Seq, e.Hash)
	}
	av, err := MarshalItem(e)
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return types.TransactWriteItem{Put: &types.Put{
		TableName:           aws.String(table),
		Item:                av,
		ConditionExpression: aws.String("attribute_not_exists(orderId)"),
	}}, nil
}

// HeadUpdate returns the transaction item that moves the ledger head on order item
// e.OrderID in ordersTable from e's predecessor to e, on the condition that the order
// exists and its head is still e.Seq-1. It is for writes that change nothing else on
// the order (Append); a transition sets the head in its own update of the order
// (order.TransactUpdate), because one transaction cannot touch an item twice.
func (e Entry) HeadUpdate(ordersTable string) types.TransactWriteItem {
	cond := "attribute_exists(orderId) AND #seq = :prev"
	if e.Seq == 1 {
		cond = "attribute_exists(orderId) AND (attribute_not_exists(#seq) OR #seq = :prev)"
	}
	return types.TransactWriteItem{Update: &types.Update{
		TableName:                aws.String(ordersTable),
		Key:                      map[string]types.AttributeValue{attrOrderID: &types.AttributeValueMemberS{Value: e.OrderID}},
		UpdateExpression:         aws.String("SET #seq = :seq, #hash = :hash"),
		ConditionExpression:      aws.String(cond),
		ExpressionAttributeNames: map[string]string{"#seq": AttrHeadSeq, "#hash": AttrHeadHash},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":seq":  &types.AttributeValueMemberN{Value: strconv.FormatInt(e.Seq, 10)},
			":prev": &types.AttributeValueMemberN{Value: strconv.FormatInt(e.Seq-1, 10)},
			":hash": &types.AttributeValueMemberS{Value: e.Hash},
		},
	}}
}

// Read returns every entry of an order's ledger by seq (strongly consistent), empty if
// it has none. It does not verify them.
func (s *DynamoStore) Read(ctx context.Context, orderID string) ([]Entry, error) {
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.ledgerTable),
		KeyConditionExpression:    aws.String("orderId = :id"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":id": &types.AttributeValueMemberS{Value: orderID}},
		ConsistentRead:            aws.Bool(true),
		ScanIndexForward:          aws.Bool(true),
	}
	var entries []Entry
	for {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("query ledger: %w", err)
		}
		for _, av := range out.Items {
			e, err := UnmarshalItem(av)
			if err != nil {
				return nil, err
			}
			entries = append(entries, e)
		}
		if len(out.LastEvaluatedKey) == 0 {
			return entries, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// Head returns the ledger head the order item records (the zero Head for an order
// without entries), or ErrOrderNotFound.
func (s *DynamoStore) Head(ctx context.Context, orderID string) (Head, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:                aws.String(s.ordersTable),
		Key:                      map[string]types.AttributeValue{attrOrderID: &types.AttributeValueMemberS{Value: orderID}},
		ConsistentRead:           aws.Bool(true),
		ProjectionExpression:     aws.String("#id, #seq, #hash"),
		ExpressionAttributeNames: map[string]string{"#id": attrOrderID, "#seq": AttrHeadSeq, "#hash": AttrHeadHash},
	})
	if err != nil {
		return Head{}, fmt.Errorf("get ledger head: %w", err)
	}
	if len(out.Item) == 0 {
		return Head{}, ErrOrderNotFound
	}
	var h struct {
		Seq  int64  `dynamodbav:"ledgerSeq"`
		Hash string `dynamodbav:"ledgerHash"`
	}
	if err := attributevalue.UnmarshalMap(out.Item, &h); err != nil {
		return Head{}, fmt.Errorf("unmarshal ledger head: %w", err)
	}
	return Head{Seq: h.Seq, Hash: h.Hash}, nil
}

// Append adds an entry to an order's ledger outside any order transition, for events
// that change nothing else (a rejected notification): it reads the head from the order
// item, builds the next entry, and writes the entry and the new head in one
// transaction conditioned on the head being unchanged, retrying (with jitter) when
// another write appended first. The order must exist (ErrOrderNotFound).
func (s *DynamoStore) Append(ctx context.Context, orderID, typ string, data any) (Entry, error) {
	for attempt := 1; ; attempt++ {
		head, err := s.Head(ctx, orderID)
		if err != nil {
			return Entry{}, fmt.Errorf("append to ledger of %s: %w", orderID, err)
		}
		e, err := Next(head, orderID, typ, s.now(), data)
		if err != nil {
			return Entry{}, err
		}
		put, err := e.TransactPut(s.ledgerTable)
		if err != nil {
			return Entry{}, err
		}
		_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
			TransactItems: []types.TransactWriteItem{e.HeadUpdate(s.ordersTable), put},
		})
		if err == nil {
			return e, nil
		}
		if !retryable(err) {
			return Entry{}, fmt.Errorf("append to ledger of %s: %w", orderID, err)
		}
		if attempt >= s.maxAttempts {
			return Entry{}, fmt.Errorf("append to ledger of %s after %d attempts: %w", orderID, attempt, ErrConflict)
		}
		if err := s.sleep(ctx, attempt); err != nil {
			return Entry{}, fmt.Errorf("append to ledger of %s: %w", orderID, err)
		}
	}
}

// retryable reports whether a failed append lost a race: a condition failed (another
// entry was appended, or the order was deleted, which the next Head read reports) or
// a transaction conflict.
func retryable(err error) bool {
	var canceled *types.TransactionCanceledException
	if errors.As(err, &canceled) {
		for _, r := range canceled.CancellationReasons {
			switch aws.ToString(r.Code) {
			case "ConditionalCheckFailed", "TransactionConflict":
				return true
			}
		}
		return false
	}
	var conflict *types.TransactionConflictException
	return errors.As(err, &conflict)
}

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
