package emulator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/etalase/etalase/infra/localaccount"
)

// Environment variables through which a runner hands the emulators to tests
// (see package infra/testenv).
const (
	// EnvDynamoDBEndpoint holds DynamoDB Local's endpoint URL.
	EnvDynamoDBEndpoint = "ETALASE_DYNAMODB_ENDPOINT"
	// EnvSQSEndpoint holds the SQS emulator's endpoint URL.
	EnvSQSEndpoint = "ETALASE_SQS_ENDPOINT"
	// EnvRequireEmulators, set to 1, makes integration tests fail instead of
	// skipping when the endpoints are missing.
	EnvRequireEmulators = "ETALASE_REQUIRE_EMULATORS"
)

const (
	// DefaultTimeout is how long Start waits for each emulator to answer.
	DefaultTimeout = 2 * time.Minute
	// stopGrace is how long Stop waits after SIGTERM before SIGKILL.
	stopGrace = 5 * time.Second
	// probeTimeout bounds one readiness API call.
	probeTimeout = 2 * time.Second
)

// Options configures Start.
type Options struct {
	// CacheDir is where Install keeps the emulators; empty means
	// DefaultCacheDir (.cache at the repository root).
	CacheDir string
	// DataDir, if set, makes DynamoDB Local persist its databases in this
	// directory (-dbPath, created if missing) instead of keeping them in memory.
	// fauxqs always keeps its queues in memory.
	DataDir string
	// Log receives the emulators' output, each line prefixed with
	// "[dynamodb] " or "[fauxqs] ", and Install's progress lines. nil discards
	// them; the last lines still appear in Start's errors.
	Log io.Writer
	// DynamoDBPort and SQSPort are the ports to listen on; 0 picks a free one.
	DynamoDBPort, SQSPort int
	// Timeout bounds the wait for each emulator to answer; 0 means DefaultTimeout.
	Timeout time.Duration
	// Steady tunes DynamoDB Local's JVM for steady throughput (the full JIT and the
	// default collector) instead of a quick start (C1 only, the serial collector, the
	// default for tests): the benchmark's latency figures are taken against it.
	Steady bool
}

// Stack is a running pair of emulators.
type Stack struct {
	// DynamoDBEndpoint is DynamoDB Local's URL, http://127.0.0.1:PORT.
	DynamoDBEndpoint string
	// SQSEndpoint is fauxqs's URL, http://127.0.0.1:PORT.
	SQSEndpoint string

	procs    []*proc
	stopOnce sync.Once
	stopErr  error
}

// Environ returns the environment entries that hand this stack to tests:
// EnvDynamoDBEndpoint and EnvSQSEndpoint.
func (s *Stack) Environ() []string {
	return []string{
		EnvDynamoDBEndpoint + "=" + s.DynamoDBEndpoint,
		EnvSQSEndpoint + "=" + s.SQSEndpoint,
	}
}

// Start installs the emulators if needed (see Install), starts DynamoDB Local
// and fauxqs, and returns once both answer API calls on 127.0.0.1. ctx bounds
// installation and start-up only: the emulators run until Stop. Each runs in a
// process group of its own; on Linux they are also killed if this process dies.
// On error nothing is left running.
func Start(ctx context.Context, opts Options) (*Stack, error) {
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.CacheDir == "" {
		dir, err := DefaultCacheDir()
		if err != nil {
			return nil, fmt.Errorf("start emulators: %w", err)
		}
		opts.CacheDir = dir
	}
	// Check requested ports before the slow parts.
	if err := checkRequestedPort(opts.DynamoDBPort); err != nil {
		return nil, fmt.Errorf("start dynamodb local: %w", err)
	}
	if err := checkRequestedPort(opts.SQSPort); err != nil {
		return nil, fmt.Errorf("start fauxqs: %w", err)
	}
	paths, err := Install(ctx, opts.CacheDir, opts.Log)
	if err != nil {
		return nil, err
	}
	dataDir := ""
	if opts.DataDir != "" {
		if dataDir, err = filepath.Abs(opts.DataDir); err == nil {
			err = os.MkdirAll(dataDir, 0o755)
		}
		if err != nil {
			return nil, fmt.Errorf("start dynamodb local: data dir: %w", err)
		}
	}

	outMu := new(sync.Mutex)
	dynamo := service{
		name: "dynamodb local",
		port: opts.DynamoDBPort,
		log:  func() *lineLog { return newLineLog("[dynamodb] ", opts.Log, outMu) },
		command: func(port int) *exec.Cmd {
			var args []string
			if !opts.Steady {
				// C1-only JIT and the serial collector: about 40% less CPU
				// until the first answer, which matters on small machines
				// running many test binaries at once.
				args = append(args, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")
			}
			args = append(args,
				// A plain IPv4 socket on 127.0.0.1 rather than an
				// IPv4-mapped address on a dual-stack IPv6 socket.
				"-Djava.net.preferIPv4Stack=true",
				"-Djava.library.path=./DynamoDBLocal_lib",
				// Not -jar DynamoDBLocal.jar, which listens on all
				// interfaces: the launcher compiled by Install serves
				// the same server on 127.0.0.1 only (see
				// dynamodb/EtalaseDynamoDBLocal.java). The jar's
				// manifest still brings in DynamoDBLocal_lib/.
				"-cp", "DynamoDBLocal.jar"+string(os.PathListSeparator)+paths.DynamoDBLauncherDir,
				dynamoLauncherClass,
				"-port", strconv.Itoa(port),
				"-disableTelemetry",
			)
			if dataDir != "" {
				args = append(args, "-dbPath", dataDir)
			} else {
				args = append(args, "-inMemory")
			}
			cmd := exec.Command(paths.Java, args...)
			cmd.Dir = paths.DynamoDBDir
			return cmd
		},
		probe: probeDynamoDB,
	}
	faux := service{
		name: "fauxqs",
		port: opts.SQSPort,
		log:  func() *lineLog { return newLineLog("[fauxqs] ", opts.Log, outMu) },
		command: func(port int) *exec.Cmd {
			cmd := exec.Command(paths.Node, paths.FauxqsLauncher)
			cmd.Dir = paths.FauxqsDir
			cmd.Env = append(os.Environ(),
				"FAUXQS_PORT="+strconv.Itoa(port),
				"ETALASE_FAUXQS_LISTEN=127.0.0.1",
				"FAUXQS_DEFAULT_REGION="+localaccount.Region,
			)
			return cmd
		},
		probe: probeSQS,
	}

	type started struct {
		p        *proc
		endpoint string
		err      error
	}
	var results [2]started
	var wg sync.WaitGroup
	for i, svc := range []service{dynamo, faux} {
		wg.Go(func() {
			p, endpoint, err := svc.start(ctx, opts.Timeout)
			results[i] = started{p, endpoint, err}
		})
	}
	wg.Wait()

	s := &Stack{
		DynamoDBEndpoint: results[0].endpoint,
		SQSEndpoint:      results[1].endpoint,
	}
	var errs []error
	for _, r := range results {
		if r.p != nil {
			s.procs = append(s.procs, r.p)
		}
		if r.err != nil {
			errs = append(errs, r.err)
		}
	}
	if len(errs) > 0 {
		if err := s.Stop(); err != nil {
			errs = append(errs, err)
		}
		return nil, errors.Join(errs...)
	}
	return s, nil
}

// Stop ends both emulators and their process groups: SIGTERM, then SIGKILL
// after a short grace, and waits until they are gone. Calling it again returns
// the first call's result. A nil Stack is already stopped.
func (s *Stack) Stop() error {
	if s == nil {
		return nil
	}
	s.stopOnce.Do(func() {
		errs := make([]error, len(s.procs))
		var wg sync.WaitGroup
		for i, p := range s.procs {
			wg.Go(func() { errs[i] = p.stop() })
		}
		wg.Wait()
		s.stopErr = errors.Join(errs...)
	})
	return s.stopErr
}

// service describes how to run and probe one emulator.
type service struct {
	name    string
	port    int // requested port; 0 picks one
	log     func() *lineLog
	command func(port int) *exec.Cmd
	probe   func(ctx context.Context, endpoint string) error
}

// start runs the service and waits until it answers. When the port was picked
// here and another process grabbed it in the meantime, it retries on a new one.
func (svc service) start(ctx context.Context, timeout time.Duration) (*proc, string, error) {
	attempts := 1
	if svc.port == 0 {
		attempts = 3
	}
	for attempt := 1; ; attempt++ {
		port := svc.port
		if port == 0 {
			var err error
			if port, err = freePort(); err != nil {
				return nil, "", fmt.Errorf("start %s: %w", svc.name, err)
			}
		}
		endpoint := "http://127.0.0.1:" + strconv.Itoa(port)
		log := svc.log()
		p, err := startProc(svc.name, svc.command(port), log)
		if err != nil {
			return nil, "", fmt.Errorf("start %s: %w", svc.name, err)
		}
		err = p.waitReady(ctx, endpoint, svc.probe, timeout)
		if err == nil {
			return p, endpoint, nil
		}
		if serr := p.stop(); serr != nil {
			err = errors.Join(err, serr)
		}
		if attempt < attempts && ctx.Err() == nil && (log.contains("already in use") || log.contains("EADDRINUSE")) {
			continue
		}
		return nil, "", fmt.Errorf("start %s: %w", svc.name, err)
	}
}

// proc is one running emulator process.
type proc struct {
	name    string
	cmd     *exec.Cmd
	log     *lineLog
	done    chan struct{} // closed once the process has been waited for
	waitErr error         // valid after done is closed
}

func startProc(name string, cmd *exec.Cmd, log *lineLog) (*proc, error) {
	cmd.Stdout = log
	cmd.Stderr = log
	cmd.WaitDelay = stopGrace
	setProcAttr(cmd)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{name: name, cmd: cmd, log: log, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		log.flush()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// waitReady polls probe until it succeeds while the process is still running.
func (p *proc) waitReady(ctx context.Context, endpoint string, probe func(context.Context, string) error, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	interval := 50 * time.Millisecond
	var lastErr error
	for {
		if p.exited() {
			return fmt.Errorf("exited before answering on %s (%v); last output:\n%s", endpoint, p.waitErr, p.log.lastLines())
		}
		pctx, pcancel := context.WithTimeout(ctx, probeTimeout)
		lastErr = probe(pctx, endpoint)
		pcancel()
		if lastErr == nil && !p.exited() {
			return nil
		}
		select {
		case <-ctx.Done():
			if !errors.Is(ctx.Err(), context.DeadlineExceeded) || time.Since(start) < timeout {
				return fmt.Errorf("waiting for %s: %w", endpoint, context.Cause(ctx))
			}
			return fmt.Errorf("no answer on %s within %s (last error: %v); last output:\n%s", endpoint, timeout, lastErr, p.log.lastLines())
		case <-p.done:
		case <-time.After(interval):
			interval = min(interval*2, 500*time.Millisecond)
		}
	}
}

// stop ends the process group: SIGTERM, SIGKILL after stopGrace, and waits.
func (p *proc) stop() error {
	pid := p.pid()
	if !p.exited() {
		if err := signalGroup(pid, sigTERM); err != nil {
			return fmt.Errorf("stop %s (pid %d): %w", p.name, pid, err)
		}
		select {
		case <-p.done:
		case <-time.After(stopGrace):
			if err := signalGroup(pid, sigKILL); err != nil {
				return fmt.Errorf("stop %s (pid %d): %w", p.name, pid, err)
			}
			select {
			case <-p.done:
			case <-time.After(10 * time.Second):
				return fmt.Errorf("stop %s (pid %d): still running 10s after SIGKILL", p.name, pid)
			}
		}
	}
	// Whatever the emulator left in its group goes too.
	if err := signalGroup(pid, sigKILL); err != nil {
		return fmt.Errorf("stop %s (pid %d): %w", p.name, pid, err)
	}
	return nil
}

// checkRequestedPort returns a plain error if port is set and cannot be bound.
func checkRequestedPort(port int) error {
	if port == 0 {
		return nil
	}
	if port < 0 || port > 65535 {
		return fmt.Errorf("invalid port %d", port)
	}
	if portInUse(port) {
		return fmt.Errorf("port %d is already in use", port)
	}
	return nil
}

// portInUse reports whether port cannot be bound on 127.0.0.1, where both
// emulators listen.
func portInUse(port int) bool {
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return true
	}
	l.Close()
	return false
}

// freePort returns a port that is free on 127.0.0.1.
func freePort() (int, error) {
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("pick a free port: %w", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if !portInUse(port) {
			return port, nil
		}
	}
	return 0, errors.New("pick a free port: no free port found")
}

// probeHTTPClient talks to the emulators directly: no proxy, no kept-alive
// connections left behind.
var probeHTTPClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

func probeCredentials() aws.CredentialsProvider {
	a := localaccount.Social
	return credentials.NewStaticCredentialsProvider(a.AccessKeyID, a.SecretAccessKey, "")
}

// probeDynamoDB calls ListTables. It uses the social account's credentials, so
// with a DataDir it creates no database file beyond the ones tests create.
func probeDynamoDB(ctx context.Context, endpoint string) error {
	c := dynamodb.New(dynamodb.Options{
		Region:       localaccount.Region,
		Credentials:  probeCredentials(),
		BaseEndpoint: aws.String(endpoint),
		HTTPClient:   probeHTTPClient,
		Retryer:      aws.NopRetryer{},
	})
	_, err := c.ListTables(ctx, &dynamodb.ListTablesInput{Limit: aws.Int32(1)})
	return err
}

// probeSQS calls ListQueues.
func probeSQS(ctx context.Context, endpoint string) error {
	c := sqs.New(sqs.Options{
		Region:       localaccount.Region,
		Credentials:  probeCredentials(),
		BaseEndpoint: aws.String(endpoint),
		HTTPClient:   probeHTTPClient,
		Retryer:      aws.NopRetryer{},
	})
	_, err := c.ListQueues(ctx, &sqs.ListQueuesInput{MaxResults: aws.Int32(1)})
	return err
}

// describeProcs is used in tests and errors: "name pid N" for each process.
func (s *Stack) describeProcs() string {
	parts := make([]string, len(s.procs))
	for i, p := range s.procs {
		parts[i] = fmt.Sprintf("%s pid %d", p.name, p.pid())
	}
	return strings.Join(parts, ", ")
}
