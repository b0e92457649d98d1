package lambda

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/etalase/etalase/infra/localrun/invoke"
)

// Runtime API headers, as aws-lambda-go's runtime client reads and writes them.
const (
	headerRequestID      = "Lambda-Runtime-Aws-Request-Id"
	headerDeadlineMS     = "Lambda-Runtime-Deadline-Ms"
	headerFunctionARN    = "Lambda-Runtime-Invoked-Function-Arn"
	headerTraceID        = "Lambda-Runtime-Trace-Id"
	headerErrorType      = "Lambda-Runtime-Function-Error-Type"
	trailerErrorBody     = "Lambda-Runtime-Function-Error-Body"
	defaultPath          = "/usr/local/bin:/usr/bin/:/bin:/opt/bin" // Lambda's PATH
	drainOutputAfterExit = time.Second
)

// invocation is one event on its way through a process.
type invocation struct {
	id       string
	payload  []byte
	deadline time.Time
	reply    chan reply // buffered: the runtime's one answer

	answered bool // guarded by the process's mu
}

// reply is the runtime's answer to an invocation.
type reply struct {
	payload []byte
	err     *invoke.FunctionError
}

// process is one execution environment: an OS process and the Runtime API it talks to.
type process struct {
	pool *Pool

	next     chan struct{}              // the runtime asked for the next event (buffered)
	dispatch chan *invocation           // hands an event to a waiting invocation/next
	initErr  chan *invoke.FunctionError // the runtime reported init/error (buffered)
	stop     chan struct{}              // closed when the process is being ended
	stopOnce sync.Once
	exited   chan struct{} // closed when the process is gone (or never started)
	exitErr  error         // how it ended; written before exited is closed

	mu       sync.Mutex
	killed   bool
	reaped   bool
	pidv     int
	initDone bool
	cur      *invocation
	peakKB   int64
	srv      *http.Server
}

func newProcess(p *Pool) *process {
	return &process{
		pool:     p,
		next:     make(chan struct{}, 1),
		dispatch: make(chan *invocation),
		initErr:  make(chan *invoke.FunctionError, 1),
		stop:     make(chan struct{}),
		exited:   make(chan struct{}),
	}
}

// start starts the process and waits for the end of its init phase: its first
// invocation/next. It returns the init duration, and a *invoke.FunctionError when init
// failed (the process may still be running then; the caller discards it).
func (pr *process) start(requestID string, limit time.Duration) (time.Duration, error) {
	p := pr.pool
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		pr.abandon(err)
		return 0, fmt.Errorf("runtime api for %s: %w", p.cfg.Name, err)
	}
	rd, wr, err := os.Pipe()
	if err != nil {
		ln.Close()
		pr.abandon(err)
		return 0, fmt.Errorf("output pipe for %s: %w", p.cfg.Name, err)
	}
	srv := &http.Server{
		Handler:           pr.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	cmd := exec.Command(p.binary)
	cmd.Dir = filepath.Dir(p.binary)
	cmd.Env = p.environ(ln.Addr().String())
	cmd.Stdout, cmd.Stderr = wr, wr // Lambda sends both to the function's log stream
	cmd.SysProcAttr = sysProcAttr()

	pr.mu.Lock()
	if pr.killed {
		pr.mu.Unlock()
		ln.Close()
		rd.Close()
		wr.Close()
		pr.abandon(ErrClosed)
		return 0, ErrClosed
	}
	pr.srv = srv
	go srv.Serve(ln) //nolint:errcheck // returns ErrServerClosed when the process ends
	began := time.Now()
	err = cmd.Start()
	if err == nil {
		pr.pidv = cmd.Process.Pid
	}
	pr.mu.Unlock()
	wr.Close()
	if err != nil {
		rd.Close()
		srv.Close()
		pr.abandon(err)
		return 0, &invoke.FunctionError{Type: "Runtime.InvalidEntrypoint", Message: err.Error()}
	}
	go pr.wait(cmd, rd)

	timer := time.NewTimer(limit)
	defer timer.Stop()
	select {
	case <-pr.next:
		return time.Since(began), nil
	case fe := <-pr.initErr:
		return time.Since(began), fe
	case <-pr.exited:
		select {
		case fe := <-pr.initErr: // reported before exiting
			return time.Since(began), fe
		default:
		}
		return time.Since(began), &invoke.FunctionError{Type: "Runtime.ExitError", Message: exitMessage(requestID, pr.exitErr)}
	case <-timer.C:
		return limit, &invoke.FunctionError{
			Type:    "Sandbox.Timedout",
			Message: fmt.Sprintf("Init timed out after %.2f seconds", limit.Seconds()),
		}
	}
}

// abandon ends a process that never started.
func (pr *process) abandon(err error) {
	pr.stopOnce.Do(func() { close(pr.stop) })
	pr.exitErr = err
	pr.pool.forget(pr)
	close(pr.exited)
}

// wait reaps the process, ends what it left behind, and closes exited once its output
// has been logged.
func (pr *process) wait(cmd *exec.Cmd, rd *os.File) {
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		lw := &lineWriter{sink: pr.pool.log}
		_, _ = io.Copy(lw, rd) // ends at EOF, or when rd is closed below
		lw.flush()
	}()
	err := cmd.Wait()
	pr.mu.Lock()
	pr.reaped = true
	srv := pr.srv
	pr.mu.Unlock()
	// End whatever the process started in its group. The group id cannot have been
	// reused: Linux keeps a pid while a group of that id has members.
	_ = killGroup(cmd.Process.Pid)
	pr.stopOnce.Do(func() { close(pr.stop) })
	srv.Close()
	select {
	case <-drained:
	case <-time.After(drainOutputAfterExit): // a descendant outside the group holds the pipe
	}
	rd.Close()
	pr.mu.Lock()
	pr.peakKB = max(pr.peakKB, exitPeakRSSKB(cmd.ProcessState))
	pr.mu.Unlock()
	pr.exitErr = err
	pr.pool.forget(pr)
	close(pr.exited)
}

// kill ends the process and everything in its process group.
func (pr *process) kill() error {
	pr.stopOnce.Do(func() { close(pr.stop) })
	pr.mu.Lock()
	defer pr.mu.Unlock()
	pr.killed = true
	if pr.pidv == 0 || pr.reaped {
		return nil
	}
	if err := killGroup(pr.pidv); err != nil {
		return fmt.Errorf("kill %s process %d: %w", pr.pool.cfg.Name, pr.pidv, err)
	}
	return nil
}

// pid returns the process id, 0 if the process never started.
func (pr *process) pid() int {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	return pr.pidv
}

// sampleMemory records the process's peak resident memory so far.
func (pr *process) sampleMemory() {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	if pr.pidv == 0 || pr.reaped {
		return
	}
	pr.peakKB = max(pr.peakKB, peakRSSKB(pr.pidv))
}

// peakMB returns the largest peak resident memory recorded, in MB rounded up.
func (pr *process) peakMB() int {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	return int((pr.peakKB + 1023) / 1024)
}

// environ returns the process's whole environment: PATH, the configured environment,
// then the Lambda variables, which win over anything the configuration says.
func (p *Pool) environ(runtimeAPI string) []string {
	env := make([]string, 0, len(p.cfg.Env)+12)
	env = append(env, "PATH="+defaultPath)
	env = append(env, p.cfg.Env...)
	return append(env,
		"AWS_LAMBDA_RUNTIME_API="+runtimeAPI,
		"AWS_LAMBDA_FUNCTION_NAME="+p.funcName,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE="+strconv.Itoa(p.memoryMB),
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/"+p.funcName,
		"AWS_LAMBDA_LOG_STREAM_NAME="+time.Now().UTC().Format("2006/01/02")+"/[$LATEST]"+randomHex(16),
		"_HANDLER="+filepath.Base(p.binary),
		"LAMBDA_TASK_ROOT="+filepath.Dir(p.binary),
		"AWS_EXECUTION_ENV=AWS_Lambda_provided.al2023",
		"TZ=:UTC",
		"AWS_LAMBDA_INITIALIZATION_TYPE=on-demand",
	)
}

// routes is the Runtime API of one process.
func (pr *process) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", pr.handleNext)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", pr.handleResponse)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", pr.handleError)
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", pr.handleInitError)
	return mux
}

// handleNext ends the previous invocation (or the init phase) and blocks until the next
// event is dispatched to this process.
func (pr *process) handleNext(w http.ResponseWriter, r *http.Request) {
	pr.mu.Lock()
	pr.cur = nil
	pr.initDone = true
	pr.mu.Unlock()
	select {
	case pr.next <- struct{}{}:
	default:
	}
	select {
	case inv := <-pr.dispatch:
		pr.mu.Lock()
		pr.cur = inv
		pr.mu.Unlock()
		h := w.Header()
		h.Set(headerRequestID, inv.id)
		h.Set(headerDeadlineMS, strconv.FormatInt(inv.deadline.UnixMilli(), 10))
		h.Set(headerFunctionARN, pr.pool.arn)
		h.Set(headerTraceID, newTraceID())
		h.Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(inv.payload) // a runtime that went away is noticed when it exits
	case <-pr.stop:
		writeAPIError(w, http.StatusInternalServerError, "Runtime.Stopped", "the execution environment is shutting down")
	case <-r.Context().Done():
	}
}

// handleResponse takes the function's response to the current invocation.
func (pr *process) handleResponse(w http.ResponseWriter, r *http.Request) {
	inv, ok := pr.claim(w, r)
	if !ok {
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxResponseBytes+1))
	if err != nil {
		// A truncated response is no response: the invocation ends when the runtime
		// exits or times out.
		writeAPIError(w, http.StatusBadRequest, "InvalidResponsePayload", err.Error())
		return
	}
	if len(body) > MaxResponseBytes {
		_, _ = io.Copy(io.Discard, r.Body)
		msg := fmt.Sprintf("Response payload size exceeded maximum allowed payload size (%d bytes).", MaxResponseBytes)
		inv.reply <- reply{err: &invoke.FunctionError{Type: "Function.ResponseSizeTooLarge", Message: msg}}
		writeAPIError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge",
			fmt.Sprintf("Exceeded maximum allowed payload size (%d bytes).", MaxResponseBytes))
		return
	}
	// aws-lambda-go reports an error met while streaming the response in trailers.
	if typ := r.Trailer.Get(headerErrorType); typ != "" {
		fe := &invoke.FunctionError{Type: typ}
		if raw, err := base64.StdEncoding.DecodeString(r.Trailer.Get(trailerErrorBody)); err == nil {
			var eb errorBody
			if json.Unmarshal(raw, &eb) == nil {
				fe.Message = eb.Message
			}
		}
		inv.reply <- reply{err: fe}
		writeAccepted(w)
		return
	}
	inv.reply <- reply{payload: body}
	writeAccepted(w)
}

// handleError takes the error the function's handler returned for the current invocation.
func (pr *process) handleError(w http.ResponseWriter, r *http.Request) {
	inv, ok := pr.claim(w, r)
	if !ok {
		return
	}
	inv.reply <- reply{err: readFunctionError(r, "Unhandled")}
	writeAccepted(w)
}

// handleInitError takes the error of a runtime that failed to initialize.
func (pr *process) handleInitError(w http.ResponseWriter, r *http.Request) {
	pr.mu.Lock()
	done := pr.initDone
	pr.mu.Unlock()
	if done {
		writeAPIError(w, http.StatusForbidden, "InvalidStateTransition", "init/error after the init phase")
		return
	}
	select {
	case pr.initErr <- readFunctionError(r, "Runtime.Unknown"):
	default: // reported twice: the first one stands
	}
	writeAccepted(w)
}

// claim checks that the request answers the current invocation, which has not been
// answered yet, and marks it answered. It writes the API error itself when not.
func (pr *process) claim(w http.ResponseWriter, r *http.Request) (*invocation, bool) {
	id := r.PathValue("id")
	pr.mu.Lock()
	inv := pr.cur
	answered := inv != nil && inv.id == id && inv.answered
	if inv != nil && inv.id == id {
		inv.answered = true
	}
	pr.mu.Unlock()
	switch {
	case inv == nil || inv.id != id:
		writeAPIError(w, http.StatusBadRequest, "InvalidRequestID", "Invalid request ID")
		return nil, false
	case answered:
		writeAPIError(w, http.StatusForbidden, "InvalidStateTransition", "Invocation "+id+" was already answered")
		return nil, false
	}
	return inv, true
}

// errorBody is Lambda's error document: what runtimes post, and what the API answers.
type errorBody struct {
	Message    string          `json:"errorMessage"`
	Type       string          `json:"errorType"`
	StackTrace json.RawMessage `json:"stackTrace,omitempty"`
}

// readFunctionError reads an error a runtime posted: the errorType of the body, else the
// Lambda-Runtime-Function-Error-Type header, else fallback.
func readFunctionError(r *http.Request, fallback string) *invoke.FunctionError {
	raw, _ := io.ReadAll(io.LimitReader(r.Body, MaxResponseBytes))
	fe := &invoke.FunctionError{Type: r.Header.Get(headerErrorType)}
	var eb errorBody
	if err := json.Unmarshal(raw, &eb); err == nil {
		fe.Message = eb.Message
		if eb.Type != "" {
			fe.Type = eb.Type
		}
	} else {
		fe.Message = string(raw)
	}
	if fe.Type == "" {
		fe.Type = fallback
	}
	return fe
}

func writeAccepted(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, `{"status":"OK"}`)
}

func writeAPIError(w http.ResponseWriter, status int, typ, msg string) {
	b, _ := json.Marshal(errorBody{Message: msg, Type: typ})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
