// Package ledger is commerce's audit ledger: for every order, an append-only list of
// entries (order created, each status change, each recorded or rejected notification)
// numbered 1, 2, 3, ... without gaps and linked by a SHA-256 hash chain, so that an
// auditor can prove that no entry was changed, removed, inserted or reordered.
//
// # Entries and the chain (etalase-ledger-v1)
//
// An entry has an order id, a sequence number seq (1..n), a type (order_created,
// status_changed, ...), a time at, data (a JSON object with the details) and two
// hashes, prevHash and hash, each 64 lower-case hex digits:
//
//	prevHash(1)   = 64 zeros (GenesisHash)
//	prevHash(n)   = hash(n-1)
//	hash(n)       = lower-hex( SHA-256( bytes(prevHash(n)) || canonical(n) ) )
//
// where bytes(prevHash) are the 32 bytes the hex digits encode, and canonical(n) is the
// UTF-8 RFC 8785 (JSON Canonicalization Scheme) serialization of the JSON object
//
//	{"at": at, "data": data, "orderId": orderId, "prevHash": prevHash, "seq": seq, "type": type}
//
// that is: keys sorted (by UTF-16 code units; here "at" < "data" < "orderId" <
// "prevHash" < "seq" < "type"), no white space, strings with only the escapes \" \\ \b
// \f \n \r \t and \u00xx (lower-case hex) for the other control characters, all other
// characters as UTF-8, integers in plain decimal. "at" is the time as the string
// "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ" (UTC, always nine fraction digits, TimeLayout),
// exactly as the audit route returns it. "data" is always an object ({} when empty); to
// keep JCS and every JSON implementation in agreement, it may hold only strings,
// booleans, null, arrays, objects and integers within ±(2^53-1): no fractions (money is
// integer minor units) and no duplicate keys (Canonicalize enforces this when an entry
// is built).
//
// An auditor reimplements this with any RFC 8785 library: for each entry of the audit
// response, build the object above from its fields, canonicalize it, and hash it with
// the previous hash. Example: the first entry of order "o_x" of type "order_created" at
// 2026-01-02T03:04:05.000000006Z with data {"b":1,"a":"<"} hashes
//
//	32 zero bytes || {"at":"2026-01-02T03:04:05.000000006Z","data":{"a":"<","b":1},"orderId":"o_x","prevHash":"0000…0000","seq":1,"type":"order_created"}
//
// (the test TestCanonicalBytesExample pins the bytes and the hash).
//
// # Where the head lives, and why
//
// The order item in OrdersTable records the head of its ledger: ledgerSeq (the last
// entry's seq, 0 before any) and ledgerHash (its hash). Every write that appends an
// entry sets the head in the same DynamoDB transaction, on the condition that the head
// is still the one the entry was built on:
//
//   - the checkout puts the order (ledgerSeq 1, ledgerHash = hash of order_created) and
//     the order_created entry together (order.TransactPut + Entry.TransactPut);
//   - a transition updates the order (status, version, ..., ledgerSeq, ledgerHash) on
//     the condition status = old AND version = old AND ledgerSeq = old
//     (order.TransactUpdate), with the status_changed entry (Entry.TransactPut) and the
//     outbox record: next := ledger.Next(ledger.Head{Seq: o.LedgerSeq, Hash:
//     o.LedgerHash}, ...); after.LedgerSeq, after.LedgerHash = next.Seq, next.Hash;
//   - a rejected notification changes nothing else, so Append writes the entry with
//     only the head update (Entry.HeadUpdate), retrying when it loses a race.
//
// This gives three guarantees. The entry's put is conditioned on attribute_not_exists
// for (orderId, seq), so two writers can never both write one seq. The head condition
// serializes appends, so seq n is always built on the committed entry n-1: no gaps, no
// forks. And the order item anchors the chain's tip, so removing the last entries,
// which leaves a shorter but valid chain, is detected by VerifyHead (the auditor route
// uses it). Without the head on the order, a transition would have to query the
// ledger's last entry before every write, and the tail would be unanchored.
//
// # Storage
//
// LedgerTable (template.yaml, commerce only): key orderId (S) + seq (N); attributes
// type, at (TimeLayout), data (the canonical JSON text), prevHash, hash. No TTL: the
// ledger is kept. Functions get dynamodb:PutItem and dynamodb:Query on it, never
// UpdateItem or DeleteItem.
//
// # Audit route
//
// AuditHandler.ServeLedger serves GET /commerce/v1/audit/orders/{orderId}/ledger (scope
// auditor): every entry as stored, the head the order records, and the verification
// (ok, entries, firstBadSeq, reason). A chain that fails verification is still
// returned, with 200: finding it is the auditor's purpose.
package ledger
