package idempotency

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/etalase/etalase/shared/platform/ident"
)

// Retention bounds: a record (and so a replayable response) is kept at least a day,
// as clients retry for hours (mobile apps coming back online).
const (
	DefaultRetention = 24 * time.Hour
	MinRetention     = 24 * time.Hour
)

// Key limits: 8 to 255 characters of letters, digits and - _ . : ~ + / = (a UUID, a
// ULID, base64 or base64url of random bytes). '#' is excluded, so scope#key is
// unambiguous; short keys are refused because a constant key ("1") would replay
// another purchase's response.
const (
	MinKeyLength = 8
	MaxKeyLength = 255
	// MaxScopeLength bounds the scope (a user id); the table key stays far below
	// DynamoDB's 2048-byte limit.
	MaxScopeLength = 1024
	// MaxResponseBytes bounds a stored response, well inside DynamoDB's 400 KB item.
	MaxResponseBytes = 300 << 10
)

// ValidKey reports whether key is an acceptable idempotency key.
func ValidKey(key string) bool {
	return len(key) >= MinKeyLength && len(key) <= MaxKeyLength && ident.AlnumOr(key, "._:~+/=-")
}

// Record states, as stored.
const (
	StateInProgress = "INPROGRESS"
	StateCompleted  = "COMPLETED"
)

// Kind is the outcome of Begin.
type Kind int

// Outcomes of Begin.
const (
	// Fresh: no live record existed; the caller now holds the key (Outcome.Token) and
	// must Complete or Release it.
	Fresh Kind = iota + 1
	// Replay: the same request completed before; Outcome.Response is what it answered.
	Replay
	// InProgress: the same request is being processed by another attempt whose lease
	// runs until Outcome.InProgressUntil.
	InProgress
	// Mismatch: the key was used for a different request (another request hash), live
	// or completed.
	Mismatch
)

// String names the kind, for logs and tests.
func (k Kind) String() string {
	switch k {
	case Fresh:
		return "Fresh"
	case Replay:
		return "Replay"
	case InProgress:
		return "InProgress"
	case Mismatch:
		return "Mismatch"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Outcome is what Begin found.
type Outcome struct {
	// Kind is the outcome.
	Kind Kind
	// Token identifies this attempt's hold on the key (Fresh only); Complete and
	// Release need it, so that an attempt whose lease expired and was taken over
	// cannot overwrite or delete its successor's record.
	Token string
	// Response is the stored response (Replay only), as given to Complete.
	Response []byte
	// InProgressUntil is when the running attempt's lease ends (InProgress only).
	InProgressUntil time.Time
}

// Sentinel errors.
var (
	// ErrInvalidKey: the key or scope breaks the rules (ValidKey, MaxScopeLength).
	ErrInvalidKey = errors.New("invalid idempotency key")
	// ErrInvalidLease: Begin's inProgressUntil is not after now, or not before the
	// record's expiry.
	ErrInvalidLease = errors.New("invalid in-progress expiry")
	// ErrLeaseLost: Complete or Release with a token that no longer holds the key:
	// the attempt's lease expired and another attempt took it over, or the record was
	// completed or released already.
	ErrLeaseLost = errors.New("idempotency key no longer held")
	// ErrResponseTooLarge: the response exceeds MaxResponseBytes.
	ErrResponseTooLarge = errors.New("response too large to store")
)

// DynamoAPI is the part of the DynamoDB client DynamoStore uses.
type DynamoAPI interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

// DynamoStore keeps idempotency records in a DynamoDB table whose key is the string
// attribute pk and whose TTL attribute is expiresAt (IdempotencyTable in template.yaml).
type DynamoStore struct {
	db        DynamoAPI
	table     string
	retention time.Duration
	now       func() time.Time
}

var _ Keeper = (*DynamoStore)(nil)

// Option configures a DynamoStore.
type Option func(*DynamoStore)

// WithRetention sets how long a record lives (DefaultRetention; at least MinRetention).
func WithRetention(d time.Duration) Option { return func(s *DynamoStore) { s.retention = d } }

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) Option { return func(s *DynamoStore) { s.now = now } }

// NewDynamoStore returns a store over table.
func NewDynamoStore(db DynamoAPI, table string, opts ...Option) (*DynamoStore, error) {
	s := &DynamoStore{db: db, table: table, retention: DefaultRetention, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	if table == "" {
		return nil, errors.New("idempotency store: no table")
	}
	if s.retention < MinRetention {
		return nil, fmt.Errorf("idempotency store: retention %s is below %s", s.retention, MinRetention)
	}
	return s, nil
}

// item is a record's storage form.
type item struct {
	PK              string `dynamodbav:"pk"`
	State           string `dynamodbav:"state"`
	RequestHash     []byte `dynamodbav:"requestHash"`
	Token           string `dynamodbav:"token,omitempty"`
	InProgressUntil int64  `dynamodbav:"inProgressUntil,omitempty"` // Unix milliseconds
	ExpiresAt       int64  `dynamodbav:"expiresAt"`                 // Unix seconds: the TTL attribute
	CreatedAt       string `dynamodbav:"createdAt"`
	CompletedAt     string `dynamodbav:"completedAt,omitempty"`
	Response        []byte `dynamodbav:"response,omitempty"`
}

// live reports whether the record still counts at now. TTL deletion lags by up to
// days, so an expired record may still be there; it counts as absent.
func (it item) live(now time.Time) bool {
	if it.ExpiresAt <= now.Unix() {
		return false
	}
	return it.State == StateCompleted || it.State == StateInProgress && it.InProgressUntil > now.UnixMilli()
}

// PK returns the table key of (scope, key): scope + "#" + key. A key never contains
// '#', so the last '#' separates them.
func PK(scope, key string) string { return scope + "#" + key }

func check(scope, key string) error {
	switch {
	case scope == "" || len(scope) > MaxScopeLength:
		return fmt.Errorf("%w: scope of %d bytes", ErrInvalidKey, len(scope))
	case !ValidKey(key):
		return fmt.Errorf("%w: key %q", ErrInvalidKey, key)
	}
	return nil
}

func newToken() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("idempotency token: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// Begin claims (scope, key) for a request with requestHash until inProgressUntil (the
// attempt's lease; see LeaseUntil). It writes an in-progress record on the condition
// that no live record exists: none at all, one past its expiry (expiresAt, in case TTL
// has not deleted it yet), or an in-progress one whose lease ended (a timed-out
// attempt). Otherwise it reports what exists: Mismatch if its request hash differs
// (whatever its state), Replay if it is completed, InProgress if it is held.
//
// The conditional put decides atomically: of concurrent Begins of one key, exactly one
// is Fresh.
func (s *DynamoStore) Begin(ctx context.Context, scope, key string, requestHash []byte, inProgressUntil time.Time) (Outcome, error) {
	if err := check(scope, key); err != nil {
		return Outcome{}, err
	}
	if len(requestHash) == 0 {
		return Outcome{}, errors.New("idempotency begin: empty request hash")
	}
	pk := PK(scope, key)
	for attempt := 1; ; attempt++ {
		now := s.now()
		expires := now.Add(s.retention)
		if !inProgressUntil.After(now) || !inProgressUntil.Before(expires) {
			return Outcome{}, fmt.Errorf("%w: %s at %s", ErrInvalidLease, inProgressUntil.UTC().Format(time.RFC3339Nano), now.UTC().Format(time.RFC3339Nano))
		}
		token, err := newToken()
		if err != nil {
			return Outcome{}, err
		}
		av, err := attributevalue.MarshalMap(item{
			PK: pk, State: StateInProgress, RequestHash: requestHash, Token: token,
			InProgressUntil: inProgressUntil.UnixMilli(), ExpiresAt: expires.Unix(),
			CreatedAt: now.UTC().Format(time.RFC3339Nano),
		})
		if err != nil {
			return Outcome{}, fmt.Errorf("marshal idempotency record: %w", err)
		}
		_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: aws.String(s.table),
			Item:      av,
			ConditionExpression: aws.String("attribute_not_exists(pk) OR expiresAt <= :nowSec OR " +
				"(#state = :inProgress AND inProgressUntil <= :nowMs)"),
			ExpressionAttributeNames: map[string]string{"#state": "state"},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":nowSec":     &types.AttributeValueMemberN{Value: strconv.FormatInt(now.Unix(), 10)},
				":nowMs":      &types.AttributeValueMemberN{Value: strconv.FormatInt(now.UnixMilli(), 10)},
				":inProgress": &types.AttributeValueMemberS{Value: StateInProgress},
			},
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		})
		if err == nil {
			return Outcome{Kind: Fresh, Token: token}, nil
		}
		var ccf *types.ConditionalCheckFailedException
		if !errors.As(err, &ccf) {
			return Outcome{}, fmt.Errorf("put idempotency record: %w", err)
		}
		old := ccf.Item
		if len(old) == 0 { // not every DynamoDB returns ALL_OLD; read it
			out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
				TableName: aws.String(s.table), Key: key1(pk), ConsistentRead: aws.Bool(true),
			})
			if err != nil {
				return Outcome{}, fmt.Errorf("get idempotency record: %w", err)
			}
			old = out.Item
		}
		if len(old) > 0 {
			var it item
			if err := attributevalue.UnmarshalMap(old, &it); err != nil {
				return Outcome{}, fmt.Errorf("unmarshal idempotency record: %w", err)
			}
			if it.State == StateInProgress && subtle.ConstantTimeCompare([]byte(it.Token), []byte(token)) == 1 {
				// Our own record: the put went through, but its answer was lost (a
				// timeout, a 5xx after the write) and the SDK's retry of it found the
				// record the first attempt wrote. The key is ours.
				return Outcome{Kind: Fresh, Token: token}, nil
			}
			if it.live(s.now()) {
				return classify(it, requestHash), nil
			}
		}
		// The record went away (released, or expired) between the put and the read:
		// try again, a bounded number of times.
		if attempt >= 5 {
			return Outcome{}, fmt.Errorf("idempotency begin %s: the record keeps changing", pk)
		}
	}
}

// classify says what a live record means for a request with requestHash.
func classify(it item, requestHash []byte) Outcome {
	switch {
	case subtle.ConstantTimeCompare(it.RequestHash, requestHash) != 1:
		return Outcome{Kind: Mismatch}
	case it.State == StateCompleted:
		return Outcome{Kind: Replay, Response: it.Response}
	default:
		return Outcome{Kind: InProgress, InProgressUntil: time.UnixMilli(it.InProgressUntil).UTC()}
	}
}

func key1(pk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}}
}

// Complete stores response (opaque bytes; the middleware stores status, headers and
// body) as the outcome of (scope, key), on the condition that token still holds the
// in-progress record, and keeps the record for the retention period from now. It
// fails with ErrLeaseLost when another attempt took the key over.
func (s *DynamoStore) Complete(ctx context.Context, scope, key, token string, response []byte) error {
	if err := check(scope, key); err != nil {
		return err
	}
	if len(response) > MaxResponseBytes {
		return fmt.Errorf("%w: %d bytes", ErrResponseTooLarge, len(response))
	}
	if response == nil {
		response = []byte{}
	}
	now := s.now()
	in := &dynamodb.UpdateItemInput{
		TableName:           aws.String(s.table),
		Key:                 key1(PK(scope, key)),
		UpdateExpression:    aws.String("SET #state = :completed, #response = :response, completedAt = :now, expiresAt = :expires REMOVE inProgressUntil, #token"),
		ConditionExpression: aws.String("#state = :inProgress AND #token = :token"),
		ExpressionAttributeNames: map[string]string{
			"#state": "state", "#token": "token", "#response": "response",
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":completed":  &types.AttributeValueMemberS{Value: StateCompleted},
			":inProgress": &types.AttributeValueMemberS{Value: StateInProgress},
			":response":   &types.AttributeValueMemberB{Value: response},
			":now":        &types.AttributeValueMemberS{Value: now.UTC().Format(time.RFC3339Nano)},
			":expires":    &types.AttributeValueMemberN{Value: strconv.FormatInt(now.Add(s.retention).Unix(), 10)},
			":token":      &types.AttributeValueMemberS{Value: token},
		},
	}
	err := retryConflicts(ctx, func() error {
		_, err := s.db.UpdateItem(ctx, in)
		return err
	})
	return leaseError("complete", err)
}

// Release deletes the in-progress record of (scope, key) held by token, so that a
// retry of a request that failed without effect starts afresh instead of waiting for
// the lease to end. ErrLeaseLost when token no longer holds it.
func (s *DynamoStore) Release(ctx context.Context, scope, key, token string) error {
	if err := check(scope, key); err != nil {
		return err
	}
	in := &dynamodb.DeleteItemInput{
		TableName:                aws.String(s.table),
		Key:                      key1(PK(scope, key)),
		ConditionExpression:      aws.String("#state = :inProgress AND #token = :token"),
		ExpressionAttributeNames: map[string]string{"#state": "state", "#token": "token"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":inProgress": &types.AttributeValueMemberS{Value: StateInProgress},
			":token":      &types.AttributeValueMemberS{Value: token},
		},
	}
	err := retryConflicts(ctx, func() error {
		_, err := s.db.DeleteItem(ctx, in)
		return err
	})
	return leaseError("release", err)
}

// conflictAttempts bounds retryConflicts: a conflict is another writer's transaction
// on the same item, over within milliseconds.
const conflictAttempts = 4

// retryConflicts runs write again, after a short growing pause, while it fails with a
// TransactionConflictException: DynamoDB did not perform it and the SDK does not retry
// it. Without this, a conflict on Complete or Release would hold the key until the
// lease ends, and the client's retries would get 409 for that long.
func retryConflicts(ctx context.Context, write func() error) error {
	var err error
	for i := range conflictAttempts {
		if err = write(); err == nil {
			return nil
		}
		var conflict *types.TransactionConflictException
		if !errors.As(err, &conflict) || i == conflictAttempts-1 {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(10<<i) * time.Millisecond):
		}
	}
	return err
}

func leaseError(op string, err error) error {
	if err == nil {
		return nil
	}
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return fmt.Errorf("idempotency %s: %w", op, ErrLeaseLost)
	}
	return fmt.Errorf("idempotency %s: %w", op, err)
}

// Lease defaults of LeaseUntil as the middleware uses it.
const (
	// DefaultLeaseMargin is added to the invocation's deadline: Lambda ends the
	// invocation at its deadline, and the margin covers clock differences between hosts.
	DefaultLeaseMargin = 5 * time.Second
	// DefaultLeaseWithoutDeadline is the lease of a context without a deadline (tests,
	// local tools; Lambda contexts always have one).
	DefaultLeaseWithoutDeadline = 30 * time.Second
)

// LeaseUntil returns the in-progress expiry of an attempt running under ctx: ctx's
// deadline (in Lambda, the invocation's timeout) plus margin, or now plus
// withoutDeadline if ctx has none. After it, the attempt is surely dead and a retry
// may take the key over.
func LeaseUntil(ctx context.Context, now time.Time, margin, withoutDeadline time.Duration) time.Time {
	if d, ok := ctx.Deadline(); ok {
		if until := d.Add(margin); until.After(now) {
			return until
		}
		return now.Add(margin)
	}
	return now.Add(withoutDeadline)
}
