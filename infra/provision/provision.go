// Package provision creates one emulated account's DynamoDB tables and SQS queues from
// template.yaml, so that local development and tests run against exactly the resources
// the template deploys: there is no second list of tables or queues anywhere.
//
// Provision evaluates the template for one account (its Side, its peer's account id, its
// own account id and region), creates the tables and queues that are active on that side
// in DynamoDB Local and the SQS emulator, and returns what it made together with a
// samtemplate.Context whose Ref and GetAtt resolve to those local resources, which the
// local runner uses to resolve function environments.
//
// Emulator facts that shape this package (checked by the integration tests):
//   - DynamoDB Local keeps one database per access key id and region, so the account is
//     chosen by the credentials of Options.DynamoDB: with one account's key, the other's
//     tables are neither listed nor found. It reports every ARN as
//     arn:aws:dynamodb:ddblocal:000000000000:table/NAME[/stream/TIMESTAMP] and does not
//     accept an ARN in place of a table name. Table.Arn is the ARN the table has in the
//     real account (for policies and for matching the template); Table.StreamArn is the
//     emulator's stream ARN, because that is what its DynamoDB Streams API accepts.
//   - DynamoDB Local supports UpdateTimeToLive (ENABLED at once, and it does delete
//     expired items) but, like DynamoDB, rejects enabling TTL twice, so TTL is described
//     before it is set.
//   - The SQS emulator (fauxqs) has a single namespace for all callers, account
//     000000000000: its queue URLs are http://sqs.REGION.localhost:PORT/000000000000/NAME
//     (REGION from the request signature, PORT from the request's Host header) and its
//     ARNs arn:aws:sqs:REGION:000000000000:NAME, whatever credentials are used, and it
//     authorizes nothing (queue policies are not enforced). It looks queues up by the
//     exact URL string, so the URL must be the one CreateQueue returned; any client can
//     then use it, which is how the commerce relay reaches the social inbox locally.
//     Queue names must therefore be unique across both accounts. Queue.Arn is the ARN
//     the queue has in the real account; dead-letter targets are translated to the
//     emulator's own ARN, which is what its redrive looks queues up by.
package provision

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/etalase/etalase/infra/localaccount"
	"github.com/etalase/etalase/infra/samtemplate"
)

// Options says which account to provision, from which template, into which emulators.
type Options struct {
	// Template is the parsed template.yaml.
	Template *samtemplate.Template
	// Account is the account to provision. It sets the template parameters Side
	// (Account.Side) and PeerAccountId (Account.Peer().ID), and the pseudo parameters
	// AWS::AccountId (Account.ID) and AWS::Region (localaccount.Region).
	Account localaccount.Account
	// Params holds the values of the other template parameters (JwtIssuer, JwtAudience,
	// ...); parameters with a default may be left out. Side and PeerAccountId come from
	// Account; giving them here with another value is an error.
	Params map[string]string
	// Prefix is prepended to every physical name: "" for make dev, a unique prefix per
	// test (testenv.Prefix) so that tests can share the emulators.
	Prefix string
	// DynamoDB is a client configured with this account's credentials.
	DynamoDB *dynamodb.Client
	// SQS is a client configured with this account's credentials.
	SQS *sqs.Client
}

// Table is one provisioned DynamoDB table.
type Table struct {
	// LogicalID is the table's id in the template.
	LogicalID string
	// Name is the physical table name.
	Name string
	// Arn is the table's ARN in the account: arn:aws:dynamodb:REGION:ACCOUNT:table/NAME.
	Arn string
	// StreamArn is the latest stream ARN as DynamoDB Local reports it, or "" when the
	// table has no stream (or when only names were resolved, see Names).
	StreamArn string
}

// Queue is one provisioned SQS queue.
type Queue struct {
	// LogicalID is the queue's id in the template.
	LogicalID string
	// Name is the physical queue name (with the .fifo suffix for FIFO queues).
	Name string
	// URL is the queue URL the SQS emulator answered CreateQueue with ("" when only
	// names were resolved, see Names). Every account's clients can use it.
	URL string
	// Arn is the queue's ARN in the account: arn:aws:sqs:REGION:ACCOUNT:NAME.
	Arn string
	// FIFO says whether the queue is a FIFO queue.
	FIFO bool
}

// Resources is what was provisioned for one account.
type Resources struct {
	// Account is the account the resources belong to.
	Account localaccount.Account
	// Context evaluates template expressions for this account: parameters and pseudo
	// parameters as provisioned, Ref of a table to its name, Ref of a queue to its URL,
	// and GetAtt Arn, StreamArn (tables) and Arn, QueueName, QueueUrl (queues). Ref and
	// GetAtt of any other resource fail with an error naming it; callers that know more
	// resource types may wrap the resolvers. It is safe for concurrent use.
	Context *samtemplate.Context
	// Tables by logical id.
	Tables map[string]Table
	// Queues by logical id.
	Queues map[string]Queue
}

// Provision creates the account's tables and queues that are active on its side and
// waits until the tables are ACTIVE. It is idempotent: a table or queue that already
// exists is reused, and brought in line with the template where the emulator allows it
// (missing global secondary indexes, stream and TTL are added, queue attributes are set),
// so that a persisted DynamoDB Local database can be reused after template changes.
func Provision(ctx context.Context, o Options) (*Resources, error) {
	if o.DynamoDB == nil || o.SQS == nil {
		return nil, errors.New("provision: DynamoDB and SQS clients are required")
	}
	p, err := newPlan(o)
	if err != nil {
		return nil, err
	}
	order, err := p.order()
	if err != nil {
		return nil, fmt.Errorf("provision %s: %w", o.Account.Side, err)
	}
	for _, id := range order {
		switch p.active[id].Type {
		case samtemplate.TypeTable:
			err = p.provisionTable(ctx, o.DynamoDB, id)
		case samtemplate.TypeQueue:
			err = p.provisionQueue(ctx, o.SQS, id)
		}
		if err != nil {
			return nil, fmt.Errorf("provision %s: %w", o.Account.Side, err)
		}
	}
	return p.resources(), nil
}

// Names resolves the names and ARNs of the account's tables and queues without creating
// or contacting anything (the clients in o are not used). Queue URLs and stream ARNs are
// known only to the emulators, so they are empty, and the returned Context fails to
// resolve them.
func Names(o Options) (*Resources, error) {
	p, err := newPlan(o)
	if err != nil {
		return nil, err
	}
	for _, id := range p.ids() {
		if _, err := p.name(id); err != nil {
			return nil, fmt.Errorf("names %s: %w", o.Account.Side, err)
		}
	}
	return p.resources(), nil
}

// resources snapshots the plan's results.
func (p *plan) resources() *Resources {
	r := &Resources{Account: p.acct, Context: p.ctx, Tables: map[string]Table{}, Queues: map[string]Queue{}}
	for id, t := range p.tables {
		r.Tables[id] = *t
	}
	for id, q := range p.queues {
		r.Queues[id] = *q
	}
	return r
}

// contextFor builds the template context of an account from the caller's parameters.
func contextFor(o Options) (*samtemplate.Context, error) {
	params := maps.Clone(o.Params)
	if params == nil {
		params = map[string]string{}
	}
	fixed := map[string]string{"Side": o.Account.Side, "PeerAccountId": o.Account.Peer().ID}
	for k, v := range fixed {
		if given, ok := params[k]; ok && given != v {
			return nil, fmt.Errorf("parameter %s is %q, but account %s needs %q", k, given, o.Account.ID, v)
		}
		params[k] = v
	}
	pseudo := map[string]string{"AWS::AccountId": o.Account.ID, "AWS::Region": localaccount.Region}
	c, err := o.Template.NewContext(params, pseudo)
	if err != nil {
		return nil, fmt.Errorf("template parameters: %w", err)
	}
	return c, nil
}
