// Command catalog is CommerceCatalogFunction: sellers create and change products and
// stock, anyone reads a product. It only wires; the catalog package does the work.
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/etalase/etalase/shared/commerce/catalog"
	"github.com/etalase/etalase/shared/platform/awsclient"
	"github.com/etalase/etalase/shared/platform/awsclient/dynamoconn"
	"github.com/etalase/etalase/shared/platform/envconfig"
	"github.com/etalase/etalase/shared/platform/logging"
)

// functionName tags every log line.
const functionName = "commerce-catalog"

// Config is the function's whole environment, read once at cold start.
type Config struct {
	// Config is the SDK's part: region, credentials, endpoint overrides.
	awsclient.Config
	// CatalogTable is the CatalogTable's name.
	CatalogTable string `env:"CATALOG_TABLE,required"`
	// OutboxTable is the OutboxTable's name.
	OutboxTable string `env:"OUTBOX_TABLE,required"`
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
func setup() (*catalog.Handler, error) {
	var cfg Config
	if err := envconfig.Load(&cfg); err != nil {
		return nil, err
	}
	return setupFrom(cfg)
}

// setupFrom builds the handler from a loaded configuration.
func setupFrom(cfg Config) (*catalog.Handler, error) {
	awsCfg, err := awsclient.New(cfg.Config)
	if err != nil {
		return nil, err
	}
	log := logging.New(os.Stdout, cfg.LogLevel, functionName)
	db := dynamodb.NewFromConfig(cfg.For(awsCfg, awsclient.DynamoDB))
	dynamoconn.Preconnect(db) // the first request's connection, opened in the background
	store := catalog.NewDynamoStore(db, cfg.CatalogTable, cfg.OutboxTable)
	return catalog.NewHandler(catalog.NewService(store), log), nil
}
