package provision

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/etalase/etalase/infra/samtemplate"
)

// tableProps says what happens to each AWS::DynamoDB::Table property locally: true is
// used, false is accepted and ignored (DynamoDB Local has no use for it). Any other
// property is an error, so that nothing the template asks for is silently dropped.
var tableProps = map[string]bool{
	"TableName":                        true,
	"AttributeDefinitions":             true,
	"KeySchema":                        true,
	"GlobalSecondaryIndexes":           true,
	"LocalSecondaryIndexes":            true,
	"BillingMode":                      true,
	"ProvisionedThroughput":            true,
	"StreamSpecification":              true,
	"TimeToLiveSpecification":          true,
	"SSESpecification":                 false,
	"PointInTimeRecoverySpecification": false,
	"Tags":                             false,
	"ContributorInsightsSpecification": false,
	"KinesisStreamSpecification":       false,
	"DeletionProtectionEnabled":        false,
	"TableClass":                       false,
	"ResourcePolicy":                   false,
	"OnDemandThroughput":               false,
	"WarmThroughput":                   false,
}

// tableSpec is what the template asks of one table.
type tableSpec struct {
	create *dynamodb.CreateTableInput
	// ttl is the TimeToLiveSpecification, nil when the template has none.
	ttl *types.TimeToLiveSpecification
}

// CloudFormation shapes of the table properties, decoded strictly from evaluated values.
type (
	cfnKey struct {
		AttributeName string
		KeyType       string
	}
	cfnAttribute struct {
		AttributeName string
		AttributeType string
	}
	cfnProjection struct {
		ProjectionType   string
		NonKeyAttributes []string
	}
	cfnThroughput struct {
		ReadCapacityUnits  flexInt
		WriteCapacityUnits flexInt
	}
	cfnIndex struct {
		IndexName                        string
		KeySchema                        []cfnKey
		Projection                       cfnProjection
		ProvisionedThroughput            *cfnThroughput
		ContributorInsightsSpecification json.RawMessage
		OnDemandThroughput               json.RawMessage
		WarmThroughput                   json.RawMessage
	}
	cfnStream struct {
		StreamViewType string
		ResourcePolicy json.RawMessage
	}
	cfnTTL struct {
		AttributeName string
		Enabled       flexBool
	}
)

// tableSpec evaluates a table resource into the DynamoDB calls that create it.
func (p *plan) tableSpec(id string) (*tableSpec, error) {
	r := p.active[id]
	if err := checkProps(r, tableProps); err != nil {
		return nil, err
	}
	name, err := p.name(id)
	if err != nil {
		return nil, err
	}
	in := &dynamodb.CreateTableInput{TableName: aws.String(name)}
	spec := &tableSpec{create: in}

	var attrs []cfnAttribute
	if err := p.decodeProp(r, "AttributeDefinitions", &attrs); err != nil {
		return nil, err
	}
	for _, a := range attrs {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{
			AttributeName: aws.String(a.AttributeName),
			AttributeType: types.ScalarAttributeType(a.AttributeType),
		})
	}
	var keys []cfnKey
	if err := p.decodeProp(r, "KeySchema", &keys); err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%s: no KeySchema", id)
	}
	in.KeySchema = keySchema(keys)

	billing, ok, err := p.propString(r, "BillingMode")
	if err != nil {
		return nil, err
	}
	if !ok {
		billing = string(types.BillingModeProvisioned) // CloudFormation's default
	}
	in.BillingMode = types.BillingMode(billing)
	provisioned := in.BillingMode == types.BillingModeProvisioned
	throughput := func(what string, t *cfnThroughput) (*types.ProvisionedThroughput, error) {
		switch {
		case provisioned && t == nil:
			return nil, fmt.Errorf("%s: %s needs ProvisionedThroughput with BillingMode PROVISIONED", id, what)
		case !provisioned:
			return nil, nil
		}
		return &types.ProvisionedThroughput{
			ReadCapacityUnits:  aws.Int64(int64(t.ReadCapacityUnits)),
			WriteCapacityUnits: aws.Int64(int64(t.WriteCapacityUnits)),
		}, nil
	}
	var tableThroughput *cfnThroughput
	if err := p.decodeProp(r, "ProvisionedThroughput", &tableThroughput); err != nil {
		return nil, err
	}
	if in.ProvisionedThroughput, err = throughput("the table", tableThroughput); err != nil {
		return nil, err
	}

	var gsis []cfnIndex
	if err := p.decodeProp(r, "GlobalSecondaryIndexes", &gsis); err != nil {
		return nil, err
	}
	for _, g := range gsis {
		pt, err := throughput("index "+g.IndexName, g.ProvisionedThroughput)
		if err != nil {
			return nil, err
		}
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{
			IndexName:             aws.String(g.IndexName),
			KeySchema:             keySchema(g.KeySchema),
			Projection:            projection(g.Projection),
			ProvisionedThroughput: pt,
		})
	}
	var lsis []cfnIndex
	if err := p.decodeProp(r, "LocalSecondaryIndexes", &lsis); err != nil {
		return nil, err
	}
	for _, l := range lsis {
		in.LocalSecondaryIndexes = append(in.LocalSecondaryIndexes, types.LocalSecondaryIndex{
			IndexName:  aws.String(l.IndexName),
			KeySchema:  keySchema(l.KeySchema),
			Projection: projection(l.Projection),
		})
	}

	var stream *cfnStream
	if err := p.decodeProp(r, "StreamSpecification", &stream); err != nil {
		return nil, err
	}
	if stream != nil {
		if stream.StreamViewType == "" {
			return nil, fmt.Errorf("%s: StreamSpecification needs StreamViewType", id)
		}
		in.StreamSpecification = &types.StreamSpecification{
			StreamEnabled:  aws.Bool(true),
			StreamViewType: types.StreamViewType(stream.StreamViewType),
		}
	}
	var ttl *cfnTTL
	if err := p.decodeProp(r, "TimeToLiveSpecification", &ttl); err != nil {
		return nil, err
	}
	if ttl != nil {
		if ttl.AttributeName == "" {
			return nil, fmt.Errorf("%s: TimeToLiveSpecification needs AttributeName", id)
		}
		spec.ttl = &types.TimeToLiveSpecification{AttributeName: aws.String(ttl.AttributeName), Enabled: aws.Bool(bool(ttl.Enabled))}
	}
	return spec, nil
}

func keySchema(keys []cfnKey) []types.KeySchemaElement {
	out := make([]types.KeySchemaElement, 0, len(keys))
	for _, k := range keys {
		out = append(out, types.KeySchemaElement{AttributeName: aws.String(k.AttributeName), KeyType: types.KeyType(k.KeyType)})
	}
	return out
}

func projection(p cfnProjection) *types.Projection {
	return &types.Projection{ProjectionType: types.ProjectionType(p.ProjectionType), NonKeyAttributes: p.NonKeyAttributes}
}

// provisionTable creates a table (or reuses and updates an existing one), waits until
// it is ACTIVE, and applies its TTL.
func (p *plan) provisionTable(ctx context.Context, db *dynamodb.Client, id string) error {
	spec, err := p.tableSpec(id)
	if err != nil {
		return err
	}
	name := aws.ToString(spec.create.TableName)
	_, err = db.CreateTable(ctx, spec.create)
	var inUse *types.ResourceInUseException
	switch {
	case errors.As(err, &inUse):
		if err := reconcileTable(ctx, db, spec.create); err != nil {
			return err
		}
	case err != nil:
		return fmt.Errorf("create table %s: %w", name, err)
	}
	desc, err := waitActive(ctx, db, name)
	if err != nil {
		return err
	}
	if spec.ttl != nil {
		if err := applyTTL(ctx, db, name, spec.ttl); err != nil {
			return err
		}
	}
	t := p.tables[id]
	if spec.create.StreamSpecification != nil {
		t.StreamArn = aws.ToString(desc.LatestStreamArn)
		if t.StreamArn == "" {
			return fmt.Errorf("table %s: stream enabled but no LatestStreamArn", name)
		}
	}
	p.created[id] = true
	return nil
}

// reconcileTable brings an existing table in line with the template where DynamoDB
// allows it: missing global secondary indexes and a missing stream are added. A
// different key schema or stream view type cannot be changed in place and is an error.
func reconcileTable(ctx context.Context, db *dynamodb.Client, want *dynamodb.CreateTableInput) error {
	name := aws.ToString(want.TableName)
	have, err := waitActive(ctx, db, name)
	if err != nil {
		return err
	}
	if got, exp := keyString(have.KeySchema), keyString(want.KeySchema); got != exp {
		return fmt.Errorf("table %s exists with key schema %s, the template wants %s: delete it", name, got, exp)
	}
	for _, g := range want.GlobalSecondaryIndexes {
		if slices.ContainsFunc(have.GlobalSecondaryIndexes, func(h types.GlobalSecondaryIndexDescription) bool {
			return aws.ToString(h.IndexName) == aws.ToString(g.IndexName)
		}) {
			continue
		}
		_, err := db.UpdateTable(ctx, &dynamodb.UpdateTableInput{
			TableName:            want.TableName,
			AttributeDefinitions: want.AttributeDefinitions,
			GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Create: &types.CreateGlobalSecondaryIndexAction{
				IndexName:             g.IndexName,
				KeySchema:             g.KeySchema,
				Projection:            g.Projection,
				ProvisionedThroughput: g.ProvisionedThroughput,
			}}},
		})
		if err != nil {
			return fmt.Errorf("add index %s to table %s: %w", aws.ToString(g.IndexName), name, err)
		}
		if _, err := waitActive(ctx, db, name); err != nil {
			return err
		}
	}
	if ws := want.StreamSpecification; ws != nil {
		hs := have.StreamSpecification
		switch {
		case hs == nil || !aws.ToBool(hs.StreamEnabled):
			_, err := db.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: want.TableName, StreamSpecification: ws})
			if err != nil {
				return fmt.Errorf("enable stream of table %s: %w", name, err)
			}
		case hs.StreamViewType != ws.StreamViewType:
			return fmt.Errorf("table %s has stream view type %s, the template wants %s: delete it", name, hs.StreamViewType, ws.StreamViewType)
		}
	}
	return nil
}

func keyString(keys []types.KeySchemaElement) string {
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, aws.ToString(k.AttributeName)+" "+string(k.KeyType))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// tableWait bounds how long a table may take to become ACTIVE. DynamoDB Local creates
// tables ACTIVE at once; the bound only matters if something is wrong.
const (
	tableWait = 2 * time.Minute
	tablePoll = 50 * time.Millisecond
)

// waitActive polls until the table and all its global secondary indexes are ACTIVE.
func waitActive(ctx context.Context, db *dynamodb.Client, name string) (*types.TableDescription, error) {
	ctx, cancel := context.WithTimeout(ctx, tableWait)
	defer cancel()
	for {
		out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if err != nil {
			return nil, fmt.Errorf("describe table %s: %w", name, err)
		}
		t := out.Table
		ready := t.TableStatus == types.TableStatusActive
		for _, g := range t.GlobalSecondaryIndexes {
			ready = ready && g.IndexStatus == types.IndexStatusActive
		}
		if ready {
			return t, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("table %s is %s, not ACTIVE: %w", name, t.TableStatus, ctx.Err())
		case <-time.After(tablePoll):
		}
	}
}

// applyTTL sets the table's time to live as the template wants, if it is not so already.
func applyTTL(ctx context.Context, db *dynamodb.Client, name string, want *types.TimeToLiveSpecification) error {
	out, err := db.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
	if err != nil {
		return fmt.Errorf("describe time to live of %s: %w", name, err)
	}
	have := out.TimeToLiveDescription
	on := have != nil && (have.TimeToLiveStatus == types.TimeToLiveStatusEnabled || have.TimeToLiveStatus == types.TimeToLiveStatusEnabling)
	haveAttr := ""
	if have != nil {
		haveAttr = aws.ToString(have.AttributeName)
	}
	update := func(enabled bool, attr string) error {
		_, err := db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
			TableName:               aws.String(name),
			TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(attr), Enabled: aws.Bool(enabled)},
		})
		if err != nil {
			return fmt.Errorf("update time to live of %s: %w", name, err)
		}
		return nil
	}
	wantOn, wantAttr := aws.ToBool(want.Enabled), aws.ToString(want.AttributeName)
	switch {
	case wantOn && on && haveAttr == wantAttr, !wantOn && !on:
		return nil
	case wantOn && on:
		if err := update(false, haveAttr); err != nil {
			return err
		}
		return update(true, wantAttr)
	case wantOn:
		return update(true, wantAttr)
	default:
		return update(false, haveAttr)
	}
}

// checkProps fails on a property that the table is not known to have.
func checkProps(r samtemplate.Resource, known map[string]bool) error {
	for k := range r.Properties {
		if _, ok := known[k]; !ok {
			return fmt.Errorf("%s: property %s of %s is not supported locally", r.LogicalID, k, r.Type)
		}
	}
	return nil
}

// decodeProp evaluates a property and decodes it strictly into out (left alone when the
// property is absent): an unknown field is an error naming it.
func (p *plan) decodeProp(r samtemplate.Resource, key string, out any) error {
	v, ok, err := p.prop(r, key)
	if err != nil || !ok {
		return err
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("%s.%s: %w", r.LogicalID, key, err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(out); err != nil {
		return fmt.Errorf("%s.%s: %w", r.LogicalID, key, err)
	}
	return nil
}

// flexInt is an integer that CloudFormation lets a template write as a number or a string.
type flexInt int64

// UnmarshalJSON accepts 5 and "5".
func (n *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("%s is not an integer", b)
	}
	*n = flexInt(v)
	return nil
}

// flexBool is a boolean that CloudFormation lets a template write as true or "true".
type flexBool bool

// UnmarshalJSON accepts true, false, "true" and "false".
func (f *flexBool) UnmarshalJSON(b []byte) error {
	v, err := strconv.ParseBool(strings.Trim(string(b), `"`))
	if err != nil {
		return fmt.Errorf("%s is not a boolean", b)
	}
	*f = flexBool(v)
	return nil
}
