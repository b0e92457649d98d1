// Package schemacheck validates cross-account messages against the contract's JSON
// Schemas (shared/contract/schemas), for the relay, which checks every message before it
// leaves commerce.
//
// It is a purpose-built validator for exactly the JSON Schema (draft 2020-12) keywords
// the contract's schemas use: type, enum, format date-time, properties, required,
// additionalProperties true or false, minLength, maxLength, pattern, minimum, maximum,
// $defs and $ref within the document. The schemas are compiled ahead of time by
// compile_test.go (go generate) into schemas_gen.go, static data that costs nothing at
// cold start; a schema with any other keyword does not compile, and a test fails when
// schemas_gen.go is not what the schemas compile to.
//
// It exists instead of a general JSON Schema library (santhosh-tekuri/jsonschema, which
// the tests and tooling still use): that library's package initialisation alone cost
// the relay's cold start about 10 ms and 1.6 MB of allocations, and compiling the
// schemas with it another 10 ms (docs/bench.md). equivalence_test.go runs both over a
// corpus of valid and invalid messages and requires them to agree on every one, and
// infra/bench/deps_test.go that no function links the library.
package schemacheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/etalase/etalase/shared/contract"
)

// ErrUnknownEvent: the type or schema version is not a cross-account event.
var ErrUnknownEvent = errors.New("not a cross-account event type and version")

// ErrInvalidEvent matches every validation failure of Validator.
var ErrInvalidEvent = errors.New("event does not match its schema")

// Validator checks messages against the contract's JSON Schemas. The relay validates
// every message before it leaves commerce, so that nothing the schemas do not name
// (additionalProperties: false) can cross the boundary, whatever a commerce writer put
// in its outbox record.
type Validator struct {
	envelope *schema
	payloads map[eventKey]*schema
}

type eventKey struct {
	typ     string
	version int
}

//go:generate go test -run TestGeneratedSchemas -update

// New returns the validator of the envelope and of every cross-account event. Their
// schemas are compiled ahead of time (schemas_gen.go, from contract.Schemas); New fails
// if one is missing there.
func New() (*Validator, error) {
	v := &Validator{payloads: map[eventKey]*schema{}}
	var err error
	if v.envelope, err = compiledSchema(contract.EnvelopeSchema); err != nil {
		return nil, err
	}
	for _, s := range contract.CrossAccountEvents() {
		sch, err := compiledSchema(s.Schema)
		if err != nil {
			return nil, err
		}
		v.payloads[eventKey{s.Type, s.SchemaVersion}] = sch
	}
	return v, nil
}

// compiledSchema returns the compiled form of one schema document of contract.Schemas.
func compiledSchema(path string) (*schema, error) {
	for _, c := range compiled {
		if c.path == path {
			return c.schema, nil
		}
	}
	return nil, fmt.Errorf("contract schema %s is not compiled: run go generate ./shared/contract/schemacheck", path)
}

// ValidatePayload checks one event payload (JSON) against the schema of its type and
// version.
func (v *Validator) ValidatePayload(eventType string, schemaVersion int, payload []byte) error {
	sch, ok := v.payloads[eventKey{eventType, schemaVersion}]
	if !ok {
		return fmt.Errorf("%s v%d: %w", eventType, schemaVersion, ErrUnknownEvent)
	}
	return validate(sch, payload, eventType)
}

// ValidateMessage checks a whole inbox message: the envelope, then its payload.
func (v *Validator) ValidateMessage(body []byte) error {
	if err := validate(v.envelope, body, "envelope"); err != nil {
		return err
	}
	var env contract.Envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return fmt.Errorf("envelope: %w: %v", ErrInvalidEvent, err)
	}
	return v.ValidatePayload(env.Type, env.SchemaVersion, env.Payload)
}

func validate(sch *schema, doc []byte, what string) error {
	inst, err := decode(doc)
	if err != nil {
		return fmt.Errorf("%s: %w: not JSON: %v", what, ErrInvalidEvent, err)
	}
	if err := sch.validate(inst, ""); err != nil {
		return fmt.Errorf("%s: %w: %v", what, ErrInvalidEvent, err)
	}
	return nil
}

// decode reads one JSON document as JSON Schema validators see it: numbers as
// json.Number (exact), objects as map[string]any (a repeated key keeps its last value),
// and nothing but white space after the value.
func decode(doc []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(doc))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, errors.New("invalid character after top-level value")
	}
	return v, nil
}
