package webhook

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/etalase/etalase/shared/commerce/money"
	"github.com/etalase/etalase/shared/commerce/order"
)

// GetItemAPI is the part of the DynamoDB client DynamoOrders uses.
type GetItemAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
}

// DynamoOrders reads order totals from OrdersTable.
type DynamoOrders struct {
	db    GetItemAPI
	table string
}

// NewDynamoOrders returns a reader of OrdersTable.
func NewDynamoOrders(db GetItemAPI, table string) *DynamoOrders {
	return &DynamoOrders{db: db, table: table}
}

// OrderTotal reads an order's total: one strongly consistent GetItem of two
// attributes. An id that is not an order id cannot exist and is ErrOrderNotFound
// without a read.
func (d *DynamoOrders) OrderTotal(ctx context.Context, orderID string) (money.Money, error) {
	if !order.ValidID(orderID) {
		return money.Money{}, fmt.Errorf("order %q: %w", orderID, ErrOrderNotFound)
	}
	out, err := d.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:                aws.String(d.table),
		Key:                      order.Key(orderID),
		ConsistentRead:           aws.Bool(true),
		ProjectionExpression:     aws.String("#total, #currency"),
		ExpressionAttributeNames: map[string]string{"#total": "total", "#currency": "currency"},
	})
	if err != nil {
		return money.Money{}, fmt.Errorf("get order %s: %w", orderID, err)
	}
	if len(out.Item) == 0 {
		return money.Money{}, fmt.Errorf("order %s: %w", orderID, ErrOrderNotFound)
	}
	var it struct {
		Total    int64  `dynamodbav:"total"`
		Currency string `dynamodbav:"currency"`
	}
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return money.Money{}, fmt.Errorf("unmarshal order %s: %w", orderID, err)
	}
	return money.Money{Amount: it.Total, Currency: it.Currency}, nil
}
