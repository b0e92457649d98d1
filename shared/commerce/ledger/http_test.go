package ledger_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/etalase/etalase/shared/commerce/ledger"
	"github.com/etalase/etalase/shared/platform/httpapi"
)

const fixtureOrder = "o_abcdefghijklmnopqrstuvwxyz"

// fixture loads an API Gateway HTTP API v2 event from testdata.
func fixture(t *testing.T, name string) httpapi.Request {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var req httpapi.Request
	if err := json.Unmarshal(data, &req); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return req
}

// fakeReader serves one order's ledger from memory.
type fakeReader struct {
	entries map[string][]ledger.Entry
	heads   map[string]ledger.Head
	err     error
}

func (f *fakeReader) Read(_ context.Context, id string) ([]ledger.Entry, error) {
	return f.entries[id], f.err
}

func (f *fakeReader) Head(_ context.Context, id string) (ledger.Head, error) {
	if f.err != nil {
		return ledger.Head{}, f.err
	}
	h, ok := f.heads[id]
	if !ok {
		return ledger.Head{}, ledger.ErrOrderNotFound
	}
	return h, nil
}

// orderChain builds a small realistic ledger for fixtureOrder.
func orderChain(t *testing.T) []ledger.Entry {
	t.Helper()
	es := chain(t, 3)
	var head ledger.Head
	for i := range es {
		data := map[string]any{"step": i, "html": "<script>&</script>", "amount": 150000}
		e, err := ledger.Next(head, fixtureOrder, es[i].Type, es[i].At, data)
		if err != nil {
			t.Fatal(err)
		}
		es[i], head = e, e.Head()
	}
	return es
}

// serve runs req through a router that has the handler on its route, as the function will.
func serve(t *testing.T, r ledger.Reader, req httpapi.Request) httpapi.Response {
	t.Helper()
	router := httpapi.NewRouter(slog.New(slog.DiscardHandler))
	router.Route(ledger.RouteAuditLedger, ledger.NewAuditHandler(r).ServeLedger)
	resp, err := router.Handle(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

type auditResponse struct {
	OrderID   string `json:"orderId"`
	Algorithm string `json:"algorithm"`
	Head      *struct {
		Seq  int64  `json:"seq"`
		Hash string `json:"hash"`
	} `json:"head"`
	Entries []struct {
		OrderID  string          `json:"orderId"`
		Seq      int64           `json:"seq"`
		Type     string          `json:"type"`
		At       string          `json:"at"`
		Data     json.RawMessage `json:"data"`
		PrevHash string          `json:"prevHash"`
		Hash     string          `json:"hash"`
	} `json:"entries"`
	Verification struct {
		OK          bool   `json:"ok"`
		Entries     int    `json:"entries"`
		FirstBadSeq int64  `json:"firstBadSeq"`
		Reason      string `json:"reason"`
	} `json:"verification"`
}

func decode(t *testing.T, resp httpapi.Response) auditResponse {
	t.Helper()
	var out auditResponse
	dec := json.NewDecoder(strings.NewReader(resp.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		t.Fatalf("body %s: %v", resp.Body, err)
	}
	return out
}

// auditorHash recomputes an entry's hash from the response alone, as an auditor
// would without this package: Go's encoder with sorted map keys and no HTML escaping
// is RFC 8785 for the ASCII keys and the data used here.
func auditorHash(t *testing.T, prevHash, at, orderID string, seq int64, typ string, data json.RawMessage) string {
	t.Helper()
	var d map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&d); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(map[string]any{"at": at, "data": d, "orderId": orderID, "prevHash": prevHash, "seq": json.Number(strconv.FormatInt(seq, 10)), "type": typ}); err != nil {
		t.Fatal(err)
	}
	prev, err := hex.DecodeString(prevHash)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(append(prev, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...))
	return hex.EncodeToString(sum[:])
}

func TestAuditHandler(t *testing.T) {
	es := orderChain(t)
	reader := &fakeReader{
		entries: map[string][]ledger.Entry{fixtureOrder: es},
		heads:   map[string]ledger.Head{fixtureOrder: es[2].Head()},
	}
	resp := serve(t, reader, fixture(t, "audit-ledger.json"))
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
	}
	if resp.Headers["Content-Type"] != httpapi.ContentTypeJSON || resp.Headers["Cache-Control"] != "no-store" {
		t.Errorf("headers = %v", resp.Headers)
	}
	out := decode(t, resp)
	if out.OrderID != fixtureOrder || out.Algorithm != ledger.Algorithm || out.Head == nil || out.Head.Seq != 3 || out.Head.Hash != es[2].Hash {
		t.Errorf("response = %+v", out)
	}
	if !out.Verification.OK || out.Verification.Entries != 3 || out.Verification.FirstBadSeq != 0 || out.Verification.Reason != "" {
		t.Errorf("verification = %+v", out.Verification)
	}
	if len(out.Entries) != 3 {
		t.Fatalf("%d entries", len(out.Entries))
	}
	prev := ledger.GenesisHash
	for i, e := range out.Entries {
		if string(e.Data) != string(es[i].Data) {
			t.Errorf("entry %d data = %s, want the canonical bytes %s verbatim", i+1, e.Data, es[i].Data)
		}
		if e.PrevHash != prev {
			t.Errorf("entry %d prevHash = %s, want %s", i+1, e.PrevHash, prev)
		}
		if got := auditorHash(t, e.PrevHash, e.At, e.OrderID, e.Seq, e.Type, e.Data); got != e.Hash {
			t.Errorf("entry %d: an auditor computes %s, the ledger says %s", i+1, got, e.Hash)
		}
		prev = e.Hash
	}
}

func TestAuditHandlerReportsTampering(t *testing.T) {
	es := orderChain(t)
	es[1].Data = json.RawMessage(`{"amount":1,"html":"<script>&</script>","step":1}`)
	reader := &fakeReader{
		entries: map[string][]ledger.Entry{fixtureOrder: es},
		heads:   map[string]ledger.Head{fixtureOrder: es[2].Head()},
	}
	resp := serve(t, reader, fixture(t, "audit-ledger.json"))
	out := decode(t, resp)
	if resp.StatusCode != 200 || out.Verification.OK || out.Verification.FirstBadSeq != 2 || out.Verification.Reason == "" {
		t.Errorf("status %d, verification %+v; want 200 with the break at seq 2", resp.StatusCode, out.Verification)
	}
	// The tail removed: still a valid chain, but not the order's head.
	reader.entries[fixtureOrder] = orderChain(t)[:2]
	out = decode(t, serve(t, reader, fixture(t, "audit-ledger.json")))
	if out.Verification.OK || out.Verification.FirstBadSeq != 3 || !strings.Contains(out.Verification.Reason, "truncated") {
		t.Errorf("truncated ledger: verification %+v", out.Verification)
	}
}

func TestAuditHandlerErrors(t *testing.T) {
	es := orderChain(t)
	reader := &fakeReader{
		entries: map[string][]ledger.Entry{fixtureOrder: es},
		heads:   map[string]ledger.Head{fixtureOrder: es[2].Head()},
	}
	tests := []struct {
		name       string
		reader     ledger.Reader
		edit       func(*httpapi.Request)
		wantStatus int
		wantCode   string
	}{
		{"buyer token", reader, func(r *httpapi.Request) {
			r.RequestContext.Authorizer.JWT.Scopes = []string{"buyer"}
		}, 403, httpapi.CodeForbidden},
		{"no subject", reader, func(r *httpapi.Request) {
			delete(r.RequestContext.Authorizer.JWT.Claims, "sub")
		}, 401, httpapi.CodeUnauthenticated},
		{"no authorizer", reader, func(r *httpapi.Request) { r.RequestContext.Authorizer = nil }, 401, httpapi.CodeUnauthenticated},
		{"unknown order", reader, func(r *httpapi.Request) {
			r.PathParameters["orderId"] = "o_zzzzzzzzzzzzzzzzzzzzzzzzzz"
		}, 404, ledger.CodeOrderNotFound},
		{"malformed id", reader, func(r *httpapi.Request) { r.PathParameters["orderId"] = "o_x/../y" }, 404, ledger.CodeOrderNotFound},
		{"store failure", &fakeReader{err: errors.New("dynamodb: secret internal detail")}, nil, 500, httpapi.CodeInternal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := fixture(t, "audit-ledger.json")
			if tt.edit != nil {
				tt.edit(&req)
			}
			resp := serve(t, tt.reader, req)
			var env struct {
				Error struct{ Code, Message string } `json:"error"`
			}
			if err := json.Unmarshal([]byte(resp.Body), &env); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.wantStatus || env.Error.Code != tt.wantCode {
				t.Errorf("got %d %s, want %d %s", resp.StatusCode, resp.Body, tt.wantStatus, tt.wantCode)
			}
			if strings.Contains(resp.Body, "secret") {
				t.Errorf("internal detail leaked: %s", resp.Body)
			}
		})
	}
}
