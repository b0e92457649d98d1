// Package cart is commerce's shopping cart: where a buyer's "Buy" on a social promotion
// lands (by redeeming a hand-off token, see contract.HandoffClaims), or a direct
// purchase from the catalog, and what checkout turns into an order.
//
// It has three layers with separate models and explicit conversions between them:
//
//   - the domain (Cart, Line, Attribution, Service): the rules, storage- and
//     HTTP-agnostic;
//   - storage (DynamoStore): the CartTable item, and reads of CatalogTable; AWS errors
//     become the sentinel errors of errors.go;
//   - transport (Handler): the API Gateway HTTP API routes of CommerceCartFunction.
//
// # Carts and owners
//
// A buyer's cart is keyed by the JWT subject ("buyer#<sub>"); buyer routes need the
// "buyer" scope and only ever reach the caller's own cart, so no request can name
// another buyer's cart at all. A guest cart is keyed by a random id ("guest#g_…",
// 160 bits from crypto/rand) that the first add returns as the cookie
// `etalase_cart=<id>; Path=/commerce; Max-Age=604800; HttpOnly; Secure; SameSite=Lax`
// and the X-Cart-Id header (for apps); every later guest write sends both again.
// Holding the id is the only access: a guest request without it, with an unknown one
// or one of an expired cart gets 404 cart_not_found, never 403. A guest add whose id
// names no live cart starts a new cart with a new id (a client-chosen id is never
// used). On login the client merges the guest cart into the buyer's (POST
// /commerce/v1/cart/merge with the cookie or header): quantities add up (capped at 99),
// the most recent attribution of each product wins, the guest cart is deleted in the
// same transaction and the cookie is cleared. A merge that would exceed 50 lines or mix
// currencies changes nothing (409). The buyer cart remembers the last ten merged guest
// ids, so retrying a merge that succeeded answers 200 with alreadyMerged true.
//
// # Rules
//
// The price always comes from the catalog: a cart stores no prices, and every read
// prices every line from CatalogTable. A hand-off token's displayed price is kept on
// the line's attribution only to flag a line whose catalog price differs
// (priceChanged). A delisted or out-of-stock product (or one without stock for the
// line's new quantity) cannot be added, nor its quantity raised. A line holds 1 to 99
// units; a cart holds at most 50 lines (so that checkout fits in one DynamoDB
// transaction) of one currency. A product has at most one line (its id is the line's
// id); adding it again adds to the quantity, and a token's attribution replaces the
// line's (the most recent wins), while a direct purchase keeps it. Redeeming a token a
// cart already redeemed (a double submit) changes nothing.
//
// A read shows unavailable lines (product gone, delisted, not enough stock, re-priced
// in another currency) with available false and a reason, and leaves them out of the
// total; checkout refuses them.
//
// # Storage, concurrency and cost
//
// CartTable holds one item per cart (see cartItem): the lines in a map keyed by product
// id, the currency, a version number and expiresAt, the table's TTL attribute (buyer
// carts 30 days, guest carts 7 days after the last write; every write refreshes it). An
// expired cart counts as absent before DynamoDB's TTL deletes it: reads ignore it, and a
// write replaces it with a fresh cart (keeping its version, so the write still
// conditions on what is stored).
//
// Writes are compare-and-swap on the version: read, apply the rule, write the whole
// item on the condition that the version is still the one read; a lost race re-reads
// and tries again (at most DefaultMaxAttempts), so concurrent writes never lose an
// update. Removing a line is a single conditional UpdateItem instead (REMOVE the map
// entry, version + 1), which needs no read. DynamoDB requests per operation:
//
//	add item        1 read (BatchGetItem: cart + product) + 1 write (PutItem)
//	change quantity 1 read (BatchGetItem: cart + product) + 1 write (PutItem)
//	remove line     0 reads                               + 1 write (UpdateItem)
//	merge           1 read (BatchGetItem: both carts)     + 1 write (TransactWriteItems)
//	read cart       1 read (GetItem) + 1 read (BatchGetItem of its products) if not empty
//
// plus one read and one write per lost race. Writes answer with the changed line and a
// summary of the cart, not the whole priced cart, which would cost a read of every
// product: read the cart for totals.
//
// Checkout reads the cart (GetItem, strongly consistent), re-prices it, and closes it
// in its own transaction with DynamoStore.CloseCart (a Delete conditioned on the
// version it read), so a cart changed after checkout read it fails the transaction
// rather than being ordered stale. Line attribution (promotion, creator, the token's
// jti) is what checkout copies into the order for the creator's commission.
//
// # Error codes of the HTTP API (the "code" of the error envelope)
//
//	400 invalid_json             the body is not JSON
//	400 invalid_body             JSON of the wrong shape: unknown field, wrong type, no body
//	400 validation_failed        neither or both of handoffToken and productId, an empty one, no quantity
//	400 quantity_out_of_range    a quantity outside 1..99
//	400 handoff_malformed        the hand-off token is not a JWS, or its claims break the contract
//	                             (no exp/iat/jti, lifetime over 15 minutes, empty ids)
//	401 unauthenticated          buyer route without an authenticated subject
//	403 forbidden                buyer route whose token lacks the "buyer" scope
//	403 handoff_wrong_algorithm  the token is not EdDSA ("none", HS256, RS256, ...)
//	403 handoff_bad_signature    the token is not signed by social's key
//	403 handoff_wrong_issuer     iss is not "etalase-social"
//	403 handoff_wrong_audience   aud does not name "etalase-commerce"
//	404 product_not_found        no such product (by id or in the token)
//	404 cart_not_found           no guest cart with that id (absent, expired, or no id sent)
//	404 line_not_found           the cart has no line for that product
//	409 product_delisted         the product is delisted
//	409 out_of_stock             no stock, or not enough for the line's quantity
//	409 quantity_out_of_range    the line would exceed 99 units
//	409 cart_full                a new line would exceed 50 lines (or a merge would)
//	409 currency_mismatch        the product (or guest cart) is in another currency than the cart
//	409 conflict                 the cart kept changing concurrently; retry
//	413 body_too_large           the body exceeds 8 KiB
//	415 unsupported_media_type   a Content-Type other than JSON
//	422 handoff_expired          the token is past its exp (30 s clock-skew allowance)
//	422 handoff_not_yet_valid    the token's iat or nbf is in the future (beyond 30 s)
//	500 internal                 anything else; details are only in the log
package cart
