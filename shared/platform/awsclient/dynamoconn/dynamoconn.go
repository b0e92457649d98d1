// Package dynamoconn opens a DynamoDB client's first connection in the background at
// cold start (awsclient.Preconnect), to the endpoint its requests resolve to.
package dynamoconn

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/etalase/etalase/shared/platform/awsclient"
)

// Preconnect starts opening c's connection to its endpoint; it returns at once.
func Preconnect(c *dynamodb.Client) {
	if endpoint, err := Endpoint(context.Background(), c); err == nil {
		awsclient.Preconnect(c.Options().HTTPClient, endpoint)
	}
}

// Endpoint is the endpoint URL c's requests go to, resolved as the client resolves it
// (its region, endpoint options, base endpoint, account id and account-id endpoint
// mode).
func Endpoint(ctx context.Context, c *dynamodb.Client) (string, error) {
	o := c.Options()
	params := dynamodb.EndpointParameters{
		Region:                aws.String(o.Region),
		UseDualStack:          aws.Bool(o.EndpointOptions.UseDualStackEndpoint == aws.DualStackEndpointStateEnabled),
		UseFIPS:               aws.Bool(o.EndpointOptions.UseFIPSEndpoint == aws.FIPSEndpointStateEnabled),
		Endpoint:              o.BaseEndpoint,
		AccountIdEndpointMode: aws.String(string(o.AccountIDEndpointMode)),
	}
	if o.AccountIDEndpointMode != aws.AccountIDEndpointModeDisabled && o.Credentials != nil {
		if creds, err := o.Credentials.Retrieve(ctx); err == nil && creds.AccountID != "" {
			params.AccountId = aws.String(creds.AccountID)
		}
	}
	ep, err := o.EndpointResolverV2.ResolveEndpoint(ctx, params)
	if err != nil {
		return "", err
	}
	return ep.URI.String(), nil
}
