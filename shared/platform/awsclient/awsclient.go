// Package awsclient builds the AWS SDK configuration a function uses, once, at cold start.
//
// It reads what the SDK's config package reads from the environment for region,
// credentials, endpoints and retries, with the same precedence: AWS_REGION (required;
// Lambda always sets it); AWS_ACCESS_KEY_ID or AWS_ACCESS_KEY, AWS_SECRET_ACCESS_KEY or
// AWS_SECRET_KEY, AWS_SESSION_TOKEN, AWS_ACCOUNT_ID and AWS_ACCOUNT_ID_ENDPOINT_MODE;
// AWS_ENDPOINT_URL, the per-service AWS_ENDPOINT_URL_<SERVICE> and
// AWS_IGNORE_CONFIGURED_ENDPOINT_URLS; AWS_MAX_ATTEMPTS and AWS_RETRY_MODE. A test checks
// each service client's resulting settings against config.LoadDefaultConfig's.
//
// It does so without the config package, which links every credential provider (SSO,
// SSO-OIDC, STS, sign-in, IMDS) and their service clients, whose package initialisation
// and 1.7 MiB of binary cost each cold start a few milliseconds — a fifth to a third of
// a hello-world's whole cold start (`make bench`: reference programs sdk-default and
// sdk-lean; docs/bench.md). In Lambda the credentials are always in the environment, so
// none of that is needed; shared config files and profiles are not read.
//
// For the local runner only, ETALASE_FAULTS (Config.Faults, faults.go) adds an SDK
// middleware that makes a share of DynamoDB and SQS calls fail as real AWS failures do,
// for the reliability suite (infra/reliability).
package awsclient

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Config is the AWS part of a function's configuration. Embed it (untagged) in the
// function's Config and envconfig fills it.
type Config struct {
	// Region is required: Lambda always sets AWS_REGION. (The SDK would fall back to
	// AWS_DEFAULT_REGION, which Lambda sets to the same value.)
	Region string `env:"AWS_REGION,required"`
	// AccessKeyID and SecretAccessKey fall back to the older names AccessKey
	// (AWS_ACCESS_KEY) and SecretKey (AWS_SECRET_KEY), as in the SDK.
	AccessKeyID     string `env:"AWS_ACCESS_KEY_ID"`
	AccessKey       string `env:"AWS_ACCESS_KEY"`
	SecretAccessKey string `env:"AWS_SECRET_ACCESS_KEY"`
	SecretKey       string `env:"AWS_SECRET_KEY"`
	SessionToken    string `env:"AWS_SESSION_TOKEN"`
	// AccountID lets services with account-based endpoints (DynamoDB) use them.
	AccountID string `env:"AWS_ACCOUNT_ID"`
	// AccountIDEndpointMode is preferred (the default), required or disabled.
	AccountIDEndpointMode string `env:"AWS_ACCOUNT_ID_ENDPOINT_MODE"`
	// MaxAttempts and RetryMode (standard or adaptive) configure retries.
	MaxAttempts int    `env:"AWS_MAX_ATTEMPTS"`
	RetryMode   string `env:"AWS_RETRY_MODE"`
	// Endpoint overrides every service's endpoint (AWS_ENDPOINT_URL).
	Endpoint string `env:"AWS_ENDPOINT_URL"`
	// DynamoDBEndpoint, SQSEndpoint, SSMEndpoint override one service's endpoint, and
	// win over Endpoint; the local runner points them at the emulators.
	DynamoDBEndpoint string `env:"AWS_ENDPOINT_URL_DYNAMODB"`
	SQSEndpoint      string `env:"AWS_ENDPOINT_URL_SQS"`
	SSMEndpoint      string `env:"AWS_ENDPOINT_URL_SSM"`
	// IgnoreConfiguredEndpoints makes every AWS_ENDPOINT_URL* variable ignored.
	IgnoreConfiguredEndpoints bool `env:"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"`
	// Faults (ETALASE_FAULTS) switches on fault injection: a share of DynamoDB and SQS
	// calls fail as throttles, transaction conflicts, 5xx and timeouts (ParseFaults).
	// Only the local runner sets it (localrun.Options.Faults); template.yaml never does.
	Faults string `env:"ETALASE_FAULTS"`
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
	if c.Region == "" {
		return aws.Config{}, errors.New("aws config: AWS_REGION is not set")
	}
	key, secret := firstSet(c.AccessKeyID, c.AccessKey), firstSet(c.SecretAccessKey, c.SecretKey)
	if key == "" || secret == "" {
		return aws.Config{}, errors.New("aws config: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set")
	}
	static := credentials.NewStaticCredentialsProvider(key, secret, c.SessionToken)
	static.Value.AccountID = c.AccountID
	cfg := aws.Config{
		Region:           c.Region,
		Credentials:      aws.NewCredentialsCache(static),
		RetryMaxAttempts: c.MaxAttempts,
	}
	switch mode := aws.RetryMode(strings.ToLower(c.RetryMode)); mode {
	case "":
	case aws.RetryModeStandard, aws.RetryModeAdaptive:
		cfg.RetryMode = mode
	default:
		return aws.Config{}, fmt.Errorf("aws config: AWS_RETRY_MODE %q is not standard or adaptive", c.RetryMode)
	}
	switch mode := aws.AccountIDEndpointMode(strings.ToLower(c.AccountIDEndpointMode)); mode {
	case "":
		cfg.AccountIDEndpointMode = aws.AccountIDEndpointModePreferred // the SDK's default
	case aws.AccountIDEndpointModePreferred, aws.AccountIDEndpointModeRequired, aws.AccountIDEndpointModeDisabled:
		cfg.AccountIDEndpointMode = mode
	default:
		return aws.Config{}, fmt.Errorf("aws config: AWS_ACCOUNT_ID_ENDPOINT_MODE %q is not preferred, required or disabled", c.AccountIDEndpointMode)
	}
	if c.Endpoint != "" && !c.IgnoreConfiguredEndpoints {
		cfg.BaseEndpoint = aws.String(c.Endpoint)
	}
	if c.Faults != "" {
		f, err := ParseFaults(c.Faults)
		if err != nil {
			return aws.Config{}, fmt.Errorf("aws config: %w", err)
		}
		NewInjector(f).Apply(&cfg)
	}
	return cfg, nil
}

// For returns cfg with the endpoint override for service s applied, if one is set.
func (c Config) For(cfg aws.Config, s Service) aws.Config {
	ep := map[Service]string{DynamoDB: c.DynamoDBEndpoint, SQS: c.SQSEndpoint, SSM: c.SSMEndpoint}[s]
	if ep != "" && !c.IgnoreConfiguredEndpoints {
		cfg = cfg.Copy()
		cfg.BaseEndpoint = aws.String(ep)
	}
	return cfg
}

func firstSet(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
