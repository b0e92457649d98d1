package envconfig

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

type sample struct {
	Table   string        `env:"TABLE,required"`
	Debug   bool          `env:"DEBUG"`
	Limit   int           `env:"LIMIT" default:"50"`
	Timeout time.Duration `env:"TIMEOUT" default:"3s"`
	Scopes  []string      `env:"SCOPES"`
	Nested  nested
	ignored string
}

type nested struct {
	Region string `env:"REGION,required"`
}

func lookup(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestLoadFrom(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    sample
		wantErr []string
	}{
		{"defaults", map[string]string{"TABLE": "t", "REGION": "r"}, sample{Table: "t", Limit: 50, Timeout: 3 * time.Second, Nested: nested{Region: "r"}}, nil},
		{"all set", map[string]string{"TABLE": "t", "REGION": "r", "DEBUG": "true", "LIMIT": "7", "TIMEOUT": "1m", "SCOPES": "a, b,,"},
			sample{Table: "t", Debug: true, Limit: 7, Timeout: time.Minute, Scopes: []string{"a", "b"}, Nested: nested{Region: "r"}}, nil},
		{"missing and bad", map[string]string{"LIMIT": "x", "DEBUG": "maybe"}, sample{}, []string{"TABLE is required", "LIMIT: not an integer", "DEBUG: not a boolean", "REGION is required"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got sample
			err := LoadFrom(lookup(tt.env), &got)
			if tt.wantErr != nil {
				if err == nil {
					t.Fatal("no error")
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got, cmp.AllowUnexported(sample{})); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}
