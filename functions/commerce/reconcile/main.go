// Command reconcile is CommerceReconcileFunction: every few minutes it asks Midtrans and
// Xendit about orders still pending payment and applies their answers through the order
// state machine, which catches a webhook that never came. It only wires; the reconcile,
// payments and orders packages do the work.
package main

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
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
	"github.com/etalase/etalase/shared/platform/awsclient/dynamoconn"
	"github.com/etalase/etalase/shared/platform/envconfig"
	"github.com/etalase/etalase/shared/platform/logging"
	"github.com/etalase/etalase/shared/platform/secrets"
)

// functionName tags every log line.
const functionName = "commerce-reconcile"

// secretsTimeout bounds the SSM read of the providers' API keys.
const secretsTimeout = 5 * time.Second

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
func setup() (*handler, error) {
	var cfg Config
	if err := envconfig.Load(&cfg); err != nil {
		return nil, err
	}
	return setupFrom(cfg)
}

// standIn replaces a provider key while the configuration is checked at cold start.
const standIn = "stand-in key"

// setupFrom builds the handler from a loaded configuration. The providers' API keys
// are read from SSM, in one request, only when a run first asks a provider about an
// order: most runs find none to ask about.
func setupFrom(cfg Config) (*handler, error) {
	awsCfg, err := awsclient.New(cfg.Config)
	if err != nil {
		return nil, err
	}
	keys := secrets.NewLazy(secrets.NewClient(cfg.For(awsCfg, awsclient.SSM)), secretsTimeout,
		cfg.MidtransServerKeyParameter, cfg.XenditSecretKeyParameter)
	newProviders := func(keys map[string]string) (map[string]payment.StatusChecker, error) {
		mt, err := midtrans.New(midtrans.Config{ServerKey: keys[cfg.MidtransServerKeyParameter], APIBaseURL: cfg.MidtransAPIBaseURL})
		if err != nil {
			return nil, err
		}
		xd, err := xendit.New(xendit.Config{SecretKey: keys[cfg.XenditSecretKeyParameter], BaseURL: cfg.XenditBaseURL})
		if err != nil {
			return nil, err
		}
		return map[string]payment.StatusChecker{order.ProviderMidtrans: mt, order.ProviderXendit: xd}, nil
	}
	// The rest of the configuration (the providers' URLs) is checked now, with stand-in
	// keys, so that a wrong one still fails the cold start.
	if _, err := newProviders(map[string]string{cfg.MidtransServerKeyParameter: standIn, cfg.XenditSecretKeyParameter: standIn}); err != nil {
		return nil, err
	}
	h := &handler{providers: secrets.Derive(keys, newProviders)}
	log := logging.New(os.Stdout, cfg.LogLevel, functionName)
	db := dynamodb.NewFromConfig(cfg.For(awsCfg, awsclient.DynamoDB))
	dynamoconn.Preconnect(db) // the first request's connection, opened in the background
	store := orders.NewStore(db, orders.Tables{
		Orders: cfg.OrdersTable, Catalog: cfg.CatalogTable, Ledger: cfg.LedgerTable, Outbox: cfg.OutboxTable,
	})
	led := ledger.NewDynamoStore(db, cfg.LedgerTable, cfg.OrdersTable)
	h.r, err = reconcile.New(reconcile.Config{
		Orders: reconcile.NewDynamoPending(db, cfg.OrdersTable),
		Providers: map[string]payment.StatusChecker{
			order.ProviderMidtrans: lazyChecker{h, order.ProviderMidtrans},
			order.ProviderXendit:   lazyChecker{h, order.ProviderXendit},
		},
		Applier:   payments.NewApplier(store, led, log),
		Ledger:    led,
		After:     cfg.After,
		MaxOrders: cfg.MaxOrders,
		Log:       log,
	})
	if err != nil {
		return nil, err
	}
	return h, nil
}

// handler is the Lambda handler: one reconcile run, whose providers are built when
// the run first asks one about an order. If their keys cannot be read, no provider is
// asked in that run (each order counts as failed, nothing is changed) and the run
// fails, so that Lambda reports and retries it; the next run reads the keys again.
type handler struct {
	r         *reconcile.Reconciler
	providers func(context.Context) (map[string]payment.StatusChecker, error)

	mu      sync.Mutex
	keysErr error // this run's failure to read the keys
}

// Handle is one run.
func (h *handler) Handle(ctx context.Context, ev events.EventBridgeEvent) (reconcile.Summary, error) {
	h.setKeysErr(nil)
	s, err := h.r.Handle(ctx, ev)
	if kerr := h.getKeysErr(); err == nil && kerr != nil {
		err = fmt.Errorf("payment provider keys: %w", kerr)
	}
	return s, err
}

func (h *handler) setKeysErr(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.keysErr = err
}

func (h *handler) getKeysErr() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.keysErr
}

// lazyChecker is one provider, built on its first status query.
type lazyChecker struct {
	h    *handler
	name string
}

// Status asks the provider, once its keys are read.
func (c lazyChecker) Status(ctx context.Context, q payment.StatusQuery) (payment.Notification, error) {
	if err := c.h.getKeysErr(); err != nil {
		return payment.Notification{}, fmt.Errorf("payment provider keys: %w", err)
	}
	ps, err := c.h.providers(ctx)
	if err != nil {
		c.h.setKeysErr(err)
		return payment.Notification{}, fmt.Errorf("payment provider keys: %w", err)
	}
	return ps[c.name].Status(ctx, q)
}
