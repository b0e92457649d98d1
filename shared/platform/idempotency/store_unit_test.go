package idempotency_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/etalase/etalase/shared/platform/idempotency"
)

// fakeDB fails the conditional puts it is told to, without the old item (as a DynamoDB
// that ignores ReturnValuesOnConditionCheckFailure would), and serves reads from a queue.
type fakeDB struct {
	failPuts  int
	gets      []map[string]types.AttributeValue
	puts      int
	reads     int
	conflicts int   // UpdateItem and DeleteItem fail with a transaction conflict this often first
	writeErr  error // then fail with this, if set
	writes    int
}

func (f *fakeDB) PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	f.puts++
	if f.puts <= f.failPuts {
		return nil, &types.ConditionalCheckFailedException{Message: aws.String("The conditional request failed")}
	}
	return &dynamodb.PutItemOutput{}, nil
}

func (f *fakeDB) GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	it := f.gets[f.reads]
	f.reads++
	return &dynamodb.GetItemOutput{Item: it}, nil
}

func (f *fakeDB) UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	f.writes++
	if f.writes <= f.conflicts {
		return nil, &types.TransactionConflictException{Message: aws.String("ongoing transaction")}
	}
	if f.writeErr != nil {
		return nil, f.writeErr
	}
	return &dynamodb.UpdateItemOutput{}, nil
}

func (f *fakeDB) DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	f.writes++
	if f.writes <= f.conflicts {
		return nil, &types.TransactionConflictException{Message: aws.String("ongoing transaction")}
	}
	if f.writeErr != nil {
		return nil, f.writeErr
	}
	return &dynamodb.DeleteItemOutput{}, nil
}

// Complete and Release retry a write that a transaction conflict rejected (DynamoDB
// did not perform it; the SDK does not retry it), a bounded number of times, and
// nothing else: a failed condition means the lease is lost.
func TestCompleteAndReleaseRetryConflicts(t *testing.T) {
	tests := []struct {
		name       string
		conflicts  int
		writeErr   error
		wantWrites int
		wantErr    error // nil: success; else errors.Is target, or any error when errAny
		errAny     bool
	}{
		{"no conflict", 0, nil, 1, nil, false},
		{"two conflicts then success", 2, nil, 3, nil, false},
		{"conflicts every time", 100, nil, 4, nil, true},
		{"lost lease is not retried", 0, &types.ConditionalCheckFailedException{Message: aws.String("no")}, 1, idempotency.ErrLeaseLost, false},
	}
	ops := map[string]func(s *idempotency.DynamoStore) error{
		"Complete": func(s *idempotency.DynamoStore) error {
			return s.Complete(context.Background(), scope, key, "token", []byte("r"))
		},
		"Release": func(s *idempotency.DynamoStore) error {
			return s.Release(context.Background(), scope, key, "token")
		},
	}
	for op, call := range ops {
		for _, tt := range tests {
			t.Run(op+"/"+tt.name, func(t *testing.T) {
				db := &fakeDB{conflicts: tt.conflicts, writeErr: tt.writeErr}
				s, err := idempotency.NewDynamoStore(db, "Idempotency")
				if err != nil {
					t.Fatal(err)
				}
				err = call(s)
				switch {
				case tt.errAny && err == nil:
					t.Errorf("%s = nil, want an error", op)
				case !tt.errAny && tt.wantErr == nil && err != nil:
					t.Errorf("%s = %v, want nil", op, err)
				case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
					t.Errorf("%s = %v, want %v", op, err, tt.wantErr)
				}
				if db.writes != tt.wantWrites {
					t.Errorf("%s wrote %d times, want %d", op, db.writes, tt.wantWrites)
				}
			})
		}
	}
}

func TestBeginReadsTheRecordWhenNotReturned(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	completed := map[string]types.AttributeValue{
		"pk":          &types.AttributeValueMemberS{Value: idempotency.PK(scope, key)},
		"state":       &types.AttributeValueMemberS{Value: idempotency.StateCompleted},
		"requestHash": &types.AttributeValueMemberB{Value: hashA},
		"expiresAt":   &types.AttributeValueMemberN{Value: "1767312000"}, // now + 24 h
		"response":    &types.AttributeValueMemberB{Value: []byte("stored")},
	}
	expired := map[string]types.AttributeValue{
		"pk":          &types.AttributeValueMemberS{Value: idempotency.PK(scope, key)},
		"state":       &types.AttributeValueMemberS{Value: idempotency.StateCompleted},
		"requestHash": &types.AttributeValueMemberB{Value: hashB},
		"expiresAt":   &types.AttributeValueMemberN{Value: "1767225600"}, // now
	}
	tests := []struct {
		name      string
		db        *fakeDB
		want      idempotency.Kind
		wantPuts  int
		wantReads int
	}{
		{"read shows a completed record", &fakeDB{failPuts: 1, gets: []map[string]types.AttributeValue{completed}}, idempotency.Replay, 1, 1},
		{"record gone before the read", &fakeDB{failPuts: 1, gets: []map[string]types.AttributeValue{nil}}, idempotency.Fresh, 2, 1},
		{"read shows an expired record", &fakeDB{failPuts: 1, gets: []map[string]types.AttributeValue{expired}}, idempotency.Fresh, 2, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := idempotency.NewDynamoStore(tt.db, "Idempotency", idempotency.WithClock(func() time.Time { return now }))
			if err != nil {
				t.Fatal(err)
			}
			o, err := s.Begin(context.Background(), scope, key, hashA, now.Add(time.Second))
			if err != nil || o.Kind != tt.want || tt.db.puts != tt.wantPuts || tt.db.reads != tt.wantReads {
				t.Errorf("Begin = %v, %v after %d puts and %d reads; want %v after %d and %d",
					o.Kind, err, tt.db.puts, tt.db.reads, tt.want, tt.wantPuts, tt.wantReads)
			}
		})
	}
	// A record that keeps vanishing gives up instead of looping.
	db := &fakeDB{failPuts: 100, gets: make([]map[string]types.AttributeValue, 100)}
	s, _ := idempotency.NewDynamoStore(db, "Idempotency", idempotency.WithClock(func() time.Time { return now }))
	if _, err := s.Begin(context.Background(), scope, key, hashA, now.Add(time.Second)); err == nil || db.puts != 5 {
		t.Errorf("endless race: err %v after %d puts", err, db.puts)
	}
}

// ownRecordDB stores the put's item and then answers as the SDK does when the answer to
// a put that succeeded was lost and its retry failed the condition on the item the first
// attempt wrote: ConditionalCheckFailedException with that item.
type ownRecordDB struct {
	fakeDB
	item map[string]types.AttributeValue
}

func (f *ownRecordDB) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	f.puts++
	f.item = in.Item
	return nil, &types.ConditionalCheckFailedException{Message: aws.String("The conditional request failed"), Item: in.Item}
}

// Found by the reliability suite's fault injection (infra/reliability): the claim's put
// succeeded, its answer was lost, and the SDK's retry found the attempt's own record,
// which Begin took for another attempt in progress: the client got 409
// idempotency_in_progress until the lease ran out.
func TestBeginFindsItsOwnRecord(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	db := &ownRecordDB{}
	s, err := idempotency.NewDynamoStore(db, "Idempotency", idempotency.WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	o, err := s.Begin(context.Background(), scope, key, hashA, now.Add(time.Minute))
	if err != nil || o.Kind != idempotency.Fresh || o.Token == "" || db.puts != 1 {
		t.Fatalf("Begin = %+v, %v after %d puts; want Fresh after 1", o, err, db.puts)
	}
	if tok, ok := db.item["token"].(*types.AttributeValueMemberS); !ok || tok.Value != o.Token {
		t.Errorf("token %q, the stored record holds %v", o.Token, db.item["token"])
	}
}
