package promotion

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/etalase/etalase/shared/social/commission"
)

// PromotionsTable's global secondary indexes.
const (
	// FeedIndex (feed, createdAt) is sparse: only ACTIVE promotions carry the feed
	// attribute (FeedPartition), so the feed is one query, newest first.
	FeedIndex = "byFeed"
	// CreatorIndex (creatorId, createdAt) lists a creator's promotions.
	CreatorIndex = "byCreator"
	// ProductIndex (productId, createdAt, keys only) finds a product's promotions.
	ProductIndex = "byProduct"
	// FeedPartition is the feed attribute's one value. One partition holds the whole
	// feed, fine for thousands of active promotions; beyond that the value would be
	// sharded (ACTIVE#0..n) and pages merged.
	FeedPartition = "ACTIVE"
)

// timeLayout is fixed-width UTC, so that times sort and compare as strings (index sort
// keys, and the window condition of CountClick).
const timeLayout = "2006-01-02T15:04:05.000000000Z"

// DynamoAPI is the part of the DynamoDB client DynamoStore uses.
type DynamoAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

// DynamoStore keeps promotions in PromotionsTable. It also serves the commission
// ledger the promotions' terms (commission.TermsSource).
type DynamoStore struct {
	db    DynamoAPI
	table string
}

var (
	_ Store                  = (*DynamoStore)(nil)
	_ commission.TermsSource = (*DynamoStore)(nil)
)

// NewDynamoStore returns a store over PromotionsTable.
func NewDynamoStore(db DynamoAPI, table string) *DynamoStore {
	return &DynamoStore{db: db, table: table}
}

// item is a promotion's storage form.
type item struct {
	PromotionID   string `dynamodbav:"promotionId"`
	CreatorID     string `dynamodbav:"creatorId"`
	ProductID     string `dynamodbav:"productId"`
	Kind          string `dynamodbav:"kind"`
	Caption       string `dynamodbav:"caption"`
	MediaURL      string `dynamodbav:"mediaUrl"`
	CommissionBps int    `dynamodbav:"commissionBps"`
	Currency      string `dynamodbav:"currency"`
	StartsAt      string `dynamodbav:"startsAt"`
	EndsAt        string `dynamodbav:"endsAt"`
	Status        string `dynamodbav:"status"`
	EndReason     string `dynamodbav:"endReason,omitempty"`
	Clicks        int64  `dynamodbav:"clicks"`
	Version       int64  `dynamodbav:"version"`
	CreatedAt     string `dynamodbav:"createdAt"`
	UpdatedAt     string `dynamodbav:"updatedAt"`
	Feed          string `dynamodbav:"feed,omitempty"`
}

func fmtTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func toItem(p Promotion) item {
	it := item{
		PromotionID: p.ID, CreatorID: p.CreatorID, ProductID: p.ProductID, Kind: string(p.Kind),
		Caption: p.Caption, MediaURL: p.MediaURL, CommissionBps: p.CommissionBps, Currency: p.Currency,
		StartsAt: fmtTime(p.StartsAt), EndsAt: fmtTime(p.EndsAt), Status: string(p.Status), EndReason: p.EndReason,
		Clicks: p.Clicks, Version: p.Version, CreatedAt: fmtTime(p.CreatedAt), UpdatedAt: fmtTime(p.UpdatedAt),
	}
	if p.Status == StatusActive {
		it.Feed = FeedPartition
	}
	return it
}

func (it item) toPromotion() (Promotion, error) {
	p := Promotion{
		ID: it.PromotionID, CreatorID: it.CreatorID, ProductID: it.ProductID, Kind: Kind(it.Kind),
		Caption: it.Caption, MediaURL: it.MediaURL, CommissionBps: it.CommissionBps, Currency: it.Currency,
		Status: Status(it.Status), EndReason: it.EndReason, Clicks: it.Clicks, Version: it.Version,
	}
	for _, f := range []struct {
		name string
		raw  string
		dst  *time.Time
	}{
		{"startsAt", it.StartsAt, &p.StartsAt}, {"endsAt", it.EndsAt, &p.EndsAt},
		{"createdAt", it.CreatedAt, &p.CreatedAt}, {"updatedAt", it.UpdatedAt, &p.UpdatedAt},
	} {
		t, err := time.Parse(timeLayout, f.raw)
		if err != nil {
			return Promotion{}, fmt.Errorf("promotion %s: %s: %w", it.PromotionID, f.name, err)
		}
		*f.dst = t
	}
	return p, nil
}

func decode(av map[string]types.AttributeValue) (Promotion, error) {
	var it item
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return Promotion{}, fmt.Errorf("unmarshal promotion: %w", err)
	}
	return it.toPromotion()
}

func key(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"promotionId": &types.AttributeValueMemberS{Value: id}}
}

// Create implements Store.
func (s *DynamoStore) Create(ctx context.Context, p Promotion) error {
	av, err := attributevalue.MarshalMap(toItem(p))
	if err != nil {
		return fmt.Errorf("marshal promotion: %w", err)
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table), Item: av, ConditionExpression: aws.String("attribute_not_exists(promotionId)"),
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &ccf):
		return fmt.Errorf("promotion id %s taken: %w", p.ID, ErrConflict)
	case err != nil:
		return fmt.Errorf("put promotion: %w", err)
	}
	return nil
}

// Get implements Store.
func (s *DynamoStore) Get(ctx context.Context, id string) (Promotion, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: key(id), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return Promotion{}, fmt.Errorf("get promotion: %w", err)
	}
	if len(out.Item) == 0 {
		return Promotion{}, ErrNotFound
	}
	return decode(out.Item)
}

// Terms implements commission.TermsSource.
func (s *DynamoStore) Terms(ctx context.Context, promotionID string) (commission.Terms, error) {
	p, err := s.Get(ctx, promotionID)
	if errors.Is(err, ErrNotFound) {
		return commission.Terms{}, commission.ErrUnknownPromotion
	}
	if err != nil {
		return commission.Terms{}, err
	}
	return p.Terms(), nil
}

// Update implements Store.
func (s *DynamoStore) Update(ctx context.Context, next Promotion) error {
	upd := expression.
		Set(expression.Name("status"), expression.Value(string(next.Status))).
		Set(expression.Name("version"), expression.Value(next.Version)).
		Set(expression.Name("updatedAt"), expression.Value(fmtTime(next.UpdatedAt)))
	if next.EndReason != "" {
		upd = upd.Set(expression.Name("endReason"), expression.Value(next.EndReason))
	}
	if next.Status == StatusActive {
		upd = upd.Set(expression.Name("feed"), expression.Value(FeedPartition))
	} else {
		upd = upd.Remove(expression.Name("feed"))
	}
	cond := expression.And(
		expression.AttributeExists(expression.Name("promotionId")),
		expression.Name("creatorId").Equal(expression.Value(next.CreatorID)),
		expression.Name("version").Equal(expression.Value(next.Version-1)),
	)
	expr, err := expression.NewBuilder().WithUpdate(upd).WithCondition(cond).Build()
	if err != nil {
		return fmt.Errorf("build update: %w", err)
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: key(next.ID),
		UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &ccf):
		if len(ccf.Item) == 0 {
			return ErrNotFound
		}
		cur, derr := decode(ccf.Item)
		if derr != nil {
			return derr
		}
		if cur.CreatorID != next.CreatorID {
			return ErrNotFound
		}
		return fmt.Errorf("promotion %s at version %d, not %d: %w", next.ID, cur.Version, next.Version-1, ErrConflict)
	case err != nil:
		return fmt.Errorf("update promotion: %w", err)
	}
	return nil
}

// CountClick implements Store: ADD clicks 1 with the live condition, in one request.
func (s *DynamoStore) CountClick(ctx context.Context, id string, now time.Time) (Promotion, error) {
	at := fmtTime(now)
	cond := expression.And(
		expression.AttributeExists(expression.Name("promotionId")),
		expression.Name("status").Equal(expression.Value(string(StatusActive))),
		expression.Name("startsAt").LessThanEqual(expression.Value(at)),
		expression.Name("endsAt").GreaterThan(expression.Value(at)),
	)
	upd := expression.Add(expression.Name("clicks"), expression.Value(1))
	expr, err := expression.NewBuilder().WithUpdate(upd).WithCondition(cond).Build()
	if err != nil {
		return Promotion{}, fmt.Errorf("build click: %w", err)
	}
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: key(id),
		UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &ccf):
		if len(ccf.Item) == 0 {
			return Promotion{}, ErrNotFound
		}
		return Promotion{}, ErrNotLive
	case err != nil:
		return Promotion{}, fmt.Errorf("count click: %w", err)
	}
	return decode(out.Attributes)
}

// End implements Store.
func (s *DynamoStore) End(ctx context.Context, id, reason string, now time.Time) (bool, error) {
	upd := expression.
		Set(expression.Name("status"), expression.Value(string(StatusEnded))).
		Set(expression.Name("endReason"), expression.Value(reason)).
		Set(expression.Name("updatedAt"), expression.Value(fmtTime(now))).
		Set(expression.Name("version"), expression.Name("version").Plus(expression.Value(1))).
		Remove(expression.Name("feed"))
	cond := expression.Name("status").In(expression.Value(string(StatusActive)), expression.Value(string(StatusPaused)))
	expr, err := expression.NewBuilder().WithUpdate(upd).WithCondition(cond).Build()
	if err != nil {
		return false, fmt.Errorf("build end: %w", err)
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: key(id),
		UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &ccf):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("end promotion: %w", err)
	}
	return true, nil
}

// ListByCreator implements Store with a query of the creator index, newest first.
func (s *DynamoStore) ListByCreator(ctx context.Context, creatorID string, limit int, after *Cursor) ([]Promotion, bool, error) {
	return s.page(ctx, CreatorIndex, "creatorId", creatorID, limit, after)
}

// Feed implements Store with a query of the sparse feed index, newest first. The index
// projects what the public feed shows and not clicks (template.yaml), so that counting
// a click writes no feed entry: promotions from Feed have Clicks zero.
func (s *DynamoStore) Feed(ctx context.Context, limit int, after *Cursor) ([]Promotion, bool, error) {
	return s.page(ctx, FeedIndex, "feed", FeedPartition, limit, after)
}

// page queries one partition of an index (sort key createdAt), newest first, asking
// for one item more than limit to know whether another page follows. Indexes are
// eventually consistent: a promotion created a moment ago may be missing.
func (s *DynamoStore) page(ctx context.Context, index, hashKey, hashValue string, limit int, after *Cursor) ([]Promotion, bool, error) {
	expr, err := expression.NewBuilder().WithKeyCondition(expression.Key(hashKey).Equal(expression.Value(hashValue))).Build()
	if err != nil {
		return nil, false, fmt.Errorf("build query: %w", err)
	}
	in := &dynamodb.QueryInput{
		TableName: aws.String(s.table), IndexName: aws.String(index),
		KeyConditionExpression: expr.KeyCondition(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ScanIndexForward: aws.Bool(false), Limit: aws.Int32(int32(limit + 1)),
	}
	if after != nil {
		in.ExclusiveStartKey = map[string]types.AttributeValue{
			hashKey:       &types.AttributeValueMemberS{Value: hashValue},
			"createdAt":   &types.AttributeValueMemberS{Value: fmtTime(after.CreatedAt)},
			"promotionId": &types.AttributeValueMemberS{Value: after.ID},
		}
	}
	out, err := s.db.Query(ctx, in)
	if err != nil {
		return nil, false, fmt.Errorf("query %s: %w", index, err)
	}
	ps := make([]Promotion, 0, len(out.Items))
	for _, av := range out.Items {
		p, err := decode(av)
		if err != nil {
			return nil, false, err
		}
		ps = append(ps, p)
	}
	more := len(out.LastEvaluatedKey) > 0
	if len(ps) > limit {
		ps, more = ps[:limit], true
	}
	return ps, more, nil
}

// ByProduct implements Store with a query of the product index (keys only).
func (s *DynamoStore) ByProduct(ctx context.Context, productID string) ([]string, error) {
	expr, err := expression.NewBuilder().WithKeyCondition(expression.Key("productId").Equal(expression.Value(productID))).Build()
	if err != nil {
		return nil, fmt.Errorf("build query: %w", err)
	}
	var ids []string
	var start map[string]types.AttributeValue
	for {
		out, err := s.db.Query(ctx, &dynamodb.QueryInput{
			TableName: aws.String(s.table), IndexName: aws.String(ProductIndex),
			KeyConditionExpression: expr.KeyCondition(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
			ExclusiveStartKey: start,
		})
		if err != nil {
			return nil, fmt.Errorf("query %s: %w", ProductIndex, err)
		}
		for _, av := range out.Items {
			if v, ok := av["promotionId"].(*types.AttributeValueMemberS); ok {
				ids = append(ids, v.Value)
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			return ids, nil
		}
		start = out.LastEvaluatedKey
	}
}
