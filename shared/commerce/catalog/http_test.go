package catalog_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/etalase/etalase/shared/commerce/catalog"
	"github.com/etalase/etalase/shared/commerce/outbox"
	"github.com/etalase/etalase/shared/platform/httpapi"
)

// The fixtures' product and seller (the token's sub).
const (
	fixtureProduct = "p_rocsknolsez4jj42y44l7ga3ou"
	fixtureSeller  = "5b0e8f3c-2d1a-4c9e-9f7b-1a2b3c4d5e6f"
)

// event loads an API Gateway HTTP API v2 fixture from events/commerce/catalog.
func event(t *testing.T, name string) httpapi.Request {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "..", "events", "commerce", "catalog", name))
	if err != nil {
		t.Fatal(err)
	}
	var req httpapi.Request
	if err := json.Unmarshal(data, &req); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return req
}

// seeded is the fixtures' product as stored before each handler test.
func seeded() catalog.Product {
	at := time.Date(2025, 12, 30, 8, 0, 0, 0, time.UTC)
	return catalog.Product{
		ID: fixtureProduct, SellerID: fixtureSeller, Title: "Kopi Arabika Gayo 250 g",
		Description: "Biji kopi sangrai.", ImageURL: "/assets/kopi-gayo.jpg", Price: idr(85000),
		Stock: 10, Status: catalog.StatusListed, Version: 4, CreatedAt: at, UpdatedAt: at,
	}
}

// wireProduct mirrors the documented product JSON, strictly.
type wireProduct struct {
	ProductID   string `json:"productId"`
	SellerID    string `json:"sellerId"`
	Title       string `json:"title"`
	Description string `json:"description"`
	ImageURL    string `json:"imageUrl"`
	Price       struct {
		Amount   int64  `json:"amount"`
		Currency string `json:"currency"`
	} `json:"price"`
	Stock     int64     `json:"stock"`
	InStock   bool      `json:"inStock"`
	Status    string    `json:"status"`
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

type wireList struct {
	Items      []wireProduct `json:"items"`
	NextCursor string        `json:"nextCursor"`
}

type wireError struct {
	Error struct {
		Code    string               `json:"code"`
		Message string               `json:"message"`
		Details []httpapi.FieldError `json:"details"`
	} `json:"error"`
}

func strictDecode(t *testing.T, body string, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("response body %s: %v", body, err)
	}
}

func setBody(req *httpapi.Request, body string) {
	req.Body = body
	req.IsBase64Encoded = false
}

func asOther(req *httpapi.Request) {
	req.RequestContext.Authorizer.JWT.Claims["sub"] = "someone-else"
}

func TestHandler(t *testing.T) {
	tests := []struct {
		name       string
		fixture    string
		edit       func(*httpapi.Request)
		before     func(t *testing.T, svc *catalog.Service) // extra setup
		wantStatus int
		wantCode   string   // error code, or "" for success
		wantFields []string // validation_failed detail fields
		wantWrite  string   // event type of the one expected outbox record; "" for none
		check      func(t *testing.T, resp httpapi.Response, st *memStore)
	}{
		{
			name: "create", fixture: "create-product.json", wantStatus: 201, wantWrite: "ProductListed",
			check: func(t *testing.T, resp httpapi.Response, st *memStore) {
				var p wireProduct
				strictDecode(t, resp.Body, &p)
				if !catalog.ValidProductID(p.ProductID) || p.SellerID != fixtureSeller || p.Title != "Kopi Arabika Gayo 250 g" ||
					p.Price.Amount != 85000 || p.Price.Currency != "IDR" || p.Stock != 40 || !p.InStock ||
					p.Status != "LISTED" || p.Version != 1 || p.CreatedAt.IsZero() {
					t.Errorf("created %+v", p)
				}
				if got := resp.Headers["Location"]; got != "/commerce/v1/products/"+p.ProductID {
					t.Errorf("Location = %q", got)
				}
				if ps, _ := st.snapshot(); ps[p.ProductID].Stock != 40 {
					t.Errorf("not stored: %+v", ps[p.ProductID])
				}
			},
		},
		{
			name: "create with a base64 body", fixture: "create-product.json", wantStatus: 201, wantWrite: "ProductListed",
			edit: func(r *httpapi.Request) {
				r.Body = base64.StdEncoding.EncodeToString([]byte(r.Body))
				r.IsBase64Encoded = true
			},
		},
		{
			name: "create without a token", fixture: "create-product.json", wantStatus: 401, wantCode: "unauthenticated",
			edit: func(r *httpapi.Request) { r.RequestContext.Authorizer = nil },
		},
		{
			name: "create without the seller scope", fixture: "create-product.json", wantStatus: 403, wantCode: "forbidden",
			edit: func(r *httpapi.Request) { r.RequestContext.Authorizer.JWT.Scopes = []string{"openid", "buyer"} },
		},
		{
			name: "create with broken JSON", fixture: "create-product.json", wantStatus: 400, wantCode: "invalid_json",
			edit: func(r *httpapi.Request) { setBody(r, `{"title":"Kopi",`) },
		},
		{
			name: "create with an unknown field", fixture: "create-product.json", wantStatus: 400, wantCode: "invalid_body",
			edit: func(r *httpapi.Request) { setBody(r, strings.Replace(r.Body, `"stock"`, `"sellerId":"x","stock"`, 1)) },
		},
		{
			name: "create with a float price", fixture: "create-product.json", wantStatus: 400, wantCode: "invalid_body",
			edit: func(r *httpapi.Request) { setBody(r, strings.Replace(r.Body, `85000`, `850.5`, 1)) },
		},
		{
			name: "create with invalid fields", fixture: "create-product.json", wantStatus: 400, wantCode: "validation_failed",
			edit: func(r *httpapi.Request) {
				setBody(r, `{"title":"","imageUrl":"http://x.example/a.jpg","price":{"amount":0,"currency":"IDR"},"stock":-1}`)
			},
			wantFields: []string{"title", "imageUrl", "price.amount", "stock"},
		},
		{
			name: "create without a price", fixture: "create-product.json", wantStatus: 400, wantCode: "validation_failed",
			edit:       func(r *httpapi.Request) { setBody(r, `{"title":"Teh","imageUrl":"/assets/teh.jpg"}`) },
			wantFields: []string{"price"},
		},
		{
			name: "create with an oversized body", fixture: "create-product.json", wantStatus: 413, wantCode: "body_too_large",
			edit: func(r *httpapi.Request) {
				setBody(r, `{"title":"x","description":"`+strings.Repeat("a", 70<<10)+`"}`)
			},
		},
		{
			name: "create with a form body", fixture: "create-product.json", wantStatus: 415, wantCode: "unsupported_media_type",
			edit: func(r *httpapi.Request) { r.Headers["content-type"] = "application/x-www-form-urlencoded" },
		},
		{
			name: "get", fixture: "get-product.json", wantStatus: 200,
			check: func(t *testing.T, resp httpapi.Response, _ *memStore) {
				var p wireProduct
				strictDecode(t, resp.Body, &p)
				want := seeded()
				if p.ProductID != want.ID || p.Version != want.Version || p.Stock != 10 || !p.InStock || p.Status != "LISTED" ||
					!p.CreatedAt.Equal(want.CreatedAt) || p.ImageURL != want.ImageURL {
					t.Errorf("got %+v", p)
				}
			},
		},
		{
			name: "get an unknown product", fixture: "get-product.json", wantStatus: 404, wantCode: "product_not_found",
			edit: func(r *httpapi.Request) { r.PathParameters["productId"] = "p_aaaaaaaaaaaaaaaaaaaaaaaaaa" },
		},
		{
			name: "get a malformed id", fixture: "get-product.json", wantStatus: 404, wantCode: "product_not_found",
			edit: func(r *httpapi.Request) { r.PathParameters["productId"] = "../etc/passwd" },
		},
		{
			name: "get a delisted product", fixture: "get-product.json", wantStatus: 200,
			before: func(t *testing.T, svc *catalog.Service) {
				if _, err := svc.Delist(context.Background(), fixtureSeller, fixtureProduct); err != nil {
					t.Fatal(err)
				}
			},
			check: func(t *testing.T, resp httpapi.Response, _ *memStore) {
				var p wireProduct
				strictDecode(t, resp.Body, &p)
				if p.Status != "DELISTED" || p.InStock {
					t.Errorf("got status %s inStock %v", p.Status, p.InStock)
				}
			},
		},
		{
			name: "update", fixture: "update-product.json", wantStatus: 200, wantWrite: "ProductUpdated",
			check: func(t *testing.T, resp httpapi.Response, _ *memStore) {
				var p wireProduct
				strictDecode(t, resp.Body, &p)
				if p.Title != "Kopi Arabika Gayo 500 g" || p.Price.Amount != 160000 || p.Version != 5 || p.Description != "Biji kopi sangrai." {
					t.Errorf("got %+v", p)
				}
			},
		},
		{
			name: "update another seller's product", fixture: "update-product.json", edit: asOther,
			wantStatus: 404, wantCode: "product_not_found",
		},
		{
			name: "update with nothing", fixture: "update-product.json", wantStatus: 400, wantCode: "validation_failed",
			edit: func(r *httpapi.Request) { setBody(r, `{}`) }, wantFields: []string{""},
		},
		{
			name: "update with a bad currency", fixture: "update-product.json", wantStatus: 400, wantCode: "validation_failed",
			edit:       func(r *httpapi.Request) { setBody(r, `{"price":{"amount":100,"currency":"BTC"}}`) },
			wantFields: []string{"price.currency"},
		},
		{
			name: "update a delisted product", fixture: "update-product.json", wantStatus: 409, wantCode: "product_delisted",
			before: func(t *testing.T, svc *catalog.Service) {
				if _, err := svc.Delist(context.Background(), fixtureSeller, fixtureProduct); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name: "set stock", fixture: "set-stock.json", wantStatus: 200, wantWrite: "ProductUpdated",
			check: func(t *testing.T, resp httpapi.Response, _ *memStore) {
				var p wireProduct
				strictDecode(t, resp.Body, &p)
				if p.Stock != 25 || p.Version != 5 {
					t.Errorf("got %+v", p)
				}
			},
		},
		{
			name: "set stock without stock", fixture: "set-stock.json", wantStatus: 400, wantCode: "validation_failed",
			edit: func(r *httpapi.Request) { setBody(r, `{}`) }, wantFields: []string{"stock"},
		},
		{
			name: "set negative stock", fixture: "set-stock.json", wantStatus: 400, wantCode: "validation_failed",
			edit: func(r *httpapi.Request) { setBody(r, `{"stock":-4}`) }, wantFields: []string{"stock"},
		},
		{
			name: "set stock as a string", fixture: "set-stock.json", wantStatus: 400, wantCode: "invalid_body",
			edit: func(r *httpapi.Request) { setBody(r, `{"stock":"4"}`) },
		},
		{
			name: "set stock of another seller's product", fixture: "set-stock.json", edit: asOther,
			wantStatus: 404, wantCode: "product_not_found",
		},
		{
			name: "adjust stock", fixture: "adjust-stock.json", wantStatus: 200, wantWrite: "ProductUpdated",
			check: func(t *testing.T, resp httpapi.Response, _ *memStore) {
				var p wireProduct
				strictDecode(t, resp.Body, &p)
				if p.Stock != 7 || p.Version != 5 {
					t.Errorf("got %+v", p)
				}
			},
		},
		{
			name: "adjust stock below zero", fixture: "adjust-stock.json", wantStatus: 409, wantCode: "insufficient_stock",
			edit: func(r *httpapi.Request) { setBody(r, `{"delta":-11}`) },
		},
		{
			name: "adjust stock without delta", fixture: "adjust-stock.json", wantStatus: 400, wantCode: "validation_failed",
			edit: func(r *httpapi.Request) { setBody(r, `{}`) }, wantFields: []string{"delta"},
		},
		{
			name: "adjust stock by zero", fixture: "adjust-stock.json", wantStatus: 400, wantCode: "validation_failed",
			edit: func(r *httpapi.Request) { setBody(r, `{"delta":0}`) }, wantFields: []string{"delta"},
		},
		{
			name: "adjust stock of another seller's product", fixture: "adjust-stock.json", edit: asOther,
			wantStatus: 404, wantCode: "product_not_found",
		},
		{
			name: "delist", fixture: "delist-product.json", wantStatus: 200, wantWrite: "ProductDelisted",
			check: func(t *testing.T, resp httpapi.Response, _ *memStore) {
				var p wireProduct
				strictDecode(t, resp.Body, &p)
				if p.Status != "DELISTED" || p.InStock || p.Version != 5 {
					t.Errorf("got %+v", p)
				}
			},
		},
		{
			name: "delist twice", fixture: "delist-product.json", wantStatus: 200,
			before: func(t *testing.T, svc *catalog.Service) {
				if _, err := svc.Delist(context.Background(), fixtureSeller, fixtureProduct); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name: "delist another seller's product", fixture: "delist-product.json", edit: asOther,
			wantStatus: 404, wantCode: "product_not_found",
		},
		{
			name: "list", fixture: "list-seller-products.json", wantStatus: 200,
			before: func(t *testing.T, svc *catalog.Service) {
				for range 2 {
					mustCreate(t, svc, fixtureSeller, validNew())
				}
				mustCreate(t, svc, other, validNew())
			},
			check: func(t *testing.T, resp httpapi.Response, _ *memStore) {
				var l wireList
				strictDecode(t, resp.Body, &l)
				if len(l.Items) != 2 || l.NextCursor == "" {
					t.Fatalf("got %d items, cursor %q; want 2 and a cursor", len(l.Items), l.NextCursor)
				}
				for _, p := range l.Items {
					if p.SellerID != fixtureSeller {
						t.Errorf("listed another seller's product %+v", p)
					}
				}
			},
		},
		{
			name: "list with no products", fixture: "list-seller-products.json", wantStatus: 200, edit: asOther,
			check: func(t *testing.T, resp httpapi.Response, _ *memStore) {
				if resp.Body != `{"items":[]}` {
					t.Errorf("body = %s", resp.Body)
				}
			},
		},
		{
			name: "list with a bad limit", fixture: "list-seller-products.json", wantStatus: 400, wantCode: "validation_failed",
			edit: func(r *httpapi.Request) { r.QueryStringParameters["limit"] = "1000" }, wantFields: []string{"limit"},
		},
		{
			name: "list with a non-numeric limit", fixture: "list-seller-products.json", wantStatus: 400, wantCode: "validation_failed",
			edit: func(r *httpapi.Request) { r.QueryStringParameters["limit"] = "ten" }, wantFields: []string{"limit"},
		},
		{
			name: "list with a forged cursor", fixture: "list-seller-products.json", wantStatus: 400, wantCode: "validation_failed",
			edit: func(r *httpapi.Request) { r.QueryStringParameters["cursor"] = "eyJ4IjoxfQ" }, wantFields: []string{"cursor"},
		},
		{
			name: "list without the seller scope", fixture: "list-seller-products.json", wantStatus: 403, wantCode: "forbidden",
			edit: func(r *httpapi.Request) {
				r.RequestContext.Authorizer.JWT.Scopes = nil
				r.RequestContext.Authorizer.JWT.Claims["scope"] = "openid"
			},
		},
		{
			name: "unknown route", fixture: "get-product.json", wantStatus: 404, wantCode: "route_not_found",
			edit: func(r *httpapi.Request) { r.RouteKey = "GET /commerce/v1/products" },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newMemStore(seeded())
			svc := catalog.NewService(st, catalog.WithClock(stepClock()))
			if tt.before != nil {
				tt.before(t, svc)
			}
			productsBefore, eventsBefore := st.snapshot()
			req := event(t, tt.fixture)
			if tt.edit != nil {
				tt.edit(&req)
			}
			h := catalog.NewHandler(svc, slog.New(slog.DiscardHandler))
			resp, err := h.Handle(context.Background(), req)
			if err != nil {
				t.Fatalf("Handle returned an error: %v", err)
			}
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", resp.StatusCode, tt.wantStatus, resp.Body)
			}
			if ct := resp.Headers["Content-Type"]; ct != httpapi.ContentTypeJSON {
				t.Errorf("Content-Type = %q", ct)
			}
			productsAfter, eventsAfter := st.snapshot()
			newEvents := eventsAfter[len(eventsBefore):]
			if tt.wantCode != "" {
				var e wireError
				strictDecode(t, resp.Body, &e)
				if e.Error.Code != tt.wantCode || e.Error.Message == "" {
					t.Errorf("error = %+v, want code %s", e.Error, tt.wantCode)
				}
				if tt.wantFields != nil {
					var fields []string
					for _, d := range e.Error.Details {
						fields = append(fields, d.Field)
					}
					if diff := cmp.Diff(tt.wantFields, fields); diff != "" {
						t.Errorf("detail fields (-want +got):\n%s", diff)
					}
				}
			}
			if tt.wantWrite == "" {
				if diff := cmp.Diff(productsBefore, productsAfter); diff != "" || len(newEvents) != 0 {
					t.Errorf("request wrote: %d events, products (-before +after):\n%s", len(newEvents), diff)
				}
			} else {
				if len(newEvents) != 1 || newEvents[0].EventType != tt.wantWrite {
					t.Fatalf("events %v, want one %s", newEvents, tt.wantWrite)
				}
				if got := newEvents[0].CorrelationID; got != req.RequestContext.RequestID {
					t.Errorf("correlation id = %q, want the request id %q", got, req.RequestContext.RequestID)
				}
			}
			if tt.check != nil {
				tt.check(t, resp, st)
			}
		})
	}
}

// failingStore fails every call with an internal error.
type failingStore struct{ catalog.Store }

var errSecret = errors.New("operation error DynamoDB: GetItem, https response error StatusCode: 500, RequestID: SECRET")

func (failingStore) Get(context.Context, string) (catalog.Product, error) {
	return catalog.Product{}, errSecret
}

func (failingStore) Create(context.Context, catalog.Product, outbox.Record) error { return errSecret }

func TestHandlerHidesInternalErrors(t *testing.T) {
	for _, fixture := range []string{"get-product.json", "create-product.json", "adjust-stock.json"} {
		t.Run(fixture, func(t *testing.T) {
			h := catalog.NewHandler(catalog.NewService(failingStore{}), slog.New(slog.DiscardHandler))
			resp, err := h.Handle(context.Background(), event(t, fixture))
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != 500 || resp.Body != `{"error":{"code":"internal","message":"internal error"}}` {
				t.Errorf("got %d %s", resp.StatusCode, resp.Body)
			}
		})
	}
}
