// Command printenv is a test Lambda function that returns its whole environment and
// what the Runtime API told it about the invocation.
package main

import (
	"context"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type response struct {
	Env        map[string]string `json:"env"`
	RequestID  string            `json:"requestId"`
	ARN        string            `json:"arn"`
	DeadlineMS int64             `json:"deadlineMs"`
}

func main() {
	lambda.Start(func(ctx context.Context) (response, error) {
		out := response{Env: map[string]string{}}
		for _, kv := range os.Environ() {
			k, v, _ := strings.Cut(kv, "=")
			out.Env[k] = v
		}
		if lc, ok := lambdacontext.FromContext(ctx); ok {
			out.RequestID = lc.AwsRequestID
			out.ARN = lc.InvokedFunctionArn
		}
		if d, ok := ctx.Deadline(); ok {
			out.DeadlineMS = d.UnixMilli()
		}
		return out, nil
	})
}
