// Package checkout is CommerceCheckoutFunction's handler (DESIGN flow 5): it turns a
// buyer's cart into an order and opens the order's payment session.
//
// # Routes
//
//	POST /commerce/v1/checkout                    scope buyer, Idempotency-Key required
//	     {"provider": "midtrans" | "xendit"}
//	     201 {orderId, status, amount, paymentProvider, paymentUrl, deadline[, paymentError]}
//	POST /commerce/v1/orders/{orderId}/payment    scope buyer
//	     {"provider": ...}  200, the same body
//
// # What a checkout does
//
//  1. The idempotency middleware (package idempotency) claims (buyer, key): the same
//     key and request again gets the first response (Idempotent-Replayed: true), with
//     another request 422 idempotency_key_reused, while the first still runs 409
//     idempotency_in_progress.
//  2. orders.Store.Checkout reads the cart and its products, prices every line from
//     the catalog, and commits in one DynamoDB transaction the stock reservations
//     (never below zero), the PENDING_PAYMENT order with its deadline (now + the
//     template's PaymentWindowSeconds), the cart's closing, the first audit ledger entry
//     and the OrderCreated outbox record. Too little stock answers 409
//     insufficient_stock naming the short products, and nothing is written. The
//     OrderCreated record is the expiry's schedule: the relay (package relay) sends the
//     order's delayed message to ExpiryQueue (package expiry) from it, so every
//     committed order expires at its deadline even if this function dies right after
//     the commit. Checkout itself sends nothing to any queue.
//  3. The chosen provider opens a session (payment.SessionCreator) that ends no later
//     than the deadline, and the order records it (orders.Store.AttachPayment, with a
//     payment_opened ledger entry).
//
// # When the provider is down
//
// The order is committed before the provider is asked, and it is not undone when the
// provider fails: the answer is still 201, with status PENDING_PAYMENT, paymentUrl
// null and paymentError {code, message} saying why. The stock stays reserved for the
// order until the buyer opens the session again (POST .../orders/{orderId}/payment,
// which returns the existing session if one was recorded meanwhile) or the deadline
// passes and the expiry consumer releases it, exactly once. No stock is lost either
// way, and a provider outage does not turn into a flood of failed and re-placed orders.
// The idempotent replay of such a checkout repeats the stored 201 with paymentUrl null;
// the order (GET /commerce/v1/orders/{orderId}) and the payment route have the truth.
// Failing the order instead would need a second transaction to release the stock,
// which could itself fail with the provider's network.
//
// After step 2 the handler never returns an error (the middleware would free the key
// and a retry would place a second order): a failure of step 3 is logged and
// reflected in the 201's body.
//
// # Error codes (the "code" of the error envelope)
//
//	400 invalid_json, invalid_body, validation_failed (provider), idempotency_key_required,
//	    idempotency_key_invalid
//	401 unauthenticated          403 forbidden (no buyer scope)
//	404 order_not_found          (payment route: no such order, or another buyer's)
//	409 cart_empty               no cart, an expired one, or no lines
//	409 insufficient_stock       details name each short product: {field: "lines.<id>", message: "out_of_stock"}
//	409 items_unavailable        a product gone, delisted or re-priced in another currency (details per line)
//	409 cart_changed             the cart kept changing during checkout; retry
//	409 too_many_lines           more lines than one transaction holds
//	409 conflict                 concurrent writes outlasted the retries; retry
//	409 idempotency_in_progress  the same key's first request still runs
//	409 order_not_pending        (payment route) the order is paid, closed or past its deadline
//	409 payment_already_opened   (payment route) a session with another provider exists
//	413 body_too_large           415 unsupported_media_type
//	422 idempotency_key_reused   the key was used for another request
//	502 payment_provider_error   (payment route) the provider refused the session
//	503 payment_provider_unavailable (payment route) the provider is down; retry
//	500 internal
//
// # Cost of a checkout
//
// DynamoDB: the idempotency record's conditional PutItem and completing UpdateItem,
// GetItem (cart) + BatchGetItem (products), one TransactWriteItems (n + 4 items), one
// TransactWriteItems recording the payment session; SQS: nothing (the relay sends the
// expiry from the outbox); the provider: one HTTPS call. The tests pin the counts.
package checkout
