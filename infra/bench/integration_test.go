package bench

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/etalase/etalase/infra/localrun/localtest"
	"github.com/etalase/etalase/infra/testenv"
)

// TestColdStartMeasurement runs the cold-start measurement for the hello-world and one
// function, twice each, against the emulators and the real template. It checks what
// was measured, never how long it took.
func TestColdStartMeasurement(t *testing.T) {
	const fn = "CommerceCatalogFunction"
	r, log := localtest.Start(t)
	if _, ok := r.Functions[fn]; !ok {
		t.Fatalf("the template has no %s", fn)
	}
	dynamo, sqs := testenv.Endpoints(t)
	root := localtest.Root()
	env := &Env{
		Root: root, Template: filepath.Join(root, "template.yaml"), Runner: r,
		DynamoDBEndpoint: dynamo, SQSEndpoint: sqs, Prefix: testenv.Prefix(t),
		WorkDir: t.TempDir(), Log: log,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	subjects, err := PrepareSubjects(ctx, env, PrepareOptions{
		Functions:     func(id string) bool { return id == fn },
		NoLambdaBuild: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(subjects) != 2 || subjects[0].Name != HelloName || subjects[1].Name != fn {
		t.Fatalf("subjects = %v, want the hello-world and %s", names(subjects), fn)
	}
	if src := subjects[1].Payload.Source; !strings.HasPrefix(src, "events/commerce/catalog/") {
		t.Errorf("%s is measured with %q, want one of its fixtures", fn, src)
	}
	if subjects[1].HostSize <= 0 || subjects[0].HostSize <= 0 {
		t.Errorf("host sizes %d, %d", subjects[0].HostSize, subjects[1].HostSize)
	}

	results := MeasureColdStarts(ctx, subjects, ColdOptions{N: 2, Log: log})
	for _, res := range results {
		if res.Error != "" {
			t.Fatalf("%s: %s", res.Name, res.Error)
		}
		if len(res.Samples) != 2 {
			t.Fatalf("%s: %d samples, want 2", res.Name, len(res.Samples))
		}
		for _, s := range res.Samples {
			if s.Init <= 0 || s.FirstResponse < s.Init || s.Handler <= 0 || s.Warm <= 0 {
				t.Errorf("%s: sample %+v: init, first response, handler and warm must be measured, first response >= init", res.Name, s)
			}
		}
		if r := float64(res.FirstResponseRatio); math.IsNaN(r) || r <= 0 {
			t.Errorf("%s: ratio %v", res.Name, r)
		}
	}
	hello, catalog := results[0], results[1]
	if hello.Outcome != "ok" || float64(hello.FirstResponseRatio) != 1 || hello.Verdict != "" {
		t.Errorf("hello-world: outcome %q ratio %v verdict %q", hello.Outcome, hello.FirstResponseRatio, hello.Verdict)
	}
	if !strings.HasPrefix(catalog.Outcome, "HTTP ") || (catalog.Verdict != "PASS" && catalog.Verdict != "MISS") {
		t.Errorf("%s: outcome %q verdict %q", fn, catalog.Outcome, catalog.Verdict)
	}
	// Each cold start was a process of its own, and the runner's pool was not used.
	if st := r.Functions[fn].Pool.Stats(); st.ColdStarts != 0 {
		t.Errorf("the runner's pool made %d cold starts; the measurement must use pools of its own", st.ColdStarts)
	}
	if n := strings.Count(log.String(), "Init Duration:"); n < 4 {
		t.Errorf("%d REPORT lines with an Init Duration, want at least 4", n)
	}

	sec := ColdStartSection(results, 2, 0)
	md := (&Report{Title: "t", Sections: []*Section{sec}}).Markdown()
	if !strings.Contains(md, "| "+fn+" | commerce | events/commerce/catalog/") || !strings.Contains(md, "| hello-world |") {
		t.Errorf("cold-start section:\n%s", md)
	}
}

func names(ss []*Subject) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.Name)
	}
	return out
}
