// Package pagecursor encodes the opaque cursor of a list sorted by creation time, an id
// breaking ties: the position of the last item of a page. A cursor names a position
// only, never whose list it is: stores always query the caller's own partition, so a
// cursor taken from someone else's list selects nothing of theirs.
package pagecursor

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"time"
)

// MaxLength bounds an encoded cursor; longer input is refused before decoding.
const MaxLength = 512

// ErrInvalid: the cursor is not one this API returned.
var ErrInvalid = errors.New("invalid cursor")

// Position is a place in the list: the last item returned.
type Position struct {
	// CreatedAt is the item's creation time (the index's sort key).
	CreatedAt time.Time
	// ID is the item's id, which breaks ties.
	ID string
}

// wire is the encoded form.
type wire struct {
	CreatedAt time.Time `json:"c"`
	ID        string    `json:"i"`
}

// Encode returns the cursor of p: base64url of a small JSON object.
func Encode(p Position) string {
	b, _ := json.Marshal(wire{CreatedAt: p.CreatedAt.UTC(), ID: p.ID}) // a time and a string cannot fail
	return base64.RawURLEncoding.EncodeToString(b)
}

// Decode returns the position of a cursor that Encode made, or nil for the empty
// cursor (the first page). validID checks the id's form; anything else is ErrInvalid.
func Decode(s string, validID func(string) bool) (*Position, error) {
	if s == "" {
		return nil, nil
	}
	if len(s) > MaxLength {
		return nil, ErrInvalid
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, ErrInvalid
	}
	var w wire
	if err := json.Unmarshal(b, &w); err != nil || w.CreatedAt.IsZero() || !validID(w.ID) {
		return nil, ErrInvalid
	}
	return &Position{CreatedAt: w.CreatedAt.UTC(), ID: w.ID}, nil
}
