// Package localaccount names the two emulated AWS accounts of the local stack.
//
// DynamoDB Local keeps one database per access key id (and region), so giving each
// account its own access key id makes two accounts whose tables cannot see each
// other. The SQS emulator has no authorization; queue URLs carry the account id.
package localaccount

// Region is the region every local client uses.
const Region = "ap-southeast-3"

// Account is one emulated AWS account.
type Account struct {
	// Side is "social" or "commerce", the template's Side parameter value.
	Side string
	// ID is the 12-digit account id used in ARNs and queue URLs.
	ID string
	// AccessKeyID selects the account's database in DynamoDB Local.
	AccessKeyID string
	// SecretAccessKey is a placeholder; the emulators do not check signatures.
	SecretAccessKey string
}

// Social is the promotion account.
var Social = Account{Side: "social", ID: "111111111111", AccessKeyID: "SOCIALLOCAL", SecretAccessKey: "local"}

// Commerce is the transaction account.
var Commerce = Account{Side: "commerce", ID: "222222222222", AccessKeyID: "COMMERCELOCAL", SecretAccessKey: "local"}

// All lists both accounts, social first.
var All = []Account{Social, Commerce}

// BySide returns the account for a side name.
func BySide(side string) (Account, bool) {
	for _, a := range All {
		if a.Side == side {
			return a, true
		}
	}
	return Account{}, false
}

// Peer returns the other account.
func (a Account) Peer() Account {
	if a.Side == Social.Side {
		return Commerce
	}
	return Social
}
