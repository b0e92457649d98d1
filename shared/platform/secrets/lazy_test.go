package secrets_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/etalase/etalase/shared/platform/secrets"
)

// gatedSSM answers like fakeSSM once release is closed (or at once when it is nil),
// failing the first failures calls, and counts calls.
type gatedSSM struct {
	params   map[string]string
	release  chan struct{}
	failures int32
	calls    atomic.Int32
}

func (g *gatedSSM) GetParameters(ctx context.Context, names []string) ([]secrets.Parameter, error) {
	n := g.calls.Add(1)
	if g.release != nil {
		select {
		case <-g.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if n <= g.failures {
		return nil, errors.New("ThrottlingException")
	}
	var out []secrets.Parameter
	for _, name := range names {
		if v, ok := g.params[name]; ok {
			out = append(out, secrets.Parameter{Name: name, Value: v})
		}
	}
	return out, nil
}

func TestLazyReadsOnceOnFirstNeed(t *testing.T) {
	g := &gatedSSM{params: map[string]string{"/a": "1", "/b": "2"}}
	l := secrets.NewLazy(g, time.Second, "/a", "/b")
	if g.calls.Load() != 0 {
		t.Fatal("read before anything needed the values")
	}
	for range 3 {
		v, err := l.Get(context.Background())
		if err != nil || v["/a"] != "1" || v["/b"] != "2" {
			t.Fatalf("Get = %v, %v", v, err)
		}
	}
	l.Prefetch()
	if n := g.calls.Load(); n != 1 {
		t.Errorf("%d reads, want 1", n)
	}
}

func TestLazyPrefetchIsShared(t *testing.T) {
	g := &gatedSSM{params: map[string]string{"/a": "1"}, release: make(chan struct{})}
	l := secrets.NewLazy(g, time.Second, "/a")
	l.Prefetch()
	l.Prefetch()
	var wg sync.WaitGroup
	errs := make(chan error, 5)
	for range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := l.Get(context.Background())
			if err == nil && v["/a"] != "1" {
				err = errors.New("wrong value")
			}
			errs <- err
		}()
	}
	time.Sleep(10 * time.Millisecond)
	close(g.release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := g.calls.Load(); n != 1 {
		t.Errorf("%d reads, want 1 shared by prefetch and every waiter", n)
	}
}

func TestLazyFailureIsNotKept(t *testing.T) {
	g := &gatedSSM{params: map[string]string{"/a": "1"}, failures: 3}
	l := secrets.NewLazy(g, time.Second, "/a")
	if _, err := l.Get(context.Background()); err == nil {
		t.Fatal("the first read failed, Get did not say so")
	}
	l.Prefetch() // a failed read leaves nothing in progress: this reads again
	for i := 0; ; i++ {
		v, err := l.Get(context.Background())
		if err == nil {
			if v["/a"] != "1" {
				t.Fatalf("Get = %v", v)
			}
			break
		}
		if i > 5 {
			t.Fatalf("still failing after %d reads: %v", g.calls.Load(), err)
		}
	}
	if n := g.calls.Load(); n != 4 {
		t.Errorf("%d reads, want 4 (3 failures, then one that is kept)", n)
	}
	// A missing parameter is an error too, and is not kept.
	l = secrets.NewLazy(&gatedSSM{}, time.Second, "/gone")
	if _, err := l.Get(context.Background()); !errors.Is(err, secrets.ErrNotFound) {
		t.Errorf("missing parameter: err = %v, want ErrNotFound", err)
	}
}

func TestLazyGetHonoursItsContext(t *testing.T) {
	g := &gatedSSM{params: map[string]string{"/a": "1"}, release: make(chan struct{})}
	l := secrets.NewLazy(g, time.Second, "/a")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := l.Get(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the context's", err)
	}
	close(g.release) // the read went on without the request that started it
	if v, err := l.Get(context.Background()); err != nil || v["/a"] != "1" {
		t.Errorf("Get after = %v, %v", v, err)
	}
	if n := g.calls.Load(); n != 1 {
		t.Errorf("%d reads, want 1", n)
	}
}

func TestDerive(t *testing.T) {
	g := &gatedSSM{params: map[string]string{"/k": "key"}}
	l := secrets.NewLazy(g, time.Second, "/k")
	builds := 0
	fail := true
	get := secrets.Derive(l, func(v map[string]string) (string, error) {
		builds++
		if fail {
			return "", errors.New("not a key")
		}
		return "parsed " + v["/k"], nil
	})
	if _, err := get(context.Background()); err == nil {
		t.Fatal("a failed build was not reported")
	}
	fail = false
	for range 3 {
		if v, err := get(context.Background()); err != nil || v != "parsed key" {
			t.Fatalf("get = %q, %v", v, err)
		}
	}
	if builds != 2 {
		t.Errorf("%d builds, want 2 (a failed one, then one that is kept)", builds)
	}
}
