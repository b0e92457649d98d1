package payment

import (
	"fmt"
	"strings"

	"github.com/etalase/etalase/shared/commerce/money"
)

// ParseDecimal parses a provider's decimal amount in major units ("10000.00" from a
// Midtrans notification, the text of a Xendit JSON number such as 10000 or 12.5) into
// money of currency, exactly, without floats.
//
// The accepted form is digits, optionally followed by a point and more digits; no sign,
// exponent, spaces or grouping. Fraction digits beyond the currency's minor digits must
// be zeros: "10000.00" is IDR 10000, "10000.50" is an error for IDR (which has no minor
// unit here, see package money), "12.340" is USD 12.34. Errors wrap ErrMalformed.
func ParseDecimal(s, currency string) (money.Money, error) {
	digits, err := money.MinorDigits(currency)
	if err != nil {
		return money.Money{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	intPart, frac, hasPoint := strings.Cut(s, ".")
	if intPart == "" || !allDigits(intPart) || hasPoint && (frac == "" || !allDigits(frac)) {
		return money.Money{}, fmt.Errorf("%w: amount %q is not a plain decimal", ErrMalformed, clip(s))
	}
	if len(frac) > digits {
		if strings.Trim(frac[digits:], "0") != "" {
			return money.Money{}, fmt.Errorf("%w: amount %q has more than %d decimals for %s", ErrMalformed, clip(s), digits, currency)
		}
		frac = frac[:digits]
	}
	frac += strings.Repeat("0", digits-len(frac))
	intPart = strings.TrimLeft(intPart, "0")
	// money.MaxAmount is 10^15 minor units: anything with more than 16 significant
	// digits is out of range before it could overflow int64.
	if len(intPart)+len(frac) > 16 {
		return money.Money{}, fmt.Errorf("%w: amount %q: %v", ErrMalformed, clip(s), money.ErrOutOfRange)
	}
	var n int64
	for _, c := range intPart + frac {
		n = n*10 + int64(c-'0')
	}
	m, err := money.New(n, currency)
	if err != nil {
		return money.Money{}, fmt.Errorf("%w: amount %q: %v", ErrMalformed, clip(s), err)
	}
	return m, nil
}

// FormatDecimal formats m in major units with exactly frac decimals, the way a
// provider writes it: FormatDecimal(IDR 10000, 2) is "10000.00" (Midtrans's
// gross_amount), FormatDecimal(USD 1250, 2) is "12.50", FormatDecimal(IDR 10000, 0) is
// "10000". frac must be at least the currency's minor digits; the amount must not be
// negative.
func FormatDecimal(m money.Money, frac int) (string, error) {
	digits, err := money.MinorDigits(m.Currency)
	if err != nil {
		return "", err
	}
	if frac < digits {
		return "", fmt.Errorf("format %s with %d decimals: the currency has %d", m.Currency, frac, digits)
	}
	if m.Amount < 0 {
		return "", fmt.Errorf("format %s: %w", m, money.ErrOutOfRange)
	}
	s := fmt.Sprintf("%0*d", digits+1, m.Amount)
	intPart, fracPart := s[:len(s)-digits], s[len(s)-digits:]
	fracPart += strings.Repeat("0", frac-digits)
	if frac == 0 {
		return intPart, nil
	}
	return intPart + "." + fracPart, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// clip shortens untrusted text quoted in an error message.
func clip(s string) string {
	const max = 40
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}
