package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/etalase/etalase/infra/localaccount"
	"github.com/etalase/etalase/infra/localrun"
	"github.com/etalase/etalase/infra/localrun/gateway"
	"github.com/etalase/etalase/infra/localrun/sources"
	"github.com/etalase/etalase/infra/samtemplate"
)

// BenchFixture is the fixture a function's cold start is measured with when its events
// folder has one; otherwise see choosePayload.
const BenchFixture = "bench.json"

// Payload is the event a cold start is measured with, and where it came from.
type Payload struct {
	Body []byte
	// Source is a fixture's path relative to the module root, or a description of the
	// minimal event built for the function's trigger.
	Source string
}

// choosePayload picks the event to measure a function's cold start with: a fixture
// from events/<side>/<name>/ (bench.json if present, else the first fixture whose name
// starts with "get", else with "list" — reads that reach DynamoDB without changing
// anything — else the first by name, fixtures of failure paths such as malformed.json
// last), or, without fixtures, a minimal valid event of the
// function's first trigger (an HTTP API request on one of its routes, preferring GET;
// one SQS message; one DynamoDB stream record; a scheduled event), or "{}".
func choosePayload(root string, tpl *samtemplate.Template, r *localrun.Runner, fn *localrun.Function) (Payload, error) {
	dir, err := localrun.FunctionDir(fn.Account, fn.ID)
	if err != nil {
		return Payload{}, err
	}
	evDir := filepath.Join("events", fn.Account, filepath.Base(dir))
	if name := pickFixture(filepath.Join(root, evDir)); name != "" {
		rel := filepath.ToSlash(filepath.Join(evDir, name))
		body, err := os.ReadFile(filepath.Join(root, evDir, name))
		if err != nil {
			return Payload{}, err
		}
		if !json.Valid(body) {
			return Payload{}, fmt.Errorf("fixture %s is not valid JSON", rel)
		}
		return Payload{Body: body, Source: rel}, nil
	}
	return minimalPayload(tpl, r, fn)
}

// negativeFixture matches the names of fixtures that test a failure path: a cold start
// is measured with one of them only when there is nothing else.
var negativeFixture = regexp.MustCompile(`(?i)(malformed|invalid|bad|error|fail|unknown|wrong|expired|duplicate|forbidden|unauthori[sz]ed|missing|denied|mismatch|without|no-|tamper|reject|forged)`)

// pickFixture returns the fixture file name choosePayload uses from dir, or "".
func pickFixture(dir string) string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return ""
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".json") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	for _, pick := range []func(string) bool{
		func(n string) bool { return n == BenchFixture },
		func(n string) bool { return strings.HasPrefix(n, "get") && !negativeFixture.MatchString(n) },
		func(n string) bool { return strings.HasPrefix(n, "list") && !negativeFixture.MatchString(n) },
		func(n string) bool { return !negativeFixture.MatchString(n) },
		func(string) bool { return true },
	} {
		for _, n := range names {
			if pick(n) {
				return n
			}
		}
	}
	return ""
}

// minimalPayload builds the smallest valid event of the function's first trigger.
func minimalPayload(tpl *samtemplate.Template, r *localrun.Runner, fn *localrun.Function) (Payload, error) {
	acct, _ := localaccount.BySide(fn.Account)
	var routes []gateway.Route
	for _, rt := range r.Routes {
		if rt.FunctionID == fn.ID {
			routes = append(routes, rt)
		}
	}
	if len(routes) > 0 {
		sort.SliceStable(routes, func(i, j int) bool { return routes[i].Method == "GET" && routes[j].Method != "GET" })
		body, err := json.Marshal(httpEvent(routes[0], acct))
		return Payload{Body: body, Source: "minimal HTTP API event: " + routes[0].Method + " " + routes[0].Path}, err
	}
	f, err := tpl.Function(fn.ID)
	if err != nil {
		return Payload{}, err
	}
	res := r.Resources[fn.Account]
	for _, ev := range f.Events() {
		props := ev.Properties
		if res != nil {
			if p, err := tpl.Evaluate(ev.Properties, res.Context); err == nil {
				props, _ = p.(map[string]any)
			}
		}
		switch ev.Type {
		case "SQS":
			arn, _ := props["Queue"].(string)
			body, err := json.Marshal(sqsEvent(arn, acct))
			return Payload{Body: body, Source: "minimal SQS event (one message)"}, err
		case "DynamoDB":
			arn, _ := props["Stream"].(string)
			body, err := json.Marshal(streamEvent(arn))
			return Payload{Body: body, Source: "minimal DynamoDB stream event (one INSERT)"}, err
		case "Schedule", "ScheduleV2":
			s := sources.ScheduleSource{Name: ev.Name, Account: acct.ID, Region: localaccount.Region, Scheduler: ev.Type == "ScheduleV2"}
			if in, ok := props["Input"].(string); ok {
				s.Input = in
			}
			body, err := s.Payload(time.Now())
			return Payload{Body: body, Source: "scheduled event"}, err
		}
	}
	return Payload{Body: []byte("{}"), Source: "empty event {}"}, nil
}

// httpEvent is an HTTP API (payload 2.0) request on route, path parameters set to
// "bench" and, behind an authorizer, the claims of a user holding the route's scopes.
func httpEvent(rt gateway.Route, acct localaccount.Account) events.APIGatewayV2HTTPRequest {
	method := rt.Method
	if method == "" || method == gateway.AnyMethod {
		method = "GET"
	}
	params := map[string]string{}
	var segs []string
	for _, s := range strings.Split(strings.Trim(rt.Path, "/"), "/") {
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			name := strings.TrimSuffix(strings.Trim(s, "{}"), "+")
			params[name] = "bench"
			s = "bench"
		}
		segs = append(segs, s)
	}
	path := "/" + strings.Join(segs, "/")
	if rt.Path == gateway.DefaultRouteKey {
		path = "/"
	}
	now := time.Now().UTC()
	ev := events.APIGatewayV2HTTPRequest{
		Version:        "2.0",
		RouteKey:       method + " " + rt.Path,
		RawPath:        path,
		Headers:        map[string]string{"accept": "application/json", "content-type": "application/json", "host": "bench.local"},
		PathParameters: params,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			AccountID: acct.ID, APIID: "bench", DomainName: "bench.local", Stage: "$default",
			RequestID: "bench", RouteKey: method + " " + rt.Path,
			Time: now.Format("02/Jan/2006:15:04:05 -0700"), TimeEpoch: now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method: method, Path: path, Protocol: "HTTP/1.1", SourceIP: "127.0.0.1", UserAgent: "etalase-bench",
			},
		},
		Body: "{}",
	}
	if rt.Path == gateway.DefaultRouteKey {
		ev.RouteKey, ev.RequestContext.RouteKey = gateway.DefaultRouteKey, gateway.DefaultRouteKey
	}
	if len(params) == 0 {
		ev.PathParameters = nil
	}
	if rt.Authorizer != nil {
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{
				Claims: map[string]string{"sub": "bench-user", "scope": strings.Join(rt.Scopes, " ")},
				Scopes: rt.Scopes,
			},
		}
	}
	return ev
}

// sqsEvent is one message with an empty JSON object as its body.
func sqsEvent(queueARN string, acct localaccount.Account) events.SQSEvent {
	if queueARN == "" {
		queueARN = fmt.Sprintf("arn:aws:sqs:%s:%s:bench", localaccount.Region, acct.ID)
	}
	attrs := map[string]string{
		"ApproximateReceiveCount":          "1",
		"SentTimestamp":                    fmt.Sprint(time.Now().UnixMilli()),
		"ApproximateFirstReceiveTimestamp": fmt.Sprint(time.Now().UnixMilli()),
		"SenderId":                         acct.ID,
	}
	if strings.HasSuffix(queueARN, ".fifo") {
		attrs["MessageGroupId"] = "bench"
		attrs["MessageDeduplicationId"] = "bench"
		attrs["SequenceNumber"] = "1"
	}
	return events.SQSEvent{Records: []events.SQSMessage{{
		MessageId:      "00000000-0000-4000-8000-000000000000",
		ReceiptHandle:  "bench",
		Body:           "{}",
		Attributes:     attrs,
		EventSource:    "aws:sqs",
		EventSourceARN: queueARN,
		AWSRegion:      localaccount.Region,
	}}}
}

// streamEvent is one INSERT record of a table keyed by eventId.
func streamEvent(streamARN string) events.DynamoDBEvent {
	keys := map[string]events.DynamoDBAttributeValue{"eventId": events.NewStringAttribute("bench")}
	return events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{{
		AWSRegion: localaccount.Region, EventID: "bench", EventName: "INSERT",
		EventSource: "aws:dynamodb", EventVersion: "1.1", EventSourceArn: streamARN,
		Change: events.DynamoDBStreamRecord{
			ApproximateCreationDateTime: events.SecondsEpochTime{Time: time.Now().Truncate(time.Second)},
			Keys:                        keys, NewImage: keys,
			SequenceNumber: "100000000000000000001", SizeBytes: 20, StreamViewType: "NEW_IMAGE",
		},
	}}}
}
