// Command reconcile is CommerceReconcileFunction: every few minutes it asks Midtrans and
// Xendit about orders still pending payment and applies their answers through the order
// state machine, which catches a webhook that never came. It only wires; the reconcile,
// payments and orders packages do the work.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/etalase/etalase/shared/commerce/ledger"
	"github.com/etalase/etalase/shared/commerce/order"
	"github.com/etalase/etalase/shared/commerce/orders"
	"github.com/etalase/etalase/shared/commerce/payment"
	"github.com/etalase/etalase/shared/commerce/payment/midtrans"
	"github.com/etalase/etalase/shared/commerce/payment/xendit"
	"github.com/etalase/etalase/shared/commerce/payments"
	"github.com/etalase/etalase/shared/commerce/reconcile"
	"github.com/etalase/etalase/shared/platform/awsclient"
	"github.com/etalase/etalase/shared/platform/envconfig"
	"github.com/etalase/etalase/shared/platform/logging"
	"github.com/etalase/etalase/shared/platform/secrets"
)

// functionName tags every log line.
const functionName = "commerce-reconcile"

// initTimeout bounds the cold start's SSM read.
const initTimeout = 5 * time.Second

// Config is the function's whole environment, read once at cold start.
type Config struct {
	// Config is the SDK's part: region, credentials, endpoint overrides.
	awsclient.Config
	// OrdersTable is swept (byStatusDeadline) and, with the others, written by a
	// transition.
	OrdersTable  string `env:"ORDERS_TABLE,required"`
	CatalogTable string `env:"CATALOG_TABLE,required"`
	LedgerTable  string `env:"LEDGER_TABLE,required"`
	OutboxTable  string `env:"OUTBOX_TABLE,required"`
	// MidtransServerKeyParameter and XenditSecretKeyParameter are the NAMES of the SSM
	// parameters holding the providers' API keys.
	MidtransServerKeyParameter string `env:"MIDTRANS_SERVER_KEY_PARAMETER,required"`
	XenditSecretKeyParameter   string `env:"XENDIT_SECRET_KEY_PARAMETER,required"`
	// MidtransAPIBaseURL and XenditBaseURL are the providers' API hosts.
	MidtransAPIBaseURL string `env:"MIDTRANS_API_BASE_URL,required"`
	XenditBaseURL      string `env:"XENDIT_BASE_URL,required"`
	// After is how long an order waits for its webhook before the provider is asked.
	After time.Duration `env:"RECONCILE_AFTER" default:"10m"`
	// MaxOrders bounds one run.
	MaxOrders int `env:"RECONCILE_MAX_ORDERS" default:"25"`
	// LogLevel is DEBUG, INFO, WARN or ERROR.
	LogLevel string `env:"LOG_LEVEL" default:"INFO"`
}

func main() {
	r, err := setup()
	if err != nil {
		logging.New(os.Stderr, "ERROR", functionName).Error("init failed", "error", err)
		os.Exit(1)
	}
	lambda.Start(r.Handle)
}

// setup reads the configuration and builds the handler.
func setup() (*reconcile.Reconciler, error) {
	var cfg Config
	if err := envconfig.Load(&cfg); err != nil {
		return nil, err
	}
	return setupFrom(cfg)
}

// setupFrom builds the handler from a loaded configuration: it reads both providers'
// API keys from SSM once, here, and fails the cold start without them.
func setupFrom(cfg Config) (*reconcile.Reconciler, error) {
	awsCfg, err := awsclient.New(cfg.Config)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), initTimeout)
	defer cancel()
	values, err := secrets.Fetch(ctx, secrets.NewClient(cfg.For(awsCfg, awsclient.SSM)),
		cfg.MidtransServerKeyParameter, cfg.XenditSecretKeyParameter)
	if err != nil {
		return nil, fmt.Errorf("payment secrets: %w", err)
	}
	mt, err := midtrans.New(midtrans.Config{ServerKey: values[cfg.MidtransServerKeyParameter], APIBaseURL: cfg.MidtransAPIBaseURL})
	if err != nil {
		return nil, err
	}
	xd, err := xendit.New(xendit.Config{SecretKey: values[cfg.XenditSecretKeyParameter], BaseURL: cfg.XenditBaseURL})
	if err != nil {
		return nil, err
	}
	log := logging.New(os.Stdout, cfg.LogLevel, functionName)
	db := dynamodb.NewFromConfig(cfg.For(awsCfg, awsclient.DynamoDB))
	store := orders.NewStore(db, orders.Tables{
		Orders: cfg.OrdersTable, Catalog: cfg.CatalogTable, Ledger: cfg.LedgerTable, Outbox: cfg.OutboxTable,
	})
	led := ledger.NewDynamoStore(db, cfg.LedgerTable, cfg.OrdersTable)
	return reconcile.New(reconcile.Config{
		Orders:    reconcile.NewDynamoPending(db, cfg.OrdersTable),
		Providers: map[string]payment.StatusChecker{order.ProviderMidtrans: mt, order.ProviderXendit: xd},
		Applier:   payments.NewApplier(store, led, log),
		Ledger:    led,
		After:     cfg.After,
		MaxOrders: cfg.MaxOrders,
		Log:       log,
	})
}
