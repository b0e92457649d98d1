// Package commission is social's commission ledger: it turns the sale events commerce
// sends (SaleAttributed, SaleReversed) into creator earnings, and reports them.
//
// # Rate and rounding
//
// A promotion's commission rate is in basis points (1 bp = 0.01 %), between MinRateBps
// (1 %) and MaxRateBps (50 %), fixed when the promotion is created and never changed,
// so the rate stored on the promotion is exactly the rate at the time of every sale.
// Money is integer minor units (whole rupiah for IDR), never a float. The commission
// of an attributed line is
//
//	commission = floor(amount × rateBps / 10000)
//
// rounded down to the minor unit, in the line's currency (the creator is never paid a
// fraction the platform did not earn). Refunds are cumulative per line: after refunds
// totalling R (capped at the line's amount A), the line's reversed commission is
// floor(R × rateBps / 10000), so each refund reverses the difference from the previous
// total, and a full refund (R = A) reverses exactly the commission that was attributed,
// never a unit more or less, however the refund was split.
//
// # Exactly-once and order
//
// Each event is applied in one DynamoDB transaction that also writes an "applied"
// marker keyed by the event id, on the condition that the marker does not exist: an
// event delivered twice is applied once. Events may arrive in any order: a reversal
// that arrives before its attribution is kept on the line (as a pending refund total)
// and counted when the attribution arrives, so the totals are the same in every order.
// The line carries a version for compare-and-swap between concurrent events of one line.
//
// # Storage (CommissionsTable, key pk + sk)
//
//	EVENT#<eventId>                  EVENT             applied marker (expires after MarkerRetention)
//	LINE#<orderRef>#<lineRef>        LINE              one attributed order line
//	PROMOTION#<promotionId>          STATS#<currency>  a promotion's sales and commission
//	CREATOR#<creatorId>              EARNINGS#<currency> a creator's earnings
//
// The ledger holds only what DESIGN.md section 1 allows social: promotion, creator,
// product, quantity, amount and the opaque order reference. No buyer, no order id.
package commission
