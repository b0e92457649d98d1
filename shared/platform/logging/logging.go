// Package logging builds the structured JSON logger every function uses. Lambda's JSON
// log format expects one JSON object per line on stdout or stderr.
package logging

import (
	"io"
	"log/slog"
	"strings"
)

// New returns a JSON logger at the given level name (DEBUG, INFO, WARN, ERROR; anything
// else means INFO), tagged with the function name.
func New(w io.Writer, level, function string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(level))); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l})).With("function", function)
}
