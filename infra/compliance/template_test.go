package compliance

import (
	"bytes"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/etalase/etalase/infra/samtemplate"
)

const header = `
Parameters:
  Side: {Type: String, AllowedValues: [social, commerce]}
  PeerAccountId: {Type: String}
  NamePrefix: {Type: String, Default: etalase}
Conditions:
  IsSocial: !Equals [!Ref Side, social]
  IsCommerce: !Equals [!Ref Side, commerce]
Globals:
  Function:
    Runtime: provided.al2023
Resources:
`

// good holds a small two-sided template that keeps every rule, one resource per key.
// Cases replace, add or (with "") delete resources.
var good = map[string]string{
	"CatalogTable": `
    Type: AWS::DynamoDB::Table
    Condition: IsCommerce
    Properties:
      TableName: !Sub "${NamePrefix}-catalog"
      StreamSpecification: {StreamViewType: NEW_IMAGE}`,
	"PromotionTable": `
    Type: AWS::DynamoDB::Table
    Condition: IsSocial`,
	"PaymentQueue": `
    Type: AWS::SQS::Queue
    Condition: IsCommerce`,
	"SocialInboxQueue": `
    Type: AWS::SQS::Queue
    Condition: IsSocial
    Properties:
      QueueName: !Sub "${NamePrefix}-social-inbox"`,
	"SocialInboxQueuePolicy": inboxPolicy(`
            Action: sqs:SendMessage`),
	"CommerceCatalogFunction": `
    Type: AWS::Serverless::Function
    Condition: IsCommerce
    Properties:
      Policies:
        - Statement:
            - Effect: Allow
              Action: [dynamodb:GetItem, dynamodb:PutItem]
              Resource: !GetAtt CatalogTable.Arn
            - Effect: Allow
              Action: dynamodb:Query
              Resource: !Sub "${CatalogTable.Arn}/index/*"
            - Effect: Allow
              Action: xray:PutTraceSegments
              Resource: "*"
            - Effect: Deny
              Action: "*"
              Resource: "*"
        - SQSSendMessagePolicy: {QueueName: !GetAtt PaymentQueue.QueueName}
        - AWSLambdaBasicExecutionRole`,
	"CommerceRelayFunction": `
    Type: AWS::Serverless::Function
    Condition: IsCommerce
    Properties:
      Environment:
        Variables:
          INBOX_URL: !Sub "https://sqs.${AWS::Region}.amazonaws.com/${PeerAccountId}/${NamePrefix}-social-inbox"
      Policies:
        - Statement:
            - Effect: Allow
              Action: sqs:SendMessage
              Resource: !Sub "arn:${AWS::Partition}:sqs:${AWS::Region}:${PeerAccountId}:${NamePrefix}-social-inbox"
      Events:
        Outbox:
          Type: DynamoDB
          Properties: {Stream: !GetAtt CatalogTable.StreamArn, StartingPosition: LATEST}`,
	"SocialInboxFunction": `
    Type: AWS::Serverless::Function
    Condition: IsSocial
    Properties:
      Policies:
        - DynamoDBCrudPolicy: {TableName: !Ref PromotionTable}
      Events:
        Inbox:
          Type: SQS
          Properties: {Queue: !GetAtt SocialInboxQueue.Arn}`,
}

// inboxPolicy returns the inbox queue policy with the given Action lines (and
// anything else the caller puts there) in its one statement.
func inboxPolicy(action string) string {
	return `
    Type: AWS::SQS::QueuePolicy
    Condition: IsSocial
    Properties:
      Queues: [!Ref SocialInboxQueue]
      PolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {AWS: !Sub "arn:${AWS::Partition}:iam::${PeerAccountId}:root"}
            Resource: !GetAtt SocialInboxQueue.Arn` + action + `
            Condition:
              ArnEquals:
                aws:PrincipalArn: !Sub "arn:${AWS::Partition}:iam::${PeerAccountId}:role/${NamePrefix}-commerce-relay"`
}

// build assembles good with changes applied.
func build(t *testing.T, changes map[string]string) *samtemplate.Template {
	t.Helper()
	res := map[string]string{}
	for k, v := range good {
		res[k] = v
	}
	for k, v := range changes {
		if v == "" {
			delete(res, k)
		} else {
			res[k] = v
		}
	}
	ids := make([]string, 0, len(res))
	for id := range res {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var b strings.Builder
	b.WriteString(header)
	for _, id := range ids {
		b.WriteString("  " + id + ":" + res[id] + "\n")
	}
	tpl, err := samtemplate.Parse([]byte(b.String()))
	if err != nil {
		t.Fatalf("parse test template: %v\n%s", err, b.String())
	}
	return tpl
}

func analyze(t *testing.T, tpl *samtemplate.Template) *Analysis {
	t.Helper()
	a, err := Analyze(tpl, DefaultRules())
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestGoodTemplatePasses(t *testing.T) {
	a := analyze(t, build(t, nil))
	for _, c := range a.Checks() {
		if !c.Passed {
			t.Errorf("%s failed on the good template: %v", c.Name, c.Violations)
		}
	}
	rep := a.Report("t.yaml")
	if len(rep.CrossAccountGrants) != 2 {
		t.Errorf("cross-account grants = %q, want the relay's send and the inbox policy", rep.CrossAccountGrants)
	}
	if got := rep.Functions["commerce"]; len(got) != 2 {
		t.Errorf("commerce functions = %v", got)
	}
}

func TestRelayRoleGrantAllowed(t *testing.T) {
	a := analyze(t, build(t, map[string]string{
		"CommerceRelayRole": `
    Type: AWS::IAM::Role
    Condition: IsCommerce
    Properties:
      RoleName: !Sub "${NamePrefix}-commerce-relay"
      AssumeRolePolicyDocument:
        Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}]
      ManagedPolicyArns:
        - !Sub "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
      Policies:
        - PolicyName: send-to-social-inbox
          PolicyDocument:
            Statement:
              - Effect: Allow
                Action: [sqs:SendMessage]
                Resource: !Sub "arn:aws:sqs:${AWS::Region}:${PeerAccountId}:etalase-social-inbox"
              - Effect: Allow
                Action: [dynamodb:GetRecords, dynamodb:GetShardIterator, dynamodb:DescribeStream, dynamodb:ListStreams]
                Resource: !GetAtt CatalogTable.StreamArn`,
		"CommerceRelayFunction": `
    Type: AWS::Serverless::Function
    Condition: IsCommerce
    Properties:
      Role: !GetAtt CommerceRelayRole.Arn
      Events:
        Outbox:
          Type: DynamoDB
          Properties: {Stream: !GetAtt CatalogTable.StreamArn, StartingPosition: LATEST}`,
	}))
	for _, c := range a.Checks() {
		if !c.Passed {
			t.Errorf("%s failed: %v", c.Name, c.Violations)
		}
	}
	want := "CommerceRelayFunction (commerce only) names CatalogTable, CommerceRelayRole"
	if notes := a.CheckSideReferences().Notes; !slices.Contains(notes, want) {
		t.Errorf("side-reference notes %q lack %q", notes, want)
	}
	if got := a.Report("t.yaml").CrossAccountGrants; len(got) != 2 || !strings.Contains(got[0], "CommerceRelayRole") {
		t.Errorf("cross-account grants = %q, want the relay role's send and the inbox policy", got)
	}
}

func TestTemplateChecksFail(t *testing.T) {
	cases := []struct {
		name    string
		changes map[string]string
		check   string
		want    string // a substring of one violation
	}{
		{
			name: "social function with DynamoDBCrudPolicy on a commerce table",
			changes: map[string]string{"SocialPromotionFunction": `
    Type: AWS::Serverless::Function
    Condition: IsSocial
    Properties:
      Policies:
        - DynamoDBCrudPolicy: {TableName: !Ref CatalogTable}`},
			check: CheckSideReferences,
			want:  "SocialPromotionFunction (social only) Policies[0].DynamoDBCrudPolicy.TableName names CatalogTable (commerce only)",
		},
		{
			name: "commerce function statement on a social queue",
			changes: map[string]string{"CommerceOrderFunction": `
    Type: AWS::Serverless::Function
    Condition: IsCommerce
    Properties:
      Policies:
        - Statement:
            - Effect: Allow
              Action: sqs:SendMessage
              Resource: !GetAtt SocialInboxQueue.Arn`},
			check: CheckSideReferences,
			want:  "CommerceOrderFunction (commerce only) Policies[0].Statement[0].Resource names SocialInboxQueue (social only)",
		},
		{
			name: "commerce function Sub on a social table index",
			changes: map[string]string{"CommerceOrderFunction": `
    Type: AWS::Serverless::Function
    Condition: IsCommerce
    Properties:
      Policies:
        - Statement:
            - Effect: Allow
              Action: dynamodb:Query
              Resource: !Sub "${PromotionTable.Arn}/index/byCreator"`},
			check: CheckSideReferences,
			want:  "names PromotionTable (social only)",
		},
		{
			name: "social function consuming a commerce queue",
			changes: map[string]string{"SocialInboxFunction": `
    Type: AWS::Serverless::Function
    Condition: IsSocial
    Properties:
      Events:
        Payments: {Type: SQS, Properties: {Queue: !GetAtt PaymentQueue.Arn}}`},
			check: CheckSideReferences,
			want:  "SocialInboxFunction (social only) Events.Payments.Properties.Queue names PaymentQueue (commerce only)",
		},
		{
			name: "social function on a commerce table stream",
			changes: map[string]string{"SocialInboxFunction": `
    Type: AWS::Serverless::Function
    Condition: IsSocial
    Properties:
      Events:
        S: {Type: DynamoDB, Properties: {Stream: !GetAtt CatalogTable.StreamArn, StartingPosition: LATEST}}`},
			check: CheckSideReferences,
			want:  "names CatalogTable (commerce only)",
		},
		{
			name: "social function with a role whose policy names a commerce table",
			changes: map[string]string{
				"SocialFeedRole": `
    Type: AWS::IAM::Role
    Condition: IsSocial
    Properties:
      AssumeRolePolicyDocument:
        Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}]
      Policies:
        - PolicyName: feed
          PolicyDocument:
            Statement: [{Effect: Allow, Action: dynamodb:GetItem, Resource: !GetAtt CatalogTable.Arn}]`,
				"SocialFeedFunction": `
    Type: AWS::Serverless::Function
    Condition: IsSocial
    Properties:
      Role: !GetAtt SocialFeedRole.Arn`},
			check: CheckSideReferences,
			want:  "SocialFeedRole (social only) Policies[0].PolicyDocument.Statement[0].Resource names CatalogTable (commerce only); it gives permissions to SocialFeedFunction",
		},
		{
			name: "social function using a commerce role",
			changes: map[string]string{
				"CommerceRole": `
    Type: AWS::IAM::Role
    Condition: IsCommerce
    Properties:
      AssumeRolePolicyDocument:
        Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}]`,
				"SocialFeedFunction": `
    Type: AWS::Serverless::Function
    Condition: IsSocial
    Properties:
      Role: !GetAtt CommerceRole.Arn`},
			check: CheckSideReferences,
			want:  "SocialFeedFunction (social only) Role names CommerceRole (commerce only)",
		},
		{
			name: "commerce policy attached to a social function's implicit role",
			changes: map[string]string{"ExtraPolicy": `
    Type: AWS::IAM::Policy
    Condition: IsCommerce
    Properties:
      PolicyName: extra
      Roles: [!Ref SocialInboxFunctionRole]
      PolicyDocument:
        Statement: [{Effect: Allow, Action: dynamodb:GetItem, Resource: !GetAtt CatalogTable.Arn}]`},
			check: CheckSideReferences,
			want:  "ExtraPolicy (commerce only) Roles[0] names SocialInboxFunction (social only); it gives permissions to SocialInboxFunction",
		},
		{
			name: "connector from a social function to a commerce table",
			changes: map[string]string{"SocialToCatalog": `
    Type: AWS::Serverless::Connector
    Condition: IsSocial
    Properties:
      Source: {Id: SocialInboxFunction}
      Destination: {Id: CatalogTable}
      Permissions: [Read]`},
			check: CheckSideReferences,
			want:  "SocialToCatalog (social only) Destination.Id names CatalogTable (commerce only)",
		},
		{
			name: "embedded connector from a social function to a commerce queue",
			changes: map[string]string{"SocialInboxFunction": good["SocialInboxFunction"] + `
    Connectors:
      Pay:
        Properties:
          Destination: [{Id: PaymentQueue}]
          Permissions: [Write]`},
			check: CheckSideReferences,
			want:  "SocialInboxFunction (social only) Connectors.Pay.Properties.Destination[0].Id names PaymentQueue (commerce only)",
		},
		{
			name: "connector to a peer-account queue",
			changes: map[string]string{"RelayToInbox": `
    Type: AWS::Serverless::Connector
    Condition: IsCommerce
    Properties:
      Source: {Id: CommerceRelayFunction}
      Destination:
        Type: AWS::SQS::Queue
        Arn: !Sub "arn:aws:sqs:${AWS::Region}:${PeerAccountId}:etalase-social-inbox"
      Permissions: [Write]`},
			check: CheckCrossIdentity,
			want:  "RelayToInbox (commerce only) Destination: connector names ${PeerAccountId}",
		},
		{
			name: "function without a side condition",
			changes: map[string]string{"SharedFunction": `
    Type: AWS::Serverless::Function
    Properties: {Handler: bootstrap}`},
			check: CheckFunctionSides,
			want:  "SharedFunction deploys on social+commerce",
		},
		{
			name: "second cross-account queue policy",
			changes: map[string]string{"PaymentQueuePolicy": `
    Type: AWS::SQS::QueuePolicy
    Condition: IsCommerce
    Properties:
      Queues: [!Ref PaymentQueue]
      PolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {AWS: !Ref PeerAccountId}
            Action: sqs:SendMessage
            Resource: !GetAtt PaymentQueue.Arn`},
			check: CheckResourcePolicy,
			want:  "PaymentQueuePolicy (commerce only) PolicyDocument.Statement[0] grants to ${PeerAccountId}: only SocialInboxQueuePolicy",
		},
		{
			name:    "inbox policy granting sqs:*",
			changes: map[string]string{"SocialInboxQueuePolicy": inboxPolicy("\n            Action: sqs:*")},
			check:   CheckResourcePolicy,
			want:    "Action must be exactly sqs:SendMessage",
		},
		{
			name:    "inbox policy granting sqs:* is also a wildcard",
			changes: map[string]string{"SocialInboxQueuePolicy": inboxPolicy("\n            Action: sqs:*")},
			check:   CheckWildcards,
			want:    `Action "sqs:*" grants every action of sqs`,
		},
		{
			name:    "inbox policy granting ReceiveMessage too",
			changes: map[string]string{"SocialInboxQueuePolicy": inboxPolicy("\n            Action: [sqs:SendMessage, sqs:ReceiveMessage]")},
			check:   CheckResourcePolicy,
			want:    "Action must be exactly sqs:SendMessage",
		},
		{
			name: "inbox policy without the PrincipalArn condition",
			changes: map[string]string{"SocialInboxQueuePolicy": `
    Type: AWS::SQS::QueuePolicy
    Condition: IsSocial
    Properties:
      Queues: [!Ref SocialInboxQueue]
      PolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {AWS: !Sub "arn:${AWS::Partition}:iam::${PeerAccountId}:root"}
            Action: sqs:SendMessage
            Resource: !GetAtt SocialInboxQueue.Arn`},
			check: CheckResourcePolicy,
			want:  "Condition must require aws:PrincipalArn",
		},
		{
			name: "inbox policy conditioned on another role",
			changes: map[string]string{"SocialInboxQueuePolicy": strings.Replace(good["SocialInboxQueuePolicy"],
				"-commerce-relay", "-commerce-checkout", 1)},
			check: CheckResourcePolicy,
			want:  "Condition must require aws:PrincipalArn = arn:aws:iam::222222222222:role/etalase-commerce-relay",
		},
		{
			name: "inbox policy open to everyone",
			changes: map[string]string{"SocialInboxQueuePolicy": strings.Replace(good["SocialInboxQueuePolicy"],
				`Principal: {AWS: !Sub "arn:${AWS::Partition}:iam::${PeerAccountId}:root"}`, `Principal: "*"`, 1)},
			check: CheckResourcePolicy,
			want:  "grants to any account (*): Principal must be {AWS: the commerce account}",
		},
		{
			name: "inbox policy on the DLQ as well",
			changes: map[string]string{
				"SocialInboxDLQ": "\n    Type: AWS::SQS::Queue\n    Condition: IsSocial",
				"SocialInboxQueuePolicy": strings.Replace(good["SocialInboxQueuePolicy"],
					"Queues: [!Ref SocialInboxQueue]", "Queues: [!Ref SocialInboxQueue, !Ref SocialInboxDLQ]", 1)},
			check: CheckResourcePolicy,
			want:  "Queues must be exactly SocialInboxQueue",
		},
		{
			name: "role trusting the peer account",
			changes: map[string]string{"SocialAuditRole": `
    Type: AWS::IAM::Role
    Condition: IsSocial
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {AWS: !Sub "arn:${AWS::Partition}:iam::${PeerAccountId}:root"}
            Action: sts:AssumeRole`},
			check: CheckResourcePolicy,
			want:  "SocialAuditRole (social only) AssumeRolePolicyDocument.Statement[0] grants to ${PeerAccountId}",
		},
		{
			name: "table resource policy for a hard-coded account",
			changes: map[string]string{"CatalogTable": `
    Type: AWS::DynamoDB::Table
    Condition: IsCommerce
    Properties:
      ResourcePolicy:
        PolicyDocument:
          Statement:
            - Effect: Allow
              Principal: {AWS: "arn:aws:iam::123456789012:root"}
              Action: dynamodb:GetItem
              Resource: "*"`},
			check: CheckResourcePolicy,
			want:  "CatalogTable (commerce only) ResourcePolicy.PolicyDocument.Statement[0] grants to a hard-coded account id",
		},
		{
			name: "lambda permission for the peer account",
			changes: map[string]string{"InvokeFromPeer": `
    Type: AWS::Lambda::Permission
    Condition: IsCommerce
    Properties:
      Action: lambda:InvokeFunction
      FunctionName: !Ref CommerceCatalogFunction
      Principal: !Ref PeerAccountId`},
			check: CheckResourcePolicy,
			want:  "InvokeFromPeer (commerce only) Principal names ${PeerAccountId}",
		},
		{
			name: "peer-account ARN in a social function's policy",
			changes: map[string]string{"SocialInboxFunction": `
    Type: AWS::Serverless::Function
    Condition: IsSocial
    Properties:
      Policies:
        - Statement:
            - Effect: Allow
              Action: dynamodb:GetItem
              Resource: !Sub "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${PeerAccountId}:table/etalase-catalog"`},
			check: CheckCrossIdentity,
			want:  "SocialInboxFunction (social only) Policies[0].Statement[0].Resource names ${PeerAccountId}; the one permission allowed in the other account is commerce's sqs:SendMessage",
		},
		{
			name: "social function sending to the commerce-side name of the inbox",
			changes: map[string]string{"SocialInboxFunction": `
    Type: AWS::Serverless::Function
    Condition: IsSocial
    Properties:
      Policies:
        - Statement:
            - Effect: Allow
              Action: sqs:SendMessage
              Resource: !Sub "arn:${AWS::Partition}:sqs:${AWS::Region}:${PeerAccountId}:${NamePrefix}-social-inbox"`},
			check: CheckCrossIdentity,
			want:  "SocialInboxFunction (social only) Policies[0].Statement[0].Resource names ${PeerAccountId}; the one permission",
		},
		{
			name: "relay receiving from the peer inbox",
			changes: map[string]string{"CommerceRelayFunction": strings.Replace(good["CommerceRelayFunction"],
				"Action: sqs:SendMessage", "Action: [sqs:SendMessage, sqs:ReceiveMessage]", 1)},
			check: CheckCrossIdentity,
			want:  "the only cross-account action allowed is sqs:SendMessage",
		},
		{
			name: "relay sending to another peer queue",
			changes: map[string]string{"CommerceRelayFunction": strings.Replace(good["CommerceRelayFunction"],
				"${NamePrefix}-social-inbox\"\n      Events", "${NamePrefix}-social-other\"\n      Events", 1)},
			check: CheckCrossIdentity,
			want:  "the only cross-account resource allowed is the SocialInboxQueue queue (arn:aws:sqs:ap-southeast-3:111111111111:etalase-social-inbox)",
		},
		{
			name: "hard-coded account id in a commerce statement",
			changes: map[string]string{"CommerceRelayFunction": strings.Replace(good["CommerceRelayFunction"],
				"${PeerAccountId}:${NamePrefix}-social-inbox\"\n      Events", "123456789012:${NamePrefix}-social-inbox\"\n      Events", 1)},
			check: CheckCrossIdentity,
			want:  "names a hard-coded account id",
		},
		{
			name: "social function consuming a peer queue",
			changes: map[string]string{"SocialInboxFunction": `
    Type: AWS::Serverless::Function
    Condition: IsSocial
    Properties:
      Events:
        Peer: {Type: SQS, Properties: {Queue: !Sub "arn:aws:sqs:${AWS::Region}:${PeerAccountId}:payments"}}`},
			check: CheckCrossIdentity,
			want:  "SocialInboxFunction (social only) Events.Peer: event source names ${PeerAccountId}",
		},
		{
			name: "action wildcard",
			changes: map[string]string{"CommerceCatalogFunction": strings.Replace(good["CommerceCatalogFunction"],
				"Action: [dynamodb:GetItem, dynamodb:PutItem]", "Action: dynamodb:*", 1)},
			check: CheckWildcards,
			want:  `Policies[0].Statement[0]: Action "dynamodb:*" grants every action of dynamodb`,
		},
		{
			name: "star action",
			changes: map[string]string{"CommerceCatalogFunction": strings.Replace(good["CommerceCatalogFunction"],
				"Action: [dynamodb:GetItem, dynamodb:PutItem]", `Action: "*"`, 1)},
			check: CheckWildcards,
			want:  `Action "*" grants every action of every service`,
		},
		{
			name: "resource star on a table action",
			changes: map[string]string{"CommerceCatalogFunction": strings.Replace(good["CommerceCatalogFunction"],
				"Resource: !GetAtt CatalogTable.Arn", `Resource: "*"`, 1)},
			check: CheckWildcards,
			want:  `Resource "*" with DynamoDB/SQS actions acts on every table or queue`,
		},
		{
			name: "every table in the account",
			changes: map[string]string{"CommerceCatalogFunction": strings.Replace(good["CommerceCatalogFunction"],
				"Resource: !GetAtt CatalogTable.Arn", `Resource: !Sub "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/*"`, 1)},
			check: CheckWildcards,
			want:  "acts on every matching table or queue",
		},
		{
			name: "not action",
			changes: map[string]string{"CommerceCatalogFunction": strings.Replace(good["CommerceCatalogFunction"],
				"Action: [dynamodb:GetItem, dynamodb:PutItem]", "NotAction: [iam:*]", 1)},
			check: CheckWildcards,
			want:  "NotAction grants every other action",
		},
		{
			name: "managed full-access policy",
			changes: map[string]string{"CommerceCatalogFunction": strings.Replace(good["CommerceCatalogFunction"],
				"- AWSLambdaBasicExecutionRole", "- AmazonDynamoDBFullAccess", 1)},
			check: CheckWildcards,
			want:  `managed policy "AmazonDynamoDBFullAccess" cannot be checked`,
		},
		{
			name: "policy template on every table",
			changes: map[string]string{"SocialInboxFunction": strings.Replace(good["SocialInboxFunction"],
				"TableName: !Ref PromotionTable", `TableName: "*"`, 1)},
			check: CheckWildcards,
			want:  `Policies[0].DynamoDBCrudPolicy: TableName "*" is a wildcard`,
		},
		{
			name: "wildcard behind Fn::If",
			changes: map[string]string{"CommerceCatalogFunction": `
    Type: AWS::Serverless::Function
    Condition: IsCommerce
    Properties:
      Policies:
        - Statement:
            - !If [IsCommerce, {Effect: Allow, Action: "sqs:*", Resource: !GetAtt PaymentQueue.Arn}, !Ref AWS::NoValue]`},
			check: CheckWildcards,
			want:  `Action "sqs:*"`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := analyze(t, build(t, tc.changes))
			var found *Check
			for _, c := range a.Checks() {
				if c.Name == tc.check {
					found = &c
				}
			}
			if found == nil {
				t.Fatalf("no check %q", tc.check)
			}
			if found.Passed {
				t.Fatalf("%s passed, want a violation containing %q", tc.check, tc.want)
			}
			for _, v := range found.Violations {
				if strings.Contains(v, tc.want) {
					t.Logf("%s: %s", tc.check, v)
					return
				}
			}
			t.Errorf("%s violations %q\nwant one containing %q", tc.check, found.Violations, tc.want)
		})
	}
}

func TestRepoTemplatePasses(t *testing.T) {
	tpl, err := samtemplate.Load(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	a := analyze(t, tpl)
	for _, c := range a.Checks() {
		if !c.Passed {
			t.Errorf("%s: %v", c.Name, c.Violations)
		}
	}
	if side, ok := a.SideOf("CommerceCatalogFunction"); !ok || side != "commerce" {
		t.Errorf("CommerceCatalogFunction side = %q, %v", side, ok)
	}
	// The catalog function names its own tables; which ones may change, so only one is pinned.
	if notes := a.CheckSideReferences().Notes; !slices.ContainsFunc(notes, func(n string) bool {
		return strings.HasPrefix(n, "CommerceCatalogFunction (commerce only) names ") && strings.Contains(n, "CatalogTable")
	}) {
		t.Errorf("side-reference notes %q lack the catalog function naming CatalogTable", notes)
	}
	rep := a.Report("template.yaml")
	if !slices.ContainsFunc(rep.CrossAccountGrants, func(g string) bool { return strings.HasPrefix(g, "SocialInboxQueuePolicy ") }) {
		t.Errorf("cross-account grants = %q, want the inbox queue policy among them", rep.CrossAccountGrants)
	}
}

func TestReportText(t *testing.T) {
	a := analyze(t, build(t, map[string]string{"SocialInboxQueuePolicy": inboxPolicy("\n            Action: sqs:*")}))
	rep := a.Report("t.yaml")
	if rep.Passed() {
		t.Fatal("report passed with a broken inbox policy")
	}
	var buf bytes.Buffer
	if err := rep.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"FAIL  cross-account resource policies", "PASS  function sides", "result: FAIL, 2 violations", "functions  social 1 (SocialInboxFunction), commerce 2"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("report text lacks %q:\n%s", want, buf.String())
		}
	}
	buf.Reset()
	if err := rep.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"passed": false`) {
		t.Errorf("JSON report lacks a failed check:\n%s", buf.String())
	}
}
