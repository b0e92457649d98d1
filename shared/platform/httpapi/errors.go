package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/etalase/etalase/shared/platform/validation"
)

// Stable error codes this package itself produces. Services add their own (for example
// "product_not_found"); every code a route can return belongs in the OpenAPI document.
const (
	CodeInvalidJSON          = "invalid_json"           // 400: the body is not well-formed JSON
	CodeInvalidBody          = "invalid_body"           // 400: well-formed JSON of the wrong shape, or no body
	CodeBodyTooLarge         = "body_too_large"         // 413: the body exceeds the route's limit
	CodeUnsupportedMediaType = "unsupported_media_type" // 415: a Content-Type other than JSON
	CodeValidationFailed     = "validation_failed"      // 400: fields failed validation; see details
	CodeUnauthenticated      = "unauthenticated"        // 401: no authenticated subject
	CodeForbidden            = "forbidden"              // 403: authenticated but a scope is missing
	CodeRouteNotFound        = "route_not_found"        // 404: no handler for the route key
	CodeInternal             = "internal"               // 500: anything unexpected; details only in the log
)

// Error is an error meant for the client: an HTTP status, a stable code and a message
// that is safe to show. Cause, if set, is logged but never sent.
type Error struct {
	// Status is the HTTP status code.
	Status int
	// Code is the stable, documented error slug.
	Code string
	// Message is a human-readable, client-safe explanation.
	Message string
	// Details lists per-field problems (validation_failed); may be empty.
	Details []FieldError
	// Cause is the underlying error, for the log only.
	Cause error
}

// FieldError is one problem with one request field.
type FieldError struct {
	// Field is the JSON name (or query parameter) the problem concerns, dotted for
	// nested fields ("price.amount"); empty for the request as a whole.
	Field string `json:"field"`
	// Message says what is wrong, safe to show.
	Message string `json:"message"`
}

// NewError returns an *Error with no details and no cause.
func NewError(status int, code, message string) *Error {
	return &Error{Status: status, Code: code, Message: message}
}

// ValidationFailed returns the 400 validation_failed error with per-field details.
func ValidationFailed(details ...FieldError) *Error {
	return &Error{
		Status:  http.StatusBadRequest,
		Code:    CodeValidationFailed,
		Message: "the request has invalid fields",
		Details: details,
	}
}

// ErrorCase is one row of a service's error table: the client error answered for an
// error that matches Err (errors.Is).
type ErrorCase struct {
	Err     error
	Status  int
	Code    string
	Message string
}

// MapError turns a service's error into the client error to answer, at the edge: an
// *Error stays as it is, a *validation.Error becomes 400 validation_failed with one
// detail per field, and otherwise the first case whose Err matches gives status, code
// and message (err kept as the cause, for the log). Anything else is returned
// unchanged and becomes a 500 "internal" in ErrorResponse.
func MapError(err error, cases []ErrorCase) error {
	var (
		he *Error
		ve *validation.Error
	)
	switch {
	case err == nil:
		return nil
	case errors.As(err, &he):
		return err
	case errors.As(err, &ve):
		details := make([]FieldError, len(ve.Problems))
		for i, p := range ve.Problems {
			details[i] = FieldError{Field: p.Field, Message: p.Message}
		}
		e := ValidationFailed(details...)
		e.Cause = err
		return e
	}
	for _, c := range cases {
		if errors.Is(err, c.Err) {
			return &Error{Status: c.Status, Code: c.Code, Message: c.Message, Cause: err}
		}
	}
	return err
}

// Error implements error; it is for logs, not for clients.
func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%d %s: %s: %v", e.Status, e.Code, e.Message, e.Cause)
	}
	return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Cause }

// errorBody is the wire form of the error envelope.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string       `json:"code"`
	Message string       `json:"message"`
	Details []FieldError `json:"details,omitempty"`
}

// ErrorResponse maps err to a response. An *Error anywhere in err's chain gives its
// status, code, message and details; anything else is a 500 with code "internal" and a
// fixed message, and the real error goes only to log. Server errors (5xx) are logged at
// ERROR, client errors at INFO.
func ErrorResponse(ctx context.Context, log *slog.Logger, err error) Response {
	if log == nil {
		log = slog.Default()
	}
	var he *Error
	if !errors.As(err, &he) || he.Status < 400 || he.Status > 599 || he.Code == "" {
		log.ErrorContext(ctx, "request failed", "status", http.StatusInternalServerError, "error", err)
		return internalResponse()
	}
	if he.Status >= 500 {
		log.ErrorContext(ctx, "request failed", "status", he.Status, "code", he.Code, "error", err)
	} else {
		log.InfoContext(ctx, "request rejected", "status", he.Status, "code", he.Code, "error", err)
	}
	return JSON(he.Status, errorBody{Error: errorDetail{Code: he.Code, Message: he.Message, Details: he.Details}})
}

// internalResponse is the one response every unexpected failure gets.
func internalResponse() Response {
	return Response{
		StatusCode: http.StatusInternalServerError,
		Headers:    map[string]string{"Content-Type": ContentTypeJSON, "Cache-Control": "no-store"},
		Body:       `{"error":{"code":"internal","message":"internal error"}}`,
	}
}
