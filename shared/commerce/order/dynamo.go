package order

import (
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/etalase/etalase/shared/commerce/money"
)

// OrdersTable's indexes (template.yaml).
const (
	// ByBuyerIndex is the GSI (buyerId, createdAt): a buyer's orders, newest first with
	// ScanIndexForward false.
	ByBuyerIndex = "byBuyer"
	// ByStatusDeadlineIndex is the GSI (status, deadline): the expiry and reconcile
	// sweeps query status = PENDING_PAYMENT AND deadline <= :now (as TimeLayout), the
	// refund sweep status = PAID_LATE.
	ByStatusDeadlineIndex = "byStatusDeadline"
)

// Attribute names of OrdersTable items that other packages condition on or set.
const (
	// AttrOrderID is the table's key.
	AttrOrderID = "orderId"
	// AttrLedgerSeq and AttrLedgerHash are the head of the order's audit ledger; package
	// ledger uses the same names (ledger.AttrHeadSeq, ledger.AttrHeadHash).
	AttrLedgerSeq  = "ledgerSeq"
	AttrLedgerHash = "ledgerHash"
)

// TimeLayout is fixed-width UTC, so that createdAt and deadline, the indexes' sort
// keys, sort chronologically as strings (RFC3339Nano drops trailing zeros and would
// not). Sweeps format their bound with it.
const TimeLayout = "2006-01-02T15:04:05.000000000Z"

// FormatTime formats t in TimeLayout, for index key conditions.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeLayout) }

// item is an order's storage form in OrdersTable. Amounts are in the order's currency.
type item struct {
	OrderID         string     `dynamodbav:"orderId"`
	BuyerID         string     `dynamodbav:"buyerId"`
	OrderRef        string     `dynamodbav:"orderRef,omitempty"`
	Lines           []lineItem `dynamodbav:"lines"`
	Currency        string     `dynamodbav:"currency"`
	Subtotal        int64      `dynamodbav:"subtotal"`
	Total           int64      `dynamodbav:"total"`
	Refunded        int64      `dynamodbav:"refunded"`
	Status          string     `dynamodbav:"status"`
	PaymentProvider string     `dynamodbav:"paymentProvider,omitempty"`
	PaymentRef      string     `dynamodbav:"paymentRef,omitempty"`
	PaymentURL      string     `dynamodbav:"paymentUrl,omitempty"`
	Deadline        string     `dynamodbav:"deadline"`
	NeedsRefund     bool       `dynamodbav:"needsRefund"`
	NeedsReview     bool       `dynamodbav:"needsReview"`
	Version         int64      `dynamodbav:"version"`
	LedgerSeq       int64      `dynamodbav:"ledgerSeq"`
	LedgerHash      string     `dynamodbav:"ledgerHash,omitempty"`
	CreatedAt       string     `dynamodbav:"createdAt"`
	UpdatedAt       string     `dynamodbav:"updatedAt"`
}

type lineItem struct {
	ProductID   string `dynamodbav:"productId"`
	Title       string `dynamodbav:"title"`
	Quantity    int64  `dynamodbav:"quantity"`
	UnitPrice   int64  `dynamodbav:"unitPrice"`
	PromotionID string `dynamodbav:"promotionId,omitempty"`
	CreatorID   string `dynamodbav:"creatorId,omitempty"`
}

func toItem(o Order) item {
	it := item{
		OrderID: o.ID, BuyerID: o.BuyerID, OrderRef: o.OrderRef, Currency: o.Currency,
		Subtotal: o.Subtotal.Amount, Total: o.Total.Amount, Refunded: o.Refunded.Amount,
		Status: string(o.Status), PaymentProvider: o.PaymentProvider, PaymentRef: o.PaymentRef,
		PaymentURL: o.PaymentURL, Deadline: FormatTime(o.Deadline),
		NeedsRefund: o.NeedsRefund, NeedsReview: o.NeedsReview, Version: o.Version,
		LedgerSeq: o.LedgerSeq, LedgerHash: o.LedgerHash,
		CreatedAt: FormatTime(o.CreatedAt), UpdatedAt: FormatTime(o.UpdatedAt),
	}
	it.Lines = make([]lineItem, len(o.Lines))
	for i, l := range o.Lines {
		it.Lines[i] = lineItem{ProductID: l.ProductID, Title: l.Title, Quantity: l.Quantity, UnitPrice: l.UnitPrice.Amount}
		if l.Attribution != nil {
			it.Lines[i].PromotionID, it.Lines[i].CreatorID = l.Attribution.PromotionID, l.Attribution.CreatorID
		}
	}
	return it
}

func (it item) toOrder() (Order, error) {
	var times [3]time.Time
	for i, s := range []string{it.Deadline, it.CreatedAt, it.UpdatedAt} {
		t, err := time.Parse(TimeLayout, s)
		if err != nil {
			return Order{}, fmt.Errorf("order %s: time %q: %w", it.OrderID, s, err)
		}
		times[i] = t
	}
	cur := func(a int64) money.Money { return money.Money{Amount: a, Currency: it.Currency} }
	o := Order{
		ID: it.OrderID, BuyerID: it.BuyerID, OrderRef: it.OrderRef, Currency: it.Currency,
		Subtotal: cur(it.Subtotal), Total: cur(it.Total), Refunded: cur(it.Refunded),
		Status: Status(it.Status), PaymentProvider: it.PaymentProvider, PaymentRef: it.PaymentRef,
		PaymentURL: it.PaymentURL, Deadline: times[0],
		NeedsRefund: it.NeedsRefund, NeedsReview: it.NeedsReview, Version: it.Version,
		LedgerSeq: it.LedgerSeq, LedgerHash: it.LedgerHash,
		CreatedAt: times[1], UpdatedAt: times[2],
		Lines: make([]Line, len(it.Lines)),
	}
	for i, l := range it.Lines {
		o.Lines[i] = Line{ProductID: l.ProductID, Title: l.Title, Quantity: l.Quantity, UnitPrice: cur(l.UnitPrice)}
		if l.PromotionID != "" || l.CreatorID != "" {
			o.Lines[i].Attribution = &Attribution{PromotionID: l.PromotionID, CreatorID: l.CreatorID}
		}
	}
	return o, nil
}

// MarshalItem returns o as an OrdersTable item.
func MarshalItem(o Order) (map[string]types.AttributeValue, error) {
	av, err := attributevalue.MarshalMap(toItem(o))
	if err != nil {
		return nil, fmt.Errorf("marshal order: %w", err)
	}
	return av, nil
}

// UnmarshalItem parses an OrdersTable item.
func UnmarshalItem(av map[string]types.AttributeValue) (Order, error) {
	var it item
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return Order{}, fmt.Errorf("unmarshal order: %w", err)
	}
	return it.toOrder()
}

// Key returns the OrdersTable key of an order.
func Key(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{AttrOrderID: &types.AttributeValueMemberS{Value: id}}
}

// TransactPut returns the transaction item that creates o in table, on the condition
// that no order with its id exists. The checkout puts it with the stock reservations,
// the cart's closing, the order_created ledger entry (o.LedgerSeq 1, o.LedgerHash its
// hash) and the outbox record.
func TransactPut(table string, o Order) (types.TransactWriteItem, error) {
	if err := o.Validate(); err != nil {
		return types.TransactWriteItem{}, err
	}
	if o.Version != 1 {
		return types.TransactWriteItem{}, fmt.Errorf("new order %s at version %d: %w", o.ID, o.Version, ErrInvalidOrder)
	}
	av, err := MarshalItem(o)
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return types.TransactWriteItem{Put: &types.Put{
		TableName:           aws.String(table),
		Item:                av,
		ConditionExpression: aws.String("attribute_not_exists(orderId)"),
	}}, nil
}

// TransactUpdate returns the transaction item that turns the stored order before into
// after: it sets every field that may change after checkout (status, refunded, payment
// provider/ref/url, deadline, flags, version, ledger head, updatedAt), on the condition
// that the stored order is still at before's status, version and ledger seq. A replayed
// or concurrent event therefore fails the whole transaction instead of applying twice;
// the caller re-reads and decides again (the second time it is a NoOp).
//
// after must be before's next version (after.Version == before.Version+1); its ledger
// head must not go back. Lines, buyer, currency, totals and createdAt never change.
func TransactUpdate(table string, before, after Order) (types.TransactWriteItem, error) {
	if err := after.Validate(); err != nil {
		return types.TransactWriteItem{}, err
	}
	switch {
	case after.ID != before.ID:
		return types.TransactWriteItem{}, fmt.Errorf("update order %s with %s: %w", before.ID, after.ID, ErrInvalidOrder)
	case after.Version != before.Version+1:
		return types.TransactWriteItem{}, fmt.Errorf("update order %s from version %d to %d: %w", before.ID, before.Version, after.Version, ErrInvalidOrder)
	case after.LedgerSeq < before.LedgerSeq:
		return types.TransactWriteItem{}, fmt.Errorf("update order %s: ledger seq %d goes back to %d: %w", before.ID, before.LedgerSeq, after.LedgerSeq, ErrInvalidOrder)
	}
	it := toItem(after)
	set := func(u expression.UpdateBuilder, name string, v any) expression.UpdateBuilder {
		return u.Set(expression.Name(name), expression.Value(v))
	}
	upd := expression.Set(expression.Name("status"), expression.Value(it.Status))
	upd = set(upd, "refunded", it.Refunded)
	upd = set(upd, "deadline", it.Deadline)
	upd = set(upd, "needsRefund", it.NeedsRefund)
	upd = set(upd, "needsReview", it.NeedsReview)
	upd = set(upd, "version", it.Version)
	upd = set(upd, AttrLedgerSeq, it.LedgerSeq)
	upd = set(upd, "updatedAt", it.UpdatedAt)
	for name, v := range map[string]string{"paymentProvider": it.PaymentProvider, "paymentRef": it.PaymentRef, "paymentUrl": it.PaymentURL, AttrLedgerHash: it.LedgerHash} {
		if v == "" {
			upd = upd.Remove(expression.Name(name))
		} else {
			upd = set(upd, name, v)
		}
	}
	cond := expression.And(
		expression.AttributeExists(expression.Name(AttrOrderID)),
		expression.Name("status").Equal(expression.Value(string(before.Status))),
		expression.Name("version").Equal(expression.Value(before.Version)),
		expression.Name(AttrLedgerSeq).Equal(expression.Value(before.LedgerSeq)),
	)
	expr, err := expression.NewBuilder().WithUpdate(upd).WithCondition(cond).Build()
	if err != nil {
		return types.TransactWriteItem{}, fmt.Errorf("build order update: %w", err)
	}
	return types.TransactWriteItem{Update: &types.Update{
		TableName:                           aws.String(table),
		Key:                                 Key(before.ID),
		UpdateExpression:                    expr.Update(),
		ConditionExpression:                 expr.Condition(),
		ExpressionAttributeNames:            expr.Names(),
		ExpressionAttributeValues:           expr.Values(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}}, nil
}

// ErrStale: the stored order is no longer the one a write was based on. Callers that
// see a TransactUpdate fail its condition translate it to ErrStale (see IsConditionFailed).
var ErrStale = errors.New("order changed concurrently")

// IsConditionFailed reports whether err is a transaction cancelled because the
// condition of its item at index failed (ConditionalCheckFailed), the case in which
// the order was changed concurrently and must be re-read.
func IsConditionFailed(err error, index int) bool {
	var canceled *types.TransactionCanceledException
	if !errors.As(err, &canceled) || index < 0 || index >= len(canceled.CancellationReasons) {
		return false
	}
	return aws.ToString(canceled.CancellationReasons[index].Code) == "ConditionalCheckFailed"
}
