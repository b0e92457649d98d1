package snapshot_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/google/go-cmp/cmp"

	"github.com/etalase/etalase/infra/localaccount"
	"github.com/etalase/etalase/infra/provision"
	"github.com/etalase/etalase/infra/samtemplate"
	"github.com/etalase/etalase/infra/testenv"
	"github.com/etalase/etalase/shared/contract"
	"github.com/etalase/etalase/shared/social/money"
	"github.com/etalase/etalase/shared/social/snapshot"
)

var at = time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)

func display(version int64) contract.ProductDisplay {
	return contract.ProductDisplay{
		ProductID: "p_rocsknolsez4jj42y44l7ga3ou", SellerID: "seller-1", Title: "Kopi", ImageURL: "/assets/kopi.jpg",
		Price: contract.Price{Amount: 85000, Currency: "IDR"}, InStock: true, Version: version,
	}
}

func TestFromEvent(t *testing.T) {
	s, err := snapshot.FromEvent(contract.EventProductUpdated, display(2), at)
	if err != nil {
		t.Fatal(err)
	}
	want := snapshot.Snapshot{
		ProductID: "p_rocsknolsez4jj42y44l7ga3ou", SellerID: "seller-1", Title: "Kopi", ImageURL: "/assets/kopi.jpg",
		Price: money.Money{Amount: 85000, Currency: "IDR"}, InStock: true, Listed: true, Version: 2, UpdatedAt: at,
	}
	if diff := cmp.Diff(want, s); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if !s.Available() {
		t.Error("a listed product in stock is not available")
	}
	d, err := snapshot.FromEvent(contract.EventProductDelisted, display(3), at)
	if err != nil {
		t.Fatal(err)
	}
	if d.Listed || d.InStock || d.Available() {
		t.Errorf("delisted snapshot = %+v", d)
	}
	for name, f := range map[string]func(*contract.ProductDisplay){
		"no id":          func(d *contract.ProductDisplay) { d.ProductID = "" },
		"no version":     func(d *contract.ProductDisplay) { d.Version = 0 },
		"negative price": func(d *contract.ProductDisplay) { d.Price.Amount = -1 },
		"bad currency":   func(d *contract.ProductDisplay) { d.Price.Currency = "idr" },
	} {
		d := display(1)
		f(&d)
		if _, err := snapshot.FromEvent(contract.EventProductListed, d, at); !errors.Is(err, snapshot.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
	if _, err := snapshot.FromEvent("SaleAttributed", display(1), at); !errors.Is(err, snapshot.ErrInvalid) {
		t.Errorf("non-catalog type: err = %v", err)
	}
}

func newStore(t *testing.T) *snapshot.DynamoStore {
	t.Helper()
	db := testenv.DynamoDB(t, localaccount.Social)
	tpl, err := samtemplate.Load("../../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	res, err := provision.Provision(context.Background(), provision.Options{
		Template: tpl, Account: localaccount.Social,
		Params: map[string]string{"JwtIssuer": "https://id.etalase.example", "JwtAudience": "etalase-social"},
		Prefix: testenv.Prefix(t), DynamoDB: db, SQS: testenv.SQS(t, localaccount.Social),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, tb := range res.Tables {
			_, _ = db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(tb.Name)})
		}
	})
	return snapshot.NewDynamoStore(db, res.Tables["SnapshotsTable"].Name)
}

// An older or equal version never overwrites a newer snapshot, whatever the order.
func TestDynamoVersionOrder(t *testing.T) {
	t.Parallel()
	store := newStore(t)
	ctx := context.Background()
	snap := func(v int64, title string) snapshot.Snapshot {
		d := display(v)
		d.Title = title
		s, err := snapshot.FromEvent(contract.EventProductUpdated, d, at.Add(time.Duration(v)*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if _, err := store.Get(ctx, "p_rocsknolsez4jj42y44l7ga3ou"); !errors.Is(err, snapshot.ErrNotFound) {
		t.Fatalf("Get before any event: err = %v", err)
	}
	steps := []struct {
		s         snapshot.Snapshot
		wantWrote bool
		wantTitle string
	}{
		{snap(3, "v3"), true, "v3"},
		{snap(1, "v1"), false, "v3"}, // older: dropped
		{snap(3, "v3 again"), false, "v3"},
		{snap(4, "v4"), true, "v4"},
		{snap(2, "v2"), false, "v4"},
	}
	for i, s := range steps {
		wrote, err := store.Put(ctx, s.s)
		if err != nil {
			t.Fatal(err)
		}
		got, err := store.Get(ctx, s.s.ProductID)
		if err != nil {
			t.Fatal(err)
		}
		if wrote != s.wantWrote || got.Title != s.wantTitle {
			t.Errorf("step %d (v%d): wrote %v, title %q; want %v, %q", i, s.s.Version, wrote, got.Title, s.wantWrote, s.wantTitle)
		}
	}
	got, _ := store.Get(ctx, "p_rocsknolsez4jj42y44l7ga3ou")
	if diff := cmp.Diff(snap(4, "v4"), got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	many, err := store.GetMany(ctx, []string{"p_rocsknolsez4jj42y44l7ga3ou", "p_missing", "p_rocsknolsez4jj42y44l7ga3ou", ""})
	if err != nil {
		t.Fatal(err)
	}
	if len(many) != 1 || many["p_rocsknolsez4jj42y44l7ga3ou"].Version != 4 {
		t.Errorf("GetMany = %+v", many)
	}
	if many, err := store.GetMany(ctx, nil); err != nil || len(many) != 0 {
		t.Errorf("GetMany(nil) = %v, %v", many, err)
	}
}
