package awsclient

import (
	"context"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// PreconnectTimeout bounds a Preconnect.
const PreconnectTimeout = 5 * time.Second

// Preconnect opens, in the background, the connection a client's first request will
// use: an unauthenticated GET of the service endpoint through the client's own HTTP
// client, whose connection then waits in that client's pool. It returns at once; any
// failure is ignored (the first request then connects as it would have).
//
// A function's first request otherwise pays for the connection itself: locally a TCP
// connection and the net/http machinery set up on first use, in AWS also DNS, the TLS
// handshake and, on Go's first certificate check, loading the system's root
// certificates (the benchmark's tlsroots reference: 10-60 ms). Started at cold start,
// all of that overlaps the rest of the start-up and the runtime's first
// invocation/next instead; when Lambda initialises an environment ahead of its first
// invocation, it is off the request's path entirely. DynamoDB answers GET / with
// "healthy: dynamodb.<region>.amazonaws.com", free of charge and without credentials.
// dynamoconn and sqsconn resolve the endpoints exactly as the clients' requests do.
func Preconnect(hc aws.HTTPClient, endpoint string) {
	if hc == nil || endpoint == "" {
		return
	}
	go preconnect(hc, endpoint)
}

// preconnect is Preconnect's request, synchronous.
func preconnect(hc aws.HTTPClient, endpoint string) {
	ctx, cancel := context.WithTimeout(context.Background(), PreconnectTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return
	}
	resp, err := hc.Do(req)
	if err != nil {
		return
	}
	// Read to the end (a short error document at most) so that the connection goes
	// back to the pool.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
}
