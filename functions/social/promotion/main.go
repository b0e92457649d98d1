// Command promotion is SocialPromotionFunction: creators create, pause and end
// promotions and read their earnings; anyone reads the feed and a promotion and takes a
// hand-off token to buy in commerce. It only wires; the promotion package does the work.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/etalase/etalase/shared/contract"
	"github.com/etalase/etalase/shared/platform/awsclient"
	"github.com/etalase/etalase/shared/platform/awsclient/dynamoconn"
	"github.com/etalase/etalase/shared/platform/envconfig"
	"github.com/etalase/etalase/shared/platform/httpapi"
	"github.com/etalase/etalase/shared/platform/logging"
	"github.com/etalase/etalase/shared/platform/secrets"
	"github.com/etalase/etalase/shared/social/commission"
	"github.com/etalase/etalase/shared/social/promotion"
	"github.com/etalase/etalase/shared/social/snapshot"
)

// functionName tags every log line.
const functionName = "social-promotion"

// Config is the function's whole environment, read once at cold start.
type Config struct {
	// Config is the SDK's part: region, credentials, endpoint overrides.
	awsclient.Config
	// PromotionsTable, SnapshotsTable and CommissionsTable are the tables' names.
	PromotionsTable  string `env:"PROMOTIONS_TABLE,required"`
	SnapshotsTable   string `env:"SNAPSHOTS_TABLE,required"`
	CommissionsTable string `env:"COMMISSIONS_TABLE,required"`
	// HandoffPrivateKeyParameter is the NAME of the SSM SecureString holding social's
	// Ed25519 hand-off signing key (PKCS #8 PEM); the value is read from SSM when a
	// token is first issued.
	HandoffPrivateKeyParameter string `env:"HANDOFF_PRIVATE_KEY_PARAMETER,required"`
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

// secretsTimeout bounds the SSM read of the signing key.
const secretsTimeout = 5 * time.Second

// setup reads the configuration and builds the handler. The signing key is read from
// SSM only when a hand-off token is first issued (handoffSigner): the function's other
// requests never need it.
func setup() (*handler, error) {
	var cfg Config
	if err := envconfig.Load(&cfg); err != nil {
		return nil, err
	}
	awsCfg, err := awsclient.New(cfg.Config)
	if err != nil {
		return nil, err
	}
	name := cfg.HandoffPrivateKeyParameter
	keys := secrets.NewLazy(secrets.NewClient(cfg.For(awsCfg, awsclient.SSM)), secretsTimeout, name)
	sign, ready := handoffSigner(keys, name)
	log := logging.New(os.Stdout, cfg.LogLevel, functionName)
	return &handler{inner: setupFrom(cfg, awsCfg, sign, log), signerReady: ready, log: log}, nil
}

// setupFrom builds the promotion handler from a loaded configuration and the token
// signer.
func setupFrom(cfg Config, awsCfg aws.Config, sign promotion.Signer, log *slog.Logger) *promotion.Handler {
	db := dynamodb.NewFromConfig(cfg.For(awsCfg, awsclient.DynamoDB))
	dynamoconn.Preconnect(db) // the first request's connection, opened in the background
	ledger := commission.NewLedger(commission.NewDynamoStore(db, cfg.CommissionsTable), nil)
	svc := promotion.NewService(promotion.NewDynamoStore(db, cfg.PromotionsTable),
		snapshot.NewDynamoStore(db, cfg.SnapshotsTable), ledger, sign)
	return promotion.NewHandler(svc, log)
}

// handler is the Lambda handler: a hand-off first waits for the signing key, so that
// without one it is answered 500 before anything (its click) is counted.
type handler struct {
	inner       *promotion.Handler
	signerReady func(context.Context) error
	log         *slog.Logger
}

// Handle serves one request.
func (h *handler) Handle(ctx context.Context, req httpapi.Request) (httpapi.Response, error) {
	if req.RouteKey == promotion.RouteHandoff {
		if err := h.signerReady(ctx); err != nil {
			return httpapi.ErrorResponse(ctx, h.log.With("routeKey", req.RouteKey), err), nil
		}
	}
	return h.inner.Handle(ctx, req)
}

// handoffSigner signs hand-off tokens with social's private key (PKCS #8 PEM), read
// from the parameter when first needed and kept; ready waits for it. If the key cannot
// be read or parsed, both fail, and the next call tries again.
func handoffSigner(keys *secrets.Lazy, parameter string) (sign promotion.Signer, ready func(context.Context) error) {
	get := secrets.Derive(keys, func(v map[string]string) (promotion.Signer, error) {
		priv, err := contract.ParseHandoffPrivateKeyPEM([]byte(v[parameter]))
		if err != nil {
			return nil, err
		}
		return promotion.NewSigner(priv)
	})
	sign = func(c contract.HandoffClaims, now time.Time) (string, error) {
		s, err := get(context.Background())
		if err != nil {
			return "", fmt.Errorf("hand-off signing key: %w", err)
		}
		return s(c, now)
	}
	ready = func(ctx context.Context) error {
		if _, err := get(ctx); err != nil {
			return fmt.Errorf("hand-off signing key: %w", err)
		}
		return nil
	}
	return sign, ready
}
