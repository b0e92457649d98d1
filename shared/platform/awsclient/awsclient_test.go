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
