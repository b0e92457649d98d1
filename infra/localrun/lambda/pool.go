// Package lambda runs a Lambda function on this machine the way the Lambda service runs
// it: every execution environment is its own OS process, started from the function's
// built binary with only the environment the runner computed for it, and talking to a
// Lambda Runtime API (version 2018-06-01) that this package serves on 127.0.0.1.
//
// A Pool is one function. It reuses an idle warm process for each invocation, starts a
// new process (a cold start) when none is idle and the function is below its
// concurrency limit, and throttles otherwise. A timeout or a crash ends the process
// (its whole process group); a handler error keeps it warm. After every invocation the
// pool writes Lambda's START, END and REPORT lines, prefixed with the account and the
// function name, to Config.Log, where the function's own output goes too.
//
// The package needs a Unix system; peak memory (Max Memory Used) is read on Linux only.
package lambda

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/etalase/etalase/infra/localrun/invoke"
)

// Lambda's defaults and limits.
const (
	// DefaultTimeout is the timeout of a function whose Config.Timeout is zero (as Lambda).
	DefaultTimeout = 3 * time.Second
	// DefaultMemoryMB is the memory size of a function whose Config.MemoryMB is zero.
	DefaultMemoryMB = 128
	// MaxResponseBytes is the largest response payload a function may return
	// (Lambda's 6 MB synchronous invocation limit, 6,291,556 bytes).
	MaxResponseBytes = 6291556
	// InitTimeout bounds a cold start: from process start to its first
	// invocation/next request.
	InitTimeout = 10 * time.Second
)

// ErrClosed is returned by Invoke after Close.
var ErrClosed = errors.New("lambda pool is closed")

// Config describes one function.
type Config struct {
	// Name is the function's logical id in the template.
	Name string
	// Account is the side the function belongs to (e.g. "social", "commerce"); it is only
	// used to attribute log lines.
	Account string
	// Binary is the path of the built bootstrap binary.
	Binary string
	// Env is the complete environment the runner computed for the function: template
	// variables, credentials and endpoints. The pool adds only the standard Lambda
	// variables and, unless Env sets it, PATH; nothing is inherited from the runner.
	Env []string
	// Timeout is the function's timeout; zero means DefaultTimeout.
	Timeout time.Duration
	// MemoryMB is the function's memory size; zero means DefaultMemoryMB. It is reported,
	// not enforced.
	MemoryMB int
	// MaxConcurrency is the most processes the function may have at once: its
	// ReservedConcurrentExecutions, or else the caller's default. Values below 1 mean 1.
	MaxConcurrency int
	// ARN is the function's ARN, sent as Lambda-Runtime-Invoked-Function-Arn. When empty
	// a local one is made from Name.
	ARN string
	// Log receives the START, END and REPORT lines and the function's own output, one
	// prefixed line per Write. Nil discards them.
	Log io.Writer
	// KillRate is the share of invocations (0 to 1) whose process the pool kills
	// (SIGKILL, with its group) at a random moment while the function runs: a crash of
	// the execution environment, for reliability tests. The invocation fails as
	// Lambda's do when the runtime dies (Runtime.ExitError): HTTP callers get a 5xx,
	// event sources retry. Zero never kills.
	KillRate float64
	// KillWithin bounds the moment of a kill, counted from handing the function the
	// event. Zero means 1.2 times the function's recent successful durations (an
	// average; DefaultKillWithin until there is one), so that kills land at every
	// point of a typical invocation, the dangerous ones after a write included. A kill
	// whose moment comes after the function answered does not happen.
	KillWithin time.Duration
}

// DefaultKillWithin bounds the moment of a kill before the pool knows the function's
// durations.
const DefaultKillWithin = 50 * time.Millisecond

// Stats counts what a pool has done, for tests and the benchmark.
type Stats struct {
	// Processes is the number of function processes alive now.
	Processes int
	// Busy is the number of those processes running an invocation now.
	Busy int
	// ColdStarts is the number of processes started.
	ColdStarts int
	// Invocations is the number of invocations accepted (not throttled).
	Invocations int
	// Throttles is the number of invocations refused with invoke.ErrThrottled.
	Throttles int
	// Kills is the number of processes killed mid-invocation (Config.KillRate).
	Kills int
	// Reported is the number of invocations that have ended (each with its REPORT
	// line), and BilledDuration, Duration and InitDuration are the sums of their REPORT
	// figures: what Lambda would bill, for the benchmark's cost model.
	Reported       int
	BilledDuration time.Duration
	Duration       time.Duration
	InitDuration   time.Duration
}

// Result describes one invocation, with the figures of its REPORT line.
type Result struct {
	// Payload is the function's response.
	Payload []byte
	// RequestID is the invocation's request id.
	RequestID string
	// Duration runs from handing the event to the runtime until the runtime asks for the
	// next one (or the process ends), as Lambda's Duration.
	Duration time.Duration
	// BilledDuration is Duration plus InitDuration, rounded up to the millisecond, as
	// Lambda bills functions on the provided.al2023 runtime.
	BilledDuration time.Duration
	// InitDuration is the cold start (process start to its first invocation/next), zero
	// when the invocation ran on a warm process.
	InitDuration time.Duration
	// MaxMemoryMB is the process's peak resident memory (VmHWM) so far.
	MaxMemoryMB int
	// PID is the process that ran the invocation.
	PID int
}

// Pool runs the invocations of one function on a set of function processes. It
// implements invoke.Invoker. The zero value is not usable; call NewPool.
type Pool struct {
	cfg         Config
	binary      string // absolute
	funcName    string // physical function name, from the ARN
	arn         string
	timeout     time.Duration
	memoryMB    int
	maxProcs    int
	initTimeout time.Duration
	log         *logSink

	mu     sync.Mutex
	closed bool
	procs  map[*process]struct{}
	idle   []*process // most recently used last
	stats  Stats
	runs   sync.WaitGroup // invocations in flight, including those whose caller left
	avg    time.Duration  // moving average of successful invocations' durations (KillRate)
}

var _ invoke.Invoker = (*Pool)(nil)

// NewPool returns a pool for the function cfg describes. It starts no process: the first
// invocation is a cold start.
func NewPool(cfg Config) *Pool {
	binary, err := filepath.Abs(cfg.Binary)
	if err != nil {
		binary = cfg.Binary // the cold start reports the bad path
	}
	p := &Pool{
		cfg:         cfg,
		binary:      binary,
		timeout:     cfg.Timeout,
		memoryMB:    cfg.MemoryMB,
		maxProcs:    max(cfg.MaxConcurrency, 1),
		initTimeout: InitTimeout,
		log:         newLogSink(cfg.Log, cfg.Account, cfg.Name),
		procs:       make(map[*process]struct{}),
	}
	if p.timeout <= 0 {
		p.timeout = DefaultTimeout
	}
	if p.memoryMB <= 0 {
		p.memoryMB = DefaultMemoryMB
	}
	p.arn = cfg.ARN
	if p.arn == "" {
		p.arn = "arn:aws:lambda:us-east-1:000000000000:function:" + cfg.Name
	}
	p.funcName = cfg.Name
	if i := strings.LastIndex(p.arn, ":function:"); i >= 0 {
		name, _, _ := strings.Cut(p.arn[i+len(":function:"):], ":")
		if name != "" {
			p.funcName = name
		}
	}
	return p
}

// Invoke runs one invocation and returns the function's response. It implements
// invoke.Invoker; see InvokeDetailed for the errors.
func (p *Pool) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	res, err := p.InvokeDetailed(ctx, payload)
	return res.Payload, err
}

// InvokeDetailed runs one invocation and returns its response with the figures of its
// REPORT line, which has been written when it returns.
//
// It returns invoke.ErrThrottled at once when every process is busy and the function is
// at its concurrency limit, and a *invoke.FunctionError when the function failed: the
// errorType the handler reported (the process stays warm), "Runtime.ExitError" when the
// process exited, "Sandbox.Timedout" on a timeout, or the type of a failed cold start
// (in each of those cases the process is gone and the next invocation starts cold).
// The Result is filled in for function errors too.
//
// Cancelling ctx does not cut the invocation short, as in Lambda, where a caller that
// goes away does not stop the function: InvokeDetailed returns ctx's error at once, and
// the invocation keeps its process busy until it ends or times out, then logs its
// REPORT line as usual.
func (p *Pool) InvokeDetailed(ctx context.Context, payload []byte) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("invoke %s: %w", p.cfg.Name, err)
	}
	pr, cold, err := p.acquire()
	if err != nil {
		return Result{}, err
	}
	done := make(chan outcome, 1)
	go func() {
		defer p.runs.Done()
		res, err := p.run(pr, cold, payload)
		done <- outcome{res, err}
	}()
	select {
	case o := <-done:
		return o.res, o.err
	case <-ctx.Done():
		return Result{}, fmt.Errorf("invoke %s: %w", p.cfg.Name, ctx.Err())
	}
}

type outcome struct {
	res Result
	err error
}

// Stats returns the pool's counters.
func (p *Pool) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.stats
	s.Processes = len(p.procs)
	s.Busy = len(p.procs) - len(p.idle)
	return s
}

// Close kills every process of the pool with its process group, waits until they are
// gone and the invocations in flight have ended, and makes later invocations fail with
// ErrClosed. It may be called more than once.
func (p *Pool) Close() error {
	p.mu.Lock()
	p.closed = true
	procs := make([]*process, 0, len(p.procs))
	for pr := range p.procs {
		procs = append(procs, pr)
	}
	p.idle = nil
	p.mu.Unlock()

	var errs []error
	for _, pr := range procs {
		errs = append(errs, pr.kill())
	}
	for _, pr := range procs {
		<-pr.exited
	}
	p.runs.Wait()
	return errors.Join(errs...)
}

// acquire takes an idle process, or reserves a new one, for one invocation.
func (p *Pool) acquire() (pr *process, cold bool, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, false, ErrClosed
	}
	if n := len(p.idle); n > 0 {
		pr = p.idle[n-1]
		p.idle = p.idle[:n-1]
	} else if len(p.procs) < p.maxProcs {
		pr = newProcess(p)
		p.procs[pr] = struct{}{}
		p.stats.ColdStarts++
		cold = true
	} else {
		p.stats.Throttles++
		return nil, false, invoke.ErrThrottled
	}
	p.stats.Invocations++
	p.runs.Add(1)
	return pr, cold, nil
}

// release makes a process that finished an invocation idle again.
func (p *Pool) release(pr *process) {
	p.mu.Lock()
	_, alive := p.procs[pr]
	if alive && !p.closed {
		p.idle = append(p.idle, pr)
	}
	p.mu.Unlock()
	if !alive || p.closed {
		p.discard(pr)
	}
}

// discard kills a process and waits until it is gone.
func (p *Pool) discard(pr *process) {
	_ = pr.kill() // a process that cannot be signalled has exited already
	<-pr.exited
}

// forget removes a process that has exited from the pool.
func (p *Pool) forget(pr *process) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.procs, pr)
	for i, q := range p.idle {
		if q == pr {
			p.idle = append(p.idle[:i], p.idle[i+1:]...)
			break
		}
	}
}

// run performs one invocation on pr, starting it first when cold.
func (p *Pool) run(pr *process, cold bool, payload []byte) (Result, error) {
	inv := &invocation{id: newRequestID(), payload: payload, reply: make(chan reply, 1)}
	res := Result{RequestID: inv.id}
	if cold {
		initDur, err := pr.start(inv.id, p.initTimeout)
		res.InitDuration = initDur
		if errors.Is(err, ErrClosed) {
			return res, err
		}
		if err != nil {
			pr.sampleMemory()
			p.discard(pr)
			res.PID = pr.pid()
			res.MaxMemoryMB = pr.peakMB()
			p.log.line("START RequestId: " + inv.id + " Version: $LATEST")
			errType := "Runtime.Unknown"
			var fe *invoke.FunctionError
			if errors.As(err, &fe) {
				errType = fe.Type
				p.log.line(fe.Message)
				p.log.line(fe.Type)
			} else {
				p.log.line(err.Error())
			}
			p.finish(&res, "error", errType)
			return res, err
		}
	}
	res.PID = pr.pid()

	p.log.line("START RequestId: " + inv.id + " Version: $LATEST")
	start := time.Now()
	inv.deadline = start.Add(p.timeout)
	timer := time.NewTimer(p.timeout)
	defer timer.Stop()

	var (
		handed  bool
		replied bool
		rep     reply
		status  string // REPORT Status, when the process ended abnormally
		alive   = true
	)
wait:
	for {
		var dispatch chan<- *invocation
		var replies <-chan reply
		var next <-chan struct{}
		switch {
		case !handed:
			dispatch = pr.dispatch
		case !replied:
			replies = inv.reply
		default:
			next = pr.next
		}
		select {
		case dispatch <- inv:
			handed = true
			pr.sampleMemory()
			if k := p.killTimer(pr, inv); k != nil {
				defer k.Stop()
			}
		case rep = <-replies:
			replied = true
		case <-next:
			break wait
		case <-pr.exited:
			alive = false
			if !replied {
				rep = reply{err: &invoke.FunctionError{Type: "Runtime.ExitError", Message: exitMessage(inv.id, pr.exitErr)}}
				p.log.line(rep.err.Message)
				p.log.line(rep.err.Type)
				status = "error"
			}
			break wait
		case <-timer.C:
			pr.sampleMemory()
			alive = false
			if !replied {
				rep = reply{err: &invoke.FunctionError{
					Type:    "Sandbox.Timedout",
					Message: fmt.Sprintf("Task timed out after %.2f seconds", p.timeout.Seconds()),
				}}
				p.log.line(time.Now().UTC().Format("2006-01-02T15:04:05.000Z") + " " + inv.id + " " + rep.err.Message)
			}
			status = "timeout"
			break wait
		}
	}
	res.Duration = time.Since(start)
	if alive {
		pr.sampleMemory()
		res.MaxMemoryMB = pr.peakMB()
		p.release(pr)
	} else {
		p.discard(pr)
		res.MaxMemoryMB = pr.peakMB() // includes the peak the kernel reported at exit
	}
	errType := ""
	if status == "error" {
		errType = rep.err.Type
	}
	if status == "" && rep.err == nil {
		p.mu.Lock()
		if p.avg == 0 {
			p.avg = res.Duration
		} else {
			p.avg += (res.Duration - p.avg) / 5
		}
		p.mu.Unlock()
	}
	p.finish(&res, status, errType)
	if rep.err != nil {
		return res, rep.err
	}
	res.Payload = rep.payload
	return res, nil
}

// killTimer draws whether this invocation's process dies mid-invocation (KillRate), and
// if so arms the kill: at a random moment within KillWithin, if the function has not
// answered by then, the process and its group get SIGKILL. The caller stops the timer
// when the invocation ends.
func (p *Pool) killTimer(pr *process, inv *invocation) *time.Timer {
	if p.cfg.KillRate <= 0 || rand.Float64() >= p.cfg.KillRate {
		return nil
	}
	within := p.cfg.KillWithin
	if within <= 0 {
		p.mu.Lock()
		within = p.avg * 6 / 5
		p.mu.Unlock()
		if within <= 0 {
			within = DefaultKillWithin
		}
	}
	return time.AfterFunc(time.Duration(rand.Int64N(int64(within))+1), func() {
		pr.mu.Lock()
		running := pr.cur == inv && !inv.answered
		pr.mu.Unlock()
		if !running {
			return
		}
		if err := pr.kill(); err == nil {
			p.mu.Lock()
			p.stats.Kills++
			p.mu.Unlock()
			p.log.line("local runner: killed the process mid-invocation (KillRate) RequestId: " + inv.id)
		}
	})
}

// finish computes the billed duration and writes the END and REPORT lines.
func (p *Pool) finish(res *Result, status, errType string) {
	res.BilledDuration = billed(res.Duration + res.InitDuration)
	p.mu.Lock()
	p.stats.Reported++
	p.stats.BilledDuration += res.BilledDuration
	p.stats.Duration += res.Duration
	p.stats.InitDuration += res.InitDuration
	p.mu.Unlock()
	p.log.line("END RequestId: " + res.RequestID)
	p.log.line(reportLine(*res, p.memoryMB, status, errType))
}

// billed rounds d up to the millisecond.
func billed(d time.Duration) time.Duration {
	return time.Duration(math.Ceil(float64(d)/float64(time.Millisecond))) * time.Millisecond
}

// reportLine formats Lambda's REPORT line for one invocation.
func reportLine(res Result, memoryMB int, status, errType string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %d ms\tMemory Size: %d MB\tMax Memory Used: %d MB",
		res.RequestID, ms(res.Duration), res.BilledDuration.Milliseconds(), memoryMB, res.MaxMemoryMB)
	if res.InitDuration > 0 {
		fmt.Fprintf(&b, "\tInit Duration: %.2f ms", ms(res.InitDuration))
	}
	if status != "" {
		b.WriteString("\tStatus: " + status)
	}
	if errType != "" {
		b.WriteString("\tError Type: " + errType)
	}
	return b.String()
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// exitMessage is Lambda's errorMessage for a runtime that exited.
func exitMessage(requestID string, err error) string {
	if err == nil {
		return "RequestId: " + requestID + " Error: Runtime exited without providing a reason"
	}
	return "RequestId: " + requestID + " Error: Runtime exited with error: " + err.Error()
}
