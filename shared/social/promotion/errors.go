package promotion

import (
	"errors"

	"github.com/etalase/etalase/shared/platform/validation"
)

// Sentinel errors of promotions. The storage adapter translates DynamoDB's errors into
// them; the handler maps them to HTTP statuses with errors.Is.
var (
	// ErrNotFound: no such promotion, or (creator routes) another creator's.
	ErrNotFound = errors.New("promotion not found")
	// ErrProductNotFound: social has no snapshot of the product.
	ErrProductNotFound = errors.New("product not found")
	// ErrProductUnavailable: the product is delisted or out of stock.
	ErrProductUnavailable = errors.New("product unavailable")
	// ErrNotLive: the promotion is paused, ended, not started or past its window.
	ErrNotLive = errors.New("promotion not live")
	// ErrEnded: an ended promotion cannot change.
	ErrEnded = errors.New("promotion ended")
	// ErrConflict: a concurrent change won (retryable).
	ErrConflict = errors.New("concurrent modification")
	// ErrCreatorNotFound: earnings of a creator other than the caller.
	ErrCreatorNotFound = errors.New("creator not found")
	// ErrInvalid matches every *ValidationError.
	ErrInvalid = validation.ErrInvalid
)

// Problem is one invalid field.
type Problem = validation.Problem

// ValidationError lists every problem of an input, not only the first.
type ValidationError = validation.Error

// problems collects validation problems.
type problems = validation.Problems
