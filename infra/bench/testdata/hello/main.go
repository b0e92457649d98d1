// Command hello is the cold-start baseline of `make bench`: the smallest aws-lambda-go
// function, built in the same run with the same flags as the real functions, so that
// their cold starts can be given as a ratio to what Go on Lambda costs anyway.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
)

// response is what every invocation returns.
type response struct {
	Message string `json:"message"`
}

func handle(context.Context, map[string]any) (response, error) {
	return response{Message: "hello"}, nil
}

func main() {
	lambda.Start(handle)
}
