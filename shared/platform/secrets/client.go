package secrets

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Client calls SSM's GetParameters over its JSON 1.1 API with a SigV4-signed request.
//
// It exists instead of the SDK's SSM client for the cold start: the service/ssm package
// costs a function 6-10 ms of package initialisation (docs/bench.md) for one call per
// cold start. It reads the same configuration: region, credentials and endpoint
// (awsclient applies AWS_ENDPOINT_URL_SSM as the config's BaseEndpoint).
type Client struct {
	endpoint string
	region   string
	creds    aws.CredentialsProvider
	http     *http.Client
	signer   *v4.Signer
	now      func() time.Time
}

// NewClient returns a client for the region, credentials and endpoint of cfg.
func NewClient(cfg aws.Config) *Client {
	endpoint := "https://ssm." + cfg.Region + ".amazonaws.com"
	if cfg.BaseEndpoint != nil && *cfg.BaseEndpoint != "" {
		endpoint = strings.TrimRight(*cfg.BaseEndpoint, "/")
	}
	return &Client{
		endpoint: endpoint,
		region:   cfg.Region,
		creds:    cfg.Credentials,
		http:     &http.Client{Timeout: 5 * time.Second},
		signer:   v4.NewSigner(),
		now:      time.Now,
	}
}

// maxAttempts bounds retries of throttling and server errors.
const maxAttempts = 3

// GetParameters returns the named parameters, decrypted. Names SSM does not know are
// simply absent from the answer, as in SSM's own API.
func (c *Client) GetParameters(ctx context.Context, names []string) ([]Parameter, error) {
	body, err := json.Marshal(map[string]any{"Names": names, "WithDecryption": true})
	if err != nil {
		return nil, err
	}
	var lastErr error
	for attempt := range maxAttempts {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(time.Duration(attempt*attempt) * 100 * time.Millisecond):
			}
		}
		params, retry, err := c.call(ctx, body)
		if err == nil {
			return params, nil
		}
		lastErr = err
		if !retry {
			break
		}
	}
	return nil, lastErr
}

// call makes one signed request; retry says whether the failure may pass on its own.
func (c *Client) call(ctx context.Context, body []byte) ([]Parameter, bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint+"/", bytes.NewReader(body))
	if err != nil {
		return nil, false, err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AmazonSSM.GetParameters")
	if c.creds == nil {
		return nil, false, errors.New("ssm: no credentials")
	}
	creds, err := c.creds.Retrieve(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("ssm credentials: %w", err)
	}
	sum := sha256.Sum256(body)
	if err := c.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "ssm", c.region, c.now()); err != nil {
		return nil, false, fmt.Errorf("sign ssm request: %w", err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, true, fmt.Errorf("ssm GetParameters: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, true, fmt.Errorf("ssm GetParameters: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(raw, &e)
		code := e.Type[strings.LastIndexByte(e.Type, '#')+1:]
		retry := resp.StatusCode >= 500 || strings.Contains(code, "Throttl")
		return nil, retry, fmt.Errorf("ssm GetParameters: %d %s: %s", resp.StatusCode, code, e.Message)
	}
	var out struct {
		Parameters []Parameter `json:"Parameters"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, false, fmt.Errorf("ssm GetParameters: %w", err)
	}
	return out.Parameters, false, nil
}
