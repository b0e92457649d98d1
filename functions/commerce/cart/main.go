// Command cart is CommerceCartFunction: buyers and guests put catalog products into a
// cart, directly or by redeeming a hand-off token from social, and a guest cart merges
// into the buyer's on login. It only wires; the cart package does the work.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/etalase/etalase/shared/commerce/cart"
	"github.com/etalase/etalase/shared/contract"
	"github.com/etalase/etalase/shared/platform/awsclient"
	"github.com/etalase/etalase/shared/platform/envconfig"
	"github.com/etalase/etalase/shared/platform/logging"
	"github.com/etalase/etalase/shared/platform/secrets"
)

// functionName tags every log line.
const functionName = "commerce-cart"

// initTimeout bounds the cold start's SSM read.
const initTimeout = 5 * time.Second

// Config is the function's whole environment, read once at cold start.
type Config struct {
	// Config is the SDK's part: region, credentials, endpoint overrides.
	awsclient.Config
	// CartTable is the CartTable's name.
	CartTable string `env:"CART_TABLE,required"`
	// CatalogTable is the CatalogTable's name (read only).
	CatalogTable string `env:"CATALOG_TABLE,required"`
	// HandoffPublicKeyParameter is the NAME of the SSM parameter holding social's
	// hand-off public key (PKIX PEM); the key itself is never in the environment.
	HandoffPublicKeyParameter string `env:"HANDOFF_PUBLIC_KEY_PARAMETER,required"`
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
func setup() (*cart.Handler, error) {
	var cfg Config
	if err := envconfig.Load(&cfg); err != nil {
		return nil, err
	}
	return setupFrom(cfg)
}

// setupFrom builds the handler from a loaded configuration: it reads social's public
// key from SSM once, here, and fails the cold start if it is missing or not a key.
func setupFrom(cfg Config) (*cart.Handler, error) {
	awsCfg, err := awsclient.New(cfg.Config)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), initTimeout)
	defer cancel()
	values, err := secrets.Fetch(ctx, secrets.NewClient(cfg.For(awsCfg, awsclient.SSM)), cfg.HandoffPublicKeyParameter)
	if err != nil {
		return nil, fmt.Errorf("hand-off public key: %w", err)
	}
	pub, err := contract.ParseHandoffPublicKeyPEM([]byte(values[cfg.HandoffPublicKeyParameter]))
	if err != nil {
		return nil, err
	}
	log := logging.New(os.Stdout, cfg.LogLevel, functionName)
	db := dynamodb.NewFromConfig(cfg.For(awsCfg, awsclient.DynamoDB))
	store := cart.NewDynamoStore(db, cfg.CartTable, cfg.CatalogTable)
	verifier := contract.HandoffVerifier{PublicKey: pub}
	return cart.NewHandler(cart.NewService(store, verifier), log), nil
}
