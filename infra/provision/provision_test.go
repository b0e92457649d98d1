package provision

import (
	"go/token"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"github.com/etalase/etalase/infra/localaccount"
	"github.com/etalase/etalase/infra/samtemplate"
)

// testTemplate has a little of everything the real template may use.
const testTemplate = `
Parameters:
  Side:
    Type: String
    AllowedValues: [social, commerce]
  PeerAccountId:
    Type: String
  NamePrefix:
    Type: String
    Default: etalase
  JwtIssuer:
    Type: String
Conditions:
  IsSocial: !Equals [!Ref Side, social]
  IsCommerce: !Equals [!Ref Side, commerce]
Resources:
  Orders:
    Type: AWS::DynamoDB::Table
    Condition: IsCommerce
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions:
        - {AttributeName: pk, AttributeType: S}
        - {AttributeName: sk, AttributeType: S}
        - {AttributeName: buyer, AttributeType: S}
        - {AttributeName: placedAt, AttributeType: N}
      KeySchema:
        - {AttributeName: pk, KeyType: HASH}
        - {AttributeName: sk, KeyType: RANGE}
      GlobalSecondaryIndexes:
        - IndexName: byBuyer
          KeySchema:
            - {AttributeName: buyer, KeyType: HASH}
          Projection:
            ProjectionType: INCLUDE
            NonKeyAttributes: [total]
      LocalSecondaryIndexes:
        - IndexName: byPlacedAt
          KeySchema:
            - {AttributeName: pk, KeyType: HASH}
            - {AttributeName: placedAt, KeyType: RANGE}
          Projection: {ProjectionType: KEYS_ONLY}
      StreamSpecification:
        StreamViewType: NEW_AND_OLD_IMAGES
      TimeToLiveSpecification:
        AttributeName: expiresAt
        Enabled: true
      SSESpecification: {SSEEnabled: true}
      PointInTimeRecoverySpecification: {PointInTimeRecoveryEnabled: true}
      Tags: [{Key: team, Value: commerce}]
  Named:
    Type: AWS::DynamoDB::Table
    Condition: IsCommerce
    Properties:
      TableName: !Sub "${NamePrefix}-named-${AWS::AccountId}"
      BillingMode: PROVISIONED
      ProvisionedThroughput: {ReadCapacityUnits: "5", WriteCapacityUnits: 2}
      AttributeDefinitions:
        - {AttributeName: id, AttributeType: S}
      KeySchema:
        - {AttributeName: id, KeyType: HASH}
      GlobalSecondaryIndexes:
        - IndexName: byId
          KeySchema:
            - {AttributeName: id, KeyType: HASH}
          Projection: {ProjectionType: ALL}
          ProvisionedThroughput: {ReadCapacityUnits: 1, WriteCapacityUnits: 1}
  Payments:
    Type: AWS::SQS::Queue
    Condition: IsCommerce
    Properties:
      FifoQueue: true
      ContentBasedDeduplication: true
      VisibilityTimeout: 60
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt PaymentsDLQ.Arn
        maxReceiveCount: 3
  PaymentsDLQ:
    Type: AWS::SQS::Queue
    Condition: IsCommerce
    Properties:
      FifoQueue: "true"
      MessageRetentionPeriod: 1209600
      SqsManagedSseEnabled: true
  Relay:
    Type: AWS::Serverless::Function
    Condition: IsCommerce
    Properties:
      Environment:
        Variables:
          OUTBOX_STREAM: !GetAtt Orders.StreamArn
  Inbox:
    Type: AWS::SQS::Queue
    Condition: IsSocial
    Properties:
      QueueName: !Sub "${NamePrefix}-inbox"
      ReceiveMessageWaitTimeSeconds: 20
      DelaySeconds: 0
      RedrivePolicy: !Sub '{"deadLetterTargetArn":"${InboxDLQ.Arn}","maxReceiveCount":5}'
      Tags: [{Key: team, Value: social}]
  InboxDLQ:
    Type: AWS::SQS::Queue
    Condition: IsSocial
    Properties:
      QueueName: !Sub "${NamePrefix}-inbox-dlq"
`

var testParams = map[string]string{"JwtIssuer": "http://localhost/idp"}

func parse(t *testing.T, src string) *samtemplate.Template {
	t.Helper()
	tmpl, err := samtemplate.Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

func testOptions(t *testing.T, src string, acct localaccount.Account) Options {
	t.Helper()
	return Options{Template: parse(t, src), Account: acct, Params: testParams, Prefix: "t1-"}
}

// provisioned returns a plan for an account whose resources look as if the emulators
// had created them: queue URLs and emulator ARNs as fauxqs forms them, stream ARNs as
// DynamoDB Local forms them.
func provisioned(t *testing.T, acct localaccount.Account) *plan {
	t.Helper()
	p, err := newPlan(testOptions(t, testTemplate, acct))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range p.ids() {
		name, err := p.name(id)
		if err != nil {
			t.Fatal(err)
		}
		if q, ok := p.queues[id]; ok {
			q.URL = "http://sqs.ap-southeast-3.localhost:4566/000000000000/" + name
			p.emulatorArn[q.Arn] = "arn:aws:sqs:ap-southeast-3:000000000000:" + name
		}
		if tb, ok := p.tables[id]; ok && id == "Orders" {
			tb.StreamArn = "arn:aws:dynamodb:ddblocal:000000000000:table/" + name + "/stream/2025-01-01T00:00:00.000"
		}
		p.created[id] = true
	}
	return p
}

func TestNames(t *testing.T) {
	tests := []struct {
		acct       localaccount.Account
		wantTables map[string]Table
		wantQueues map[string]Queue
	}{
		{
			acct: localaccount.Commerce,
			wantTables: map[string]Table{
				"Orders": {LogicalID: "Orders", Name: "t1-Orders", Arn: "arn:aws:dynamodb:ap-southeast-3:222222222222:table/t1-Orders"},
				"Named": {LogicalID: "Named", Name: "t1-etalase-named-222222222222",
					Arn: "arn:aws:dynamodb:ap-southeast-3:222222222222:table/t1-etalase-named-222222222222"},
			},
			wantQueues: map[string]Queue{
				"Payments":    {LogicalID: "Payments", Name: "t1-Payments.fifo", Arn: "arn:aws:sqs:ap-southeast-3:222222222222:t1-Payments.fifo", FIFO: true},
				"PaymentsDLQ": {LogicalID: "PaymentsDLQ", Name: "t1-PaymentsDLQ.fifo", Arn: "arn:aws:sqs:ap-southeast-3:222222222222:t1-PaymentsDLQ.fifo", FIFO: true},
			},
		},
		{
			acct:       localaccount.Social,
			wantTables: map[string]Table{},
			wantQueues: map[string]Queue{
				"Inbox":    {LogicalID: "Inbox", Name: "t1-etalase-inbox", Arn: "arn:aws:sqs:ap-southeast-3:111111111111:t1-etalase-inbox"},
				"InboxDLQ": {LogicalID: "InboxDLQ", Name: "t1-etalase-inbox-dlq", Arn: "arn:aws:sqs:ap-southeast-3:111111111111:t1-etalase-inbox-dlq"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.acct.Side, func(t *testing.T) {
			res, err := Names(testOptions(t, testTemplate, tt.acct))
			if err != nil {
				t.Fatal(err)
			}
			if res.Account != tt.acct {
				t.Errorf("Account = %+v, want %+v", res.Account, tt.acct)
			}
			if diff := cmp.Diff(tt.wantTables, res.Tables); diff != "" {
				t.Errorf("tables (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantQueues, res.Queues); diff != "" {
				t.Errorf("queues (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNamesErrors(t *testing.T) {
	const head = `
Parameters:
  Side: {Type: String}
  PeerAccountId: {Type: String}
Resources:
`
	tests := []struct {
		name    string
		src     string
		params  map[string]string
		wantErr string
	}{
		{
			name:    "fifo name without suffix",
			src:     head + "  Q:\n    Type: AWS::SQS::Queue\n    Properties: {QueueName: payments, FifoQueue: true}\n",
			wantErr: `QueueName "payments" must end in .fifo`,
		},
		{
			name:    "fifo suffix on a standard queue",
			src:     head + "  Q:\n    Type: AWS::SQS::Queue\n    Properties: {QueueName: payments.fifo}\n",
			wantErr: `must end in .fifo exactly when FifoQueue is true`,
		},
		{
			name:    "name cycle",
			src:     head + "  A:\n    Type: AWS::DynamoDB::Table\n    Properties: {TableName: !Ref B}\n  B:\n    Type: AWS::DynamoDB::Table\n    Properties: {TableName: !Sub '${A}-b'}\n",
			wantErr: "depends on itself",
		},
		{
			name:    "side given differently",
			src:     testTemplate,
			params:  map[string]string{"Side": "social", "JwtIssuer": "x"},
			wantErr: `parameter Side is "social"`,
		},
		{
			name:    "missing parameter",
			src:     testTemplate,
			params:  map[string]string{},
			wantErr: "parameter JwtIssuer has no value",
		},
		{
			name:    "unknown function in a name",
			src:     head + "  A:\n    Type: AWS::DynamoDB::Table\n    Properties: {TableName: !ImportValue shared}\n",
			wantErr: "Fn::ImportValue is not supported locally",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := testOptions(t, tt.src, localaccount.Commerce)
			if tt.params != nil {
				o.Params = tt.params
			}
			_, err := Names(o)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Names() error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestContext(t *testing.T) {
	tests := []struct {
		name    string
		acct    localaccount.Account
		names   bool // resolve with Names rather than a provisioned plan
		expr    string
		want    string
		wantErr string
	}{
		{name: "ref table", acct: localaccount.Commerce, expr: "!Ref Orders", want: "t1-Orders"},
		{name: "table arn", acct: localaccount.Commerce, expr: "!GetAtt Named.Arn",
			want: "arn:aws:dynamodb:ap-southeast-3:222222222222:table/t1-etalase-named-222222222222"},
		{name: "stream arn", acct: localaccount.Commerce, expr: "!GetAtt Orders.StreamArn",
			want: "arn:aws:dynamodb:ddblocal:000000000000:table/t1-Orders/stream/2025-01-01T00:00:00.000"},
		{name: "index arn in sub", acct: localaccount.Commerce, expr: `!Sub "${Orders.Arn}/index/byBuyer"`,
			want: "arn:aws:dynamodb:ap-southeast-3:222222222222:table/t1-Orders/index/byBuyer"},
		{name: "ref queue is its url", acct: localaccount.Commerce, expr: "!Ref Payments",
			want: "http://sqs.ap-southeast-3.localhost:4566/000000000000/t1-Payments.fifo"},
		{name: "queue url", acct: localaccount.Social, expr: "!GetAtt Inbox.QueueUrl",
			want: "http://sqs.ap-southeast-3.localhost:4566/000000000000/t1-etalase-inbox"},
		{name: "queue name", acct: localaccount.Social, expr: "!GetAtt InboxDLQ.QueueName", want: "t1-etalase-inbox-dlq"},
		{name: "queue arn", acct: localaccount.Social, expr: "!GetAtt Inbox.Arn", want: "arn:aws:sqs:ap-southeast-3:111111111111:t1-etalase-inbox"},
		{name: "pseudo and params", acct: localaccount.Social, expr: `!Sub "${AWS::Region}:${AWS::AccountId}:${PeerAccountId}:${Side}"`,
			want: "ap-southeast-3:111111111111:222222222222:social"},
		{name: "names: table arn", acct: localaccount.Commerce, names: true, expr: "!GetAtt Orders.Arn",
			want: "arn:aws:dynamodb:ap-southeast-3:222222222222:table/t1-Orders"},
		{name: "names: no url yet", acct: localaccount.Commerce, names: true, expr: "!Ref Payments", wantErr: "known only once the queue exists"},
		{name: "names: no stream yet", acct: localaccount.Commerce, names: true, expr: "!GetAtt Orders.StreamArn", wantErr: "known only once the table exists"},
		{name: "table without stream", acct: localaccount.Commerce, expr: "!GetAtt Named.StreamArn", wantErr: "the table has no stream"},
		{name: "unsupported attribute", acct: localaccount.Commerce, expr: "!GetAtt Payments.Foo",
			wantErr: "attribute Foo of AWS::SQS::Queue is not supported locally"},
		{name: "other account's resource", acct: localaccount.Commerce, expr: "!Ref Inbox",
			wantErr: "Inbox is not deployed in the commerce account"},
		{name: "other resource type", acct: localaccount.Commerce, expr: "!Ref Relay",
			wantErr: "Relay is a AWS::Serverless::Function, which is not provisioned locally"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c *samtemplate.Context
			var tmpl *samtemplate.Template
			if tt.names {
				res, err := Names(testOptions(t, testTemplate, tt.acct))
				if err != nil {
					t.Fatal(err)
				}
				c = res.Context
				tmpl = parse(t, testTemplate)
			} else {
				p := provisioned(t, tt.acct)
				c, tmpl = p.resources().Context, p.tmpl
			}
			expr := parse(t, "X: "+tt.expr+"\n").Doc["X"]
			got, err := tmpl.EvaluateString(expr, c)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// ignoreUnexported skips the SDK types' unexported no-serde markers.
var ignoreUnexported = cmp.FilterPath(func(p cmp.Path) bool {
	sf, ok := p.Index(-1).(cmp.StructField)
	return ok && !token.IsExported(sf.Name())
}, cmp.Ignore())

func TestTableSpec(t *testing.T) {
	key := func(name string, kt types.KeyType) types.KeySchemaElement {
		return types.KeySchemaElement{AttributeName: aws.String(name), KeyType: kt}
	}
	attr := func(name string, at types.ScalarAttributeType) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(name), AttributeType: at}
	}
	tests := []struct {
		id      string
		want    *dynamodb.CreateTableInput
		wantTTL *types.TimeToLiveSpecification
	}{
		{
			id: "Orders",
			want: &dynamodb.CreateTableInput{
				TableName:   aws.String("t1-Orders"),
				BillingMode: types.BillingModePayPerRequest,
				AttributeDefinitions: []types.AttributeDefinition{
					attr("pk", types.ScalarAttributeTypeS), attr("sk", types.ScalarAttributeTypeS),
					attr("buyer", types.ScalarAttributeTypeS), attr("placedAt", types.ScalarAttributeTypeN),
				},
				KeySchema: []types.KeySchemaElement{key("pk", types.KeyTypeHash), key("sk", types.KeyTypeRange)},
				GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
					IndexName:  aws.String("byBuyer"),
					KeySchema:  []types.KeySchemaElement{key("buyer", types.KeyTypeHash)},
					Projection: &types.Projection{ProjectionType: types.ProjectionTypeInclude, NonKeyAttributes: []string{"total"}},
				}},
				LocalSecondaryIndexes: []types.LocalSecondaryIndex{{
					IndexName:  aws.String("byPlacedAt"),
					KeySchema:  []types.KeySchemaElement{key("pk", types.KeyTypeHash), key("placedAt", types.KeyTypeRange)},
					Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly},
				}},
				StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewAndOldImages},
			},
			wantTTL: &types.TimeToLiveSpecification{AttributeName: aws.String("expiresAt"), Enabled: aws.Bool(true)},
		},
		{
			id: "Named",
			want: &dynamodb.CreateTableInput{
				TableName:             aws.String("t1-etalase-named-222222222222"),
				BillingMode:           types.BillingModeProvisioned,
				ProvisionedThroughput: &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(5), WriteCapacityUnits: aws.Int64(2)},
				AttributeDefinitions:  []types.AttributeDefinition{attr("id", types.ScalarAttributeTypeS)},
				KeySchema:             []types.KeySchemaElement{key("id", types.KeyTypeHash)},
				GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
					IndexName:             aws.String("byId"),
					KeySchema:             []types.KeySchemaElement{key("id", types.KeyTypeHash)},
					Projection:            &types.Projection{ProjectionType: types.ProjectionTypeAll},
					ProvisionedThroughput: &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(1), WriteCapacityUnits: aws.Int64(1)},
				}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			p := provisioned(t, localaccount.Commerce)
			spec, err := p.tableSpec(tt.id)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, spec.create, ignoreUnexported); diff != "" {
				t.Errorf("CreateTableInput (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantTTL, spec.ttl, ignoreUnexported); diff != "" {
				t.Errorf("TTL (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTableSpecErrors(t *testing.T) {
	const head = `
Parameters:
  Side: {Type: String}
  PeerAccountId: {Type: String}
Resources:
  T:
    Type: AWS::DynamoDB::Table
    Properties:
`
	const keys = "      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]\n      KeySchema: [{AttributeName: id, KeyType: HASH}]\n"
	tests := []struct {
		name    string
		props   string
		wantErr string
	}{
		{name: "unsupported property", props: keys + "      BillingMode: PAY_PER_REQUEST\n      ImportSourceSpecification: {InputFormat: CSV}\n",
			wantErr: "property ImportSourceSpecification of AWS::DynamoDB::Table is not supported locally"},
		{name: "misspelt index field", props: keys + "      BillingMode: PAY_PER_REQUEST\n      GlobalSecondaryIndexes: [{IndexNam: x, KeySchema: [{AttributeName: id, KeyType: HASH}], Projection: {ProjectionType: ALL}}]\n",
			wantErr: `unknown field "IndexNam"`},
		{name: "provisioned without throughput", props: keys, wantErr: "needs ProvisionedThroughput"},
		{name: "no key schema", props: "      BillingMode: PAY_PER_REQUEST\n", wantErr: "no KeySchema"},
		{name: "stream without view type", props: keys + "      BillingMode: PAY_PER_REQUEST\n      StreamSpecification: {}\n", wantErr: "needs StreamViewType"},
		{name: "bad throughput", props: keys + "      ProvisionedThroughput: {ReadCapacityUnits: lots, WriteCapacityUnits: 1}\n", wantErr: `"lots" is not an integer`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := newPlan(testOptions(t, head+tt.props, localaccount.Commerce))
			if err != nil {
				t.Fatal(err)
			}
			_, err = p.tableSpec("T")
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("tableSpec() error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestQueueAttributes(t *testing.T) {
	tests := []struct {
		acct localaccount.Account
		id   string
		want map[string]string
	}{
		{
			acct: localaccount.Commerce, id: "Payments",
			want: map[string]string{
				"FifoQueue":                 "true",
				"ContentBasedDeduplication": "true",
				"VisibilityTimeout":         "60",
				"RedrivePolicy":             `{"deadLetterTargetArn":"arn:aws:sqs:ap-southeast-3:000000000000:t1-PaymentsDLQ.fifo","maxReceiveCount":3}`,
			},
		},
		{
			acct: localaccount.Commerce, id: "PaymentsDLQ",
			want: map[string]string{"FifoQueue": "true", "MessageRetentionPeriod": "1209600"},
		},
		{
			acct: localaccount.Social, id: "Inbox",
			want: map[string]string{
				"DelaySeconds":                  "0",
				"ReceiveMessageWaitTimeSeconds": "20",
				"RedrivePolicy":                 `{"deadLetterTargetArn":"arn:aws:sqs:ap-southeast-3:000000000000:t1-etalase-inbox-dlq","maxReceiveCount":5}`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			got, err := provisioned(t, tt.acct).queueAttributes(tt.id)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("attributes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestQueueAttributesErrors(t *testing.T) {
	const head = `
Parameters:
  Side: {Type: String}
  PeerAccountId: {Type: String}
Resources:
  DLQ:
    Type: AWS::SQS::Queue
  Q:
    Type: AWS::SQS::Queue
    Properties:
`
	tests := []struct {
		name    string
		props   string
		wantErr string
	}{
		{name: "dead-letter queue not yet made", props: "      RedrivePolicy: {deadLetterTargetArn: !GetAtt DLQ.Arn, maxReceiveCount: 1}\n",
			wantErr: "dead-letter target arn:aws:sqs:ap-southeast-3:222222222222:t1-DLQ is not a provisioned queue of the commerce account"},
		{name: "dead-letter queue elsewhere", props: "      RedrivePolicy: {deadLetterTargetArn: 'arn:aws:sqs:ap-southeast-3:111111111111:other', maxReceiveCount: 1}\n",
			wantErr: "is not a provisioned queue"},
		{name: "no target", props: "      RedrivePolicy: {maxReceiveCount: 1}\n", wantErr: "no deadLetterTargetArn"},
		{name: "policy not an object", props: "      RedrivePolicy: [1]\n", wantErr: "RedrivePolicy: not an object"},
		{name: "unknown property", props: "      VisibilityTimeOut: 5\n", wantErr: "property VisibilityTimeOut of AWS::SQS::Queue is not supported locally"},
		{name: "non-scalar attribute", props: "      DelaySeconds: [1]\n", wantErr: "Q.DelaySeconds: expected a scalar"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := newPlan(testOptions(t, head+tt.props, localaccount.Commerce))
			if err != nil {
				t.Fatal(err)
			}
			_, err = p.queueAttributes("Q")
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("queueAttributes() error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestOrder(t *testing.T) {
	const cycle = `
Parameters:
  Side: {Type: String}
  PeerAccountId: {Type: String}
Resources:
  A:
    Type: AWS::SQS::Queue
    Properties:
      RedrivePolicy: {deadLetterTargetArn: !GetAtt B.Arn, maxReceiveCount: 1}
  B:
    Type: AWS::SQS::Queue
    Properties:
      RedrivePolicy: !Sub '{"deadLetterTargetArn":"${A.Arn}","maxReceiveCount":1}'
`
	tests := []struct {
		name    string
		src     string
		acct    localaccount.Account
		want    []string
		wantErr string
	}{
		{name: "commerce", src: testTemplate, acct: localaccount.Commerce, want: []string{"Named", "Orders", "PaymentsDLQ", "Payments"}},
		{name: "social", src: testTemplate, acct: localaccount.Social, want: []string{"InboxDLQ", "Inbox"}},
		{name: "cycle", src: cycle, acct: localaccount.Social, wantErr: "reference cycle: A -> B -> A"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := newPlan(testOptions(t, tt.src, tt.acct))
			if err != nil {
				t.Fatal(err)
			}
			got, err := p.order()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("order() error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("order() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestProvisionNeedsClients(t *testing.T) {
	_, err := Provision(t.Context(), testOptions(t, testTemplate, localaccount.Social))
	if err == nil || !strings.Contains(err.Error(), "clients are required") {
		t.Fatalf("Provision() without clients: error = %v", err)
	}
}
