package cart

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/etalase/etalase/shared/commerce/catalog"
	"github.com/etalase/etalase/shared/commerce/money"
)

// timeLayout is fixed-width UTC, as the catalog's.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

// maxBatchKeys is BatchGetItem's limit of keys per request.
const maxBatchKeys = 100

// maxUnprocessedRounds bounds the re-requests of keys BatchGetItem left unprocessed
// (it does so only under throttling or for responses over 16 MB).
const maxUnprocessedRounds = 8

// DynamoAPI is the part of the DynamoDB client DynamoStore uses.
type DynamoAPI interface {
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// DynamoStore keeps carts in CartTable and reads products from CatalogTable (GetItem
// and BatchGetItem only; the catalog belongs to the catalog package).
type DynamoStore struct {
	db           DynamoAPI
	cartTable    string
	catalogTable string
	sleep        func(ctx context.Context, round int) error
}

var _ Store = (*DynamoStore)(nil)

// NewDynamoStore returns a store over the two tables.
func NewDynamoStore(db DynamoAPI, cartTable, catalogTable string) *DynamoStore {
	return &DynamoStore{db: db, cartTable: cartTable, catalogTable: catalogTable, sleep: backoff}
}

// Storage model of CartTable: one item per cart.
//
//	cartId        S  "buyer#<sub>" or "guest#<id>" (partition key)
//	kind          S  "buyer" | "guest"
//	ownerId       S  the subject or guest id
//	currency      S  the lines' currency; absent when there are no lines
//	lines         M  product id → {quantity N, addedAt S, updatedAt S,
//	                   attribution M {promotionId, creatorId, handoffId S,
//	                   displayedAmount N, displayedCurrency S, attributedAt S}?}
//	redeemed      L  hand-off token ids (jti) redeemed into the cart, ≤ 100
//	mergedGuests  L  guest cart ids merged into a buyer cart, ≤ 10
//	version       N  1, 2, ...: the optimistic concurrency token
//	createdAt     S, updatedAt S
//	expiresAt     N  epoch seconds; the table's TTL attribute
type cartItem struct {
	CartID       string              `dynamodbav:"cartId"`
	Kind         string              `dynamodbav:"kind"`
	OwnerID      string              `dynamodbav:"ownerId"`
	Currency     string              `dynamodbav:"currency,omitempty"`
	Lines        map[string]lineItem `dynamodbav:"lines"`
	Redeemed     []string            `dynamodbav:"redeemed,omitempty"`
	MergedGuests []string            `dynamodbav:"mergedGuests,omitempty"`
	Version      int64               `dynamodbav:"version"`
	CreatedAt    string              `dynamodbav:"createdAt"`
	UpdatedAt    string              `dynamodbav:"updatedAt"`
	ExpiresAt    int64               `dynamodbav:"expiresAt"`
}

type lineItem struct {
	Quantity    int              `dynamodbav:"quantity"`
	AddedAt     string           `dynamodbav:"addedAt"`
	UpdatedAt   string           `dynamodbav:"updatedAt"`
	Attribution *attributionItem `dynamodbav:"attribution,omitempty"`
}

type attributionItem struct {
	PromotionID       string `dynamodbav:"promotionId"`
	CreatorID         string `dynamodbav:"creatorId"`
	HandoffID         string `dynamodbav:"handoffId"`
	DisplayedAmount   int64  `dynamodbav:"displayedAmount"`
	DisplayedCurrency string `dynamodbav:"displayedCurrency"`
	AttributedAt      string `dynamodbav:"attributedAt"`
}

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func parseTime(field, s string) (time.Time, error) {
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: %w", field, err)
	}
	return t, nil
}

func toItem(c Cart) cartItem {
	it := cartItem{
		CartID: c.Owner.Key(), Kind: string(c.Owner.Kind), OwnerID: c.Owner.ID,
		Currency: c.Currency, Lines: make(map[string]lineItem, len(c.Lines)),
		Redeemed: c.Redeemed, MergedGuests: c.MergedGuests, Version: c.Version,
		CreatedAt: formatTime(c.CreatedAt), UpdatedAt: formatTime(c.UpdatedAt),
		ExpiresAt: c.ExpiresAt.Unix(),
	}
	for id, l := range c.Lines {
		li := lineItem{Quantity: l.Quantity, AddedAt: formatTime(l.AddedAt), UpdatedAt: formatTime(l.UpdatedAt)}
		if a := l.Attribution; a != nil {
			li.Attribution = &attributionItem{
				PromotionID: a.PromotionID, CreatorID: a.CreatorID, HandoffID: a.HandoffID,
				DisplayedAmount: a.DisplayedPrice.Amount, DisplayedCurrency: a.DisplayedPrice.Currency,
				AttributedAt: formatTime(a.AttributedAt),
			}
		}
		it.Lines[id] = li
	}
	return it
}

func (it cartItem) toCart() (Cart, error) {
	c := Cart{
		Owner: Owner{Kind: Kind(it.Kind), ID: it.OwnerID}, Currency: it.Currency,
		Lines: make(map[string]Line, len(it.Lines)), Redeemed: it.Redeemed, MergedGuests: it.MergedGuests,
		Version: it.Version, ExpiresAt: time.Unix(it.ExpiresAt, 0).UTC(),
	}
	if c.Owner.Key() != it.CartID {
		return Cart{}, fmt.Errorf("cart item: kind %q and owner do not match its key", it.Kind)
	}
	var err error
	if c.CreatedAt, err = parseTime("createdAt", it.CreatedAt); err != nil {
		return Cart{}, err
	}
	if c.UpdatedAt, err = parseTime("updatedAt", it.UpdatedAt); err != nil {
		return Cart{}, err
	}
	for id, li := range it.Lines {
		l := Line{ProductID: id, Quantity: li.Quantity}
		if l.AddedAt, err = parseTime("addedAt", li.AddedAt); err != nil {
			return Cart{}, err
		}
		if l.UpdatedAt, err = parseTime("updatedAt", li.UpdatedAt); err != nil {
			return Cart{}, err
		}
		if a := li.Attribution; a != nil {
			at, err := parseTime("attributedAt", a.AttributedAt)
			if err != nil {
				return Cart{}, err
			}
			l.Attribution = &Attribution{
				PromotionID: a.PromotionID, CreatorID: a.CreatorID, HandoffID: a.HandoffID,
				DisplayedPrice: money.Money{Amount: a.DisplayedAmount, Currency: a.DisplayedCurrency},
				AttributedAt:   at,
			}
		}
		c.Lines[id] = l
	}
	if len(c.Lines) == 0 {
		c.Currency = "" // RemoveLine cannot clear it in the same update
	}
	return c, nil
}

func decodeCart(av map[string]types.AttributeValue) (Cart, error) {
	var it cartItem
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return Cart{}, fmt.Errorf("unmarshal cart: %w", err)
	}
	return it.toCart()
}

// productItem is the part of a CatalogTable item the cart reads. The attribute names
// are the catalog package's storage model; the integration tests write products
// through the catalog's own store, so a change there fails them.
type productItem struct {
	ProductID     string `dynamodbav:"productId"`
	Title         string `dynamodbav:"title"`
	ImageURL      string `dynamodbav:"imageUrl"`
	PriceAmount   int64  `dynamodbav:"priceAmount"`
	PriceCurrency string `dynamodbav:"priceCurrency"`
	Stock         int64  `dynamodbav:"stock"`
	Status        string `dynamodbav:"status"`
}

// productProjection reads only productItem's attributes (status is a reserved word).
var productProjection = func() expression.Expression {
	p := expression.NamesList(expression.Name("productId"), expression.Name("title"), expression.Name("imageUrl"),
		expression.Name("priceAmount"), expression.Name("priceCurrency"), expression.Name("stock"), expression.Name("status"))
	expr, err := expression.NewBuilder().WithProjection(p).Build()
	if err != nil {
		panic(err)
	}
	return expr
}()

func decodeProduct(av map[string]types.AttributeValue) (Product, error) {
	var it productItem
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return Product{}, fmt.Errorf("unmarshal product: %w", err)
	}
	return Product{
		ID: it.ProductID, Title: it.Title, ImageURL: it.ImageURL,
		Price: money.Money{Amount: it.PriceAmount, Currency: it.PriceCurrency},
		Stock: it.Stock, Listed: it.Status == string(catalog.StatusListed),
	}, nil
}

func cartKey(key string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"cartId": &types.AttributeValueMemberS{Value: key}}
}

func productKey(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"productId": &types.AttributeValueMemberS{Value: id}}
}

// Load implements Store with one BatchGetItem over both tables (one GetItem when only
// one cart is asked for), re-requesting any keys DynamoDB leaves unprocessed.
func (s *DynamoStore) Load(ctx context.Context, cartKeys, productIDs []string) (map[string]Cart, map[string]Product, error) {
	cartKeys, productIDs = unique(cartKeys), unique(productIDs)
	carts, products := map[string]Cart{}, map[string]Product{}
	if len(cartKeys) == 1 && len(productIDs) == 0 {
		out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
			TableName: aws.String(s.cartTable), Key: cartKey(cartKeys[0]), ConsistentRead: aws.Bool(true),
		})
		if err != nil {
			return nil, nil, fmt.Errorf("get cart: %w", err)
		}
		if len(out.Item) > 0 {
			c, err := decodeCart(out.Item)
			if err != nil {
				return nil, nil, err
			}
			carts[cartKeys[0]] = c
		}
		return carts, products, nil
	}
	type key struct {
		table string
		av    map[string]types.AttributeValue
	}
	var keys []key
	for _, k := range cartKeys {
		keys = append(keys, key{s.cartTable, cartKey(k)})
	}
	for _, id := range productIDs {
		keys = append(keys, key{s.catalogTable, productKey(id)})
	}
	for start := 0; start < len(keys); start += maxBatchKeys {
		req := map[string]types.KeysAndAttributes{}
		for _, k := range keys[start:min(start+maxBatchKeys, len(keys))] {
			ka := req[k.table]
			ka.Keys = append(ka.Keys, k.av)
			ka.ConsistentRead = aws.Bool(true)
			if k.table == s.catalogTable {
				ka.ProjectionExpression = productProjection.Projection()
				ka.ExpressionAttributeNames = productProjection.Names()
			}
			req[k.table] = ka
		}
		for round := 0; len(req) > 0; round++ {
			if round > 0 {
				if round > maxUnprocessedRounds {
					return nil, nil, errors.New("batch get: keys still unprocessed after retries")
				}
				if err := s.sleep(ctx, round); err != nil {
					return nil, nil, err
				}
			}
			out, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
			if err != nil {
				return nil, nil, fmt.Errorf("batch get: %w", err)
			}
			for _, av := range out.Responses[s.cartTable] {
				c, err := decodeCart(av)
				if err != nil {
					return nil, nil, err
				}
				carts[c.Owner.Key()] = c
			}
			for _, av := range out.Responses[s.catalogTable] {
				p, err := decodeProduct(av)
				if err != nil {
					return nil, nil, err
				}
				products[p.ID] = p
			}
			req = out.UnprocessedKeys
		}
	}
	return carts, products, nil
}

func unique(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}

// Put implements Store with one conditional PutItem.
func (s *DynamoStore) Put(ctx context.Context, c Cart, expected int64) error {
	put, err := s.put(c, expected)
	if err != nil {
		return err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: put.TableName, Item: put.Item, ConditionExpression: put.ConditionExpression,
		ExpressionAttributeNames: put.ExpressionAttributeNames, ExpressionAttributeValues: put.ExpressionAttributeValues,
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &ccf):
		return fmt.Errorf("cart changed since version %d: %w", expected, ErrConflict)
	case err != nil:
		return fmt.Errorf("put cart: %w", err)
	}
	return nil
}

// put builds the conditional put of c over the stored version expected.
func (s *DynamoStore) put(c Cart, expected int64) (*types.Put, error) {
	av, err := attributevalue.MarshalMap(toItem(c))
	if err != nil {
		return nil, fmt.Errorf("marshal cart: %w", err)
	}
	cond := expression.AttributeNotExists(expression.Name("cartId"))
	if expected > 0 {
		cond = expression.Name("version").Equal(expression.Value(expected))
	}
	expr, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return nil, fmt.Errorf("build condition: %w", err)
	}
	return &types.Put{
		TableName: aws.String(s.cartTable), Item: av, ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	}, nil
}

// RemoveLine implements Store with one UpdateItem:
//
//	REMOVE lines.<product> SET version = version + 1, updatedAt = :now, expiresAt = :ttl
//	IF attribute_exists(lines.<product>) AND expiresAt > :nowSeconds
//
// On a failed condition DynamoDB returns the stored item, which says which error.
func (s *DynamoStore) RemoveLine(ctx context.Context, o Owner, productID string, now time.Time) (Cart, error) {
	line := expression.Name("lines." + productID)
	upd := expression.Remove(line).
		Set(expression.Name("version"), expression.Name("version").Plus(expression.Value(1))).
		Set(expression.Name("updatedAt"), expression.Value(formatTime(now))).
		Set(expression.Name("expiresAt"), expression.Value(now.Add(o.Kind.TTL()).Unix()))
	cond := expression.And(
		expression.AttributeExists(line),
		expression.Name("expiresAt").GreaterThan(expression.Value(now.Unix())),
	)
	expr, err := expression.NewBuilder().WithUpdate(upd).WithCondition(cond).Build()
	if err != nil {
		return Cart{}, fmt.Errorf("build update: %w", err)
	}
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.cartTable), Key: cartKey(o.Key()),
		UpdateExpression: expr.Update(), ConditionExpression: expr.Condition(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &ccf):
		if len(ccf.Item) == 0 {
			return Cart{}, ErrCartNotFound
		}
		old, err := decodeCart(ccf.Item)
		if err != nil {
			return Cart{}, err
		}
		if !old.Live(now) {
			return Cart{}, ErrCartNotFound
		}
		return Cart{}, ErrLineNotFound
	case err != nil:
		return Cart{}, fmt.Errorf("update cart: %w", err)
	}
	return decodeCart(out.Attributes)
}

// Merge implements Store with one TransactWriteItems: the buyer cart's conditional
// put and the guest cart's conditional delete.
func (s *DynamoStore) Merge(ctx context.Context, buyer Cart, expected int64, guest Owner, guestVersion int64) error {
	put, err := s.put(buyer, expected)
	if err != nil {
		return err
	}
	del := s.CloseCart(guest, guestVersion)
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{{Put: put}, del},
	})
	if err == nil {
		return nil
	}
	var canceled *types.TransactionCanceledException
	if errors.As(err, &canceled) {
		for _, r := range canceled.CancellationReasons {
			switch aws.ToString(r.Code) {
			case "ConditionalCheckFailed", "TransactionConflict":
				return fmt.Errorf("merge: %s: %w", aws.ToString(r.Code), ErrConflict)
			}
		}
	}
	var conflict *types.TransactionConflictException
	if errors.As(err, &conflict) {
		return fmt.Errorf("merge: transaction conflict: %w", ErrConflict)
	}
	return fmt.Errorf("merge: transact write items: %w", err)
}

// CloseCart returns the transaction item that closes (deletes) o's cart on the
// condition that it is still at version: checkout puts it in the transaction that
// writes the order, so a cart changed after checkout read it fails the transaction
// instead of being ordered stale.
func (s *DynamoStore) CloseCart(o Owner, version int64) types.TransactWriteItem {
	return types.TransactWriteItem{Delete: &types.Delete{
		TableName:                 aws.String(s.cartTable),
		Key:                       cartKey(o.Key()),
		ConditionExpression:       aws.String("#v = :v"),
		ExpressionAttributeNames:  map[string]string{"#v": "version"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: strconv.FormatInt(version, 10)}},
	}}
}
