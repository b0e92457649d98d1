// Command echo is a test Lambda function that returns its payload unchanged and logs
// one plain and one JSON line per invocation.
package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(_ context.Context, in json.RawMessage) (json.RawMessage, error) {
		fmt.Println("echo: plain line")
		fmt.Println(`{"level":"info","msg":"echo: json line","n":1}`)
		return in, nil
	})
}
