// Package money is social's amount type: integer minor units plus an ISO 4217 currency
// code, never a float. Social only displays prices and adds up commissions; commerce,
// which owns prices, has its own type (a social package may not import it, DESIGN.md
// section 1, rule 4).
package money

import (
	"fmt"

	"github.com/etalase/etalase/shared/platform/ident"
)

// MaxAmount bounds any amount social stores, in minor units, as commerce's catalog does;
// it keeps amount × basis points (at most 10,000) far inside int64.
const MaxAmount int64 = 1_000_000_000_000_000 // 10^15

// Money is an amount in a currency's minor units (whole rupiah for IDR).
type Money struct {
	// Amount is the number of minor units.
	Amount int64
	// Currency is the upper-case ISO 4217 code.
	Currency string
}

// ValidCurrency reports whether code looks like an ISO 4217 code.
func ValidCurrency(code string) bool { return ident.Upper(code, 3) }

// Valid reports whether m has a currency code and 0 <= Amount <= MaxAmount.
func (m Money) Valid() bool {
	return ValidCurrency(m.Currency) && m.Amount >= 0 && m.Amount <= MaxAmount
}

// String is for logs: "IDR 85000" (minor units).
func (m Money) String() string { return fmt.Sprintf("%s %d", m.Currency, m.Amount) }
