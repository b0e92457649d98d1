package emulator

import (
	"bytes"
	"io"
	"strings"
	"sync"
)

// tailLines is how many of an emulator's last output lines an error shows.
const tailLines = 25

// lineLog copies an emulator's output, line by line and prefixed with its
// name, to a shared writer, and remembers the last lines for error messages.
// Writers created for different emulators may share out: mu serialises them.
type lineLog struct {
	prefix string
	out    io.Writer
	outMu  *sync.Mutex

	mu      sync.Mutex
	partial []byte
	tail    []string
}

func newLineLog(prefix string, out io.Writer, outMu *sync.Mutex) *lineLog {
	return &lineLog{prefix: prefix, out: out, outMu: outMu}
}

// Write implements io.Writer. It never fails: a failing out is ignored so that
// the emulator is never blocked or broken by its log.
func (l *lineLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		l.emit(string(bytes.TrimRight(l.partial[:i], "\r")))
		l.partial = l.partial[i+1:]
	}
	// Keep memory bounded for output that never ends a line.
	if len(l.partial) > 64<<10 {
		l.emit(string(l.partial))
		l.partial = nil
	}
	return len(p), nil
}

// flush emits a last unterminated line, if any.
func (l *lineLog) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.partial) > 0 {
		l.emit(string(l.partial))
		l.partial = nil
	}
}

func (l *lineLog) emit(line string) {
	l.tail = append(l.tail, line)
	if len(l.tail) > tailLines {
		l.tail = l.tail[len(l.tail)-tailLines:]
	}
	l.outMu.Lock()
	io.WriteString(l.out, l.prefix+line+"\n")
	l.outMu.Unlock()
}

// lastLines returns the remembered last lines, indented, or a note that there
// were none.
func (l *lineLog) lastLines() string {
	l.mu.Lock()
	lines := append([]string(nil), l.tail...)
	if len(l.partial) > 0 {
		lines = append(lines, string(l.partial))
	}
	l.mu.Unlock()
	if len(lines) == 0 {
		return "  (no output)"
	}
	return "  " + strings.Join(lines, "\n  ")
}

// contains reports whether any remembered line contains s.
func (l *lineLog) contains(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.tail {
		if strings.Contains(line, s) {
			return true
		}
	}
	return bytes.Contains(l.partial, []byte(s))
}
