package relay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"

	"github.com/etalase/etalase/shared/commerce/expiry"
	"github.com/etalase/etalase/shared/commerce/order"
	"github.com/etalase/etalase/shared/commerce/orders"
	"github.com/etalase/etalase/shared/commerce/outbox"
)

// unpublished is the allow-list of internal event types that the relay acknowledges
// without a message of their own, with the reason. Any other type without a route is
// logged at WARN: a new internal type must be routed or listed here on purpose.
var unpublished = map[string]string{
	// Kept for the audit trail and for a future consumer; its stock releases refresh
	// social's snapshots (WithStockSnapshots), which is all it needs of the relay today.
	orders.EventOrderStatusChanged: "no consumer; a stock release refreshes social's snapshots",
}

// Unpublished returns the internal event types that the relay deliberately does not
// publish as messages (they have no consumer), sorted.
func Unpublished() []string { return slices.Sorted(maps.Keys(unpublished)) }

// WithExpiryQueue schedules each order's expiry from its OrderCreated outbox record:
// an expiry.Message {orderId, deadline} on the queue at queueURL (ExpiryQueue),
// delayed by expiry.Delay(deadline, now), that is min(900 s, until the deadline).
func WithExpiryQueue(queueURL string) Option {
	return func(h *Handler) {
		if queueURL != "" {
			h.routes[orders.EventOrderCreated] = destination{queueURL: queueURL, kind: kindExpiry}
		}
	}
}

// expiryMessage is the expiry message of an OrderCreated record.
func expiryMessage(rec outbox.Record) (expiry.Message, error) {
	var p orders.OrderCreated
	if err := json.Unmarshal([]byte(rec.Payload), &p); err != nil {
		return expiry.Message{}, fmt.Errorf("%s payload: %w", rec.EventType, err)
	}
	if p.OrderID == "" {
		p.OrderID = rec.AggregateID
	}
	switch {
	case !order.ValidID(p.OrderID):
		return expiry.Message{}, fmt.Errorf("%s payload: order id %q", rec.EventType, p.OrderID)
	case p.Deadline.IsZero():
		return expiry.Message{}, errors.New(rec.EventType + " payload: no deadline")
	}
	return expiry.Message{OrderID: p.OrderID, Deadline: p.Deadline.UTC()}, nil
}

// stockProducts returns the products whose stock rec changed: an OrderCreated's
// (reserved) and a releasing OrderStatusChanged's (returned). Other records change no
// stock without a catalog event of their own.
func (h *Handler) stockProducts(ctx context.Context, log *slog.Logger, rec outbox.Record) []string {
	var ids []string
	switch rec.EventType {
	case orders.EventOrderCreated:
		var p orders.OrderCreated
		if err := json.Unmarshal([]byte(rec.Payload), &p); err != nil {
			log.ErrorContext(ctx, "order record unreadable; social's stock flags not refreshed", "error", err)
			return nil
		}
		ids = p.ProductIDs
	case orders.EventOrderStatusChanged:
		var p orders.OrderStatusChanged
		if err := json.Unmarshal([]byte(rec.Payload), &p); err != nil {
			log.ErrorContext(ctx, "order record unreadable; social's stock flags not refreshed", "error", err)
			return nil
		}
		if !p.ReleaseStock {
			return nil
		}
		ids = p.ProductIDs
	default:
		return nil
	}
	if len(ids) == 0 {
		log.WarnContext(ctx, "stock-changing record names no products (written before productIds); social's stock flags refresh with the products' next change")
		return nil
	}
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if id != "" && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}
