// Command checkout is CommerceCheckoutFunction: a buyer's cart becomes an order (stock
// reserved, cart closed, audit ledger and outbox written in one transaction; the relay
// schedules its expiry from the outbox) and its payment session opened. It only wires;
// the checkout and orders packages do the work.
package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/etalase/etalase/shared/commerce/checkout"
	"github.com/etalase/etalase/shared/commerce/order"
	"github.com/etalase/etalase/shared/commerce/orders"
	"github.com/etalase/etalase/shared/commerce/payment"
	"github.com/etalase/etalase/shared/commerce/payment/midtrans"
	"github.com/etalase/etalase/shared/commerce/payment/xendit"
	"github.com/etalase/etalase/shared/platform/awsclient"
	"github.com/etalase/etalase/shared/platform/envconfig"
	"github.com/etalase/etalase/shared/platform/idempotency"
	"github.com/etalase/etalase/shared/platform/logging"
	"github.com/etalase/etalase/shared/platform/secrets"
)

// functionName tags every log line.
const functionName = "commerce-checkout"

// initTimeout bounds the cold start's SSM read.
const initTimeout = 5 * time.Second

// providerTimeout bounds one call to a payment provider, well inside the function's
// timeout, so that a provider outage still leaves time to answer 201.
const providerTimeout = 5 * time.Second

// Config is the function's whole environment, read once at cold start.
type Config struct {
	// Config is the SDK's part: region, credentials, endpoint overrides.
	awsclient.Config
	// Table names.
	OrdersTable      string `env:"ORDERS_TABLE,required"`
	CatalogTable     string `env:"CATALOG_TABLE,required"`
	CartTable        string `env:"CART_TABLE,required"`
	LedgerTable      string `env:"LEDGER_TABLE,required"`
	OutboxTable      string `env:"OUTBOX_TABLE,required"`
	IdempotencyTable string `env:"IDEMPOTENCY_TABLE,required"`
	// PaymentWindowSeconds is how long an order waits for its payment.
	PaymentWindowSeconds int `env:"PAYMENT_WINDOW_SECONDS,required"`
	// MidtransServerKeyParameter and XenditSecretKeyParameter are the NAMES of the SSM
	// parameters holding the providers' keys; the keys are never in the environment.
	MidtransServerKeyParameter string `env:"MIDTRANS_SERVER_KEY_PARAMETER,required"`
	XenditSecretKeyParameter   string `env:"XENDIT_SECRET_KEY_PARAMETER,required"`
	// MidtransSnapBaseURL and XenditBaseURL are the providers' API hosts.
	MidtransSnapBaseURL string `env:"MIDTRANS_SNAP_BASE_URL,required"`
	XenditBaseURL       string `env:"XENDIT_BASE_URL,required"`
	// StorefrontURL is the storefront's origin, where providers send the buyer back.
	StorefrontURL string `env:"STOREFRONT_URL"`
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
func setup() (*checkout.Handler, error) {
	var cfg Config
	if err := envconfig.Load(&cfg); err != nil {
		return nil, err
	}
	return setupFrom(cfg)
}

// setupFrom builds the handler from a loaded configuration: it reads the providers'
// keys from SSM once, here, and fails the cold start if one is missing.
func setupFrom(cfg Config) (*checkout.Handler, error) {
	if cfg.PaymentWindowSeconds < 1 {
		return nil, errors.New("PAYMENT_WINDOW_SECONDS must be positive")
	}
	awsCfg, err := awsclient.New(cfg.Config)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), initTimeout)
	defer cancel()
	keys, err := secrets.Fetch(ctx, secrets.NewClient(cfg.For(awsCfg, awsclient.SSM)), cfg.MidtransServerKeyParameter, cfg.XenditSecretKeyParameter)
	if err != nil {
		return nil, fmt.Errorf("payment provider keys: %w", err)
	}
	httpClient := &http.Client{Timeout: providerTimeout}
	mt, err := midtrans.New(midtrans.Config{ServerKey: keys[cfg.MidtransServerKeyParameter], SnapBaseURL: cfg.MidtransSnapBaseURL, HTTPClient: httpClient})
	if err != nil {
		return nil, err
	}
	xd, err := xendit.New(xendit.Config{SecretKey: keys[cfg.XenditSecretKeyParameter], BaseURL: cfg.XenditBaseURL, HTTPClient: httpClient})
	if err != nil {
		return nil, err
	}
	log := logging.New(os.Stdout, cfg.LogLevel, functionName)
	db := dynamodb.NewFromConfig(cfg.For(awsCfg, awsclient.DynamoDB))
	store := orders.NewStore(db, orders.Tables{
		Orders: cfg.OrdersTable, Catalog: cfg.CatalogTable, Cart: cfg.CartTable,
		Ledger: cfg.LedgerTable, Outbox: cfg.OutboxTable,
	})
	keeper, err := idempotency.NewDynamoStore(db, cfg.IdempotencyTable)
	if err != nil {
		return nil, err
	}
	providers := map[string]payment.SessionCreator{order.ProviderMidtrans: mt, order.ProviderXendit: xd}
	svc, err := checkout.NewService(store, providers, time.Duration(cfg.PaymentWindowSeconds)*time.Second, log,
		checkout.WithStorefront(cfg.StorefrontURL))
	if err != nil {
		return nil, err
	}
	return checkout.NewHandler(svc, idempotency.NewMiddleware(keeper, log), log), nil
}
