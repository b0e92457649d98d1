package emulator_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/etalase/etalase/infra/localaccount"
	"github.com/etalase/etalase/infra/testenv"
)

// TestFauxqsBehaviour pins the fauxqs behaviour other packages rely on or must
// work around (see the package documentation). If an upgrade changes any of
// it, update the documentation with the test.
func TestFauxqsBehaviour(t *testing.T) {
	t.Parallel()
	_, endpoint := testenv.Endpoints(t)
	ctx := t.Context()
	social := testenv.SQS(t, localaccount.Social)
	commerce := testenv.SQS(t, localaccount.Commerce)
	prefix := testenv.Prefix(t)
	port := strings.TrimPrefix(endpoint, "http://127.0.0.1:")

	create := func(t *testing.T, c *sqs.Client, name string, attrs map[string]string) string {
		t.Helper()
		out, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
		if err != nil {
			t.Fatalf("CreateQueue %s: %v", name, err)
		}
		return aws.ToString(out.QueueUrl)
	}
	arnOf := func(t *testing.T, c *sqs.Client, u string) string {
		t.Helper()
		out, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
			QueueUrl: aws.String(u), AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn},
		})
		if err != nil {
			t.Fatalf("GetQueueAttributes: %v", err)
		}
		return out.Attributes[string(types.QueueAttributeNameQueueArn)]
	}
	receive := func(t *testing.T, c *sqs.Client, u string, visibility int32) []types.Message {
		t.Helper()
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(u), MaxNumberOfMessages: 10, VisibilityTimeout: visibility,
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		})
		if err != nil {
			t.Fatalf("ReceiveMessage: %v", err)
		}
		return out.Messages
	}
	send := func(t *testing.T, c *sqs.Client, in *sqs.SendMessageInput) {
		t.Helper()
		if _, err := c.SendMessage(ctx, in); err != nil {
			t.Fatalf("SendMessage: %v", err)
		}
	}

	t.Run("queue URL and ARN ignore the caller's account", func(t *testing.T) {
		t.Parallel()
		name := prefix + "shared"
		u := create(t, social, name, nil)
		want := fmt.Sprintf("http://sqs.%s.localhost:%s/000000000000/%s", localaccount.Region, port, name)
		if u != want {
			t.Errorf("QueueUrl = %s, want %s", u, want)
		}
		if got, want := arnOf(t, social, u), "arn:aws:sqs:"+localaccount.Region+":000000000000:"+name; got != want {
			t.Errorf("QueueArn = %s, want %s", got, want)
		}
		// The other account's credentials reach the same queue.
		if got := create(t, commerce, name, nil); got != u {
			t.Errorf("commerce CreateQueue of the same name = %s, want the shared %s", got, u)
		}
		out, err := commerce.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name), QueueOwnerAWSAccountId: aws.String(localaccount.Social.ID)})
		if err != nil || aws.ToString(out.QueueUrl) != u {
			t.Errorf("GetQueueUrl with owner account = %v, %v; want %s", out, err, u)
		}
		// Only the exact URL fauxqs made works: an AWS-style URL with a real
		// account id or host is an unknown queue.
		for _, other := range []string{
			strings.Replace(u, "000000000000", localaccount.Social.ID, 1),
			fmt.Sprintf("https://sqs.%s.amazonaws.com/000000000000/%s", localaccount.Region, name),
			endpoint + "/000000000000/" + name,
		} {
			_, err := social.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(other), MessageBody: aws.String("x")})
			var nq *types.QueueDoesNotExist
			if !errors.As(err, &nq) {
				t.Errorf("SendMessage to %s = %v, want QueueDoesNotExist", other, err)
			}
		}
	})

	t.Run("region is part of the identity", func(t *testing.T) {
		t.Parallel()
		name := prefix + "regional"
		u := create(t, social, name, nil)
		east := sqs.NewFromConfig(testenv.AWSConfig(t, localaccount.Social), func(o *sqs.Options) {
			o.BaseEndpoint = aws.String(endpoint)
			o.Region = "us-east-1"
		})
		if v := create(t, east, name, nil); v == u || !strings.Contains(v, "sqs.us-east-1.") {
			t.Errorf("us-east-1 queue URL = %s, want a different queue than %s", v, u)
		}
	})

	t.Run("visibility timeout", func(t *testing.T) {
		t.Parallel()
		u := create(t, social, prefix+"visibility", map[string]string{"VisibilityTimeout": "30"})
		send(t, social, &sqs.SendMessageInput{QueueUrl: aws.String(u), MessageBody: aws.String("v")})
		if got := receive(t, social, u, 1); len(got) != 1 {
			t.Fatalf("first receive got %d messages, want 1", len(got))
		}
		if got := receive(t, social, u, 0); len(got) != 0 {
			t.Fatalf("receive while invisible got %d messages, want 0", len(got))
		}
		time.Sleep(1100 * time.Millisecond)
		got := receive(t, social, u, 0)
		if len(got) != 1 || got[0].Attributes["ApproximateReceiveCount"] != "2" {
			t.Fatalf("receive after the timeout = %+v, want the message with ApproximateReceiveCount 2", got)
		}
		if s := got[0].Attributes["SenderId"]; s != "000000000000" {
			t.Errorf("SenderId = %q, want 000000000000", s)
		}
	})

	t.Run("delay queue", func(t *testing.T) {
		t.Parallel()
		u := create(t, social, prefix+"delay", map[string]string{"DelaySeconds": "1"})
		send(t, social, &sqs.SendMessageInput{QueueUrl: aws.String(u), MessageBody: aws.String("d")})
		if got := receive(t, social, u, 0); len(got) != 0 {
			t.Fatalf("receive before the delay got %d messages, want 0", len(got))
		}
		time.Sleep(1100 * time.Millisecond)
		if got := receive(t, social, u, 0); len(got) != 1 {
			t.Fatalf("receive after the delay got %d messages, want 1", len(got))
		}
	})

	t.Run("redrive to a dead-letter queue", func(t *testing.T) {
		t.Parallel()
		dlq := create(t, social, prefix+"dlq", nil)
		policy := fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":2}`, arnOf(t, social, dlq))
		// VisibilityTimeout 0 on the queue: the SDK does not send a zero
		// VisibilityTimeout on ReceiveMessage (int32, zero means unset).
		u := create(t, social, prefix+"redrive", map[string]string{"RedrivePolicy": policy, "VisibilityTimeout": "0"})
		send(t, social, &sqs.SendMessageInput{QueueUrl: aws.String(u), MessageBody: aws.String("poison")})
		for i := range 2 {
			if got := receive(t, social, u, 0); len(got) != 1 {
				t.Fatalf("receive %d got %d messages, want 1", i+1, len(got))
			}
		}
		// The move happens on the receive after maxReceiveCount, as in AWS.
		if got := receive(t, social, u, 0); len(got) != 0 {
			t.Fatalf("third receive got %d messages, want 0 (moved to the DLQ)", len(got))
		}
		got := receive(t, social, dlq, 0)
		if len(got) != 1 || aws.ToString(got[0].Body) != "poison" {
			t.Fatalf("DLQ receive = %+v, want the poison message", got)
		}
	})

	t.Run("fifo", func(t *testing.T) {
		t.Parallel()
		u := create(t, social, prefix+"orders.fifo", map[string]string{"ContentBasedDeduplication": "true"})
		for _, m := range []struct{ group, body string }{{"a", "a1"}, {"a", "a1"}, {"a", "a2"}, {"b", "b1"}} {
			send(t, social, &sqs.SendMessageInput{QueueUrl: aws.String(u), MessageBody: aws.String(m.body), MessageGroupId: aws.String(m.group)})
		}
		bodies := func(ms []types.Message) string {
			var b []string
			for _, m := range ms {
				b = append(b, aws.ToString(m.Body))
			}
			return strings.Join(b, ",")
		}
		// Unlike AWS, one receive returns at most one message per group, and a
		// group stays locked while it has a message in flight.
		got := receive(t, social, u, 30)
		if bodies(got) != "a1,b1" {
			t.Fatalf("FIFO receive = [%s], want [a1,b1] (duplicate dropped, one message per group)", bodies(got))
		}
		if again := receive(t, social, u, 30); len(again) != 0 {
			t.Fatalf("receive while both groups are in flight = [%s], want nothing", bodies(again))
		}
		if _, err := social.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(u), ReceiptHandle: got[0].ReceiptHandle}); err != nil {
			t.Fatal(err)
		}
		if next := receive(t, social, u, 30); bodies(next) != "a2" {
			t.Fatalf("receive after deleting a1 = [%s], want [a2]", bodies(next))
		}
	})
}
