package validation_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/etalase/etalase/shared/platform/validation"
)

func TestProblems(t *testing.T) {
	var ps validation.Problems
	if err := ps.Err(); err != nil {
		t.Fatalf("no problems: Err() = %v, want nil", err)
	}
	ps.Add("title", "is required")
	ps.Add("price.amount", "must be positive")
	err := fmt.Errorf("create: %w", ps.Err())
	if !errors.Is(err, validation.ErrInvalid) {
		t.Errorf("errors.Is(%v, ErrInvalid) = false", err)
	}
	var ve *validation.Error
	if !errors.As(err, &ve) || len(ve.Problems) != 2 || ve.Problems[1] != (validation.Problem{Field: "price.amount", Message: "must be positive"}) {
		t.Fatalf("problems = %+v", ve)
	}
	if got, want := ve.Error(), "invalid input: title: is required; price.amount: must be positive"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if errors.Is(errors.New("other"), validation.ErrInvalid) {
		t.Error("an unrelated error matches ErrInvalid")
	}
}
