package lambda

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"
)

// maxLogLine is where an unterminated line of function output is cut, as Lambda cuts
// log events at 256 KB.
const maxLogLine = 256 * 1024

// logSink writes whole lines, each prefixed with "[account/name] ", to one writer.
type logSink struct {
	mu     sync.Mutex
	w      io.Writer
	prefix string
}

func newLogSink(w io.Writer, account, name string) *logSink {
	if w == nil {
		w = io.Discard
	}
	prefix := "[" + name + "] "
	if account != "" {
		prefix = "[" + account + "/" + name + "] "
	}
	return &logSink{w: w, prefix: prefix}
}

// line writes one line with a single Write, so that lines of pools sharing a writer do
// not interleave.
func (s *logSink) line(text string) {
	s.writeLine([]byte(text))
}

func (s *logSink) writeLine(text []byte) {
	b := make([]byte, 0, len(s.prefix)+len(text)+1)
	b = append(b, s.prefix...)
	b = append(b, text...)
	b = append(b, '\n')
	s.mu.Lock()
	defer s.mu.Unlock()
	_, _ = s.w.Write(b) // a log that cannot be written must not fail the function
}

// lineWriter splits a process's output into lines for a logSink.
type lineWriter struct {
	sink *logSink
	buf  []byte
}

// Write logs every complete line of p and keeps the rest for the next Write.
func (w *lineWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.buf = append(w.buf, p...)
			if len(w.buf) >= maxLogLine {
				w.flush()
			}
			break
		}
		w.buf = append(w.buf, p[:i]...)
		w.sink.writeLine(bytes.TrimSuffix(w.buf, []byte("\r")))
		w.buf = w.buf[:0]
		p = p[i+1:]
	}
	return n, nil
}

// flush logs an unterminated last line.
func (w *lineWriter) flush() {
	if len(w.buf) > 0 {
		w.sink.writeLine(w.buf)
		w.buf = w.buf[:0]
	}
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported systems
	return hex.EncodeToString(b)
}

// newRequestID returns a random (version 4) UUID, as Lambda's request ids.
func newRequestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// newTraceID returns an X-Ray trace header for a new, unsampled trace.
func newTraceID() string {
	return "Root=1-" + strconv.FormatInt(time.Now().Unix(), 16) + "-" + randomHex(12) +
		";Parent=" + randomHex(8) + ";Sampled=0"
}
