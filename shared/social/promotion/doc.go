// Package promotion is social's promotions: creators promote products that commerce
// listed (video, live stream or storefront showcase) for a commission, viewers read the
// feed, and "Buy" issues a hand-off token that the viewer's client presents to
// commerce's cart (DESIGN.md section 3, flows 2 and 3).
//
// It has three layers with separate models and explicit conversions between them: the
// domain (Promotion, Service), storage (DynamoStore over PromotionsTable; AWS errors
// become the sentinel errors) and transport (Handler: the HTTP API routes of
// SocialPromotionFunction).
//
// # Rules
//
//   - A promotion can only be created for a product whose display snapshot social holds
//     and which is listed and in stock (social learns products only from commerce's
//     catalog events; package snapshot).
//   - The commission rate is in basis points, 100 to 5000 (1 % to 50 %), and never
//     changes after creation, so it is exactly the rate at the time of every sale
//     (package commission states the rounding rule).
//   - A promotion is live while it is ACTIVE and inside its window [startsAt, endsAt).
//     startsAt defaults to now and may be up to 90 days ahead; endsAt is 5 minutes to
//     366 days after it. Creators pause (PAUSED), resume (ACTIVE) and end (ENDED)
//     their own promotions; ENDED is final. When commerce delists a product, the inbox
//     ends its promotions (endReason "product_delisted").
//   - The feed lists live promotions of listed products, newest first, with cursor
//     pagination (limit 1 to 50, default 20).
//   - A hand-off is issued only for a live promotion of an available product. The click
//     is counted with one conditional ADD on the promotion (atomic under concurrency),
//     then the token is signed with social's Ed25519 private key (contract.SignHandoff:
//     promotion, creator, product, displayed price, audience commerce, 10-minute
//     expiry, unique id, no buyer). The response names the commerce cart routes to post
//     it to, on the same origin: the buyer never leaves the app.
//   - Creators see only their own promotions and earnings: another creator's promotion
//     or earnings answer 404, never 403, so ids cannot be probed.
//
// # Error codes of the HTTP API
//
//	400 invalid_json, invalid_body, validation_failed (details name the fields)
//	401 unauthenticated         no authenticated subject (creator routes)
//	403 forbidden               the token lacks the "creator" scope
//	404 promotion_not_found     no such promotion, or (creator routes) another creator's
//	404 product_not_found       social has no snapshot of the product
//	404 creator_not_found       earnings of a creator other than the caller
//	409 product_unavailable     the product is delisted or out of stock
//	409 promotion_not_live      a hand-off for a paused, ended, scheduled or expired promotion
//	409 promotion_ended         an ended promotion cannot change
//	409 conflict                the promotion kept changing concurrently; retry
//	413 body_too_large, 415 unsupported_media_type, 500 internal
package promotion
