package paymentevents_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/etalase/etalase/shared/commerce/money"
	"github.com/etalase/etalase/shared/commerce/payment"
	"github.com/etalase/etalase/shared/commerce/paymentevents"
)

var received = time.Date(2026, 1, 1, 0, 15, 3, 123456789, time.UTC)

func idr(a int64) money.Money { return money.Money{Amount: a, Currency: "IDR"} }

func notification(status string, outcome payment.Outcome, raw string) payment.Notification {
	return payment.Notification{
		Provider: "midtrans", NotificationID: "tx-1:" + status + ":200", OrderID: "o_rocsknolsez4jj42y44l7ga3ou",
		Amount: idr(170000), Status: status, FraudStatus: "accept", Outcome: outcome, ProviderRef: "tx-1",
		OccurredAt: time.Date(2026, 1, 1, 7, 15, 2, 0, time.FixedZone("WIB", 7*3600)), Raw: []byte(raw),
	}
}

func TestFromNotificationAndMessageRoundTrip(t *testing.T) {
	tests := []struct {
		name   string
		n      payment.Notification
		refund money.Money
	}{
		{"settlement", notification("settlement", payment.OutcomePaid, `{"transaction_status":"settlement"}`), money.Money{}},
		{"partial refund", notification("partial_refund", payment.OutcomePartiallyRefunded, `{"refund_amount":"50000.00"}`), idr(50000)},
		{"refund as a number", notification("refund", payment.OutcomeRefunded, `{"refund_amount":170000}`), idr(170000)},
		{"refund without an amount", notification("refund", payment.OutcomeRefunded, `{}`), money.Money{}},
		{"a settlement's refund_amount is not read", notification("settlement", payment.OutcomePaid, `{"refund_amount":"1.00"}`), money.Money{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := paymentevents.FromNotification(tt.n, received)
			if err != nil {
				t.Fatal(err)
			}
			if e.Key != "midtrans/"+tt.n.NotificationID || e.RefundAmount != tt.refund || e.OrderID != tt.n.OrderID || !e.ReceivedAt.Equal(received) {
				t.Errorf("event %+v", e)
			}
			body, err := paymentevents.MarshalMessage(e)
			if err != nil {
				t.Fatal(err)
			}
			back, err := paymentevents.ParseMessage(body)
			if err != nil {
				t.Fatal(err)
			}
			// Times come back in UTC, to the nanosecond.
			want := e
			want.OccurredAt, want.ReceivedAt = e.OccurredAt.UTC(), e.ReceivedAt.UTC()
			if diff := cmp.Diff(want, back); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFromNotificationRejects(t *testing.T) {
	bad := notification("refund", payment.OutcomeRefunded, `{"refund_amount":"10.50"}`) // fractional rupiah
	if _, err := paymentevents.FromNotification(bad, received); !errors.Is(err, paymentevents.ErrInvalidEvent) {
		t.Errorf("fractional refund: err = %v", err)
	}
	if _, err := paymentevents.FromNotification(notification("settlement", payment.OutcomePaid, `{}`), time.Time{}); !errors.Is(err, paymentevents.ErrInvalidEvent) {
		t.Errorf("no receipt time: err = %v", err)
	}
}

func TestParseMessageRejects(t *testing.T) {
	e, err := paymentevents.FromNotification(notification("settlement", payment.OutcomePaid, `{}`), received)
	if err != nil {
		t.Fatal(err)
	}
	good, err := paymentevents.MarshalMessage(e)
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{
		"not JSON":            "settlement",
		"unknown version":     strings.Replace(good, `"v":1`, `"v":2`, 1),
		"unknown field":       strings.Replace(good, `{"v":1`, `{"v":1,"extra":true`, 1),
		"key not provider/id": strings.Replace(good, `"key":"midtrans/`, `"key":"xendit/`, 1),
		"bad time":            strings.Replace(good, `"receivedAt":"2026`, `"receivedAt":"yesterday 2026`, 1),
		"bad currency":        strings.Replace(good, `"currency":"IDR"`, `"currency":"XXX"`, 1),
	} {
		if _, err := paymentevents.ParseMessage(body); !errors.Is(err, paymentevents.ErrInvalidEvent) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func TestDedupID(t *testing.T) {
	a, b := paymentevents.DedupID("midtrans/tx-1:settlement:200"), paymentevents.DedupID("midtrans/tx-1:settlement:201")
	if a == b || len(a) != 64 || a != paymentevents.DedupID("midtrans/tx-1:settlement:200") {
		t.Errorf("DedupID: %s, %s", a, b)
	}
	long := paymentevents.DedupID(strings.Repeat("x", 1000))
	if len(long) != 64 {
		t.Errorf("a long key's id has %d characters; SQS allows 128", len(long))
	}
}
