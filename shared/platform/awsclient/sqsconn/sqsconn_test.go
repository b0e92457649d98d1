package sqsconn_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/etalase/etalase/shared/platform/awsclient"
	"github.com/etalase/etalase/shared/platform/awsclient/sqsconn"
)

type recorder struct{ url string }

var errRecorded = errors.New("recorded")

func (r *recorder) Do(req *http.Request) (*http.Response, error) {
	r.url = req.URL.Scheme + "://" + req.URL.Host + req.URL.Path
	return nil, errRecorded
}

// Endpoint resolves to where the client's requests go, whatever the configuration.
func TestEndpointIsWhereRequestsGo(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  awsclient.Config
		want string
	}{
		{"regional", awsclient.Config{Region: "ap-southeast-3"}, "https://sqs.ap-southeast-3.amazonaws.com/"},
		{"override", awsclient.Config{Region: "ap-southeast-3", SQSEndpoint: "http://127.0.0.1:9324"}, "http://127.0.0.1:9324/"},
		{"China", awsclient.Config{Region: "cn-north-1"}, "https://sqs.cn-north-1.amazonaws.com.cn/"},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.cfg.AccessKeyID, c.cfg.SecretAccessKey = "AK", "SK"
			awsCfg, err := awsclient.New(c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			rec := &recorder{}
			awsCfg = c.cfg.For(awsCfg, awsclient.SQS)
			awsCfg.HTTPClient = rec
			awsCfg.RetryMaxAttempts = 1
			q := sqs.NewFromConfig(awsCfg)
			got, err := sqsconn.Endpoint(context.Background(), q)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = q.SendMessage(context.Background(), &sqs.SendMessageInput{
				QueueUrl: aws.String("https://sqs.ap-southeast-3.amazonaws.com/222222222222/q"), MessageBody: aws.String("{}")})
			if rec.url == "" {
				t.Fatal("no request was sent")
			}
			if got != rec.url && got+"/" != rec.url {
				t.Errorf("Endpoint = %s, the request went to %s", got, rec.url)
			}
			if rec.url != c.want {
				t.Errorf("the request went to %s, want %s", rec.url, c.want)
			}
		})
	}
}
