package bench

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/etalase/etalase/infra/localaccount"
)

// ProbeKey is the partition key attribute (a string) of the probe table.
const ProbeKey = "pk"

// ProbeTable returns the name of a bare on-demand table in an account of DynamoDB Local,
// keyed by the string attribute ProbeKey, creating it on first use: the baseline of
// figures given relative to DynamoDB Local itself, and the table the cold-start
// reference programs read.
func (e *Env) ProbeTable(ctx context.Context, acct localaccount.Account) (string, error) {
	e.probeMu.Lock()
	defer e.probeMu.Unlock()
	if name, ok := e.probe[acct.Side]; ok {
		return name, nil
	}
	name := e.Prefix + "probe"
	db := e.DynamoDB(acct)
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(ProbeKey), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(ProbeKey), KeyType: types.KeyTypeHash}},
	})
	if err != nil {
		return "", fmt.Errorf("create probe table: %w", err)
	}
	if e.probe == nil {
		e.probe = map[string]string{}
	}
	e.probe[acct.Side] = name
	return name, nil
}
