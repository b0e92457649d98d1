package commission

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// MarkerRetention is how long an applied-event marker is kept: far longer than any
// redelivery (the inbox queue keeps messages 4 days, commerce's outbox 7).
const MarkerRetention = 90 * 24 * time.Hour

// Key prefixes and sort keys of CommissionsTable.
const (
	eventPK     = "EVENT#"
	eventSK     = "EVENT"
	linePK      = "LINE#"
	lineSK      = "LINE"
	promotionPK = "PROMOTION#"
	statsSK     = "STATS#"
	creatorPK   = "CREATOR#"
	earningsSK  = "EARNINGS#"
)

// maxBatchGet is BatchGetItem's limit of keys per call.
const maxBatchGet = 100

// DynamoAPI is the part of the DynamoDB client DynamoStore uses.
type DynamoAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// DynamoStore keeps the ledger in CommissionsTable.
type DynamoStore struct {
	db    DynamoAPI
	table string
	now   func() time.Time
}

var _ Store = (*DynamoStore)(nil)

// NewDynamoStore returns a store over CommissionsTable.
func NewDynamoStore(db DynamoAPI, table string) *DynamoStore {
	return &DynamoStore{db: db, table: table, now: time.Now}
}

func itemKey(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: pk},
		"sk": &types.AttributeValueMemberS{Value: sk},
	}
}

// lineKey is the partition key of a line. Order and line refs contain no '#'.
func lineKey(orderRef, lineRef string) string { return linePK + orderRef + "#" + lineRef }

// lineItem is a line's storage form.
type lineItem struct {
	PK                 string `dynamodbav:"pk"`
	SK                 string `dynamodbav:"sk"`
	OrderRef           string `dynamodbav:"orderRef"`
	LineRef            string `dynamodbav:"lineRef"`
	PromotionID        string `dynamodbav:"promotionId"`
	CreatorID          string `dynamodbav:"creatorId"`
	ProductID          string `dynamodbav:"productId"`
	Currency           string `dynamodbav:"currency"`
	RateBps            int    `dynamodbav:"rateBps"`
	Attributed         bool   `dynamodbav:"attributed"`
	Quantity           int    `dynamodbav:"quantity"`
	Amount             int64  `dynamodbav:"amount"`
	Commission         int64  `dynamodbav:"commission"`
	SoldAt             string `dynamodbav:"soldAt,omitempty"`
	RefundedTotal      int64  `dynamodbav:"refundedTotal"`
	RefundedUnits      int    `dynamodbav:"refundedUnits"`
	ReversedAmount     int64  `dynamodbav:"reversedAmount"`
	ReversedCommission int64  `dynamodbav:"reversedCommission"`
	Version            int64  `dynamodbav:"version"`
}

// GetLine implements Store.
func (s *DynamoStore) GetLine(ctx context.Context, orderRef, lineRef string) (Line, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: itemKey(lineKey(orderRef, lineRef), lineSK), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return Line{}, fmt.Errorf("get line: %w", err)
	}
	if len(out.Item) == 0 {
		return Line{OrderRef: orderRef, LineRef: lineRef}, nil
	}
	var it lineItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return Line{}, fmt.Errorf("unmarshal line: %w", err)
	}
	l := Line{
		OrderRef: it.OrderRef, LineRef: it.LineRef, PromotionID: it.PromotionID, CreatorID: it.CreatorID,
		ProductID: it.ProductID, Currency: it.Currency, RateBps: it.RateBps, Attributed: it.Attributed,
		Quantity: it.Quantity, Amount: it.Amount, Commission: it.Commission,
		RefundedTotal: it.RefundedTotal, RefundedUnits: it.RefundedUnits,
		ReversedAmount: it.ReversedAmount, ReversedCommission: it.ReversedCommission, Version: it.Version,
	}
	if it.SoldAt != "" {
		if l.SoldAt, err = time.Parse(time.RFC3339Nano, it.SoldAt); err != nil {
			return Line{}, fmt.Errorf("line %s: soldAt: %w", it.PK, err)
		}
	}
	return l, nil
}

// Apply implements Store.
func (s *DynamoStore) Apply(ctx context.Context, eventID, eventType string, next Line, delta Totals) error {
	now := s.now().UTC()
	marker, err := attributevalue.MarshalMap(map[string]any{
		"pk": eventPK + eventID, "sk": eventSK, "eventType": eventType,
		"appliedAt": now.Format(time.RFC3339Nano), "expiresAt": now.Add(MarkerRetention).Unix(),
	})
	if err != nil {
		return fmt.Errorf("marshal marker: %w", err)
	}
	it := lineItem{
		PK: lineKey(next.OrderRef, next.LineRef), SK: lineSK,
		OrderRef: next.OrderRef, LineRef: next.LineRef, PromotionID: next.PromotionID, CreatorID: next.CreatorID,
		ProductID: next.ProductID, Currency: next.Currency, RateBps: next.RateBps, Attributed: next.Attributed,
		Quantity: next.Quantity, Amount: next.Amount, Commission: next.Commission,
		RefundedTotal: next.RefundedTotal, RefundedUnits: next.RefundedUnits,
		ReversedAmount: next.ReversedAmount, ReversedCommission: next.ReversedCommission, Version: next.Version,
	}
	if !next.SoldAt.IsZero() {
		it.SoldAt = next.SoldAt.UTC().Format(time.RFC3339Nano)
	}
	line, err := attributevalue.MarshalMap(it)
	if err != nil {
		return fmt.Errorf("marshal line: %w", err)
	}
	linePut := &types.Put{TableName: aws.String(s.table), Item: line}
	if next.Version <= 1 {
		linePut.ConditionExpression = aws.String("attribute_not_exists(pk)")
	} else {
		linePut.ConditionExpression = aws.String("version = :prev")
		linePut.ExpressionAttributeValues = map[string]types.AttributeValue{
			":prev": &types.AttributeValueMemberN{Value: fmt.Sprint(next.Version - 1)},
		}
	}
	stats, err := s.addTotals(itemKey(promotionPK+next.PromotionID, statsSK+next.Currency),
		map[string]string{"promotionId": next.PromotionID, "currency": next.Currency}, delta, now)
	if err != nil {
		return err
	}
	earnings, err := s.addTotals(itemKey(creatorPK+next.CreatorID, earningsSK+next.Currency),
		map[string]string{"creatorId": next.CreatorID, "currency": next.Currency}, delta, now)
	if err != nil {
		return err
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String(s.table), Item: marker, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
		{Put: linePut},
		{Update: stats},
		{Update: earnings},
	}})
	if err == nil {
		return nil
	}
	var canceled *types.TransactionCanceledException
	if errors.As(err, &canceled) {
		reason := func(i int) string {
			if i < len(canceled.CancellationReasons) {
				return aws.ToString(canceled.CancellationReasons[i].Code)
			}
			return ""
		}
		switch {
		case reason(0) == "ConditionalCheckFailed":
			return fmt.Errorf("event %s: %w", eventID, ErrDuplicate)
		case reason(1) == "ConditionalCheckFailed":
			return fmt.Errorf("line %s/%s not at version %d: %w", next.OrderRef, next.LineRef, next.Version-1, ErrConflict)
		}
		for i := range canceled.CancellationReasons {
			if reason(i) == "TransactionConflict" {
				return fmt.Errorf("transaction conflict: %w", ErrConflict)
			}
		}
	}
	var conflict *types.TransactionConflictException
	if errors.As(err, &conflict) {
		return fmt.Errorf("transaction conflict: %w", ErrConflict)
	}
	return fmt.Errorf("apply %s %s: %w", eventType, eventID, err)
}

// addTotals builds the update that adds delta to a totals item, creating it with its
// identifying attributes if needed.
func (s *DynamoStore) addTotals(key map[string]types.AttributeValue, ids map[string]string, d Totals, now time.Time) (*types.Update, error) {
	upd := expression.
		Add(expression.Name("sales"), expression.Value(d.Sales)).
		Add(expression.Name("units"), expression.Value(d.Units)).
		Add(expression.Name("salesAmount"), expression.Value(d.SalesAmount)).
		Add(expression.Name("commission"), expression.Value(d.Commission)).
		Add(expression.Name("reversals"), expression.Value(d.Reversals)).
		Add(expression.Name("reversedAmount"), expression.Value(d.ReversedAmount)).
		Add(expression.Name("reversedCommission"), expression.Value(d.ReversedCommission)).
		Set(expression.Name("updatedAt"), expression.Value(now.Format(time.RFC3339Nano)))
	for _, k := range sortedKeys(ids) {
		upd = upd.Set(expression.Name(k), expression.Value(ids[k]))
	}
	expr, err := expression.NewBuilder().WithUpdate(upd).Build()
	if err != nil {
		return nil, fmt.Errorf("build totals update: %w", err)
	}
	return &types.Update{
		TableName: aws.String(s.table), Key: key,
		UpdateExpression: expr.Update(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	}, nil
}

// totalsItem is the storage form of stats and earnings.
type totalsItem struct {
	PK                 string `dynamodbav:"pk"`
	SK                 string `dynamodbav:"sk"`
	PromotionID        string `dynamodbav:"promotionId"`
	CreatorID          string `dynamodbav:"creatorId"`
	Currency           string `dynamodbav:"currency"`
	Sales              int64  `dynamodbav:"sales"`
	Units              int64  `dynamodbav:"units"`
	SalesAmount        int64  `dynamodbav:"salesAmount"`
	Commission         int64  `dynamodbav:"commission"`
	Reversals          int64  `dynamodbav:"reversals"`
	ReversedAmount     int64  `dynamodbav:"reversedAmount"`
	ReversedCommission int64  `dynamodbav:"reversedCommission"`
}

func (it totalsItem) totals() Totals {
	return Totals{
		Sales: it.Sales, Units: it.Units, SalesAmount: it.SalesAmount, Commission: it.Commission,
		Reversals: it.Reversals, ReversedAmount: it.ReversedAmount, ReversedCommission: it.ReversedCommission,
	}
}

// Earnings implements Store with a query of the creator's partition (a creator has one
// item per currency, so one page holds them all; the loop is for safety).
func (s *DynamoStore) Earnings(ctx context.Context, creatorID string) ([]Earnings, error) {
	keyCond := expression.Key("pk").Equal(expression.Value(creatorPK + creatorID)).
		And(expression.Key("sk").BeginsWith(earningsSK))
	expr, err := expression.NewBuilder().WithKeyCondition(keyCond).Build()
	if err != nil {
		return nil, fmt.Errorf("build earnings query: %w", err)
	}
	var out []Earnings
	var start map[string]types.AttributeValue
	for {
		res, err := s.db.Query(ctx, &dynamodb.QueryInput{
			TableName: aws.String(s.table), KeyConditionExpression: expr.KeyCondition(),
			ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
			ExclusiveStartKey: start, ConsistentRead: aws.Bool(true),
		})
		if err != nil {
			return nil, fmt.Errorf("query earnings: %w", err)
		}
		for _, av := range res.Items {
			var it totalsItem
			if err := attributevalue.UnmarshalMap(av, &it); err != nil {
				return nil, fmt.Errorf("unmarshal earnings: %w", err)
			}
			out = append(out, Earnings{CreatorID: creatorID, Currency: it.Currency, Totals: it.totals()})
		}
		if len(res.LastEvaluatedKey) == 0 {
			break
		}
		start = res.LastEvaluatedKey
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Currency < out[j].Currency })
	return out, nil
}

// Stats implements Store with BatchGetItem.
func (s *DynamoStore) Stats(ctx context.Context, keys []StatsKey) (map[string]Stats, error) {
	out := map[string]Stats{}
	seen := map[StatsKey]bool{}
	var all []map[string]types.AttributeValue
	for _, k := range keys {
		if seen[k] || k.PromotionID == "" || k.Currency == "" {
			continue
		}
		seen[k] = true
		all = append(all, itemKey(promotionPK+k.PromotionID, statsSK+k.Currency))
	}
	for start := 0; start < len(all); start += maxBatchGet {
		req := map[string]types.KeysAndAttributes{s.table: {Keys: all[start:min(start+maxBatchGet, len(all))]}}
		for round := 0; len(req[s.table].Keys) > 0; round++ {
			if round == 8 {
				return nil, errors.New("get stats: unprocessed keys remain")
			}
			res, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
			if err != nil {
				return nil, fmt.Errorf("get stats: %w", err)
			}
			for _, av := range res.Responses[s.table] {
				var it totalsItem
				if err := attributevalue.UnmarshalMap(av, &it); err != nil {
					return nil, fmt.Errorf("unmarshal stats: %w", err)
				}
				out[it.PromotionID] = Stats{PromotionID: it.PromotionID, Currency: it.Currency, Totals: it.totals()}
			}
			req = res.UnprocessedKeys
			if len(req[s.table].Keys) > 0 {
				select {
				case <-ctx.Done():
					return nil, ctx.Err()
				case <-time.After(time.Duration(10<<min(round, 6)) * time.Millisecond):
				}
			}
		}
	}
	return out, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
