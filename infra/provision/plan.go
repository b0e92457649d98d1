package provision

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/etalase/etalase/infra/localaccount"
	"github.com/etalase/etalase/infra/samtemplate"
)

// plan holds one account's evaluation state: the active resources, the names resolved
// so far and, once provisioned, what the emulators answered.
type plan struct {
	tmpl   *samtemplate.Template
	acct   localaccount.Account
	prefix string
	ctx    *samtemplate.Context
	// active holds the tables and queues deployed on this account's side.
	active map[string]samtemplate.Resource
	// all holds every resource active on this side, of any type.
	all     map[string]samtemplate.Resource
	tables  map[string]*Table
	queues  map[string]*Queue
	naming  map[string]bool
	created map[string]bool
	// emulatorArn maps a queue's account ARN to the ARN the SQS emulator knows it by.
	emulatorArn map[string]string
}

func newPlan(o Options) (*plan, error) {
	if o.Template == nil {
		return nil, errors.New("provision: no template")
	}
	if _, ok := localaccount.BySide(o.Account.Side); !ok || o.Account.ID == "" {
		return nil, fmt.Errorf("provision: unknown account %+v", o.Account)
	}
	c, err := contextFor(o)
	if err != nil {
		return nil, fmt.Errorf("provision %s: %w", o.Account.Side, err)
	}
	all, err := o.Template.Active(c)
	if err != nil {
		return nil, fmt.Errorf("provision %s: %w", o.Account.Side, err)
	}
	p := &plan{
		tmpl:        o.Template,
		acct:        o.Account,
		prefix:      o.Prefix,
		ctx:         c,
		active:      map[string]samtemplate.Resource{},
		all:         all,
		tables:      map[string]*Table{},
		queues:      map[string]*Queue{},
		naming:      map[string]bool{},
		created:     map[string]bool{},
		emulatorArn: map[string]string{},
	}
	for id, r := range all {
		if r.Type == samtemplate.TypeTable || r.Type == samtemplate.TypeQueue {
			p.active[id] = r
		}
	}
	c.Ref = p.ref
	c.GetAtt = p.getAtt
	return p, nil
}

// ids returns the active tables' and queues' logical ids, sorted.
func (p *plan) ids() []string {
	ids := make([]string, 0, len(p.active))
	for id := range p.active {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// prop evaluates one property of a resource; ok is false when it is absent or NoValue.
func (p *plan) prop(r samtemplate.Resource, key string) (v any, ok bool, err error) {
	raw, present := r.Properties[key]
	if !present {
		return nil, false, nil
	}
	v, err = p.tmpl.Evaluate(raw, p.ctx)
	if errors.Is(err, samtemplate.ErrNoValue) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("%s.%s: %w", r.LogicalID, key, err)
	}
	return v, true, nil
}

// propString evaluates a property that must be a scalar.
func (p *plan) propString(r samtemplate.Resource, key string) (string, bool, error) {
	v, ok, err := p.prop(r, key)
	if err != nil || !ok {
		return "", ok, err
	}
	s, ok := scalar(v)
	if !ok {
		return "", false, fmt.Errorf("%s.%s: expected a scalar, got %T", r.LogicalID, key, v)
	}
	return s, true, nil
}

// propBool evaluates a boolean property (true, false, "true" or "false").
func (p *plan) propBool(r samtemplate.Resource, key string) (bool, error) {
	s, ok, err := p.propString(r, key)
	if err != nil || !ok {
		return false, err
	}
	switch strings.ToLower(s) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("%s.%s: %q is not a boolean", r.LogicalID, key, s)
}

// name resolves (once) the physical name and account ARN of a table or queue.
func (p *plan) name(id string) (string, error) {
	if t, ok := p.tables[id]; ok {
		return t.Name, nil
	}
	if q, ok := p.queues[id]; ok {
		return q.Name, nil
	}
	r, ok := p.active[id]
	if !ok {
		return "", fmt.Errorf("%s is not a table or queue of the %s account", id, p.acct.Side)
	}
	if p.naming[id] {
		return "", fmt.Errorf("the name of %s depends on itself", id)
	}
	p.naming[id] = true
	defer delete(p.naming, id)
	switch r.Type {
	case samtemplate.TypeTable:
		name, ok, err := p.propString(r, "TableName")
		if err != nil {
			return "", err
		}
		if !ok {
			name = id
		}
		name = p.prefix + name
		p.tables[id] = &Table{
			LogicalID: id,
			Name:      name,
			Arn:       fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", localaccount.Region, p.acct.ID, name),
		}
		return name, nil
	default:
		fifo, err := p.propBool(r, "FifoQueue")
		if err != nil {
			return "", err
		}
		name, ok, err := p.propString(r, "QueueName")
		if err != nil {
			return "", err
		}
		switch {
		case !ok && fifo:
			name = id + ".fifo"
		case !ok:
			name = id
		case fifo != strings.HasSuffix(name, ".fifo"):
			return "", fmt.Errorf("%s: QueueName %q must end in .fifo exactly when FifoQueue is true", id, name)
		}
		name = p.prefix + name
		p.queues[id] = &Queue{
			LogicalID: id,
			Name:      name,
			Arn:       fmt.Sprintf("arn:aws:sqs:%s:%s:%s", localaccount.Region, p.acct.ID, name),
			FIFO:      fifo,
		}
		return name, nil
	}
}

// ref resolves Ref of a resource: a table's name, a queue's URL.
func (p *plan) ref(id string) (string, error) {
	r, err := p.local(id)
	if err != nil {
		return "", fmt.Errorf("Ref %s: %w", id, err)
	}
	if _, err := p.name(id); err != nil {
		return "", fmt.Errorf("Ref %s: %w", id, err)
	}
	if r.Type == samtemplate.TypeTable {
		return p.tables[id].Name, nil
	}
	return p.queueURL(id, "Ref "+id)
}

// getAtt resolves GetAtt of a table or queue attribute.
func (p *plan) getAtt(id, attr string) (string, error) {
	what := "GetAtt " + id + "." + attr
	r, err := p.local(id)
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	if _, err := p.name(id); err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	switch r.Type {
	case samtemplate.TypeTable:
		t := p.tables[id]
		switch attr {
		case "Arn":
			return t.Arn, nil
		case "StreamArn":
			if !p.created[id] {
				return "", fmt.Errorf("%s: the stream ARN is known only once the table exists", what)
			}
			if t.StreamArn == "" {
				return "", fmt.Errorf("%s: the table has no stream", what)
			}
			return t.StreamArn, nil
		}
	case samtemplate.TypeQueue:
		q := p.queues[id]
		switch attr {
		case "Arn":
			return q.Arn, nil
		case "QueueName":
			return q.Name, nil
		case "QueueUrl":
			return p.queueURL(id, what)
		}
	}
	return "", fmt.Errorf("%s: attribute %s of %s is not supported locally", what, attr, r.Type)
}

func (p *plan) queueURL(id, what string) (string, error) {
	q := p.queues[id]
	if q.URL == "" {
		return "", fmt.Errorf("%s: the queue URL is known only once the queue exists", what)
	}
	return q.URL, nil
}

// local returns a table or queue of this account, or an error saying why a resource
// cannot be resolved locally.
func (p *plan) local(id string) (samtemplate.Resource, error) {
	if r, ok := p.active[id]; ok {
		return r, nil
	}
	if r, ok := p.all[id]; ok {
		return r, fmt.Errorf("%s is a %s, which is not provisioned locally", id, r.Type)
	}
	if _, ok := p.tmpl.Resources[id]; ok {
		return samtemplate.Resource{}, fmt.Errorf("%s is not deployed in the %s account", id, p.acct.Side)
	}
	return samtemplate.Resource{}, fmt.Errorf("no resource %s", id)
}

// order returns the active tables and queues in creation order: every resource after
// the resources its properties refer to (a queue after its dead-letter queue).
func (p *plan) order() ([]string, error) {
	const (
		unvisited = iota
		visiting
		done
	)
	state := map[string]int{}
	var out, path []string
	var visit func(id string) error
	visit = func(id string) error {
		switch state[id] {
		case done:
			return nil
		case visiting:
			return fmt.Errorf("reference cycle: %s -> %s", strings.Join(path, " -> "), id)
		}
		state[id] = visiting
		path = append(path, id)
		for _, dep := range p.deps(p.active[id]) {
			if err := visit(dep); err != nil {
				return err
			}
		}
		path = path[:len(path)-1]
		state[id] = done
		out = append(out, id)
		return nil
	}
	for _, id := range p.ids() {
		if err := visit(id); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// deps returns the active tables and queues that a resource's properties refer to.
func (p *plan) deps(r samtemplate.Resource) []string {
	seen := map[string]bool{}
	for _, v := range r.Properties {
		refs(v, seen)
	}
	var out []string
	for id := range seen {
		if _, ok := p.active[id]; ok && id != r.LogicalID {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

var subVar = regexp.MustCompile(`\$\{([^}]*)\}`)

// refs collects the logical ids named by Ref, Fn::GetAtt and Fn::Sub inside v.
func refs(v any, into map[string]bool) {
	switch x := v.(type) {
	case []any:
		for _, item := range x {
			refs(item, into)
		}
	case map[string]any:
		if len(x) == 1 {
			if s, ok := x["Ref"].(string); ok {
				into[s] = true
				return
			}
			if parts, ok := x["Fn::GetAtt"].([]any); ok && len(parts) > 0 {
				if s, ok := parts[0].(string); ok {
					into[s] = true
				}
				return
			}
			if sub, ok := x["Fn::Sub"]; ok {
				format, vars := sub, map[string]any(nil)
				if list, ok := sub.([]any); ok && len(list) == 2 {
					format = list[0]
					vars, _ = list[1].(map[string]any)
					refs(list[1], into)
				}
				if s, ok := format.(string); ok {
					for _, m := range subVar.FindAllStringSubmatch(s, -1) {
						name := m[1]
						if strings.HasPrefix(name, "!") {
							continue
						}
						if _, ok := vars[name]; ok {
							continue
						}
						id, _, _ := strings.Cut(name, ".")
						into[id] = true
					}
				}
				return
			}
		}
		for _, item := range x {
			refs(item, into)
		}
	}
}

// scalar renders a scalar value as CloudFormation does: everything is a string.
func scalar(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case bool, int, int64:
		return fmt.Sprint(x), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	}
	return "", false
}
