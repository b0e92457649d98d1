// Package authz holds the authorization matrix of both HTTP APIs (issue #8): every
// route of template.yaml times every role (anonymous, buyer A, buyer B, seller, another
// seller, creator, another creator, auditor) with the status it must answer, run end
// to end through the local runner.
//
// The matrix is a table in the package's test, keyed by route key, with all eight
// statuses written out. The route list comes from the template: a route without an
// entry fails the test (decide who may call it before it ships), and so does an entry
// whose route is gone. The package has no code besides its tests.
package authz
