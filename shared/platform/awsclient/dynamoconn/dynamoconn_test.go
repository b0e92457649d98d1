package dynamoconn_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/etalase/etalase/shared/platform/awsclient"
	"github.com/etalase/etalase/shared/platform/awsclient/dynamoconn"
)

// recorder is an HTTP client that records the URL of the one request it gets.
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
		{"regional", awsclient.Config{Region: "ap-southeast-3"}, "https://dynamodb.ap-southeast-3.amazonaws.com/"},
		{"account endpoint", awsclient.Config{Region: "ap-southeast-3", AccountID: "222222222222"}, "https://222222222222.ddb.ap-southeast-3.amazonaws.com/"},
		{"account endpoint disabled", awsclient.Config{Region: "ap-southeast-3", AccountID: "222222222222", AccountIDEndpointMode: "disabled"}, "https://dynamodb.ap-southeast-3.amazonaws.com/"},
		{"override", awsclient.Config{Region: "ap-southeast-3", DynamoDBEndpoint: "http://127.0.0.1:8000"}, "http://127.0.0.1:8000/"},
		{"global override", awsclient.Config{Region: "us-east-1", Endpoint: "http://localhost:4566"}, "http://localhost:4566/"},
		{"China", awsclient.Config{Region: "cn-north-1"}, "https://dynamodb.cn-north-1.amazonaws.com.cn/"},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.cfg.AccessKeyID, c.cfg.SecretAccessKey = "AK", "SK"
			awsCfg, err := awsclient.New(c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			rec := &recorder{}
			awsCfg = c.cfg.For(awsCfg, awsclient.DynamoDB)
			awsCfg.HTTPClient = rec
			awsCfg.RetryMaxAttempts = 1
			db := dynamodb.NewFromConfig(awsCfg)
			got, err := dynamoconn.Endpoint(context.Background(), db)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String("t"),
				Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "x"}}})
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
