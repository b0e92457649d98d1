package relay

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/etalase/etalase/shared/commerce/catalog"
	"github.com/etalase/etalase/shared/commerce/money"
	"github.com/etalase/etalase/shared/contract"
)

// DynamoAPI is the part of the DynamoDB client the relay uses: reads of CatalogTable.
type DynamoAPI interface {
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
}

var _ DynamoAPI = (*dynamodb.Client)(nil)

// Catalog reads.
const (
	// maxBatchGetKeys is BatchGetItem's limit of keys per request.
	maxBatchGetKeys = 100
	// maxReadAttempts bounds the requests for one chunk's unprocessed keys; then the
	// read fails and the stream retries the records.
	maxReadAttempts = 5
)

// catalogReader reads products' current items from CatalogTable.
type catalogReader struct {
	db    DynamoAPI
	table string
	// pause waits before another request for unprocessed keys.
	pause func(ctx context.Context, attempt int) error
}

// WithStockSnapshots refreshes social's display snapshots of the products whose stock
// an order record changed (OrderCreated; OrderStatusChanged with releaseStock): it
// reads their current items from catalogTable with db and publishes each one's
// snapshot at its current version to the social inbox (see the package doc).
func WithStockSnapshots(db DynamoAPI, catalogTable string) Option {
	return func(h *Handler) {
		if db != nil && catalogTable != "" {
			h.catalog = &catalogReader{db: db, table: catalogTable, pause: backoff}
		}
	}
}

// backoff waits 25 ms, 50 ms, 100 ms, ... before attempt+1.
func backoff(ctx context.Context, attempt int) error {
	t := time.NewTimer(25 * time.Millisecond << min(attempt-1, 5))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// productItem is the relay's read model of a CatalogTable item: the attributes of
// package catalog's storage form that a display snapshot needs. The integration test
// writes products through catalog's own store, so a rename there fails it.
type productItem struct {
	ProductID     string `dynamodbav:"productId"`
	SellerID      string `dynamodbav:"sellerId"`
	Title         string `dynamodbav:"title"`
	ImageURL      string `dynamodbav:"imageUrl"`
	PriceAmount   int64  `dynamodbav:"priceAmount"`
	PriceCurrency string `dynamodbav:"priceCurrency"`
	Stock         int64  `dynamodbav:"stock"`
	Status        string `dynamodbav:"status"`
	Version       int64  `dynamodbav:"version"`
	UpdatedAt     string `dynamodbav:"updatedAt"`
}

// projection names productItem's attributes ("status" is a reserved word).
var (
	projection     = "#id, #seller, #title, #image, #amount, #currency, #stock, #status, #version, #updated"
	projectionName = map[string]string{
		"#id": "productId", "#seller": "sellerId", "#title": "title", "#image": "imageUrl", "#amount": "priceAmount",
		"#currency": "priceCurrency", "#stock": "stock", "#status": "status", "#version": "version", "#updated": "updatedAt",
	}
)

// product is the item as a catalog.Product (its InStock rule is the catalog's).
func (it productItem) product() catalog.Product {
	p := catalog.Product{
		ID: it.ProductID, SellerID: it.SellerID, Title: it.Title, ImageURL: it.ImageURL,
		Price: money.Money{Amount: it.PriceAmount, Currency: it.PriceCurrency},
		Stock: it.Stock, Status: catalog.Status(it.Status), Version: it.Version,
	}
	p.UpdatedAt, _ = time.Parse(time.RFC3339Nano, it.UpdatedAt) // zero if unreadable: only a lower bound of occurredAt
	return p
}

// read returns the current items of ids (distinct), strongly consistent, by product id;
// a product that does not exist is absent. Cost: one BatchGetItem per 100 ids, plus
// one per round of unprocessed keys.
func (c *catalogReader) read(ctx context.Context, ids []string) (map[string]productItem, error) {
	out := make(map[string]productItem, len(ids))
	for start := 0; start < len(ids); start += maxBatchGetKeys {
		chunk := ids[start:min(start+maxBatchGetKeys, len(ids))]
		keys := make([]map[string]types.AttributeValue, len(chunk))
		for i, id := range chunk {
			keys[i] = map[string]types.AttributeValue{"productId": &types.AttributeValueMemberS{Value: id}}
		}
		req := map[string]types.KeysAndAttributes{c.table: {
			Keys: keys, ConsistentRead: aws.Bool(true),
			ProjectionExpression: aws.String(projection), ExpressionAttributeNames: projectionName,
		}}
		for attempt := 1; ; attempt++ {
			resp, err := c.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
			if err != nil {
				return nil, fmt.Errorf("read products: batch get item: %w", err)
			}
			for _, av := range resp.Responses[c.table] {
				var it productItem
				if err := attributevalue.UnmarshalMap(av, &it); err != nil {
					return nil, fmt.Errorf("read products: unmarshal: %w", err)
				}
				out[it.ProductID] = it
			}
			req = resp.UnprocessedKeys
			if len(req[c.table].Keys) == 0 {
				break
			}
			if attempt >= maxReadAttempts {
				return nil, fmt.Errorf("read products: %d keys still unprocessed after %d requests", len(req[c.table].Keys), attempt)
			}
			if err := c.pause(ctx, attempt); err != nil {
				return nil, fmt.Errorf("read products: %w", err)
			}
		}
	}
	return out, nil
}

// snapshots reads the products the records of works name and makes one snapshot
// message per product, attached to the first record that names it. If the read fails
// it returns the index of the first record that needs it, and the error.
func (h *Handler) snapshots(ctx context.Context, works []work) ([]message, int, error) {
	first := map[string]int{}
	latest := map[string]time.Time{}
	var ids []string
	for i, w := range works {
		for _, id := range w.products {
			if _, ok := first[id]; !ok {
				first[id] = i
				ids = append(ids, id)
			}
			if at := w.rec.OccurredAt; at.After(latest[id]) {
				latest[id] = at
			}
		}
	}
	if len(ids) == 0 {
		return nil, 0, nil
	}
	items, err := h.catalog.read(ctx, ids)
	if err != nil {
		return nil, first[ids[0]], err
	}
	var msgs []message
	for _, id := range ids {
		cause := works[first[id]].rec
		log := h.log.With("productId", id, "causeEventId", cause.EventID, "causeType", cause.EventType)
		it, ok := items[id]
		if !ok {
			log.WarnContext(ctx, "product of an order is not in the catalog; no snapshot published")
			continue
		}
		m, ok := h.snapshotMessage(ctx, log, it.product(), cause.CorrelationID, cause.EventID, latest[id])
		if ok {
			m.src = first[id]
			msgs = append(msgs, m)
		}
	}
	return msgs, 0, nil
}

// snapshotMessage is the social inbox message announcing p's current display snapshot:
// ProductUpdated, or ProductDelisted for a delisted product, at p's version.
func (h *Handler) snapshotMessage(ctx context.Context, log *slog.Logger, p catalog.Product, correlationID, causeID string, at time.Time) (message, bool) {
	d := contract.ProductDisplay{
		ProductID: p.ID, SellerID: p.SellerID, Title: p.Title, ImageURL: p.ImageURL,
		Price: contract.Price{Amount: p.Price.Amount, Currency: p.Price.Currency}, InStock: p.InStock(), Version: p.Version,
	}
	var typ string
	var payload any
	switch p.Status {
	case catalog.StatusListed:
		typ, payload = contract.EventProductUpdated, contract.ProductUpdated{ProductDisplay: d}
	case catalog.StatusDelisted:
		typ, payload = contract.EventProductDelisted, contract.ProductDelisted{ProductDisplay: d}
	default:
		log.ErrorContext(ctx, "product has an unknown status; no snapshot published", "status", string(p.Status))
		return message{}, false
	}
	body, err := json.Marshal(payload)
	if err != nil {
		log.ErrorContext(ctx, "snapshot not encodable; not published", "error", err)
		return message{}, false
	}
	if correlationID == "" {
		correlationID = causeID
	}
	if p.UpdatedAt.After(at) {
		at = p.UpdatedAt
	}
	env := contract.Envelope{
		EventID: SnapshotEventID(typ, p.ID, p.Version), Type: typ, SchemaVersion: contract.CatalogSchemaVersion,
		OccurredAt: at.UTC(), CorrelationID: correlationID, Payload: body,
	}
	raw, err := json.Marshal(env)
	if err != nil {
		log.ErrorContext(ctx, "snapshot not encodable; not published", "error", err)
		return message{}, false
	}
	if err := h.validator.ValidateMessage(raw); err != nil {
		log.ErrorContext(ctx, "snapshot breaks the contract; withheld from social", "error", err)
		return message{}, false
	}
	return message{
		queueURL: h.routes[typ].queueURL, body: string(raw), eventType: typ, crossAccount: true,
		log: []any{"eventId", env.EventID, "type", typ, "schemaVersion", env.SchemaVersion, "correlationId", correlationID,
			"productId", p.ID, "version", p.Version, "inStock", d.InStock, "causeEventId", causeID},
	}, true
}

// SnapshotEventID is the event id of the relay's snapshot of a product at a version: a
// UUID (version 8, RFC 9562) derived from the type, product id and version, so that the
// same snapshot, sent again by a retry or for another order, has the same id.
func SnapshotEventID(eventType, productID string, version int64) string {
	sum := sha256.Sum256([]byte("etalase/relay/snapshot\x00" + eventType + "\x00" + productID + "\x00" + strconv.FormatInt(version, 10)))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x80
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
