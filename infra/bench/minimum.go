package bench

import "strings"

// MinCall is one request the design needs for one unit of an operation's work.
type MinCall struct {
	// Service, Operation and Resource (the tables joined by "+", or the queue, by
	// logical id) name the request as the Meter does.
	Service, Operation, Resource string
	// Count is how many per unit.
	Count float64
	// RRU and WRU are its read and write request units at the operation's typical item
	// sizes (MinOp.Sizes).
	RRU, WRU float64
	// Why the design needs it, in one line.
	Why string
}

// MinVariant is one kind of unit of an operation (a relay's record type, an inbox
// message type) and what the design needs for it.
type MinVariant struct {
	Name  string
	Calls []MinCall
}

// MinOp is the design's minimum for one business operation: the requests of the
// function that performs it, per unit of work.
type MinOp struct {
	// ID names the operation in report.json; Op in the report.
	ID, Op string
	// Function is the logical id of the function that performs it; Unit names one
	// unit of its work.
	Function, Unit string
	// Variants are the kinds of units; most operations have one.
	Variants []MinVariant
	// Sizes are the item sizes the units assume.
	Sizes string
	// Reason sums up why this is the minimum.
	Reason string
	// Beyond explains requests the function sends that the minimum does not need,
	// keyed "service Operation Resource": the report prints it beside the excess.
	Beyond map[string]string
}

// Design minimums, per unit of work, derived from DESIGN.md sections 2 and 3 and the
// packages that do the work (shared/commerce/cart, checkout, orders, webhook,
// paymentevents, payments, expiry, relay; shared/social/inbox, commission,
// snapshot). Unit figures assume every item at most 1 KB (4 KB for reads) unless
// Sizes says otherwise; a transaction's item costs 2 WRU, an index entry written 1 WRU
// at the standard rate. Table and queue names are the template's logical ids.
var designMinimums = []MinOp{
	{
		ID: "handoff", Op: "Hand-off (Buy on a promotion)", Function: fnPromotion, Unit: "hand-off",
		Sizes:  "snapshot ≤ 4 KB read eventually consistent; promotion ≤ 1 KB; byCreator projects ALL, byFeed everything but clicks",
		Reason: "flow 3: a live promotion of an available product gets a token at the snapshot's displayed price, and the click is counted; the click's conditional update checks that the promotion is live and returns it",
		Variants: []MinVariant{{Name: "hand-off", Calls: []MinCall{
			{ServiceDynamoDB, "GetItem", "SnapshotsTable", 1, 0.5, 0, "the product's display snapshot (available, displayed price), eventually consistent: it is a delayed copy anyway"},
			{ServiceDynamoDB, "UpdateItem", "PromotionsTable", 1, 0, 2,
				"count the click on condition that the promotion is live, returning it (creator, product): 1 + its byCreator entry (byFeed does not project clicks)"},
		}}},
	},
	{
		ID: "add-to-cart", Op: "Add to cart (from a hand-off token)", Function: fnCart, Unit: "add",
		Sizes:  "cart and product items ≤ 4 KB read eventually consistent, cart ≤ 1 KB written",
		Reason: "flow 4: the price and stock come from the catalog, never the token, and the cart is written whole, compare-and-swap on its version",
		Variants: []MinVariant{{Name: "add", Calls: []MinCall{
			{ServiceDynamoDB, "BatchGetItem", "CartTable+CatalogTable", 1, 1, 0, "the cart (its version) and the product (price, stock, listing) in one read"},
			{ServiceDynamoDB, "PutItem", "CartTable", 1, 0, 1, "the cart with the attributed line, on condition of the version read"},
		}}},
	},
	{
		ID: "checkout", Op: "Checkout (one line)", Function: fnCheckout, Unit: "checkout",
		Sizes:  "all items ≤ 1 KB; product with its bySeller entry, order with its byBuyer and byStatusDeadline entries",
		Reason: "flow 5: one transaction commits stock, order, cart, ledger and outbox; the payment session is recorded after the provider answers; the Idempotency-Key is claimed before and completed after",
		Variants: []MinVariant{{Name: "checkout", Calls: []MinCall{
			{ServiceDynamoDB, "PutItem", "IdempotencyTable", 1, 0, 1, "claim the Idempotency-Key (conditional put)"},
			{ServiceDynamoDB, "GetItem", "CartTable", 1, 1, 0, "read the cart, strongly consistent"},
			{ServiceDynamoDB, "BatchGetItem", "CatalogTable", 1, 1, 0, "re-price every line from the catalog"},
			{ServiceDynamoDB, "TransactWriteItems", "CartTable+CatalogTable+LedgerTable+OrdersTable+OutboxTable", 1, 0, 13,
				"stock reservation, order, cart closing, ledger entry, OrderCreated outbox record: 5 items × 2 + 3 index entries"},
			{ServiceDynamoDB, "TransactWriteItems", "LedgerTable+OrdersTable", 1, 0, 5,
				"record the payment session on the order with its ledger entry (the order commits before the provider is asked): 2 items × 2 + byBuyer"},
			{ServiceDynamoDB, "UpdateItem", "IdempotencyTable", 1, 0, 1, "complete the key with the stored response"},
		}}},
	},
	{
		ID: "webhook", Op: "Webhook acknowledgement", Function: fnWebhook, Unit: "notification",
		Sizes:  "the stored notification (raw body and metadata) 1–2 KB",
		Reason: "flow 6: verify, check the order's total, store the notification once, enqueue it, answer",
		Variants: []MinVariant{{Name: "notification", Calls: []MinCall{
			{ServiceDynamoDB, "GetItem", "OrdersTable", 1, 1, 0, "the order's total and currency (strongly consistent)"},
			{ServiceDynamoDB, "PutItem", "PaymentEventsTable", 1, 0, 2, "store the notification once (conditional put)"},
			{ServiceSQS, "SendMessage", "PaymentEventsQueue", 1, 0, 0, "enqueue it for the payments consumer (FIFO, grouped by order)"},
		}}},
	},
	{
		ID: "payment-apply", Op: "Payment apply (PENDING_PAYMENT → PAID)", Function: fnPayments, Unit: "message",
		Sizes:  "order ≤ 1 KB with an index key change (byStatusDeadline) and a byBuyer update; one attributed line; stored notification 1–2 KB",
		Reason: "flow 6: read the order, one transaction conditioned on status, version and ledger head (order, ledger entry, OrderStatusChanged, SaleAttributed per attributed line), then mark the notification processed",
		Variants: []MinVariant{{Name: "message", Calls: []MinCall{
			{ServiceDynamoDB, "GetItem", "OrdersTable", 1, 1, 0, "the order, strongly consistent, for the state machine"},
			{ServiceDynamoDB, "TransactWriteItems", "LedgerTable+OrdersTable+OutboxTable", 1, 0, 11,
				"order, ledger entry, OrderStatusChanged and SaleAttributed records: 4 items × 2 + byStatusDeadline moved (2) + byBuyer (1)"},
			{ServiceDynamoDB, "UpdateItem", "PaymentEventsTable", 1, 0, 2, "mark the stored notification processed (tells the webhook a duplicate needs no re-send)"},
		}}},
	},
	{
		ID: "expiry", Op: "Expiry of an unpaid order (→ EXPIRED)", Function: fnExpiry, Unit: "message",
		Sizes:  "order and product ≤ 1 KB",
		Reason: "flow 7: read the order, one transaction conditioned on its state: EXPIRED, the stock released, ledger entry, OrderStatusChanged",
		Variants: []MinVariant{{Name: "expired", Calls: []MinCall{
			{ServiceDynamoDB, "GetItem", "OrdersTable", 1, 1, 0, "the order, strongly consistent"},
			{ServiceDynamoDB, "TransactWriteItems", "CatalogTable+LedgerTable+OrdersTable+OutboxTable", 1, 0, 12,
				"order, stock release, ledger entry, OrderStatusChanged: 4 items × 2 + byStatusDeadline moved (2), byBuyer (1), bySeller (1)"},
		}}},
	},
	{
		ID: "expiry-noop", Op: "Expiry message of a paid order (NoOp)", Function: fnExpiry, Unit: "message",
		Sizes:  "order ≤ 4 KB",
		Reason: "flow 7: every committed order gets its expiry message; a paid order's is read and dropped",
		Variants: []MinVariant{{Name: "noop", Calls: []MinCall{
			{ServiceDynamoDB, "GetItem", "OrdersTable", 1, 1, 0, "the order, strongly consistent: already PAID, nothing written"},
		}}},
	},
	{
		ID: "relay", Op: "Relay", Function: fnRelay, Unit: "outbox record",
		Sizes:  "products ≤ 4 KB read strongly consistent; messages ≤ 64 KB",
		Reason: "flows 5–8: OrderCreated schedules the order's expiry and refreshes the product's snapshot in social; a stock release refreshes it; SaleAttributed crosses to social; OrderStatusChanged is not published. Counted as if each record came alone in its stream batch: batches share the reads and sends",
		Variants: []MinVariant{
			{Name: "OrderCreated", Calls: []MinCall{
				{ServiceDynamoDB, "BatchGetItem", "CatalogTable", 1, 1, 0, "the products' current items, for their display snapshots"},
				{ServiceSQS, "SendMessageBatch", "ExpiryQueue", 1, 0, 0, "the order's delayed expiry message"},
				{ServiceSQS, "SendMessageBatch", "SocialInboxQueue", 1, 0, 0, "the products' ProductUpdated snapshots"},
			}},
			{Name: "OrderStatusChanged (paid)", Calls: nil},
			{Name: "OrderStatusChanged (stock released)", Calls: []MinCall{
				{ServiceDynamoDB, "BatchGetItem", "CatalogTable", 1, 1, 0, "the products' current items"},
				{ServiceSQS, "SendMessageBatch", "SocialInboxQueue", 1, 0, 0, "the products' ProductUpdated snapshots"},
			}},
			{Name: "SaleAttributed", Calls: []MinCall{
				{ServiceSQS, "SendMessageBatch", "SocialInboxQueue", 1, 0, 0, "the sale event, to social"},
			}},
		},
	},
	{
		ID: "inbox", Op: "Inbox apply", Function: fnInbox, Unit: "message",
		Sizes:  "snapshot, promotion, commission items ≤ 1 KB (reads ≤ 4 KB, strongly consistent)",
		Reason: "flows 1 and 8: a snapshot replaces the stored one only if newer; a sale applies once to the commission ledger at the promotion's rate, merging a reversal that came first",
		Variants: []MinVariant{
			{Name: "ProductUpdated", Calls: []MinCall{
				{ServiceDynamoDB, "PutItem", "SnapshotsTable", 1, 0, 1, "the snapshot, on condition that its version is newer"},
			}},
			{Name: "SaleAttributed", Calls: []MinCall{
				{ServiceDynamoDB, "GetItem", "PromotionsTable", 1, 1, 0, "the promotion's commission terms (social's, not in the event)"},
				{ServiceDynamoDB, "GetItem", "CommissionsTable", 1, 1, 0, "the line, which a reversal may have reached first"},
				{ServiceDynamoDB, "TransactWriteItems", "CommissionsTable", 1, 0, 8, "applied-event marker, line, promotion stats, creator earnings: 4 items × 2"},
			}},
		},
	},
}

// minimumOf returns the design minimum of an operation by ID.
func minimumOf(id string) (MinOp, bool) {
	for _, m := range designMinimums {
		if m.ID == id {
			return m, true
		}
	}
	return MinOp{}, false
}

// MinPerUnit is an operation's minimum per unit for a mix of its variants: each call
// averaged over the units (mix: variant name → units), keyed like CallKey without the
// function.
func (m MinOp) MinPerUnit(mix map[string]int) map[CallKey]MinCall {
	total := 0
	for _, n := range mix {
		total += n
	}
	out := map[CallKey]MinCall{}
	if total == 0 {
		return out
	}
	for _, v := range m.Variants {
		n := mix[v.Name]
		if n == 0 {
			continue
		}
		share := float64(n) / float64(total)
		for _, c := range v.Calls {
			k := CallKey{Service: c.Service, Operation: c.Operation, Resource: c.Resource}
			x, ok := out[k]
			if !ok {
				x = MinCall{Service: c.Service, Operation: c.Operation, Resource: c.Resource, Why: c.Why}
			} else if c.Why != "" && !strings.Contains(x.Why, c.Why) {
				x.Why += "; " + c.Why
			}
			x.Count += c.Count * share
			x.RRU += c.RRU * c.Count * share
			x.WRU += c.WRU * c.Count * share
			out[k] = x
		}
	}
	return out
}
