// Package money is commerce's amount type: an integer number of minor units plus an
// ISO 4217 currency code, never a float, so that prices, cart totals and payment amounts
// add up exactly and compare with ==.
package money

import (
	"errors"
	"fmt"
	"math"
)

// MaxAmount bounds any single amount, in minor units. It leaves room to multiply a price
// by a realistic quantity and add up a cart without overflowing int64.
const MaxAmount int64 = 1_000_000_000_000_000 // 10^15

// Sentinel errors; match them with errors.Is.
var (
	// ErrUnsupportedCurrency: the code is not one commerce accepts.
	ErrUnsupportedCurrency = errors.New("unsupported currency")
	// ErrCurrencyMismatch: arithmetic on amounts of different currencies.
	ErrCurrencyMismatch = errors.New("currency mismatch")
	// ErrOutOfRange: an amount is negative where it may not be, or beyond MaxAmount.
	ErrOutOfRange = errors.New("amount out of range")
)

// currencies are the ISO 4217 codes commerce accepts, with the number of minor-unit
// digits used in practice. IDR is ISO-listed with two, but no rupiah coin below one
// exists and Indonesian payment providers (Midtrans, Xendit) take whole rupiah, so IDR
// amounts are whole rupiah here.
var currencyList = []struct {
	code   string
	digits int
}{
	{"IDR", 0}, {"MYR", 2}, {"SGD", 2}, {"THB", 2}, {"PHP", 2},
	{"VND", 0}, {"USD", 2}, {"EUR", 2}, {"JPY", 0}, {"AUD", 2},
}

var currencies = func() map[string]int {
	m := make(map[string]int, len(currencyList))
	for _, c := range currencyList {
		m[c.code] = c.digits
	}
	return m
}()

// Money is an amount in a currency's minor units (cents, sen; whole rupiah for IDR).
type Money struct {
	// Amount is the number of minor units.
	Amount int64
	// Currency is the upper-case ISO 4217 code.
	Currency string
}

// New returns Money after checking the currency and that 0 <= amount <= MaxAmount.
func New(amount int64, currency string) (Money, error) {
	m := Money{Amount: amount, Currency: currency}
	return m, m.Validate()
}

// Validate checks the currency and that 0 <= Amount <= MaxAmount.
func (m Money) Validate() error {
	if !Supported(m.Currency) {
		return fmt.Errorf("%w: %q", ErrUnsupportedCurrency, m.Currency)
	}
	if m.Amount < 0 || m.Amount > MaxAmount {
		return fmt.Errorf("%w: %d", ErrOutOfRange, m.Amount)
	}
	return nil
}

// Supported reports whether code is an accepted currency code. Codes are upper case
// exactly, as ISO 4217 writes them; "idr" is not accepted.
func Supported(code string) bool {
	_, ok := currencies[code]
	return ok
}

// Currencies lists the accepted currency codes, for documentation and error messages.
func Currencies() []string {
	out := make([]string, len(currencyList))
	for i, c := range currencyList {
		out[i] = c.code
	}
	return out
}

// MinorDigits returns the number of minor-unit digits of a supported currency.
func MinorDigits(code string) (int, error) {
	d, ok := currencies[code]
	if !ok {
		return 0, fmt.Errorf("%w: %q", ErrUnsupportedCurrency, code)
	}
	return d, nil
}

// IsZero reports whether the amount is zero.
func (m Money) IsZero() bool { return m.Amount == 0 }

// Add returns m + o; both must have the same currency and the sum must stay within
// MaxAmount.
func (m Money) Add(o Money) (Money, error) {
	if m.Currency != o.Currency {
		return Money{}, fmt.Errorf("add %s to %s: %w", o.Currency, m.Currency, ErrCurrencyMismatch)
	}
	if o.Amount > 0 && m.Amount > MaxAmount-o.Amount || o.Amount < 0 && m.Amount < -MaxAmount-o.Amount {
		return Money{}, fmt.Errorf("add: %w", ErrOutOfRange)
	}
	return Money{Amount: m.Amount + o.Amount, Currency: m.Currency}, nil
}

// Mul returns m × qty for a non-negative quantity, within MaxAmount.
func (m Money) Mul(qty int64) (Money, error) {
	if qty < 0 {
		return Money{}, fmt.Errorf("multiply by %d: %w", qty, ErrOutOfRange)
	}
	if qty != 0 && (m.Amount > MaxAmount/qty || m.Amount < -MaxAmount/qty) {
		return Money{}, fmt.Errorf("multiply by %d: %w", qty, ErrOutOfRange)
	}
	return Money{Amount: m.Amount * qty, Currency: m.Currency}, nil
}

// String formats the amount in major units with the currency's digits, for logs and
// people: "IDR 150000", "USD 12.50". Not for parsing.
func (m Money) String() string {
	d, ok := currencies[m.Currency]
	if !ok || d == 0 {
		return fmt.Sprintf("%s %d", m.Currency, m.Amount)
	}
	sign, a := "", m.Amount
	if a < 0 {
		sign = "-"
		if a == math.MinInt64 {
			return fmt.Sprintf("%s %d (minor units)", m.Currency, m.Amount)
		}
		a = -a
	}
	unit := int64(math.Pow10(d))
	return fmt.Sprintf("%s %s%d.%0*d", m.Currency, sign, a/unit, d, a%unit)
}
