package ledger

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/etalase/etalase/shared/platform/httpapi"
	"github.com/etalase/etalase/shared/platform/ident"
)

// RouteAuditLedger is the auditor's route key; the function that serves it declares
// it in template.yaml with AuthorizationScopes [auditor] and registers
// AuditHandler.ServeLedger for it.
const RouteAuditLedger = "GET /commerce/v1/audit/orders/{orderId}/ledger"

// ScopeAuditor is the OAuth scope of the audit routes.
const ScopeAuditor = "auditor"

// CodeOrderNotFound is the error code of an order without order item and ledger.
const CodeOrderNotFound = "order_not_found"

// Algorithm names the hash chain's construction in audit responses, so that an
// auditor knows which rules (the package doc) reproduce the hashes.
const Algorithm = "etalase-ledger-v1: sha256(prevHash || RFC 8785 JSON of {at,data,orderId,prevHash,seq,type})"

// Reader is what the audit handler reads.
type Reader interface {
	// Read returns an order's entries by seq.
	Read(ctx context.Context, orderID string) ([]Entry, error)
	// Head returns the ledger head the order item records, or ErrOrderNotFound.
	Head(ctx context.Context, orderID string) (Head, error)
}

// AuditHandler serves an order's ledger to an auditor, with its verification.
type AuditHandler struct {
	reader Reader
}

// NewAuditHandler returns the handler over reader (a *DynamoStore).
func NewAuditHandler(reader Reader) *AuditHandler { return &AuditHandler{reader: reader} }

// Transport models.

type ledgerResponse struct {
	OrderID      string             `json:"orderId"`
	Algorithm    string             `json:"algorithm"`
	Head         *headBody          `json:"head"`
	Entries      []entryBody        `json:"entries"`
	Verification verificationResult `json:"verification"`
}

type headBody struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
}

type entryBody struct {
	OrderID  string          `json:"orderId"`
	Seq      int64           `json:"seq"`
	Type     string          `json:"type"`
	At       string          `json:"at"`
	Data     json.RawMessage `json:"data"`
	PrevHash string          `json:"prevHash"`
	Hash     string          `json:"hash"`
}

type verificationResult struct {
	OK          bool   `json:"ok"`
	Entries     int    `json:"entries"`
	FirstBadSeq int64  `json:"firstBadSeq"`
	Reason      string `json:"reason,omitempty"`
}

// ServeLedger handles RouteAuditLedger: it requires the auditor scope, reads the
// order's ledger and head, and returns every entry as stored with the result of
// VerifyHead. A broken chain is still 200: the verification says where it breaks. An
// order with neither order item nor ledger is 404 order_not_found.
//
// Entries' "at" is the string the hash covers; "data" is the JSON object whose RFC
// 8785 form the hash covers (the response may escape it differently).
func (h *AuditHandler) ServeLedger(ctx context.Context, req httpapi.Request) (httpapi.Response, error) {
	if _, err := httpapi.RequireScope(req, ScopeAuditor); err != nil {
		return httpapi.Response{}, err
	}
	// Any id the ledger could hold is looked up: order ids ("o_" + base32) and other
	// opaque ids of letters, digits, '_' and '-'.
	id := req.PathParameters["orderId"]
	if len(id) > 128 || !ident.Token(id) {
		return httpapi.Response{}, notFound()
	}
	head, err := h.reader.Head(ctx, id)
	found := err == nil
	if err != nil && !errors.Is(err, ErrOrderNotFound) {
		return httpapi.Response{}, fmt.Errorf("audit ledger: %w", err)
	}
	entries, err := h.reader.Read(ctx, id)
	if err != nil {
		return httpapi.Response{}, fmt.Errorf("audit ledger: %w", err)
	}
	if !found && len(entries) == 0 {
		return httpapi.Response{}, notFound()
	}
	v := VerifyHead(entries, head, found)
	out := ledgerResponse{
		OrderID:   id,
		Algorithm: Algorithm,
		Entries:   make([]entryBody, len(entries)),
		Verification: verificationResult{
			OK: v.OK, Entries: v.Entries, FirstBadSeq: v.FirstBadSeq, Reason: v.Reason,
		},
	}
	if found {
		out.Head = &headBody{Seq: head.Seq, Hash: head.Hash}
	}
	for i, e := range entries {
		data := e.Data
		if !json.Valid(data) {
			// A corrupted item: keep it visible as a string rather than fail the response.
			data, _ = json.Marshal(string(e.Data))
		}
		out.Entries[i] = entryBody{
			OrderID: e.OrderID, Seq: e.Seq, Type: e.Type, At: e.At.UTC().Format(TimeLayout),
			Data: data, PrevHash: e.PrevHash, Hash: e.Hash,
		}
	}
	return jsonUnescaped(http.StatusOK, out)
}

// jsonUnescaped is httpapi.JSON without HTML escaping, so that every entry's "data" is
// byte for byte its canonical form (encoding/json would turn "<" into "\u003c").
func jsonUnescaped(status int, v any) (httpapi.Response, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return httpapi.Response{}, fmt.Errorf("encode ledger response: %w", err)
	}
	resp := httpapi.JSON(status, struct{}{})
	resp.Body = strings.TrimSuffix(b.String(), "\n")
	return resp, nil
}

func notFound() *httpapi.Error {
	return httpapi.NewError(http.StatusNotFound, CodeOrderNotFound, "order not found")
}
