// Package validation is the one form of "this input is invalid, field by field" that
// every service of both accounts returns, and that httpapi.MapError answers as 400
// validation_failed with one detail per field. It is account-neutral.
package validation

import (
	"errors"
	"strings"
)

// ErrInvalid matches every *Error (errors.Is).
var ErrInvalid = errors.New("invalid input")

// Problem is one invalid field.
type Problem struct {
	// Field is the field's name as the API spells it ("title", "price.amount").
	Field string
	// Message says what is wrong, safe to show to the client.
	Message string
}

// Error lists every problem of an input, not only the first.
type Error struct {
	// Problems, in field order.
	Problems []Problem
}

// Error implements error.
func (e *Error) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.Field + ": " + p.Message
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *Error) Is(target error) bool { return target == ErrInvalid }

// Problems collects the problems of one input.
type Problems []Problem

// Add records that field is invalid, and why.
func (ps *Problems) Add(field, msg string) { *ps = append(*ps, Problem{Field: field, Message: msg}) }

// Err returns an *Error with the problems, or nil when there are none.
func (ps Problems) Err() error {
	if len(ps) == 0 {
		return nil
	}
	return &Error{Problems: ps}
}
