package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/etalase/etalase/infra/localaccount"
	"github.com/etalase/etalase/infra/localrun"
	"github.com/etalase/etalase/infra/localrun/localtest/flow"
	"github.com/etalase/etalase/shared/commerce/payment/midtrans"
)

// latencyDriver makes the requests of one route, each with the state it needs: the
// products, carts, orders and promotions are made beforehand, through the same HTTP
// API, and are not timed.
type latencyDriver struct {
	// name is the operation's short name in the report.
	name string
	// webhook marks a payment provider's webhook (an absolute target).
	webhook bool
	// background marks an operation whose writes start asynchronous work (the relay,
	// the social inbox, the payments consumer): the stage waits for it to end before
	// the next measurement.
	background bool
	// chained marks an operation whose state the next one takes while the
	// asynchronous work it started still changes it: the stage waits for that work
	// even under quick counts (when it otherwise does not).
	chained bool
	// order places the operation in a level: an operation that consumes the state
	// another leaves (a merged cart, a placed order) comes after it.
	order int
	// prepare makes, before a level's measurements, the state for count requests and
	// returns how to build them right before the operation is measured.
	prepare func(ctx context.Context, w *latencyWorld, count int) (latencyBuild, error)
	// warm, if set, is a request that reads the function's storage and changes
	// nothing: it starts and warms the function's processes before a level.
	warm func(w *latencyWorld) latencyRequest
	// direct, if set, is what the benchmark process calls instead of sending the
	// requests (a reference measured without the runner).
	direct func(ctx context.Context, w *latencyWorld) error
}

// Reference measurements, to read the ratios by: what the runner costs without any
// DynamoDB call, and what a transaction costs DynamoDB Local.
const (
	latencyFloorRoute = "GET /commerce/v1/products/not-a-product-id"
	latencyTxRoute    = "TransactWriteItems of 2 Puts, from the benchmark"
)

var latencyReferences = map[string]*latencyDriver{
	latencyFloorRoute: {
		// The catalog answers 404 for an id that is no product id without reading:
		// the HTTP API, its authorizer's absence, the runtime API and a function call.
		name: "runner floor: 404, no read",
		prepare: func(_ context.Context, _ *latencyWorld, count int) (latencyBuild, error) {
			return latencyEach(count, func(int) latencyRequest {
				return latencyRequest{Method: http.MethodGet, Path: "/commerce/v1/products/not-a-product-id", Expect: http.StatusNotFound}
			}), nil
		},
	},
	latencyTxRoute: {
		name: "bare transaction, 2 Puts",
		prepare: func(_ context.Context, _ *latencyWorld, count int) (latencyBuild, error) {
			return latencyReady(make([]latencyRequest, count)), nil
		},
		direct: func(ctx context.Context, w *latencyWorld) error {
			return w.base.transact(ctx, localaccount.Commerce.Side)
		},
	},
}

// latencyReferenceOps are the reference measurements, first in every level.
func latencyReferenceOps() []LatencyOp {
	return []LatencyOp{
		{Route: latencyFloorRoute, Name: latencyReferences[latencyFloorRoute].name, Function: "CommerceCatalogFunction",
			Account: localaccount.Commerce.Side, Kind: LatencyRead, Measured: true, Reference: true},
		{Route: latencyTxRoute, Name: latencyReferences[latencyTxRoute].name,
			Account: localaccount.Commerce.Side, Kind: LatencyWrite, Measured: true, Reference: true},
	}
}

// latencyDriverOf returns the driver of a route or reference, or nil.
func latencyDriverOf(route string) *latencyDriver {
	if d := latencyDrivers[route]; d != nil {
		return d
	}
	return latencyReferences[route]
}

// latencyBuild returns an operation's requests. It may take state that an operation
// measured before left (and top it up when that one failed), so it runs after it.
type latencyBuild func(ctx context.Context) ([]latencyRequest, error)

// Measuring order of the chained operations: a guest cart merged into a buyer's cart
// is checked out; half of the orders placed are Midtrans's, half Xendit's, each then
// notified by its provider; the Midtrans ones (a "pending" notification leaves an order
// awaiting payment) are then cancelled.
const (
	latencyOrderFirst = 10
	latencyOrderMerge = 20
	latencyOrderCheck = 30
	latencyOrderNotif = 40
	latencyOrderLast  = 50
)

// latencyPoolFor is how many items a rotating operation spreads its requests over
// (products, carts, promotions): twice the most requests in flight, so that no two
// requests in flight write the same item.
func latencyPoolFor(c latencyCounts) int {
	return 2 * c.InFlight(LatencyLevels[len(LatencyLevels)-1])
}

// latencyReady returns prepared requests as they are.
func latencyReady(reqs []latencyRequest) latencyBuild {
	return func(context.Context) ([]latencyRequest, error) { return reqs, nil }
}

// latencyEach builds count requests from one function of the index.
func latencyEach(count int, f func(i int) latencyRequest) latencyBuild {
	reqs := make([]latencyRequest, count)
	for i := range reqs {
		reqs[i] = f(i)
	}
	return latencyReady(reqs)
}

// latencyJSON encodes a request body.
func latencyJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // the bodies built here hold strings and numbers only
	}
	return b
}

// latencyBearer is the Authorization header of a token.
func latencyBearer(token string) []string { return []string{"Authorization", "Bearer " + token} }

// latencyGuestHeader names a guest cart, as apps do (browsers send the cookie).
func latencyGuestHeader(cartID string) []string { return []string{"X-Cart-Id", cartID} }

// latencyDrivers are the drivers by route key. Every route of template.yaml must have
// one: TestLatencyDriversCoverEveryRoute fails otherwise.
var latencyDrivers = map[string]*latencyDriver{
	// ------------------------------------------------------------ commerce: catalog
	"POST /commerce/v1/products": {
		name: "create product", background: true, order: latencyOrderFirst,
		prepare: func(_ context.Context, w *latencyWorld, count int) (latencyBuild, error) {
			return latencyEach(count, func(i int) latencyRequest {
				return latencyRequest{Method: http.MethodPost, Path: "/commerce/v1/products", Header: latencyBearer(w.seller),
					Body: latencyJSON(map[string]any{"title": fmt.Sprintf("Latency %d", w.seq.Add(1)), "description": "latency stage",
						"imageUrl": "/assets/kopi.jpg", "price": map[string]any{"amount": 25000, "currency": "IDR"}, "stock": 100})}
			}), nil
		},
	},
	"GET /commerce/v1/products/{productId}": {
		name: "get product", order: latencyOrderFirst,
		prepare: func(_ context.Context, w *latencyWorld, count int) (latencyBuild, error) {
			return latencyEach(count, func(i int) latencyRequest {
				return latencyRequest{Method: http.MethodGet, Path: "/commerce/v1/products/" + w.buy[i%len(w.buy)]}
			}), nil
		},
		warm: func(w *latencyWorld) latencyRequest {
			return latencyRequest{Method: http.MethodGet, Path: "/commerce/v1/products/" + w.buy[0]}
		},
	},
	"PATCH /commerce/v1/products/{productId}": {
		name: "update product", background: true, order: latencyOrderFirst,
		prepare: func(_ context.Context, w *latencyWorld, count int) (latencyBuild, error) {
			return latencyEach(count, func(i int) latencyRequest {
				return latencyRequest{Method: http.MethodPatch, Path: "/commerce/v1/products/" + w.edit[i%len(w.edit)], Header: latencyBearer(w.seller),
					Body: latencyJSON(map[string]any{"description": fmt.Sprintf("Biji kopi sangrai, revisi %d.", w.seq.Add(1))})}
			}), nil
		},
	},
	"PUT /commerce/v1/products/{productId}/stock": {
		name: "set stock", background: true, order: latencyOrderFirst,
		prepare: func(_ context.Context, w *latencyWorld, count int) (latencyBuild, error) {
			return latencyEach(count, func(i int) latencyRequest {
				// A new figure every time: a write that changes the product.
				return latencyRequest{Method: http.MethodPut, Path: "/commerce/v1/products/" + w.edit[i%len(w.edit)] + "/stock", Header: latencyBearer(w.seller),
					Body: latencyJSON(map[string]any{"stock": 100000 + w.seq.Add(1)})}
			}), nil
		},
	},
	"POST /commerce/v1/products/{productId}/stock/adjustments": {
		name: "adjust stock", background: true, order: latencyOrderFirst,
		prepare: func(_ context.Context, w *latencyWorld, count int) (latencyBuild, error) {
			return latencyEach(count, func(i int) latencyRequest {
				return latencyRequest{Method: http.MethodPost, Path: "/commerce/v1/products/" + w.edit[i%len(w.edit)] + "/stock/adjustments",
					Header: latencyBearer(w.seller), Body: []byte(`{"delta":1}`)}
			}), nil
		},
	},
	"DELETE /commerce/v1/products/{productId}": {
		name: "delist product", background: true, order: latencyOrderFirst,
		prepare: func(ctx context.Context, w *latencyWorld, count int) (latencyBuild, error) {
			ids, err := w.newProducts(ctx, count, 10)
			if err != nil {
				return nil, err
			}
			return latencyEach(count, func(i int) latencyRequest {
				return latencyRequest{Method: http.MethodDelete, Path: "/commerce/v1/products/" + ids[i], Header: latencyBearer(w.seller)}
			}), nil
		},
	},
	"GET /commerce/v1/seller/products": {
		name: "seller's products", order: latencyOrderFirst,
		prepare: func(_ context.Context, w *latencyWorld, count int) (latencyBuild, error) {
			return latencyEach(count, func(int) latencyRequest {
				return latencyRequest{Method: http.MethodGet, Path: "/commerce/v1/seller/products", Header: latencyBearer(w.seller)}
			}), nil
		},
	},

	// ------------------------------------------------------------ commerce: cart
	"GET /commerce/v1/cart": {
		name: "get cart", order: latencyOrderFirst,
		prepare: func(_ context.Context, w *latencyWorld, count int) (latencyBuild, error) {
			return latencyEach(count, func(i int) latencyRequest {
				return latencyRequest{Method: http.MethodGet, Path: "/commerce/v1/cart", Header: latencyBearer(w.carts[i%len(w.carts)].Token)}
			}), nil
		},
		warm: func(w *latencyWorld) latencyRequest {
			return latencyRequest{Method: http.MethodGet, Path: "/commerce/v1/cart", Header: latencyBearer(w.carts[0].Token)}
		},
	},
	"POST /commerce/v1/cart/items": {
		name: "add to cart", order: latencyOrderFirst,
		prepare: func(_ context.Context, w *latencyWorld, count int) (latencyBuild, error) {
			// One more of the product the cart holds: the line grows (PATCH resets it).
			return latencyEach(count, func(i int) latencyRequest {
				c := w.carts[i%len(w.carts)]
				return latencyRequest{Method: http.MethodPost, Path: "/commerce/v1/cart/items", Header: latencyBearer(c.Token),
					Body: latencyJSON(map[string]any{"productId": c.Product, "quantity": 1})}
			}), nil
		},
	},
	"PATCH /commerce/v1/cart/items/{productId}": {
		name: "set cart quantity", order: latencyOrderFirst,
		prepare: func(_ context.Context, w *latencyWorld, count int) (latencyBuild, error) {
			return latencyEach(count, func(i int) latencyRequest {
				c := w.carts[i%len(w.carts)]
				return latencyRequest{Method: http.MethodPatch, Path: "/commerce/v1/cart/items/" + c.Product, Header: latencyBearer(c.Token),
					Body: latencyJSON(map[string]any{"quantity": 1 + (i/len(w.carts))%2})}
			}), nil
		},
	},
	"DELETE /commerce/v1/cart/items/{productId}": {
		name: "remove from cart", order: latencyOrderFirst,
		prepare: func(ctx context.Context, w *latencyWorld, count int) (latencyBuild, error) {
			carts, lines, err := w.multiLineCarts(ctx, count, false)
			if err != nil {
				return nil, err
			}
			return latencyEach(count, func(i int) latencyRequest {
				c := carts[i%len(carts)]
				return latencyRequest{Method: http.MethodDelete, Path: "/commerce/v1/cart/items/" + lines(i), Header: latencyBearer(c.Token)}
			}), nil
		},
	},
	"POST /commerce/v1/cart/merge": {
		name: "merge guest cart", order: latencyOrderMerge,
		prepare: func(ctx context.Context, w *latencyWorld, count int) (latencyBuild, error) {
			guests := make([]latencyCart, count)
			err := latencyParallel(ctx, count, func(i int) error {
				p := w.buy[i%len(w.buy)]
				id, err := w.newGuestCart(ctx, p)
				guests[i] = latencyCart{CartID: id, Product: p, Token: w.newBuyer()}
				return err
			})
			if err != nil {
				return nil, err
			}
			w.markDirty()
			return latencyEach(count, func(i int) latencyRequest {
				g := guests[i]
				return latencyRequest{Method: http.MethodPost, Path: "/commerce/v1/cart/merge",
					Header: append(latencyBearer(g.Token), latencyGuestHeader(g.CartID)...),
					After: func([]byte) {
						// The buyer's cart now holds the guest's line: a checkout's cart.
						w.mu.Lock()
						w.merged = append(w.merged, latencyCart{Token: g.Token, Product: g.Product})
						w.mu.Unlock()
					}}
			}), nil
		},
	},
	"GET /commerce/v1/guest-cart": {
		name: "get guest cart", order: latencyOrderFirst,
		prepare: func(_ context.Context, w *latencyWorld, count int) (latencyBuild, error) {
			return latencyEach(count, func(i int) latencyRequest {
				return latencyRequest{Method: http.MethodGet, Path: "/commerce/v1/guest-cart", Header: latencyGuestHeader(w.guests[i%len(w.guests)].CartID)}
			}), nil
		},
	},
	"POST /commerce/v1/guest-cart/items": {
		name: "add to guest cart", order: latencyOrderFirst,
		prepare: func(_ context.Context, w *latencyWorld, count int) (latencyBuild, error) {
			return latencyEach(count, func(i int) latencyRequest {
				g := w.guests[i%len(w.guests)]
				return latencyRequest{Method: http.MethodPost, Path: "/commerce/v1/guest-cart/items", Header: latencyGuestHeader(g.CartID),
					Body: latencyJSON(map[string]any{"productId": g.Product, "quantity": 1})}
			}), nil
		},
	},
	"PATCH /commerce/v1/guest-cart/items/{productId}": {
		name: "set guest cart quantity", order: latencyOrderFirst,
		prepare: func(_ context.Context, w *latencyWorld, count int) (latencyBuild, error) {
			return latencyEach(count, func(i int) latencyRequest {
				g := w.guests[i%len(w.guests)]
				return latencyRequest{Method: http.MethodPatch, Path: "/commerce/v1/guest-cart/items/" + g.Product, Header: latencyGuestHeader(g.CartID),
					Body: latencyJSON(map[string]any{"quantity": 1 + (i/len(w.guests))%2})}
			}), nil
		},
	},
	"DELETE /commerce/v1/guest-cart/items/{productId}": {
		name: "remove from guest cart", order: latencyOrderFirst,
		prepare: func(ctx context.Context, w *latencyWorld, count int) (latencyBuild, error) {
			carts, lines, err := w.multiLineCarts(ctx, count, true)
			if err != nil {
				return nil, err
			}
			return latencyEach(count, func(i int) latencyRequest {
				c := carts[i%len(carts)]
				return latencyRequest{Method: http.MethodDelete, Path: "/commerce/v1/guest-cart/items/" + lines(i), Header: latencyGuestHeader(c.CartID)}
			}), nil
		},
	},

	// ------------------------------------------------------------ commerce: checkout, orders
	"POST /commerce/v1/checkout": {
		name: "checkout", background: true, order: latencyOrderCheck,
		prepare: func(_ context.Context, w *latencyWorld, count int) (latencyBuild, error) {
			// The carts are the ones the merge filled just before.
			return func(ctx context.Context) ([]latencyRequest, error) {
				carts, err := w.takeCarts(ctx, count)
				if err != nil {
					return nil, err
				}
				reqs := make([]latencyRequest, count)
				for i, c := range carts {
					provider := latencyProviders[i%2]
					reqs[i] = latencyRequest{Method: http.MethodPost, Path: "/commerce/v1/checkout",
						Header: append(latencyBearer(c.Token), "Idempotency-Key", w.key()),
						Body:   latencyJSON(map[string]string{"provider": provider}),
						After: func(body []byte) {
							if o, err := latencyPlaced(body, c.Token, provider); err == nil {
								w.addPlaced(o)
							}
						}}
				}
				return reqs, nil
			}, nil
		},
	},
	"POST /commerce/v1/orders/{orderId}/payment": {
		// The payment route answers the session an order already has (opening one is
		// for a checkout whose provider was down, which the sandbox does not do).
		name: "payment session", order: latencyOrderFirst,
		prepare: func(_ context.Context, w *latencyWorld, count int) (latencyBuild, error) {
			return latencyEach(count, func(i int) latencyRequest {
				o := w.orders[i%len(w.orders)]
				return latencyRequest{Method: http.MethodPost, Path: "/commerce/v1/orders/" + o.ID + "/payment", Header: latencyBearer(o.Buyer),
					Body: latencyJSON(map[string]string{"provider": o.Provider})}
			}), nil
		},
		warm: func(w *latencyWorld) latencyRequest {
			// An order that does not exist: one GetItem, 404.
			return latencyRequest{Method: http.MethodPost, Path: "/commerce/v1/orders/" + latencyNoOrder + "/payment", Header: latencyBearer(w.carts[0].Token),
				Body: []byte(`{"provider":"midtrans"}`)}
		},
	},
	"GET /commerce/v1/orders": {
		name: "list orders", order: latencyOrderFirst,
		prepare: func(_ context.Context, w *latencyWorld, count int) (latencyBuild, error) {
			return latencyEach(count, func(i int) latencyRequest {
				return latencyRequest{Method: http.MethodGet, Path: "/commerce/v1/orders", Header: latencyBearer(w.orderBuyers[i%len(w.orderBuyers)])}
			}), nil
		},
	},
	"GET /commerce/v1/orders/{orderId}": {
		name: "get order", order: latencyOrderFirst,
		prepare: func(_ context.Context, w *latencyWorld, count int) (latencyBuild, error) {
			return latencyEach(count, func(i int) latencyRequest {
				o := w.orders[i%len(w.orders)]
				return latencyRequest{Method: http.MethodGet, Path: "/commerce/v1/orders/" + o.ID, Header: latencyBearer(o.Buyer)}
			}), nil
		},
		warm: func(w *latencyWorld) latencyRequest {
			o := w.orders[0]
			return latencyRequest{Method: http.MethodGet, Path: "/commerce/v1/orders/" + o.ID, Header: latencyBearer(o.Buyer)}
		},
	},
	"POST /commerce/v1/orders/{orderId}/cancel": {
		name: "cancel order", background: true, order: latencyOrderLast,
		prepare: func(_ context.Context, w *latencyWorld, count int) (latencyBuild, error) {
			// The Midtrans orders that the webhook was just told are pending.
			return func(ctx context.Context) ([]latencyRequest, error) {
				orders, err := w.takeCancellable(ctx, count)
				if err != nil {
					return nil, err
				}
				reqs := make([]latencyRequest, len(orders))
				for i, o := range orders {
					reqs[i] = latencyRequest{Method: http.MethodPost, Path: "/commerce/v1/orders/" + o.ID + "/cancel", Header: latencyBearer(o.Buyer)}
				}
				return reqs, nil
			}, nil
		},
	},
	"GET /commerce/v1/audit/orders/{orderId}/ledger": {
		name: "audit ledger", order: latencyOrderFirst,
		prepare: func(_ context.Context, w *latencyWorld, count int) (latencyBuild, error) {
			return latencyEach(count, func(i int) latencyRequest {
				return latencyRequest{Method: http.MethodGet, Path: "/commerce/v1/audit/orders/" + w.orders[i%len(w.orders)].ID + "/ledger", Header: latencyBearer(w.auditor)}
			}), nil
		},
	},

	// ------------------------------------------------------------ commerce: webhooks
	"POST /commerce/v1/webhooks/midtrans": {
		// "pending" (Midtrans's notification when the transfer's account is issued):
		// the same acknowledgement as a settlement's (verify, read the order's total,
		// store once, enqueue), and the order still awaits payment for the cancel.
		name: "Midtrans notification", webhook: true, background: true, chained: true, order: latencyOrderNotif,
		prepare: func(ctx context.Context, w *latencyWorld, count int) (latencyBuild, error) {
			// The checkout measured just before places the even-numbered half.
			if err := w.stockOrders(ctx, latencyMidtrans, count-(count+1)/2); err != nil {
				return nil, err
			}
			return func(ctx context.Context) ([]latencyRequest, error) {
				orders, err := w.takePlaced(ctx, latencyMidtrans, count)
				if err != nil {
					return nil, err
				}
				reqs := make([]latencyRequest, len(orders))
				for i, o := range orders {
					reqs[i] = latencyRequest{Method: http.MethodPost, Path: "/commerce/v1/webhooks/midtrans",
						Body: w.midtransNotification(o.ID, o.Amount, "pending"),
						After: func([]byte) {
							w.mu.Lock()
							w.pending = append(w.pending, o)
							w.mu.Unlock()
						}}
				}
				return reqs, nil
			}, nil
		},
		warm: func(w *latencyWorld) latencyRequest {
			// A signed notification of an order that does not exist: one GetItem, 404.
			return latencyRequest{Method: http.MethodPost, Path: "/commerce/v1/webhooks/midtrans", Body: w.midtransNotification(latencyNoOrder, 1000, "pending")}
		},
	},
	"POST /commerce/v1/webhooks/xendit": {
		name: "Xendit callback", webhook: true, background: true, order: latencyOrderNotif,
		prepare: func(ctx context.Context, w *latencyWorld, count int) (latencyBuild, error) {
			if err := w.stockOrders(ctx, latencyXendit, count-count/2); err != nil {
				return nil, err
			}
			return func(ctx context.Context) ([]latencyRequest, error) {
				orders, err := w.takePlaced(ctx, latencyXendit, count)
				if err != nil {
					return nil, err
				}
				reqs := make([]latencyRequest, len(orders))
				for i, o := range orders {
					reqs[i] = latencyRequest{Method: http.MethodPost, Path: "/commerce/v1/webhooks/xendit",
						Header: []string{"X-Callback-Token", w.xenditToken}, Body: latencyXenditPaid(o)}
				}
				return reqs, nil
			}, nil
		},
	},

	// ------------------------------------------------------------ social
	"POST /social/v1/promotions": {
		name: "create promotion", order: latencyOrderFirst,
		prepare: func(_ context.Context, w *latencyWorld, count int) (latencyBuild, error) {
			ends := time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)
			return latencyEach(count, func(i int) latencyRequest {
				return latencyRequest{Method: http.MethodPost, Path: "/social/v1/promotions", Header: latencyBearer(w.creator),
					Body: latencyJSON(map[string]any{"productId": w.buy[i%len(w.buy)], "kind": "showcase", "caption": "Kopi pagi",
						"commissionBps": 500, "endsAt": ends})}
			}), nil
		},
	},
	"GET /social/v1/promotions/{promotionId}": {
		name: "get promotion", order: latencyOrderFirst,
		prepare: func(_ context.Context, w *latencyWorld, count int) (latencyBuild, error) {
			return latencyEach(count, func(i int) latencyRequest {
				return latencyRequest{Method: http.MethodGet, Path: "/social/v1/promotions/" + w.promos[i%len(w.promos)]}
			}), nil
		},
		warm: func(w *latencyWorld) latencyRequest {
			return latencyRequest{Method: http.MethodGet, Path: "/social/v1/promotions/" + w.promos[0]}
		},
	},
	"PATCH /social/v1/promotions/{promotionId}": {
		name: "pause/resume promotion", order: latencyOrderFirst,
		prepare: func(_ context.Context, w *latencyWorld, count int) (latencyBuild, error) {
			// Every request changes its promotion's status: PAUSED, then ACTIVE again.
			return latencyEach(count, func(i int) latencyRequest {
				k := i % len(w.toggles)
				w.paused[k] = !w.paused[k]
				status := "ACTIVE"
				if w.paused[k] {
					status = "PAUSED"
				}
				return latencyRequest{Method: http.MethodPatch, Path: "/social/v1/promotions/" + w.toggles[k], Header: latencyBearer(w.creator),
					Body: latencyJSON(map[string]string{"status": status})}
			}), nil
		},
	},
	"POST /social/v1/promotions/{promotionId}/handoff": {
		name: "hand-off", order: latencyOrderFirst,
		prepare: func(_ context.Context, w *latencyWorld, count int) (latencyBuild, error) {
			return latencyEach(count, func(i int) latencyRequest {
				return latencyRequest{Method: http.MethodPost, Path: "/social/v1/promotions/" + w.promos[i%len(w.promos)] + "/handoff"}
			}), nil
		},
	},
	"GET /social/v1/feed": {
		name: "feed", order: latencyOrderFirst,
		prepare: func(_ context.Context, _ *latencyWorld, count int) (latencyBuild, error) {
			return latencyEach(count, func(int) latencyRequest {
				return latencyRequest{Method: http.MethodGet, Path: "/social/v1/feed"}
			}), nil
		},
	},
	"GET /social/v1/creator/promotions": {
		name: "creator's promotions", order: latencyOrderFirst,
		prepare: func(_ context.Context, w *latencyWorld, count int) (latencyBuild, error) {
			return latencyEach(count, func(int) latencyRequest {
				return latencyRequest{Method: http.MethodGet, Path: "/social/v1/creator/promotions", Header: latencyBearer(w.creator)}
			}), nil
		},
	},
	"GET /social/v1/creators/{creatorId}/earnings": {
		name: "creator earnings", order: latencyOrderFirst,
		prepare: func(_ context.Context, w *latencyWorld, count int) (latencyBuild, error) {
			return latencyEach(count, func(int) latencyRequest {
				return latencyRequest{Method: http.MethodGet, Path: "/social/v1/creators/" + url.PathEscape(w.creatorID) + "/earnings", Header: latencyBearer(w.creator)}
			}), nil
		},
	},
}

// Payment providers, as the checkout's body and the sandbox name them.
const (
	latencyMidtrans = "midtrans"
	latencyXendit   = "xendit"
)

// latencyProviders alternate in the measured checkouts: even requests pay with
// Midtrans, odd ones with Xendit.
var latencyProviders = [2]string{latencyMidtrans, latencyXendit}

// latencyNoOrder is a well-formed order id that no order has.
const latencyNoOrder = "o_aaaaaaaaaaaaaaaaaaaaaaaaaa"

// latencyCart is a cart: a buyer's (Token) or a guest's (CartID), holding Product.
type latencyCart struct {
	Token, CartID, Product string
}

// latencyOrder is an order awaiting payment.
type latencyOrder struct {
	ID, Buyer, Provider string
	// Amount is the total in IDR.
	Amount int64
	// Invoice is the Xendit invoice id (from the payment URL).
	Invoice string
}

// latencyWorld is the running system and the state the drivers share: fixtures made
// once, and the carts and orders that one operation leaves for the next.
type latencyWorld struct {
	r    *localrun.Runner
	base *latencyBaseline // the reference transaction's client
	pool int              // items a rotating operation spreads its requests over
	c    *flow.Client     // setup requests: retried as a client retries them
	hc   *http.Client     // measured requests: never retried
	run  string

	seller, creator, auditor string // tokens
	creatorID                string
	midtransKey, xenditToken string

	buy         []string       // products with ample stock: carts, orders, promotions
	edit        []string       // products the catalog's writes change
	carts       []latencyCart  // buyers whose cart holds one line
	guests      []latencyCart  // guest carts holding one line
	orders      []latencyOrder // Midtrans orders to read (they stay pending)
	orderBuyers []string       // their buyers, each with several orders
	promos      []string       // live promotions to read and hand off
	toggles     []string       // promotions the PATCH pauses and resumes
	paused      []bool

	seq atomic.Int64

	mu      sync.Mutex
	merged  []latencyCart             // buyers whose cart a merge filled
	placed  map[string][]latencyOrder // orders awaiting payment, by provider
	pending []latencyOrder            // Midtrans orders told "pending": cancellable
	dirty   bool                      // setup requests since the last settle
}

// newLatencyWorld makes the fixtures: a seller's products, buyers' and guests' carts,
// a few orders, a creator's promotions; then waits for the asynchronous work they
// started (the product snapshots reaching social) to end.
func newLatencyWorld(ctx context.Context, env *Env, pool int) (*latencyWorld, error) {
	r := env.Runner
	w := &latencyWorld{
		r: r, pool: pool, c: &flow.Client{Base: r.URL, Within: 90 * time.Second},
		hc: &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
			MaxIdleConns: 256, MaxIdleConnsPerHost: 128, IdleConnTimeout: 2 * time.Minute, DisableCompression: true}},
		run:    latencyRandom(4),
		placed: map[string][]latencyOrder{},
	}
	var err error
	if w.midtransKey, err = r.Secret(localrun.ParamMidtransServerKey); err != nil {
		return nil, err
	}
	if w.xenditToken, err = r.Secret(localrun.ParamXenditCallbackToken); err != nil {
		return nil, err
	}
	w.creatorID = "lat-creator-" + w.run
	for _, t := range []struct {
		dst        *string
		sub, scope string
	}{{&w.seller, "lat-seller-" + w.run, "seller"}, {&w.creator, w.creatorID, "creator"}, {&w.auditor, "lat-auditor-" + w.run, "auditor"}} {
		if *t.dst, err = flow.Token(r, t.sub, t.scope); err != nil {
			return nil, err
		}
	}
	// Products with ample stock for carts and orders (half the pool: enough that
	// concurrent checkouts seldom reserve the same one) and products to change.
	if w.buy, err = w.newProducts(ctx, max(8, pool/2), 10_000_000); err != nil {
		return nil, err
	}
	if w.edit, err = w.newProducts(ctx, pool, 100_000); err != nil {
		return nil, err
	}
	// Then, at the same time: carts, orders, promotions.
	err = latencyAll(
		func() error { return w.fixtureCarts(ctx) },
		func() error { return w.fixtureOrders(ctx) },
		func() error { return w.fixturePromotions(ctx) },
	)
	if err != nil {
		return nil, err
	}
	w.settle(ctx, 30*time.Second)
	w.takeDirty()
	return w, nil
}

func (w *latencyWorld) close() { w.hc.CloseIdleConnections() }

// fixtureCarts makes the pool's buyer carts and guest carts, one line each.
func (w *latencyWorld) fixtureCarts(ctx context.Context) error {
	w.carts = make([]latencyCart, w.pool)
	w.guests = make([]latencyCart, w.pool)
	return latencyParallel(ctx, 2*w.pool, func(i int) error {
		p := w.buy[i%len(w.buy)]
		if i < w.pool {
			c := latencyCart{Token: w.newBuyer(), Product: p}
			w.carts[i] = c
			return w.c.AddToCart(ctx, c.Token, flow.Item{ProductID: p, Quantity: 1})
		}
		id, err := w.newGuestCart(ctx, p)
		w.guests[i-w.pool] = latencyCart{CartID: id, Product: p}
		return err
	})
}

// fixtureOrders places the orders to read: a few buyers with a few Midtrans orders
// each (they stay pending).
func (w *latencyWorld) fixtureOrders(ctx context.Context) error {
	buyers, each := max(2, w.pool/8), 4
	w.orderBuyers = make([]string, buyers)
	w.orders = make([]latencyOrder, buyers*each)
	return latencyParallel(ctx, buyers, func(b int) error {
		w.orderBuyers[b] = w.newBuyer()
		for k := 0; k < each; k++ {
			o, err := w.placeOrder(ctx, w.orderBuyers[b], latencyMidtrans, w.buy[(b*each+k)%len(w.buy)])
			if err != nil {
				return err
			}
			w.orders[b*each+k] = o
		}
		return nil
	})
}

// fixturePromotions makes the creator's promotions: some to read and hand off, the
// pool's to pause and resume. Social knows a product once the relay and the inbox
// brought it; Promote waits for that.
func (w *latencyWorld) fixturePromotions(ctx context.Context) error {
	w.promos = make([]string, max(4, w.pool/4))
	w.toggles = make([]string, w.pool)
	w.paused = make([]bool, w.pool)
	return latencyParallel(ctx, len(w.promos)+len(w.toggles), func(i int) error {
		id, err := w.c.Promote(ctx, w.creator, w.buy[i%len(w.buy)], 500)
		if i < len(w.promos) {
			w.promos[i] = id
		} else {
			w.toggles[i-len(w.promos)] = id
		}
		return err
	})
}

// latencyAll runs the functions at the same time and returns their errors.
func latencyAll(fns ...func() error) error {
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = fn()
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// setupRequests is how many requests the setup sent, retries included.
func (w *latencyWorld) setupRequests() int64 { return w.c.Stats().Requests }

func (w *latencyWorld) markDirty() {
	w.mu.Lock()
	w.dirty = true
	w.mu.Unlock()
}

// takeDirty says whether setup requests were sent since it was last called.
func (w *latencyWorld) takeDirty() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	d := w.dirty
	w.dirty = false
	return d
}

// key returns a fresh Idempotency-Key.
func (w *latencyWorld) key() string { return fmt.Sprintf("latency-%s-%d", w.run, w.seq.Add(1)) }

// newBuyer mints the token of a new buyer.
func (w *latencyWorld) newBuyer() string {
	tok, err := flow.Token(w.r, fmt.Sprintf("lat-buyer-%s-%d", w.run, w.seq.Add(1)), "buyer")
	if err != nil {
		panic(err) // the local identity provider signs with a key it holds
	}
	return tok
}

// warmFor returns the warm-up request of a function: the warm request of the
// first of its routes (by key) whose driver has one.
func (w *latencyWorld) warmFor(function string) func(*latencyWorld) latencyRequest {
	var keys []string
	for _, rt := range w.r.Routes {
		if rt.FunctionID == function {
			keys = append(keys, latencyRouteKey(rt))
		}
	}
	return latencyWarmOf(keys)
}

// latencyWarmOf returns the warm request of the first route key (sorted) whose driver
// has one, or nil.
func latencyWarmOf(keys []string) func(*latencyWorld) latencyRequest {
	keys = append([]string(nil), keys...)
	sort.Strings(keys)
	for _, k := range keys {
		if d := latencyDrivers[k]; d != nil && d.warm != nil {
			return d.warm
		}
	}
	return nil
}

// newProducts lists n products of the seller with the given stock.
func (w *latencyWorld) newProducts(ctx context.Context, n int, stock int64) ([]string, error) {
	ids := make([]string, n)
	err := latencyParallel(ctx, n, func(i int) error {
		id, err := w.c.CreateProduct(ctx, w.seller, flow.Product{Title: fmt.Sprintf("Kopi latency %s-%d", w.run, w.seq.Add(1)), Price: 25000, Stock: stock})
		ids[i] = id
		return err
	})
	w.markDirty()
	return ids, err
}

// newGuestCart makes a guest cart holding one of each product and returns its id.
func (w *latencyWorld) newGuestCart(ctx context.Context, products ...string) (string, error) {
	id := ""
	for _, p := range products {
		var hdr []string
		if id != "" {
			hdr = latencyGuestHeader(id)
		}
		resp, err := w.c.Do(ctx, http.MethodPost, "/commerce/v1/guest-cart/items", "", map[string]any{"productId": p, "quantity": 1}, hdr...)
		if err != nil {
			return "", err
		}
		if err := resp.Want("add to guest cart", http.StatusOK, http.StatusCreated); err != nil {
			return "", err
		}
		if id == "" {
			if id = resp.Header.Get("X-Cart-Id"); id == "" {
				return "", errors.New("new guest cart: no X-Cart-Id")
			}
		}
	}
	return id, nil
}

// multiLineCarts makes carts (guest carts if guest) whose lines add up to at least
// count, spread over up to a pool of carts, and returns them with the product of
// request i's line: request i takes line i/len(carts) of cart i%len(carts).
func (w *latencyWorld) multiLineCarts(ctx context.Context, count int, guest bool) ([]latencyCart, func(i int) string, error) {
	n := min(w.pool, count)
	per := (count + n - 1) / n
	if per > len(w.buy) {
		return nil, nil, fmt.Errorf("%d lines per cart, only %d products", per, len(w.buy))
	}
	carts := make([]latencyCart, n)
	product := func(c, line int) string { return w.buy[(c+line)%len(w.buy)] }
	err := latencyParallel(ctx, n, func(c int) error {
		ps := make([]string, per)
		for k := range ps {
			ps[k] = product(c, k)
		}
		if guest {
			id, err := w.newGuestCart(ctx, ps...)
			carts[c] = latencyCart{CartID: id}
			return err
		}
		carts[c] = latencyCart{Token: w.newBuyer()}
		for _, p := range ps {
			if err := w.c.AddToCart(ctx, carts[c].Token, flow.Item{ProductID: p, Quantity: 1}); err != nil {
				return err
			}
		}
		return nil
	})
	w.markDirty()
	return carts, func(i int) string { return product(i%n, i/n) }, err
}

// placeOrder fills the buyer's cart with one product and checks it out.
func (w *latencyWorld) placeOrder(ctx context.Context, buyer, provider, product string) (latencyOrder, error) {
	if err := w.c.AddToCart(ctx, buyer, flow.Item{ProductID: product, Quantity: 1}); err != nil {
		return latencyOrder{}, err
	}
	_, resp, err := w.c.Checkout(ctx, buyer, provider, w.key())
	if err != nil {
		return latencyOrder{}, err
	}
	if err := resp.Want("checkout", http.StatusCreated); err != nil {
		return latencyOrder{}, err
	}
	w.markDirty()
	return latencyPlaced(resp.Body, buyer, provider)
}

// latencyPlaced reads a checkout's answer.
func latencyPlaced(body []byte, buyer, provider string) (latencyOrder, error) {
	var p struct {
		OrderID string `json:"orderId"`
		Amount  struct {
			Amount int64 `json:"amount"`
		} `json:"amount"`
		PaymentURL *string `json:"paymentUrl"`
	}
	if err := json.Unmarshal(body, &p); err != nil || p.OrderID == "" {
		return latencyOrder{}, fmt.Errorf("checkout answer %s: %v", truncate(string(body), 200), err)
	}
	o := latencyOrder{ID: p.OrderID, Buyer: buyer, Provider: provider, Amount: p.Amount.Amount}
	if p.PaymentURL != nil && provider == latencyXendit {
		if u, err := url.Parse(*p.PaymentURL); err == nil {
			o.Invoice = path.Base(u.Path)
		}
	}
	return o, nil
}

func (w *latencyWorld) addPlaced(o latencyOrder) {
	w.mu.Lock()
	w.placed[o.Provider] = append(w.placed[o.Provider], o)
	w.mu.Unlock()
}

// stockOrders places n orders paid with provider, each by a new buyer, into the pool
// the webhook drivers take from.
func (w *latencyWorld) stockOrders(ctx context.Context, provider string, n int) error {
	if n <= 0 {
		return nil
	}
	return latencyParallel(ctx, n, func(i int) error {
		o, err := w.placeOrder(ctx, w.newBuyer(), provider, w.buy[int(w.seq.Add(1))%len(w.buy)])
		if err == nil {
			w.addPlaced(o)
		}
		return err
	})
}

// takePlaced takes count orders of provider from the pool, placing more if it holds
// fewer (when a checkout measured before failed).
func (w *latencyWorld) takePlaced(ctx context.Context, provider string, count int) ([]latencyOrder, error) {
	w.mu.Lock()
	short := count - len(w.placed[provider])
	w.mu.Unlock()
	if err := w.stockOrders(ctx, provider, short); err != nil {
		return nil, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	n := min(count, len(w.placed[provider]))
	out := append([]latencyOrder(nil), w.placed[provider][:n]...)
	w.placed[provider] = w.placed[provider][n:]
	return out, nil
}

// takeCancellable takes count orders awaiting payment: those the Midtrans webhook was
// told are pending, then other Midtrans orders, then new ones.
func (w *latencyWorld) takeCancellable(ctx context.Context, count int) ([]latencyOrder, error) {
	w.mu.Lock()
	out := w.pending[:min(count, len(w.pending))]
	w.pending = w.pending[len(out):]
	w.mu.Unlock()
	out = append([]latencyOrder(nil), out...)
	if short := count - len(out); short > 0 {
		more, err := w.takePlaced(ctx, latencyMidtrans, short)
		if err != nil {
			return nil, err
		}
		out = append(out, more...)
	}
	return out, nil
}

// takeCarts takes count buyers whose cart holds a line: those a merge filled, then
// new ones.
func (w *latencyWorld) takeCarts(ctx context.Context, count int) ([]latencyCart, error) {
	w.mu.Lock()
	out := append([]latencyCart(nil), w.merged[:min(count, len(w.merged))]...)
	w.merged = w.merged[len(out):]
	w.mu.Unlock()
	short := count - len(out)
	if short <= 0 {
		return out, nil
	}
	more := make([]latencyCart, short)
	err := latencyParallel(ctx, short, func(i int) error {
		c := latencyCart{Token: w.newBuyer(), Product: w.buy[i%len(w.buy)]}
		more[i] = c
		return w.c.AddToCart(ctx, c.Token, flow.Item{ProductID: c.Product, Quantity: 1})
	})
	w.markDirty()
	return append(out, more...), err
}

// latencyWIB is Western Indonesia Time, the zone of Midtrans's timestamps.
var latencyWIB = time.FixedZone("WIB", 7*60*60)

// midtransNotification is a Midtrans HTTP notification of a bank transfer, signed
// with the local server key as Midtrans signs it (the fields of the payment
// sandbox's).
func (w *latencyWorld) midtransNotification(orderID string, amount int64, status string) []byte {
	code := map[string]string{"pending": "201", "settlement": "200"}[status]
	gross := fmt.Sprintf("%d.00", amount)
	txn := latencyUUID()
	now := time.Now().In(latencyWIB)
	const layout = "2006-01-02 15:04:05"
	return latencyJSON(struct {
		TransactionTime   string              `json:"transaction_time"`
		TransactionStatus string              `json:"transaction_status"`
		TransactionID     string              `json:"transaction_id"`
		StatusMessage     string              `json:"status_message"`
		StatusCode        string              `json:"status_code"`
		SignatureKey      string              `json:"signature_key"`
		PaymentType       string              `json:"payment_type"`
		OrderID           string              `json:"order_id"`
		MerchantID        string              `json:"merchant_id"`
		GrossAmount       string              `json:"gross_amount"`
		FraudStatus       string              `json:"fraud_status"`
		Currency          string              `json:"currency"`
		VANumbers         []map[string]string `json:"va_numbers"`
		ExpiryTime        string              `json:"expiry_time"`
	}{
		TransactionTime: now.Format(layout), TransactionStatus: status, TransactionID: txn,
		StatusMessage: "midtrans payment notification", StatusCode: code,
		SignatureKey: midtrans.Signature(orderID, code, gross, w.midtransKey),
		PaymentType:  "bank_transfer", OrderID: orderID, MerchantID: "G000000000", GrossAmount: gross,
		FraudStatus: "accept", Currency: "IDR",
		VANumbers:  []map[string]string{{"bank": "bca", "va_number": "80777" + txn[:8]}},
		ExpiryTime: now.Add(15 * time.Minute).Format(layout),
	})
}

// latencyXenditPaid is a Xendit invoice callback saying the order's invoice is paid (the
// fields of the payment sandbox's); it authenticates by the x-callback-token header.
func latencyXenditPaid(o latencyOrder) []byte {
	invoice := o.Invoice
	if invoice == "" {
		invoice = latencyRandom(12)
	}
	now := time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
	amount := json.Number(fmt.Sprint(o.Amount))
	high := false
	return latencyJSON(struct {
		ID                 string      `json:"id"`
		ExternalID         string      `json:"external_id"`
		UserID             string      `json:"user_id"`
		IsHigh             *bool       `json:"is_high"`
		Status             string      `json:"status"`
		MerchantName       string      `json:"merchant_name"`
		Amount             json.Number `json:"amount"`
		PaidAmount         json.Number `json:"paid_amount"`
		BankCode           string      `json:"bank_code"`
		PaidAt             string      `json:"paid_at"`
		PaymentMethod      string      `json:"payment_method"`
		PaymentChannel     string      `json:"payment_channel"`
		PaymentDestination string      `json:"payment_destination"`
		PaymentID          string      `json:"payment_id"`
		Description        string      `json:"description"`
		Created            string      `json:"created"`
		Updated            string      `json:"updated"`
		Currency           string      `json:"currency"`
	}{
		ID: invoice, ExternalID: o.ID, UserID: "5f0000000000000000000000", IsHigh: &high, Status: "PAID",
		MerchantName: "etalase (local sandbox)", Amount: amount, PaidAmount: amount,
		BankCode: "BCA", PaidAt: now, PaymentMethod: "BANK_TRANSFER", PaymentChannel: "BCA",
		PaymentDestination: "8808999" + invoice[:min(8, len(invoice))], PaymentID: latencyRandom(12),
		Description: "etalase order " + o.ID, Created: now, Updated: now, Currency: "IDR",
	})
}

// latencyParallel runs fn(0..n-1) on a few goroutines and returns the first error;
// the others still run.
func latencyParallel(ctx context.Context, n int, fn func(i int) error) error {
	const workers = 16
	var mu sync.Mutex
	var first error
	latencyLoop(ctx, workers, n, time.Now().Add(5*time.Minute), func(i int) {
		if err := fn(i); err != nil {
			mu.Lock()
			if first == nil {
				first = err
			}
			mu.Unlock()
		}
	})
	if first == nil {
		first = ctx.Err()
	}
	return first
}

func latencyRandom(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func latencyUUID() string {
	h := latencyRandom(16)
	return strings.Join([]string{h[:8], h[8:12], h[12:16], h[16:20], h[20:]}, "-")
}
