// Command sdklean is sdkdefault with etalase's lean SDK configuration
// (shared/platform/awsclient and envconfig instead of config.LoadDefaultConfig): the
// same DynamoDB and SQS clients built at init and the same one-item read.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/etalase/etalase/shared/platform/awsclient"
	"github.com/etalase/etalase/shared/platform/envconfig"
)

type config struct {
	awsclient.Config
	Table string `env:"BENCH_TABLE,required"`
}

func main() {
	var c config
	err := envconfig.Load(&c)
	var cfg aws.Config
	if err == nil {
		cfg, err = awsclient.New(c.Config)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "init failed:", err)
		os.Exit(1)
	}
	db := dynamodb.NewFromConfig(c.For(cfg, awsclient.DynamoDB))
	queue := sqs.NewFromConfig(c.For(cfg, awsclient.SQS))
	_ = queue // built at init, as a function that sends messages would
	lambda.Start(func(ctx context.Context, _ json.RawMessage) (map[string]bool, error) {
		out, err := db.GetItem(ctx, &dynamodb.GetItemInput{
			TableName: aws.String(c.Table),
			Key:       map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "bench"}},
		})
		if err != nil {
			return nil, err
		}
		return map[string]bool{"found": out.Item != nil}, nil
	})
}
