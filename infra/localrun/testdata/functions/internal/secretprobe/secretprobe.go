// Package secretprobe lets test-only functions show which SSM parameters they can read,
// with the real SDK client and shared/platform/secrets, as a real function reads them.
// It answers with a SHA-256 of each value, never the value.
package secretprobe

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/etalase/etalase/shared/platform/awsclient"
	"github.com/etalase/etalase/shared/platform/envconfig"
	"github.com/etalase/etalase/shared/platform/secrets"
)

// Run fetches OWN_PARAMETERS (comma-separated) and PEER_PARAMETER at cold start and
// serves the outcome over HTTP.
func Run() {
	var c awsclient.Config
	if err := envconfig.Load(&c); err != nil {
		panic(err)
	}
	cfg, err := awsclient.New(c)
	if err != nil {
		panic(err)
	}
	client := secrets.NewClient(c.For(cfg, awsclient.SSM))
	ctx := context.Background()
	result := map[string]any{}
	own, err := secrets.Fetch(ctx, client, strings.Split(os.Getenv("OWN_PARAMETERS"), ",")...)
	if err != nil {
		result["ownError"] = err.Error()
	}
	hashes := map[string]string{}
	for name, v := range own {
		sum := sha256.Sum256([]byte(v))
		hashes[name] = hex.EncodeToString(sum[:])
	}
	result["own"] = hashes
	_, err = secrets.Fetch(ctx, client, os.Getenv("PEER_PARAMETER"))
	var me *secrets.MissingError
	result["peerMissing"] = errors.As(err, &me)
	if err != nil {
		result["peerError"] = err.Error()
	}
	body, _ := json.Marshal(result)
	lambda.Start(func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return events.APIGatewayV2HTTPResponse{StatusCode: 200, Headers: map[string]string{"content-type": "application/json"}, Body: string(body)}, nil
	})
}
