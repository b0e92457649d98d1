// Package contract holds the schemas that cross the account boundary: the versioned
// events commerce publishes to the social inbox, and the hand-off token (handoff.go).
//
// It is the only etalase package that both the social and the commerce account import,
// besides the account-neutral platform helpers in shared/platform. It therefore imports
// nothing from either side, and it carries no buyer data: no buyer identity, address,
// payment detail or clear order id may appear in a type here (DESIGN.md §1, rule 3).
//
// Changing a field's meaning or removing one needs a new schema version; consumers must
// ignore fields they do not know.
package contract
