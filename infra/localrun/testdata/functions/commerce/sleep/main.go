// Command sleep is a test-only HTTP function that sleeps for the requested milliseconds.
package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(_ context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		ms, _ := strconv.Atoi(req.PathParameters["ms"])
		time.Sleep(time.Duration(ms) * time.Millisecond)
		return events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: fmt.Sprint(os.Getpid())}, nil
	})
}
