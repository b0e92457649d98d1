package sources

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/etalase/etalase/infra/localrun/invoke"
	"github.com/etalase/etalase/infra/samtemplate"
)

const testTemplate = `
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  Inbox:
    Type: AWS::SQS::Queue
  Payments:
    Type: AWS::SQS::Queue
  Outbox:
    Type: AWS::DynamoDB::Table
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Api:
          Type: HttpApi
          Properties:
            Path: /x
            Method: GET
        FromInbox:
          Type: SQS
          Properties:
            Queue: !GetAtt Inbox.Arn
            BatchSize: 50
            MaximumBatchingWindowInSeconds: 2
            FunctionResponseTypes: [ReportBatchItemFailures]
        FromPayments:
          Type: SQS
          Properties:
            Queue: !GetAtt Payments.Arn
            ScalingConfig:
              MaximumConcurrency: 1
        Relay:
          Type: DynamoDB
          Properties:
            Stream: !GetAtt Outbox.StreamArn
            StartingPosition: TRIM_HORIZON
            BatchSize: 25
            BisectBatchOnFunctionError: true
            FunctionResponseTypes: [ReportBatchItemFailures]
        Reconcile:
          Type: Schedule
          Properties:
            Schedule: rate(5 minutes)
            Input: '{"olderThanMinutes": 30}'
        Nightly:
          Type: ScheduleV2
          Properties:
            ScheduleExpression: cron(0 1 * * ? *)
            ScheduleExpressionTimezone: Asia/Jakarta
        Off:
          Type: Schedule
          Properties:
            Schedule: rate(1 day)
            Enabled: false
`

// evaluatedEvents parses a template and returns function Fn's events with their
// properties evaluated.
func evaluatedEvents(t *testing.T, src string) []samtemplate.Event {
	t.Helper()
	tpl, err := samtemplate.Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	fn, err := tpl.Function("Fn")
	if err != nil {
		t.Fatal(err)
	}
	c, err := tpl.NewContext(nil, map[string]string{"AWS::Region": "ap-southeast-3", "AWS::AccountId": "222222222222"})
	if err != nil {
		t.Fatal(err)
	}
	c.GetAtt = func(id, attr string) (string, error) {
		switch attr {
		case "Arn":
			return "arn:aws:sqs:ap-southeast-3:222222222222:" + id, nil
		case "StreamArn":
			return "arn:aws:dynamodb:ap-southeast-3:222222222222:table/" + id + "/stream/1", nil
		}
		return "", errors.New("no " + attr)
	}
	evs := fn.Events()
	for i, ev := range evs {
		v, err := tpl.Evaluate(map[string]any(ev.Properties), c)
		if err != nil {
			t.Fatalf("event %s: %v", ev.Name, err)
		}
		evs[i].Properties = v.(map[string]any)
	}
	return evs
}

func TestFromEvents(t *testing.T) {
	inv := invoke.Func(nil)
	env := Env{
		Function: "Fn", Account: "222222222222", Region: "ap-southeast-3", Invoker: inv,
		SQS: &fakeSQS{}, Streams: &fakeStreams{},
		QueueURL: func(arn string) (string, error) {
			return "http://sqs/222222222222/" + arn[strings.LastIndex(arn, ":")+1:], nil
		},
	}
	got, err := FromEvents(evaluatedEvents(t, testTemplate), env)
	if err != nil {
		t.Fatal(err)
	}
	want := []Source{
		&SQSSource{Name: "FromInbox", Client: env.SQS, QueueURL: "http://sqs/222222222222/Inbox", QueueARN: "arn:aws:sqs:ap-southeast-3:222222222222:Inbox",
			Region: "ap-southeast-3", BatchSize: 50, MaximumBatchingWindow: 2 * time.Second, ReportBatchItemFailures: true, Concurrency: 2, Invoker: inv},
		&SQSSource{Name: "FromPayments", Client: env.SQS, QueueURL: "http://sqs/222222222222/Payments", QueueARN: "arn:aws:sqs:ap-southeast-3:222222222222:Payments",
			Region: "ap-southeast-3", Concurrency: 1, Invoker: inv},
		&ScheduleSource{Name: "FnNightly", Expression: "cron(0 1 * * ? *)", Timezone: "Asia/Jakarta", Scheduler: true, Account: "222222222222", Region: "ap-southeast-3", Invoker: inv},
		&ScheduleSource{Name: "FnReconcile", Expression: "rate(5 minutes)", Input: `{"olderThanMinutes": 30}`, Account: "222222222222", Region: "ap-southeast-3", Invoker: inv},
		&StreamSource{Name: "Relay", Client: env.Streams, StreamARN: "arn:aws:dynamodb:ap-southeast-3:222222222222:table/Outbox/stream/1", Region: "ap-southeast-3",
			StartingPosition: TrimHorizon, BatchSize: 25, MaximumRetryAttempts: -1, BisectBatchOnFunctionError: true, ReportBatchItemFailures: true, Invoker: inv},
	}
	opts := cmp.Options{
		cmpopts.IgnoreFields(SQSSource{}, "Invoker"), cmpopts.IgnoreFields(StreamSource{}, "Invoker"), cmpopts.IgnoreFields(ScheduleSource{}, "Invoker", "Now"),
		cmp.Comparer(func(a, b SQSClient) bool { return a == b }), cmp.Comparer(func(a, b StreamsClient) bool { return a == b }),
	}
	if diff := cmp.Diff(want, got, opts); diff != "" {
		t.Errorf("sources (-want +got):\n%s", diff)
	}
}

func TestFromEventsErrors(t *testing.T) {
	env := Env{Invoker: invoke.Func(nil), QueueURL: func(string) (string, error) { return "", errors.New("no such queue") }}
	tests := []struct {
		name  string
		event samtemplate.Event
		want  string
	}{
		{"unsupported type", samtemplate.Event{Name: "E", Type: "SNS", Properties: map[string]any{"Topic": "t"}}, "SNS is not supported"},
		{"filter criteria", samtemplate.Event{Name: "E", Type: "SQS", Properties: map[string]any{"Queue": "arn", "FilterCriteria": map[string]any{}}}, "FilterCriteria"},
		{"tumbling window", samtemplate.Event{Name: "E", Type: "DynamoDB", Properties: map[string]any{"Stream": "arn", "TumblingWindowInSeconds": 60}}, "TumblingWindowInSeconds"},
		{"no queue", samtemplate.Event{Name: "E", Type: "SQS", Properties: map[string]any{}}, "no Queue"},
		{"unknown queue", samtemplate.Event{Name: "E", Type: "SQS", Properties: map[string]any{"Queue": "arn:x"}}, "no such queue"},
		{"no stream", samtemplate.Event{Name: "E", Type: "DynamoDB", Properties: map[string]any{}}, "no Stream"},
		{"bad batch size", samtemplate.Event{Name: "E", Type: "DynamoDB", Properties: map[string]any{"Stream": "arn", "BatchSize": "many"}}, "BatchSize"},
		{"bad bisect", samtemplate.Event{Name: "E", Type: "DynamoDB", Properties: map[string]any{"Stream": "arn", "BisectBatchOnFunctionError": "maybe"}}, "BisectBatchOnFunctionError"},
		{"bad schedule", samtemplate.Event{Name: "E", Type: "Schedule", Properties: map[string]any{"Schedule": "rate(5 minute)"}}, "plural"},
		{"bad enabled", samtemplate.Event{Name: "E", Type: "Schedule", Properties: map[string]any{"Schedule": "rate(1 day)", "Enabled": 3}}, "Enabled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := FromEvents([]samtemplate.Event{tt.event}, env)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("FromEvents error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestFromEventsSkipsDisabled(t *testing.T) {
	evs := []samtemplate.Event{
		{Name: "A", Type: "Schedule", Properties: map[string]any{"Schedule": "rate(1 day)", "Enabled": false}},
		{Name: "B", Type: "ScheduleV2", Properties: map[string]any{"ScheduleExpression": "rate(1 day)", "State": "DISABLED"}},
		{Name: "C", Type: "SNS", Properties: map[string]any{"Enabled": "false"}},
	}
	got, err := FromEvents(evs, Env{Invoker: invoke.Func(nil)})
	if err != nil || len(got) != 0 {
		t.Errorf("FromEvents = %d sources, %v; want none", len(got), err)
	}
}
