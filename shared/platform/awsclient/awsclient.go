// Package awsclient builds the AWS SDK configuration a function uses, once, at cold start.
//
// It reads the same environment the SDK reads — region, credentials, AWS_ENDPOINT_URL and
// the per-service AWS_ENDPOINT_URL_<SERVICE> variables, retry settings — but without the
// SDK's config package. That package links every credential provider (SSO, STS,
// sign-in, IMDS) and their endpoint tables, whose package initialisation and binary size
// cost a Lambda function about twice a hello-world's cold start (see `make bench`). In
// Lambda the credentials are always in the environment, so none of that is needed.
package awsclient

import (
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Config is the AWS part of a function's configuration. Embed it (untagged) in the
// function's Config and envconfig fills it.
type Config struct {
	Region          string `env:"AWS_REGION,required"`
	AccessKeyID     string `env:"AWS_ACCESS_KEY_ID"`
	SecretAccessKey string `env:"AWS_SECRET_ACCESS_KEY"`
	SessionToken    string `env:"AWS_SESSION_TOKEN"`
	MaxAttempts     int    `env:"AWS_MAX_ATTEMPTS"`
	// Endpoint overrides every service's endpoint (AWS_ENDPOINT_URL).
	Endpoint string `env:"AWS_ENDPOINT_URL"`
	// DynamoDBEndpoint, SQSEndpoint, SSMEndpoint override one service's endpoint; the
	// local runner points them at the emulators.
	DynamoDBEndpoint string `env:"AWS_ENDPOINT_URL_DYNAMODB"`
	SQSEndpoint      string `env:"AWS_ENDPOINT_URL_SQS"`
	SSMEndpoint      string `env:"AWS_ENDPOINT_URL_SSM"`
}

// Service names an AWS service whose endpoint may be overridden.
type Service int

// Services with endpoint overrides.
const (
	DynamoDB Service = iota
	SQS
	SSM
)

// New returns the SDK configuration for c.
func New(c Config) (aws.Config, error) {
	if c.AccessKeyID == "" || c.SecretAccessKey == "" {
		return aws.Config{}, errors.New("aws config: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set")
	}
	cfg := aws.Config{
		Region:           c.Region,
		Credentials:      aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)),
		RetryMaxAttempts: c.MaxAttempts,
	}
	if c.Endpoint != "" {
		cfg.BaseEndpoint = aws.String(c.Endpoint)
	}
	return cfg, nil
}

// For returns cfg with the endpoint override for service s applied, if one is set.
func (c Config) For(cfg aws.Config, s Service) aws.Config {
	ep := map[Service]string{DynamoDB: c.DynamoDBEndpoint, SQS: c.SQSEndpoint, SSM: c.SSMEndpoint}[s]
	if ep != "" {
		cfg = cfg.Copy()
		cfg.BaseEndpoint = aws.String(ep)
	}
	return cfg
}
