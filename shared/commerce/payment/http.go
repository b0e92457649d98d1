package payment

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
)

// MaxResponseBytes bounds how much of a provider's answer an adapter reads.
const MaxResponseBytes = 1 << 20

// Do sends one JSON API request to a provider that authenticates with HTTP Basic auth of
// the key and an empty password (Midtrans' server key, Xendit's secret key), and returns
// the status and body. Transport failures are ErrUnavailable; the key never appears in
// an error.
func Do(ctx context.Context, client *http.Client, method, url, key string, body []byte) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return 0, nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(key+":")))
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes))
	if err != nil {
		return 0, nil, fmt.Errorf("%w: read response: %w", ErrUnavailable, err)
	}
	return resp.StatusCode, data, nil
}
