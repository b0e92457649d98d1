package gateway

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/etalase/etalase/infra/localrun/invoke"
	"github.com/etalase/etalase/infra/samtemplate"
)

const routesTemplate = `
Parameters:
  Side: {Type: String}
  JwtIssuer: {Type: String}
  JwtAudience: {Type: String}
Conditions:
  IsA: !Equals [!Ref Side, a]
  IsB: !Equals [!Ref Side, b]
Resources:
  Api:
    Type: AWS::Serverless::HttpApi
    Condition: IsA
    Properties:
      Auth:
        DefaultAuthorizer: Jwt
        Authorizers:
          Jwt:
            IdentitySource: $request.header.Authorization
            AuthorizationScopes: [reader]
            JwtConfiguration:
              issuer: !Ref JwtIssuer
              audience: [!Ref JwtAudience, other]
  BApi:
    Type: AWS::Serverless::HttpApi
    Condition: IsB
  F1:
    Type: AWS::Serverless::Function
    Condition: IsA
    Properties:
      Events:
        Read: {Type: HttpApi, Properties: {ApiId: !Ref Api, Method: GET, Path: /a}}
        Open: {Type: HttpApi, Properties: {ApiId: !Ref Api, Method: post, Path: /a, Auth: {Authorizer: NONE}}}
        Write:
          Type: HttpApi
          Properties:
            ApiId: !Ref Api
            Method: PUT
            Path: /a/{id}
            TimeoutInMillis: 5000
            Auth: {Authorizer: Jwt, AuthorizationScopes: [seller, admin]}
        Any: {Type: HttpApi, Properties: {ApiId: !Ref Api, Path: "/b/{proxy+}"}}
        Rest: {Type: HttpApi, Properties: {ApiId: !Ref Api}}
        Queue: {Type: SQS, Properties: {Queue: arn:aws:sqs:x:1:q}}
  F2:
    Type: AWS::Serverless::Function
    Condition: IsA
    Properties:
      Events:
        Implicit: {Type: HttpApi, Properties: {Method: GET, Path: /implicit}}
  G:
    Type: AWS::Serverless::Function
    Condition: IsB
    Properties:
      Events:
        Other: {Type: HttpApi, Properties: {ApiId: !Ref BApi, Method: GET, Path: /other}}
`

func loadRoutes(t *testing.T, doc string, side string, invokers func(string) invoke.Invoker) ([]Route, error) {
	t.Helper()
	tpl, err := samtemplate.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	ctx, err := tpl.NewContext(
		map[string]string{"Side": side, "JwtIssuer": testIssuer, "JwtAudience": testAudience, "PeerAccountId": "222222222222"},
		map[string]string{"AWS::AccountId": fixedAccount, "AWS::Region": "ap-southeast-3"},
	)
	if err != nil {
		t.Fatal(err)
	}
	return RoutesFromTemplate(tpl, ctx, invokers)
}

func TestRoutesFromTemplate(t *testing.T) {
	inv := map[string]invoke.Invoker{"F1": nopInvoker, "F2": nopInvoker}
	routes, err := loadRoutes(t, routesTemplate, "a", func(id string) invoke.Invoker { return inv[id] })
	if err != nil {
		t.Fatal(err)
	}
	jwt := &Authorizer{Name: "Jwt", IdentitySource: "$request.header.Authorization", Issuer: testIssuer, Audience: []string{testAudience, "other"}}
	want := []Route{
		{Account: fixedAccount, APIID: "Api", FunctionID: "F1", Method: "ANY", Path: "/b/{proxy+}", Authorizer: jwt, Scopes: []string{"reader"}},
		{Account: fixedAccount, APIID: "Api", FunctionID: "F1", Method: "POST", Path: "/a"},
		{Account: fixedAccount, APIID: "Api", FunctionID: "F1", Method: "GET", Path: "/a", Authorizer: jwt, Scopes: []string{"reader"}},
		{Account: fixedAccount, APIID: "Api", FunctionID: "F1", Path: DefaultRouteKey, Authorizer: jwt, Scopes: []string{"reader"}},
		{Account: fixedAccount, APIID: "Api", FunctionID: "F1", Method: "PUT", Path: "/a/{id}", Authorizer: jwt, Scopes: []string{"seller", "admin"}, Timeout: 5 * time.Second},
		{Account: fixedAccount, APIID: "ServerlessHttpApi", FunctionID: "F2", Method: "GET", Path: "/implicit"},
	}
	if d := cmp.Diff(want, routes, cmpopts.IgnoreFields(Route{}, "Invoker")); d != "" {
		t.Errorf("routes (-want +got):\n%s", d)
	}
	for _, r := range routes {
		if r.Invoker == nil {
			t.Errorf("route %s %s has no invoker", r.Method, r.Path)
		}
	}
	// The routes make a gateway.
	if _, err := New(Config{Routes: routes}); err != nil {
		t.Errorf("New: %v", err)
	}
}

func TestRoutesFromTemplateErrors(t *testing.T) {
	all := func(string) invoke.Invoker { return nopInvoker }
	tests := []struct {
		name     string
		doc      string
		invokers func(string) invoke.Invoker
		want     string
	}{
		{"no invoker", routesTemplate, func(id string) invoke.Invoker { return nil }, "no invoker for function F1"},
		{"unknown authorizer", strings.Replace(routesTemplate, "Authorizer: Jwt, AuthorizationScopes", "Authorizer: Nope, AuthorizationScopes", 1), all, "has no authorizer Nope"},
		{"IAM", strings.Replace(routesTemplate, "Authorizer: NONE", "Authorizer: AWS_IAM", 1), all, "IAM authorization"},
		{"inactive API", strings.Replace(routesTemplate, "ApiId: !Ref Api, Method: GET", "ApiId: !Ref BApi, Method: GET", 1), all, "not an active HttpApi"},
		{"payload 1.0", strings.Replace(routesTemplate, "TimeoutInMillis: 5000", "PayloadFormatVersion: \"1.0\"", 1), all, "payload format 1.0"},
		{"lambda authorizer", strings.Replace(routesTemplate, "JwtConfiguration:", "FunctionArn: x\n            Jwt2:", 1), all, "only JWT authorizers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadRoutes(t, tt.doc, "a", tt.invokers)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// TestRoutesFromRealTemplate reads the repository's template.yaml: the commerce side's
// routes sit behind CommerceHttpApi with the JwtIssuer/JwtAudience parameters, and the
// social side serves none of them.
func TestRoutesFromRealTemplate(t *testing.T) {
	tpl, err := samtemplate.Load("../../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, side := range []string{"commerce", "social"} {
		ctx, err := tpl.NewContext(
			map[string]string{"Side": side, "PeerAccountId": "222222222222", "JwtIssuer": testIssuer, "JwtAudience": testAudience},
			map[string]string{"AWS::AccountId": fixedAccount, "AWS::Region": "ap-southeast-3"},
		)
		if err != nil {
			t.Fatal(err)
		}
		routes, err := RoutesFromTemplate(tpl, ctx, func(string) invoke.Invoker { return nopInvoker })
		if err != nil {
			t.Fatalf("%s: %v", side, err)
		}
		for _, r := range routes {
			if r.APIID == "CommerceHttpApi" && side != "commerce" {
				t.Errorf("%s side serves commerce route %s %s", side, r.Method, r.Path)
			}
			if a := r.Authorizer; a != nil && (a.Issuer != testIssuer || !cmp.Equal(a.Audience, []string{testAudience})) {
				t.Errorf("route %s %s: authorizer %+v, want issuer %s audience %s", r.Method, r.Path, a, testIssuer, testAudience)
			}
		}
		if side == "commerce" && len(routes) == 0 {
			t.Error("commerce side has no routes")
		}
		if _, err := New(Config{Routes: routes}); err != nil {
			t.Errorf("%s: New: %v", side, err)
		}
	}
}
