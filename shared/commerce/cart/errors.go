package cart

import "errors"

// Sentinel errors of the cart. The storage adapter translates DynamoDB's errors into
// them; the handler maps them (and the contract's ErrHandoff* errors) to HTTP statuses
// and codes with errors.Is.
var (
	// ErrCartNotFound: no such guest cart, it expired, or the caller lacks its id.
	ErrCartNotFound = errors.New("cart not found")
	// ErrLineNotFound: the cart has no line for that product.
	ErrLineNotFound = errors.New("cart line not found")
	// ErrProductNotFound: no such catalog product.
	ErrProductNotFound = errors.New("product not found")
	// ErrDelisted: the product is delisted and cannot be added.
	ErrDelisted = errors.New("product delisted")
	// ErrOutOfStock: the product has no stock, or not enough for the line's quantity.
	ErrOutOfStock = errors.New("out of stock")
	// ErrQuantity: a requested quantity outside MinQuantity..MaxQuantity.
	ErrQuantity = errors.New("quantity out of range")
	// ErrQuantityLimit: adding would take a line beyond MaxQuantity.
	ErrQuantityLimit = errors.New("line quantity limit")
	// ErrCartFull: a new line would exceed MaxLines.
	ErrCartFull = errors.New("cart full")
	// ErrCurrencyMismatch: the product (or guest cart) is in another currency than the
	// cart's lines.
	ErrCurrencyMismatch = errors.New("currency mismatch")
	// ErrConflict: a concurrent write won the race (retryable), or the retries ran out.
	ErrConflict = errors.New("concurrent modification")
)
