package xendit_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/etalase/etalase/shared/commerce/payment"
	"github.com/etalase/etalase/shared/commerce/payment/xendit"
)

// FuzzXenditVerifyAndParse feeds arbitrary tokens and bodies to VerifyAndParse (seeds
// in testdata/fuzz). It must never panic, fail only with the two documented errors,
// accept only the configured token, and accept only callbacks that hold together.
func FuzzXenditVerifyAndParse(f *testing.F) {
	f.Add(callbackToken, callback(nil))
	c, err := xendit.New(xendit.Config{CallbackToken: callbackToken})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, token string, body []byte) {
		n, err := c.VerifyAndParse(map[string]string{"x-callback-token": token}, body)
		if err != nil {
			if !errors.Is(err, payment.ErrBadSignature) && !errors.Is(err, payment.ErrMalformed) {
				t.Fatalf("undocumented error: %v", err)
			}
			if errors.Is(err, payment.ErrBadSignature) == (token == callbackToken) {
				t.Fatalf("token %q: err = %v", token, err)
			}
			if strings.Contains(err.Error(), callbackToken) {
				t.Fatalf("error holds the token: %v", err)
			}
			return
		}
		if token != callbackToken {
			t.Fatalf("accepted token %q", token)
		}
		if n.Provider != xendit.Name || n.OrderID == "" || n.ProviderRef == "" || n.Status == "" || n.NotificationID != n.ProviderRef+":"+n.Status {
			t.Fatalf("accepted an incomplete callback: %+v", n)
		}
		if err := n.Amount.Validate(); err != nil {
			t.Fatalf("accepted an invalid amount %v: %v", n.Amount, err)
		}
		if !bytes.Equal(n.Raw, body) || n.Outcome != xendit.Outcome(n.Status) {
			t.Fatalf("inconsistent notification %+v", n)
		}
	})
}
