package paymentevents

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/etalase/etalase/shared/commerce/money"
)

// DynamoAPI is the part of the DynamoDB client Store uses.
type DynamoAPI interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// ErrNotFound: no stored notification with that key.
var ErrNotFound = errors.New("payment event not found")

// Store keeps notifications in PaymentEventsTable.
type Store struct {
	db    DynamoAPI
	table string
}

// NewStore returns a store over PaymentEventsTable.
func NewStore(db DynamoAPI, table string) *Store { return &Store{db: db, table: table} }

// Stored is a notification as stored.
type Stored struct {
	Event
	// Body is the notification exactly as received.
	Body []byte
	// ExpiresAt is when TTL may delete the record.
	ExpiresAt time.Time
	// ProcessedAt is when the payments consumer applied (or rejected) it; zero before.
	ProcessedAt time.Time
	// Outcome is what the consumer did with it ("applied", "noop", "rejected", ...).
	Outcome string
}

// Processed reports whether the payments consumer has seen the notification.
func (s Stored) Processed() bool { return !s.ProcessedAt.IsZero() }

// item is a record's storage form.
type item struct {
	Key            string `dynamodbav:"notificationKey"`
	Provider       string `dynamodbav:"provider"`
	NotificationID string `dynamodbav:"notificationId"`
	OrderID        string `dynamodbav:"orderId"`
	Status         string `dynamodbav:"status"`
	FraudStatus    string `dynamodbav:"fraudStatus,omitempty"`
	Amount         int64  `dynamodbav:"amount"`
	Currency       string `dynamodbav:"currency"`
	RefundAmount   *int64 `dynamodbav:"refundAmount,omitempty"`
	ProviderRef    string `dynamodbav:"providerRef,omitempty"`
	OccurredAt     string `dynamodbav:"occurredAt,omitempty"`
	ReceivedAt     string `dynamodbav:"receivedAt"`
	Body           string `dynamodbav:"body"`
	ExpiresAt      int64  `dynamodbav:"expiresAt"`
	ProcessedAt    string `dynamodbav:"processedAt,omitempty"`
	Outcome        string `dynamodbav:"outcome,omitempty"`
}

func toItem(e Event, body []byte) item {
	it := item{
		Key: e.Key, Provider: e.Provider, NotificationID: e.NotificationID, OrderID: e.OrderID,
		Status: e.Status, FraudStatus: e.FraudStatus, Amount: e.Amount.Amount, Currency: e.Amount.Currency,
		ProviderRef: e.ProviderRef, OccurredAt: formatTime(e.OccurredAt), ReceivedAt: formatTime(e.ReceivedAt),
		Body: string(body), ExpiresAt: e.ReceivedAt.Add(Retention).Unix(),
	}
	if e.RefundAmount != (money.Money{}) {
		it.RefundAmount = aws.Int64(e.RefundAmount.Amount)
	}
	return it
}

func (it item) stored() (Stored, error) {
	s := Stored{
		Event: Event{
			Key: it.Key, Provider: it.Provider, NotificationID: it.NotificationID, OrderID: it.OrderID,
			Status: it.Status, FraudStatus: it.FraudStatus, Amount: money.Money{Amount: it.Amount, Currency: it.Currency},
			ProviderRef: it.ProviderRef,
		},
		Body: []byte(it.Body), ExpiresAt: time.Unix(it.ExpiresAt, 0).UTC(), Outcome: it.Outcome,
	}
	if it.RefundAmount != nil {
		s.RefundAmount = money.Money{Amount: *it.RefundAmount, Currency: it.Currency}
	}
	var err error
	for _, f := range []struct {
		dst *time.Time
		src string
	}{{&s.OccurredAt, it.OccurredAt}, {&s.ReceivedAt, it.ReceivedAt}, {&s.ProcessedAt, it.ProcessedAt}} {
		if *f.dst, err = parseTime(f.src); err != nil {
			return Stored{}, err
		}
	}
	return s, nil
}

// Key returns the PaymentEventsTable key of a notification key.
func Key(key string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{AttrKey: &types.AttributeValueMemberS{Value: key}}
}

// PutOnce stores e with its raw body on the condition that no notification with its
// key is stored: one PutItem. It reports fresh true when it stored it; otherwise
// (a duplicate) it returns the record already stored, which DynamoDB returns with the
// failed condition (ReturnValuesOnConditionCheckFailure ALL_OLD), or, from a DynamoDB
// that does not, one more read.
func (s *Store) PutOnce(ctx context.Context, e Event, body []byte) (prior Stored, fresh bool, err error) {
	if err := e.Validate(); err != nil {
		return Stored{}, false, err
	}
	av, err := attributevalue.MarshalMap(toItem(e, body))
	if err != nil {
		return Stored{}, false, fmt.Errorf("marshal payment event: %w", err)
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                           aws.String(s.table),
		Item:                                av,
		ConditionExpression:                 aws.String("attribute_not_exists(" + AttrKey + ")"),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err == nil {
		return Stored{}, true, nil
	}
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		return Stored{}, false, fmt.Errorf("put payment event %s: %w", e.Key, err)
	}
	if len(ccf.Item) > 0 {
		prior, err = unmarshal(ccf.Item)
		return prior, false, err
	}
	prior, err = s.Get(ctx, e.Key)
	if errors.Is(err, ErrNotFound) {
		// Gone between the put and the read (TTL): nothing to say but that it was there.
		return Stored{Event: e}, false, nil
	}
	return prior, false, err
}

// Get reads a stored notification (strongly consistent), or ErrNotFound.
func (s *Store) Get(ctx context.Context, key string) (Stored, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: Key(key), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return Stored{}, fmt.Errorf("get payment event %s: %w", key, err)
	}
	if len(out.Item) == 0 {
		return Stored{}, fmt.Errorf("payment event %s: %w", key, ErrNotFound)
	}
	return unmarshal(out.Item)
}

// MarkProcessed records that the payments consumer applied (or rejected) the
// notification with key, and what came of it (outcome). The first mark's time stays;
// the outcome is the last one. A notification that is not stored (expired, or a
// reconcile status answer, which is never stored) is nothing to mark: no error.
func (s *Store) MarkProcessed(ctx context.Context, key, outcome string, at time.Time) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(s.table),
		Key:                 Key(key),
		UpdateExpression:    aws.String("SET processedAt = if_not_exists(processedAt, :at), outcome = :outcome"),
		ConditionExpression: aws.String("attribute_exists(" + AttrKey + ")"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":at":      &types.AttributeValueMemberS{Value: formatTime(at)},
			":outcome": &types.AttributeValueMemberS{Value: outcome},
		},
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("mark payment event %s processed: %w", key, err)
	}
	return nil
}

func unmarshal(av map[string]types.AttributeValue) (Stored, error) {
	var it item
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return Stored{}, fmt.Errorf("unmarshal payment event: %w", err)
	}
	return it.stored()
}
