package orders

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/etalase/etalase/shared/commerce/cart"
	"github.com/etalase/etalase/shared/commerce/ledger"
	"github.com/etalase/etalase/shared/commerce/money"
	"github.com/etalase/etalase/shared/commerce/order"
	"github.com/etalase/etalase/shared/commerce/outbox"
)

// Transaction sizes. DynamoDB's TransactWriteItems takes at most 100 items. Checkout
// writes one stock reservation per line plus four items (the order, the cart's
// closing, the first ledger entry, the OrderCreated record): 50 + 4 = 54. A transition
// writes the order's update, the ledger entry and the OrderStatusChanged record plus
// either one stock release per line (EXPIRED, CANCELLED, FAILED) or one sale event
// per attributed line (PAID, PAID→REFUNDED), never both: 3 + 50 = 53.
const (
	// MaxTransactItems is DynamoDB's limit of items in one TransactWriteItems.
	MaxTransactItems = 100
	// MaxLines is the most lines an order has: a cart's limit.
	MaxLines = cart.MaxLines
	// checkoutFixedItems are checkout's items besides the stock reservations.
	checkoutFixedItems = 4
	// transitionFixedItems are a transition's items besides the per-line ones.
	transitionFixedItems = 3
)

// Compile-time proof of the arithmetic above: a negative array length does not compile.
var (
	_ [MaxTransactItems - MaxLines - checkoutFixedItems]struct{}
	_ [MaxTransactItems - MaxLines - transitionFixedItems]struct{}
)

// Internal outbox event types of orders. They stay in commerce: they are not
// contract.CrossAccountEvents, so the relay never sends them to social, and they may
// carry the order id.
const (
	// EventOrderCreated: checkout placed an order.
	EventOrderCreated = "OrderCreated"
	// EventOrderStatusChanged: an order's status changed.
	EventOrderStatusChanged = "OrderStatusChanged"
	// EventSchemaVersion is the schema version of both payloads.
	EventSchemaVersion = 1
)

// OrderCreated is the payload of EventOrderCreated. The relay turns it into the
// order's expiry message (OrderID, Deadline) and refreshes social's display snapshots
// of ProductIDs, whose stock the checkout reserved.
type OrderCreated struct {
	OrderID  string    `json:"orderId"`
	Status   string    `json:"status"`
	Total    int64     `json:"total"`
	Currency string    `json:"currency"`
	Lines    int       `json:"lines"`
	Deadline time.Time `json:"deadline"`
	Version  int64     `json:"version"`
	// ProductIDs are the order's products, in line order (absent from records written
	// before the field existed).
	ProductIDs []string `json:"productIds,omitempty"`
}

// OrderStatusChanged is the payload of EventOrderStatusChanged. When ReleaseStock, the
// relay refreshes social's display snapshots of ProductIDs, whose stock returned.
type OrderStatusChanged struct {
	OrderID      string    `json:"orderId"`
	From         string    `json:"from"`
	To           string    `json:"to"`
	ReleaseStock bool      `json:"releaseStock"`
	NeedsRefund  bool      `json:"needsRefund"`
	Version      int64     `json:"version"`
	At           time.Time `json:"at"`
	// ProductIDs are the order's products, in line order (absent from records written
	// before the field existed).
	ProductIDs []string `json:"productIds,omitempty"`
}

// ProductIDs returns the product ids of o's lines, in line order.
func ProductIDs(o order.Order) []string {
	ids := make([]string, len(o.Lines))
	for i, l := range o.Lines {
		ids[i] = l.ProductID
	}
	return ids
}

// CheckoutInput is what a checkout needs.
type CheckoutInput struct {
	// BuyerID is the buyer (the token's subject); their cart is ordered.
	BuyerID string
	// Window is the payment window: the order's deadline is the commit time plus it.
	Window time.Duration
	// Provider is the payment provider the buyer chose, recorded in the order_created
	// ledger entry (the order itself names its provider once a session is open).
	Provider string
}

// Checkout turns the buyer's cart into a PENDING_PAYMENT order. It reads the cart
// (GetItem, strongly consistent) and its products (BatchGetItem), prices every line
// from the catalog, refuses unavailable lines (*UnavailableError, *InsufficientStockError)
// and an empty cart (ErrCartEmpty), and then writes, in one TransactWriteItems:
//
//   - per line, the stock reservation: stock - q, version + 1, on the condition that
//     the product is listed, still at the price read and has stock >= q;
//   - the order (order.TransactPut), with its opaque OrderRef and ledger head;
//   - the cart's closing, conditioned on the version read (cart.DynamoStore.CloseCart);
//   - the order_created ledger entry (seq 1);
//   - the OrderCreated outbox record.
//
// Too little stock cancels the whole transaction: nothing is written and the error
// names the short products. A cart changed meanwhile, a price changed meanwhile or a
// transaction conflict re-reads and tries again, at most maxAttempts times. Cost:
// 2 reads + 1 transactional write, plus 2 + 1 per retry.
func (s *Store) Checkout(ctx context.Context, in CheckoutInput) (order.Order, error) {
	if in.BuyerID == "" || in.Window <= 0 {
		return order.Order{}, errors.New("checkout: a buyer and a positive payment window are required")
	}
	var last error
	for attempt := 1; attempt <= s.maxAttempts; attempt++ {
		if attempt > 1 {
			if err := s.sleep(ctx, attempt-1); err != nil {
				return order.Order{}, fmt.Errorf("checkout: %w", err)
			}
		}
		o, retry, err := s.checkoutOnce(ctx, in)
		if !retry {
			return o, err
		}
		last = err
	}
	return order.Order{}, fmt.Errorf("checkout after %d attempts: %w", s.maxAttempts, last)
}

// checkoutOnce is one read-price-commit attempt; retry says whether a lost race (err
// is then ErrCartChanged or ErrConflict) makes another attempt worthwhile.
func (s *Store) checkoutOnce(ctx context.Context, in CheckoutInput) (order.Order, bool, error) {
	owner := cart.Buyer(in.BuyerID)
	carts, _, err := s.carts.Load(ctx, []string{owner.Key()}, nil)
	if err != nil {
		return order.Order{}, false, fmt.Errorf("checkout: read cart: %w", err)
	}
	now := s.now().UTC()
	c, found := carts[owner.Key()]
	if !found || !c.Live(now) || len(c.Lines) == 0 {
		return order.Order{}, false, ErrCartEmpty
	}
	if len(c.Lines) > MaxLines {
		return order.Order{}, false, fmt.Errorf("cart of %d lines: %w", len(c.Lines), ErrTooManyLines)
	}
	ids := make([]string, 0, len(c.Lines))
	for id := range c.Lines {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	_, products, err := s.carts.Load(ctx, nil, ids)
	if err != nil {
		return order.Order{}, false, fmt.Errorf("checkout: read products: %w", err)
	}
	priced, err := cart.Price(c, products)
	if err != nil {
		return order.Order{}, false, fmt.Errorf("checkout: price cart: %w", err)
	}
	if err := Available(priced); err != nil {
		return order.Order{}, false, err
	}
	id, err := s.newID()
	if err != nil {
		return order.Order{}, false, err
	}
	ref, err := s.newRef()
	if err != nil {
		return order.Order{}, false, err
	}
	o, err := BuildOrder(priced, in.BuyerID, id, ref, now, now.Add(in.Window))
	if err != nil {
		return order.Order{}, false, err
	}
	entry, err := ledger.Next(ledger.Head{}, o.ID, ledger.TypeOrderCreated, now, createdData(o, in.Provider))
	if err != nil {
		return order.Order{}, false, err
	}
	o.LedgerSeq, o.LedgerHash = entry.Seq, entry.Hash
	items, err := s.checkoutItems(ctx, o, priced.Cart, entry, now)
	if err != nil {
		return order.Order{}, false, err
	}
	err = s.transact(ctx, items)
	if err == nil {
		return o, false, nil
	}
	return s.checkoutFailed(ctx, o, err)
}

// Available checks that every line of a priced cart can be ordered: nil, an
// *InsufficientStockError when the only problem is stock, or an *UnavailableError
// naming every refused line (with out-of-stock ones) otherwise.
func Available(p cart.PricedCart) error {
	var short []string
	var bad []UnavailableLine
	other := false
	for _, l := range p.Lines {
		if l.Available {
			continue
		}
		bad = append(bad, UnavailableLine{ProductID: l.ProductID, Reason: l.Reason})
		if l.Reason == cart.ReasonOutOfStock {
			short = append(short, l.ProductID)
		} else {
			other = true
		}
	}
	switch {
	case other:
		return &UnavailableError{Lines: bad}
	case len(short) > 0:
		return &InsufficientStockError{ProductIDs: short}
	}
	return nil
}

// BuildOrder makes the PENDING_PAYMENT order of a priced cart whose lines are all
// available: lines in the cart's order with the catalog's title and price and the
// line's attribution (promotion and creator), totals, the deadline, version 1. The
// ledger head is the caller's to set.
func BuildOrder(p cart.PricedCart, buyerID, id, ref string, now, deadline time.Time) (order.Order, error) {
	if len(p.Lines) == 0 {
		return order.Order{}, ErrCartEmpty
	}
	if len(p.Lines) > MaxLines {
		return order.Order{}, fmt.Errorf("%d lines: %w", len(p.Lines), ErrTooManyLines)
	}
	cur := p.Cart.Currency
	o := order.Order{
		ID: id, BuyerID: buyerID, OrderRef: ref, Currency: cur,
		Refunded: money.Money{Currency: cur}, Status: order.StatusPendingPayment,
		Deadline: deadline.UTC(), Version: 1, CreatedAt: now.UTC(), UpdatedAt: now.UTC(),
		Lines: make([]order.Line, 0, len(p.Lines)),
	}
	for _, l := range p.Lines {
		if !l.Available {
			return order.Order{}, &UnavailableError{Lines: []UnavailableLine{{l.ProductID, l.Reason}}}
		}
		ol := order.Line{ProductID: l.ProductID, Title: l.Title, Quantity: int64(l.Quantity), UnitPrice: l.UnitPrice}
		if a := l.Attribution; a != nil && a.PromotionID != "" && a.CreatorID != "" {
			ol.Attribution = &order.Attribution{PromotionID: a.PromotionID, CreatorID: a.CreatorID}
		}
		o.Lines = append(o.Lines, ol)
	}
	sum, err := order.Sum(cur, o.Lines)
	if err != nil {
		return order.Order{}, fmt.Errorf("order total: %w", err)
	}
	o.Subtotal, o.Total = sum, sum
	if err := o.Validate(); err != nil {
		return order.Order{}, err
	}
	return o, nil
}

// createdData is the order_created ledger entry's data: what was ordered, by whom, at
// what price, until when.
func createdData(o order.Order, provider string) map[string]any {
	lines := make([]map[string]any, len(o.Lines))
	for i, l := range o.Lines {
		m := map[string]any{"productId": l.ProductID, "title": l.Title, "quantity": l.Quantity, "unitPrice": l.UnitPrice.Amount}
		if a := l.Attribution; a != nil {
			m["promotionId"], m["creatorId"] = a.PromotionID, a.CreatorID
		}
		lines[i] = m
	}
	d := map[string]any{
		"buyerId": o.BuyerID, "orderRef": o.OrderRef, "status": string(o.Status),
		"currency": o.Currency, "total": o.Total.Amount, "lines": lines,
		"deadline": order.FormatTime(o.Deadline),
	}
	if provider != "" {
		d["provider"] = provider
	}
	return d
}

// checkoutItems builds checkout's transaction: n stock reservations (indexes 0..n-1),
// then the order put (n), the cart's closing (n+1), the ledger entry (n+2) and the
// outbox record (n+3).
func (s *Store) checkoutItems(ctx context.Context, o order.Order, c cart.Cart, entry ledger.Entry, now time.Time) ([]types.TransactWriteItem, error) {
	items := make([]types.TransactWriteItem, 0, len(o.Lines)+checkoutFixedItems)
	seen := map[string]bool{}
	for _, l := range o.Lines {
		if seen[l.ProductID] {
			return nil, fmt.Errorf("order %s: product %s on two lines", o.ID, l.ProductID)
		}
		seen[l.ProductID] = true
		items = append(items, s.reserve(l))
	}
	put, err := order.TransactPut(s.t.Orders, o)
	if err != nil {
		return nil, err
	}
	ledgerPut, err := entry.TransactPut(s.t.Ledger)
	if err != nil {
		return nil, err
	}
	rec, err := outbox.New(ctx, EventOrderCreated, o.ID, EventSchemaVersion, OrderCreated{
		OrderID: o.ID, Status: string(o.Status), Total: o.Total.Amount, Currency: o.Currency,
		Lines: len(o.Lines), Deadline: o.Deadline, Version: o.Version, ProductIDs: ProductIDs(o),
	}, now)
	if err != nil {
		return nil, err
	}
	recPut, err := rec.TransactPut(s.t.Outbox)
	if err != nil {
		return nil, err
	}
	items = append(items, put, s.carts.CloseCart(c.Owner, c.Version), ledgerPut, recPut)
	if len(items) > MaxTransactItems {
		return nil, fmt.Errorf("checkout of %d lines: %w", len(o.Lines), ErrTooManyLines)
	}
	return items, nil
}

// Catalog attribute names the reservation conditions on (CatalogTable's storage
// model, package catalog; the integration tests create products through the catalog's
// own store, so a rename there fails them).
const (
	attrProductID     = "productId"
	attrStock         = "stock"
	attrStatus        = "status"
	attrVersion       = "version"
	attrPriceAmount   = "priceAmount"
	attrPriceCurrency = "priceCurrency"
	statusListed      = "LISTED"
)

// reserve is one line's stock reservation: stock - q and version + 1 (so that a
// seller's concurrent compare-and-swap write of the product, which sets stock from
// what it read, fails and re-reads instead of overwriting the reservation), on the
// condition that the product is listed, at the price the order charges, with at least
// q units. ALL_OLD on failure says which condition failed.
func (s *Store) reserve(l order.Line) types.TransactWriteItem {
	q := strconv.FormatInt(l.Quantity, 10)
	return types.TransactWriteItem{Update: &types.Update{
		TableName:        aws.String(s.t.Catalog),
		Key:              map[string]types.AttributeValue{attrProductID: &types.AttributeValueMemberS{Value: l.ProductID}},
		UpdateExpression: aws.String("SET #stock = #stock - :q, #version = #version + :one"),
		ConditionExpression: aws.String("attribute_exists(#id) AND #status = :listed AND #stock >= :q" +
			" AND #price = :price AND #currency = :currency"),
		ExpressionAttributeNames: map[string]string{
			"#id": attrProductID, "#stock": attrStock, "#version": attrVersion, "#status": attrStatus,
			"#price": attrPriceAmount, "#currency": attrPriceCurrency,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":q":        &types.AttributeValueMemberN{Value: q},
			":one":      &types.AttributeValueMemberN{Value: "1"},
			":listed":   &types.AttributeValueMemberS{Value: statusListed},
			":price":    &types.AttributeValueMemberN{Value: strconv.FormatInt(l.UnitPrice.Amount, 10)},
			":currency": &types.AttributeValueMemberS{Value: l.UnitPrice.Currency},
		},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}}
}

// release is one line's stock release: stock + q and version + 1, on the condition
// that the product exists (products are delisted, never deleted; without the
// condition ADD would create a stub item).
func (s *Store) release(l order.Line) types.TransactWriteItem {
	return types.TransactWriteItem{Update: &types.Update{
		TableName:                aws.String(s.t.Catalog),
		Key:                      map[string]types.AttributeValue{attrProductID: &types.AttributeValueMemberS{Value: l.ProductID}},
		UpdateExpression:         aws.String("ADD #stock :q, #version :one"),
		ConditionExpression:      aws.String("attribute_exists(#id)"),
		ExpressionAttributeNames: map[string]string{"#id": attrProductID, "#stock": attrStock, "#version": attrVersion},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":q":   &types.AttributeValueMemberN{Value: strconv.FormatInt(l.Quantity, 10)},
			":one": &types.AttributeValueMemberN{Value: "1"},
		},
	}}
}

// productState is what a failed reservation's ALL_OLD item says about the product.
type productState struct {
	ProductID     string `dynamodbav:"productId"`
	PriceAmount   int64  `dynamodbav:"priceAmount"`
	PriceCurrency string `dynamodbav:"priceCurrency"`
	Stock         int64  `dynamodbav:"stock"`
	Status        string `dynamodbav:"status"`
}

// checkoutFailed classifies a failed checkout transaction (nothing was written):
// short stock and unavailable products end the checkout; a changed cart or price, a
// transaction conflict, or a failed reservation whose cause is unknown ask for another
// attempt. An order put that failed because the order exists means an earlier
// attempt of this very transaction committed (the order id is fresh per attempt), and
// is success once the stored order is confirmed to be this one.
func (s *Store) checkoutFailed(ctx context.Context, o order.Order, err error) (order.Order, bool, error) {
	rs, conflict := reasons(err)
	if rs == nil && !conflict {
		return order.Order{}, false, fmt.Errorf("checkout: transact write items: %w", err)
	}
	n := len(o.Lines)
	var short []string
	var bad []UnavailableLine
	retry := conflict
	for i, l := range o.Lines {
		if code(rs, i) != "ConditionalCheckFailed" {
			continue
		}
		if len(rs[i].Item) == 0 {
			retry = true // the re-read prices the cart again and finds out
			continue
		}
		var p productState
		if uerr := attributevalue.UnmarshalMap(rs[i].Item, &p); uerr != nil {
			return order.Order{}, false, fmt.Errorf("checkout: decode product %s: %w", l.ProductID, uerr)
		}
		switch {
		case p.Status != statusListed:
			bad = append(bad, UnavailableLine{l.ProductID, cart.ReasonDelisted})
		case p.Stock < l.Quantity:
			short = append(short, l.ProductID)
		default:
			retry = true // re-priced since the read: price again
		}
	}
	switch {
	case len(bad) > 0:
		for _, id := range short {
			bad = append(bad, UnavailableLine{id, cart.ReasonOutOfStock})
		}
		return order.Order{}, false, &UnavailableError{Lines: bad}
	case len(short) > 0:
		return order.Order{}, false, &InsufficientStockError{ProductIDs: short}
	case code(rs, n) == "ConditionalCheckFailed":
		stored, gerr := s.Get(ctx, o.ID)
		if gerr == nil && stored.LedgerHash == o.LedgerHash {
			return stored, false, nil
		}
		return order.Order{}, true, fmt.Errorf("checkout: order id %s taken: %w", o.ID, ErrConflict)
	case code(rs, n+1) == "ConditionalCheckFailed":
		return order.Order{}, true, fmt.Errorf("checkout: the cart changed since it was read: %w", ErrCartChanged)
	case retry:
		return order.Order{}, true, fmt.Errorf("checkout: %w", ErrConflict)
	}
	return order.Order{}, false, fmt.Errorf("checkout: transaction cancelled: %w", err)
}
