// Command orders is CommerceOrdersFunction: a buyer lists, reads and cancels their own
// orders, and an auditor reads an order's audit ledger with its verification. It only
// wires; the orders and ledger packages do the work.
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/etalase/etalase/shared/commerce/ledger"
	"github.com/etalase/etalase/shared/commerce/orders"
	"github.com/etalase/etalase/shared/platform/awsclient"
	"github.com/etalase/etalase/shared/platform/awsclient/dynamoconn"
	"github.com/etalase/etalase/shared/platform/envconfig"
	"github.com/etalase/etalase/shared/platform/logging"
)

// functionName tags every log line.
const functionName = "commerce-orders"

// Config is the function's whole environment, read once at cold start.
type Config struct {
	// Config is the SDK's part: region, credentials, endpoint overrides.
	awsclient.Config
	// Table names. The catalog is written only to release a cancelled order's stock.
	OrdersTable  string `env:"ORDERS_TABLE,required"`
	CatalogTable string `env:"CATALOG_TABLE,required"`
	LedgerTable  string `env:"LEDGER_TABLE,required"`
	OutboxTable  string `env:"OUTBOX_TABLE,required"`
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
func setup() (*orders.Handler, error) {
	var cfg Config
	if err := envconfig.Load(&cfg); err != nil {
		return nil, err
	}
	return setupFrom(cfg)
}

// setupFrom builds the handler from a loaded configuration.
func setupFrom(cfg Config) (*orders.Handler, error) {
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
	audit := ledger.NewAuditHandler(ledger.NewDynamoStore(db, cfg.LedgerTable, cfg.OrdersTable))
	return orders.NewHandler(store, audit, log), nil
}
