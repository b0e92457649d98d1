// Command crash is a test Lambda function that exits with status 2 when the payload's
// "crash" is true, and answers "ok" otherwise.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
)

type request struct {
	Crash bool `json:"crash"`
}

func main() {
	lambda.Start(func(_ context.Context, in request) (string, error) {
		if in.Crash {
			fmt.Fprintln(os.Stderr, "crash: exiting")
			os.Exit(2)
		}
		return "ok", nil
	})
}
