package compliance

import (
	"slices"
	"strings"
	"testing"

	"github.com/etalase/etalase/shared/contract"
)

func TestCheckContract(t *testing.T) {
	events := contract.CrossAccountEvents()
	ok := CheckContract(events, contract.BoundaryProblems())
	if !ok.Passed || ok.Name != CheckContractBoundary {
		t.Errorf("the repository's contract fails: %+v", ok)
	}
	if len(ok.Notes) != len(events) || !slices.ContainsFunc(ok.Notes, func(n string) bool { return strings.HasPrefix(n, "SaleAttributed v1") }) {
		t.Errorf("notes = %q, want one per event type", ok.Notes)
	}
	bad := CheckContract(events, []string{"SaleAttributed v1: field buyerEmail suggests buyer identity"})
	if bad.Passed || len(bad.Violations) != 1 {
		t.Errorf("a violation passed: %+v", bad)
	}
	rep := &Report{Checks: []Check{bad}}
	var sb strings.Builder
	if err := rep.WriteText(&sb); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sb.String(), "FAIL  contract") || !strings.Contains(sb.String(), "buyerEmail") {
		t.Errorf("report:\n%s", sb.String())
	}
}
