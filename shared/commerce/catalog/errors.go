package catalog

import (
	"errors"

	"github.com/etalase/etalase/shared/platform/validation"
)

// Sentinel errors of the catalog. The storage adapter translates DynamoDB's errors into
// them; the handler maps them to HTTP statuses with errors.Is.
var (
	// ErrNotFound: no such product, or it belongs to another seller.
	ErrNotFound = errors.New("product not found")
	// ErrInsufficientStock: the change would take stock below zero.
	ErrInsufficientStock = errors.New("insufficient stock")
	// ErrDelisted: the product is delisted and cannot be changed.
	ErrDelisted = errors.New("product delisted")
	// ErrConflict: a concurrent change won the race (retryable), or the retries ran out.
	ErrConflict = errors.New("concurrent modification")
	// ErrInvalid matches every *ValidationError.
	ErrInvalid = validation.ErrInvalid
)

// Problem is one invalid field.
type Problem = validation.Problem

// ValidationError lists every problem of an input, not only the first.
type ValidationError = validation.Error

// problems collects validation problems.
type problems = validation.Problems
