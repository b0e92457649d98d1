package inbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/etalase/etalase/shared/contract"
	"github.com/etalase/etalase/shared/social/commission"
	"github.com/etalase/etalase/shared/social/inbox"
	"github.com/etalase/etalase/shared/social/snapshot"
)

// fakes record what the handler asked for.
type fakeSnapshots struct {
	put    []snapshot.Snapshot
	stored map[string]int64
	err    error
}

func (f *fakeSnapshots) Put(_ context.Context, s snapshot.Snapshot) (bool, error) {
	if f.err != nil {
		return false, f.err
	}
	f.put = append(f.put, s)
	if f.stored == nil {
		f.stored = map[string]int64{}
	}
	if f.stored[s.ProductID] >= s.Version {
		return false, nil
	}
	f.stored[s.ProductID] = s.Version
	return true, nil
}

type fakePromotions struct{ ended []string }

func (f *fakePromotions) EndForProduct(_ context.Context, id string) (int, error) {
	f.ended = append(f.ended, id)
	return 1, nil
}

type fakeLedger struct {
	applied map[string]bool
	err     error
}

func (f *fakeLedger) apply(id string) error {
	if f.err != nil {
		return f.err
	}
	if f.applied[id] {
		return commission.ErrDuplicate
	}
	f.applied[id] = true
	return nil
}

func (f *fakeLedger) ApplyAttributed(_ context.Context, id string, _ contract.SaleAttributed) error {
	return f.apply(id)
}

func (f *fakeLedger) ApplyReversed(_ context.Context, id string, _ contract.SaleReversed) error {
	return f.apply(id)
}

func fixture(t *testing.T, name string) events.SQSEvent {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("../../../events/social/inbox", name))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.SQSEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

func batch(t *testing.T, names ...string) events.SQSEvent {
	var ev events.SQSEvent
	for _, n := range names {
		ev.Records = append(ev.Records, fixture(t, n).Records...)
	}
	return ev
}

func failures(resp events.SQSEventResponse) []string {
	var ids []string
	for _, f := range resp.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	return ids
}

func TestCatalogEvents(t *testing.T) {
	snaps, promos := &fakeSnapshots{}, &fakePromotions{}
	var logs bytes.Buffer
	h := inbox.NewHandler(snaps, promos, &fakeLedger{applied: map[string]bool{}}, slog.New(slog.NewJSONHandler(&logs, nil)))
	// Out of order: the update (v2) first, then the listing (v1), then the delisting (v3) twice.
	ev := batch(t, "product-updated.json", "product-listed.json", "product-delisted.json", "product-delisted.json")
	resp, err := h.Handle(context.Background(), ev)
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("Handle = %v, %v", resp, err)
	}
	if got := snaps.stored["p_rocsknolsez4jj42y44l7ga3ou"]; got != 3 {
		t.Errorf("stored version %d, want 3", got)
	}
	if len(snaps.put) != 4 || !snaps.put[0].Listed || snaps.put[2].Listed || snaps.put[2].InStock {
		t.Errorf("snapshots = %+v", snaps.put)
	}
	if diff := cmp.Diff([]string{"p_rocsknolsez4jj42y44l7ga3ou", "p_rocsknolsez4jj42y44l7ga3ou"}, promos.ended); diff != "" {
		t.Errorf("ended (every delisting, stale or not) (-want +got):\n%s", diff)
	}
	for _, want := range []string{`"outcome":"applied"`, `"outcome":"stale"`, `"eventId":"8a2d4c6e-1f3b-4a5c-9e7d-2b4f6a8c0e12"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %s", want)
		}
	}
}

func TestSaleEventsOnce(t *testing.T) {
	ledger := &fakeLedger{applied: map[string]bool{}}
	h := inbox.NewHandler(&fakeSnapshots{}, &fakePromotions{}, ledger, nil)
	resp, err := h.Handle(context.Background(), batch(t, "sales-out-of-order-duplicate.json", "sale-attributed.json", "sale-reversed.json"))
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("Handle = %v, %v", resp, err)
	}
	if len(ledger.applied) != 2 {
		t.Errorf("applied %v, want the two event ids", ledger.applied)
	}
}

// A message that cannot be applied is reported by its message id, and only it: the
// rest of the batch is applied.
func TestFailuresAreReported(t *testing.T) {
	unknownType := fixture(t, "product-listed.json").Records[0]
	unknownType.MessageId = "unknown-type"
	unknownType.Body = strings.Replace(unknownType.Body, `"type":"ProductListed"`, `"type":"ProductRecalled"`, 1)
	newVersion := fixture(t, "product-listed.json").Records[0]
	newVersion.MessageId = "new-version"
	newVersion.Body = strings.Replace(newVersion.Body, `"schemaVersion":1`, `"schemaVersion":2`, 1)
	badPayload := fixture(t, "product-listed.json").Records[0]
	badPayload.MessageId = "bad-payload"
	badPayload.Body = strings.Replace(badPayload.Body, `"version":1`, `"version":0`, 1)
	noID := fixture(t, "product-listed.json").Records[0]
	noID.MessageId = "no-event-id"
	noID.Body = strings.Replace(noID.Body, `"eventId":"3f1c2a9e-7b4d-4e6a-8c2f-1d9e0a7b5c31"`, `"eventId":""`, 1)

	ev := batch(t, "malformed.json", "product-listed.json")
	ev.Records = append(ev.Records, unknownType, newVersion, badPayload, noID)
	snaps := &fakeSnapshots{}
	h := inbox.NewHandler(snaps, &fakePromotions{}, &fakeLedger{applied: map[string]bool{}}, nil)
	resp, err := h.Handle(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{ev.Records[0].MessageId, "unknown-type", "new-version", "bad-payload", "no-event-id"}
	if diff := cmp.Diff(want, failures(resp)); diff != "" {
		t.Errorf("failures (-want +got):\n%s", diff)
	}
	if len(snaps.put) != 1 {
		t.Errorf("the good message was not applied: %+v", snaps.put)
	}

	_, _, err = h.Apply(context.Background(), []byte(ev.Records[2].Body))
	if !errors.Is(err, inbox.ErrUnsupported) {
		t.Errorf("unknown type: err = %v, want ErrUnsupported", err)
	}
	_, _, err = h.Apply(context.Background(), []byte("not json"))
	if !errors.Is(err, inbox.ErrMalformed) {
		t.Errorf("not json: err = %v, want ErrMalformed", err)
	}
}

// Transient store errors and ledger refusals fail the message (SQS retries, then the
// DLQ); a duplicate is a success.
func TestStoreErrorsFail(t *testing.T) {
	boom := errors.New("ProvisionedThroughputExceededException")
	h := inbox.NewHandler(&fakeSnapshots{err: boom}, &fakePromotions{}, &fakeLedger{err: commission.ErrUnknownPromotion}, nil)
	ev := batch(t, "product-listed.json", "sale-attributed.json")
	resp, _ := h.Handle(context.Background(), ev)
	if len(resp.BatchItemFailures) != 2 {
		t.Errorf("failures = %v, want both", failures(resp))
	}
	h = inbox.NewHandler(&fakeSnapshots{}, &fakePromotions{}, &fakeLedger{err: commission.ErrDuplicate}, nil)
	resp, _ = h.Handle(context.Background(), batch(t, "sale-reversed.json"))
	if len(resp.BatchItemFailures) != 0 {
		t.Errorf("a duplicate failed: %v", failures(resp))
	}
}
