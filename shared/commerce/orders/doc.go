// Package orders is the DynamoDB side of commerce's orders: the checkout transaction,
// the one applier through which every later change of an order is written (Apply),
// the payment session's record (AttachPayment), the reads (Get, ListByBuyer), and the
// buyer's and auditor's HTTP routes of CommerceOrdersFunction (Handler). The order
// itself and its state machine are package order; this package writes what the state
// machine decides, together with everything that must change with it.
//
// # Checkout (Store.Checkout)
//
// One TransactWriteItems holds, for an order of n lines (n <= 50, a cart's limit):
//
//	n  CatalogTable  Update  stock = stock - q, version + 1
//	                         IF listed AND priceAmount/priceCurrency = the price charged AND stock >= q
//	1  OrdersTable   Put     the PENDING_PAYMENT order (IF its id is new), ledger head seq 1
//	1  CartTable     Delete  the buyer's cart IF its version is the one priced
//	1  LedgerTable   Put     order_created (seq 1)
//	1  OutboxTable   Put     OrderCreated (internal)
//
// 54 items at most, within DynamoDB's 100 (a compile-time check keeps the arithmetic).
// A failed stock condition cancels everything: nothing is written, and the reasons'
// old items (ALL_OLD) name the short products (*InsufficientStockError) or the ones
// delisted meanwhile (*UnavailableError). A cart changed, or a price changed, after
// the read re-reads and re-prices (bounded). The reservation bumps the product's
// version, because the catalog's own writes are compare-and-swap on it and set stock
// from what they read: without the bump a seller's concurrent edit could overwrite a
// reservation. Each order gets an opaque OrderRef (contract.NewOrderRef), the only
// name of the order that sale events carry to social.
//
// # Apply
//
// Apply(ctx, orderID, decide, ev) reads the order (strongly consistent), asks decide
// (order.Transition, order.Expire, order.Cancel, ...) and writes the decision in one
// TransactWriteItems conditioned on the order's status, version and ledger seq: the
// order's update, one stock release (ADD stock q, version + 1) per line when
// ReleaseStock, the ledger entry chained to the order's head, and the outbox records:
// one contract.SaleAttributed per attributed line on the change to PAID, one
// contract.SaleReversed per attributed line on PAID → REFUNDED, and an internal
// OrderStatusChanged on every change of status. A NoOp writes nothing; decide's error
// (order.ErrRejected) is returned for the caller to record; a lost race re-reads and
// decides again, so a replayed or concurrent event changes nothing twice.
//
// # Cost in DynamoDB requests
//
//	Checkout        GetItem (cart) + BatchGetItem (products) + TransactWriteItems
//	AttachPayment   TransactWriteItems (the order just written needs no read)
//	Apply           GetItem + TransactWriteItems (GetItem only, for a NoOp)
//	Get             GetItem
//	ListByBuyer     Query (byBuyer, newest first)
//
// plus one read and one write per lost race.
//
// # Routes and error codes (Handler)
//
//	GET  /commerce/v1/orders                      scope buyer: own orders, newest first (?limit=1..100&cursor=)
//	GET  /commerce/v1/orders/{orderId}            scope buyer: one own order
//	POST /commerce/v1/orders/{orderId}/cancel     scope buyer: cancel an unpaid own order (stock released)
//	GET  /commerce/v1/audit/orders/{orderId}/ledger  scope auditor: the ledger and its verification
//
//	400 validation_failed (limit), invalid_cursor
//	401 unauthenticated, 403 forbidden
//	404 order_not_found        no such order, or another buyer's (never 403: ids cannot be probed)
//	409 order_not_cancellable  the order is paid, refunded, expired or failed
//	409 conflict               concurrent changes outlasted the retries; retry
//	500 internal
//
// An order shows its payment URL only while it is PENDING_PAYMENT. Cancelling a
// cancelled order answers 200 again and changes nothing.
package orders
