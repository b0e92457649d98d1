// Package localrun runs both accounts of template.yaml on one machine, as Lambda and
// API Gateway would run them: it provisions each account's tables and queues in the
// emulators, builds every function, runs each as its own processes behind a Lambda
// Runtime API (package lambda), serves the HTTP API routes of both accounts on one
// origin with the JWT authorizer and a local identity provider (packages gateway and
// idp), and feeds SQS queues, DynamoDB streams and schedules to their consumers
// (package sources). Functions read their secrets from an SSM Parameter Store emulator
// with one store per account (package ssm), seeded with fresh local secrets each run.
// Everything comes from the template; there is no second list.
package localrun

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/etalase/etalase/infra/localaccount"
	"github.com/etalase/etalase/infra/localrun/gateway"
	"github.com/etalase/etalase/infra/localrun/idp"
	"github.com/etalase/etalase/infra/localrun/invoke"
	"github.com/etalase/etalase/infra/localrun/lambda"
	"github.com/etalase/etalase/infra/localrun/paysandbox"
	"github.com/etalase/etalase/infra/localrun/sources"
	"github.com/etalase/etalase/infra/localrun/ssm"
	"github.com/etalase/etalase/infra/provision"
	"github.com/etalase/etalase/infra/samtemplate"
	"github.com/etalase/etalase/shared/platform/awsclient"
	"github.com/etalase/etalase/web"
)

// DefaultConcurrency is the most processes a function without
// ReservedConcurrentExecutions gets locally (Lambda's account limit is far higher; two
// cores are not).
const DefaultConcurrency = 8

// Options configure a Runner.
type Options struct {
	// Root is the Go module root: function folders are Root/functions/<side>/<name>.
	Root string
	// Template is the path of template.yaml.
	Template string
	// Params are template parameter values; "{origin}" in a value becomes the HTTP API's
	// origin. JwtIssuer defaults to the local identity provider's issuer, JwtAudience to
	// "etalase".
	Params map[string]string
	// DynamoDBEndpoint and SQSEndpoint are the emulators.
	DynamoDBEndpoint, SQSEndpoint string
	// Listener is where the HTTP API is served; nil means listen on Addr.
	Listener net.Listener
	// Addr is the HTTP API address when Listener is nil; empty means 127.0.0.1:3000.
	Addr string
	// Prefix is prepended to every table and queue name.
	Prefix string
	// BinDir receives the built functions; empty means Root/.cache/bin.
	BinDir string
	// DefaultConcurrency applies to functions without ReservedConcurrentExecutions.
	DefaultConcurrency int
	// Log receives function output, REPORT lines and the runner's own lines.
	Log io.Writer
	// Secrets seed the SSM emulator: side → SSM parameter name → value, stored as
	// SecureString in that side's account. Nil means GenerateSecrets (fresh keys).
	Secrets map[string]map[string]string
	// Faults, when set, is given to every function as awsclient.FaultsEnv
	// (ETALASE_FAULTS): a share of their DynamoDB and SQS calls fail as throttles,
	// transaction conflicts, 5xx and timeouts, e.g. "rate=0.05;seed=42" (see
	// awsclient.ParseFaults). For reliability tests; a deployed template never sets it.
	Faults string
	// KillRate is the share of invocations, of every function, whose process is killed
	// (SIGKILL) while the function runs (lambda.Config.KillRate): the invocation fails,
	// HTTP callers get a 5xx and event sources retry, as when Lambda loses an
	// execution environment. Zero never kills.
	KillRate float64
	// Endpoints, when set, gives a function its own DynamoDB and SQS endpoints
	// (AWS_ENDPOINT_URL_DYNAMODB and AWS_ENDPOINT_URL_SQS of its processes) instead of
	// DynamoDBEndpoint and SQSEndpoint; an empty answer keeps the emulator's. The
	// benchmark puts a counting proxy in front of the emulators this way, one per
	// function, so that every request is attributed to the function that sent it. The
	// runner's own clients (provisioning, event sources) always talk to the emulators
	// directly. Nil gives every function the emulators.
	Endpoints func(functionID string) (dynamoDB, sqs string)
}

// Function is one running function.
type Function struct {
	// ID is the logical id; Account the side.
	ID, Account string
	// Pool runs its invocations.
	Pool *lambda.Pool
	// Env is the environment the template gives it (without credentials).
	Env map[string]string
	// Config is what Pool was made from; a new pool from it starts cold (the benchmark
	// measures cold starts that way).
	Config lambda.Config
}

// Runner is the running local system.
type Runner struct {
	// URL is the HTTP API's origin, e.g. http://127.0.0.1:3000.
	URL string
	// IdP mints tokens that the HTTP API accepts.
	IdP *idp.Provider
	// Resources are each account's tables and queues, by side.
	Resources map[string]*provision.Resources
	// Functions by logical id.
	Functions map[string]*Function
	// Routes served by the gateway.
	Routes []gateway.Route
	// Sandbox is the payment providers' stand-in, at URL + "/_local/pay/"; tests drive
	// its control API or read what it sent.
	Sandbox *paysandbox.Sandbox
	// Secrets are the values seeded into SSM: side → SSM parameter name → value. Use
	// Secret to look one up by its template parameter.
	Secrets map[string]map[string]string
	// SSMURL is the SSM emulator's endpoint (AWS_ENDPOINT_URL_SSM of every function);
	// SSM is the emulator, for tests that put more parameters.
	SSMURL string
	SSM    *ssm.Server

	gw       *gateway.Gateway
	sched    map[string][]*sources.ScheduleSource
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	srv      *http.Server
	log      *slog.Logger
	closeMu  sync.Mutex
	closed   bool
	closeErr error
}

// Start provisions, builds and starts everything; Close stops it.
func Start(ctx context.Context, o Options) (_ *Runner, err error) {
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.DefaultConcurrency <= 0 {
		o.DefaultConcurrency = DefaultConcurrency
	}
	if o.BinDir == "" {
		o.BinDir = filepath.Join(o.Root, ".cache", "bin")
	}
	log := slog.New(slog.NewTextHandler(o.Log, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ln := o.Listener
	if ln == nil {
		if ln, err = gateway.Listen(o.Addr); err != nil {
			return nil, err
		}
	}
	defer func() {
		if err != nil && o.Listener == nil {
			ln.Close()
		}
	}()
	origin := "http://" + ln.Addr().String()
	params := map[string]string{"JwtIssuer": origin + "/_local/idp", "JwtAudience": "etalase"}
	for k, v := range o.Params {
		// A local parameter may name the origin, e.g. "{origin}/_local/pay/midtrans".
		params[k] = strings.ReplaceAll(v, "{origin}", origin)
	}

	tpl, err := samtemplate.Load(o.Template)
	if err != nil {
		return nil, err
	}
	r := &Runner{
		URL:       origin,
		Resources: map[string]*provision.Resources{},
		Functions: map[string]*Function{},
		sched:     map[string][]*sources.ScheduleSource{},
		log:       log,
	}
	defer func() {
		if err != nil {
			r.Close()
		}
	}()
	if r.IdP, err = idp.New(idp.Config{Issuer: params["JwtIssuer"], Audience: params["JwtAudience"]}); err != nil {
		return nil, err
	}

	clients := map[string]accountClients{}
	for _, acct := range localaccount.All {
		c := newAccountClients(acct, o.DynamoDBEndpoint, o.SQSEndpoint)
		clients[acct.Side] = c
		res, err := provision.Provision(ctx, provision.Options{
			Template: tpl, Account: acct, Params: params, Prefix: o.Prefix, DynamoDB: c.dynamo, SQS: c.sqs,
		})
		if err != nil {
			return nil, fmt.Errorf("provision %s account: %w", acct.Side, err)
		}
		r.Resources[acct.Side] = res
	}
	queueURLs := r.queueURLs(o.Prefix)
	if err := r.startSSM(o.Secrets); err != nil {
		return nil, err
	}

	fns, err := r.functionsBySide(tpl)
	if err != nil {
		return nil, err
	}
	bins, err := build(ctx, o.Root, o.BinDir, fns)
	if err != nil {
		return nil, err
	}

	runCtx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	var allRoutes []gateway.Route
	for _, acct := range localaccount.All {
		res := r.Resources[acct.Side]
		for _, id := range fns[acct.Side] {
			f, err := tpl.Function(id)
			if err != nil {
				return nil, err
			}
			fn, err := r.startFunction(tpl, f, acct, res, bins[id], o, queueURLs)
			if err != nil {
				return nil, fmt.Errorf("function %s: %w", id, err)
			}
			r.Functions[id] = fn
			if err := r.startSources(runCtx, tpl, f, acct, res, clients[acct.Side], fn.Pool); err != nil {
				return nil, fmt.Errorf("function %s: %w", id, err)
			}
		}
		routes, err := gateway.RoutesFromTemplate(tpl, res.Context, func(id string) invoke.Invoker {
			if fn, ok := r.Functions[id]; ok {
				return fn.Pool
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("%s routes: %w", acct.Side, err)
		}
		allRoutes = append(allRoutes, routes...)
	}
	r.Routes = allRoutes
	r.gw, err = gateway.New(gateway.Config{
		Routes: allRoutes,
		Keys: func(issuer string) idp.KeySource {
			if issuer == r.IdP.Issuer() {
				return r.IdP.Keys()
			}
			return nil
		},
		Log: log,
	})
	if err != nil {
		return nil, err
	}
	r.gw.Handle(idp.PathPrefix, r.IdP.Handler())
	// The storefront's files on the same origin as both APIs, as the CDN serves them.
	r.gw.HandleSite(web.Storefront())
	if err := r.startSandbox(log); err != nil {
		return nil, err
	}
	r.srv = &http.Server{Handler: r.gw, ReadHeaderTimeout: 10 * time.Second}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		if err := r.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http api stopped", "err", err)
		}
	}()
	return r, nil
}

// ParamsFile is where the local parameter values live, relative to the repository root.
const ParamsFile = "infra/local/parameters.json"

// LoadParams reads a local parameters file: a JSON object of template parameter values.
func LoadParams(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read parameters: %w", err)
	}
	var params map[string]string
	if err := json.Unmarshal(data, &params); err != nil {
		return nil, fmt.Errorf("parameters %s: %w", path, err)
	}
	return params, nil
}

// Handle mounts a local tool (the payment sandbox, the storefront) under a /_local/ prefix.
func (r *Runner) Handle(prefix string, h http.Handler) { r.gw.Handle(prefix, h) }

// FireSchedule runs a function's schedules now, as if their time had come.
func (r *Runner) FireSchedule(ctx context.Context, functionID string) error {
	ss := r.sched[functionID]
	if len(ss) == 0 {
		return fmt.Errorf("function %s has no schedule", functionID)
	}
	for _, s := range ss {
		if err := s.FireNow(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Kills is how many function processes Options.KillRate has killed mid-invocation.
func (r *Runner) Kills() int {
	n := 0
	for _, fn := range r.Functions {
		n += fn.Pool.Stats().Kills
	}
	return n
}

// Close stops the HTTP API, the event sources and every function process.
func (r *Runner) Close() error {
	r.closeMu.Lock()
	defer r.closeMu.Unlock()
	if r.closed {
		return r.closeErr
	}
	r.closed = true
	var errs []error
	if r.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		errs = append(errs, r.srv.Shutdown(ctx))
		cancel()
	}
	if r.cancel != nil {
		r.cancel()
	}
	r.wg.Wait()
	for _, fn := range r.Functions {
		errs = append(errs, fn.Pool.Close())
	}
	if r.Sandbox != nil {
		r.Sandbox.Close()
	}
	if r.SSM != nil {
		errs = append(errs, r.SSM.Close())
	}
	r.closeErr = errors.Join(errs...)
	return r.closeErr
}

// startSandbox mounts the payment providers' local stand-in under /_local/pay/, with the
// same keys the commerce functions read from the local SSM, so that its notifications
// carry signatures the webhook accepts. A template without payment parameters (a test
// template) gets the sandbox's default keys.
func (r *Runner) startSandbox(log *slog.Logger) error {
	keys := map[string]string{}
	for _, p := range []string{ParamMidtransServerKey, ParamXenditSecretKey, ParamXenditCallbackToken} {
		if v, err := r.Secret(p); err == nil {
			keys[p] = v
		}
	}
	r.Sandbox = paysandbox.New(paysandbox.Config{
		Origin:              r.URL,
		MidtransServerKey:   keys[ParamMidtransServerKey],
		XenditSecretKey:     keys[ParamXenditSecretKey],
		XenditCallbackToken: keys[ParamXenditCallbackToken],
		Log:                 log.With("component", "paysandbox"),
	})
	r.gw.Handle(paysandbox.PathPrefix, r.Sandbox.Handler())
	return nil
}

// startSSM serves the SSM emulator on a free 127.0.0.1 port and seeds it with secrets,
// or with GenerateSecrets' fresh ones, named by the template's parameters, when nil.
func (r *Runner) startSSM(secrets map[string]map[string]string) error {
	if secrets == nil {
		var err error
		if secrets, err = GenerateSecrets(r.Resources[localaccount.Commerce.Side].Context.Params); err != nil {
			return err
		}
	}
	r.SSM = ssm.New()
	url, err := r.SSM.Listen("127.0.0.1:0")
	if err != nil {
		return err
	}
	r.SSMURL = url
	r.Secrets = map[string]map[string]string{}
	for side, params := range secrets {
		acct, ok := localaccount.BySide(side)
		if !ok {
			return fmt.Errorf("secrets: unknown side %q", side)
		}
		r.Secrets[side] = map[string]string{}
		for name, value := range params {
			if _, err := r.SSM.Put(acct, name, value, ssm.TypeSecureString); err != nil {
				return fmt.Errorf("secrets: %s parameter %s: %w", side, name, err)
			}
			r.Secrets[side][name] = value
		}
	}
	return nil
}

// Secret returns the seeded value of the SSM parameter that a template parameter
// names, e.g. Secret(ParamMidtransServerKey) or Secret(ParamHandoffPrivateKey).
func (r *Runner) Secret(templateParam string) (string, error) {
	sides := []string{localaccount.Social.Side, localaccount.Commerce.Side}
	if side, ok := SecretParams[templateParam]; ok {
		sides = []string{side}
	}
	for _, side := range sides {
		res := r.Resources[side]
		if res == nil {
			continue
		}
		name := res.Context.Params[templateParam]
		if v, ok := r.Secrets[side][name]; ok && name != "" {
			return v, nil
		}
	}
	return "", fmt.Errorf("no local secret for template parameter %s", templateParam)
}

// HandoffPrivateKey is social's hand-off signing key, for tests that sign tokens.
func (r *Runner) HandoffPrivateKey() (ed25519.PrivateKey, error) {
	v, err := r.Secret(ParamHandoffPrivateKey)
	if err != nil {
		return nil, err
	}
	return ParseHandoffPrivateKey(v)
}

// functionsBySide returns each side's active function ids, sorted.
func (r *Runner) functionsBySide(tpl *samtemplate.Template) (map[string][]string, error) {
	out := map[string][]string{}
	for _, acct := range localaccount.All {
		active, err := tpl.Active(r.Resources[acct.Side].Context)
		if err != nil {
			return nil, err
		}
		for id, res := range active {
			if res.Type == samtemplate.TypeFunction {
				out[acct.Side] = append(out[acct.Side], id)
			}
		}
		sort.Strings(out[acct.Side])
	}
	return out, nil
}

// FunctionDir is the folder of a function, by the layout convention the template
// tests enforce: CommerceCatalogFunction lives in functions/commerce/catalog.
func FunctionDir(side, logicalID string) (string, error) {
	prefix := strings.ToUpper(side[:1]) + side[1:]
	name, ok := strings.CutPrefix(logicalID, prefix)
	if ok {
		name, ok = strings.CutSuffix(name, "Function")
	}
	if !ok || name == "" {
		return "", fmt.Errorf("function %s: its logical id must be %s<Name>Function", logicalID, prefix)
	}
	return filepath.Join("functions", side, strings.ToLower(name)), nil
}

// BuildFlags are the go build flags of the function binaries the runner runs (with
// CGO_ENABLED=0), and of anything measured against them, such as the benchmark's
// hello-world.
var BuildFlags = []string{"-tags", "lambda.norpc", "-trimpath"}

// build compiles every function for the host, one go build per side, with the
// lambda.norpc tag Lambda's provided runtimes use. It returns the binary of each id.
func build(ctx context.Context, root, binDir string, fns map[string][]string) (map[string]string, error) {
	bins := map[string]string{}
	for side, ids := range fns {
		if len(ids) == 0 {
			continue
		}
		out := filepath.Join(binDir, side) + string(filepath.Separator)
		if err := os.MkdirAll(out, 0o755); err != nil {
			return nil, err
		}
		args := append(append([]string{"build"}, BuildFlags...), "-o", out)
		for _, id := range ids {
			dir, err := FunctionDir(side, id)
			if err != nil {
				return nil, err
			}
			args = append(args, "./"+filepath.ToSlash(dir))
			bins[id] = filepath.Join(out, filepath.Base(dir))
		}
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if msg, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("build %s functions: %w\n%s", side, err, msg)
		}
	}
	return bins, nil
}

// queueURLs maps every queue's URL as it is in AWS to its URL in the emulator, for both
// accounts, so that a URL a template builds with Fn::Sub across accounts (the commerce
// relay's social inbox) reaches the emulated queue. A template builds that URL from its
// own parameters (NamePrefix), which know nothing of the test prefix the runner puts in
// front of every physical name, so the name without that prefix maps too.
func (r *Runner) queueURLs(prefix string) map[string]string {
	m := map[string]string{}
	for side, res := range r.Resources {
		acct, _ := localaccount.BySide(side)
		for _, q := range res.Queues {
			for _, name := range []string{q.Name, strings.TrimPrefix(q.Name, prefix)} {
				m[fmt.Sprintf("https://sqs.%s.amazonaws.com/%s/%s", localaccount.Region, acct.ID, name)] = q.URL
			}
		}
	}
	return m
}

func (r *Runner) startFunction(tpl *samtemplate.Template, f samtemplate.Resource, acct localaccount.Account,
	res *provision.Resources, bin string, o Options, queueURLs map[string]string) (*Function, error) {
	// Only the properties that shape the process; Events are the gateway's and sources'.
	runtimeProps := map[string]any{}
	for _, k := range []string{"Environment", "Timeout", "MemorySize", "ReservedConcurrentExecutions", "LoggingConfig"} {
		if v, ok := f.Properties[k]; ok {
			runtimeProps[k] = v
		}
	}
	props, err := tpl.Evaluate(runtimeProps, res.Context)
	if err != nil {
		return nil, err
	}
	p := props.(map[string]any)
	env := map[string]string{}
	envBlock, _ := p["Environment"].(map[string]any)
	vars, _ := envBlock["Variables"].(map[string]any)
	for k, v := range vars {
		s, err := tpl.EvaluateString(v, res.Context)
		if err != nil {
			return nil, fmt.Errorf("environment %s: %w", k, err)
		}
		if local, ok := queueURLs[s]; ok {
			s = local
		}
		env[k] = s
	}
	timeout := time.Duration(intProp(p["Timeout"], 3)) * time.Second
	memory := intProp(p["MemorySize"], 128)
	concurrency := intProp(p["ReservedConcurrentExecutions"], o.DefaultConcurrency)
	dynamoURL, sqsURL := o.DynamoDBEndpoint, o.SQSEndpoint
	if o.Endpoints != nil {
		d, q := o.Endpoints(f.LogicalID)
		if d != "" {
			dynamoURL = d
		}
		if q != "" {
			sqsURL = q
		}
	}
	procEnv := []string{
		"AWS_REGION=" + localaccount.Region,
		"AWS_DEFAULT_REGION=" + localaccount.Region,
		"AWS_ACCESS_KEY_ID=" + acct.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + acct.SecretAccessKey,
		"AWS_ENDPOINT_URL_DYNAMODB=" + dynamoURL,
		"AWS_ENDPOINT_URL_SQS=" + sqsURL,
		"AWS_ENDPOINT_URL_SSM=" + r.SSMURL,
	}
	if o.Faults != "" {
		procEnv = append(procEnv, awsclient.FaultsEnv+"="+o.Faults)
	}
	if lc, ok := p["LoggingConfig"].(map[string]any); ok {
		if v, ok := lc["LogFormat"].(string); ok {
			procEnv = append(procEnv, "AWS_LAMBDA_LOG_FORMAT="+v)
		}
		if v, ok := lc["ApplicationLogLevel"].(string); ok {
			procEnv = append(procEnv, "AWS_LAMBDA_LOG_LEVEL="+v)
		}
	}
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		procEnv = append(procEnv, k+"="+env[k])
	}
	cfg := lambda.Config{
		Name:           f.LogicalID,
		Account:        acct.Side,
		Binary:         bin,
		Env:            procEnv,
		Timeout:        timeout,
		MemoryMB:       memory,
		MaxConcurrency: concurrency,
		ARN:            fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s%s", localaccount.Region, acct.ID, o.Prefix, f.LogicalID),
		Log:            o.Log,
		KillRate:       o.KillRate,
	}
	return &Function{ID: f.LogicalID, Account: acct.Side, Pool: lambda.NewPool(cfg), Env: env, Config: cfg}, nil
}

func (r *Runner) startSources(ctx context.Context, tpl *samtemplate.Template, f samtemplate.Resource,
	acct localaccount.Account, res *provision.Resources, c accountClients, pool *lambda.Pool) error {
	var evs []samtemplate.Event
	for _, ev := range f.Events() {
		if ev.Type == "HttpApi" || ev.Type == "Api" {
			continue
		}
		props, err := tpl.Evaluate(ev.Properties, res.Context)
		if err != nil {
			return fmt.Errorf("event %s: %w", ev.Name, err)
		}
		ev.Properties = props.(map[string]any)
		evs = append(evs, ev)
	}
	if len(evs) == 0 {
		return nil
	}
	srcs, err := sources.FromEvents(evs, sources.Env{
		Function: f.LogicalID,
		Account:  acct.ID,
		Region:   localaccount.Region,
		SQS:      c.sqs,
		Streams:  c.streams,
		QueueURL: func(arn string) (string, error) {
			for _, q := range res.Queues {
				if q.Arn == arn {
					return q.URL, nil
				}
			}
			return "", fmt.Errorf("no local queue with ARN %s", arn)
		},
		Invoker: pool,
		Log:     r.log.With("function", f.LogicalID),
	})
	if err != nil {
		return err
	}
	for _, s := range srcs {
		if ss, ok := s.(*sources.ScheduleSource); ok {
			r.sched[f.LogicalID] = append(r.sched[f.LogicalID], ss)
		}
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			if err := s.Run(ctx); err != nil {
				r.log.Error("event source stopped", "function", f.LogicalID, "err", err)
			}
		}()
	}
	return nil
}

// accountClients are one account's emulator clients.
type accountClients struct {
	dynamo  *dynamodb.Client
	sqs     *sqs.Client
	streams *dynamodbstreams.Client
}

func newAccountClients(acct localaccount.Account, dynamoURL, sqsURL string) accountClients {
	cfg := aws.Config{
		Region:      localaccount.Region,
		Credentials: credentials.NewStaticCredentialsProvider(acct.AccessKeyID, acct.SecretAccessKey, ""),
	}
	return accountClients{
		dynamo:  dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(dynamoURL) }),
		sqs:     sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(sqsURL) }),
		streams: dynamodbstreams.NewFromConfig(cfg, func(o *dynamodbstreams.Options) { o.BaseEndpoint = aws.String(dynamoURL) }),
	}
}

func intProp(v any, def int) int {
	switch x := v.(type) {
	case int:
		return x
	case float64:
		return int(x)
	case string:
		var n int
		if _, err := fmt.Sscan(x, &n); err == nil {
			return n
		}
	}
	return def
}
