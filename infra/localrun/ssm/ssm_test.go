package ssm_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsssm "github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/etalase/etalase/infra/localaccount"
	"github.com/etalase/etalase/infra/localrun/ssm"
	"github.com/etalase/etalase/shared/platform/secrets"
)

// start serves a fresh emulator on a free port and returns it with its URL.
func start(t *testing.T) (*ssm.Server, string) {
	t.Helper()
	s := ssm.New()
	url, err := s.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("emulator URL %s is not on 127.0.0.1", url)
	}
	t.Cleanup(func() { s.Close() })
	return s, url
}

// client is the real SDK client with an account's local credentials, as a function
// builds it from AWS_ENDPOINT_URL_SSM.
func client(url, accessKey string) *awsssm.Client {
	return awsssm.New(awsssm.Options{
		Region:       localaccount.Region,
		Credentials:  credentials.NewStaticCredentialsProvider(accessKey, "local", ""),
		BaseEndpoint: aws.String(url),
	})
}

// secretsClient is the client functions use (secrets.NewClient), for the same account.
func secretsClient(url, accessKey string) *secrets.Client {
	return secrets.NewClient(aws.Config{
		Region:       localaccount.Region,
		Credentials:  credentials.NewStaticCredentialsProvider(accessKey, "local", ""),
		BaseEndpoint: aws.String(url),
	})
}

// apiCode returns the SSM error code of err, or "" if it is not an API error.
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestGetParameter(t *testing.T) {
	s, url := start(t)
	before := time.Now().Add(-time.Second)
	if _, err := s.Put(localaccount.Commerce, "/etalase/commerce/midtrans-server-key", "SB-Mid-server-abc", ssm.TypeSecureString); err != nil {
		t.Fatal(err)
	}
	c := client(url, localaccount.Commerce.AccessKeyID)
	ctx := context.Background()

	out, err := c.GetParameter(ctx, &awsssm.GetParameterInput{Name: aws.String("/etalase/commerce/midtrans-server-key"), WithDecryption: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	p := out.Parameter
	want := types.Parameter{
		ARN:      aws.String("arn:aws:ssm:" + localaccount.Region + ":" + localaccount.Commerce.ID + ":parameter/etalase/commerce/midtrans-server-key"),
		DataType: aws.String("text"),
		Name:     aws.String("/etalase/commerce/midtrans-server-key"),
		Type:     types.ParameterTypeSecureString,
		Value:    aws.String("SB-Mid-server-abc"),
		Version:  1,
	}
	if diff := cmp.Diff(want, *p, cmp.FilterPath(func(p cmp.Path) bool {
		f := p.Last().String()
		return f == ".LastModifiedDate" || strings.Contains(f, "noSmithyDocumentSerde")
	}, cmp.Ignore())); diff != "" {
		t.Errorf("parameter (-want +got):\n%s", diff)
	}
	if p.LastModifiedDate == nil || p.LastModifiedDate.Before(before) || p.LastModifiedDate.After(time.Now().Add(time.Second)) {
		t.Errorf("LastModifiedDate = %v", p.LastModifiedDate)
	}

	// Without decryption a SecureString is ciphertext, as in AWS.
	out, err = c.GetParameter(ctx, &awsssm.GetParameterInput{Name: aws.String("/etalase/commerce/midtrans-server-key")})
	if err != nil {
		t.Fatal(err)
	}
	if v := aws.ToString(out.Parameter.Value); v == "SB-Mid-server-abc" || v == "" {
		t.Errorf("SecureString without decryption = %q, want ciphertext", v)
	}

	// By ARN and by version selector.
	out, err = c.GetParameter(ctx, &awsssm.GetParameterInput{Name: want.ARN, WithDecryption: aws.Bool(true)})
	if err != nil || aws.ToString(out.Parameter.Value) != "SB-Mid-server-abc" {
		t.Errorf("by ARN = %v, %v", out, err)
	}
	out, err = c.GetParameter(ctx, &awsssm.GetParameterInput{Name: aws.String("/etalase/commerce/midtrans-server-key:1"), WithDecryption: aws.Bool(true)})
	if err != nil || aws.ToString(out.Parameter.Selector) != ":1" {
		t.Errorf("by version = %v, %v", out, err)
	}

	_, err = c.GetParameter(ctx, &awsssm.GetParameterInput{Name: aws.String("/etalase/commerce/nothing")})
	var nf *types.ParameterNotFound
	if !errors.As(err, &nf) {
		t.Errorf("missing parameter: err = %v, want ParameterNotFound", err)
	}
}

func TestPutParameter(t *testing.T) {
	_, url := start(t)
	c := client(url, localaccount.Social.AccessKeyID)
	ctx := context.Background()
	put := func(value string, overwrite bool) (*awsssm.PutParameterOutput, error) {
		return c.PutParameter(ctx, &awsssm.PutParameterInput{
			Name: aws.String("/etalase/social/k"), Value: aws.String(value), Type: types.ParameterTypeString, Overwrite: aws.Bool(overwrite),
		})
	}
	out, err := put("one", false)
	if err != nil || out.Version != 1 || out.Tier != types.ParameterTierStandard {
		t.Fatalf("first put = %+v, %v", out, err)
	}
	var exists *types.ParameterAlreadyExists
	if _, err := put("two", false); !errors.As(err, &exists) {
		t.Errorf("put over an existing one without Overwrite: err = %v", err)
	}
	if out, err := put("two", true); err != nil || out.Version != 2 {
		t.Fatalf("overwrite = %+v, %v", out, err)
	}
	got, err := c.GetParameter(ctx, &awsssm.GetParameterInput{Name: aws.String("/etalase/social/k")})
	if err != nil || aws.ToString(got.Parameter.Value) != "two" || got.Parameter.Version != 2 || got.Parameter.Type != types.ParameterTypeString {
		t.Errorf("after overwrite = %+v, %v", got, err)
	}
	if _, err := c.GetParameter(ctx, &awsssm.GetParameterInput{Name: aws.String("/etalase/social/k:1")}); apiCode(err) != "ParameterNotFound" {
		t.Errorf("an old version: err = %v, want ParameterNotFound", err)
	}
	for _, in := range []*awsssm.PutParameterInput{
		{Name: aws.String("relative/name"), Value: aws.String("v"), Type: types.ParameterTypeString},
		{Name: aws.String("/new"), Value: aws.String("v")}, // no type for a new parameter
		{Name: aws.String("/aws/reserved"), Value: aws.String("v"), Type: types.ParameterTypeString},
		{Name: aws.String("/big"), Value: aws.String(strings.Repeat("x", 4097)), Type: types.ParameterTypeString},
	} {
		if _, err := c.PutParameter(ctx, in); apiCode(err) != "ValidationException" {
			t.Errorf("PutParameter(%s): err = %v, want ValidationException", aws.ToString(in.Name), err)
		}
	}
}

func TestGetParameters(t *testing.T) {
	s, url := start(t)
	for _, n := range []string{"/a", "/b"} {
		if _, err := s.Put(localaccount.Commerce, n, "value of "+n, ""); err != nil {
			t.Fatal(err)
		}
	}
	c := client(url, localaccount.Commerce.AccessKeyID)
	out, err := c.GetParameters(context.Background(), &awsssm.GetParametersInput{
		Names: []string{"/a", "/missing", "/b", "/a"}, WithDecryption: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, p := range out.Parameters {
		got[aws.ToString(p.Name)] = aws.ToString(p.Value)
	}
	if diff := cmp.Diff(map[string]string{"/a": "value of /a", "/b": "value of /b"}, got); diff != "" {
		t.Errorf("parameters (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"/missing"}, out.InvalidParameters); diff != "" {
		t.Errorf("invalid parameters (-want +got):\n%s", diff)
	}

	var eleven []string
	for i := range 11 {
		eleven = append(eleven, fmt.Sprintf("/n%d", i))
	}
	if _, err := c.GetParameters(context.Background(), &awsssm.GetParametersInput{Names: eleven}); apiCode(err) != "ValidationException" {
		t.Errorf("eleven names: err = %v, want ValidationException", err)
	}
}

// TestAccountBoundary: each account's client sees only its own account's parameters,
// whatever name or ARN it asks for.
func TestAccountBoundary(t *testing.T) {
	s, url := start(t)
	if _, err := s.Put(localaccount.Commerce, "/etalase/commerce/secret", "commerce-only", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(localaccount.Social, "/etalase/social/secret", "social-only", ""); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tests := []struct {
		reader localaccount.Account
		own    string
		other  []string
	}{
		{localaccount.Social, "/etalase/social/secret", []string{
			"/etalase/commerce/secret",
			"arn:aws:ssm:" + localaccount.Region + ":" + localaccount.Commerce.ID + ":parameter/etalase/commerce/secret",
		}},
		{localaccount.Commerce, "/etalase/commerce/secret", []string{
			"/etalase/social/secret",
			"arn:aws:ssm:" + localaccount.Region + ":" + localaccount.Social.ID + ":parameter/etalase/social/secret",
		}},
	}
	for _, tt := range tests {
		c := client(url, tt.reader.AccessKeyID)
		if _, err := c.GetParameter(ctx, &awsssm.GetParameterInput{Name: aws.String(tt.own), WithDecryption: aws.Bool(true)}); err != nil {
			t.Errorf("%s reading its own %s: %v", tt.reader.Side, tt.own, err)
		}
		for _, name := range tt.other {
			_, err := c.GetParameter(ctx, &awsssm.GetParameterInput{Name: aws.String(name), WithDecryption: aws.Bool(true)})
			if apiCode(err) != "ParameterNotFound" {
				t.Errorf("%s reading %s: err = %v, want ParameterNotFound", tt.reader.Side, name, err)
			}
		}
		// Through the secrets package, the way functions read them.
		_, err := secrets.Fetch(ctx, secretsClient(url, tt.reader.AccessKeyID), append([]string{tt.own}, tt.other...)...)
		var me *secrets.MissingError
		if !errors.As(err, &me) || !cmp.Equal(me.Names, tt.other) {
			t.Errorf("%s: Fetch err = %v, want the other account's names missing", tt.reader.Side, err)
		}
	}
}

func TestUnknownCredentials(t *testing.T) {
	s, url := start(t)
	if _, err := s.Put(localaccount.Commerce, "/x", "v", ""); err != nil {
		t.Fatal(err)
	}
	_, err := client(url, "AKIASOMEONEELSE").GetParameter(context.Background(), &awsssm.GetParameterInput{Name: aws.String("/x")})
	if apiCode(err) != "UnrecognizedClientException" {
		t.Errorf("unknown access key: err = %v, want UnrecognizedClientException", err)
	}
	var re interface{ HTTPStatusCode() int }
	if !errors.As(err, &re) || re.HTTPStatusCode() != 400 {
		t.Errorf("unknown access key: status = %v, want 400", err)
	}

	// Unsigned, and an unknown operation, on the wire.
	for _, tc := range []struct{ target, auth, wantType string }{
		{"AmazonSSM.GetParameter", "", "MissingAuthenticationTokenException"},
		{"AmazonSSM.DeleteParameter", "AWS4-HMAC-SHA256 Credential=COMMERCELOCAL/20250101/ap-southeast-3/ssm/aws4_request, SignedHeaders=host, Signature=00", "UnknownOperationException"},
	} {
		req, _ := http.NewRequest(http.MethodPost, url+"/", strings.NewReader(`{"Name":"/x"}`))
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", tc.target)
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 || !strings.Contains(string(body), `"__type":"`+tc.wantType+`"`) ||
			resp.Header.Get("Content-Type") != "application/x-amz-json-1.1" {
			t.Errorf("%s: %d %s %s", tc.target, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	}
}

// TestFetchThroughEmulator: secrets.Fetch with the real client batches a long list in
// calls the emulator accepts (at most ten names) and decrypts.
func TestFetchThroughEmulator(t *testing.T) {
	s, url := start(t)
	want := map[string]string{}
	var names []string
	for i := range 23 {
		n := fmt.Sprintf("/etalase/commerce/k%02d", i)
		if _, err := s.Put(localaccount.Commerce, n, "secret-"+n, ssm.TypeSecureString); err != nil {
			t.Fatal(err)
		}
		want[n] = "secret-" + n
		names = append(names, n)
	}
	c := secretsClient(url, localaccount.Commerce.AccessKeyID)
	got, err := secrets.Fetch(context.Background(), c, names...)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("values (-want +got):\n%s", diff)
	}
	_, err = secrets.Fetch(context.Background(), c, "/etalase/commerce/k00", "/etalase/commerce/gone", "/etalase/commerce/also-gone")
	if !errors.Is(err, secrets.ErrNotFound) || !strings.Contains(err.Error(), "/etalase/commerce/gone") || !strings.Contains(err.Error(), "/etalase/commerce/also-gone") {
		t.Errorf("missing ones: err = %v", err)
	}
}

// TestWireFormat: the real client speaks AWS JSON 1.1 to the base endpoint, and the
// emulator answers in kind.
func TestWireFormat(t *testing.T) {
	s := ssm.New()
	type seen struct{ method, path, contentType, target string }
	var reqs []seen
	var respType string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqs = append(reqs, seen{r.Method, r.URL.Path, r.Header.Get("Content-Type"), r.Header.Get("X-Amz-Target")})
		s.ServeHTTP(w, r)
		respType = w.Header().Get("Content-Type")
	}))
	defer srv.Close()
	if _, err := s.Put(localaccount.Social, "/k", "v", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := client(srv.URL, localaccount.Social.AccessKeyID).GetParameters(context.Background(), &awsssm.GetParametersInput{Names: []string{"/k"}}); err != nil {
		t.Fatal(err)
	}
	want := []seen{{"POST", "/", "application/x-amz-json-1.1", "AmazonSSM.GetParameters"}}
	if diff := cmp.Diff(want, reqs, cmp.AllowUnexported(seen{})); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	if respType != "application/x-amz-json-1.1" {
		t.Errorf("response Content-Type %q", respType)
	}
}
