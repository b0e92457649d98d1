package midtrans_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/etalase/etalase/shared/commerce/payment"
	"github.com/etalase/etalase/shared/commerce/payment/midtrans"
)

// FuzzMidtransVerifyAndParse feeds arbitrary bodies to VerifyAndParse (seeds in
// testdata/fuzz, signed with serverKey). It must never panic, fail only with the two
// documented errors, and accept only notifications that hold together.
func FuzzMidtransVerifyAndParse(f *testing.F) {
	f.Add(notification(nil))
	c, err := midtrans.New(midtrans.Config{ServerKey: serverKey})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		n, err := c.VerifyAndParse(nil, body)
		if err != nil {
			if !errors.Is(err, payment.ErrBadSignature) && !errors.Is(err, payment.ErrMalformed) {
				t.Fatalf("undocumented error: %v", err)
			}
			if strings.Contains(err.Error(), serverKey) {
				t.Fatalf("error holds the key: %v", err)
			}
			return
		}
		if n.Provider != midtrans.Name || n.OrderID == "" || n.ProviderRef == "" || n.Status == "" || n.NotificationID == "" {
			t.Fatalf("accepted an incomplete notification: %+v", n)
		}
		if err := n.Amount.Validate(); err != nil {
			t.Fatalf("accepted an invalid amount %v: %v", n.Amount, err)
		}
		if !bytes.Equal(n.Raw, body) {
			t.Fatal("Raw differs from the body")
		}
		if n.Outcome != midtrans.Outcome(n.Status, n.FraudStatus) {
			t.Fatalf("outcome %s for %s/%s", n.Outcome, n.Status, n.FraudStatus)
		}
	})
}
