// Package schemacheck validates cross-account messages against the contract's JSON
// Schemas. It is apart from package contract because compiling JSON Schemas links a
// validator whose package initialisation costs a cold start about 10-16 ms and 1.6 MB
// of allocations (see docs/bench.md): only the relay, which checks every message before
// it leaves commerce, and tests pay for it.
package schemacheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/santhosh-tekuri/jsonschema/v6"

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
	envelope *jsonschema.Schema
	payloads map[eventKey]*jsonschema.Schema
}

type eventKey struct {
	typ     string
	version int
}

// New compiles the envelope's and every cross-account event's schema.
func New() (*Validator, error) {
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	compile := func(path string) (*jsonschema.Schema, error) {
		raw, err := contract.Schemas.ReadFile(path)
		if err != nil {
			return nil, err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("contract schema %s: %w", path, err)
		}
		url := "file:///" + path
		if err := c.AddResource(url, doc); err != nil {
			return nil, fmt.Errorf("contract schema %s: %w", path, err)
		}
		sch, err := c.Compile(url)
		if err != nil {
			return nil, fmt.Errorf("compile contract schema %s: %w", path, err)
		}
		return sch, nil
	}
	v := &Validator{payloads: map[eventKey]*jsonschema.Schema{}}
	var err error
	if v.envelope, err = compile(contract.EnvelopeSchema); err != nil {
		return nil, err
	}
	for _, s := range contract.CrossAccountEvents() {
		sch, err := compile(s.Schema)
		if err != nil {
			return nil, err
		}
		v.payloads[eventKey{s.Type, s.SchemaVersion}] = sch
	}
	return v, nil
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

func validate(sch *jsonschema.Schema, doc []byte, what string) error {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return fmt.Errorf("%s: %w: not JSON: %v", what, ErrInvalidEvent, err)
	}
	if err := sch.Validate(inst); err != nil {
		return fmt.Errorf("%s: %w: %v", what, ErrInvalidEvent, err)
	}
	return nil
}
