package contract

import (
	"embed"
	"fmt"
	"reflect"
)

// Schemas holds the JSON Schema (draft 2020-12) documents of the envelope and of every
// cross-account event payload, one file per type and schema version
// (schemas/<kebab-type>.v<version>.json). Every object in them sets
// additionalProperties: false: a producer can send nothing the schema does not name.
//
//go:embed schemas/*.json
var Schemas embed.FS

// EnvelopeSchema is the path of the envelope's schema in Schemas.
const EnvelopeSchema = "schemas/envelope.v1.json"

// EventSpec describes one cross-account event type at one schema version.
type EventSpec struct {
	// Type is the envelope's type (EventProductListed, ...).
	Type string
	// SchemaVersion is the payload's schema version.
	SchemaVersion int
	// Payload is the payload's Go type.
	Payload reflect.Type
	// Schema is the path of the payload's JSON Schema in Schemas.
	Schema string
}

// CrossAccountEvents lists every event that may cross from commerce to social, the
// only direction events flow (DESIGN.md section 1, rule 2). The relay publishes only
// these types to the social inbox; the compliance check walks their Go types and
// schemas for buyer data.
func CrossAccountEvents() []EventSpec {
	return []EventSpec{
		{EventProductListed, CatalogSchemaVersion, reflect.TypeFor[ProductListed](), "schemas/product-listed.v1.json"},
		{EventProductUpdated, CatalogSchemaVersion, reflect.TypeFor[ProductUpdated](), "schemas/product-updated.v1.json"},
		{EventProductDelisted, CatalogSchemaVersion, reflect.TypeFor[ProductDelisted](), "schemas/product-delisted.v1.json"},
		{EventSaleAttributed, SalesSchemaVersion, reflect.TypeFor[SaleAttributed](), "schemas/sale-attributed.v1.json"},
		{EventSaleReversed, SalesSchemaVersion, reflect.TypeFor[SaleReversed](), "schemas/sale-reversed.v1.json"},
	}
}

// LookupEvent returns the spec of a cross-account event type at a schema version.
func LookupEvent(eventType string, schemaVersion int) (EventSpec, bool) {
	for _, s := range CrossAccountEvents() {
		if s.Type == eventType && s.SchemaVersion == schemaVersion {
			return s, true
		}
	}
	return EventSpec{}, false
}

// IsCrossAccount reports whether an event type may cross to social at any version.
func IsCrossAccount(eventType string) bool {
	for _, s := range CrossAccountEvents() {
		if s.Type == eventType {
			return true
		}
	}
	return false
}

// schemaBytes reads a schema document from Schemas.
func schemaBytes(path string) ([]byte, error) {
	b, err := Schemas.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("contract schema %s: %w", path, err)
	}
	return b, nil
}
