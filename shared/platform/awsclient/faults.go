package awsclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// FaultsEnv is the environment variable that switches fault injection on. It exists for
// the local runner only (localrun.Options.Faults sets it on every function process);
// template.yaml must never set it, and a template check (infra/templatecheck) fails if
// it does. Without it, New adds nothing to the SDK's stack.
const FaultsEnv = "ETALASE_FAULTS"

// FaultLogMessage is the "msg" of the JSON line written for every injected fault, so
// that a test can count them in the functions' logs.
const FaultLogMessage = "aws fault injected"

// Fault kinds.
const (
	// FaultThrottle: DynamoDB ProvisionedThroughputExceededException or
	// ThrottlingException, SQS RequestThrottled (HTTP 400). The request was not
	// performed; the SDK's retryer retries it (throttle cost).
	FaultThrottle = "throttle"
	// FaultConflict: DynamoDB writes only. TransactWriteItems gets a
	// TransactionCanceledException whose reasons hold one TransactionConflict (and None
	// for the other items); PutItem, UpdateItem and DeleteItem get a
	// TransactionConflictException. The write was not performed; the SDK does not
	// retry either, so our code's own conflict handling runs.
	FaultConflict = "conflict"
	// Fault5xx: HTTP 500 InternalServerError or 503 ServiceUnavailable. Retried by the SDK.
	Fault5xx = "5xx"
	// FaultTimeout: the HTTP client's timeout (a *smithyhttp.RequestSendError wrapping
	// a net timeout), as when the service does not answer in time. Retried by the SDK.
	FaultTimeout = "timeout"
)

// Faults is a parsed fault specification: with probability Rate each attempt of a call
// to one of Services fails with one of Kinds (one that applies to the operation). 5xx
// and timeout faults are injected after the call succeeded with probability After —
// the dangerous case: the write happened, the caller sees an error, and a retry must
// not repeat its side effect. Throttles and conflicts always come before the request
// is sent (the service refused it).
type Faults struct {
	Rate     float64
	Seed     uint64
	Kinds    []string
	After    float64
	Services []string
	// Log receives one JSON line per injected fault; nil means os.Stderr (the
	// function's log).
	Log io.Writer
}

// ParseFaults parses a specification such as
//
//	rate=0.05;seed=42;kinds=throttle,conflict,5xx,timeout;after=0.5;services=dynamodb,sqs
//
// Every key but rate is optional: seed 1, every kind, after 0.5, services dynamodb and
// sqs (SSM is left alone: a secret that fails at cold start only fails the init). An
// unknown key or kind is an error, so that a typo fails the cold start loudly.
func ParseFaults(spec string) (Faults, error) {
	f := Faults{Seed: 1, Kinds: []string{FaultThrottle, FaultConflict, Fault5xx, FaultTimeout}, After: 0.5, Services: []string{"dynamodb", "sqs"}}
	rateSet := false
	for _, part := range strings.Split(spec, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return Faults{}, fmt.Errorf("%s: %q is not key=value", FaultsEnv, part)
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		var err error
		switch k {
		case "rate":
			f.Rate, err = probability(v)
			rateSet = true
		case "after":
			f.After, err = probability(v)
		case "seed":
			f.Seed, err = strconv.ParseUint(v, 10, 64)
		case "kinds":
			f.Kinds, err = list(v, FaultThrottle, FaultConflict, Fault5xx, FaultTimeout)
		case "services":
			f.Services, err = list(strings.ToLower(v), "dynamodb", "sqs")
		default:
			err = errors.New("unknown key")
		}
		if err != nil {
			return Faults{}, fmt.Errorf("%s: %s=%q: %w", FaultsEnv, k, v, err)
		}
	}
	if !rateSet {
		return Faults{}, fmt.Errorf("%s: rate is required", FaultsEnv)
	}
	return f, nil
}

func probability(v string) (float64, error) {
	p, err := strconv.ParseFloat(v, 64)
	if err != nil || p < 0 || p > 1 {
		return 0, errors.New("want a number from 0 to 1")
	}
	return p, nil
}

func list(v string, allowed ...string) ([]string, error) {
	var out []string
	for _, s := range strings.Split(v, ",") {
		s = strings.TrimSpace(s)
		if !contains(allowed, s) {
			return nil, fmt.Errorf("%q is not one of %s", s, strings.Join(allowed, ", "))
		}
		if !contains(out, s) {
			out = append(out, s)
		}
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// String formats f as ParseFaults reads it.
func (f Faults) String() string {
	return fmt.Sprintf("rate=%g;seed=%d;kinds=%s;after=%g;services=%s", f.Rate, f.Seed, strings.Join(f.Kinds, ","), f.After, strings.Join(f.Services, ","))
}

// FaultCounts counts injected faults by kind and by when ("before", "after").
type FaultCounts map[string]int64

// Injector injects f's faults into the SDK clients built from an aws.Config it was
// added to (Apply). New adds one when Config.Faults is set.
type Injector struct {
	f      Faults
	log    io.Writer
	mu     sync.Mutex // guards rng and log writes
	rng    *rand.Rand
	counts sync.Map // "kind/when" → *atomic.Int64
}

// NewInjector returns an injector of f. Each process draws its own stream: the seed is
// mixed with the process id, so that the processes of one function do not fail in
// lock step (concurrency makes runs differ anyway).
func NewInjector(f Faults) *Injector {
	log := f.Log
	if log == nil {
		log = os.Stderr
	}
	return &Injector{f: f, log: log, rng: rand.New(rand.NewPCG(f.Seed, uint64(os.Getpid())))}
}

// Apply adds the injector to cfg's API options: every client built from cfg afterwards
// passes each attempt of each call through it.
func (in *Injector) Apply(cfg *aws.Config) {
	cfg.APIOptions = append(cfg.APIOptions, in.addToStack)
}

// Counts returns what was injected so far, by "kind/when".
func (in *Injector) Counts() FaultCounts {
	out := FaultCounts{}
	in.counts.Range(func(k, v any) bool {
		out[k.(string)] = v.(*atomic.Int64).Load()
		return true
	})
	return out
}

func (in *Injector) addToStack(s *middleware.Stack) error {
	// The number of items of a TransactWriteItems call, which only the Initialize step
	// sees, for the cancellation reasons of a conflict.
	if err := s.Initialize.Add(middleware.InitializeMiddlewareFunc("EtalaseFaultItems", countItems), middleware.After); err != nil {
		return err
	}
	// After the retry middleware: every attempt meets the injector, and the SDK's
	// retryer classifies what it returns as it would a real failure.
	return s.Finalize.Insert(in, "Retry", middleware.After)
}

type itemsKey struct{}

func countItems(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
	if v := reflect.ValueOf(in.Parameters); v.Kind() == reflect.Pointer && !v.IsNil() && v.Elem().Kind() == reflect.Struct {
		if items := v.Elem().FieldByName("TransactItems"); items.IsValid() && items.Kind() == reflect.Slice {
			ctx = middleware.WithStackValue(ctx, itemsKey{}, items.Len())
		}
	}
	return next.HandleInitialize(ctx, in)
}

// ID implements middleware.FinalizeMiddleware.
func (in *Injector) ID() string { return "EtalaseFaultInjection" }

// plan is one drawn fault.
type plan struct {
	kind  string
	after bool
	alt   bool    // which of a kind's two forms (e.g. 500 or 503)
	item  float64 // which transaction item conflicts, as a share of the items
}

// HandleFinalize implements middleware.FinalizeMiddleware.
func (in *Injector) HandleFinalize(ctx context.Context, fin middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
	service, op := awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx)
	p, ok := in.draw(service, op)
	if !ok {
		return next.HandleFinalize(ctx, fin)
	}
	if !p.after {
		err := in.fault(ctx, p, service, op)
		in.record(p, service, op, err)
		return middleware.FinalizeOutput{}, middleware.Metadata{}, err
	}
	out, md, err := next.HandleFinalize(ctx, fin)
	if err != nil {
		return out, md, err // it failed by itself: nothing left to inject
	}
	err = in.fault(ctx, p, service, op)
	in.record(p, service, op, err)
	return middleware.FinalizeOutput{}, md, err
}

// draw decides whether this attempt fails, and how.
func (in *Injector) draw(service, op string) (plan, bool) {
	if in.f.Rate <= 0 || !contains(in.f.Services, strings.ToLower(service)) {
		return plan{}, false
	}
	var kinds []string
	for _, k := range in.f.Kinds {
		if k != FaultConflict || service == "DynamoDB" && isWrite(op) {
			kinds = append(kinds, k)
		}
	}
	if len(kinds) == 0 {
		return plan{}, false
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.rng.Float64() >= in.f.Rate {
		return plan{}, false
	}
	p := plan{kind: kinds[in.rng.IntN(len(kinds))], alt: in.rng.IntN(2) == 1, item: in.rng.Float64()}
	if p.kind == Fault5xx || p.kind == FaultTimeout {
		p.after = in.rng.Float64() < in.f.After
	}
	return p, true
}

func isWrite(op string) bool {
	switch op {
	case "PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems":
		return true
	}
	return false
}

// fault builds the error of p as the SDK would return it for a real failure.
func (in *Injector) fault(ctx context.Context, p plan, service, op string) error {
	const msg = " (injected by " + FaultsEnv + ")"
	ddb := service == "DynamoDB"
	respond := func(status int, err error) error {
		id := fmt.Sprintf("injected-%016x", in.rng64())
		h := http.Header{}
		h.Set("X-Amzn-Requestid", id)
		return &awshttp.ResponseError{
			ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status, Header: h}}, Err: err},
			RequestID:     id,
		}
	}
	switch p.kind {
	case FaultThrottle:
		switch {
		case ddb && p.alt:
			return respond(400, &ddbtypes.ThrottlingException{Message: aws.String("Throughput exceeds the current capacity for one or more global secondary indexes" + msg)})
		case ddb:
			return respond(400, &ddbtypes.ProvisionedThroughputExceededException{Message: aws.String("The level of configured provisioned throughput for the table was exceeded" + msg)})
		}
		return respond(400, &smithy.GenericAPIError{Code: "RequestThrottled", Message: "Request is throttled" + msg, Fault: smithy.FaultClient})
	case FaultConflict:
		if op != "TransactWriteItems" {
			return respond(400, &ddbtypes.TransactionConflictException{Message: aws.String("Operation was rejected because there is an ongoing transaction for the item" + msg)})
		}
		n, _ := middleware.GetStackValue(ctx, itemsKey{}).(int)
		n = max(n, 1)
		conflict := min(int(p.item*float64(n)), n-1)
		reasons := make([]ddbtypes.CancellationReason, n)
		codes := make([]string, n)
		for i := range reasons {
			codes[i] = "None"
			if i == conflict {
				codes[i] = "TransactionConflict"
			}
			reasons[i] = ddbtypes.CancellationReason{Code: aws.String(codes[i])}
			if i == conflict {
				reasons[i].Message = aws.String("Transaction is ongoing for the item")
			}
		}
		return respond(400, &ddbtypes.TransactionCanceledException{
			Message:             aws.String("Transaction cancelled, please refer cancellation reasons for specific reasons [" + strings.Join(codes, ", ") + "]" + msg),
			CancellationReasons: reasons,
		})
	case Fault5xx:
		if p.alt {
			return respond(503, &smithy.GenericAPIError{Code: "ServiceUnavailable", Message: "Service unavailable" + msg, Fault: smithy.FaultServer})
		}
		if ddb {
			return respond(500, &ddbtypes.InternalServerError{Message: aws.String("Internal server error" + msg)})
		}
		return respond(500, &smithy.GenericAPIError{Code: "InternalError", Message: "We encountered an internal error. Please try again." + msg, Fault: smithy.FaultServer})
	default: // FaultTimeout
		return &smithyhttp.RequestSendError{Err: &url.Error{Op: "Post", URL: "https://" + strings.ToLower(service) + ".local/", Err: &net.OpError{
			Op: "read", Net: "tcp", Err: timeoutError{},
		}}}
	}
}

// timeoutError is a read deadline that passed, as the net package reports it.
type timeoutError struct{}

func (timeoutError) Error() string        { return "i/o timeout (injected by " + FaultsEnv + ")" }
func (timeoutError) Timeout() bool        { return true }
func (timeoutError) Temporary() bool      { return true }
func (timeoutError) Is(target error) bool { return target == os.ErrDeadlineExceeded }

func (in *Injector) rng64() uint64 {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.rng.Uint64()
}

// record counts a fault and writes its log line.
func (in *Injector) record(p plan, service, op string, err error) {
	when := "before"
	if p.after {
		when = "after"
	}
	key := p.kind + "/" + when
	c, _ := in.counts.LoadOrStore(key, new(atomic.Int64))
	c.(*atomic.Int64).Add(1)
	line, _ := json.Marshal(struct {
		Level     string `json:"level"`
		Msg       string `json:"msg"`
		Service   string `json:"service"`
		Operation string `json:"operation"`
		Kind      string `json:"kind"`
		When      string `json:"when"`
		Error     string `json:"error"`
	}{"WARN", FaultLogMessage, service, op, p.kind, when, err.Error()})
	in.mu.Lock()
	defer in.mu.Unlock()
	_, _ = in.log.Write(append(line, '\n'))
}
