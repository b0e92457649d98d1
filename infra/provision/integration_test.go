package provision

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/etalase/etalase/infra/localaccount"
	"github.com/etalase/etalase/infra/samtemplate"
	"github.com/etalase/etalase/infra/testenv"
)

// realTemplate is the repository's template, relative to this package.
const realTemplate = "../../template.yaml"

// realParams are values for the real template's parameters that have no default.
var realParams = map[string]string{"JwtIssuer": "http://127.0.0.1/idp", "JwtAudience": "etalase"}

func loadReal(t *testing.T) *samtemplate.Template {
	t.Helper()
	tmpl, err := samtemplate.Load(realTemplate)
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

func accountOptions(t *testing.T, tmpl *samtemplate.Template, acct localaccount.Account, prefix string) Options {
	t.Helper()
	return Options{
		Template: tmpl,
		Account:  acct,
		Params:   realParams,
		Prefix:   prefix,
		DynamoDB: testenv.DynamoDB(t, acct),
		SQS:      testenv.SQS(t, acct),
	}
}

// TestProvisionRealTemplate provisions both accounts from template.yaml and checks every
// table and queue against the template it came from, then provisions again.
func TestProvisionRealTemplate(t *testing.T) {
	testenv.Endpoints(t) // skip (or fail) before anything else without emulators
	t.Parallel()
	tmpl := loadReal(t)
	prefix := testenv.Prefix(t)
	var checked struct{ tables, gsis, streams, ttls, queues, redrives int }
	for _, acct := range localaccount.All {
		t.Run(acct.Side, func(t *testing.T) {
			o := accountOptions(t, tmpl, acct, prefix)
			ctx := t.Context()
			res, err := Provision(ctx, o)
			if err != nil {
				t.Fatal(err)
			}
			names, err := Names(o)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := ids(res.Tables), ids(names.Tables); !slices.Equal(got, want) {
				t.Errorf("tables %v, Names says %v", got, want)
			}
			if got, want := ids(res.Queues), ids(names.Queues); !slices.Equal(got, want) {
				t.Errorf("queues %v, Names says %v", got, want)
			}
			active, err := tmpl.Active(res.Context)
			if err != nil {
				t.Fatal(err)
			}
			for id, r := range active {
				switch r.Type {
				case samtemplate.TypeTable:
					tb, ok := res.Tables[id]
					if !ok {
						t.Errorf("table %s not provisioned", id)
						continue
					}
					checked.tables++
					c := checkTable(ctx, t, o.DynamoDB, tmpl, res.Context, r, tb)
					checked.gsis += c.gsis
					checked.streams += c.stream
					checked.ttls += c.ttl
				case samtemplate.TypeQueue:
					q, ok := res.Queues[id]
					if !ok {
						t.Errorf("queue %s not provisioned", id)
						continue
					}
					checked.queues++
					checked.redrives += checkQueue(ctx, t, o.SQS, tmpl, res, r, q)
				}
			}

			again, err := Provision(ctx, o)
			if err != nil {
				t.Fatalf("second Provision: %v", err)
			}
			if diff := cmp.Diff(res.Tables, again.Tables); diff != "" {
				t.Errorf("second Provision tables (-first +second):\n%s", diff)
			}
			if diff := cmp.Diff(res.Queues, again.Queues); diff != "" {
				t.Errorf("second Provision queues (-first +second):\n%s", diff)
			}
		})
	}
	// The template has (at least) one table with a GSI, one with a stream and TTL, and a
	// queue with a dead-letter queue; if none were checked, the checks above proved nothing.
	if checked.tables == 0 || checked.gsis == 0 || checked.streams == 0 || checked.ttls == 0 || checked.queues == 0 || checked.redrives == 0 {
		t.Errorf("checked %+v: the template should give at least one of each", checked)
	}
}

type tableChecks struct{ gsis, stream, ttl int }

// checkTable compares a table in DynamoDB Local with its template resource.
func checkTable(ctx context.Context, t *testing.T, db *dynamodb.Client, tmpl *samtemplate.Template, c *samtemplate.Context, r samtemplate.Resource, tb Table) tableChecks {
	t.Helper()
	var n tableChecks
	props, err := tmpl.Evaluate(r.Properties, c)
	if err != nil {
		t.Fatalf("%s: %v", r.LogicalID, err)
	}
	want := props.(map[string]any)
	out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(tb.Name)})
	if err != nil {
		t.Fatalf("%s: %v", r.LogicalID, err)
	}
	d := out.Table
	if d.TableStatus != types.TableStatusActive {
		t.Errorf("%s: status %s", r.LogicalID, d.TableStatus)
	}
	if got, exp := keyString(d.KeySchema), cfnKeyString(want["KeySchema"]); got != exp {
		t.Errorf("%s: key schema %s, template %s", r.LogicalID, got, exp)
	}
	var wantGSIs, gotGSIs []string
	for _, g := range asList(want["GlobalSecondaryIndexes"]) {
		gm := g.(map[string]any)
		proj := gm["Projection"].(map[string]any)["ProjectionType"]
		wantGSIs = append(wantGSIs, fmt.Sprintf("%s %s %s", gm["IndexName"], cfnKeyString(gm["KeySchema"]), proj))
	}
	for _, g := range d.GlobalSecondaryIndexes {
		gotGSIs = append(gotGSIs, fmt.Sprintf("%s %s %s", aws.ToString(g.IndexName), keyString(g.KeySchema), g.Projection.ProjectionType))
	}
	sort.Strings(wantGSIs)
	sort.Strings(gotGSIs)
	if diff := cmp.Diff(wantGSIs, gotGSIs); diff != "" {
		t.Errorf("%s: global secondary indexes (-template +table):\n%s", r.LogicalID, diff)
	}
	n.gsis = len(gotGSIs)
	if want["BillingMode"] == "PAY_PER_REQUEST" && (d.BillingModeSummary == nil || d.BillingModeSummary.BillingMode != types.BillingModePayPerRequest) {
		t.Errorf("%s: billing mode %+v, want PAY_PER_REQUEST", r.LogicalID, d.BillingModeSummary)
	}
	if s, ok := want["StreamSpecification"].(map[string]any); ok {
		n.stream = 1
		if d.StreamSpecification == nil || !aws.ToBool(d.StreamSpecification.StreamEnabled) || string(d.StreamSpecification.StreamViewType) != s["StreamViewType"] {
			t.Errorf("%s: stream %+v, template %v", r.LogicalID, d.StreamSpecification, s)
		}
		if tb.StreamArn == "" || tb.StreamArn != aws.ToString(d.LatestStreamArn) {
			t.Errorf("%s: StreamArn %q, table's latest stream %q", r.LogicalID, tb.StreamArn, aws.ToString(d.LatestStreamArn))
		}
	} else if tb.StreamArn != "" {
		t.Errorf("%s: StreamArn %q for a table without a stream", r.LogicalID, tb.StreamArn)
	}
	if ttl, ok := want["TimeToLiveSpecification"].(map[string]any); ok {
		n.ttl = 1
		got, err := db.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(tb.Name)})
		if err != nil {
			t.Fatalf("%s: %v", r.LogicalID, err)
		}
		td := got.TimeToLiveDescription
		if td == nil || aws.ToString(td.AttributeName) != ttl["AttributeName"] || td.TimeToLiveStatus != types.TimeToLiveStatusEnabled {
			t.Errorf("%s: time to live %+v, template %v", r.LogicalID, td, ttl)
		}
	}
	if wantArn := fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", localaccount.Region, c.Pseudo["AWS::AccountId"], tb.Name); tb.Arn != wantArn {
		t.Errorf("%s: Arn %q, want %q", r.LogicalID, tb.Arn, wantArn)
	}
	return n
}

// checkQueue compares a queue in the SQS emulator with its template resource and
// returns 1 if it has a redrive policy.
func checkQueue(ctx context.Context, t *testing.T, client *sqs.Client, tmpl *samtemplate.Template, res *Resources, r samtemplate.Resource, q Queue) int {
	t.Helper()
	props, err := tmpl.Evaluate(r.Properties, res.Context)
	if err != nil {
		t.Fatalf("%s: %v", r.LogicalID, err)
	}
	want := props.(map[string]any)
	got := queueAttrsOf(ctx, t, client, q.URL)
	for _, a := range []string{"VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds", "ReceiveMessageWaitTimeSeconds", "FifoQueue", "ContentBasedDeduplication"} {
		if v, ok := want[a]; ok {
			if s, _ := scalar(v); got[a] != s {
				t.Errorf("%s: %s = %q, template %q", r.LogicalID, a, got[a], s)
			}
		}
	}
	rp, ok := want["RedrivePolicy"].(map[string]any)
	if !ok {
		if got["RedrivePolicy"] != "" {
			t.Errorf("%s: redrive policy %s, template has none", r.LogicalID, got["RedrivePolicy"])
		}
		return 0
	}
	var dlq *Queue
	for _, other := range res.Queues {
		if other.Arn == rp["deadLetterTargetArn"] {
			dlq = &other
		}
	}
	if dlq == nil {
		t.Fatalf("%s: dead-letter target %v is not a provisioned queue", r.LogicalID, rp["deadLetterTargetArn"])
	}
	var policy struct {
		DeadLetterTargetArn string
		MaxReceiveCount     json.Number
	}
	if err := json.Unmarshal([]byte(got["RedrivePolicy"]), &policy); err != nil {
		t.Fatalf("%s: redrive policy %q: %v", r.LogicalID, got["RedrivePolicy"], err)
	}
	dlqArn := queueAttrsOf(ctx, t, client, dlq.URL)["QueueArn"]
	if policy.DeadLetterTargetArn != dlqArn {
		t.Errorf("%s: dead-letter target %s, want %s (the emulator's ARN of %s)", r.LogicalID, policy.DeadLetterTargetArn, dlqArn, dlq.LogicalID)
	}
	if s, _ := scalar(rp["maxReceiveCount"]); policy.MaxReceiveCount.String() != s {
		t.Errorf("%s: maxReceiveCount %s, template %s", r.LogicalID, policy.MaxReceiveCount, s)
	}
	return 1
}

func queueAttrsOf(ctx context.Context, t *testing.T, client *sqs.Client, url string) map[string]string {
	t.Helper()
	out, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll},
	})
	if err != nil {
		t.Fatalf("queue attributes of %s: %v", url, err)
	}
	return out.Attributes
}

func cfnKeyString(v any) string {
	var keys []types.KeySchemaElement
	for _, k := range asList(v) {
		m := k.(map[string]any)
		keys = append(keys, types.KeySchemaElement{AttributeName: aws.String(m["AttributeName"].(string)), KeyType: types.KeyType(m["KeyType"].(string))})
	}
	return keyString(keys)
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

func ids[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for id := range m {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// isolationProbe gives each account a table of its own, so that isolation is checked
// both ways whatever template.yaml gives each side.
const isolationProbe = `
Parameters:
  Side: {Type: String}
  PeerAccountId: {Type: String}
Conditions:
  IsSocial: !Equals [!Ref Side, social]
  IsCommerce: !Equals [!Ref Side, commerce]
Resources:
  SocialProbe:
    Type: AWS::DynamoDB::Table
    Condition: IsSocial
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
  CommerceProbe:
    Type: AWS::DynamoDB::Table
    Condition: IsCommerce
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}, {AttributeName: n, AttributeType: N}]
      KeySchema: [{AttributeName: id, KeyType: HASH}, {AttributeName: n, KeyType: RANGE}]
`

// TestAccountIsolation checks that DynamoDB Local keeps the two accounts apart: with one
// account's credentials, the other account's tables (those of template.yaml and a probe
// table per account) can be neither listed, described, read nor written.
func TestAccountIsolation(t *testing.T) {
	testenv.Endpoints(t) // skip (or fail) before anything else without emulators
	t.Parallel()
	tmpl := loadReal(t)
	probe := parse(t, isolationProbe)
	prefix := testenv.Prefix(t)
	ctx := t.Context()
	tables := map[string]map[string]Table{}
	for _, acct := range localaccount.All {
		tables[acct.Side] = map[string]Table{}
		for _, tp := range []*samtemplate.Template{tmpl, probe} {
			o := accountOptions(t, tp, acct, prefix)
			r, err := Provision(ctx, o)
			if err != nil {
				t.Fatal(err)
			}
			maps.Copy(tables[acct.Side], r.Tables)
		}
	}
	for _, owner := range localaccount.All {
		other := owner.Peer()
		t.Run(other.Side+" cannot reach "+owner.Side, func(t *testing.T) {
			own := testenv.DynamoDB(t, owner)
			foreign := testenv.DynamoDB(t, other)
			ownList, foreignList := listTables(ctx, t, own), listTables(ctx, t, foreign)
			for id, tb := range tables[owner.Side] {
				// The owner sees and uses the table, so the failures below are about the account.
				if !slices.Contains(ownList, tb.Name) {
					t.Errorf("%s: %s does not list its own table %s", id, owner.Side, tb.Name)
				}
				key := keyItem(ctx, t, own, tb.Name)
				if _, err := own.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(tb.Name), Item: key}); err != nil {
					t.Fatalf("%s: owner PutItem: %v", id, err)
				}
				if got, err := own.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(tb.Name), Key: key}); err != nil || got.Item == nil {
					t.Fatalf("%s: owner GetItem: item %v, error %v", id, got, err)
				}

				if slices.Contains(foreignList, tb.Name) {
					t.Errorf("%s: %s lists %s's table %s", id, other.Side, owner.Side, tb.Name)
				}
				calls := []struct {
					op   string
					call func() error
				}{
					{"DescribeTable", func() error {
						_, err := foreign.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(tb.Name)})
						return err
					}},
					{"GetItem", func() error {
						_, err := foreign.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(tb.Name), Key: key})
						return err
					}},
					{"PutItem", func() error {
						_, err := foreign.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(tb.Name), Item: key})
						return err
					}},
					{"Scan", func() error {
						_, err := foreign.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(tb.Name)})
						return err
					}},
				}
				for _, c := range calls {
					var nf *types.ResourceNotFoundException
					if err := c.call(); !errors.As(err, &nf) {
						t.Errorf("%s: %s %s of %s's table: error %v, want ResourceNotFoundException", id, other.Side, c.op, owner.Side, err)
					}
				}
			}
			if len(tables[owner.Side]) < 1 {
				t.Fatalf("no %s tables checked", owner.Side)
			}
		})
	}
}

// keyItem returns an item holding just the key of a table, with string or number values.
func keyItem(ctx context.Context, t *testing.T, db *dynamodb.Client, table string) map[string]types.AttributeValue {
	t.Helper()
	out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	typ := map[string]types.ScalarAttributeType{}
	for _, a := range out.Table.AttributeDefinitions {
		typ[aws.ToString(a.AttributeName)] = a.AttributeType
	}
	item := map[string]types.AttributeValue{}
	for _, k := range out.Table.KeySchema {
		name := aws.ToString(k.AttributeName)
		switch typ[name] {
		case types.ScalarAttributeTypeN:
			item[name] = &types.AttributeValueMemberN{Value: "1"}
		case types.ScalarAttributeTypeB:
			item[name] = &types.AttributeValueMemberB{Value: []byte("isolation")}
		default:
			item[name] = &types.AttributeValueMemberS{Value: "isolation"}
		}
	}
	return item
}

func listTables(ctx context.Context, t *testing.T, db *dynamodb.Client) []string {
	t.Helper()
	var names []string
	p := dynamodb.NewListTablesPaginator(db, &dynamodb.ListTablesInput{})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, out.TableNames...)
	}
	return names
}

// TestCrossAccountInbox shows how the commerce relay reaches the social inbox locally:
// the SQS emulator has one namespace for every caller, so a commerce client can send to
// the URL that provisioning the social account returned, and social receives it.
func TestCrossAccountInbox(t *testing.T) {
	testenv.Endpoints(t) // skip (or fail) before anything else without emulators
	t.Parallel()
	tmpl := loadReal(t)
	prefix := testenv.Prefix(t)
	ctx := t.Context()
	social, err := Provision(ctx, accountOptions(t, tmpl, localaccount.Social, prefix))
	if err != nil {
		t.Fatal(err)
	}
	// The relay's configuration names the inbox through the template's output.
	out, ok := tmpl.Doc["Outputs"].(map[string]any)["SocialInboxQueueUrl"].(map[string]any)
	if !ok {
		t.Fatal("template has no SocialInboxQueueUrl output")
	}
	url, err := tmpl.EvaluateString(out["Value"], social.Context)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(url, "http") || !strings.HasSuffix(url, "/"+prefix+"etalase-social-inbox") {
		t.Errorf("inbox URL %q", url)
	}
	commerce := testenv.SQS(t, localaccount.Commerce)
	if _, err := commerce.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(`{"type":"ProductListed"}`)}); err != nil {
		t.Fatalf("commerce SendMessage to the social inbox: %v", err)
	}
	got, err := testenv.SQS(t, localaccount.Social).ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), WaitTimeSeconds: 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Messages) != 1 || aws.ToString(got.Messages[0].Body) != `{"type":"ProductListed"}` {
		t.Errorf("social received %+v, want the one message commerce sent", got.Messages)
	}
}

// TestReconcileExistingTable checks that provisioning over a table made from an older
// template adds what the template now asks for, as `DATA=dir make dev` needs.
func TestReconcileExistingTable(t *testing.T) {
	testenv.Endpoints(t) // skip (or fail) before anything else without emulators
	t.Parallel()
	const base = `
Parameters:
  Side: {Type: String}
  PeerAccountId: {Type: String}
Resources:
  Things:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions:
        - {AttributeName: id, AttributeType: S}
      KeySchema:
        - {AttributeName: id, KeyType: HASH}
`
	grown := base[:strings.Index(base, "      KeySchema")] + `        - {AttributeName: owner, AttributeType: S}
      KeySchema:
        - {AttributeName: id, KeyType: HASH}
      GlobalSecondaryIndexes:
        - IndexName: byOwner
          KeySchema: [{AttributeName: owner, KeyType: HASH}]
          Projection: {ProjectionType: ALL}
      StreamSpecification: {StreamViewType: NEW_IMAGE}
      TimeToLiveSpecification: {AttributeName: expiresAt, Enabled: true}
`
	const rekeyed = `
Parameters:
  Side: {Type: String}
  PeerAccountId: {Type: String}
Resources:
  Things:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: other, AttributeType: S}]
      KeySchema: [{AttributeName: other, KeyType: HASH}]
`
	prefix := testenv.Prefix(t)
	ctx := t.Context()
	acct := localaccount.Commerce
	db, q := testenv.DynamoDB(t, acct), testenv.SQS(t, acct)
	opts := func(src string) Options {
		return Options{Template: parse(t, src), Account: acct, Prefix: prefix, DynamoDB: db, SQS: q}
	}
	if _, err := Provision(ctx, opts(base)); err != nil {
		t.Fatal(err)
	}
	res, err := Provision(ctx, opts(grown))
	if err != nil {
		t.Fatal(err)
	}
	tb := res.Tables["Things"]
	out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(tb.Name)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Table.GlobalSecondaryIndexes) != 1 || aws.ToString(out.Table.GlobalSecondaryIndexes[0].IndexName) != "byOwner" {
		t.Errorf("indexes %+v, want byOwner", out.Table.GlobalSecondaryIndexes)
	}
	if tb.StreamArn == "" || tb.StreamArn != aws.ToString(out.Table.LatestStreamArn) {
		t.Errorf("StreamArn %q, table's latest stream %q", tb.StreamArn, aws.ToString(out.Table.LatestStreamArn))
	}
	ttl, err := db.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(tb.Name)})
	if err != nil {
		t.Fatal(err)
	}
	if d := ttl.TimeToLiveDescription; d == nil || d.TimeToLiveStatus != types.TimeToLiveStatusEnabled || aws.ToString(d.AttributeName) != "expiresAt" {
		t.Errorf("time to live %+v, want expiresAt enabled", d)
	}
	if _, err := Provision(ctx, opts(rekeyed)); err == nil || !strings.Contains(err.Error(), "key schema") {
		t.Errorf("Provision with another key schema: error %v, want one about the key schema", err)
	}
}

// TestExistingQueueAndFIFO checks FIFO queues with a FIFO dead-letter queue against the
// emulator, and that provisioning over an existing queue with changed attributes keeps
// its URL and applies the new attributes.
func TestExistingQueueAndFIFO(t *testing.T) {
	testenv.Endpoints(t) // skip (or fail) before anything else without emulators
	t.Parallel()
	const src = `
Parameters:
  Side: {Type: String}
  PeerAccountId: {Type: String}
Resources:
  Events:
    Type: AWS::SQS::Queue
    Properties:
      FifoQueue: true
      ContentBasedDeduplication: true
      VisibilityTimeout: VISIBILITY
      RedrivePolicy: {deadLetterTargetArn: !GetAtt EventsDLQ.Arn, maxReceiveCount: 2}
  EventsDLQ:
    Type: AWS::SQS::Queue
    Properties:
      FifoQueue: true
      MessageRetentionPeriod: 1209600
`
	prefix := testenv.Prefix(t)
	ctx := t.Context()
	acct := localaccount.Commerce
	client := testenv.SQS(t, acct)
	run := func(visibility string) *Resources {
		t.Helper()
		res, err := Provision(ctx, Options{
			Template: parse(t, strings.Replace(src, "VISIBILITY", visibility, 1)),
			Account:  acct, Prefix: prefix, DynamoDB: testenv.DynamoDB(t, acct), SQS: client,
		})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	first := run("30")
	q := first.Queues["Events"]
	if !q.FIFO || q.Name != prefix+"Events.fifo" {
		t.Errorf("queue %+v, want a FIFO queue named %sEvents.fifo", q, prefix)
	}
	attrs := queueAttrsOf(ctx, t, client, q.URL)
	dlqArn := queueAttrsOf(ctx, t, client, first.Queues["EventsDLQ"].URL)["QueueArn"]
	want := map[string]string{"FifoQueue": "true", "ContentBasedDeduplication": "true", "VisibilityTimeout": "30",
		"RedrivePolicy": `{"deadLetterTargetArn":"` + dlqArn + `","maxReceiveCount":2}`}
	for k, v := range want {
		if attrs[k] != v {
			t.Errorf("%s = %q, want %q", k, attrs[k], v)
		}
	}

	second := run("90")
	if diff := cmp.Diff(first.Queues, second.Queues); diff != "" {
		t.Errorf("queues changed (-first +second):\n%s", diff)
	}
	if got := queueAttrsOf(ctx, t, client, q.URL)["VisibilityTimeout"]; got != "90" {
		t.Errorf("VisibilityTimeout after the template changed = %q, want 90", got)
	}
}
