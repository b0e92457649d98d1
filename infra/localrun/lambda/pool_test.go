package lambda

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/etalase/etalase/infra/localrun/invoke"
)

// testFunctions are the Lambda functions under testdata, built together once per run.
var testFunctions = []string{"echo", "sleep", "crash", "handlererror", "initfail", "printenv"}

var (
	binDir    string
	buildOnce sync.Once
	buildErr  error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "localrun-lambda-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// binary returns the bootstrap of a test function, building all of them on first use
// with one go build, each into its own task root <dir>/<name>/bootstrap.
func binary(t *testing.T, name string) string {
	t.Helper()
	buildOnce.Do(func() {
		gobin, err := exec.LookPath("go")
		if err != nil {
			buildErr = err
			return
		}
		args := []string{"build", "-tags", "lambda.norpc", "-o", filepath.Join(binDir, "bin") + string(filepath.Separator)}
		for _, fn := range testFunctions {
			args = append(args, "./testdata/"+fn)
		}
		cmd := exec.Command(gobin, args...)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %w\n%s", err, out)
			return
		}
		for _, fn := range testFunctions {
			if err := os.MkdirAll(filepath.Join(binDir, fn), 0o755); err != nil {
				buildErr = err
				return
			}
			if err := os.Rename(filepath.Join(binDir, "bin", fn), filepath.Join(binDir, fn, "bootstrap")); err != nil {
				buildErr = err
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatalf("build test functions: %v", buildErr)
	}
	return filepath.Join(binDir, name, "bootstrap")
}

// syncBuffer is a log that tests read while pools write it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *syncBuffer) lines() []string {
	return strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
}

// waitFor polls the log until it has a line equal to line.
func (b *syncBuffer) waitFor(t *testing.T, line string) {
	t.Helper()
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		for _, l := range b.lines() {
			if l == line {
				return
			}
		}
	}
	t.Errorf("log has no line %q", line)
}

// report returns the REPORT line of one request.
func (b *syncBuffer) report(t *testing.T, requestID string) string {
	t.Helper()
	for _, l := range b.lines() {
		if strings.HasPrefix(l, testPrefix+"REPORT RequestId: "+requestID+"\t") {
			return l
		}
	}
	t.Errorf("log has no REPORT line for %s", requestID)
	return ""
}

const testPrefix = "[social/TestFunction] "

func newTestPool(t *testing.T, fn string, configure func(*Config)) (*Pool, *syncBuffer) {
	t.Helper()
	log := &syncBuffer{}
	cfg := Config{
		Name:           "TestFunction",
		Account:        "social",
		Binary:         binary(t, fn),
		Env:            []string{"AWS_REGION=eu-west-1"},
		Timeout:        5 * time.Second,
		MemoryMB:       256,
		MaxConcurrency: 1,
		Log:            log,
	}
	if configure != nil {
		configure(&cfg)
	}
	p := NewPool(cfg)
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if t.Failed() {
			t.Logf("function log:\n%s", log.String())
		}
	})
	return p, log
}

// processGone waits until pid has exited; a zombie that only awaits its reaper counts as gone.
func processGone(t *testing.T, pid int) {
	t.Helper()
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
			return
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return
		}
		if i := bytes.LastIndexByte(stat, ')'); i > 0 && len(stat) > i+2 && stat[i+2] == 'Z' {
			return
		}
	}
	t.Errorf("process %d is still running", pid)
}

var reportRE = regexp.MustCompile(`^\[social/TestFunction\] REPORT RequestId: [0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}` +
	`\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\tMemory Size: 256 MB\tMax Memory Used: [1-9]\d* MB` +
	`(\tInit Duration: \d+\.\d\d ms)?(\tStatus: (timeout|error)(\tError Type: \S+)?)?$`)

func TestWarmReuse(t *testing.T) {
	p, log := newTestPool(t, "echo", nil)
	ctx := context.Background()
	payload := []byte(`{"hello":"world"}`)

	first, err := p.InvokeDetailed(ctx, payload)
	if err != nil {
		t.Fatalf("first invoke: %v", err)
	}
	second, err := p.InvokeDetailed(ctx, payload)
	if err != nil {
		t.Fatalf("second invoke: %v", err)
	}
	for i, r := range []Result{first, second} {
		if !bytes.Equal(r.Payload, payload) {
			t.Errorf("invoke %d: payload %s, want %s", i, r.Payload, payload)
		}
	}
	if first.InitDuration <= 0 {
		t.Errorf("first invoke: InitDuration %v, want a cold start", first.InitDuration)
	}
	if second.InitDuration != 0 {
		t.Errorf("second invoke: InitDuration %v, want warm", second.InitDuration)
	}
	if first.PID == 0 || second.PID != first.PID {
		t.Errorf("pids %d then %d, want the same process", first.PID, second.PID)
	}
	if first.RequestID == second.RequestID {
		t.Errorf("both invocations have request id %s", first.RequestID)
	}
	if first.MaxMemoryMB <= 0 {
		t.Errorf("MaxMemoryMB %d, want the peak RSS", first.MaxMemoryMB)
	}
	if diff := cmp.Diff(Stats{Processes: 1, ColdStarts: 1, Invocations: 2, Reported: 2}, counts(p.Stats())); diff != "" {
		t.Errorf("Stats (-want +got):\n%s", diff)
	}

	for _, tc := range []struct {
		name     string
		res      Result
		wantInit bool
	}{
		{"cold", first, true},
		{"warm", second, false},
	} {
		line := log.report(t, tc.res.RequestID)
		if !reportRE.MatchString(line) {
			t.Errorf("%s REPORT line %q does not match %s", tc.name, line, reportRE)
		}
		if got := strings.Contains(line, "\tInit Duration: "); got != tc.wantInit {
			t.Errorf("%s REPORT line %q: has Init Duration %v, want %v", tc.name, line, got, tc.wantInit)
		}
		want := fmt.Sprintf("Billed Duration: %d ms", tc.res.BilledDuration.Milliseconds())
		if !strings.Contains(line, want) {
			t.Errorf("%s REPORT line %q lacks %q", tc.name, line, want)
		}
		log.waitFor(t, testPrefix+"START RequestId: "+tc.res.RequestID+" Version: $LATEST")
		log.waitFor(t, testPrefix+"END RequestId: "+tc.res.RequestID)
	}

	log.waitFor(t, testPrefix+"echo: plain line")
	jsonLine := testPrefix + `{"level":"info","msg":"echo: json line","n":1}`
	log.waitFor(t, jsonLine)
	var v map[string]any
	if err := json.Unmarshal([]byte(strings.TrimPrefix(jsonLine, testPrefix)), &v); err != nil {
		t.Errorf("JSON log line is not intact after the prefix: %v", err)
	}
}

func TestFailures(t *testing.T) {
	tooLarge := `"` + strings.Repeat("x", MaxResponseBytes) + `"`
	tests := []struct {
		name        string
		fn          string
		env         []string
		timeout     time.Duration
		initTimeout time.Duration
		payload     string
		wantType    string
		wantMsg     string // regexp
		wantStatus  string // REPORT line suffix
		wantLog     string // a line of the function's output, after the prefix
		then        string // payload of a second invocation
		thenType    string // its error type, "" for success
		thenWarm    bool   // whether it runs on the same process
	}{
		{
			name: "handler error keeps the process warm", fn: "handlererror", payload: `{}`,
			wantType: "ValidationError", wantMsg: `^invalid field sku$`,
			then: `{}`, thenType: "ValidationError", thenWarm: true,
		},
		{
			name: "response stream breaks", fn: "handlererror", payload: `{"stream":true}`,
			wantType: "StreamError", wantMsg: `^stream broke$`,
			then: `{}`, thenType: "ValidationError", thenWarm: true,
		},
		{
			name: "crash", fn: "crash", payload: `{"crash":true}`,
			wantType: "Runtime.ExitError", wantMsg: `^RequestId: \S+ Error: Runtime exited with error: exit status 2$`,
			wantStatus: "\tStatus: error\tError Type: Runtime.ExitError", wantLog: "crash: exiting",
			then: `{"crash":false}`,
		},
		{
			name: "timeout", fn: "sleep", timeout: 300 * time.Millisecond, payload: `{"ms":5000}`,
			wantType: "Sandbox.Timedout", wantMsg: `^Task timed out after 0\.30 seconds$`,
			wantStatus: "\tStatus: timeout",
			then:       `{"ms":1}`,
		},
		{
			name: "init exits", fn: "initfail", env: []string{"INIT_MODE=exit"}, payload: `{}`,
			wantType: "Runtime.ExitError", wantMsg: `^RequestId: \S+ Error: Runtime exited with error: exit status 3$`,
			wantStatus: "\tStatus: error\tError Type: Runtime.ExitError", wantLog: "initfail: missing configuration",
			then: `{}`, thenType: "Runtime.ExitError",
		},
		{
			name: "init panics", fn: "initfail", env: []string{"INIT_MODE=panic"}, payload: `{}`,
			wantType: "Runtime.ExitError", wantMsg: `exit status 2$`,
			wantStatus: "\tStatus: error\tError Type: Runtime.ExitError", wantLog: "panic: initfail: boom",
			then: `{}`, thenType: "Runtime.ExitError",
		},
		{
			name: "init reports init/error", fn: "initfail", env: []string{"INIT_MODE=report"}, payload: `{}`,
			wantType: "InitConfigError", wantMsg: `^cannot load config$`,
			wantStatus: "\tStatus: error\tError Type: InitConfigError",
			then:       `{}`, thenType: "InitConfigError",
		},
		{
			name: "init hangs past the init limit", fn: "initfail", env: []string{"INIT_MODE=hang"},
			initTimeout: 300 * time.Millisecond, payload: `{}`,
			wantType: "Sandbox.Timedout", wantMsg: `^Init timed out after 0\.30 seconds$`,
			wantStatus: "\tStatus: error\tError Type: Sandbox.Timedout",
			then:       `{}`, thenType: "Sandbox.Timedout",
		},
		{
			name: "response too large", fn: "echo", payload: tooLarge,
			wantType: "Function.ResponseSizeTooLarge", wantMsg: `^Response payload size exceeded maximum allowed payload size \(6291556 bytes\)\.$`,
			then: `"small"`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, log := newTestPool(t, tc.fn, func(c *Config) {
				c.Env = append(c.Env, tc.env...)
				if tc.timeout > 0 {
					c.Timeout = tc.timeout
				}
			})
			if tc.initTimeout > 0 {
				p.initTimeout = tc.initTimeout
			}
			ctx := context.Background()

			first, err := p.InvokeDetailed(ctx, []byte(tc.payload))
			var fe *invoke.FunctionError
			if !errors.As(err, &fe) {
				t.Fatalf("first invoke: error %v, want a FunctionError", err)
			}
			if fe.Type != tc.wantType || !regexp.MustCompile(tc.wantMsg).MatchString(fe.Message) {
				t.Errorf("first invoke: %s: %s, want %s: /%s/", fe.Type, fe.Message, tc.wantType, tc.wantMsg)
			}
			line := log.report(t, first.RequestID)
			if !reportRE.MatchString(line) {
				t.Errorf("REPORT line %q does not match %s", line, reportRE)
			}
			if tc.wantStatus != "" && !strings.HasSuffix(line, tc.wantStatus) {
				t.Errorf("REPORT line %q does not end with %q", line, tc.wantStatus)
			}
			if tc.wantStatus == "" && strings.Contains(line, "Status:") {
				t.Errorf("REPORT line %q has a status", line)
			}
			if tc.wantLog != "" {
				log.waitFor(t, testPrefix+tc.wantLog)
			}
			if !tc.thenWarm {
				if got := p.Stats().Processes; got != 0 {
					t.Errorf("after the failure %d processes are left, want 0", got)
				}
				if first.PID != 0 {
					processGone(t, first.PID)
				}
			}

			second, err := p.InvokeDetailed(ctx, []byte(tc.then))
			gotType := ""
			if errors.As(err, &fe) {
				gotType = fe.Type
			} else if err != nil {
				t.Fatalf("second invoke: %v", err)
			}
			if gotType != tc.thenType {
				t.Errorf("second invoke: error type %q, want %q", gotType, tc.thenType)
			}
			if warm := second.PID == first.PID && second.InitDuration == 0; warm != tc.thenWarm {
				t.Errorf("second invoke: pid %d after %d, init %v: warm %v, want %v",
					second.PID, first.PID, second.InitDuration, warm, tc.thenWarm)
			}
			wantCold := 2
			if tc.thenWarm {
				wantCold = 1
			}
			if got := p.Stats().ColdStarts; got != wantCold {
				t.Errorf("ColdStarts %d, want %d", got, wantCold)
			}
		})
	}
}

func TestConcurrencyThrottles(t *testing.T) {
	p, _ := newTestPool(t, "sleep", func(c *Config) { c.MaxConcurrency = 2 })
	const calls = 5
	type outcome struct {
		res Result
		err error
	}
	results := make(chan outcome, calls)
	start := make(chan struct{})
	for range calls {
		go func() {
			<-start
			res, err := p.InvokeDetailed(context.Background(), []byte(`{"ms":800}`))
			results <- outcome{res, err}
		}()
	}
	close(start)
	pids := map[int]bool{}
	throttled := 0
	for range calls {
		o := <-results
		switch {
		case errors.Is(o.err, invoke.ErrThrottled):
			throttled++
		case o.err != nil:
			t.Errorf("invoke: %v", o.err)
		default:
			pids[o.res.PID] = true
		}
	}
	if len(pids) != 2 || throttled != calls-2 {
		t.Errorf("%d processes ran invocations and %d were throttled, want 2 and %d", len(pids), throttled, calls-2)
	}
	want := Stats{Processes: 2, ColdStarts: 2, Invocations: 2, Throttles: calls - 2, Reported: 2}
	if diff := cmp.Diff(want, counts(p.Stats())); diff != "" {
		t.Errorf("Stats (-want +got):\n%s", diff)
	}

	res, err := p.InvokeDetailed(context.Background(), []byte(`{"ms":0}`))
	if err != nil {
		t.Fatalf("invoke after the burst: %v", err)
	}
	if !pids[res.PID] || res.InitDuration != 0 {
		t.Errorf("invoke after the burst ran on pid %d (init %v), want a warm one of %v", res.PID, res.InitDuration, pids)
	}
}

func TestEnvironmentIsolation(t *testing.T) {
	t.Setenv("SECRET_OF_OTHER_ACCOUNT", "x")
	const arn = "arn:aws:lambda:eu-west-1:111111111111:function:etalase-social-Feed"
	p, _ := newTestPool(t, "printenv", func(c *Config) {
		c.ARN = arn
		c.Env = []string{"AWS_ACCESS_KEY_ID=social-key", "TABLE_NAME=posts", "AWS_LAMBDA_FUNCTION_NAME=spoofed"}
	})
	before := time.Now()
	res, err := p.InvokeDetailed(context.Background(), []byte(`{}`))
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	var got struct {
		Env        map[string]string `json:"env"`
		RequestID  string            `json:"requestId"`
		ARN        string            `json:"arn"`
		DeadlineMS int64             `json:"deadlineMs"`
	}
	if err := json.Unmarshal(res.Payload, &got); err != nil {
		t.Fatalf("response %s: %v", res.Payload, err)
	}

	want := map[string]string{
		"AWS_ACCESS_KEY_ID":               "social-key",
		"TABLE_NAME":                      "posts",
		"PATH":                            "/usr/local/bin:/usr/bin/:/bin:/opt/bin",
		"AWS_LAMBDA_FUNCTION_NAME":        "etalase-social-Feed",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/etalase-social-Feed",
		"_HANDLER":                        "bootstrap",
		"LAMBDA_TASK_ROOT":                filepath.Join(binDir, "printenv"),
		"AWS_EXECUTION_ENV":               "AWS_Lambda_provided.al2023",
		"TZ":                              ":UTC",
		"AWS_LAMBDA_INITIALIZATION_TYPE":  "on-demand",
	}
	patterns := map[string]*regexp.Regexp{
		"AWS_LAMBDA_RUNTIME_API":     regexp.MustCompile(`^127\.0\.0\.1:\d+$`),
		"AWS_LAMBDA_LOG_STREAM_NAME": regexp.MustCompile(`^\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}$`),
		"_X_AMZN_TRACE_ID":           regexp.MustCompile(`^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$`), // set by aws-lambda-go
	}
	gotFixed := map[string]string{}
	for k, v := range got.Env {
		if re, ok := patterns[k]; ok {
			if !re.MatchString(v) {
				t.Errorf("%s=%q does not match %s", k, v, re)
			}
			continue
		}
		gotFixed[k] = v
	}
	if diff := cmp.Diff(want, gotFixed, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("function environment (-want +got):\n%s", diff)
	}
	for k := range patterns {
		if _, ok := got.Env[k]; !ok {
			t.Errorf("function environment lacks %s", k)
		}
	}
	if _, ok := got.Env["SECRET_OF_OTHER_ACCOUNT"]; ok {
		t.Error("the runner's own environment leaked into the function")
	}

	if got.RequestID != res.RequestID || got.ARN != arn {
		t.Errorf("function saw request id %q, arn %q; want %q, %q", got.RequestID, got.ARN, res.RequestID, arn)
	}
	deadline := time.UnixMilli(got.DeadlineMS)
	if lo, hi := before.Add(5*time.Second-time.Millisecond), time.Now().Add(5*time.Second); deadline.Before(lo) || deadline.After(hi) {
		t.Errorf("deadline %v, want dispatch + 5s, within [%v, %v]", deadline, lo, hi)
	}
}

func TestCancelDoesNotStopTheInvocation(t *testing.T) {
	p, log := newTestPool(t, "sleep", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	began := time.Now()
	_, err := p.InvokeDetailed(ctx, []byte(`{"ms":700}`))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("invoke: %v, want the context's error", err)
	}
	if took := time.Since(began); took > 500*time.Millisecond {
		t.Errorf("invoke returned after %v, want soon after the caller left", took)
	}
	if _, err := p.Invoke(context.Background(), []byte(`{"ms":0}`)); !errors.Is(err, invoke.ErrThrottled) {
		t.Errorf("invoke while the abandoned one runs: %v, want ErrThrottled", err)
	}
	for end := time.Now().Add(3 * time.Second); p.Stats().Busy > 0 && time.Now().Before(end); {
		time.Sleep(10 * time.Millisecond)
	}
	if n := strings.Count(log.String(), "] REPORT "); n != 1 {
		t.Errorf("%d REPORT lines after the abandoned invocation, want 1", n)
	}
	res, err := p.InvokeDetailed(context.Background(), []byte(`{"ms":0}`))
	if err != nil || res.InitDuration != 0 {
		t.Errorf("invoke after the abandoned one: init %v, %v; want warm, no error", res.InitDuration, err)
	}
}

func TestCloseLeavesNoProcess(t *testing.T) {
	p, _ := newTestPool(t, "sleep", func(c *Config) { c.MaxConcurrency = 2 })

	// One process stays busy until Close; a second one, idle, leaves a child behind.
	busy := make(chan error, 1)
	go func() {
		_, err := p.Invoke(context.Background(), []byte(`{"ms":10000}`))
		busy <- err
	}()
	for end := time.Now().Add(3 * time.Second); p.Stats().Busy < 1 && time.Now().Before(end); {
		time.Sleep(5 * time.Millisecond)
	}
	res, err := p.InvokeDetailed(context.Background(), []byte(`{"ms":0,"child":true}`))
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	var out struct {
		PID      int `json:"pid"`
		ChildPID int `json:"childPid"`
	}
	if err := json.Unmarshal(res.Payload, &out); err != nil || out.ChildPID == 0 || out.PID != res.PID {
		t.Fatalf("response %s (%v), want the function's pid %d and its child's", res.Payload, err, res.PID)
	}
	p.mu.Lock()
	pids := []int{out.ChildPID}
	for pr := range p.procs {
		pids = append(pids, pr.pid())
	}
	p.mu.Unlock()
	if want := (Stats{Processes: 2, Busy: 1, ColdStarts: 2, Invocations: 2, Reported: 1}); counts(p.Stats()) != want || len(pids) != 3 {
		t.Fatalf("Stats %+v, pids %v; want %+v, two functions and a child", p.Stats(), pids, want)
	}

	if err := p.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	var fe *invoke.FunctionError
	if err := <-busy; !errors.As(err, &fe) || fe.Type != "Runtime.ExitError" {
		t.Errorf("invocation running at Close: %v, want Runtime.ExitError", err)
	}
	for _, pid := range pids {
		processGone(t, pid)
	}
	if got := p.Stats().Processes; got != 0 {
		t.Errorf("Stats().Processes %d after Close, want 0", got)
	}
	if _, err := p.Invoke(context.Background(), []byte(`{}`)); !errors.Is(err, ErrClosed) {
		t.Errorf("invoke after Close: %v, want ErrClosed", err)
	}
}

func TestReportLine(t *testing.T) {
	tests := []struct {
		name    string
		res     Result
		status  string
		errType string
		want    string
	}{
		{
			name: "warm",
			res:  Result{RequestID: "r1", Duration: 12340 * time.Microsecond, MaxMemoryMB: 23},
			want: "REPORT RequestId: r1\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 256 MB\tMax Memory Used: 23 MB",
		},
		{
			name: "cold start bills the init",
			res:  Result{RequestID: "r2", Duration: 12340 * time.Microsecond, InitDuration: 45670 * time.Microsecond, MaxMemoryMB: 23},
			want: "REPORT RequestId: r2\tDuration: 12.34 ms\tBilled Duration: 59 ms\tMemory Size: 256 MB\tMax Memory Used: 23 MB\tInit Duration: 45.67 ms",
		},
		{
			name:   "timeout",
			res:    Result{RequestID: "r3", Duration: 3 * time.Second, MaxMemoryMB: 30},
			status: "timeout",
			want:   "REPORT RequestId: r3\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\tMemory Size: 256 MB\tMax Memory Used: 30 MB\tStatus: timeout",
		},
		{
			name:   "crash",
			res:    Result{RequestID: "r4", Duration: time.Microsecond, MaxMemoryMB: 1},
			status: "error", errType: "Runtime.ExitError",
			want: "REPORT RequestId: r4\tDuration: 0.00 ms\tBilled Duration: 1 ms\tMemory Size: 256 MB\tMax Memory Used: 1 MB\tStatus: error\tError Type: Runtime.ExitError",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.res.BilledDuration = billed(tc.res.Duration + tc.res.InitDuration)
			if got := reportLine(tc.res, 256, tc.status, tc.errType); got != tc.want {
				t.Errorf("reportLine\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestLineWriter(t *testing.T) {
	tests := []struct {
		name   string
		writes []string
		want   string
	}{
		{"whole lines", []string{"a\nb\n"}, "[x/F] a\n[x/F] b\n"},
		{"split across writes", []string{"hel", "lo\nwor", "ld\n"}, "[x/F] hello\n[x/F] world\n"},
		{"json kept intact", []string{`{"level":"info","msg":"a b"}` + "\r\n"}, `[x/F] {"level":"info","msg":"a b"}` + "\n"},
		{"unterminated last line", []string{"tail"}, "[x/F] tail\n"},
		{"empty line", []string{"\n"}, "[x/F] \n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := &lineWriter{sink: newLogSink(&buf, "x", "F")}
			for _, s := range tc.writes {
				if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
					t.Fatalf("Write(%q) = %d, %v", s, n, err)
				}
			}
			w.flush()
			if got := buf.String(); got != tc.want {
				t.Errorf("log %q, want %q", got, tc.want)
			}
		})
	}
}

// KillRate 1 kills every invocation's process while it runs: the invocation fails as a
// crash does, the pool counts it, and the next invocation starts cold.
func TestKillMidInvocation(t *testing.T) {
	p, log := newTestPool(t, "sleep", func(c *Config) { c.KillRate, c.KillWithin = 1, 20*time.Millisecond })
	res, err := p.InvokeDetailed(context.Background(), []byte(`{"ms":2000}`))
	var fe *invoke.FunctionError
	if !errors.As(err, &fe) || fe.Type != "Runtime.ExitError" {
		t.Fatalf("error %v, want Runtime.ExitError", err)
	}
	if res.Duration >= 2*time.Second {
		t.Errorf("the invocation ran its whole %v", res.Duration)
	}
	processGone(t, res.PID)
	if s := p.Stats(); s.Kills != 1 || s.Processes != 0 {
		t.Errorf("stats %+v, want 1 kill and no process", s)
	}
	if !strings.Contains(log.String(), "killed the process mid-invocation") {
		t.Error("no log line says the process was killed")
	}
	// Without kills the same pool runs normally again, cold.
	p.cfg.KillRate = 0
	if res, err := p.InvokeDetailed(context.Background(), []byte(`{"ms":1}`)); err != nil || res.InitDuration == 0 {
		t.Errorf("next invocation: %v, init %v", err, res.InitDuration)
	}
}
