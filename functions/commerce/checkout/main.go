// Command checkout is CommerceCheckoutFunction: a buyer's cart becomes an order (stock
// reserved, cart closed, audit ledger and outbox written in one transaction; the relay
// schedules its expiry from the outbox) and its payment session opened. It only wires;
// the checkout and orders packages do the work.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
	"github.com/etalase/etalase/shared/platform/awsclient/dynamoconn"
	"github.com/etalase/etalase/shared/platform/envconfig"
	"github.com/etalase/etalase/shared/platform/httpapi"
	"github.com/etalase/etalase/shared/platform/idempotency"
	"github.com/etalase/etalase/shared/platform/logging"
	"github.com/etalase/etalase/shared/platform/secrets"
)

// functionName tags every log line.
const functionName = "commerce-checkout"

// secretsTimeout bounds the SSM read of the providers' keys.
const secretsTimeout = 5 * time.Second

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
func setup() (*handler, error) {
	var cfg Config
	if err := envconfig.Load(&cfg); err != nil {
		return nil, err
	}
	return setupFrom(cfg)
}

// standIn replaces a provider key while the configuration is checked at cold start.
const standIn = "stand-in key"

// setupFrom builds the handler from a loaded configuration. The providers' keys are
// read from SSM, in one request, in the background from here on, while the function
// starts; every request needs them, so the first one waits for them (handler).
func setupFrom(cfg Config) (*handler, error) {
	if cfg.PaymentWindowSeconds < 1 {
		return nil, errors.New("PAYMENT_WINDOW_SECONDS must be positive")
	}
	awsCfg, err := awsclient.New(cfg.Config)
	if err != nil {
		return nil, err
	}
	keys := secrets.NewLazy(secrets.NewClient(cfg.For(awsCfg, awsclient.SSM)), secretsTimeout,
		cfg.MidtransServerKeyParameter, cfg.XenditSecretKeyParameter)
	keys.Prefetch()
	log := logging.New(os.Stdout, cfg.LogLevel, functionName)
	db := dynamodb.NewFromConfig(cfg.For(awsCfg, awsclient.DynamoDB))
	dynamoconn.Preconnect(db) // the first request's connection, opened in the background
	store := orders.NewStore(db, orders.Tables{
		Orders: cfg.OrdersTable, Catalog: cfg.CatalogTable, Cart: cfg.CartTable,
		Ledger: cfg.LedgerTable, Outbox: cfg.OutboxTable,
	})
	keeper, err := idempotency.NewDynamoStore(db, cfg.IdempotencyTable)
	if err != nil {
		return nil, err
	}
	idem := idempotency.NewMiddleware(keeper, log)
	httpClient := &http.Client{Timeout: providerTimeout}
	newHandler := func(keys map[string]string) (*checkout.Handler, error) {
		mt, err := midtrans.New(midtrans.Config{ServerKey: keys[cfg.MidtransServerKeyParameter], SnapBaseURL: cfg.MidtransSnapBaseURL, HTTPClient: httpClient})
		if err != nil {
			return nil, err
		}
		xd, err := xendit.New(xendit.Config{SecretKey: keys[cfg.XenditSecretKeyParameter], BaseURL: cfg.XenditBaseURL, HTTPClient: httpClient})
		if err != nil {
			return nil, err
		}
		providers := map[string]payment.SessionCreator{order.ProviderMidtrans: mt, order.ProviderXendit: xd}
		svc, err := checkout.NewService(store, providers, time.Duration(cfg.PaymentWindowSeconds)*time.Second, log,
			checkout.WithStorefront(cfg.StorefrontURL))
		if err != nil {
			return nil, err
		}
		return checkout.NewHandler(svc, idem, log), nil
	}
	// The rest of the configuration (the providers' URLs) is checked now, with stand-in
	// keys, so that a wrong one still fails the cold start.
	if _, err := newHandler(map[string]string{cfg.MidtransServerKeyParameter: standIn, cfg.XenditSecretKeyParameter: standIn}); err != nil {
		return nil, err
	}
	return &handler{build: secrets.Derive(keys, newHandler), log: log}, nil
}

// handler is the Lambda handler: the checkout handler, built when the providers' keys
// are here. Without them a request is answered 500 before anything is read or written
// (no order is placed that could not be paid), and the next one reads them again.
type handler struct {
	build func(context.Context) (*checkout.Handler, error)
	log   *slog.Logger
}

// Handle serves one request.
func (h *handler) Handle(ctx context.Context, req httpapi.Request) (httpapi.Response, error) {
	inner, err := h.build(ctx)
	if err != nil {
		return httpapi.ErrorResponse(ctx, h.log.With("routeKey", req.RouteKey), fmt.Errorf("payment provider keys: %w", err)), nil
	}
	return inner.Handle(ctx, req)
}
