// Package order is commerce's order domain: the Order type, its payment statuses and
// the pure state machine that moves an order through them. It does no I/O; the
// DynamoDB model of OrdersTable (dynamo.go) only builds items and transaction items,
// which the checkout, payments, expiry and reconcile functions put into their own
// transactions.
//
// # States
//
//	PENDING_PAYMENT → PAID → REFUNDED
//	PENDING_PAYMENT → EXPIRED | CANCELLED | FAILED        (stock released)
//	EXPIRED | CANCELLED | FAILED → PAID_LATE → REFUNDED    (paid after the order closed: needs refund)
//
// An order is created PENDING_PAYMENT with a payment deadline. A payment that arrives
// after the order closed (expired at its deadline, cancelled by the buyer or the
// provider, failed) is never silently accepted: the order becomes PAID_LATE with
// NeedsRefund set, and its stock, already returned, is not taken again.
//
// # Events
//
// Provider notifications are first mapped to provider-neutral events (Midtrans and
// Xendit, provider.go), then applied with Transition. Two internal events come from
// commerce itself: deadline_passed (the expiry consumer or the reconcile sweep, once
// the deadline has passed; see Expire) and buyer_cancelled (the buyer cancels an
// unpaid order).
//
// Transition's outcome is one of:
//
//   - a change of status (Decision.Next != Decision.From), with ReleaseStock when the
//     reserved stock returns to the catalog and NeedsRefund when money must go back;
//   - RecordOnly: the status stays but the event is recorded (ledger entry, flags):
//     a fraud challenge (NeedsReview), a partial refund;
//   - NoOp: a replayed, late or out-of-date event that changes nothing (a "pending"
//     after settlement, a second settlement, the expiry message of a paid order);
//   - an error matching ErrRejected: the event contradicts the order's history (a
//     refund of an order never paid, a denial after settlement, a buyer cancelling a
//     paid order). Nothing changes; the payments consumer records the rejected
//     notification in the ledger.
//
// The full table, event by state (→X: change to X; +stock: release stock; +refund:
// needs refund; record: RecordOnly; +review: needs review; noop; reject):
//
//	event \ state       PENDING_PAYMENT   PAID       REFUNDED EXPIRED            CANCELLED          FAILED             PAID_LATE
//	pending             noop              noop       noop     noop               noop               noop               noop
//	paid                →PAID             noop       noop     →PAID_LATE+refund  →PAID_LATE+refund  →PAID_LATE+refund  noop
//	challenge           record+review     noop       noop     record+review      record+review      record+review      noop
//	denied              →FAILED+stock     reject     reject   noop               noop               noop               reject
//	cancelled           →CANCELLED+stock  →REFUNDED  noop     noop               noop               noop               →REFUNDED
//	failed              →FAILED+stock     reject     reject   noop               noop               noop               reject
//	expired             →EXPIRED+stock    reject     reject   noop               noop               noop               reject
//	refunded            reject            →REFUNDED  noop     reject             reject             reject             →REFUNDED
//	partially_refunded  reject            record     noop     reject             reject             reject             record
//	deadline_passed     →EXPIRED+stock    noop       noop     noop               noop               noop               noop
//	buyer_cancelled     →CANCELLED+stock  reject     reject   reject             noop               reject             reject
//
// Reasons for the cells that are not obvious:
//
//   - cancelled after PAID or PAID_LATE: Midtrans "cancel" of a captured card payment
//     is a void before settlement: the buyer's money goes back, as with a refund.
//   - refunded while not yet paid: the refund cannot be explained by the order's
//     history (a "settlement" still in flight, delivered out of order, or a manual
//     action at the provider). It is rejected and recorded; the reconcile sweep asks
//     the provider for the current status.
//   - a refund of a PAID_LATE order is the refund the order was waiting for.
//   - refunds do not release stock: goods may have shipped; returns are a separate flow.
//
// # Storage
//
// OrdersTable (template.yaml, commerce only):
//
//	key               orderId (S)
//	GSI byBuyer       buyerId (S), createdAt (S)       a buyer's orders, newest first
//	GSI byStatusDeadline status (S), deadline (S)      sweeps: PENDING_PAYMENT orders whose
//	                                                    deadline <= now (expiry, reconcile),
//	                                                    PAID_LATE orders (refunds)
//
// Times in keys use the fixed-width UTC layout TimeLayout so that they sort as strings.
// Every status change is one TransactWriteItems holding the order's Update (Update,
// conditioned on the status and version it was read at and on its ledger head), the
// ledger entry (package ledger) and the outbox record (package outbox), plus the stock
// releases when Decision.ReleaseStock. The order item carries the head of its audit
// ledger (ledgerSeq, ledgerHash): see package ledger.
package order
