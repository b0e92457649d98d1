package catalog

import (
	"errors"
	"strings"
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
	ErrInvalid = errors.New("invalid input")
)

// Problem is one invalid field.
type Problem struct {
	// Field is the field's name as the API spells it ("title", "price.amount").
	Field string
	// Message says what is wrong, safe to show to the client.
	Message string
}

// ValidationError lists every problem of an input, not only the first.
type ValidationError struct {
	// Problems, in field order.
	Problems []Problem
}

// Error implements error.
func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.Field + ": " + p.Message
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// problems collects validation problems.
type problems []Problem

func (ps *problems) add(field, msg string) { *ps = append(*ps, Problem{Field: field, Message: msg}) }

// err returns a *ValidationError, or nil without problems.
func (ps problems) err() error {
	if len(ps) == 0 {
		return nil
	}
	return &ValidationError{Problems: ps}
}
