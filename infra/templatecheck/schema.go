package templatecheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"

	"github.com/etalase/etalase/infra/samtemplate"
)

// CompileSchema loads and compiles a JSON schema file, such as AWS SAM's
// sam.schema.json. The draft comes from the schema's $schema (draft-04 for SAM).
func CompileSchema(path string) (*jsonschema.Schema, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open schema: %w", err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		return nil, fmt.Errorf("parse schema %s: %w", path, err)
	}
	c := jsonschema.NewCompiler()
	c.UseRegexpEngine(compileRegexp)
	const url = "file:///sam.schema.json"
	if err := c.AddResource(url, doc); err != nil {
		return nil, fmt.Errorf("add schema: %w", err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("compile schema %s: %w", path, err)
	}
	return sch, nil
}

// SchemaProblems validates the template's long form (what CloudFormation receives
// after YAML short tags are expanded) against the schema.
func SchemaProblems(sch *jsonschema.Schema, tpl *samtemplate.Template) []string {
	raw, err := json.Marshal(tpl.Doc)
	if err != nil {
		return []string{"encode template: " + err.Error()}
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return []string{"decode template: " + err.Error()}
	}
	err = sch.Validate(doc)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []string{err.Error()}
	}
	return leaves(ve)
}

// leaves flattens a validation error into one line per failed keyword. Where the
// schema offers alternatives (SAM lists every resource and event type under anyOf),
// branches written for another Type are dropped, so a broken function reports what is
// wrong with it as a function, not that it is also not a connector or a table.
func leaves(e *jsonschema.ValidationError) []string {
	e = unwrap(e)
	if len(e.Causes) == 0 {
		return []string{(&jsonschema.ValidationError{SchemaURL: e.SchemaURL, InstanceLocation: e.InstanceLocation, ErrorKind: e.ErrorKind}).Error()}
	}
	causes := e.Causes
	switch e.ErrorKind.(type) {
	case *kind.AnyOf, *kind.OneOf:
		var sameType []*jsonschema.ValidationError
		for _, c := range causes {
			if !wrongType(c, e.InstanceLocation) {
				sameType = append(sameType, c)
			}
		}
		if len(sameType) == 0 {
			return []string{fmt.Sprintf("at '/%s': its Type is none of the types the schema allows here", strings.Join(e.InstanceLocation, "/"))}
		}
		causes = sameType
	}
	var out []string
	for _, c := range causes {
		out = append(out, leaves(c)...)
	}
	return out
}

// unwrap skips $ref nodes that only pass one error through.
func unwrap(e *jsonschema.ValidationError) *jsonschema.ValidationError {
	for len(e.Causes) == 1 {
		if _, ok := e.ErrorKind.(*kind.Reference); !ok {
			break
		}
		e = e.Causes[0]
	}
	return e
}

// wrongType reports whether an alternative for the value at loc failed because the
// value's Type is not the one that alternative describes: somewhere in it, short of
// nested alternatives, loc/Type failed.
func wrongType(e *jsonschema.ValidationError, loc []string) bool {
	if len(e.Causes) == 0 {
		return slices.Equal(e.InstanceLocation, append(slices.Clone(loc), "Type"))
	}
	switch e.ErrorKind.(type) {
	case *kind.AnyOf, *kind.OneOf:
		return false
	}
	for _, c := range e.Causes {
		if wrongType(c, loc) {
			return true
		}
	}
	return false
}

// negativeLookahead matches the one non-RE2 pattern form in SAM's schema,
// ^(?!X)rest, which Go's regexp package cannot compile.
var negativeLookahead = regexp.MustCompile(`^\^\(\?!([^()]*)\)(.*)$`)

// lookahead is a compiled ^(?!not)rest pattern.
type lookahead struct {
	src       string
	not, rest *regexp.Regexp
}

func (l lookahead) String() string { return l.src }

// MatchString reports whether s matches rest at its start and not does not.
func (l lookahead) MatchString(s string) bool { return !l.not.MatchString(s) && l.rest.MatchString(s) }

// compileRegexp is the schema's regexp engine: Go's RE2, plus the leading negative
// lookahead that SAM's schema uses to keep AWS::Serverless:: types out of its
// "any CloudFormation resource" branch. Without it that branch would match a broken
// serverless function too, and the schema would accept it.
func compileRegexp(s string) (jsonschema.Regexp, error) {
	re, err := regexp.Compile(s)
	if err == nil {
		return re, nil
	}
	m := negativeLookahead.FindStringSubmatch(s)
	if m == nil {
		return nil, fmt.Errorf("compile pattern: %w", err)
	}
	not, nerr := regexp.Compile("^(?:" + m[1] + ")")
	rest, rerr := regexp.Compile("^(?:" + m[2] + ")")
	if nerr != nil || rerr != nil {
		return nil, fmt.Errorf("compile pattern %q: %w", s, errors.Join(nerr, rerr))
	}
	return lookahead{src: s, not: not, rest: rest}, nil
}
