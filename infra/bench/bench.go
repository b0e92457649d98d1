package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/etalase/etalase/infra/emulator"
	"github.com/etalase/etalase/infra/localaccount"
	"github.com/etalase/etalase/infra/localrun"
)

// RunnerConcurrency is the most processes a function without
// ReservedConcurrentExecutions gets in the benchmark's runner.
const RunnerConcurrency = 32

// Options configure Run.
type Options struct {
	// Root is the module root.
	Root string
	// Template is template.yaml; empty means Root/template.yaml.
	Template string
	// Params are the template parameters; nil means Root/infra/local/parameters.json.
	Params map[string]string
	// OutDir receives the report; empty means Root/bench-out.
	OutDir string
	// Quick selects the smaller counts of `make bench-quick`.
	Quick bool
	// Progress receives one line per step; nil discards them.
	Progress io.Writer
	// Stages run in order; nil means DefaultStages().
	Stages []Stage
}

// Stage is one measurement of the report.
type Stage struct {
	// Name is shown in the progress lines.
	Name string
	// Run measures and returns the stage's sections. On error the sections returned so
	// far are kept and a failed section records the error; the next stage still runs.
	Run func(ctx context.Context, env *Env) ([]*Section, error)
	// Builds says the stage uses Env.Binaries: Run then starts those builds first
	// thing, while the emulators start, instead of when the stage asks.
	Builds bool
}

// DefaultStages are the report's stages, in order. Add new ones here.
func DefaultStages() []Stage {
	return []Stage{
		{Name: "cold start", Run: ColdStartStage, Builds: true},
		{Name: "latency", Run: LatencyStage},
		// The requests and cost stages share a second, metered runner (Env.metered),
		// started by the first and stopped after the last stage: last, so that its
		// pollers do not disturb the stages that time things.
		{Name: "requests", Run: RequestsStage},
		{Name: "cost", Run: CostStage},
	}
}

// SelectStages returns the stages named in a comma-separated list (a stage's Name or
// its slug, e.g. "cold start" or "cold-start"), in their order; an empty list selects
// them all.
func SelectStages(all []Stage, list string) ([]Stage, error) {
	if strings.TrimSpace(list) == "" {
		return all, nil
	}
	want := map[string]bool{}
	for _, n := range strings.Split(list, ",") {
		if n = slug(n); n != "" {
			want[n] = true
		}
	}
	var out []Stage
	for _, st := range all {
		if want[slug(st.Name)] {
			out = append(out, st)
			delete(want, slug(st.Name))
		}
	}
	if len(want) > 0 {
		var names, unknown []string
		for _, st := range all {
			names = append(names, slug(st.Name))
		}
		for n := range want {
			unknown = append(unknown, n)
		}
		sort.Strings(unknown)
		return nil, fmt.Errorf("unknown stage %s (stages: %s)", strings.Join(unknown, ", "), strings.Join(names, ", "))
	}
	return out, nil
}

// Env is what a stage measures with.
type Env struct {
	// Root, Template and OutDir are the run's Options, resolved.
	Root, Template, OutDir string
	// Quick selects smaller counts; see Count.
	Quick bool
	// Runner is the whole template running locally, with a fresh Prefix.
	Runner *localrun.Runner
	// DynamoDBEndpoint and SQSEndpoint are the emulators.
	DynamoDBEndpoint, SQSEndpoint string
	// Prefix starts every table and queue name of this run.
	Prefix string
	// WorkDir holds the builds: Root/.cache/bench, kept between runs.
	WorkDir string
	// Log receives the function processes' output and REPORT lines
	// (OutDir/logs/functions.log).
	Log io.Writer

	progress io.Writer
	start    time.Time
	mu       sync.Mutex // progress lines
	probeMu  sync.Mutex
	probe    map[string]string
	builds   builds
	deferred []func() // Defer; guarded by mu
}

// Count returns full, or quick under -quick.
func (e *Env) Count(full, quick int) int {
	if e.Quick {
		return quick
	}
	return full
}

// Progressf prints one progress line, with the time since the run started.
func (e *Env) Progressf(format string, args ...any) {
	if e.progress == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	fmt.Fprintf(e.progress, "bench %6s  %s\n", time.Since(e.start).Round(time.Second), fmt.Sprintf(format, args...))
}

// AWSConfig returns an SDK configuration for an account of the emulators.
func (e *Env) AWSConfig(acct localaccount.Account) aws.Config {
	return aws.Config{
		Region:      localaccount.Region,
		Credentials: credentials.NewStaticCredentialsProvider(acct.AccessKeyID, acct.SecretAccessKey, ""),
	}
}

// DynamoDB returns a client of DynamoDB Local for an account.
func (e *Env) DynamoDB(acct localaccount.Account) *dynamodb.Client {
	return dynamodb.NewFromConfig(e.AWSConfig(acct), func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(e.DynamoDBEndpoint) })
}

// SQS returns a client of the SQS emulator for an account.
func (e *Env) SQS(acct localaccount.Account) *sqs.Client {
	return sqs.NewFromConfig(e.AWSConfig(acct), func(o *sqs.Options) { o.BaseEndpoint = aws.String(e.SQSEndpoint) })
}

// Run starts the emulators and the local runner, runs the stages and writes the report
// into OutDir. It returns the report even when a stage failed, with an error saying so.
func Run(ctx context.Context, o Options) (*Report, error) {
	begin := time.Now()
	if o.Template == "" {
		o.Template = filepath.Join(o.Root, "template.yaml")
	}
	if o.OutDir == "" {
		o.OutDir = filepath.Join(o.Root, "bench-out")
	}
	if o.Params == nil {
		p, err := readParams(filepath.Join(o.Root, "infra", "local", "parameters.json"))
		if err != nil {
			return nil, err
		}
		o.Params = p
	}
	if o.Stages == nil {
		o.Stages = DefaultStages()
	}
	logDir := filepath.Join(o.OutDir, "logs")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return nil, err
	}
	host := hostInfo()
	env := &Env{
		Root: o.Root, Template: o.Template, OutDir: o.OutDir, Quick: o.Quick,
		Prefix:   newPrefix(),
		progress: o.Progress,
		start:    begin,
	}
	// The builds stay between runs: go build does not link again a binary whose
	// inputs did not change, which keeps bench-quick quick.
	work := filepath.Join(o.Root, ".cache", "bench")
	if err := os.MkdirAll(work, 0o755); err != nil {
		return nil, err
	}
	env.WorkDir = work
	// Build the Lambda binaries while the emulators start, when a stage needs them (a
	// stage that asks later starts them then); stop and wait for the builds before
	// returning.
	buildCtx, stopBuilds := context.WithCancel(ctx)
	defer env.waitBuilds()
	defer stopBuilds()
	if slices.ContainsFunc(o.Stages, func(st Stage) bool { return st.Builds }) {
		env.startBuilds(buildCtx)
	}

	emuLog, err := os.Create(filepath.Join(logDir, "emulators.log"))
	if err != nil {
		return nil, err
	}
	defer emuLog.Close()
	fnLog, err := os.Create(filepath.Join(logDir, "functions.log"))
	if err != nil {
		return nil, err
	}
	defer fnLog.Close()
	env.Log = &lockedWriter{w: fnLog}

	env.Progressf("starting DynamoDB Local and the SQS emulator (load average %s)", orDash(host.Load))
	stack, err := emulator.Start(ctx, emulator.Options{CacheDir: filepath.Join(o.Root, ".cache"), Log: emuLog, Steady: true})
	if err != nil {
		return nil, err
	}
	defer stack.Stop()
	env.DynamoDBEndpoint, env.SQSEndpoint = stack.DynamoDBEndpoint, stack.SQSEndpoint

	env.Progressf("provisioning both accounts (prefix %s) and building every function", env.Prefix)
	runner, err := localrun.Start(ctx, localrun.Options{
		Root:             o.Root,
		Template:         o.Template,
		Params:           o.Params,
		DynamoDBEndpoint: stack.DynamoDBEndpoint,
		SQSEndpoint:      stack.SQSEndpoint,
		Addr:             "127.0.0.1:0",
		Prefix:           env.Prefix,
		BinDir:           filepath.Join(work, "bin"),
		Log:              env.Log,
		// Lambda's account limit (1,000) is far above the load stages' 32 clients: no
		// throttles but those a function's own ReservedConcurrentExecutions causes.
		DefaultConcurrency: RunnerConcurrency,
	})
	if err != nil {
		return nil, err
	}
	defer runner.Close()
	env.Runner = runner
	defer env.runDeferred()
	env.Progressf("%d functions running, HTTP API on %s", len(runner.Functions), runner.URL)

	rep := &Report{Title: "etalase benchmark", Quick: o.Quick, Host: host}
	var errs []error
	for i, st := range o.Stages {
		env.Progressf("stage %d/%d: %s", i+1, len(o.Stages), st.Name)
		t0 := time.Now()
		secs, err := st.Run(ctx, env)
		rep.Sections = append(rep.Sections, secs...)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", st.Name, err))
			rep.Sections = append(rep.Sections, &Section{
				ID: "failed-" + slug(st.Name), Title: st.Name + " (failed)", Err: err.Error(),
			})
			env.Progressf("stage %s failed after %s: %v", st.Name, time.Since(t0).Round(time.Millisecond), err)
			if ctx.Err() != nil {
				break
			}
			continue
		}
		env.Progressf("stage %s done in %s", st.Name, time.Since(t0).Round(100*time.Millisecond))
	}
	rep.Generated = time.Now()
	rep.Took = Duration(time.Since(begin))
	if err := rep.Write(o.OutDir); err != nil {
		return rep, fmt.Errorf("write report: %w", err)
	}
	env.Progressf("report written to %s", filepath.Join(o.OutDir, "report.md"))
	return rep, errors.Join(errs...)
}

// newPrefix returns a fresh table and queue name prefix.
func newPrefix() string {
	var b [4]byte
	rand.Read(b[:])
	return "bench" + hex.EncodeToString(b[:]) + "-"
}

func readParams(path string) (map[string]string, error) {
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

func hostInfo() Host {
	h := Host{GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH, CPUs: runtime.NumCPU()}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) > 0 {
			h.Load = f[0]
		}
	}
	return h
}

// slug makes an id from a name: "cold start" → "cold-start".
func slug(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(s)), "-")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// lockedWriter serializes writes from many function processes' log sinks.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
