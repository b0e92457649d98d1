package awsclient

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/etalase/etalase/shared/platform/envconfig"
)

// resolved is what a function's clients end up with: the figures the environment
// decides.
type resolved struct {
	Region, AccessKeyID, SecretAccessKey, SessionToken, AccountID string
	DynamoDB, SQS, SSM                                            string // base endpoints
	MaxAttempts                                                   int
	RetryMode                                                     aws.RetryMode
	AccountIDEndpointMode                                         aws.AccountIDEndpointMode
}

func resolve(t *testing.T, cfgFor func(Service) aws.Config) resolved {
	t.Helper()
	base := cfgFor(DynamoDB)
	creds, err := base.Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatalf("credentials: %v", err)
	}
	db := dynamodb.NewFromConfig(cfgFor(DynamoDB)).Options()
	q := sqs.NewFromConfig(cfgFor(SQS)).Options()
	ps := ssm.NewFromConfig(cfgFor(SSM)).Options()
	return resolved{
		Region: db.Region, AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey,
		SessionToken: creds.SessionToken, AccountID: creds.AccountID,
		DynamoDB: aws.ToString(db.BaseEndpoint), SQS: aws.ToString(q.BaseEndpoint), SSM: aws.ToString(ps.BaseEndpoint),
		MaxAttempts: db.RetryMaxAttempts, RetryMode: db.RetryMode, AccountIDEndpointMode: db.AccountIDEndpointMode,
	}
}

// TestMatchesSDK checks that awsclient reads region, credentials, endpoints and retry
// settings from the environment as the SDK's config.LoadDefaultConfig does (without
// shared config files), as the clients of each service see them.
func TestMatchesSDK(t *testing.T) {
	base := map[string]string{"AWS_REGION": "ap-southeast-3", "AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "SK"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == "" {
				delete(m, kv[i])
			} else {
				m[kv[i]] = kv[i+1]
			}
		}
		return m
	}
	tests := map[string]map[string]string{
		"plain Lambda environment": with("AWS_SESSION_TOKEN", "ST"),
		"region wins over default": with("AWS_DEFAULT_REGION", "eu-west-1"),
		"older key names":          with("AWS_ACCESS_KEY_ID", "", "AWS_SECRET_ACCESS_KEY", "", "AWS_ACCESS_KEY", "AK2", "AWS_SECRET_KEY", "SK2"),
		"new key names win":        with("AWS_ACCESS_KEY", "AK2", "AWS_SECRET_KEY", "SK2"),
		"account id":               with("AWS_ACCOUNT_ID", "222222222222", "AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled"),
		"global endpoint":          with("AWS_ENDPOINT_URL", "http://127.0.0.1:1"),
		"service endpoints win over the global one": with("AWS_ENDPOINT_URL", "http://127.0.0.1:1",
			"AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:2", "AWS_ENDPOINT_URL_SQS", "http://127.0.0.1:3"),
		"service endpoint alone": with("AWS_ENDPOINT_URL_SSM", "http://127.0.0.1:4"),
		"configured endpoints ignored": with("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true",
			"AWS_ENDPOINT_URL", "http://127.0.0.1:1", "AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:2"),
		"retries": with("AWS_MAX_ATTEMPTS", "7", "AWS_RETRY_MODE", "adaptive"),
	}
	for name, env := range tests {
		t.Run(name, func(t *testing.T) {
			clearAWSEnv(t)
			for k, v := range env {
				t.Setenv(k, v)
			}

			sdkCfg, err := config.LoadDefaultConfig(context.Background())
			if err != nil {
				t.Fatalf("LoadDefaultConfig: %v", err)
			}
			want := resolve(t, func(Service) aws.Config { return sdkCfg })

			var c Config
			if err := envconfig.Load(&c); err != nil {
				t.Fatal(err)
			}
			cfg, err := New(c)
			if err != nil {
				t.Fatal(err)
			}
			got := resolve(t, func(s Service) aws.Config { return c.For(cfg, s) })
			if got != want {
				t.Errorf("awsclient resolves\n%+v\nthe SDK\n%+v", got, want)
			}
		})
	}
}

// clearAWSEnv unsets every AWS_* variable for the test and keeps the SDK away from the
// machine's shared config files.
func clearAWSEnv(t *testing.T) {
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "AWS_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	missing := filepath.Join(t.TempDir(), "none")
	t.Setenv("AWS_CONFIG_FILE", missing)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", missing)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}
