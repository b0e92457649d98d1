// Command sdkdefault is the cold-start reference of `make bench` for the SDK's default
// pattern: config.LoadDefaultConfig, then DynamoDB and SQS clients built at init; the
// handler reads one item from BENCH_TABLE. Compare it with sdklean and the functions.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

func main() {
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "init failed:", err)
		os.Exit(1)
	}
	db := dynamodb.NewFromConfig(cfg)
	queue := sqs.NewFromConfig(cfg)
	_ = queue // built at init, as a function that sends messages would
	table := os.Getenv("BENCH_TABLE")
	lambda.Start(func(ctx context.Context, _ json.RawMessage) (map[string]bool, error) {
		out, err := db.GetItem(ctx, &dynamodb.GetItemInput{
			TableName: aws.String(table),
			Key:       map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "bench"}},
		})
		if err != nil {
			return nil, err
		}
		return map[string]bool{"found": out.Item != nil}, nil
	})
}
