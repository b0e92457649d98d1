// Command handlererror is a test Lambda function whose handler always fails: it returns
// a ValidationError, or, when the payload's "stream" is true, streams a response that
// breaks with a StreamError.
package main

import (
	"context"
	"io"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"
)

// ValidationError is the error the handler returns; aws-lambda-go reports its type name
// as the errorType.
type ValidationError struct{ Field string }

func (e *ValidationError) Error() string { return "invalid field " + e.Field }

// StreamError is the error the streamed response breaks with.
type StreamError struct{}

func (*StreamError) Error() string { return "stream broke" }

// brokenReader yields some bytes, then fails.
type brokenReader struct{ r io.Reader }

func (b *brokenReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err == io.EOF {
		return n, &StreamError{}
	}
	return n, err
}

type request struct {
	Stream bool `json:"stream"`
}

func main() {
	lambda.Start(func(_ context.Context, in request) (any, error) {
		if in.Stream {
			return &brokenReader{r: strings.NewReader("partial")}, nil
		}
		return nil, &ValidationError{Field: "sku"}
	})
}
