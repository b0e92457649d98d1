// Package sqsconn opens an SQS client's first connection in the background at cold
// start (awsclient.Preconnect), to the endpoint its requests resolve to.
package sqsconn

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/etalase/etalase/shared/platform/awsclient"
)

// Preconnect starts opening c's connection to its endpoint; it returns at once.
func Preconnect(c *sqs.Client) {
	if endpoint, err := Endpoint(context.Background(), c); err == nil {
		awsclient.Preconnect(c.Options().HTTPClient, endpoint)
	}
}

// Endpoint is the endpoint URL c's requests go to, resolved as the client resolves it
// (its region, endpoint options and base endpoint).
func Endpoint(ctx context.Context, c *sqs.Client) (string, error) {
	o := c.Options()
	ep, err := o.EndpointResolverV2.ResolveEndpoint(ctx, sqs.EndpointParameters{
		Region:       aws.String(o.Region),
		UseDualStack: aws.Bool(o.EndpointOptions.UseDualStackEndpoint == aws.DualStackEndpointStateEnabled),
		UseFIPS:      aws.Bool(o.EndpointOptions.UseFIPSEndpoint == aws.FIPSEndpointStateEnabled),
		Endpoint:     o.BaseEndpoint,
	})
	if err != nil {
		return "", err
	}
	return ep.URI.String(), nil
}
