// Package secrets reads a function's secrets (signing keys, payment provider keys) from
// SSM Parameter Store, once, at cold start, through its own small signed client (Client)
// rather than the SDK's SSM package, which would cost every cold start 6-10 ms.
//
// The template passes each function the NAME of its SSM parameters, never a value, and
// grants ssm:GetParameters on exactly those parameters. Locally the runner serves an SSM
// emulator (AWS_ENDPOINT_URL_SSM) with per-account stores, so the same code runs in both
// places.
package secrets

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// MaxBatch is the most names one GetParameters call accepts.
const MaxBatch = 10

// GetParametersAPI is what Fetch needs of SSM: GetParameters of up to MaxBatch names,
// with decryption. Client implements it.
type GetParametersAPI interface {
	GetParameters(ctx context.Context, names []string) ([]Parameter, error)
}

// Parameter is one parameter SSM returned.
type Parameter struct {
	Name     string `json:"Name"`
	Value    string `json:"Value"`
	ARN      string `json:"ARN"`
	Selector string `json:"Selector"`
}

var _ GetParametersAPI = (*Client)(nil)

// ErrNotFound is what a MissingError matches with errors.Is.
var ErrNotFound = errors.New("ssm parameter not found")

// MissingError names every requested parameter that SSM did not return: it does not
// exist in this account, or (in AWS) the function may not read it.
type MissingError struct {
	// Names are the missing parameter names, in the order they were asked for.
	Names []string
}

func (e *MissingError) Error() string {
	return "ssm parameters not found: " + strings.Join(e.Names, ", ")
}

// Unwrap makes errors.Is(err, ErrNotFound) true.
func (e *MissingError) Unwrap() error { return ErrNotFound }

// Fetch returns the decrypted value of every named parameter, keyed by the name as
// given. It asks for at most MaxBatch names per call. If any parameter is missing, it
// returns a *MissingError naming all of them and no values.
func Fetch(ctx context.Context, client GetParametersAPI, names ...string) (map[string]string, error) {
	var unique []string
	seen := map[string]bool{}
	for _, n := range names {
		if n == "" {
			return nil, errors.New("ssm parameters: empty parameter name")
		}
		if !seen[n] {
			seen[n] = true
			unique = append(unique, n)
		}
	}
	values := make(map[string]string, len(unique))
	for start := 0; start < len(unique); start += MaxBatch {
		batch := unique[start:min(start+MaxBatch, len(unique))]
		params, err := client.GetParameters(ctx, batch)
		if err != nil {
			return nil, fmt.Errorf("get ssm parameters: %w", err)
		}
		asked := map[string]bool{}
		for _, n := range batch {
			asked[n] = true
		}
		for _, p := range params {
			// SSM answers with the plain name; a name asked with a version or label
			// selector (name:3) comes back with the selector apart, one asked by ARN
			// has that ARN.
			for _, key := range []string{p.Name, p.Name + p.Selector, p.ARN} {
				if asked[key] {
					values[key] = p.Value
				}
			}
		}
	}
	var missing []string
	for _, n := range unique {
		if _, ok := values[n]; !ok {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return nil, &MissingError{Names: missing}
	}
	return values, nil
}
