package secrets

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Lazy reads a function's parameters once and keeps them, off the cold start's path:
// Prefetch starts the read in the background while the rest of the start-up goes on,
// and the first request that needs the values waits for it (Get). A request that does
// not need them does not wait at all.
//
// A failed read is not kept: the request that needed it gets the error (a function
// maps it to a 5xx) and the next Get reads again. Before, a failed read failed the
// cold start; now it fails the requests that need the values, until a read succeeds.
type Lazy struct {
	client  GetParametersAPI
	names   []string
	timeout time.Duration

	mu     sync.Mutex
	values map[string]string
	read   *read // the read in progress, if any
}

// read is one Fetch, shared by every caller that waits for it.
type read struct {
	done   chan struct{}
	values map[string]string
	err    error
}

// NewLazy returns a Lazy for the named parameters. Each read is bounded by timeout.
func NewLazy(client GetParametersAPI, timeout time.Duration, names ...string) *Lazy {
	return &Lazy{client: client, names: names, timeout: timeout}
}

// Prefetch starts reading now, in the background, unless the values are already here
// or a read is in progress.
func (l *Lazy) Prefetch() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.values == nil && l.read == nil {
		l.startLocked()
	}
}

// Get returns the values, keyed by name as given, reading them first if no read
// succeeded yet (or waiting for the read in progress). It returns early, with ctx's
// error, if ctx ends first; the read goes on for the next caller.
func (l *Lazy) Get(ctx context.Context) (map[string]string, error) {
	l.mu.Lock()
	if l.values != nil {
		v := l.values
		l.mu.Unlock()
		return v, nil
	}
	r := l.read
	if r == nil {
		r = l.startLocked()
	}
	l.mu.Unlock()
	select {
	case <-r.done:
	case <-ctx.Done():
		return nil, fmt.Errorf("ssm parameters: %w", ctx.Err())
	}
	if r.err != nil {
		return nil, r.err
	}
	return r.values, nil
}

// startLocked starts a read; l.mu is held.
func (l *Lazy) startLocked() *read {
	r := &read{done: make(chan struct{})}
	l.read = r
	go func() {
		// Not the request's context: a read outlives the request that started it,
		// for the next one, and is bounded by its own timeout.
		ctx, cancel := context.WithTimeout(context.Background(), l.timeout)
		defer cancel()
		values, err := Fetch(ctx, l.client, l.names...)
		l.mu.Lock()
		r.values, r.err = values, err
		if err == nil {
			l.values = values
		}
		l.read = nil
		l.mu.Unlock()
		close(r.done)
	}()
	return r
}

// Derive returns a function that builds a T from l's values (a parsed key, a client
// holding one) the first time it is called with the values at hand, and returns the
// same T after. A failed read or build is not kept: the next call tries again.
func Derive[T any](l *Lazy, build func(values map[string]string) (T, error)) func(ctx context.Context) (T, error) {
	var (
		mu    sync.Mutex
		built bool
		value T
	)
	return func(ctx context.Context) (T, error) {
		mu.Lock()
		if built {
			defer mu.Unlock()
			return value, nil
		}
		mu.Unlock()
		values, err := l.Get(ctx)
		if err != nil {
			var zero T
			return zero, err
		}
		mu.Lock()
		defer mu.Unlock()
		if !built {
			v, err := build(values)
			if err != nil {
				var zero T
				return zero, err
			}
			value, built = v, true
		}
		return value, nil
	}
}
