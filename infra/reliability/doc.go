// Package reliability is the reliability suite (issue #8): scenarios that push the
// whole two-account system through the local runner — many buyers on little stock, a
// storm of duplicated, reordered, forged and wrong-amount payment notifications, and
// the same flows with injected AWS faults and function processes killed mid-invocation
// — and an invariant checker that reads every table and queue of both accounts once
// the system has settled.
//
// The scenarios run under `make test` (with the emulators), each bounded in time and
// in count; -heavy (or ETALASE_HEAVY=1, for a go test of several packages) runs larger
// variants, and TestFaults takes -faults (an ETALASE_FAULTS spec) and -killrate to
// explore. Each logs one summary line of figures (FIGURES, with -v or `make
// reliability`): runs, HTTP requests, inputs tried, faults injected by kind, process
// kills by function, messages in dead-letter queues, invariant violations (the target
// is 0, and any violation fails the test). Failed runs keep the runner's whole log in
// the temporary directory. The scenarios shorten the consumed queues' visibility
// timeouts to 10 s, so that a failed batch returns within a test's bounds.
//
// # The invariants (Check)
//
// Stock. An order holds its units from checkout until a transition releases them
// (EXPIRED, CANCELLED or FAILED, each with releaseStock in its ledger entry); a
// payment after that (PAID_LATE, and its refund) does not take them again, and a
// refund of a PAID order does not return them (goods may have shipped). So for every
// product, with reserved the units of its lines in PENDING_PAYMENT orders and sold
// the units in PAID orders and in REFUNDED orders whose path went through PAID (held,
// not released):
//
//	stock + reserved + sold = initial,   stock >= 0
//
// and every product in the catalog is one the scenario created, with a known initial
// stock. After settling, no order is PENDING_PAYMENT.
//
// Orders and the ledger. Every order's ledger verifies against the head on the order
// (ledger.VerifyHead); entry 1 is order_created; its status_changed entries form one
// path from PENDING_PAYMENT to the order's status, each from the previous one's to
// (so no transition is recorded twice, and none is missing); a release of stock is
// flagged exactly on the transitions to EXPIRED, CANCELLED and FAILED. Where a
// scenario knows the final status it must be that one, and where it knows how many
// amount mismatches it caused, the ledger holds exactly that many
// notification_rejected entries with reason amount_mismatch (at least that many
// under faults: a delivery that failed after recording is retried).
//
// Events (the outbox, one record per side effect). Per order exactly one OrderCreated
// record, and one OrderStatusChanged record per status_changed entry, with the same
// from and to; per attributed line of an order that became PAID exactly one
// SaleAttributed record (and none for an order that never did), and one SaleReversed
// per attributed line of a PAID order that was REFUNDED.
//
// Social. Every SaleAttributed and SaleReversed record reached social's commission
// ledger exactly once: its applied marker (EVENT#<eventId>) exists, the line
// LINE#<orderRef>#<lineRef> is attributed with the record's quantity and amount, the
// number of attributed lines equals the number of SaleAttributed records, and the
// creators' earnings count that many sales and the reversals.
//
// Messages. Every payment notification the webhook stored was processed by the
// payments consumer, unless it is in the payment events dead-letter queue; every
// queue of both accounts is empty (nothing visible, in flight or delayed) but the
// dead-letter queues, whose messages are counted and listed in the figures.
package reliability
