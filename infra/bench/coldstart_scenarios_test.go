package bench

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/etalase/etalase/infra/localrun"
)

// Each scenario's fixture is the one the cold start chooses for its function, and it is
// an event of the shape the scenario edits.
func TestScenarioFixtures(t *testing.T) {
	for id, sc := range scenarios {
		side := "commerce"
		if strings.HasPrefix(id, "Social") {
			side = "social"
		}
		dir, err := localrun.FunctionDir(side, id)
		if err != nil {
			t.Fatal(err)
		}
		evDir := filepath.Join("..", "..", "events", side, filepath.Base(dir))
		if got := pickFixture(evDir); got != sc.fixture {
			t.Errorf("%s: the cold start chooses %s, the scenario is made from %s", id, got, sc.fixture)
			continue
		}
		raw, err := os.ReadFile(filepath.Join(evDir, sc.fixture))
		if err != nil {
			t.Fatal(err)
		}
		var ev map[string]any
		if err := json.Unmarshal(raw, &ev); err != nil {
			t.Fatalf("%s: %v", sc.fixture, err)
		}
		if _, http := ev["routeKey"]; http {
			if _, err := editHTTP(raw, func(map[string]any) {}); err != nil {
				t.Errorf("%s %s: %v", id, sc.fixture, err)
			}
			continue
		}
		if _, err := editRecords(raw, func(map[string]any) error { return nil }); err != nil {
			t.Errorf("%s %s: %v (a representative batch is one message)", id, sc.fixture, err)
		}
	}
}

func TestEventEdits(t *testing.T) {
	raw, err := os.ReadFile("../../events/commerce/orders/get-order.json")
	if err != nil {
		t.Fatal(err)
	}
	out, err := editHTTP(raw, func(ev map[string]any) {
		setPathParam(ev, "orderId", "o_bench")
		setSubject(ev, "bench-buyer")
		setHeader(ev, "Idempotency-Key", "k1")
		setHeader(ev, "idempotency-key", "k2")
	})
	if err != nil {
		t.Fatal(err)
	}
	var ev struct {
		RawPath        string            `json:"rawPath"`
		PathParameters map[string]string `json:"pathParameters"`
		Headers        map[string]string `json:"headers"`
		RequestContext struct {
			HTTP struct {
				Path string `json:"path"`
			} `json:"http"`
			Authorizer struct {
				JWT struct {
					Claims map[string]any `json:"claims"`
				} `json:"jwt"`
			} `json:"authorizer"`
		} `json:"requestContext"`
	}
	if err := json.Unmarshal(out, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.RawPath != "/commerce/v1/orders/o_bench" || ev.PathParameters["orderId"] != "o_bench" || ev.RequestContext.HTTP.Path != "/commerce/v1/orders/o_bench" {
		t.Errorf("path %q, parameters %v, http.path %q", ev.RawPath, ev.PathParameters, ev.RequestContext.HTTP.Path)
	}
	if ev.RequestContext.Authorizer.JWT.Claims["sub"] != "bench-buyer" || ev.Headers["idempotency-key"] != "k2" || len(ev.Headers) != 1+countHeaders(t, raw) {
		t.Errorf("claims %v, headers %v", ev.RequestContext.Authorizer.JWT.Claims, ev.Headers)
	}

	batch, err := os.ReadFile("../../events/commerce/payments/fifo-batch.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := editSQS(batch, func(map[string]any) {}); err == nil {
		t.Error("a batch of three messages was edited as one")
	}
	one, err := os.ReadFile("../../events/commerce/payments/bench.json")
	if err != nil {
		t.Fatal(err)
	}
	out, err = editSQS(one, func(r map[string]any) { setSQSBody(r, `{"x":1}`) })
	if err != nil {
		t.Fatal(err)
	}
	var sqs struct {
		Records []struct {
			MessageID string `json:"messageId"`
			Body      string `json:"body"`
			MD5       string `json:"md5OfBody"`
		}
	}
	if err := json.Unmarshal(out, &sqs); err != nil {
		t.Fatal(err)
	}
	if r := sqs.Records[0]; r.Body != `{"x":1}` || r.MD5 != "ac3ef48caa08fa3ed5e025da69edc645" || len(r.MessageID) != 36 {
		t.Errorf("record %+v", r)
	}
}

func countHeaders(t *testing.T, raw []byte) int {
	t.Helper()
	var ev struct {
		Headers map[string]string `json:"headers"`
	}
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	return len(ev.Headers)
}
