// Package invoke is the contract between the local runner's function pools and the
// things that invoke them (the HTTP API gateway, the event sources): a payload in, a
// payload out, and errors that say how Lambda would have failed.
package invoke

import (
	"context"
	"errors"
	"fmt"
)

// Invoker runs one invocation of one function and returns its response payload.
type Invoker interface {
	Invoke(ctx context.Context, payload []byte) ([]byte, error)
}

// Func adapts a function to Invoker.
type Func func(ctx context.Context, payload []byte) ([]byte, error)

// Invoke calls f.
func (f Func) Invoke(ctx context.Context, payload []byte) ([]byte, error) { return f(ctx, payload) }

// ErrThrottled means the function is at its concurrency limit, as Lambda's
// TooManyRequestsException: HTTP callers answer 429, event sources retry later.
var ErrThrottled = errors.New("function is at its concurrency limit")

// FunctionError is an invocation that failed inside the function: an error returned by
// the handler (Unhandled), a timeout, or a crash of the process (Runtime.ExitError).
type FunctionError struct {
	// Type is the errorType Lambda reports, e.g. "Runtime.ExitError", "Sandbox.Timedout",
	// or the type the handler reported.
	Type string
	// Message is the errorMessage.
	Message string
}

func (e *FunctionError) Error() string { return fmt.Sprintf("%s: %s", e.Type, e.Message) }
