// Command paymentwebhook is CommercePaymentWebhookFunction: the endpoints Midtrans and
// Xendit send payment notifications to. It verifies each one, checks it against its
// order, stores it once and enqueues it for the payments consumer, and answers fast. It
// only wires; the webhook package does the work.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/etalase/etalase/shared/commerce/ledger"
	"github.com/etalase/etalase/shared/commerce/payment/midtrans"
	"github.com/etalase/etalase/shared/commerce/payment/xendit"
	"github.com/etalase/etalase/shared/commerce/paymentevents"
	"github.com/etalase/etalase/shared/commerce/paymentevents/eventqueue"
	"github.com/etalase/etalase/shared/commerce/webhook"
	"github.com/etalase/etalase/shared/platform/awsclient"
	"github.com/etalase/etalase/shared/platform/awsclient/dynamoconn"
	"github.com/etalase/etalase/shared/platform/awsclient/sqsconn"
	"github.com/etalase/etalase/shared/platform/envconfig"
	"github.com/etalase/etalase/shared/platform/httpapi"
	"github.com/etalase/etalase/shared/platform/logging"
	"github.com/etalase/etalase/shared/platform/secrets"
)

// functionName tags every log line.
const functionName = "commerce-paymentwebhook"

// secretsTimeout bounds the SSM read of the providers' secrets.
const secretsTimeout = 5 * time.Second

// Config is the function's whole environment, read once at cold start.
type Config struct {
	// Config is the SDK's part: region, credentials, endpoint overrides.
	awsclient.Config
	// OrdersTable is read for the order's total; its items also hold the ledger head.
	OrdersTable string `env:"ORDERS_TABLE,required"`
	// LedgerTable receives notification_rejected entries.
	LedgerTable string `env:"LEDGER_TABLE,required"`
	// PaymentEventsTable stores each notification once.
	PaymentEventsTable string `env:"PAYMENT_EVENTS_TABLE,required"`
	// PaymentEventsQueueURL is the FIFO queue of the payments consumer.
	PaymentEventsQueueURL string `env:"PAYMENT_EVENTS_QUEUE_URL,required"`
	// MidtransServerKeyParameter and XenditCallbackTokenParameter are the NAMES of the
	// SSM parameters holding the secrets that authenticate notifications.
	MidtransServerKeyParameter   string `env:"MIDTRANS_SERVER_KEY_PARAMETER,required"`
	XenditCallbackTokenParameter string `env:"XENDIT_CALLBACK_TOKEN_PARAMETER,required"`
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
func setup() (*handler, error) {
	var cfg Config
	if err := envconfig.Load(&cfg); err != nil {
		return nil, err
	}
	return setupFrom(cfg)
}

// setupFrom builds the handler from a loaded configuration. Both providers' secrets
// are read from SSM, in one request, in the background from here on, while the function
// starts; every notification needs them, so the first one waits for them (handler).
func setupFrom(cfg Config) (*handler, error) {
	awsCfg, err := awsclient.New(cfg.Config)
	if err != nil {
		return nil, err
	}
	keys := secrets.NewLazy(secrets.NewClient(cfg.For(awsCfg, awsclient.SSM)), secretsTimeout,
		cfg.MidtransServerKeyParameter, cfg.XenditCallbackTokenParameter)
	keys.Prefetch()
	log := logging.New(os.Stdout, cfg.LogLevel, functionName)
	db := dynamodb.NewFromConfig(cfg.For(awsCfg, awsclient.DynamoDB))
	dynamoconn.Preconnect(db) // the first request's connection, opened in the background
	q := sqs.NewFromConfig(cfg.For(awsCfg, awsclient.SQS))
	sqsconn.Preconnect(q)
	build := secrets.Derive(keys, func(values map[string]string) (*webhook.Handler, error) {
		mt, err := midtrans.New(midtrans.Config{ServerKey: values[cfg.MidtransServerKeyParameter]})
		if err != nil {
			return nil, err
		}
		xd, err := xendit.New(xendit.Config{CallbackToken: values[cfg.XenditCallbackTokenParameter]})
		if err != nil {
			return nil, err
		}
		return webhook.NewHandler(webhook.Config{
			Midtrans: mt,
			Xendit:   xd,
			Orders:   webhook.NewDynamoOrders(db, cfg.OrdersTable),
			Events:   paymentevents.NewStore(db, cfg.PaymentEventsTable),
			Queue:    eventqueue.New(q, cfg.PaymentEventsQueueURL),
			Ledger:   ledger.NewDynamoStore(db, cfg.LedgerTable, cfg.OrdersTable),
			Log:      log,
		})
	})
	return &handler{build: build, log: log}, nil
}

// handler is the Lambda handler: the webhook handler, built when the providers'
// secrets are here. Without them a notification is answered 500 before anything is
// read or stored (the provider retries), and the next one reads them again.
type handler struct {
	build func(context.Context) (*webhook.Handler, error)
	log   *slog.Logger
}

// Handle serves one notification.
func (h *handler) Handle(ctx context.Context, req httpapi.Request) (httpapi.Response, error) {
	inner, err := h.build(ctx)
	if err != nil {
		return httpapi.ErrorResponse(ctx, h.log.With("routeKey", req.RouteKey), fmt.Errorf("payment secrets: %w", err)), nil
	}
	return inner.Handle(ctx, req)
}
