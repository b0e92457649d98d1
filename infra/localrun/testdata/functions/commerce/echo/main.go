// Command echo is a test-only HTTP function: it answers with what it received.
package main

import (
	"context"
	"encoding/json"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	greeting := os.Getenv("GREETING")
	lambda.Start(func(_ context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		body, _ := json.Marshal(map[string]any{
			"greeting": greeting,
			"routeKey": req.RouteKey,
			"word":     req.PathParameters["word"],
			"sub":      claim(req, "sub"),
			"scopes":   scopes(req),
			"body":     req.Body,
			"pid":      os.Getpid(),
		})
		return events.APIGatewayV2HTTPResponse{StatusCode: 200, Headers: map[string]string{"content-type": "application/json"}, Body: string(body)}, nil
	})
}

func claim(req events.APIGatewayV2HTTPRequest, k string) string {
	if a := req.RequestContext.Authorizer; a != nil && a.JWT != nil {
		return a.JWT.Claims[k]
	}
	return ""
}

func scopes(req events.APIGatewayV2HTTPRequest) []string {
	if a := req.RequestContext.Authorizer; a != nil && a.JWT != nil {
		return a.JWT.Scopes
	}
	return nil
}
