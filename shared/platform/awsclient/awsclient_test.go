package awsclient

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func TestNew(t *testing.T) {
	if _, err := New(Config{Region: "r"}); err == nil {
		t.Fatal("no error without credentials")
	}
	c := Config{Region: "ap-southeast-3", AccessKeyID: "AK", SecretAccessKey: "SK", SessionToken: "ST", Endpoint: "http://all", DynamoDBEndpoint: "http://ddb"}
	cfg, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil || creds.AccessKeyID != "AK" || creds.SessionToken != "ST" {
		t.Errorf("credentials = %+v, %v", creds, err)
	}
	for _, tt := range []struct {
		s    Service
		want string
	}{{DynamoDB, "http://ddb"}, {SQS, "http://all"}} {
		if got := aws.ToString(c.For(cfg, tt.s).BaseEndpoint); got != tt.want {
			t.Errorf("endpoint for %d = %q, want %q", tt.s, got, tt.want)
		}
	}
	if aws.ToString(cfg.BaseEndpoint) != "http://all" {
		t.Error("For changed the base config")
	}
}

func TestNewErrors(t *testing.T) {
	ok := Config{Region: "r", AccessKeyID: "AK", SecretAccessKey: "SK"}
	for name, c := range map[string]Config{
		"no region":          {AccessKeyID: "AK", SecretAccessKey: "SK"},
		"no secret":          {Region: "r", AccessKeyID: "AK"},
		"unknown retry mode": func() Config { c := ok; c.RetryMode = "eager"; return c }(),
		"unknown account id endpoint mode": func() Config {
			c := ok
			c.AccountIDEndpointMode = "sometimes"
			return c
		}(),
	} {
		if _, err := New(c); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := New(ok); err != nil {
		t.Errorf("valid config: %v", err)
	}
}
