package catalog

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

	"github.com/etalase/etalase/shared/commerce/money"
	"github.com/etalase/etalase/shared/commerce/outbox"
)

// BySellerIndex is CatalogTable's global secondary index (sellerId, createdAt).
const BySellerIndex = "bySeller"

// timeLayout is fixed-width UTC so that createdAt, the bySeller sort key, sorts
// chronologically as a string (RFC3339Nano drops trailing zeros and would not).
const timeLayout = "2006-01-02T15:04:05.000000000Z"

// DynamoAPI is the part of the DynamoDB client DynamoStore uses.
type DynamoAPI interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// DynamoStore keeps products in CatalogTable and writes their events to OutboxTable
// in the same transactions.
type DynamoStore struct {
	db           DynamoAPI
	catalogTable string
	outboxTable  string
}

var _ Store = (*DynamoStore)(nil)

// NewDynamoStore returns a store over the two tables.
func NewDynamoStore(db DynamoAPI, catalogTable, outboxTable string) *DynamoStore {
	return &DynamoStore{db: db, catalogTable: catalogTable, outboxTable: outboxTable}
}

// productItem is a product's storage form in CatalogTable.
type productItem struct {
	ProductID     string `dynamodbav:"productId"`
	SellerID      string `dynamodbav:"sellerId"`
	Title         string `dynamodbav:"title"`
	Description   string `dynamodbav:"description"`
	ImageURL      string `dynamodbav:"imageUrl"`
	PriceAmount   int64  `dynamodbav:"priceAmount"`
	PriceCurrency string `dynamodbav:"priceCurrency"`
	Stock         int64  `dynamodbav:"stock"`
	Status        string `dynamodbav:"status"`
	Version       int64  `dynamodbav:"version"`
	CreatedAt     string `dynamodbav:"createdAt"`
	UpdatedAt     string `dynamodbav:"updatedAt"`
}

func toItem(p Product) productItem {
	return productItem{
		ProductID: p.ID, SellerID: p.SellerID,
		Title: p.Title, Description: p.Description, ImageURL: p.ImageURL,
		PriceAmount: p.Price.Amount, PriceCurrency: p.Price.Currency,
		Stock: p.Stock, Status: string(p.Status), Version: p.Version,
		CreatedAt: p.CreatedAt.UTC().Format(timeLayout),
		UpdatedAt: p.UpdatedAt.UTC().Format(timeLayout),
	}
}

func (it productItem) toProduct() (Product, error) {
	created, err := time.Parse(timeLayout, it.CreatedAt)
	if err != nil {
		return Product{}, fmt.Errorf("product %s: createdAt: %w", it.ProductID, err)
	}
	updated, err := time.Parse(timeLayout, it.UpdatedAt)
	if err != nil {
		return Product{}, fmt.Errorf("product %s: updatedAt: %w", it.ProductID, err)
	}
	return Product{
		ID: it.ProductID, SellerID: it.SellerID,
		Title: it.Title, Description: it.Description, ImageURL: it.ImageURL,
		Price: money.Money{Amount: it.PriceAmount, Currency: it.PriceCurrency},
		Stock: it.Stock, Status: Status(it.Status), Version: it.Version,
		CreatedAt: created, UpdatedAt: updated,
	}, nil
}

func decodeProduct(av map[string]types.AttributeValue) (Product, error) {
	var it productItem
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return Product{}, fmt.Errorf("unmarshal product: %w", err)
	}
	return it.toProduct()
}

// Get implements Store.
func (s *DynamoStore) Get(ctx context.Context, id string) (Product, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.catalogTable),
		Key:            productKey(id),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return Product{}, fmt.Errorf("get item: %w", err)
	}
	if len(out.Item) == 0 {
		return Product{}, ErrNotFound
	}
	return decodeProduct(out.Item)
}

func productKey(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"productId": &types.AttributeValueMemberS{Value: id}}
}

// Create implements Store.
func (s *DynamoStore) Create(ctx context.Context, p Product, event outbox.Record) error {
	av, err := attributevalue.MarshalMap(toItem(p))
	if err != nil {
		return fmt.Errorf("marshal product: %w", err)
	}
	put := types.TransactWriteItem{Put: &types.Put{
		TableName:           aws.String(s.catalogTable),
		Item:                av,
		ConditionExpression: aws.String("attribute_not_exists(productId)"),
	}}
	return s.transact(ctx, put, event, func(map[string]types.AttributeValue) error {
		return fmt.Errorf("product id %s taken: %w", p.ID, ErrConflict)
	})
}

// guard is the condition every change of an existing product carries: it exists, it is
// the seller's, it is listed, and it is still at the version the change was based on.
func guard(p Product) expression.ConditionBuilder {
	return expression.And(
		expression.AttributeExists(expression.Name("productId")),
		expression.Name("sellerId").Equal(expression.Value(p.SellerID)),
		expression.Name("status").Equal(expression.Value(string(StatusListed))),
		expression.Name("version").Equal(expression.Value(p.Version-1)),
	)
}

// Replace implements Store.
func (s *DynamoStore) Replace(ctx context.Context, p Product, event outbox.Record) error {
	it := toItem(p)
	upd := expression.
		Set(expression.Name("title"), expression.Value(it.Title)).
		Set(expression.Name("description"), expression.Value(it.Description)).
		Set(expression.Name("imageUrl"), expression.Value(it.ImageURL)).
		Set(expression.Name("priceAmount"), expression.Value(it.PriceAmount)).
		Set(expression.Name("priceCurrency"), expression.Value(it.PriceCurrency)).
		Set(expression.Name("stock"), expression.Value(it.Stock)).
		Set(expression.Name("status"), expression.Value(it.Status)).
		Set(expression.Name("version"), expression.Value(it.Version)).
		Set(expression.Name("updatedAt"), expression.Value(it.UpdatedAt))
	update, err := s.update(p.ID, upd, guard(p))
	if err != nil {
		return err
	}
	return s.transact(ctx, update, event, func(old map[string]types.AttributeValue) error {
		return s.classify(ctx, p, 0, old)
	})
}

// AdjustStock implements Store. The stock arithmetic happens in DynamoDB
// (SET stock = stock + :delta), and a decrease carries the condition stock >= -delta.
func (s *DynamoStore) AdjustStock(ctx context.Context, p Product, delta int64, event outbox.Record) error {
	it := toItem(p)
	upd := expression.
		Set(expression.Name("stock"), expression.Name("stock").Plus(expression.Value(delta))).
		Set(expression.Name("version"), expression.Value(it.Version)).
		Set(expression.Name("updatedAt"), expression.Value(it.UpdatedAt))
	cond := guard(p)
	var need int64
	if delta < 0 {
		need = -delta
		cond = cond.And(expression.Name("stock").GreaterThanEqual(expression.Value(need)))
	}
	update, err := s.update(p.ID, upd, cond)
	if err != nil {
		return err
	}
	return s.transact(ctx, update, event, func(old map[string]types.AttributeValue) error {
		return s.classify(ctx, p, need, old)
	})
}

// update builds a conditional transactional update of one product.
func (s *DynamoStore) update(id string, upd expression.UpdateBuilder, cond expression.ConditionBuilder) (types.TransactWriteItem, error) {
	expr, err := expression.NewBuilder().WithUpdate(upd).WithCondition(cond).Build()
	if err != nil {
		return types.TransactWriteItem{}, fmt.Errorf("build update: %w", err)
	}
	return types.TransactWriteItem{Update: &types.Update{
		TableName:                           aws.String(s.catalogTable),
		Key:                                 productKey(id),
		UpdateExpression:                    expr.Update(),
		ConditionExpression:                 expr.Condition(),
		ExpressionAttributeNames:            expr.Names(),
		ExpressionAttributeValues:           expr.Values(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}}, nil
}

// transact writes the product item and the event in one transaction. When the
// product's condition fails, onCondition turns the stored item (nil if DynamoDB did not
// return it) into the domain error.
func (s *DynamoStore) transact(ctx context.Context, product types.TransactWriteItem, event outbox.Record,
	onCondition func(old map[string]types.AttributeValue) error,
) error {
	ev, err := event.TransactPut(s.outboxTable)
	if err != nil {
		return err
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{product, ev},
	})
	if err == nil {
		return nil
	}
	var canceled *types.TransactionCanceledException
	if errors.As(err, &canceled) {
		reasons := canceled.CancellationReasons
		reason := func(i int) string {
			if i < len(reasons) {
				return aws.ToString(reasons[i].Code)
			}
			return ""
		}
		switch {
		case reason(0) == "ConditionalCheckFailed":
			return onCondition(reasons[0].Item)
		case reason(0) == "TransactionConflict" || reason(1) == "TransactionConflict":
			return fmt.Errorf("transaction conflict: %w", ErrConflict)
		case reason(1) == "ConditionalCheckFailed":
			return fmt.Errorf("outbox event id %s already exists: %w", event.EventID, err)
		}
	}
	var conflict *types.TransactionConflictException
	if errors.As(err, &conflict) {
		return fmt.Errorf("transaction conflict: %w", ErrConflict)
	}
	return fmt.Errorf("transact write items: %w", err)
}

// classify explains why p's write condition failed, from the stored item. DynamoDB
// returns it with the cancellation reason (ALL_OLD); if it did not, it is read again.
func (s *DynamoStore) classify(ctx context.Context, p Product, need int64, old map[string]types.AttributeValue) error {
	var (
		cur Product
		err error
	)
	if len(old) > 0 {
		cur, err = decodeProduct(old)
	} else {
		cur, err = s.Get(ctx, p.ID)
	}
	switch {
	case errors.Is(err, ErrNotFound):
		return ErrNotFound
	case err != nil:
		return fmt.Errorf("classify failed condition: %w", err)
	case cur.SellerID != p.SellerID:
		return ErrNotFound
	case cur.Status != StatusListed:
		return ErrDelisted
	case need > 0 && cur.Stock < need:
		return ErrInsufficientStock
	default:
		return fmt.Errorf("product %s at version %d, not %d: %w", p.ID, cur.Version, p.Version-1, ErrConflict)
	}
}

// ListBySeller implements Store with a query of the bySeller index, newest first. It
// asks for one item more than limit to know whether another page follows. The index is
// eventually consistent: a product created a moment ago may be missing.
func (s *DynamoStore) ListBySeller(ctx context.Context, sellerID string, limit int, after *Cursor) ([]Product, bool, error) {
	keyCond := expression.Key("sellerId").Equal(expression.Value(sellerID))
	expr, err := expression.NewBuilder().WithKeyCondition(keyCond).Build()
	if err != nil {
		return nil, false, fmt.Errorf("build query: %w", err)
	}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.catalogTable),
		IndexName:                 aws.String(BySellerIndex),
		KeyConditionExpression:    expr.KeyCondition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(int32(limit + 1)),
	}
	if after != nil {
		in.ExclusiveStartKey = map[string]types.AttributeValue{
			"sellerId":  &types.AttributeValueMemberS{Value: sellerID},
			"createdAt": &types.AttributeValueMemberS{Value: after.CreatedAt.UTC().Format(timeLayout)},
			"productId": &types.AttributeValueMemberS{Value: after.ID},
		}
	}
	out, err := s.db.Query(ctx, in)
	if err != nil {
		return nil, false, fmt.Errorf("query %s: %w", BySellerIndex, err)
	}
	products := make([]Product, 0, len(out.Items))
	for _, av := range out.Items {
		p, err := decodeProduct(av)
		if err != nil {
			return nil, false, err
		}
		products = append(products, p)
	}
	more := len(out.LastEvaluatedKey) > 0
	if len(products) > limit {
		products, more = products[:limit], true
	}
	return products, more, nil
}
