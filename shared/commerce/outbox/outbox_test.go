package outbox_test

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"github.com/etalase/etalase/shared/commerce/outbox"
)

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestNew(t *testing.T) {
	ctx := outbox.WithCorrelationID(context.Background(), "req-1")
	now := time.Date(2026, 1, 2, 3, 4, 5, 600, time.FixedZone("WIB", 7*3600))
	r, err := outbox.New(ctx, "ProductListed", "p_1", 1, map[string]int{"version": 1}, now)
	if err != nil {
		t.Fatal(err)
	}
	if !uuidV4.MatchString(r.EventID) {
		t.Errorf("EventID %q is not a v4 UUID", r.EventID)
	}
	want := outbox.Record{
		EventID: r.EventID, EventType: "ProductListed", AggregateID: "p_1", SchemaVersion: 1,
		OccurredAt: now.UTC(), CorrelationID: "req-1", Payload: `{"version":1}`,
		ExpiresAt: now.UTC().Add(7 * 24 * time.Hour),
	}
	if diff := cmp.Diff(want, r); diff != "" {
		t.Errorf("record (-want +got):\n%s", diff)
	}
	r2, err := outbox.New(context.Background(), "ProductListed", "p_1", 1, nil, now)
	if err != nil {
		t.Fatal(err)
	}
	if r2.EventID == r.EventID {
		t.Error("two records share an event id")
	}
	if r2.CorrelationID != "" {
		t.Errorf("CorrelationID = %q without one in the context", r2.CorrelationID)
	}
}

func TestNewRejects(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	for name, f := range map[string]func() error{
		"no type":      func() error { _, err := outbox.New(ctx, "", "p", 1, nil, now); return err },
		"no aggregate": func() error { _, err := outbox.New(ctx, "T", "", 1, nil, now); return err },
		"no version":   func() error { _, err := outbox.New(ctx, "T", "p", 0, nil, now); return err },
		"bad payload":  func() error { _, err := outbox.New(ctx, "T", "p", 1, make(chan int), now); return err },
	} {
		if f() == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestTransactPutRoundTrip(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	r, err := outbox.New(outbox.WithCorrelationID(context.Background(), "c"), "ProductUpdated", "p_9", 1, struct {
		V int64 `json:"version"`
	}{7}, now)
	if err != nil {
		t.Fatal(err)
	}
	ti, err := r.TransactPut("outbox-table")
	if err != nil {
		t.Fatal(err)
	}
	if ti.Put == nil || *ti.Put.TableName != "outbox-table" || *ti.Put.ConditionExpression != "attribute_not_exists(eventId)" {
		t.Fatalf("TransactPut = %+v", ti.Put)
	}
	exp, ok := ti.Put.Item["expiresAt"].(*types.AttributeValueMemberN)
	if !ok || exp.Value != "1767927845" {
		t.Errorf("expiresAt = %#v, want N 1767927845 (epoch seconds, 7 days on)", ti.Put.Item["expiresAt"])
	}
	back, err := outbox.FromItem(ti.Put.Item)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(r, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}
