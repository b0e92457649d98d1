package testenv

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/etalase/etalase/infra/emulator"
	"github.com/etalase/etalase/infra/localaccount"
)

// AWS naming rules.
var (
	tableName = regexp.MustCompile(`^[a-zA-Z0-9_.-]{3,255}$`)
	queueName = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,80}$`)
	fifoName  = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,75}\.fifo$`)
)

func TestPrefix(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		p := Prefix(quietTB{TB: t})
		if seen[p] {
			t.Fatalf("Prefix returned %q twice", p)
		}
		seen[p] = true
		if len(p) != 14 || !strings.HasSuffix(p, "-") {
			t.Errorf("Prefix = %q, want 14 characters ending in -", p)
		}
		for _, name := range []string{p + "orders", p + "x"} {
			if !tableName.MatchString(name) {
				t.Errorf("%q is not a valid table name", name)
			}
			if !queueName.MatchString(name) {
				t.Errorf("%q is not a valid queue name", name)
			}
			if !fifoName.MatchString(name + ".fifo") {
				t.Errorf("%q is not a valid FIFO queue name", name+".fifo")
			}
		}
	}
}

// fakeTB records Skip and Fatal instead of ending the test.
type fakeTB struct {
	testing.TB
	skipped, fatal string
}

func (f *fakeTB) Helper()                           {}
func (f *fakeTB) Logf(string, ...any)               {}
func (f *fakeTB) Skip(args ...any)                  { f.skipped = fmt.Sprint(args...) }
func (f *fakeTB) Fatalf(format string, args ...any) { f.fatal = fmt.Sprintf(format, args...) }

// quietTB drops Logf.
type quietTB struct{ testing.TB }

func (quietTB) Helper()             {}
func (quietTB) Logf(string, ...any) {}

func TestEndpoints(t *testing.T) {
	for _, tc := range []struct {
		name             string
		dynamo, sqs, req string
		wantSkip         bool
		wantFatal        bool
	}{
		{name: "set", dynamo: "http://127.0.0.1:1", sqs: "http://127.0.0.1:2"},
		{name: "set and required", dynamo: "http://127.0.0.1:1", sqs: "http://127.0.0.1:2", req: "1"},
		{name: "missing", wantSkip: true},
		{name: "missing sqs", dynamo: "http://127.0.0.1:1", wantSkip: true},
		{name: "missing and required", req: "1", wantFatal: true},
		{name: "half and required", sqs: "http://127.0.0.1:2", req: "1", wantFatal: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(emulator.EnvDynamoDBEndpoint, tc.dynamo)
			t.Setenv(emulator.EnvSQSEndpoint, tc.sqs)
			t.Setenv(emulator.EnvRequireEmulators, tc.req)
			f := &fakeTB{TB: t}
			d, s := Endpoints(f)
			if got := f.skipped != ""; got != tc.wantSkip {
				t.Errorf("skipped = %q, want skip %v", f.skipped, tc.wantSkip)
			}
			if got := f.fatal != ""; got != tc.wantFatal {
				t.Errorf("fatal = %q, want fatal %v", f.fatal, tc.wantFatal)
			}
			if tc.wantSkip && f.skipped != SkipMessage {
				t.Errorf("skip message = %q, want %q", f.skipped, SkipMessage)
			}
			if tc.wantFatal && !strings.Contains(f.fatal, "make test") {
				t.Errorf("fatal message %q does not say how to run the emulators", f.fatal)
			}
			if !tc.wantSkip && !tc.wantFatal && (d != tc.dynamo || s != tc.sqs) {
				t.Errorf("Endpoints = %q, %q; want %q, %q", d, s, tc.dynamo, tc.sqs)
			}
		})
	}
}

func TestClients(t *testing.T) {
	t.Setenv(emulator.EnvDynamoDBEndpoint, "http://127.0.0.1:1")
	t.Setenv(emulator.EnvSQSEndpoint, "http://127.0.0.1:2")
	t.Setenv("AWS_ACCESS_KEY_ID", "FROM-ENV")
	t.Setenv("AWS_REGION", "us-west-2")
	t.Setenv("AWS_PROFILE", "does-not-exist")
	for _, acct := range localaccount.All {
		cfg := AWSConfig(t, acct)
		if cfg.Region != localaccount.Region {
			t.Errorf("%s: region = %q, want %q", acct.Side, cfg.Region, localaccount.Region)
		}
		creds, err := cfg.Credentials.Retrieve(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if creds.AccessKeyID != acct.AccessKeyID || creds.SecretAccessKey != acct.SecretAccessKey {
			t.Errorf("%s: credentials = %s/%s, want %s/%s", acct.Side, creds.AccessKeyID, creds.SecretAccessKey, acct.AccessKeyID, acct.SecretAccessKey)
		}
		if got := aws.ToString(DynamoDB(t, acct).Options().BaseEndpoint); got != "http://127.0.0.1:1" {
			t.Errorf("%s: DynamoDB endpoint = %q", acct.Side, got)
		}
		if got := aws.ToString(SQS(t, acct).Options().BaseEndpoint); got != "http://127.0.0.1:2" {
			t.Errorf("%s: SQS endpoint = %q", acct.Side, got)
		}
	}
}
