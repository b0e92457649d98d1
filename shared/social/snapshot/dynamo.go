package snapshot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/etalase/etalase/shared/social/money"
)

// maxBatchGet is BatchGetItem's limit of keys per call.
const maxBatchGet = 100

// maxBatchRounds bounds the retries of unprocessed keys of one GetMany.
const maxBatchRounds = 8

// DynamoAPI is the part of the DynamoDB client DynamoStore uses.
type DynamoAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
}

// DynamoStore keeps snapshots in SnapshotsTable, one item per product.
type DynamoStore struct {
	db    DynamoAPI
	table string
}

var _ Store = (*DynamoStore)(nil)

// NewDynamoStore returns a store over SnapshotsTable.
func NewDynamoStore(db DynamoAPI, table string) *DynamoStore {
	return &DynamoStore{db: db, table: table}
}

// item is a snapshot's storage form.
type item struct {
	ProductID     string `dynamodbav:"productId"`
	SellerID      string `dynamodbav:"sellerId"`
	Title         string `dynamodbav:"title"`
	ImageURL      string `dynamodbav:"imageUrl"`
	PriceAmount   int64  `dynamodbav:"priceAmount"`
	PriceCurrency string `dynamodbav:"priceCurrency"`
	InStock       bool   `dynamodbav:"inStock"`
	Listed        bool   `dynamodbav:"listed"`
	Version       int64  `dynamodbav:"version"`
	UpdatedAt     string `dynamodbav:"updatedAt"`
}

func toItem(s Snapshot) item {
	return item{
		ProductID: s.ProductID, SellerID: s.SellerID, Title: s.Title, ImageURL: s.ImageURL,
		PriceAmount: s.Price.Amount, PriceCurrency: s.Price.Currency,
		InStock: s.InStock, Listed: s.Listed, Version: s.Version,
		UpdatedAt: s.UpdatedAt.UTC().Format(time.RFC3339Nano),
	}
}

func decode(av map[string]types.AttributeValue) (Snapshot, error) {
	var it item
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return Snapshot{}, fmt.Errorf("unmarshal snapshot: %w", err)
	}
	at, err := time.Parse(time.RFC3339Nano, it.UpdatedAt)
	if err != nil {
		return Snapshot{}, fmt.Errorf("snapshot %s: updatedAt: %w", it.ProductID, err)
	}
	return Snapshot{
		ProductID: it.ProductID, SellerID: it.SellerID, Title: it.Title, ImageURL: it.ImageURL,
		Price:   money.Money{Amount: it.PriceAmount, Currency: it.PriceCurrency},
		InStock: it.InStock, Listed: it.Listed, Version: it.Version, UpdatedAt: at,
	}, nil
}

func key(productID string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"productId": &types.AttributeValueMemberS{Value: productID}}
}

// Get implements Store. The read is eventually consistent (half a read unit): a
// snapshot is itself a copy that follows commerce's catalog with a delay, and the
// inbox's writes do not read through Get.
func (s *DynamoStore) Get(ctx context.Context, productID string) (Snapshot, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: key(productID),
	})
	if err != nil {
		return Snapshot{}, fmt.Errorf("get snapshot: %w", err)
	}
	if len(out.Item) == 0 {
		return Snapshot{}, ErrNotFound
	}
	return decode(out.Item)
}

// GetMany implements Store with BatchGetItem, retrying unprocessed keys a few times.
func (s *DynamoStore) GetMany(ctx context.Context, productIDs []string) (map[string]Snapshot, error) {
	ids := slices.Clone(productIDs)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	out := make(map[string]Snapshot, len(ids))
	for start := 0; start < len(ids); start += maxBatchGet {
		keys := make([]map[string]types.AttributeValue, 0, maxBatchGet)
		for _, id := range ids[start:min(start+maxBatchGet, len(ids))] {
			if id != "" {
				keys = append(keys, key(id))
			}
		}
		req := map[string]types.KeysAndAttributes{s.table: {Keys: keys}}
		for round := 0; len(req) > 0 && len(req[s.table].Keys) > 0; round++ {
			if round == maxBatchRounds {
				return nil, errors.New("get snapshots: unprocessed keys remain")
			}
			res, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
			if err != nil {
				return nil, fmt.Errorf("get snapshots: %w", err)
			}
			for _, av := range res.Responses[s.table] {
				snap, err := decode(av)
				if err != nil {
					return nil, err
				}
				out[snap.ProductID] = snap
			}
			req = res.UnprocessedKeys
			if len(req) > 0 {
				if err := pause(ctx, round); err != nil {
					return nil, err
				}
			}
		}
	}
	return out, nil
}

// pause backs off before retrying unprocessed keys.
func pause(ctx context.Context, round int) error {
	t := time.NewTimer(time.Duration(10<<min(round, 6)) * time.Millisecond)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Put implements Store: a conditional put that only replaces an older version.
func (s *DynamoStore) Put(ctx context.Context, snap Snapshot) (bool, error) {
	av, err := attributevalue.MarshalMap(toItem(snap))
	if err != nil {
		return false, fmt.Errorf("marshal snapshot: %w", err)
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 aws.String(s.table),
		Item:                      av,
		ConditionExpression:       aws.String("attribute_not_exists(productId) OR version < :v"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: fmt.Sprint(snap.Version)}},
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &ccf):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("put snapshot: %w", err)
	}
	return true, nil
}
