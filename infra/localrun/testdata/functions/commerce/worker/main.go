// Command worker is a test-only SQS consumer: it marks every message it processes in
// the marks table and reports a message whose body is "poison" as failed.
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
	lambda.Start(func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		var resp events.SQSEventResponse
		for _, msg := range ev.Records {
			if msg.Body == "poison" {
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: msg.MessageId})
				continue
			}
			if err := m.Put(ctx, "work#"+msg.Body); err != nil {
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: msg.MessageId})
			}
		}
		return resp, nil
	})
}
