package compliance

import (
	"fmt"

	"github.com/etalase/etalase/shared/contract"
)

// CheckContractBoundary is the contract check's name in the report.
const CheckContractBoundary = "contract"

// CheckContract checks rule 3 of the boundary on the cross-account contract: no event
// that crosses to social (their Go types in shared/contract and their JSON Schemas)
// has a field whose name suggests buyer identity, an address, payment data or an order
// id in clear (only the opaque orderRef), every schema object forbids unnamed
// properties, and each payload's Go type and schema name the same fields. problems is
// contract.BoundaryProblems(); it is a parameter so tests can feed it violations.
func CheckContract(events []contract.EventSpec, problems []string) Check {
	var notes []string
	for _, e := range events {
		notes = append(notes, fmt.Sprintf("%s v%d (%s)", e.Type, e.SchemaVersion, e.Schema))
	}
	return newCheck(CheckContractBoundary,
		"no cross-account event carries buyer identity, an address, payment data or a clear order id; schemas allow nothing they do not name",
		fmt.Sprintf("%d cross-account event types and their JSON Schemas, plus the envelope", len(events)), problems, notes)
}
