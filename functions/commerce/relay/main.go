// Command relay is CommerceRelayFunction: it publishes the records of commerce's
// transactional outbox, which the OutboxTable stream delivers, to the social inbox queue
// in the social account, schedules each new order's expiry on ExpiryQueue, and
// refreshes social's display snapshots of products whose stock an order changed
// (reading them from CatalogTable). It only wires; the relay package does the work.
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/etalase/etalase/shared/commerce/relay"
	"github.com/etalase/etalase/shared/contract/schemacheck"
	"github.com/etalase/etalase/shared/platform/awsclient"
	"github.com/etalase/etalase/shared/platform/awsclient/dynamoconn"
	"github.com/etalase/etalase/shared/platform/awsclient/sqsconn"
	"github.com/etalase/etalase/shared/platform/envconfig"
	"github.com/etalase/etalase/shared/platform/logging"
)

// functionName tags every log line.
const functionName = "commerce-relay"

// Config is the function's whole environment, read once at cold start.
type Config struct {
	// Config is the SDK's part: region, credentials, endpoint overrides.
	awsclient.Config
	// SocialInboxQueueURL is the social account's inbox queue.
	SocialInboxQueueURL string `env:"SOCIAL_INBOX_QUEUE_URL,required"`
	// ExpiryQueueURL is ExpiryQueue's URL: each OrderCreated record's expiry message.
	ExpiryQueueURL string `env:"EXPIRY_QUEUE_URL,required"`
	// CatalogTable is read for the current display snapshot of products whose stock
	// an order reserved or released.
	CatalogTable string `env:"CATALOG_TABLE,required"`
	// LogLevel is DEBUG, INFO, WARN or ERROR.
	LogLevel string `env:"LOG_LEVEL" default:"INFO"`
}

func main() {
	h, err := setup()
	if err != nil {
		logging.New(os.Stderr, "ERROR", functionName).Error("init failed", "error", err)
		os.Exit(1)
	}
	lambda.Start(h.Handle)
}

// setup reads the configuration and builds the handler.
func setup() (*relay.Handler, error) {
	var cfg Config
	if err := envconfig.Load(&cfg); err != nil {
		return nil, err
	}
	return setupFrom(cfg)
}

// setupFrom builds the handler from a loaded configuration.
func setupFrom(cfg Config) (*relay.Handler, error) {
	awsCfg, err := awsclient.New(cfg.Config)
	if err != nil {
		return nil, err
	}
	v, err := schemacheck.New()
	if err != nil {
		return nil, err
	}
	log := logging.New(os.Stdout, cfg.LogLevel, functionName)
	client := sqs.NewFromConfig(cfg.For(awsCfg, awsclient.SQS))
	sqsconn.Preconnect(client)
	db := dynamodb.NewFromConfig(cfg.For(awsCfg, awsclient.DynamoDB))
	dynamoconn.Preconnect(db) // the first request's connection, opened in the background
	return relay.NewHandler(client, cfg.SocialInboxQueueURL, v, log,
		relay.WithExpiryQueue(cfg.ExpiryQueueURL), relay.WithStockSnapshots(db, cfg.CatalogTable))
}
