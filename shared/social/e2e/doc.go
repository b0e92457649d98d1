// Package e2e holds the end-to-end test of the social account with the commerce
// account, run through the local runner (infra/localrun/localtest): a seller lists a
// product in commerce, the relay carries it to social, a creator promotes it, a viewer
// takes a hand-off into commerce's cart, the buyer checks out and pays in the payment
// sandbox, the paid sale comes back to social as commission and the provider's refund
// takes it back, and a scan with social's credentials finds no order, payment or buyer
// data in social.
// It has no code of its own; everything is in e2e_test.go.
package e2e
