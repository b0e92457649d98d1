package secrets_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/etalase/etalase/shared/platform/secrets"
)

// fakeSSM answers GetParameters from a map, as SSM does: found ones in Parameters,
// the rest in InvalidParameters, and it refuses more than ten names.
type fakeSSM struct {
	params map[string]string
	calls  [][]string
	err    error
}

func (f *fakeSSM) GetParameters(_ context.Context, names []string) ([]secrets.Parameter, error) {
	f.calls = append(f.calls, names)
	if f.err != nil {
		return nil, f.err
	}
	if len(names) > 10 {
		return nil, fmt.Errorf("ValidationException: %d names", len(names))
	}
	var out []secrets.Parameter
	for _, n := range names {
		name, selector, _ := strings.Cut(n, ":")
		if v, ok := f.params[name]; ok {
			p := secrets.Parameter{Name: name, Value: v}
			if selector != "" {
				p.Selector = ":" + selector
			}
			out = append(out, p)
		}
	}
	return out, nil
}

func TestFetch(t *testing.T) {
	many := map[string]string{}
	var manyNames []string
	for i := range 25 {
		n := fmt.Sprintf("/p/%02d", i)
		many[n] = "v" + n
		manyNames = append(manyNames, n)
	}
	tests := []struct {
		name        string
		params      map[string]string
		ask         []string
		want        map[string]string
		wantCalls   []int // names per call
		wantMissing []string
	}{
		{"one", map[string]string{"/a": "1"}, []string{"/a"}, map[string]string{"/a": "1"}, []int{1}, nil},
		{"none asked", nil, nil, map[string]string{}, nil, nil},
		{"duplicates asked once", map[string]string{"/a": "1", "/b": "2"}, []string{"/a", "/b", "/a"}, map[string]string{"/a": "1", "/b": "2"}, []int{2}, nil},
		{"batches of at most ten", many, manyNames, many, []int{10, 10, 5}, nil},
		{"version selector", map[string]string{"/a": "1"}, []string{"/a:1"}, map[string]string{"/a:1": "1"}, []int{1}, nil},
		{"every missing one named, across batches", many, append([]string{"/gone/1"}, append(manyNames[:12:12], "/gone/2")...), nil, []int{10, 4}, []string{"/gone/1", "/gone/2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeSSM{params: tt.params}
			got, err := secrets.Fetch(context.Background(), f, tt.ask...)
			var calls []int
			for _, c := range f.calls {
				calls = append(calls, len(c))
			}
			if diff := cmp.Diff(tt.wantCalls, calls); diff != "" {
				t.Errorf("names per call (-want +got):\n%s", diff)
			}
			if tt.wantMissing != nil {
				var me *secrets.MissingError
				if !errors.As(err, &me) || !errors.Is(err, secrets.ErrNotFound) {
					t.Fatalf("err = %v, want a MissingError", err)
				}
				if diff := cmp.Diff(tt.wantMissing, me.Names); diff != "" {
					t.Errorf("missing (-want +got):\n%s", diff)
				}
				for _, n := range tt.wantMissing {
					if !strings.Contains(err.Error(), n) {
						t.Errorf("error %q does not name %s", err, n)
					}
				}
				if got != nil {
					t.Errorf("values returned with an error: %v", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("values (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFetchErrors(t *testing.T) {
	boom := errors.New("boom")
	f := &fakeSSM{err: boom}
	if _, err := secrets.Fetch(context.Background(), f, "/a"); !errors.Is(err, boom) || errors.Is(err, secrets.ErrNotFound) {
		t.Errorf("API error = %v, want it wrapped and not ErrNotFound", err)
	}
	f = &fakeSSM{params: map[string]string{"/a": "1"}}
	if _, err := secrets.Fetch(context.Background(), f, "/a", ""); err == nil {
		t.Error("an empty name was accepted")
	}
	if len(f.calls) != 0 {
		t.Errorf("%d calls for an invalid request", len(f.calls))
	}
}
