// Command tick is a test-only scheduled function: it marks the time of each event.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/etalase/etalase/infra/localrun/testdata/functions/internal/marks"
)

func main() {
	m := marks.New(os.Getenv("MARKS_TABLE"))
	lambda.Start(func(ctx context.Context, ev events.EventBridgeEvent) error {
		return m.Put(ctx, "tick#"+ev.DetailType)
	})
}
