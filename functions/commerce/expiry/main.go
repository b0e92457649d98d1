// Command expiry is CommerceExpiryFunction: it consumes ExpiryQueue and, at an unpaid
// order's deadline, moves it to EXPIRED and releases its stock in one transaction,
// exactly once; a message that arrives before the deadline is sent again. It only
// wires; the expiry and orders packages do the work.
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/etalase/etalase/shared/commerce/expiry"
	"github.com/etalase/etalase/shared/commerce/orders"
	"github.com/etalase/etalase/shared/platform/awsclient"
	"github.com/etalase/etalase/shared/platform/awsclient/dynamoconn"
	"github.com/etalase/etalase/shared/platform/envconfig"
	"github.com/etalase/etalase/shared/platform/logging"
)

// functionName tags every log line.
const functionName = "commerce-expiry"

// Config is the function's whole environment, read once at cold start.
type Config struct {
	// Config is the SDK's part: region, credentials, endpoint overrides.
	awsclient.Config
	// Table names.
	OrdersTable  string `env:"ORDERS_TABLE,required"`
	CatalogTable string `env:"CATALOG_TABLE,required"`
	LedgerTable  string `env:"LEDGER_TABLE,required"`
	OutboxTable  string `env:"OUTBOX_TABLE,required"`
	// ExpiryQueueURL is ExpiryQueue's URL, where early messages go again.
	ExpiryQueueURL string `env:"EXPIRY_QUEUE_URL,required"`
	// LogLevel is DEBUG, INFO, WARN or ERROR.
	LogLevel string `env:"LOG_LEVEL" default:"INFO"`
}

func main() {
	h, err := setup()
	if err != nil {
		// An init failure: Lambda reports it and retries the cold start.
		logging.New(os.Stderr, "ERROR", functionName).Error("init failed", "error", err)
		os.Exit(1)
	}
	lambda.Start(h.Handle)
}

// setup reads the configuration and builds the handler.
func setup() (*expiry.Handler, error) {
	var cfg Config
	if err := envconfig.Load(&cfg); err != nil {
		return nil, err
	}
	return setupFrom(cfg)
}

// setupFrom builds the handler from a loaded configuration.
func setupFrom(cfg Config) (*expiry.Handler, error) {
	awsCfg, err := awsclient.New(cfg.Config)
	if err != nil {
		return nil, err
	}
	log := logging.New(os.Stdout, cfg.LogLevel, functionName)
	db := dynamodb.NewFromConfig(cfg.For(awsCfg, awsclient.DynamoDB))
	dynamoconn.Preconnect(db) // the first request's connection, opened in the background
	store := orders.NewStore(db, orders.Tables{
		Orders: cfg.OrdersTable, Catalog: cfg.CatalogTable, Ledger: cfg.LedgerTable, Outbox: cfg.OutboxTable,
	})
	sched := expiry.NewScheduler(sqs.NewFromConfig(cfg.For(awsCfg, awsclient.SQS)), cfg.ExpiryQueueURL, nil)
	return expiry.NewHandler(store, sched, log, nil), nil
}
