// Package localtest starts the real template.yaml through the local runner for
// end-to-end tests: real function processes, both accounts, the HTTP API on a free
// 127.0.0.1 port, and fresh tables and queues under a unique prefix per test.
package localtest

import (
	"context"
	"io"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/etalase/etalase/infra/localrun"
	"github.com/etalase/etalase/infra/testenv"
)

// Root is the repository root.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", ".."))
}

// Log collects the runner's output (function logs, REPORT lines) for assertions.
type Log struct {
	mu sync.Mutex
	sb strings.Builder
	t  testing.TB
}

// Write implements io.Writer; with -v it also copies lines to the test log.
func (l *Log) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if testing.Verbose() {
		l.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return l.sb.Write(p)
}

// String returns everything written so far.
func (l *Log) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sb.String()
}

// Start runs template.yaml locally for the test and stops it at cleanup. It needs the
// emulators (testenv): it fails under make test without them and skips elsewhere.
func Start(t testing.TB) (*localrun.Runner, *Log) {
	t.Helper()
	return StartWith(t, localrun.Options{})
}

// StartWith is Start with options; empty fields get the test defaults.
func StartWith(t testing.TB, o localrun.Options) (*localrun.Runner, *Log) {
	t.Helper()
	dynamoURL, sqsURL := testenv.Endpoints(t)
	root := Root()
	log := &Log{t: t}
	if o.Root == "" {
		o.Root = root
	}
	if o.Template == "" {
		o.Template = filepath.Join(root, "template.yaml")
		if o.Params == nil {
			// The same local values as make dev: providers point at the payment sandbox.
			params, err := localrun.LoadParams(filepath.Join(root, localrun.ParamsFile))
			if err != nil {
				t.Fatal(err)
			}
			o.Params = params
		}
	}
	o.DynamoDBEndpoint, o.SQSEndpoint = dynamoURL, sqsURL
	if o.Listener == nil && o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	if o.Prefix == "" {
		o.Prefix = testenv.Prefix(t)
	}
	if o.BinDir == "" {
		o.BinDir = t.TempDir() // per test: a shared folder would be rewritten under running processes
	}
	if o.Log == nil {
		o.Log = log
	} else {
		o.Log = io.MultiWriter(o.Log, log)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	r, err := localrun.Start(ctx, o)
	if err != nil {
		t.Fatalf("start the local runner: %v", err)
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Errorf("stop the local runner: %v", err)
		}
	})
	return r, log
}
