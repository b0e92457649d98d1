// Command promotion is SocialPromotionFunction: creators create, pause and end
// promotions and read their earnings; anyone reads the feed and a promotion and takes a
// hand-off token to buy in commerce. It only wires; the promotion package does the work.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/etalase/etalase/shared/contract"
	"github.com/etalase/etalase/shared/platform/awsclient"
	"github.com/etalase/etalase/shared/platform/envconfig"
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
	// Ed25519 hand-off signing key (PKCS #8 PEM); the value is read at cold start.
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

// setup reads the configuration and the signing key and builds the handler.
func setup() (*promotion.Handler, error) {
	var cfg Config
	if err := envconfig.Load(&cfg); err != nil {
		return nil, err
	}
	awsCfg, err := awsclient.New(cfg.Config)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	name := cfg.HandoffPrivateKeyParameter
	vals, err := secrets.Fetch(ctx, secrets.NewClient(cfg.For(awsCfg, awsclient.SSM)), name)
	if err != nil {
		return nil, fmt.Errorf("hand-off signing key: %w", err)
	}
	return setupFrom(cfg, []byte(vals[name]))
}

// setupFrom builds the handler from a loaded configuration and the signing key's PEM.
func setupFrom(cfg Config, keyPEM []byte) (*promotion.Handler, error) {
	priv, err := contract.ParseHandoffPrivateKeyPEM(keyPEM)
	if err != nil {
		return nil, err
	}
	sign, err := promotion.NewSigner(priv)
	if err != nil {
		return nil, err
	}
	awsCfg, err := awsclient.New(cfg.Config)
	if err != nil {
		return nil, err
	}
	log := logging.New(os.Stdout, cfg.LogLevel, functionName)
	db := dynamodb.NewFromConfig(cfg.For(awsCfg, awsclient.DynamoDB))
	ledger := commission.NewLedger(commission.NewDynamoStore(db, cfg.CommissionsTable), nil)
	svc := promotion.NewService(promotion.NewDynamoStore(db, cfg.PromotionsTable),
		snapshot.NewDynamoStore(db, cfg.SnapshotsTable), ledger, sign)
	return promotion.NewHandler(svc, log), nil
}
