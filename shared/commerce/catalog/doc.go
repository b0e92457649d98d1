// Package catalog is commerce's product catalog: the source of truth for what a seller
// offers, at what price, with how much stock.
//
// It has three layers with separate models and explicit conversions between them:
//
//   - the domain (Product, Service): rules and validation, storage- and HTTP-agnostic;
//   - storage (DynamoStore): the CatalogTable item and the outbox record, written
//     together in one DynamoDB transaction; AWS errors become the sentinel errors below;
//   - transport (Handler): the API Gateway HTTP API routes of CommerceCatalogFunction.
//
// Every write is one TransactWriteItems holding the product change and exactly one
// outbox record (ProductListed, ProductUpdated or ProductDelisted, see package
// contract) whose payload carries the product's new version. A request that changes
// nothing (delisting a delisted product, setting the stock it already has) writes
// nothing and emits no event.
//
// Writes are compare-and-swap on the product's version: the service reads the product,
// applies the rule, and writes on the condition that the version (and owner, status and,
// for a stock decrease, the stock level) is still what it read; on a lost race it
// re-reads and tries again. The outbox event must state the product's new version and
// in-stock flag, which a blind "ADD stock :delta" could not know inside the same
// transaction; the condition expression, not the read, is what guarantees that stock
// never goes below zero.
//
// Visibility rules: anyone may read a product by id, including a delisted one (it is
// returned with status DELISTED and inStock false, so old links and promotions can say
// "no longer available"). A seller may change and list only their own products; another
// seller's product is "not found", never "forbidden", so ids cannot be probed. A delisted
// product cannot be changed (409 product_delisted); delisting is idempotent.
//
// Error codes of the HTTP API (the "code" of the error envelope):
//
//	400 invalid_json            the body is not JSON
//	400 invalid_body            JSON of the wrong shape: unknown field, wrong type, no body
//	400 validation_failed       fields break a rule; "details" lists field and problem
//	401 unauthenticated         no authenticated subject
//	403 forbidden               the token lacks the "seller" scope
//	404 product_not_found       no such product, or (for seller routes) not the caller's
//	409 insufficient_stock      a stock adjustment would take stock below zero
//	409 product_delisted        the product is delisted and cannot be changed
//	409 conflict                the product kept changing concurrently; retry
//	413 body_too_large          the body exceeds 64 KiB
//	415 unsupported_media_type  a Content-Type other than JSON
//	500 internal                anything else; details are only in the log
package catalog
