// Package httpapi holds the account-neutral pieces every API Gateway HTTP API (payload
// format 2.0) Lambda handler needs: routing by route key, JSON responses, the error
// envelope, strict JSON body decoding and the JWT authorizer's principal.
//
// Every HTTP function of both accounts (catalog, cart, checkout, promotion, ...) builds
// on it, so that clients see one error shape everywhere:
//
//	{"error":{"code":"validation_failed","message":"...","details":[{"field":"title","message":"..."}]}}
//
// The code is a stable, documented slug clients may branch on; the message is safe to
// show; internal error text never leaves the process (it goes to the log only).
package httpapi

import (
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/aws/aws-lambda-go/events"
)

// Request is the API Gateway HTTP API payload format 2.0 event.
type Request = events.APIGatewayV2HTTPRequest

// Response is the API Gateway HTTP API payload format 2.0 response.
type Response = events.APIGatewayV2HTTPResponse

// ContentTypeJSON is the content type of every response body this package writes.
const ContentTypeJSON = "application/json; charset=utf-8"

// JSON returns a response with status and v encoded as its JSON body. If v cannot be
// encoded (a programming error) the response is the generic 500 error instead.
func JSON(status int, v any) Response {
	body, err := json.Marshal(v)
	if err != nil {
		slog.Error("encode response body", "error", err)
		return internalResponse()
	}
	return Response{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": ContentTypeJSON, "Cache-Control": "no-store"},
		Body:       string(body),
	}
}

// NoContent returns an empty 204 response.
func NoContent() Response {
	return Response{StatusCode: http.StatusNoContent, Headers: map[string]string{"Cache-Control": "no-store"}}
}
