package provision

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
)

// queueAttrs lists the AWS::SQS::Queue properties that become SQS queue attributes of
// the same name, rendered as strings. RedrivePolicy is handled apart.
var queueAttrs = []string{
	"FifoQueue",
	"ContentBasedDeduplication",
	"DeduplicationScope",
	"FifoThroughputLimit",
	"DelaySeconds",
	"VisibilityTimeout",
	"MessageRetentionPeriod",
	"ReceiveMessageWaitTimeSeconds",
	"MaximumMessageSize",
}

// queueProps says what happens to each AWS::SQS::Queue property locally: true is used,
// false is accepted and ignored (encryption, tags, who may redrive into the queue). Any
// other property is an error.
var queueProps = func() map[string]bool {
	m := map[string]bool{
		"QueueName":                    true,
		"RedrivePolicy":                true,
		"SqsManagedSseEnabled":         false,
		"KmsMasterKeyId":               false,
		"KmsDataKeyReusePeriodSeconds": false,
		"Tags":                         false,
		"RedriveAllowPolicy":           false,
	}
	for _, a := range queueAttrs {
		m[a] = true
	}
	return m
}()

// immutableQueueAttrs cannot be set on an existing queue (fauxqs rejects them in
// SetQueueAttributes).
var immutableQueueAttrs = []string{"FifoQueue", "DeduplicationScope", "FifoThroughputLimit"}

// queueAttributes evaluates a queue resource into CreateQueue attributes. The
// dead-letter target of a RedrivePolicy must be a queue of the same account that is
// already provisioned; its ARN is replaced by the one the emulator knows it by.
func (p *plan) queueAttributes(id string) (map[string]string, error) {
	r := p.active[id]
	if err := checkProps(r, queueProps); err != nil {
		return nil, err
	}
	attrs := map[string]string{}
	for _, key := range queueAttrs {
		s, ok, err := p.propString(r, key)
		if err != nil {
			return nil, err
		}
		if ok {
			attrs[key] = s
		}
	}
	v, ok, err := p.prop(r, "RedrivePolicy")
	if err != nil {
		return nil, err
	}
	if ok {
		policy, err := p.redrivePolicy(id, v)
		if err != nil {
			return nil, err
		}
		attrs["RedrivePolicy"] = policy
	}
	return attrs, nil
}

// redrivePolicy renders an evaluated RedrivePolicy (an object, or a JSON string) as the
// JSON attribute value, pointing at the dead-letter queue's emulator ARN.
func (p *plan) redrivePolicy(id string, v any) (string, error) {
	policy, ok := v.(map[string]any)
	if s, isString := v.(string); isString {
		ok = json.Unmarshal([]byte(s), &policy) == nil
	}
	if !ok {
		return "", fmt.Errorf("%s.RedrivePolicy: not an object", id)
	}
	policy = maps.Clone(policy)
	target, _ := policy["deadLetterTargetArn"].(string)
	if target == "" {
		return "", fmt.Errorf("%s.RedrivePolicy: no deadLetterTargetArn", id)
	}
	local, ok := p.emulatorArn[target]
	if !ok {
		return "", fmt.Errorf("%s.RedrivePolicy: dead-letter target %s is not a provisioned queue of the %s account", id, target, p.acct.Side)
	}
	policy["deadLetterTargetArn"] = local
	data, err := json.Marshal(policy)
	if err != nil {
		return "", fmt.Errorf("%s.RedrivePolicy: %w", id, err)
	}
	return string(data), nil
}

// provisionQueue creates a queue (or reuses an existing one, setting its attributes)
// and records its URL and the ARN the emulator knows it by.
func (p *plan) provisionQueue(ctx context.Context, client *sqs.Client, id string) error {
	name, err := p.name(id)
	if err != nil {
		return err
	}
	attrs, err := p.queueAttributes(id)
	if err != nil {
		return err
	}
	out, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	var url string
	switch {
	case queueExists(err):
		got, err := client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
		if err != nil {
			return fmt.Errorf("get queue url %s: %w", name, err)
		}
		url = aws.ToString(got.QueueUrl)
		settable := maps.Clone(attrs)
		for _, a := range immutableQueueAttrs {
			delete(settable, a)
		}
		if _, err := client.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(url), Attributes: settable}); err != nil {
			return fmt.Errorf("set attributes of queue %s: %w", name, err)
		}
	case err != nil:
		return fmt.Errorf("create queue %s: %w", name, err)
	default:
		url = aws.ToString(out.QueueUrl)
	}
	got, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(url),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return fmt.Errorf("get arn of queue %s: %w", name, err)
	}
	arn := got.Attributes[string(types.QueueAttributeNameQueueArn)]
	if arn == "" {
		return fmt.Errorf("queue %s: the emulator reports no QueueArn", name)
	}
	q := p.queues[id]
	q.URL = url
	p.emulatorArn[q.Arn] = arn
	p.created[id] = true
	return nil
}

// queueExists reports whether CreateQueue failed because the queue exists with other
// attributes (the JSON protocol's code and the query protocol's).
func queueExists(err error) bool {
	var qe *types.QueueNameExists
	if errors.As(err, &qe) {
		return true
	}
	var ae smithy.APIError
	return errors.As(err, &ae) && (ae.ErrorCode() == "QueueNameExists" || ae.ErrorCode() == "QueueAlreadyExists")
}
