package promotion

import (
	"errors"
	"strings"
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
	ErrInvalid = errors.New("invalid input")
)

// Problem is one invalid field.
type Problem struct {
	// Field is the field's name as the API spells it ("commissionBps").
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
