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
	"github.com/etalase/etalase/shared/platform/awsclient/dynamoconn"
	"github.com/etalase/etalase/shared/platform/envconfig"
	"github.com/etalase/etalase/shared/platform/logging"
	"github.com/etalase/etalase/shared/platform/secrets"
)

// functionName tags every log line.
const functionName = "commerce-cart"

// secretsTimeout bounds the SSM read of social's public key.
const secretsTimeout = 5 * time.Second

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

// setupFrom builds the handler from a loaded configuration. Social's public key is
// read from SSM only when a hand-off token is first redeemed (handoffVerifier): the
// cart's other requests never need it.
func setupFrom(cfg Config) (*cart.Handler, error) {
	awsCfg, err := awsclient.New(cfg.Config)
	if err != nil {
		return nil, err
	}
	keys := secrets.NewLazy(secrets.NewClient(cfg.For(awsCfg, awsclient.SSM)), secretsTimeout, cfg.HandoffPublicKeyParameter)
	log := logging.New(os.Stdout, cfg.LogLevel, functionName)
	db := dynamodb.NewFromConfig(cfg.For(awsCfg, awsclient.DynamoDB))
	dynamoconn.Preconnect(db) // the first request's connection, opened in the background
	store := cart.NewDynamoStore(db, cfg.CartTable, cfg.CatalogTable)
	return cart.NewHandler(cart.NewService(store, handoffVerifier(keys, cfg.HandoffPublicKeyParameter)), log), nil
}

// handoffVerifier verifies hand-off tokens with social's public key, read from the
// parameter when a token first needs it and kept. If the key cannot be read or parsed,
// Verify fails with an error that is not a token problem, which the cart answers with
// a 500 (and the next token tries again).
func handoffVerifier(keys *secrets.Lazy, parameter string) cart.Verifier {
	return lazyVerifier{get: secrets.Derive(keys, func(v map[string]string) (contract.HandoffVerifier, error) {
		pub, err := contract.ParseHandoffPublicKeyPEM([]byte(v[parameter]))
		if err != nil {
			return contract.HandoffVerifier{}, err
		}
		return contract.HandoffVerifier{PublicKey: pub}, nil
	})}
}

type lazyVerifier struct {
	get func(context.Context) (contract.HandoffVerifier, error)
}

// Verify waits for the key at most secretsTimeout (Verify has no context).
func (v lazyVerifier) Verify(token string) (contract.HandoffClaims, error) {
	verifier, err := v.get(context.Background())
	if err != nil {
		return contract.HandoffClaims{}, fmt.Errorf("read social's public key: %w", err)
	}
	return verifier.Verify(token)
}
