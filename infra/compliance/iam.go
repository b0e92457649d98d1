package compliance

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/etalase/etalase/infra/samtemplate"
)

// Check names, as they appear in the report.
const (
	CheckFunctionSides   = "function sides"
	CheckSideReferences  = "side references"
	CheckCrossIdentity   = "cross-account identity grants"
	CheckResourcePolicy  = "cross-account resource policies"
	CheckWildcards       = "wildcard grants"
	CheckImportsBoundary = "imports"
)

// Check is one rule's outcome.
type Check struct {
	// Name is one of the Check* constants.
	Name string `json:"name"`
	// Rule says what the check enforces.
	Rule string `json:"rule"`
	// Passed is true when there are no violations.
	Passed bool `json:"passed"`
	// Summary says what was examined.
	Summary string `json:"summary"`
	// Violations say what breaks the rule, one line each.
	Violations []string `json:"violations,omitempty"`
	// Notes are what the check saw and let pass, one line each.
	Notes []string `json:"notes,omitempty"`
}

func newCheck(name, rule, summary string, violations, notes []string) Check {
	return Check{Name: name, Rule: rule, Passed: len(violations) == 0, Summary: summary, Violations: violations, Notes: notes}
}

// Checks runs every template check, in report order.
func (a *Analysis) Checks() []Check {
	return []Check{a.CheckFunctionSides(), a.CheckSideReferences(), a.CheckCrossAccountIdentity(), a.CheckResourcePolicies(), a.CheckWildcards()}
}

// CheckFunctionSides requires every function to deploy on exactly one side: a function
// without a side condition would run in both accounts.
func (a *Analysis) CheckFunctionSides() Check {
	var bad []string
	count := map[string]int{}
	for _, id := range a.Functions() {
		if side, ok := a.SideOf(id); ok {
			count[side]++
			continue
		}
		bad = append(bad, fmt.Sprintf("%s deploys on %s; give it its side's condition", id, sideLabel(a.sides[id])))
	}
	var parts []string
	for _, s := range a.rules.Sides {
		parts = append(parts, fmt.Sprintf("%s %d", s, count[s]))
	}
	return newCheck(CheckFunctionSides, "every function deploys on exactly one side",
		fmt.Sprintf("functions: %d (%s)", len(a.Functions()), strings.Join(parts, ", ")), bad, nil)
}

// Reference is one place where a resource's properties name another resource
// through Ref, Fn::GetAtt or Fn::Sub.
type Reference struct {
	// From is the resource whose properties hold the reference.
	From string
	// Path locates it, e.g. Policies[0].DynamoDBCrudPolicy.TableName.
	Path string
	// To is the referenced resource.
	To string
}

// References returns every reference between resources. A reference to a function's
// implicit role (<FunctionId>Role, which SAM creates) counts as one to the function.
// SAM connectors, which grant permissions between resources named by Id, count too:
// an AWS::Serverless::Connector's Source and Destinations, and a resource's embedded
// Connectors' Destinations.
func (a *Analysis) References() []Reference {
	var out []Reference
	for _, id := range a.tpl.ResourceIDs("") {
		refsIn(a.props[id], "", func(path, name string) {
			if to, ok := a.resourceNamed(name); ok {
				out = append(out, Reference{From: id, Path: path, To: to})
			}
		})
		for path, target := range a.connectorIDs(id) {
			if to, ok := a.resourceNamed(target); ok {
				out = append(out, Reference{From: id, Path: path, To: to})
			}
		}
	}
	return out
}

// connectorIDs returns the resources that a connector resource, or the connectors
// embedded in a resource, name by Id, keyed by path.
func (a *Analysis) connectorIDs(id string) map[string]string {
	out := map[string]string{}
	endpoint := func(path string, v any) {
		for i, item := range listOf(v) {
			p := path
			if _, many := v.([]any); many {
				p = fmt.Sprintf("%s[%d]", path, i)
			}
			if target, ok := asMap(item)["Id"].(string); ok {
				out[p+".Id"] = target
			}
		}
	}
	if a.tpl.Resources[id].Type == "AWS::Serverless::Connector" {
		endpoint("Source", a.props[id]["Source"])
		endpoint("Destination", a.props[id]["Destination"])
	}
	for name, c := range a.embeddedConnectors(id) {
		endpoint("Connectors."+name+".Properties.Destination", asMap(asMap(c)["Properties"])["Destination"])
	}
	return out
}

// embeddedConnectors returns a resource's Connectors attribute (a sibling of Properties).
func (a *Analysis) embeddedConnectors(id string) map[string]any {
	return asMap(asMap(asMap(a.tpl.Doc["Resources"])[id])["Connectors"])
}

// resourceNamed maps a referenced name to a logical id.
func (a *Analysis) resourceNamed(name string) (string, bool) {
	if _, ok := a.tpl.Resources[name]; ok {
		return name, true
	}
	fn, ok := strings.CutSuffix(name, "Role")
	if r, found := a.tpl.Resources[fn]; ok && found && r.Type == samtemplate.TypeFunction && a.props[fn]["Role"] == nil {
		return fn, true
	}
	return "", false
}

// CheckSideReferences requires everything a resource names — a function's policies,
// policy templates, role, event sources, environment — to deploy wherever the resource
// deploys. A social function naming a commerce-only table holds a permission on a
// commerce resource, which rule 1 forbids. Roles and IAM policies are held to the same
// rule, and a violation on one names the functions it gives permissions to. The notes
// list, per function, every resource it names itself or through its role and policies.
func (a *Analysis) CheckSideReferences() Check {
	refs := a.References()
	users := a.permissionUsers(refs)
	reach := map[string][]string{}
	var bad []string
	fromFunctions := 0
	for _, r := range refs {
		from, to := a.sides[r.From], a.sides[r.To]
		if a.tpl.Resources[r.From].Type == samtemplate.TypeFunction {
			fromFunctions++
		}
		for _, fn := range append([]string{r.From}, users[r.From]...) {
			if a.tpl.Resources[fn].Type == samtemplate.TypeFunction && r.To != fn && !slices.Contains(reach[fn], r.To) {
				reach[fn] = append(reach[fn], r.To)
			}
		}
		if len(from) == 0 {
			continue
		}
		var missing []string
		for _, s := range from {
			if !slices.Contains(to, s) {
				missing = append(missing, s)
			}
		}
		if len(missing) > 0 {
			msg := fmt.Sprintf("%s (%s) %s names %s (%s)", r.From, sideLabel(from), r.Path, r.To, sideLabel(to))
			if u := users[r.From]; len(u) > 0 {
				msg += "; it gives permissions to " + strings.Join(u, ", ")
			}
			bad = append(bad, msg)
		}
	}
	var notes []string
	for _, fn := range a.Functions() {
		slices.Sort(reach[fn])
		notes = append(notes, fmt.Sprintf("%s (%s) names %s", fn, sideLabel(a.sides[fn]), strings.Join(reach[fn], ", ")))
	}
	return newCheck(CheckSideReferences, "no resource names a resource of the other side (no social permission on commerce resources, and the reverse)",
		fmt.Sprintf("%d references, %d of them from functions", len(refs), fromFunctions), bad, notes)
}

// permissionUsers maps roles and IAM policies to the functions they give permissions
// to: a role through a function's Role, a policy through its Roles (a function's
// implicit role or a role some function uses), a managed policy through a role's
// ManagedPolicyArns.
func (a *Analysis) permissionUsers(refs []Reference) map[string][]string {
	users := map[string][]string{}
	add := func(holder string, fns ...string) {
		for _, fn := range fns {
			if !slices.Contains(users[holder], fn) {
				users[holder] = append(users[holder], fn)
			}
		}
	}
	for _, r := range refs {
		if a.tpl.Resources[r.From].Type == samtemplate.TypeFunction && r.Path == "Role" {
			add(r.To, r.From)
		}
	}
	for _, r := range refs {
		switch {
		case strings.HasPrefix(r.Path, "ManagedPolicyArns") && a.tpl.Resources[r.From].Type == "AWS::IAM::Role":
			add(r.To, users[r.From]...)
		case strings.HasPrefix(r.Path, "Roles["):
			if a.tpl.Resources[r.To].Type == samtemplate.TypeFunction {
				add(r.From, r.To)
			}
			add(r.From, users[r.To]...)
		}
	}
	for _, u := range users {
		slices.Sort(u)
	}
	return users
}

// refsIn calls fn for every name that v references through Ref, Fn::GetAtt or Fn::Sub;
// names of parameters and pseudo parameters are passed too, the caller filters.
func refsIn(v any, path string, fn func(path, name string)) {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 1 {
			if name, ok := x["Ref"].(string); ok {
				fn(path, name)
				return
			}
			if ga, ok := x["Fn::GetAtt"]; ok {
				switch g := ga.(type) {
				case []any:
					if len(g) > 0 {
						if s, isStr := g[0].(string); isStr {
							fn(path, s)
						}
					}
				case string:
					id, _, _ := strings.Cut(g, ".")
					fn(path, id)
				}
				return
			}
			if sub, ok := x["Fn::Sub"]; ok {
				format, vars := subParts(sub)
				for _, name := range subNames(format) {
					if _, local := vars[name]; !local {
						id, _, _ := strings.Cut(name, ".")
						fn(path, id)
					}
				}
				refsIn(vars, path, fn)
				return
			}
		}
		for _, k := range sortedKeys(x) {
			refsIn(x[k], dot(path)+k, fn)
		}
	case []any:
		for i, item := range x {
			refsIn(item, fmt.Sprintf("%s[%d]", path, i), fn)
		}
	}
}

var subVar = regexp.MustCompile(`\$\{([^}]*)\}`)

// subParts splits an Fn::Sub argument into its format and variables.
func subParts(arg any) (string, map[string]any) {
	switch x := arg.(type) {
	case string:
		return x, nil
	case []any:
		if len(x) == 2 {
			f, _ := x[0].(string)
			vars, _ := x[1].(map[string]any)
			return f, vars
		}
	}
	return "", nil
}

// subNames returns the variable names in an Fn::Sub format, skipping ${!literal}.
func subNames(format string) []string {
	var out []string
	for _, m := range subVar.FindAllStringSubmatch(format, -1) {
		if !strings.HasPrefix(m[1], "!") {
			out = append(out, m[1])
		}
	}
	return out
}

// accountDigits finds a hard-coded account id: twelve digits standing alone.
var accountDigits = regexp.MustCompile(`(^|[^0-9])[0-9]{12}([^0-9]|$)`)

// foreignAccount says whether v names an account other than the stack's own: through
// the peer parameter, through a hard-coded account id, or (for principals) as "*".
func (a *Analysis) foreignAccount(v any, principal bool) (string, bool) {
	why := ""
	var walk func(v any)
	walk = func(v any) {
		if why != "" {
			return
		}
		switch x := v.(type) {
		case string:
			if accountDigits.MatchString(x) {
				why = "a hard-coded account id"
			} else if principal && x == "*" {
				why = "any account (*)"
			}
		case map[string]any:
			if name, ok := x["Ref"].(string); ok && len(x) == 1 {
				if name == a.rules.PeerParam {
					why = "${" + a.rules.PeerParam + "}"
				}
				return
			}
			if sub, ok := x["Fn::Sub"]; ok && len(x) == 1 {
				format, vars := subParts(sub)
				for _, name := range subNames(format) {
					if _, local := vars[name]; name == a.rules.PeerParam && !local {
						why = "${" + a.rules.PeerParam + "}"
						return
					}
				}
				if accountDigits.MatchString(subVar.ReplaceAllString(format, "x")) {
					why = "a hard-coded account id"
					return
				}
				walk(vars)
				return
			}
			for _, k := range sortedKeys(x) {
				walk(x[k])
			}
		case []any:
			for _, item := range x {
				walk(item)
			}
		}
	}
	walk(v)
	return why, why != ""
}

// inboxARN is the inbox queue's ARN as the sender's stack must write it.
func (a *Analysis) inboxARN() (string, bool) {
	if _, ok := a.tpl.Resources[a.rules.InboxQueue]; !ok {
		return "", false
	}
	s, err := a.ctx[a.rules.InboxSide].GetAtt(a.rules.InboxQueue, "Arn")
	return s, err == nil
}

// relayRoleARN is the sender's relay role as the inbox side's stack must write it.
func (a *Analysis) relayRoleARN() (string, bool) {
	c := a.ctx[a.rules.InboxSide]
	name, err := a.tpl.EvaluateString(map[string]any{"Fn::Sub": a.rules.RelayRoleName}, c)
	if err != nil {
		return "", false
	}
	return fmt.Sprintf("arn:%s:iam::%s:role/%s", c.Pseudo["AWS::Partition"], a.accountID(a.rules.SenderSide), name), true
}

// onlyAction reports whether a statement allows exactly one action, want, and nothing else.
func onlyAction(st map[string]any, want string) bool {
	if _, ok := st["NotAction"]; ok {
		return false
	}
	acts, dynamic := literals(st["Action"])
	return !dynamic && len(acts) == 1 && strings.EqualFold(acts[0], want)
}

// CheckCrossAccountIdentity allows one identity grant across accounts:
// sqs:SendMessage on the peer's inbox queue, held by the sender side. Any other
// statement Resource built from the peer's account id (or a hard-coded account id), and
// any policy template, managed policy, role or event source naming the peer account,
// is a violation.
func (a *Analysis) CheckCrossAccountIdentity() Check {
	var bad, notes []string
	inbox, haveInbox := a.inboxARN()
	checked := 0
	for _, st := range a.statements {
		if st.ResourcePolicy() {
			continue
		}
		checked++
		holder := a.sides[st.Holder]
		for _, key := range []string{"Resource", "NotResource"} {
			v, ok := st.Fields[key]
			if !ok {
				continue
			}
			why, foreign := a.foreignAccount(v, false)
			if !foreign {
				continue
			}
			where := fmt.Sprintf("%s (%s) %s.%s names %s", st.Holder, sideLabel(holder), st.Path, key, why)
			switch {
			case key != "Resource":
				bad = append(bad, where+"; NotResource across accounts grants everything else there")
			case !slices.Equal(holder, []string{a.rules.SenderSide}):
				bad = append(bad, where+"; the one permission allowed in the other account is "+a.rules.SenderSide+"'s sqs:SendMessage on the "+a.rules.InboxSide+" inbox")
			case st.Fields["Effect"] != "Allow":
				bad = append(bad, where+"; a cross-account statement must be a plain Allow")
			case !onlyAction(st.Fields, "sqs:SendMessage"):
				bad = append(bad, where+"; the only cross-account action allowed is sqs:SendMessage")
			default:
				res, ok := a.evalStrings(v, a.rules.SenderSide)
				if !haveInbox || !ok || len(res) != 1 || res[0] != inbox {
					bad = append(bad, where+"; the only cross-account resource allowed is the "+a.rules.InboxQueue+" queue ("+inbox+")")
					continue
				}
				notes = append(notes, fmt.Sprintf("%s %s: sqs:SendMessage on the peer's %s", st.Holder, st.Path, a.rules.InboxQueue))
			}
		}
	}
	peerOnly := func(holder, path, what string, v any) {
		if why, foreign := a.foreignAccount(v, false); foreign {
			bad = append(bad, fmt.Sprintf("%s (%s) %s: %s names %s; only an inline sqs:SendMessage statement may cross accounts", holder, sideLabel(a.sides[holder]), path, what, why))
		}
	}
	for _, pt := range a.templates {
		peerOnly(pt.Holder, pt.Path, "policy template", pt.Params)
	}
	for _, mp := range a.managed {
		peerOnly(mp.Holder, mp.Path, "managed policy", mp.Value)
	}
	for _, id := range a.tpl.ResourceIDs("AWS::Serverless::Connector") {
		peerOnly(id, "Destination", "connector", a.props[id]["Destination"])
	}
	for _, id := range a.tpl.ResourceIDs("") {
		for name, c := range a.embeddedConnectors(id) {
			peerOnly(id, "Connectors."+name, "connector", c)
		}
	}
	for _, id := range a.Functions() {
		peerOnly(id, "Role", "role", a.props[id]["Role"])
		for _, ev := range (samtemplate.Resource{Properties: a.props[id]}).Events() {
			peerOnly(id, "Events."+ev.Name, "event source", ev.Properties)
		}
	}
	return newCheck(CheckCrossIdentity, "the only identity grant across accounts is "+a.rules.SenderSide+"'s sqs:SendMessage on the "+a.rules.InboxSide+" inbox queue",
		fmt.Sprintf("%d identity statements, %d policy templates, %d managed policies", checked, len(a.templates), len(a.managed)), bad, notes)
}

// CheckResourcePolicies allows one resource policy to name another account: the inbox
// queue policy, granting only sqs:SendMessage, only on the inbox queue, only to the
// peer account, only with an aws:PrincipalArn condition naming the relay role. A queue,
// topic, bucket or table policy, a role's trust policy or a Lambda permission that names
// any other account (or "*") is a violation.
func (a *Analysis) CheckResourcePolicies() Check {
	var bad, notes []string
	checked := 0
	for _, st := range a.statements {
		if !st.ResourcePolicy() {
			continue
		}
		checked++
		var why string
		var foreign bool
		for _, key := range []string{"Principal", "NotPrincipal"} {
			if w, f := a.foreignAccount(st.Fields[key], true); f && !foreign {
				why, foreign = w, true
			}
		}
		if !foreign {
			continue
		}
		where := fmt.Sprintf("%s (%s) %s grants to %s", st.Holder, sideLabel(a.sides[st.Holder]), st.Path, why)
		if problems := a.inboxStatementProblems(st); len(problems) > 0 {
			bad = append(bad, where+": "+strings.Join(problems, "; "))
			continue
		}
		notes = append(notes, fmt.Sprintf("%s %s: sqs:SendMessage on %s to the peer's relay role only", st.Holder, st.Path, a.rules.InboxQueue))
	}
	for _, id := range a.tpl.ResourceIDs("AWS::Lambda::Permission") {
		checked++
		for _, key := range []string{"Principal", "SourceAccount", "PrincipalOrgID"} {
			if why, f := a.foreignAccount(a.props[id][key], key == "Principal"); f {
				bad = append(bad, fmt.Sprintf("%s (%s) %s names %s; no function may be invoked from another account", id, sideLabel(a.sides[id]), key, why))
			}
		}
	}
	return newCheck(CheckResourcePolicy, "the only resource policy naming another account is "+a.rules.InboxPolicy+": sqs:SendMessage on "+a.rules.InboxQueue+" for the relay role",
		fmt.Sprintf("%d resource-policy statements and Lambda permissions", checked), bad, notes)
}

// inboxStatementProblems says why a cross-account resource-policy statement is not the
// allowed inbox grant; none means it is.
func (a *Analysis) inboxStatementProblems(st Statement) []string {
	r := a.rules
	if st.Holder != r.InboxPolicy || a.tpl.Resources[st.Holder].Type != "AWS::SQS::QueuePolicy" {
		return []string{"only " + r.InboxPolicy + " (an AWS::SQS::QueuePolicy) may name another account"}
	}
	var p []string
	side := r.InboxSide
	if !slices.Equal(a.sides[st.Holder], []string{side}) {
		p = append(p, "it must deploy on "+side+" only")
	}
	inboxURL, err := a.ctx[side].Ref(r.InboxQueue)
	if queues, ok := a.evalStrings(a.props[st.Holder]["Queues"], side); !ok || err != nil || len(queues) != 1 || queues[0] != inboxURL {
		p = append(p, "Queues must be exactly "+r.InboxQueue)
	}
	if st.Fields["Effect"] != "Allow" {
		p = append(p, "Effect must be Allow")
	}
	for _, k := range []string{"NotAction", "NotResource", "NotPrincipal"} {
		if _, ok := st.Fields[k]; ok {
			p = append(p, k+" is not allowed")
		}
	}
	if !onlyAction(st.Fields, "sqs:SendMessage") {
		p = append(p, "Action must be exactly sqs:SendMessage")
	}
	inbox, _ := a.inboxARN()
	if res, ok := a.evalStrings(st.Fields["Resource"], side); !ok || len(res) != 1 || res[0] != inbox {
		p = append(p, "Resource must be exactly "+r.InboxQueue+"'s ARN")
	}
	peer := a.accountID(r.SenderSide)
	relay, _ := a.relayRoleARN()
	principal, _ := a.eval(st.Fields["Principal"], side)
	pm, _ := principal.(map[string]any)
	if ps, ok := a.evalStrings(pm["AWS"], side); len(pm) != 1 || !ok || len(ps) != 1 ||
		!slices.Contains([]string{peer, fmt.Sprintf("arn:%s:iam::%s:root", a.ctx[side].Pseudo["AWS::Partition"], peer), relay}, ps[0]) {
		p = append(p, "Principal must be {AWS: the "+r.SenderSide+" account}")
	}
	if !a.hasPrincipalArnCondition(st.Fields["Condition"], relay) {
		p = append(p, "Condition must require aws:PrincipalArn = "+relay+" (ArnEquals or StringEquals)")
	}
	return p
}

// hasPrincipalArnCondition reports whether a condition block pins aws:PrincipalArn to
// exactly the relay role.
func (a *Analysis) hasPrincipalArnCondition(cond any, relay string) bool {
	v, ok := a.eval(cond, a.rules.InboxSide)
	m, isMap := v.(map[string]any)
	if !ok || !isMap {
		return false
	}
	for _, op := range []string{"ArnEquals", "StringEquals"} {
		keys, _ := m[op].(map[string]any)
		for k, val := range keys {
			if !strings.EqualFold(k, "aws:PrincipalArn") {
				continue
			}
			vals, _ := literals(val)
			if len(vals) == 1 && vals[0] == relay {
				return true
			}
		}
	}
	return false
}

// allowedManagedPolicies are AWS managed policies that grant nothing on tables or
// queues. Any other managed policy cannot be checked statement by statement (the
// SQS and DynamoDB execution roles grant on "*"), so it is refused.
var allowedManagedPolicies = []string{"AWSLambdaBasicExecutionRole", "AWSXRayDaemonWriteAccess", "AWSLambdaVPCAccessExecutionRole"}

// tableOrQueueService reports whether an action belongs to DynamoDB or SQS.
func tableOrQueueService(action string) bool {
	svc, _, _ := strings.Cut(strings.ToLower(action), ":")
	return svc == "dynamodb" || svc == "sqs"
}

// WildcardProblems lists the statements, policy templates and managed policies that
// grant every action of a service ("*", "svc:*", NotAction) or act on every table or
// queue (Resource "*" with DynamoDB or SQS actions, table/* and queue wildcards).
// Deny statements are not grants and are skipped. The template tests share it.
func (a *Analysis) WildcardProblems() []string {
	var bad []string
	for _, st := range a.statements {
		if st.Fields["Effect"] == "Deny" {
			continue
		}
		where := st.Holder + " " + st.Path
		if _, ok := st.Fields["NotAction"]; ok {
			bad = append(bad, where+": NotAction grants every other action")
		}
		acts, dynamic := literals(st.Fields["Action"])
		if dynamic {
			bad = append(bad, where+": Action is not a literal list, it cannot be checked")
		}
		onTables := false
		for _, act := range acts {
			svc, name, _ := strings.Cut(act, ":")
			if act == "*" || name == "*" {
				bad = append(bad, fmt.Sprintf("%s: Action %q grants every action of %s", where, act, map[bool]string{true: "every service", false: svc}[act == "*"]))
			}
			onTables = onTables || tableOrQueueService(act) || act == "*"
		}
		if _, ok := st.Fields["NotResource"]; ok && onTables {
			bad = append(bad, where+": NotResource on DynamoDB/SQS actions acts on every other table or queue")
		}
		for _, res := range resourcePatterns(st.Fields["Resource"]) {
			if res == "*" && onTables {
				bad = append(bad, where+": Resource \"*\" with DynamoDB/SQS actions acts on every table or queue")
			} else if wildcardARN(subVar.ReplaceAllString(res, "VAR")) {
				bad = append(bad, fmt.Sprintf("%s: Resource %q acts on every matching table or queue", where, res))
			}
		}
	}
	for _, pt := range a.templates {
		for k, v := range asMap(pt.Params) {
			if s, ok := v.(string); ok && strings.Contains(s, "*") {
				bad = append(bad, fmt.Sprintf("%s %s: %s %q is a wildcard", pt.Holder, pt.Path, k, s))
			}
		}
	}
	for _, mp := range a.managed {
		if _, ok := a.managedPolicyResource(mp.Value); ok {
			continue // its statements are checked above
		}
		name := managedPolicyName(mp.Value)
		if !slices.Contains(allowedManagedPolicies, name) {
			bad = append(bad, fmt.Sprintf("%s %s: managed policy %q cannot be checked; use inline statements or a policy template", mp.Holder, mp.Path, name))
		}
	}
	return bad
}

// CheckWildcards wraps WildcardProblems as a report check.
func (a *Analysis) CheckWildcards() Check {
	return newCheck(CheckWildcards, "no statement grants \"*\" or \"service:*\" actions, or acts on every table or queue",
		fmt.Sprintf("%d statements, %d policy templates, %d managed policies", len(a.statements), len(a.templates), len(a.managed)), a.WildcardProblems(), nil)
}

// managedPolicyResource reports whether v references a managed policy declared in the
// template.
func (a *Analysis) managedPolicyResource(v any) (string, bool) {
	m, _ := v.(map[string]any)
	id, _ := m["Ref"].(string)
	r, ok := a.tpl.Resources[id]
	return id, ok && r.Type == "AWS::IAM::ManagedPolicy"
}

// managedPolicyName is the last path segment of a managed policy name or ARN.
func managedPolicyName(v any) string {
	s, _ := v.(string)
	if m, ok := v.(map[string]any); ok {
		s, _ = subParts(m["Fn::Sub"])
		if s == "" {
			return fmt.Sprint(v)
		}
	}
	return s[strings.LastIndex(s, "/")+1:]
}

// resourcePatterns returns a statement's literal resources and Fn::Sub formats; Ref
// and GetAtt name one resource and are never wildcards.
func resourcePatterns(v any) []string {
	var out []string
	for _, item := range branches(listOf(v)) {
		switch x := item.(type) {
		case string:
			out = append(out, x)
		case map[string]any:
			if f, _ := subParts(x["Fn::Sub"]); f != "" {
				out = append(out, f)
			}
		}
	}
	return out
}

// wildcardARN reports whether a DynamoDB or SQS ARN (Fn::Sub variables replaced by a
// token without colons) uses a wildcard for the region,
// account, table name or queue name. An index or stream wildcard under one named table
// (table/x/index/*) is fine.
func wildcardARN(s string) bool {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return false
	}
	svc, region, account, res := parts[2], parts[3], parts[4], parts[5]
	switch svc {
	case "dynamodb":
		table, _, _ := strings.Cut(strings.TrimPrefix(res, "table/"), "/")
		return strings.ContainsAny(region+account+table, "*?")
	case "sqs":
		return strings.ContainsAny(region+account+res, "*?")
	}
	return false
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}
