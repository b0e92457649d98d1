// Command inbox is SocialInboxFunction: it consumes the social inbox queue and applies
// commerce's catalog events to display snapshots and its sale events to the commission
// ledger. It only wires; the inbox package does the work.
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/etalase/etalase/shared/platform/awsclient"
	"github.com/etalase/etalase/shared/platform/awsclient/dynamoconn"
	"github.com/etalase/etalase/shared/platform/envconfig"
	"github.com/etalase/etalase/shared/platform/logging"
	"github.com/etalase/etalase/shared/social/commission"
	"github.com/etalase/etalase/shared/social/inbox"
	"github.com/etalase/etalase/shared/social/promotion"
	"github.com/etalase/etalase/shared/social/snapshot"
)

// functionName tags every log line.
const functionName = "social-inbox"

// Config is the function's whole environment, read once at cold start.
type Config struct {
	// Config is the SDK's part: region, credentials, endpoint overrides.
	awsclient.Config
	// PromotionsTable, SnapshotsTable and CommissionsTable are the tables' names.
	PromotionsTable  string `env:"PROMOTIONS_TABLE,required"`
	SnapshotsTable   string `env:"SNAPSHOTS_TABLE,required"`
	CommissionsTable string `env:"COMMISSIONS_TABLE,required"`
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
func setup() (*inbox.Handler, error) {
	var cfg Config
	if err := envconfig.Load(&cfg); err != nil {
		return nil, err
	}
	return setupFrom(cfg)
}

// setupFrom builds the handler from a loaded configuration.
func setupFrom(cfg Config) (*inbox.Handler, error) {
	awsCfg, err := awsclient.New(cfg.Config)
	if err != nil {
		return nil, err
	}
	log := logging.New(os.Stdout, cfg.LogLevel, functionName)
	db := dynamodb.NewFromConfig(cfg.For(awsCfg, awsclient.DynamoDB))
	dynamoconn.Preconnect(db) // the first request's connection, opened in the background
	snapshots := snapshot.NewDynamoStore(db, cfg.SnapshotsTable)
	promotions := promotion.NewDynamoStore(db, cfg.PromotionsTable)
	ledger := commission.NewLedger(commission.NewDynamoStore(db, cfg.CommissionsTable), promotions)
	svc := promotion.NewService(promotions, snapshots, ledger, nil)
	return inbox.NewHandler(snapshots, svc, ledger, log), nil
}
