package pagecursor_test

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/etalase/etalase/shared/platform/pagecursor"
)

func validID(id string) bool { return strings.HasPrefix(id, "p_") && len(id) == 6 }

func TestRoundTrip(t *testing.T) {
	p := pagecursor.Position{CreatedAt: time.Date(2026, 11, 23, 8, 0, 0, 123, time.FixedZone("WIB", 7*3600)), ID: "p_abcd"}
	got, err := pagecursor.Decode(pagecursor.Encode(p), validID)
	if err != nil || got == nil || !got.CreatedAt.Equal(p.CreatedAt) || got.CreatedAt.Location() != time.UTC || got.ID != p.ID {
		t.Fatalf("round trip of %+v = %+v, %v", p, got, err)
	}
	if got, err := pagecursor.Decode("", validID); got != nil || err != nil {
		t.Errorf("empty cursor = %+v, %v; want the first page", got, err)
	}
}

func TestDecodeRefuses(t *testing.T) {
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, bad := range []string{
		"!!",                                // not base64url
		enc("[]"),                           // not an object
		enc(`{"i":"p_abcd"}`),               // no time
		enc(`{"c":"2026-11-23T00:00:00Z"}`), // no id
		enc(`{"c":"2026-11-23T00:00:00Z","i":"x_abcd"}`), // an id of another form
		strings.Repeat("a", pagecursor.MaxLength+1),
	} {
		if got, err := pagecursor.Decode(bad, validID); !errors.Is(err, pagecursor.ErrInvalid) || got != nil {
			t.Errorf("Decode(%q) = %+v, %v; want ErrInvalid", bad, got, err)
		}
	}
}
