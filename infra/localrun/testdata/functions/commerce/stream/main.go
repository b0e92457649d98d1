// Command stream is a test-only DynamoDB stream consumer: it marks each inserted key.
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
	lambda.Start(func(ctx context.Context, ev events.DynamoDBEvent) error {
		for _, rec := range ev.Records {
			if rec.EventName != "INSERT" {
				continue
			}
			if err := m.Put(ctx, "stream#"+rec.Change.NewImage["pk"].String()); err != nil {
				return err
			}
		}
		return nil
	})
}
