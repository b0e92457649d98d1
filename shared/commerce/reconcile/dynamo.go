package reconcile

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/etalase/etalase/shared/commerce/order"
)

// DynamoAPI is the part of the DynamoDB client DynamoPending uses.
type DynamoAPI interface {
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
}

// DynamoPending lists pending orders from OrdersTable.
type DynamoPending struct {
	db    DynamoAPI
	table string
}

// NewDynamoPending returns the lister over OrdersTable.
func NewDynamoPending(db DynamoAPI, table string) *DynamoPending {
	return &DynamoPending{db: db, table: table}
}

// maxBatchGetRounds bounds the retries of BatchGetItem's unprocessed keys.
const maxBatchGetRounds = 5

// Pending returns up to limit (at most 100) PENDING_PAYMENT orders, earliest deadline
// first: one Query of the byStatusDeadline index (keys only, eventually consistent),
// then one BatchGetItem of the orders themselves, strongly consistent, so that each
// order's status is current (an order that was paid meanwhile comes back PAID).
func (d *DynamoPending) Pending(ctx context.Context, limit int) ([]order.Order, error) {
	limit = min(max(limit, 1), MaxMaxOrders)
	out, err := d.db.Query(ctx, &dynamodb.QueryInput{
		TableName:                aws.String(d.table),
		IndexName:                aws.String(order.ByStatusDeadlineIndex),
		KeyConditionExpression:   aws.String("#status = :pending"),
		ExpressionAttributeNames: map[string]string{"#status": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pending": &types.AttributeValueMemberS{Value: string(order.StatusPendingPayment)},
		},
		ScanIndexForward: aws.Bool(true),
		Limit:            aws.Int32(int32(limit)),
	})
	if err != nil {
		return nil, fmt.Errorf("query pending orders: %w", err)
	}
	if len(out.Items) == 0 {
		return nil, nil
	}
	var ids []string
	keys := make([]map[string]types.AttributeValue, 0, len(out.Items))
	for _, it := range out.Items {
		id, ok := it[order.AttrOrderID].(*types.AttributeValueMemberS)
		if !ok {
			continue
		}
		ids = append(ids, id.Value)
		keys = append(keys, order.Key(id.Value))
	}
	got := map[string]order.Order{}
	req := map[string]types.KeysAndAttributes{d.table: {Keys: keys, ConsistentRead: aws.Bool(true)}}
	for round := 0; len(req) > 0; round++ {
		if round == maxBatchGetRounds {
			return nil, fmt.Errorf("read pending orders: unprocessed keys after %d rounds", round)
		}
		if round > 0 {
			if err := sleep(ctx, time.Duration(round)*50*time.Millisecond); err != nil {
				return nil, err
			}
		}
		res, err := d.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
		if err != nil {
			return nil, fmt.Errorf("read pending orders: %w", err)
		}
		for _, av := range res.Responses[d.table] {
			o, err := order.UnmarshalItem(av)
			if err != nil {
				return nil, err
			}
			got[o.ID] = o
		}
		req = res.UnprocessedKeys
	}
	orders := make([]order.Order, 0, len(got))
	for _, id := range ids {
		if o, ok := got[id]; ok {
			orders = append(orders, o)
		}
	}
	return orders, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
