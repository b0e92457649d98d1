package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/etalase/etalase/infra/localaccount"
	"github.com/etalase/etalase/infra/localrun"
	"github.com/etalase/etalase/infra/localrun/invoke"
	"github.com/etalase/etalase/infra/localrun/lambda"
	"github.com/etalase/etalase/infra/samtemplate"
)

// ColdStartTarget is the target: a function's first response within this many
// times the hello-world's.
const ColdStartTarget = 1.5

// Roles of the binaries measured for cold starts.
const (
	// RoleBaseline is the hello-world every figure is relative to.
	RoleBaseline = "baseline"
	// RoleFunction is a function of the template; it gets a PASS or MISS.
	RoleFunction = "function"
	// RoleReference is a reference program (infra/bench/testdata) that shows where the
	// time goes: the SDK's default pattern, and the same with etalase's lean config.
	RoleReference = "reference"
)

// HelloName is the baseline's name in the report.
const HelloName = "hello-world"

// Packages of the baseline and the reference programs.
const (
	helloPkg      = "./infra/bench/testdata/hello"
	sdkDefaultPkg = "./infra/bench/testdata/sdkdefault"
	sdkLeanPkg    = "./infra/bench/testdata/sdklean"
)

// Subject is one binary whose cold start is measured.
type Subject struct {
	// Name is the function's logical id, HelloName, or a reference program's name.
	Name string
	// Account is the function's side; "" for the others.
	Account string
	// Role is RoleBaseline, RoleFunction or RoleReference.
	Role string
	// Config makes its pools: each cold start is a new pool from it.
	Config lambda.Config
	// Payload is the event it is invoked with.
	Payload Payload
	// Events, if set, makes the event of each invocation instead (and the state it
	// needs), before the invocation and outside its timing: see coldstart_scenarios.go.
	Events Events
	// Quiet is a pause after each of its cold starts, outside any timing, for what its
	// invocations set off in the running system to be over.
	Quiet time.Duration
	// Package is the main package, relative to the module root.
	Package string
	// HostSize and LambdaSize are the sizes in bytes of the binary the runner runs and
	// of the deployed build (linux/arm64, -s -w).
	HostSize, LambdaSize int64
}

// ColdSample is one cold start.
type ColdSample struct {
	// Init is the Init Duration: process start until the runtime's first
	// invocation/next request.
	Init Duration `json:"initMs"`
	// FirstResponse runs from starting the cold invocation until its response arrived.
	FirstResponse Duration `json:"firstResponseMs"`
	// Handler is the cold invocation's Duration; Warm is the same event's Duration on
	// the then warm process. Their difference is what a first call costs.
	Handler Duration `json:"handlerMs"`
	Warm    Duration `json:"warmMs"`
	// MaxMemoryMB is the process's peak resident memory.
	MaxMemoryMB int `json:"maxMemoryMB"`
	// Outcome is what the function answered: "HTTP 404", "ok", "function error: X".
	Outcome string `json:"outcome"`
}

// ColdResult is the cold starts of one subject.
type ColdResult struct {
	Name    string `json:"name"`
	Account string `json:"account,omitempty"`
	Role    string `json:"role"`
	// Payload is where the event came from.
	Payload string `json:"payload"`
	// Outcome is the first sample's.
	Outcome    string `json:"outcome"`
	HostSize   int64  `json:"hostBytes"`
	LambdaSize int64  `json:"lambdaBytes"`
	// Init, FirstResponse, Handler and Warm summarize the samples, in milliseconds.
	Init          Summary `json:"initMs"`
	FirstResponse Summary `json:"firstResponseMs"`
	Handler       Summary `json:"handlerMs"`
	Warm          Summary `json:"warmMs"`
	MaxMemoryMB   float64 `json:"maxMemoryMB"`
	// InitRatio and FirstResponseRatio are the medians over the hello-world's medians.
	InitRatio          Float `json:"initRatio"`
	FirstResponseRatio Float `json:"firstResponseRatio"`
	// PairedRatio is the median over rounds of this subject's first response over the
	// hello-world's in the same round: less sensitive to load that changes during the run.
	PairedRatio Float `json:"pairedFirstResponseRatio"`
	// Verdict is PASS or MISS for functions (first response within ColdStartTarget times
	// the hello-world's), "" for the others, ERROR when no cold start succeeded.
	Verdict string       `json:"verdict,omitempty"`
	Error   string       `json:"error,omitempty"`
	Samples []ColdSample `json:"samples"`
}

// ColdOptions configure MeasureColdStarts.
type ColdOptions struct {
	// N is the number of cold starts per subject; Warmup more are made first and
	// dropped (they load the binaries into the page cache and warm the emulators).
	N, Warmup int
	// Log receives the processes' output; nil discards it.
	Log io.Writer
	// Progress, if set, is called after every round.
	Progress func(round, rounds int)
	// ExtraEnv is added to every process's environment (e.g. GODEBUG=inittrace=1).
	ExtraEnv []string
	// Output, if set, receives each process's whole output after it exited.
	Output func(s *Subject, sample int, output string)
}

// MeasureColdStarts makes N cold starts of each subject, round-robin (each round in a
// rotated order, so that no subject always goes first), one at a time. Each cold start
// is a new pool from the subject's Config: a new process, invoked once with the
// subject's payload and once more warm, then ended. A subject whose cold start fails is
// dropped from later rounds and reported with its error.
func MeasureColdStarts(ctx context.Context, subjects []*Subject, o ColdOptions) []*ColdResult {
	results := make([]*ColdResult, len(subjects))
	for i, s := range subjects {
		results[i] = &ColdResult{Name: s.Name, Account: s.Account, Role: s.Role, Payload: s.Payload.Source,
			HostSize: s.HostSize, LambdaSize: s.LambdaSize}
	}
	rounds := o.Warmup + o.N
	for round := 0; round < rounds; round++ {
		for k := range subjects {
			i := (k + round) % len(subjects)
			r := results[i]
			if r.Error != "" {
				continue
			}
			if err := ctx.Err(); err != nil {
				r.Error = err.Error()
				continue
			}
			sample, output, err := coldStart(ctx, subjects[i], o)
			if o.Output != nil {
				o.Output(subjects[i], round, output)
			}
			if err != nil {
				r.Error = err.Error()
				continue
			}
			if round >= o.Warmup {
				r.Samples = append(r.Samples, sample)
			}
		}
		if o.Progress != nil {
			o.Progress(round+1, rounds)
		}
	}
	summarize(results)
	return results
}

// coldStart makes one cold start of s and returns it with the process's output.
func coldStart(ctx context.Context, s *Subject, o ColdOptions) (ColdSample, string, error) {
	cfg := s.Config
	cfg.MaxConcurrency = 1
	cfg.Env = append(append([]string(nil), cfg.Env...), o.ExtraEnv...)
	var out strings.Builder
	cfg.Log = &out
	if o.Log != nil {
		cfg.Log = io.MultiWriter(&lockedWriter{w: &out}, o.Log)
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = lambda.DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, lambda.InitTimeout+2*timeout+5*time.Second)
	defer cancel()

	event := func() ([]byte, error) {
		if s.Events == nil {
			return s.Payload.Body, nil
		}
		body, err := s.Events(ctx)
		if err != nil {
			return nil, fmt.Errorf("%s: make its event: %w", s.Name, err)
		}
		return body, nil
	}
	body, err := event()
	if err != nil {
		return ColdSample{}, "", err
	}
	pool := lambda.NewPool(cfg)
	begin := time.Now()
	res, err := pool.InvokeDetailed(ctx, body)
	first := time.Since(begin)
	sample := ColdSample{
		Init: Duration(res.InitDuration), FirstResponse: Duration(first), Handler: Duration(res.Duration),
		MaxMemoryMB: res.MaxMemoryMB,
	}
	outcome, err := classify(res, err)
	if err == nil {
		sample.Outcome = outcome
		var warm lambda.Result
		if body, err = event(); err == nil {
			warm, err = pool.InvokeDetailed(ctx, body)
		}
		if _, err = classify(warm, err); err == nil {
			sample.Warm = Duration(warm.Duration)
			if warm.InitDuration > 0 {
				err = errors.New("the second invocation was not warm")
			}
		}
	}
	if cerr := pool.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err == nil && res.InitDuration <= 0 {
		err = errors.New("the invocation was not a cold start")
	}
	if s.Quiet > 0 {
		t := time.NewTimer(s.Quiet)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
	}
	if err != nil {
		return sample, out.String(), fmt.Errorf("%s: %w (output in the log)", s.Name, err)
	}
	return sample, out.String(), nil
}

// classify says what a function answered, and fails when it gave no real first
// response: a failed init, a crash, a timeout, or an error of the local runner. A
// handler's error counts as a response: it ran.
func classify(res lambda.Result, err error) (string, error) {
	var fe *invoke.FunctionError
	switch {
	case err == nil:
		return outcomeOf(res.Payload), nil
	case errors.As(err, &fe) && res.Duration > 0 && fe.Type != "Runtime.ExitError" && fe.Type != "Sandbox.Timedout":
		return "function error: " + fe.Type, nil
	case errors.As(err, &fe) && res.Duration == 0:
		return "", fmt.Errorf("init failed: %w", err)
	default:
		return "", err
	}
}

// outcomeOf describes a response payload: an HTTP API response's status code, the
// number of failed items of a batch response, or "ok".
func outcomeOf(payload []byte) string {
	var resp struct {
		StatusCode        *int              `json:"statusCode"`
		BatchItemFailures []json.RawMessage `json:"batchItemFailures"`
	}
	if json.Unmarshal(payload, &resp) == nil {
		if resp.StatusCode != nil {
			return fmt.Sprintf("HTTP %d", *resp.StatusCode)
		}
		if len(resp.BatchItemFailures) > 0 {
			return fmt.Sprintf("%d batch item failures", len(resp.BatchItemFailures))
		}
	}
	return "ok"
}

// summarize fills the summaries, ratios and verdicts.
func summarize(results []*ColdResult) {
	var hello *ColdResult
	for _, r := range results {
		if r.Role == RoleBaseline {
			hello = r
		}
		pick := func(f func(ColdSample) Duration) []float64 {
			xs := make([]float64, len(r.Samples))
			for i, s := range r.Samples {
				xs[i] = Millis(time.Duration(f(s)))
			}
			return xs
		}
		r.Init = Summarize(pick(func(s ColdSample) Duration { return s.Init }))
		r.FirstResponse = Summarize(pick(func(s ColdSample) Duration { return s.FirstResponse }))
		r.Handler = Summarize(pick(func(s ColdSample) Duration { return s.Handler }))
		r.Warm = Summarize(pick(func(s ColdSample) Duration { return s.Warm }))
		mem := make([]float64, len(r.Samples))
		for i, s := range r.Samples {
			mem[i] = float64(s.MaxMemoryMB)
		}
		if len(mem) > 0 {
			r.MaxMemoryMB = Median(mem)
		}
		if len(r.Samples) > 0 {
			r.Outcome = r.Samples[0].Outcome
		}
	}
	for _, r := range results {
		r.InitRatio, r.FirstResponseRatio, r.PairedRatio = Float(nan), Float(nan), Float(nan)
		if hello != nil && len(hello.Samples) > 0 && len(r.Samples) > 0 {
			r.InitRatio = Float(Ratio(r.Init.Median, hello.Init.Median))
			r.FirstResponseRatio = Float(Ratio(r.FirstResponse.Median, hello.FirstResponse.Median))
			n := min(len(r.Samples), len(hello.Samples))
			paired := make([]float64, n)
			for i := range n {
				paired[i] = Ratio(float64(r.Samples[i].FirstResponse), float64(hello.Samples[i].FirstResponse))
			}
			r.PairedRatio = Float(Median(paired))
		}
		if r.Role != RoleFunction {
			continue
		}
		switch {
		case r.Error != "" || len(r.Samples) == 0:
			r.Verdict = "ERROR"
		case float64(r.FirstResponseRatio) <= ColdStartTarget:
			r.Verdict = "PASS"
		default:
			r.Verdict = "MISS"
		}
	}
}

// PrepareOptions select what PrepareSubjects measures.
type PrepareOptions struct {
	// Functions filters the template's functions by logical id; nil means all.
	Functions func(id string) bool
	// References adds the reference programs (they read a probe table).
	References bool
	// NoLambdaBuild skips the Lambda builds (sizes are then unknown) and builds only
	// the host binaries needed: for tests.
	NoLambdaBuild bool
	// Representative seeds, through the running system's API, the state that each
	// function's event names, and makes fresh events for the ones whose success path
	// changes state (coldstart_scenarios.go). Without it a fixture is used as it is,
	// whatever it finds.
	Representative bool
	// Invocations is how many invocations of each subject to make fresh events for
	// ahead of the measurement; more are made one at a time if needed.
	Invocations int
}

// PrepareSubjects builds what the cold-start measurement needs: the hello-world (and
// the reference programs) for the host with the runner's flags, every subject for
// Lambda to know its deployed size, and each function's payload. The functions are the
// ones the runner started, sorted by account and id; the hello-world comes first.
func PrepareSubjects(ctx context.Context, env *Env, o PrepareOptions) ([]*Subject, error) {
	tpl, err := samtemplate.Load(env.Template)
	if err != nil {
		return nil, err
	}
	var fns []*localrun.Function
	for id, fn := range env.Runner.Functions {
		if o.Functions == nil || o.Functions(id) {
			fns = append(fns, fn)
		}
	}
	sort.Slice(fns, func(i, j int) bool {
		if fns[i].Account != fns[j].Account {
			return fns[i].Account < fns[j].Account
		}
		return fns[i].ID < fns[j].ID
	})

	env.Progressf("cold start: waiting for the builds (hello-world and references for the host, everything for %s/%s)", LambdaGOOS, LambdaGOARCH)
	var hostBins, lambdaBins map[string]string
	if o.NoLambdaBuild {
		pkgs := []string{helloPkg}
		if o.References {
			pkgs = append(pkgs, sdkDefaultPkg, sdkLeanPkg)
		}
		hostBins, err = goBuild(ctx, env.Root, filepath.Join(env.WorkDir, "host-extra"), hostFlags(), false, pkgs)
	} else {
		hostBins, lambdaBins, err = env.Binaries(ctx)
	}
	if err != nil {
		return nil, err
	}

	commerce := localaccount.Commerce
	base := lambda.Config{
		Account:  "",
		Env:      baseEnv(env, commerce),
		Timeout:  10 * time.Second,
		MemoryMB: 256,
		ARN:      fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s%s", localaccount.Region, commerce.ID, env.Prefix, "bench"),
	}
	var subjects []*Subject
	add := func(name, role, pkg, host string, cfg lambda.Config, p Payload) {
		cfg.Name, cfg.Binary = name, host
		subjects = append(subjects, &Subject{
			Name: name, Account: cfg.Account, Role: role, Config: cfg, Payload: p, Package: pkg,
			HostSize: fileSize(host), LambdaSize: fileSize(lambdaBins[pkg]),
		})
	}
	add(HelloName, RoleBaseline, helloPkg, hostBins[helloPkg], base, Payload{Body: []byte(`{}`), Source: "empty event {}"})
	w := newColdWorld(env)
	for _, fn := range fns {
		p, err := choosePayload(env.Root, tpl, env.Runner, fn)
		if err != nil {
			return nil, fmt.Errorf("%s: payload: %w", fn.ID, err)
		}
		dir, _ := localrun.FunctionDir(fn.Account, fn.ID)
		add(fn.ID, RoleFunction, "./"+filepath.ToSlash(dir), fn.Config.Binary, fn.Config, p)
		if sc, ok := scenarios[fn.ID]; ok && o.Representative {
			if path.Base(p.Source) != sc.fixture {
				return nil, fmt.Errorf("%s: the representative event is made from %s, but %s was chosen", fn.ID, sc.fixture, p.Source)
			}
			env.Progressf("cold start: %s: seeding what %s names", fn.ID, p.Source)
			events, err := sc.prepare(ctx, w, p.Body, o.Invocations)
			if err != nil {
				return nil, fmt.Errorf("%s: representative event from %s: %w", fn.ID, p.Source, err)
			}
			subjects[len(subjects)-1].Events, subjects[len(subjects)-1].Quiet = events, sc.quiet
		}
	}
	if o.Representative {
		// The running system's reactions to the seeding (the relay, social's inbox)
		// are over before the measurement starts.
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(coldSettle):
		}
	}
	if o.References {
		table, err := env.ProbeTable(ctx, commerce)
		if err != nil {
			return nil, err
		}
		ref := base
		ref.Env = append(append([]string(nil), base.Env...), "BENCH_TABLE="+table)
		read := Payload{Body: []byte(`{}`), Source: "empty event {}; the handler reads one item"}
		add("sdk-default", RoleReference, sdkDefaultPkg, hostBins[sdkDefaultPkg], ref, read)
		add("sdk-lean", RoleReference, sdkLeanPkg, hostBins[sdkLeanPkg], ref, read)
	}
	return subjects, nil
}

// baseEnv is the environment the runner gives a function of acct, without the
// template's variables.
func baseEnv(env *Env, acct localaccount.Account) []string {
	return []string{
		"AWS_REGION=" + localaccount.Region,
		"AWS_DEFAULT_REGION=" + localaccount.Region,
		"AWS_ACCESS_KEY_ID=" + acct.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + acct.SecretAccessKey,
		"AWS_ENDPOINT_URL_DYNAMODB=" + env.DynamoDBEndpoint,
		"AWS_ENDPOINT_URL_SQS=" + env.SQSEndpoint,
		"AWS_LAMBDA_LOG_FORMAT=JSON",
		"LOG_LEVEL=INFO",
	}
}

// nan is the value of a ratio that could not be computed.
var nan = math.NaN()
