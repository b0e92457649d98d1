package contract_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/etalase/etalase/shared/contract"
	"github.com/etalase/etalase/shared/contract/contracttest"
	"github.com/etalase/etalase/shared/contract/schemacheck"
)

func validator(t *testing.T) *schemacheck.Validator {
	t.Helper()
	v, err := schemacheck.New()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func envelope(t *testing.T, typ string, version int, payload any) []byte {
	t.Helper()
	p, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(contract.Envelope{
		EventID: "0b6f2c1e-8d4a-4f3b-9e2c-7a1d5b3c9e10", Type: typ, SchemaVersion: version,
		OccurredAt: time.Now().UTC(), CorrelationID: "req-1", Payload: p,
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Every cross-account event, generated from its Go type, matches its JSON Schema, alone
// and inside the envelope.
func TestEveryEventMatchesItsSchema(t *testing.T) {
	v := validator(t)
	ex := contracttest.Payloads(t)
	for _, s := range contract.CrossAccountEvents() {
		payload, ok := ex[s.Type]
		if !ok {
			t.Errorf("%s: no example; add one", s.Type)
			continue
		}
		raw, err := json.Marshal(payload)
		if err != nil {
			t.Fatal(err)
		}
		if err := v.ValidatePayload(s.Type, s.SchemaVersion, raw); err != nil {
			t.Errorf("%s: %v", s.Type, err)
		}
		if err := v.ValidateMessage(envelope(t, s.Type, s.SchemaVersion, payload)); err != nil {
			t.Errorf("%s in its envelope: %v", s.Type, err)
		}
	}
	if len(ex) != len(contract.CrossAccountEvents()) {
		t.Errorf("%d examples for %d event types", len(ex), len(contract.CrossAccountEvents()))
	}
}

// The schemas refuse what must not cross: unknown fields (a buyer's email slipped into
// a payload), a clear order id instead of an opaque reference, float money, and types or
// versions that are not in the contract.
func TestSchemasRefuse(t *testing.T) {
	v := validator(t)
	ex := contracttest.Payloads(t)
	withField := func(payload any, key string, value any) []byte {
		raw, _ := json.Marshal(payload)
		var m map[string]any
		_ = json.Unmarshal(raw, &m)
		if value == nil {
			delete(m, key)
		} else {
			m[key] = value
		}
		out, _ := json.Marshal(m)
		return out
	}
	attributed := ex[contract.EventSaleAttributed]
	cases := []struct {
		name    string
		typ     string
		version int
		payload []byte
		want    error
	}{
		{"buyer email added", contract.EventSaleAttributed, 1, withField(attributed, "buyerEmail", "a@b.id"), schemacheck.ErrInvalidEvent},
		{"order id added", contract.EventSaleAttributed, 1, withField(attributed, "orderId", "o_123"), schemacheck.ErrInvalidEvent},
		{"order id as order ref", contract.EventSaleAttributed, 1, withField(attributed, "orderRef", "o_01HZY3"), schemacheck.ErrInvalidEvent},
		{"address nested in amount", contract.EventSaleAttributed, 1, withField(attributed, "amount", map[string]any{"amount": 1, "currency": "IDR", "address": "Jl. Sudirman"}), schemacheck.ErrInvalidEvent},
		{"float money", contract.EventSaleAttributed, 1, withField(attributed, "amount", map[string]any{"amount": 1.5, "currency": "IDR"}), schemacheck.ErrInvalidEvent},
		{"missing line ref", contract.EventSaleAttributed, 1, withField(attributed, "lineRef", nil), schemacheck.ErrInvalidEvent},
		{"zero quantity", contract.EventSaleAttributed, 1, withField(attributed, "quantity", 0), schemacheck.ErrInvalidEvent},
		{"bad sold at", contract.EventSaleAttributed, 1, withField(attributed, "soldAt", "yesterday"), schemacheck.ErrInvalidEvent},
		{"stock count on a product", contract.EventProductUpdated, 1, withField(ex[contract.EventProductUpdated], "stock", 12), schemacheck.ErrInvalidEvent},
		{"lower-case currency", contract.EventProductListed, 1, withField(ex[contract.EventProductListed], "price", map[string]any{"amount": 1, "currency": "idr"}), schemacheck.ErrInvalidEvent},
		{"internal event type", "OrderPaid", 1, []byte(`{}`), schemacheck.ErrUnknownEvent},
		{"unknown version", contract.EventSaleAttributed, 2, withField(attributed, "x", nil), schemacheck.ErrUnknownEvent},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			err := v.ValidatePayload(tt.typ, tt.version, tt.payload)
			if !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
	// The envelope itself: no aggregate id (an order id for order events), nothing extra.
	msg := envelope(t, contract.EventSaleAttributed, 1, attributed)
	var m map[string]any
	_ = json.Unmarshal(msg, &m)
	m["aggregateId"] = "o_123"
	bad, _ := json.Marshal(m)
	if err := v.ValidateMessage(bad); !errors.Is(err, schemacheck.ErrInvalidEvent) {
		t.Errorf("envelope with aggregateId: err = %v, want ErrInvalidEvent", err)
	}
	delete(m, "aggregateId")
	delete(m, "correlationId")
	bad, _ = json.Marshal(m)
	if err := v.ValidateMessage(bad); !errors.Is(err, schemacheck.ErrInvalidEvent) {
		t.Errorf("envelope without correlationId: err = %v, want ErrInvalidEvent", err)
	}
}

// The real-shaped fixtures under events/ are valid contract messages: the inbox's SQS
// events carry valid envelopes, the relay's stream events valid payloads.
func TestFixturesMatchTheContract(t *testing.T) {
	v := validator(t)
	inbox, _ := filepath.Glob("../../events/social/inbox/*.json")
	relay, _ := filepath.Glob("../../events/commerce/relay/*.json")
	if len(inbox) == 0 || len(relay) == 0 {
		t.Fatalf("no fixtures: inbox %v, relay %v", inbox, relay)
	}
	for _, path := range inbox {
		var ev events.SQSEvent
		readJSON(t, path, &ev)
		for i, m := range ev.Records {
			if strings.Contains(filepath.Base(path), "malformed") {
				continue
			}
			if err := v.ValidateMessage([]byte(m.Body)); err != nil {
				t.Errorf("%s record %d: %v", path, i, err)
			}
		}
	}
	for _, path := range relay {
		var ev events.DynamoDBEvent
		readJSON(t, path, &ev)
		for i, r := range ev.Records {
			img := r.Change.NewImage
			if img == nil {
				continue
			}
			typ := img["eventType"].String()
			if !contract.IsCrossAccount(typ) {
				continue
			}
			version, err := img["schemaVersion"].Integer()
			if err != nil {
				t.Fatalf("%s record %d: schemaVersion: %v", path, i, err)
			}
			if err := v.ValidatePayload(typ, int(version), []byte(img["payload"].String())); err != nil {
				t.Errorf("%s record %d: %v", path, i, err)
			}
		}
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
