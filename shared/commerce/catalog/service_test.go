package catalog_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/etalase/etalase/shared/commerce/catalog"
	"github.com/etalase/etalase/shared/commerce/money"
	"github.com/etalase/etalase/shared/commerce/outbox"
	"github.com/etalase/etalase/shared/contract"
)

const (
	seller = "seller-a"
	other  = "seller-b"
)

// stepClock returns a clock that advances one second per call from 2026-01-01.
func stepClock() func() time.Time {
	var mu sync.Mutex
	t := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Second)
		return t
	}
}

func idr(a int64) money.Money { return money.Money{Amount: a, Currency: "IDR"} }

func validNew() catalog.NewProduct {
	return catalog.NewProduct{
		Title: "Kopi Gayo 250 g", Description: "Arabika", ImageURL: "https://cdn.example/kopi.jpg",
		Price: idr(85000), Stock: 10,
	}
}

func newService(t *testing.T, ps ...catalog.Product) (*catalog.Service, *memStore) {
	t.Helper()
	st := newMemStore(ps...)
	return catalog.NewService(st, catalog.WithClock(stepClock())), st
}

func mustCreate(t *testing.T, svc *catalog.Service, sellerID string, in catalog.NewProduct) catalog.Product {
	t.Helper()
	p, err := svc.Create(context.Background(), sellerID, in)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return p
}

// problemFields returns the fields of a *ValidationError, or fails.
func problemFields(t *testing.T, err error) []string {
	t.Helper()
	var ve *catalog.ValidationError
	if !errors.As(err, &ve) || !errors.Is(err, catalog.ErrInvalid) {
		t.Fatalf("err = %v, want *ValidationError", err)
	}
	var fields []string
	for _, p := range ve.Problems {
		if p.Message == "" {
			t.Errorf("problem of %q has no message", p.Field)
		}
		fields = append(fields, p.Field)
	}
	return fields
}

func TestCreateValidation(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(*catalog.NewProduct)
		fields []string // nil: valid
	}{
		{"valid", func(*catalog.NewProduct) {}, nil},
		{"root-relative image", func(n *catalog.NewProduct) { n.ImageURL = "/assets/kopi.jpg" }, nil},
		{"200 multibyte runes", func(n *catalog.NewProduct) { n.Title = strings.Repeat("咖", 200) }, nil},
		{"empty description", func(n *catalog.NewProduct) { n.Description = "" }, nil},
		{"description with newlines", func(n *catalog.NewProduct) { n.Description = "a\nb\r\n\tc" }, nil},
		{"zero stock", func(n *catalog.NewProduct) { n.Stock = 0 }, nil},
		{"max stock", func(n *catalog.NewProduct) { n.Stock = catalog.MaxStock }, nil},
		{"USD cents", func(n *catalog.NewProduct) { n.Price = money.Money{Amount: 1, Currency: "USD"} }, nil},
		{"empty title", func(n *catalog.NewProduct) { n.Title = "" }, []string{"title"}},
		{"blank title", func(n *catalog.NewProduct) { n.Title = " \t " }, []string{"title"}},
		{"201 runes", func(n *catalog.NewProduct) { n.Title = strings.Repeat("a", 201) }, []string{"title"}},
		{"title with newline", func(n *catalog.NewProduct) { n.Title = "a\nb" }, []string{"title"}},
		{"invalid utf-8", func(n *catalog.NewProduct) { n.Title = "a\xffb" }, []string{"title"}},
		{"description too long", func(n *catalog.NewProduct) { n.Description = strings.Repeat("x", 5001) }, []string{"description"}},
		{"description with NUL", func(n *catalog.NewProduct) { n.Description = "a\x00b" }, []string{"description"}},
		{"no image", func(n *catalog.NewProduct) { n.ImageURL = "" }, []string{"imageUrl"}},
		{"http image", func(n *catalog.NewProduct) { n.ImageURL = "http://cdn.example/k.jpg" }, []string{"imageUrl"}},
		{"javascript image", func(n *catalog.NewProduct) { n.ImageURL = "javascript:alert(1)" }, []string{"imageUrl"}},
		{"data image", func(n *catalog.NewProduct) { n.ImageURL = "data:image/png;base64,AAAA" }, []string{"imageUrl"}},
		{"protocol-relative image", func(n *catalog.NewProduct) { n.ImageURL = "//evil.example/k.jpg" }, []string{"imageUrl"}},
		{"relative path image", func(n *catalog.NewProduct) { n.ImageURL = "assets/k.jpg" }, []string{"imageUrl"}},
		{"https without host", func(n *catalog.NewProduct) { n.ImageURL = "https:///k.jpg" }, []string{"imageUrl"}},
		{"userinfo image", func(n *catalog.NewProduct) { n.ImageURL = "https://u:p@cdn.example/k.jpg" }, []string{"imageUrl"}},
		{"backslash image", func(n *catalog.NewProduct) { n.ImageURL = `/\evil.example/k.jpg` }, []string{"imageUrl"}},
		{"image too long", func(n *catalog.NewProduct) { n.ImageURL = "https://cdn.example/" + strings.Repeat("a", 2048) }, []string{"imageUrl"}},
		{"zero price", func(n *catalog.NewProduct) { n.Price = idr(0) }, []string{"price.amount"}},
		{"negative price", func(n *catalog.NewProduct) { n.Price = idr(-5) }, []string{"price.amount"}},
		{"huge price", func(n *catalog.NewProduct) { n.Price = idr(money.MaxAmount + 1) }, []string{"price.amount"}},
		{"unknown currency", func(n *catalog.NewProduct) { n.Price = money.Money{Amount: 1, Currency: "XYZ"} }, []string{"price.currency"}},
		{"lower-case currency", func(n *catalog.NewProduct) { n.Price = money.Money{Amount: 1, Currency: "idr"} }, []string{"price.currency"}},
		{"no price", func(n *catalog.NewProduct) { n.Price = money.Money{} }, []string{"price"}},
		{"negative stock", func(n *catalog.NewProduct) { n.Stock = -1 }, []string{"stock"}},
		{"stock too high", func(n *catalog.NewProduct) { n.Stock = catalog.MaxStock + 1 }, []string{"stock"}},
		{"every problem reported", func(n *catalog.NewProduct) {
			*n = catalog.NewProduct{Stock: -1, Price: money.Money{Amount: 0, Currency: "XYZ"}}
		}, []string{"title", "imageUrl", "price.currency", "price.amount", "stock"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, st := newService(t)
			in := validNew()
			tt.edit(&in)
			_, err := svc.Create(context.Background(), seller, in)
			if tt.fields == nil {
				if err != nil {
					t.Fatalf("Create: %v", err)
				}
				return
			}
			if diff := cmp.Diff(tt.fields, problemFields(t, err)); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
			if ps, evs := st.snapshot(); len(ps) != 0 || len(evs) != 0 || st.writes != 0 {
				t.Errorf("rejected create wrote %d products, %d events, %d writes", len(ps), len(evs), st.writes)
			}
		})
	}
}

// payload decodes an outbox record's payload as a product display snapshot.
func payload(t *testing.T, r outbox.Record) contract.ProductDisplay {
	t.Helper()
	var d contract.ProductDisplay
	dec := json.NewDecoder(strings.NewReader(r.Payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("payload %s: %v", r.Payload, err)
	}
	return d
}

func TestCreate(t *testing.T) {
	svc, st := newService(t)
	ctx := outbox.WithCorrelationID(context.Background(), "req-42")
	in := validNew()
	in.Title = "  Kopi Gayo 250 g  "
	p, err := svc.Create(ctx, seller, in)
	if err != nil {
		t.Fatal(err)
	}
	if !catalog.ValidProductID(p.ID) {
		t.Errorf("id %q is not a product id", p.ID)
	}
	want := catalog.Product{
		ID: p.ID, SellerID: seller, Title: "Kopi Gayo 250 g", Description: "Arabika",
		ImageURL: "https://cdn.example/kopi.jpg", Price: idr(85000), Stock: 10,
		Status: catalog.StatusListed, Version: 1, CreatedAt: p.CreatedAt, UpdatedAt: p.CreatedAt,
	}
	if diff := cmp.Diff(want, p); diff != "" {
		t.Errorf("product (-want +got):\n%s", diff)
	}
	ps, evs := st.snapshot()
	if diff := cmp.Diff(want, ps[p.ID]); diff != "" {
		t.Errorf("stored (-want +got):\n%s", diff)
	}
	if len(evs) != 1 {
		t.Fatalf("%d events, want 1", len(evs))
	}
	ev := evs[0]
	if ev.EventType != contract.EventProductListed || ev.AggregateID != p.ID || ev.SchemaVersion != 1 || ev.CorrelationID != "req-42" {
		t.Errorf("event = %v (correlation %q)", ev, ev.CorrelationID)
	}
	wantPayload := contract.ProductDisplay{
		ProductID: p.ID, SellerID: seller, Title: "Kopi Gayo 250 g", ImageURL: "https://cdn.example/kopi.jpg",
		Price: contract.Price{Amount: 85000, Currency: "IDR"}, InStock: true, Version: 1,
	}
	if diff := cmp.Diff(wantPayload, payload(t, ev)); diff != "" {
		t.Errorf("payload (-want +got):\n%s", diff)
	}
	if q, _ := svc.Create(ctx, seller, validNew()); q.ID == p.ID {
		t.Error("two products got the same id")
	}
}

func TestWrites(t *testing.T) {
	str := func(s string) *string { return &s }
	price := idr(99000)
	tests := []struct {
		name      string
		caller    string
		delisted  bool
		op        func(svc *catalog.Service, caller, id string) (catalog.Product, error)
		wantErr   error
		wantEvent string // "" with wantErr == nil: a no-op, nothing written
		check     func(t *testing.T, before, after catalog.Product)
	}{
		{
			name: "update title and price", caller: seller,
			op: func(svc *catalog.Service, c, id string) (catalog.Product, error) {
				return svc.Update(context.Background(), c, id, catalog.Changes{Title: str(" Kopi 500 g "), Price: &price})
			},
			wantEvent: contract.EventProductUpdated,
			check: func(t *testing.T, b, a catalog.Product) {
				if a.Title != "Kopi 500 g" || a.Price != price || a.Description != b.Description || a.ImageURL != b.ImageURL || a.Stock != b.Stock {
					t.Errorf("after update: %+v", a)
				}
			},
		},
		{
			name: "update to the same values is a no-op", caller: seller,
			op: func(svc *catalog.Service, c, id string) (catalog.Product, error) {
				return svc.Update(context.Background(), c, id, catalog.Changes{Title: str("Kopi Gayo 250 g")})
			},
		},
		{
			name: "update with no fields", caller: seller,
			op: func(svc *catalog.Service, c, id string) (catalog.Product, error) {
				return svc.Update(context.Background(), c, id, catalog.Changes{})
			},
			wantErr: catalog.ErrInvalid,
		},
		{
			name: "update with a bad field", caller: seller,
			op: func(svc *catalog.Service, c, id string) (catalog.Product, error) {
				return svc.Update(context.Background(), c, id, catalog.Changes{Title: str(""), ImageURL: str("ftp://x")})
			},
			wantErr: catalog.ErrInvalid,
		},
		{
			name: "update another seller's product", caller: other,
			op: func(svc *catalog.Service, c, id string) (catalog.Product, error) {
				return svc.Update(context.Background(), c, id, catalog.Changes{Title: str("mine")})
			},
			wantErr: catalog.ErrNotFound,
		},
		{
			name: "update a delisted product", caller: seller, delisted: true,
			op: func(svc *catalog.Service, c, id string) (catalog.Product, error) {
				return svc.Update(context.Background(), c, id, catalog.Changes{Title: str("again")})
			},
			wantErr: catalog.ErrDelisted,
		},
		{
			name: "set stock", caller: seller,
			op: func(svc *catalog.Service, c, id string) (catalog.Product, error) {
				return svc.SetStock(context.Background(), c, id, 0)
			},
			wantEvent: contract.EventProductUpdated,
			check: func(t *testing.T, _, a catalog.Product) {
				if a.Stock != 0 || a.InStock() {
					t.Errorf("after set stock 0: stock %d, inStock %v", a.Stock, a.InStock())
				}
			},
		},
		{
			name: "set the same stock is a no-op", caller: seller,
			op: func(svc *catalog.Service, c, id string) (catalog.Product, error) {
				return svc.SetStock(context.Background(), c, id, 10)
			},
		},
		{
			name: "set negative stock", caller: seller,
			op: func(svc *catalog.Service, c, id string) (catalog.Product, error) {
				return svc.SetStock(context.Background(), c, id, -1)
			},
			wantErr: catalog.ErrInvalid,
		},
		{
			name: "set stock of another seller's product", caller: other,
			op: func(svc *catalog.Service, c, id string) (catalog.Product, error) {
				return svc.SetStock(context.Background(), c, id, 5)
			},
			wantErr: catalog.ErrNotFound,
		},
		{
			name: "adjust stock down", caller: seller,
			op: func(svc *catalog.Service, c, id string) (catalog.Product, error) {
				return svc.AdjustStock(context.Background(), c, id, -10)
			},
			wantEvent: contract.EventProductUpdated,
			check: func(t *testing.T, _, a catalog.Product) {
				if a.Stock != 0 {
					t.Errorf("stock = %d, want 0", a.Stock)
				}
			},
		},
		{
			name: "adjust stock up", caller: seller,
			op: func(svc *catalog.Service, c, id string) (catalog.Product, error) {
				return svc.AdjustStock(context.Background(), c, id, 5)
			},
			wantEvent: contract.EventProductUpdated,
			check: func(t *testing.T, _, a catalog.Product) {
				if a.Stock != 15 {
					t.Errorf("stock = %d, want 15", a.Stock)
				}
			},
		},
		{
			name: "adjust stock below zero", caller: seller,
			op: func(svc *catalog.Service, c, id string) (catalog.Product, error) {
				return svc.AdjustStock(context.Background(), c, id, -11)
			},
			wantErr: catalog.ErrInsufficientStock,
		},
		{
			name: "adjust by zero", caller: seller,
			op: func(svc *catalog.Service, c, id string) (catalog.Product, error) {
				return svc.AdjustStock(context.Background(), c, id, 0)
			},
			wantErr: catalog.ErrInvalid,
		},
		{
			name: "adjust above max stock", caller: seller,
			op: func(svc *catalog.Service, c, id string) (catalog.Product, error) {
				return svc.AdjustStock(context.Background(), c, id, catalog.MaxStock)
			},
			wantErr: catalog.ErrInvalid,
		},
		{
			name: "adjust a delisted product", caller: seller, delisted: true,
			op: func(svc *catalog.Service, c, id string) (catalog.Product, error) {
				return svc.AdjustStock(context.Background(), c, id, 1)
			},
			wantErr: catalog.ErrDelisted,
		},
		{
			name: "adjust another seller's product", caller: other,
			op: func(svc *catalog.Service, c, id string) (catalog.Product, error) {
				return svc.AdjustStock(context.Background(), c, id, -1)
			},
			wantErr: catalog.ErrNotFound,
		},
		{
			name: "delist", caller: seller,
			op: func(svc *catalog.Service, c, id string) (catalog.Product, error) {
				return svc.Delist(context.Background(), c, id)
			},
			wantEvent: contract.EventProductDelisted,
			check: func(t *testing.T, _, a catalog.Product) {
				if a.Status != catalog.StatusDelisted || a.InStock() {
					t.Errorf("after delist: %s, inStock %v", a.Status, a.InStock())
				}
			},
		},
		{
			name: "delist a delisted product is a no-op", caller: seller, delisted: true,
			op: func(svc *catalog.Service, c, id string) (catalog.Product, error) {
				return svc.Delist(context.Background(), c, id)
			},
		},
		{
			name: "delist another seller's product", caller: other,
			op: func(svc *catalog.Service, c, id string) (catalog.Product, error) {
				return svc.Delist(context.Background(), c, id)
			},
			wantErr: catalog.ErrNotFound,
		},
		{
			name: "write to a malformed id", caller: seller,
			op: func(svc *catalog.Service, c, _ string) (catalog.Product, error) {
				return svc.Delist(context.Background(), c, "p_nope")
			},
			wantErr: catalog.ErrNotFound,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, st := newService(t)
			before := mustCreate(t, svc, seller, validNew())
			if tt.delisted {
				var err error
				if before, err = svc.Delist(context.Background(), seller, before.ID); err != nil {
					t.Fatal(err)
				}
			}
			_, eventsBefore := st.snapshot()
			got, err := tt.op(svc, tt.caller, before.ID)
			ps, evs := st.snapshot()
			after := ps[before.ID]
			newEvents := evs[len(eventsBefore):]
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if diff := cmp.Diff(before, after); diff != "" || len(newEvents) != 0 {
					t.Errorf("a rejected write changed the product (%s) or added %d events", diff, len(newEvents))
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if diff := cmp.Diff(after, got); diff != "" {
				t.Errorf("returned product differs from stored (-stored +returned):\n%s", diff)
			}
			if tt.wantEvent == "" {
				if diff := cmp.Diff(before, after); diff != "" || len(newEvents) != 0 {
					t.Errorf("a no-op changed the product (%s) or added %d events", diff, len(newEvents))
				}
				return
			}
			if after.Version != before.Version+1 || !after.UpdatedAt.After(before.UpdatedAt) || !after.CreatedAt.Equal(before.CreatedAt) {
				t.Errorf("version %d→%d, updatedAt %v→%v, createdAt %v→%v", before.Version, after.Version,
					before.UpdatedAt, after.UpdatedAt, before.CreatedAt, after.CreatedAt)
			}
			if len(newEvents) != 1 {
				t.Fatalf("%d events, want 1", len(newEvents))
			}
			if newEvents[0].EventType != tt.wantEvent || newEvents[0].AggregateID != after.ID {
				t.Errorf("event %v, want %s", newEvents[0], tt.wantEvent)
			}
			d := payload(t, newEvents[0])
			if d.Version != after.Version || d.InStock != after.InStock() || d.Title != after.Title || d.Price.Amount != after.Price.Amount {
				t.Errorf("payload %+v does not describe %+v", d, after)
			}
			if tt.check != nil {
				tt.check(t, before, after)
			}
		})
	}
}

func TestWriteRetriesLostRaces(t *testing.T) {
	svc, st := newService(t)
	p := mustCreate(t, svc, seller, validNew())
	st.conflicts = 3
	got, err := svc.AdjustStock(context.Background(), seller, p.ID, -1)
	if err != nil {
		t.Fatalf("AdjustStock after 3 lost races: %v", err)
	}
	if got.Stock != 9 || got.Version != 2 {
		t.Errorf("got stock %d version %d, want 9 and 2", got.Stock, got.Version)
	}
	if _, evs := st.snapshot(); len(evs) != 2 {
		t.Errorf("%d events, want 2 (create + one adjustment)", len(evs))
	}

	svc = catalog.NewService(st, catalog.WithMaxAttempts(2))
	st.conflicts = 2
	_, err = svc.SetStock(context.Background(), seller, p.ID, 3)
	if !errors.Is(err, catalog.ErrConflict) {
		t.Errorf("err = %v after the retries ran out, want ErrConflict", err)
	}
	if _, evs := st.snapshot(); len(evs) != 2 {
		t.Errorf("%d events after a failed write, want 2", len(evs))
	}
}

func TestConcurrentAdjustmentsNeverOverdraw(t *testing.T) {
	svc, st := newService(t)
	p := mustCreate(t, svc, seller, validNew()) // stock 10
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			_, err := svc.AdjustStock(context.Background(), seller, p.ID, -1)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	ok, short := 0, 0
	for err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, catalog.ErrInsufficientStock):
			short++
		default:
			t.Errorf("unexpected error %v", err)
		}
	}
	ps, evs := st.snapshot()
	if ok != 10 || short != 10 || ps[p.ID].Stock != 0 || len(evs) != 11 {
		t.Errorf("%d ok, %d insufficient, stock %d, %d events; want 10, 10, 0, 11", ok, short, ps[p.ID].Stock, len(evs))
	}
}

func TestGet(t *testing.T) {
	svc, _ := newService(t)
	p := mustCreate(t, svc, seller, validNew())
	got, err := svc.Get(context.Background(), p.ID)
	if err != nil || got.ID != p.ID {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	if _, err := svc.Delist(context.Background(), seller, p.ID); err != nil {
		t.Fatal(err)
	}
	got, err = svc.Get(context.Background(), p.ID)
	if err != nil || got.Status != catalog.StatusDelisted || got.InStock() {
		t.Errorf("Get delisted = %+v, %v; want it, marked delisted", got, err)
	}
	for _, id := range []string{"", "p_", "P_ROCSKNOLSEZ4JJ42Y44L7GA3OU", "p_rocsknolsez4jj42y44l7ga3o1", "p_aaaaaaaaaaaaaaaaaaaaaaaaaa"} {
		if _, err := svc.Get(context.Background(), id); !errors.Is(err, catalog.ErrNotFound) {
			t.Errorf("Get(%q) err = %v, want ErrNotFound", id, err)
		}
	}
}

func TestListBySeller(t *testing.T) {
	svc, _ := newService(t)
	var mine []catalog.Product
	for range 5 {
		mine = append(mine, mustCreate(t, svc, seller, validNew()))
		mustCreate(t, svc, other, validNew())
	}
	var got []string
	cursor, pages := "", 0
	for {
		page, err := svc.ListBySeller(context.Background(), seller, 2, cursor)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, p := range page.Products {
			got = append(got, p.ID)
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
	}
	want := []string{mine[4].ID, mine[3].ID, mine[2].ID, mine[1].ID, mine[0].ID}
	if diff := cmp.Diff(want, got); diff != "" || pages != 3 {
		t.Errorf("%d pages; ids (-want +got):\n%s", pages, diff)
	}

	page, err := svc.ListBySeller(context.Background(), seller, 0, "")
	if err != nil || len(page.Products) != 5 || page.NextCursor != "" {
		t.Errorf("default limit: %d products, cursor %q, %v", len(page.Products), page.NextCursor, err)
	}
	for _, tt := range []struct {
		limit  int
		cursor string
		field  string
	}{
		{-1, "", "limit"}, {catalog.MaxPageSize + 1, "", "limit"},
		{10, "not-base64!", "cursor"}, {10, "e30", "cursor"}, {10, strings.Repeat("A", 600), "cursor"},
	} {
		_, err := svc.ListBySeller(context.Background(), seller, tt.limit, tt.cursor)
		if diff := cmp.Diff([]string{tt.field}, problemFields(t, err)); diff != "" {
			t.Errorf("limit %d cursor %q: (-want +got)\n%s", tt.limit, tt.cursor, diff)
		}
	}
}
