// Package idempotency makes a request safe to retry: the first request with a given
// Idempotency-Key runs, and every retry of it gets the first one's response instead of
// running again. Checkout uses it so that a buyer who taps "Pay" twice, or whose app
// retries after a timeout, places one order. It is account-neutral: any HTTP handler
// of either account can use it with a table of the layout below.
//
// # Records
//
// One DynamoDB item per (scope, key), where scope is the caller (the buyer's subject)
// so that two callers' keys never meet:
//
//	pk               S   scope + "#" + key (keys cannot contain '#')
//	state            S   INPROGRESS | COMPLETED
//	requestHash      B   SHA-256 of the request (RequestHash)
//	token            S   the holding attempt's random token (INPROGRESS only)
//	inProgressUntil  N   the holding attempt's lease end, Unix ms (INPROGRESS only)
//	expiresAt        N   Unix seconds; the table's TTL attribute
//	createdAt, completedAt S  RFC 3339
//	response         B   the stored response (COMPLETED only)
//
// A record lives at least 24 hours (WithRetention; DefaultRetention). DynamoDB's TTL
// deletes expired records only eventually (often days later), so expiry is also
// checked in code and in every condition: an expired record counts as absent.
//
// # Protocol
//
// Begin writes an INPROGRESS record with a conditional put that succeeds only when no
// live record exists: none, an expired one, or an INPROGRESS one whose lease has ended.
// Exactly one of any number of concurrent Begins therefore gets Fresh and a token. The
// others learn what is there: Mismatch (another request hash; 422), Replay (COMPLETED;
// the stored response), InProgress (409).
//
// The lease (inProgressUntil) is the Lambda invocation's deadline plus a margin
// (LeaseUntil): a function that times out or crashes is dead by then, and its client's
// retry takes the key over instead of getting 409 for a day.
//
// Complete stores the response and turns the record COMPLETED; Release deletes the
// record after a failure that committed nothing, so the retry runs afresh. Both are
// conditioned on the token, so an attempt that outlived its lease (and was taken over)
// cannot overwrite or delete its successor's record: it gets ErrLeaseLost.
//
// # HTTP
//
// Middleware.Wrap wraps an httpapi.HandlerFunc: the Idempotency-Key header is
// required (400 idempotency_key_required / idempotency_key_invalid), the scope is the
// authenticated subject (401 without one), replays carry the header
// Idempotent-Replayed: true, a reused key is 422 idempotency_key_reused and a request
// still running is 409 idempotency_in_progress. A handler's response (any status) is
// stored; a handler's error releases the key. So a handler returns an error only when
// it committed nothing.
//
// A takeover after a lease ends can, in principle, run a request twice (the first
// attempt may have committed just before dying). Handlers with effects should make the
// effect itself conditional as well: checkout closes the cart in the order's
// transaction, so a second attempt for the same cart fails that condition instead of
// placing a second order.
package idempotency
