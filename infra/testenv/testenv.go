// Package testenv connects integration tests to the local emulators that a
// runner started (`make test`, or `go run ./infra/cmd/etalase env -- go test ./...`).
//
// The runner hands the emulators over in the environment:
// ETALASE_DYNAMODB_ENDPOINT and ETALASE_SQS_ENDPOINT hold their URLs, and
// ETALASE_REQUIRE_EMULATORS=1 makes a test that finds no endpoints fail instead
// of skip. A plain `go test ./...` without the runner skips integration tests.
//
// Tests of many packages share one emulator pair and run in parallel, so each
// test names its tables and queues with Prefix.
//
// Accounts: DynamoDB Local keeps a separate database per access key id, so
// DynamoDB(t, localaccount.Social) and DynamoDB(t, localaccount.Commerce) see
// different tables, as two AWS accounts would. The SQS emulator (fauxqs) has no
// accounts: both clients see the same queues, queue URLs and ARNs always carry
// account 000000000000, and queue names must be unique across both accounts.
package testenv

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/etalase/etalase/infra/emulator"
	"github.com/etalase/etalase/infra/localaccount"
)

// SkipMessage is the reason an integration test skips without emulators.
const SkipMessage = "integration test: no emulators (run `make test`, which starts DynamoDB Local and the SQS emulator)"

// Endpoints returns the DynamoDB and SQS endpoint URLs of the running
// emulators. Without them the test skips, or fails when
// ETALASE_REQUIRE_EMULATORS=1.
func Endpoints(t testing.TB) (dynamo, sqs string) {
	t.Helper()
	dynamo = os.Getenv(emulator.EnvDynamoDBEndpoint)
	sqs = os.Getenv(emulator.EnvSQSEndpoint)
	if dynamo != "" && sqs != "" {
		return dynamo, sqs
	}
	if os.Getenv(emulator.EnvRequireEmulators) == "1" {
		t.Fatalf("integration test: %s=1 but %s=%q and %s=%q: run the tests through `make test` or `go run ./infra/cmd/etalase env -- go test ./...`",
			emulator.EnvRequireEmulators, emulator.EnvDynamoDBEndpoint, dynamo, emulator.EnvSQSEndpoint, sqs)
		return "", ""
	}
	t.Skip(SkipMessage)
	return "", ""
}

// AWSConfig returns an SDK configuration for acct: its static credentials and
// localaccount.Region. It reads no shared config or credentials files and no
// AWS_* environment variables, and sets no endpoint (see DynamoDB and SQS).
func AWSConfig(t testing.TB, acct localaccount.Account) aws.Config {
	t.Helper()
	if acct.AccessKeyID == "" {
		t.Fatalf("testenv.AWSConfig: account %+v has no access key id", acct)
	}
	cfg := aws.NewConfig()
	cfg.Region = localaccount.Region
	cfg.Credentials = aws.NewCredentialsCache(
		credentials.NewStaticCredentialsProvider(acct.AccessKeyID, acct.SecretAccessKey, ""))
	return *cfg
}

// DynamoDB returns a DynamoDB client of acct pointing at DynamoDB Local. The
// test skips or fails as in Endpoints when the emulators are not running.
func DynamoDB(t testing.TB, acct localaccount.Account) *dynamodb.Client {
	t.Helper()
	endpoint, _ := Endpoints(t)
	return dynamodb.NewFromConfig(AWSConfig(t, acct), func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(endpoint)
	})
}

// SQS returns an SQS client of acct pointing at the SQS emulator. The test
// skips or fails as in Endpoints when the emulators are not running.
func SQS(t testing.TB, acct localaccount.Account) *sqs.Client {
	t.Helper()
	_, endpoint := Endpoints(t)
	return sqs.NewFromConfig(AWSConfig(t, acct), func(o *sqs.Options) {
		o.BaseEndpoint = aws.String(endpoint)
	})
}

// Prefix returns a fresh prefix for the names of one test's tables and
// queues, such as "t1f2e3d4c5b6a-": a letter, 12 random hex digits and a
// hyphen (14 characters), valid at the start of DynamoDB table names and of
// SQS queue names (standard and .fifo). It logs the prefix.
func Prefix(t testing.TB) string {
	t.Helper()
	var b [6]byte
	rand.Read(b[:]) // crypto/rand.Read never fails
	p := "t" + hex.EncodeToString(b[:]) + "-"
	t.Logf("testenv: resource name prefix %s", p)
	return p
}
