// Command payments is CommercePaymentsFunction: it consumes PaymentEventsQueue (SQS
// FIFO) and applies each verified provider notification to its order through the order
// state machine, reporting partial batch failures. It only wires; the payments and
// orders packages do the work.
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/etalase/etalase/shared/commerce/ledger"
	"github.com/etalase/etalase/shared/commerce/orders"
	"github.com/etalase/etalase/shared/commerce/paymentevents"
	"github.com/etalase/etalase/shared/commerce/payments"
	"github.com/etalase/etalase/shared/platform/awsclient"
	"github.com/etalase/etalase/shared/platform/awsclient/dynamoconn"
	"github.com/etalase/etalase/shared/platform/envconfig"
	"github.com/etalase/etalase/shared/platform/logging"
)

// functionName tags every log line.
const functionName = "commerce-payments"

// Config is the function's whole environment, read once at cold start.
type Config struct {
	// Config is the SDK's part: region, credentials, endpoint overrides.
	awsclient.Config
	// OrdersTable, CatalogTable, LedgerTable and OutboxTable are what a transition
	// writes: the order, the released stock, the ledger entry, the outbox records.
	OrdersTable  string `env:"ORDERS_TABLE,required"`
	CatalogTable string `env:"CATALOG_TABLE,required"`
	LedgerTable  string `env:"LEDGER_TABLE,required"`
	OutboxTable  string `env:"OUTBOX_TABLE,required"`
	// PaymentEventsTable holds the stored notifications, marked once processed.
	PaymentEventsTable string `env:"PAYMENT_EVENTS_TABLE,required"`
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
func setup() (*payments.Handler, error) {
	var cfg Config
	if err := envconfig.Load(&cfg); err != nil {
		return nil, err
	}
	return setupFrom(cfg)
}

// setupFrom builds the handler from a loaded configuration.
func setupFrom(cfg Config) (*payments.Handler, error) {
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
	applier := payments.NewApplier(store, ledger.NewDynamoStore(db, cfg.LedgerTable, cfg.OrdersTable), log)
	return payments.NewHandler(applier, paymentevents.NewStore(db, cfg.PaymentEventsTable), log), nil
}
