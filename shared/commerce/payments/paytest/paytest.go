// Package paytest holds test helpers for the payment flow's tests (webhook, payments,
// reconcile, and their end-to-end tests): an order placed as checkout places it (order
// item, order_created ledger entry, catalog products for its lines), and provider
// notifications signed as Midtrans and Xendit sign them. Only tests import it.
package paytest

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/etalase/etalase/shared/commerce/ledger"
	"github.com/etalase/etalase/shared/commerce/money"
	"github.com/etalase/etalase/shared/commerce/order"
	"github.com/etalase/etalase/shared/commerce/payment/midtrans"
	"github.com/etalase/etalase/shared/contract"
	"github.com/etalase/etalase/shared/platform/httpapi"
)

// IDR returns an amount of rupiah.
func IDR(a int64) money.Money { return money.Money{Amount: a, Currency: "IDR"} }

// Order returns a valid PENDING_PAYMENT order of two lines (one attributed to a
// creator's promotion, one not) worth IDR 200000, placed at createdAt, due an hour
// later, with a payment session at provider (empty for none).
func Order(provider string, createdAt time.Time) order.Order {
	id, pa, pb := newID("o_"), newID("p_"), newID("p_")
	ref, err := contract.NewOrderRef() // never derived from the order id: it crosses to social
	if err != nil {
		panic(err)
	}
	return order.Order{
		ID: id, BuyerID: "buyer-paytest", OrderRef: ref, Currency: "IDR",
		Lines: []order.Line{
			{ProductID: pa, Title: "Kopi Gayo", Quantity: 2, UnitPrice: IDR(85000),
				Attribution: &order.Attribution{PromotionID: "promo_paytest", CreatorID: "creator_paytest"}},
			{ProductID: pb, Title: "Teh Melati", Quantity: 1, UnitPrice: IDR(30000)},
		},
		Subtotal: IDR(200000), Total: IDR(200000), Refunded: IDR(0),
		Status: order.StatusPendingPayment, PaymentProvider: provider,
		Deadline: createdAt.Add(time.Hour), Version: 1,
		CreatedAt: createdAt.UTC(), UpdatedAt: createdAt.UTC(),
	}
}

// newID returns a fresh id with prefix: the shape of order and product ids.
func newID(prefix string) string {
	id, err := order.NewID()
	if err != nil {
		panic(err)
	}
	return prefix + id[2:]
}

// Tables names the tables Place writes.
type Tables struct {
	Orders, Ledger, Catalog string
}

// DynamoAPI is what Place needs of a DynamoDB client.
type DynamoAPI interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// Stock is how many units of each product Place lists in the catalog (after the
// order's reservation).
const Stock = 10

// Place stores o as checkout would: its lines' products in the catalog (Stock units
// left each), and, in one transaction, the order with its order_created ledger entry
// (ledger head seq 1). It returns the order as stored.
func Place(ctx context.Context, db DynamoAPI, t Tables, o order.Order) (order.Order, error) {
	if t.Catalog != "" {
		for _, l := range o.Lines {
			_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(t.Catalog), Item: map[string]types.AttributeValue{
				"productId":     &types.AttributeValueMemberS{Value: l.ProductID},
				"sellerId":      &types.AttributeValueMemberS{Value: "seller-paytest"},
				"title":         &types.AttributeValueMemberS{Value: l.Title},
				"priceAmount":   &types.AttributeValueMemberN{Value: strconv.FormatInt(l.UnitPrice.Amount, 10)},
				"priceCurrency": &types.AttributeValueMemberS{Value: l.UnitPrice.Currency},
				"stock":         &types.AttributeValueMemberN{Value: strconv.Itoa(Stock)},
				"status":        &types.AttributeValueMemberS{Value: "LISTED"},
				"version":       &types.AttributeValueMemberN{Value: "2"},
				"createdAt":     &types.AttributeValueMemberS{Value: order.FormatTime(o.CreatedAt)},
				"updatedAt":     &types.AttributeValueMemberS{Value: order.FormatTime(o.CreatedAt)},
			}})
			if err != nil {
				return order.Order{}, fmt.Errorf("put product: %w", err)
			}
		}
	}
	entry, err := ledger.Next(ledger.Head{}, o.ID, ledger.TypeOrderCreated, o.CreatedAt, map[string]any{
		"buyerId": o.BuyerID, "status": string(o.Status), "currency": o.Currency, "total": o.Total.Amount,
	})
	if err != nil {
		return order.Order{}, err
	}
	o.LedgerSeq, o.LedgerHash = entry.Seq, entry.Hash
	put, err := order.TransactPut(t.Orders, o)
	if err != nil {
		return order.Order{}, err
	}
	lput, err := entry.TransactPut(t.Ledger)
	if err != nil {
		return order.Order{}, err
	}
	if _, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{put, lput}}); err != nil {
		return order.Order{}, fmt.Errorf("place order: %w", err)
	}
	return o, nil
}

// Midtrans is a Midtrans HTTP notification to build.
type Midtrans struct {
	// OrderID, Status (transaction_status), and TransactionID are required.
	OrderID, Status, TransactionID string
	// StatusCode defaults to Midtrans's code for Status (200, 201 or 202).
	StatusCode string
	// Gross is gross_amount as sent, e.g. "200000.00".
	Gross string
	// Fraud is fraud_status; empty means accept.
	Fraud string
	// Refund is refund_amount, for refunds.
	Refund string
	// Key signs it.
	Key string
}

// midtransCodes are the status codes Midtrans sends with each status.
var midtransCodes = map[string]string{"pending": "201", "deny": "202", "expire": "202", "failure": "202"}

// Body returns the signed notification body.
func (m Midtrans) Body() []byte {
	code := m.StatusCode
	if code == "" {
		code = midtransCodes[m.Status]
		if code == "" {
			code = "200"
		}
	}
	fraud := m.Fraud
	if fraud == "" {
		fraud = "accept"
	}
	body := map[string]any{
		"transaction_time":   "2026-01-01 07:12:40",
		"transaction_status": m.Status,
		"transaction_id":     m.TransactionID,
		"status_message":     "midtrans payment notification",
		"status_code":        code,
		"signature_key":      midtrans.Signature(m.OrderID, code, m.Gross, m.Key),
		"payment_type":       "bank_transfer",
		"order_id":           m.OrderID,
		"merchant_id":        "G141532850",
		"gross_amount":       m.Gross,
		"fraud_status":       fraud,
		"currency":           "IDR",
	}
	if m.Status == "settlement" {
		body["settlement_time"] = "2026-01-01 07:15:02"
	}
	if m.Refund != "" {
		body["refund_amount"] = m.Refund
	}
	b, err := json.Marshal(body)
	if err != nil {
		panic(err)
	}
	return b
}

// Xendit is a Xendit invoice callback to build.
type Xendit struct {
	// InvoiceID, OrderID (external_id) and Status are required; Amount in rupiah.
	InvoiceID, OrderID, Status string
	Amount                     int64
}

// Body returns the callback body.
func (x Xendit) Body() []byte {
	body := map[string]any{
		"id": x.InvoiceID, "external_id": x.OrderID, "user_id": "5f0e1a2b3c4d5e6f7a8b9c0d", "is_high": false,
		"status": x.Status, "merchant_name": "etalase", "amount": x.Amount, "currency": "IDR",
		"description": "Order " + x.OrderID, "created": "2026-01-01T00:12:40.021Z", "updated": "2026-01-01T00:15:02.270Z",
	}
	if x.Status == "PAID" || x.Status == "SETTLED" {
		body["paid_amount"], body["paid_at"] = x.Amount, "2026-01-01T00:15:02.114Z"
	}
	b, err := json.Marshal(body)
	if err != nil {
		panic(err)
	}
	return b
}

// Request returns the API Gateway event of a POST of body to routeKey with headers.
func Request(routeKey string, body []byte, headers map[string]string) httpapi.Request {
	h := map[string]string{"content-type": "application/json"}
	for k, v := range headers {
		h[k] = v
	}
	var req httpapi.Request
	req.Version, req.RouteKey, req.Headers, req.Body = "2.0", routeKey, h, string(body)
	req.RequestContext.HTTP.Method = "POST"
	req.RequestContext.HTTP.SourceIP = "103.208.23.6"
	req.RequestContext.RequestID = "paytest"
	return req
}
