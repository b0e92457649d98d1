package order_test

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/etalase/etalase/shared/commerce/order"
)

// Cell notation of the expected outcomes below, one per (row, order state):
//
//	noop               Decision.NoOp
//	reject             error matching order.ErrRejected
//	unmapped           the provider status does not map (order.ErrUnknownProviderStatus)
//	record             RecordOnly, status unchanged
//	record+review      RecordOnly + NeedsReview
//	→S                 status changes to S (nothing else)
//	→S+stock           ... and ReleaseStock
//	→S+refund          ... and NeedsRefund
//
// Columns are the order states in this order:
var states = []order.Status{
	order.StatusPendingPayment, order.StatusPaid, order.StatusRefunded, order.StatusExpired,
	order.StatusCancelled, order.StatusFailed, order.StatusPaidLate,
}

// parseCell turns a cell into the Decision it stands for (with From = from), the
// error it expects, or (for unmapped) neither.
func parseCell(t *testing.T, from order.Status, cell string) (order.Decision, error, bool) {
	t.Helper()
	d := order.Decision{From: from, Next: from}
	switch cell {
	case "noop":
		d.NoOp = true
		return d, nil, false
	case "reject":
		return d, order.ErrRejected, false
	case "unmapped":
		return order.Decision{}, order.ErrUnknownProviderStatus, true
	case "record":
		d.RecordOnly = true
		return d, nil, false
	case "record+review":
		d.RecordOnly, d.NeedsReview = true, true
		return d, nil, false
	}
	if !strings.HasPrefix(cell, "→") {
		t.Fatalf("bad cell %q", cell)
	}
	parts := strings.Split(strings.TrimPrefix(cell, "→"), "+")
	d.Next = order.Status(parts[0])
	if !d.Next.Valid() {
		t.Fatalf("bad cell %q: status %q", cell, parts[0])
	}
	for _, flag := range parts[1:] {
		switch flag {
		case "stock":
			d.ReleaseStock = true
		case "refund":
			d.NeedsRefund = true
		default:
			t.Fatalf("bad cell %q: flag %q", cell, flag)
		}
	}
	return d, nil, false
}

// row is one event source's expected outcome in every order state.
type row struct {
	source string // "midtrans", "xendit" or "commerce"
	status string // provider status; the event kind for commerce
	fraud  string // midtrans fraud_status; "*" matches any
	cells  [7]string
}

// matrix is the full expectation: every provider status (and the Midtrans fraud
// statuses that matter) in every order state, written out cell by cell. Columns:
// PENDING_PAYMENT, PAID, REFUNDED, EXPIRED, CANCELLED, FAILED, PAID_LATE.
var matrix = []row{
	{"midtrans", "pending", "*", [7]string{"noop", "noop", "noop", "noop", "noop", "noop", "noop"}},
	{"midtrans", "authorize", "*", [7]string{"noop", "noop", "noop", "noop", "noop", "noop", "noop"}},
	{"midtrans", "capture", "accept", [7]string{"→PAID", "noop", "noop", "→PAID_LATE+refund", "→PAID_LATE+refund", "→PAID_LATE+refund", "noop"}},
	{"midtrans", "capture", "challenge", [7]string{"record+review", "noop", "noop", "record+review", "record+review", "record+review", "noop"}},
	{"midtrans", "capture", "deny", [7]string{"→FAILED+stock", "reject", "reject", "noop", "noop", "noop", "reject"}},
	{"midtrans", "capture", "", [7]string{"unmapped", "unmapped", "unmapped", "unmapped", "unmapped", "unmapped", "unmapped"}},
	{"midtrans", "settlement", "", [7]string{"→PAID", "noop", "noop", "→PAID_LATE+refund", "→PAID_LATE+refund", "→PAID_LATE+refund", "noop"}},
	{"midtrans", "settlement", "accept", [7]string{"→PAID", "noop", "noop", "→PAID_LATE+refund", "→PAID_LATE+refund", "→PAID_LATE+refund", "noop"}},
	{"midtrans", "settlement", "challenge", [7]string{"unmapped", "unmapped", "unmapped", "unmapped", "unmapped", "unmapped", "unmapped"}},
	{"midtrans", "settlement", "deny", [7]string{"unmapped", "unmapped", "unmapped", "unmapped", "unmapped", "unmapped", "unmapped"}},
	{"midtrans", "deny", "*", [7]string{"→FAILED+stock", "reject", "reject", "noop", "noop", "noop", "reject"}},
	{"midtrans", "cancel", "*", [7]string{"→CANCELLED+stock", "→REFUNDED", "noop", "noop", "noop", "noop", "→REFUNDED"}},
	{"midtrans", "expire", "*", [7]string{"→EXPIRED+stock", "reject", "reject", "noop", "noop", "noop", "reject"}},
	{"midtrans", "failure", "*", [7]string{"→FAILED+stock", "reject", "reject", "noop", "noop", "noop", "reject"}},
	{"midtrans", "refund", "*", [7]string{"reject", "→REFUNDED", "noop", "reject", "reject", "reject", "→REFUNDED"}},
	{"midtrans", "chargeback", "*", [7]string{"reject", "→REFUNDED", "noop", "reject", "reject", "reject", "→REFUNDED"}},
	{"midtrans", "partial_refund", "*", [7]string{"reject", "record", "noop", "reject", "reject", "reject", "record"}},
	{"midtrans", "partial_chargeback", "*", [7]string{"reject", "record", "noop", "reject", "reject", "reject", "record"}},
	{"midtrans", "settled", "*", [7]string{"unmapped", "unmapped", "unmapped", "unmapped", "unmapped", "unmapped", "unmapped"}},
	{"midtrans", "SETTLEMENT", "*", [7]string{"unmapped", "unmapped", "unmapped", "unmapped", "unmapped", "unmapped", "unmapped"}},
	{"midtrans", "", "*", [7]string{"unmapped", "unmapped", "unmapped", "unmapped", "unmapped", "unmapped", "unmapped"}},

	{"xendit", "PENDING", "", [7]string{"noop", "noop", "noop", "noop", "noop", "noop", "noop"}},
	{"xendit", "PAID", "", [7]string{"→PAID", "noop", "noop", "→PAID_LATE+refund", "→PAID_LATE+refund", "→PAID_LATE+refund", "noop"}},
	{"xendit", "SETTLED", "", [7]string{"→PAID", "noop", "noop", "→PAID_LATE+refund", "→PAID_LATE+refund", "→PAID_LATE+refund", "noop"}},
	{"xendit", "EXPIRED", "", [7]string{"→EXPIRED+stock", "reject", "reject", "noop", "noop", "noop", "reject"}},
	{"xendit", "paid", "", [7]string{"unmapped", "unmapped", "unmapped", "unmapped", "unmapped", "unmapped", "unmapped"}},
	{"xendit", "ACTIVE", "", [7]string{"unmapped", "unmapped", "unmapped", "unmapped", "unmapped", "unmapped", "unmapped"}},

	{"commerce", "deadline_passed", "", [7]string{"→EXPIRED+stock", "noop", "noop", "noop", "noop", "noop", "noop"}},
	{"commerce", "buyer_cancelled", "", [7]string{"→CANCELLED+stock", "reject", "reject", "reject", "noop", "reject", "reject"}},
}

// event maps a row to an Event the way the payments consumer does.
func (r row) event(fraud string) (order.Event, error) {
	switch r.source {
	case "midtrans":
		return order.MidtransEvent(r.status, fraud)
	case "xendit":
		return order.XenditEvent(r.status)
	default:
		return order.Event{Kind: order.EventKind(r.status)}, nil
	}
}

// TestProviderStatusInEveryState applies every provider status in every order state
// and compares each cell with the matrix.
func TestProviderStatusInEveryState(t *testing.T) {
	for _, r := range matrix {
		frauds := []string{r.fraud}
		if r.fraud == "*" {
			frauds = order.MidtransFraudStatuses()
		}
		for _, fraud := range frauds {
			for i, st := range states {
				name := fmt.Sprintf("%s/%s/%s/in_%s", r.source, r.status, fraud, st)
				t.Run(name, func(t *testing.T) {
					want, wantErr, unmapped := parseCell(t, st, r.cells[i])
					ev, err := r.event(fraud)
					if unmapped {
						if !errors.Is(err, order.ErrUnknownProviderStatus) {
							t.Fatalf("mapping: err = %v, want ErrUnknownProviderStatus (event %+v)", err, ev)
						}
						return
					}
					if err != nil {
						t.Fatalf("mapping: %v", err)
					}
					got, err := order.Transition(st, ev)
					if wantErr != nil {
						if !errors.Is(err, wantErr) {
							t.Fatalf("Transition(%s, %s) err = %v, want %v", st, ev.Kind, err, wantErr)
						}
					} else if err != nil {
						t.Fatalf("Transition(%s, %s): %v", st, ev.Kind, err)
					}
					if got != want {
						t.Errorf("Transition(%s, %s) = %+v, want %+v (cell %q)", st, ev.Kind, got, want, r.cells[i])
					}
				})
			}
		}
	}
}

// TestMatrixIsComplete: every Midtrans transaction_status with every fraud_status,
// every Xendit status and every event kind has a row, so a status added to the package
// without an expectation fails here.
func TestMatrixIsComplete(t *testing.T) {
	if len(states) != len(order.Statuses()) {
		t.Fatalf("the matrix has %d state columns, the package %d statuses", len(states), len(order.Statuses()))
	}
	has := func(source, status, fraud string) bool {
		for _, r := range matrix {
			if r.source == source && r.status == status && (r.fraud == fraud || r.fraud == "*") {
				return true
			}
		}
		return false
	}
	for _, s := range order.MidtransTransactionStatuses() {
		for _, f := range order.MidtransFraudStatuses() {
			if !has("midtrans", s, f) {
				t.Errorf("no row for midtrans %q with fraud_status %q", s, f)
			}
		}
	}
	for _, s := range order.XenditStatuses() {
		if !has("xendit", s, "") {
			t.Errorf("no row for xendit %q", s)
		}
	}
	// Every event kind is reached by some row.
	reached := map[order.EventKind]bool{}
	for _, r := range matrix {
		frauds := []string{r.fraud}
		if r.fraud == "*" {
			frauds = order.MidtransFraudStatuses()
		}
		for _, f := range frauds {
			if ev, err := r.event(f); err == nil {
				reached[ev.Kind] = true
			}
		}
	}
	for _, k := range order.EventKinds() {
		if !reached[k] {
			t.Errorf("no row reaches event kind %s", k)
		}
	}
}

// TestTransitionInvariants checks properties every cell must have, across all kinds
// and states: exactly one of change/RecordOnly/NoOp, stock released only when leaving
// PENDING_PAYMENT, never a way back to PENDING_PAYMENT, and closed orders never PAID.
func TestTransitionInvariants(t *testing.T) {
	for _, k := range order.EventKinds() {
		for _, st := range order.Statuses() {
			d, err := order.Transition(st, order.Event{Kind: k})
			if err != nil {
				if !errors.Is(err, order.ErrRejected) {
					t.Errorf("%s in %s: unexpected error %v", k, st, err)
				}
				if d.Changed() || d.NoOp || d.RecordOnly {
					t.Errorf("%s in %s: rejected but decision %+v", k, st, d)
				}
				continue
			}
			n := 0
			for _, b := range []bool{d.Changed(), d.RecordOnly, d.NoOp} {
				if b {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%s in %s: decision %+v is not exactly one of change, record, noop", k, st, d)
			}
			if d.ReleaseStock && st != order.StatusPendingPayment {
				t.Errorf("%s in %s releases stock twice", k, st)
			}
			if d.Next == order.StatusPendingPayment && st != order.StatusPendingPayment {
				t.Errorf("%s in %s goes back to PENDING_PAYMENT", k, st)
			}
			if d.Next == order.StatusPaid && st != order.StatusPendingPayment && st != order.StatusPaid {
				t.Errorf("%s in %s silently accepts a payment for a closed order", k, st)
			}
			if d.From != st {
				t.Errorf("%s in %s: From = %s", k, st, d.From)
			}
		}
	}
}

func TestTransitionErrors(t *testing.T) {
	if _, err := order.Transition("SHIPPED", order.Event{Kind: order.EventPaid}); !errors.Is(err, order.ErrUnknownStatus) {
		t.Errorf("unknown status: err = %v", err)
	}
	if _, err := order.Transition(order.StatusPaid, order.Event{Kind: "teleported"}); !errors.Is(err, order.ErrUnknownEvent) {
		t.Errorf("unknown event: err = %v", err)
	}
	_, err := order.Transition(order.StatusPaid, order.Event{Kind: order.EventDenied})
	var te *order.TransitionError
	if !errors.As(err, &te) || te.From != order.StatusPaid || te.Event != order.EventDenied {
		t.Errorf("rejection: err = %#v, want a *TransitionError for PAID/denied", err)
	}
}

func TestExpire(t *testing.T) {
	deadline := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	o := order.Order{ID: "o_aaaaaaaaaaaaaaaaaaaaaaaaaa", Status: order.StatusPendingPayment, Deadline: deadline}
	if _, err := order.Expire(o, deadline.Add(-time.Nanosecond)); !errors.Is(err, order.ErrNotDue) {
		t.Errorf("before the deadline: err = %v, want ErrNotDue", err)
	}
	d, err := order.Expire(o, deadline)
	if err != nil || d.Next != order.StatusExpired || !d.ReleaseStock {
		t.Errorf("at the deadline: %+v, %v; want →EXPIRED+stock", d, err)
	}
	o.Status = order.StatusPaid
	if d, err := order.Expire(o, deadline.Add(-time.Hour)); err != nil || !d.NoOp {
		t.Errorf("paid order's expiry message: %+v, %v; want NoOp", d, err)
	}
}

func TestCancel(t *testing.T) {
	for st, want := range map[order.Status]string{
		order.StatusPendingPayment: "→CANCELLED+stock",
		order.StatusCancelled:      "noop",
		order.StatusPaid:           "reject",
		order.StatusExpired:        "reject",
	} {
		wantD, wantErr, _ := parseCell(t, st, want)
		d, err := order.Cancel(order.Order{Status: st})
		if !errors.Is(err, wantErr) || d != wantD {
			t.Errorf("Cancel in %s = %+v, %v; want %s", st, d, err, want)
		}
	}
}

func TestEventProviderStatusIsRecorded(t *testing.T) {
	ev, err := order.MidtransEvent("capture", "challenge")
	if err != nil || ev.Provider != order.ProviderMidtrans || ev.ProviderStatus != "capture/challenge" {
		t.Errorf("midtrans: %+v, %v", ev, err)
	}
	ev, err = order.XenditEvent("SETTLED")
	if err != nil || ev.Provider != order.ProviderXendit || ev.ProviderStatus != "SETTLED" {
		t.Errorf("xendit: %+v, %v", ev, err)
	}
	if _, err := order.MidtransEvent("settlement", "maybe"); !errors.Is(err, order.ErrUnknownProviderStatus) {
		t.Errorf("unknown fraud status: err = %v", err)
	}
}

// TestDocTableMatchesMachine keeps the package doc's table in step with Transition.
func TestDocTableMatchesMachine(t *testing.T) {
	src, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[order.EventKind][]string{}
	for _, line := range strings.Split(string(src), "\n") {
		f := strings.Fields(strings.TrimPrefix(line, "//"))
		if len(f) == len(states)+1 && order.EventKind(f[0]).Valid() {
			rows[order.EventKind(f[0])] = f[1:]
		}
	}
	for _, k := range order.EventKinds() {
		cells, ok := rows[k]
		if !ok {
			t.Errorf("the doc's table has no row for %s", k)
			continue
		}
		for i, st := range states {
			want, wantErr, _ := parseCell(t, st, cells[i])
			got, err := order.Transition(st, order.Event{Kind: k})
			if !errors.Is(err, wantErr) || (wantErr == nil && err != nil) || got != want {
				t.Errorf("doc says %s in %s is %q; Transition gives %+v, %v", k, st, cells[i], got, err)
			}
		}
	}
}
