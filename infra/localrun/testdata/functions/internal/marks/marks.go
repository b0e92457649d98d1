// Package marks lets test-only functions record that they ran, in a DynamoDB table the
// test reads back.
package marks

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/etalase/etalase/shared/platform/awsclient"
	"github.com/etalase/etalase/shared/platform/envconfig"
)

// Marks writes marks to one table.
type Marks struct {
	table  string
	client *dynamodb.Client
}

// New builds a client from the environment, as a function does at cold start.
func New(table string) *Marks {
	var c awsclient.Config
	if err := envconfig.Load(&c); err != nil {
		panic(err)
	}
	cfg, err := awsclient.New(c)
	if err != nil {
		panic(err)
	}
	return &Marks{table: table, client: dynamodb.NewFromConfig(c.For(cfg, awsclient.DynamoDB))}
}

// Put records one mark.
func (m *Marks) Put(ctx context.Context, key string) error {
	_, err := m.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(m.table),
		Item:      map[string]ddb.AttributeValue{"pk": &ddb.AttributeValueMemberS{Value: key}},
	})
	return err
}
