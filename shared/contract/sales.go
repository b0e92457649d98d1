package contract

import (
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"time"

	"github.com/etalase/etalase/shared/platform/ident"
)

// Event types of sales attributed to a promotion. Commerce emits them through its
// outbox: SaleAttributed when an order line that came through a hand-off token is paid,
// SaleReversed when (part of) it is refunded. Social's commission ledger applies each
// event once (by event id), in any order.
const (
	// EventSaleAttributed: a paid order line came from a promotion.
	EventSaleAttributed = "SaleAttributed"
	// EventSaleReversed: (part of) an attributed line was refunded.
	EventSaleReversed = "SaleReversed"
)

// SalesSchemaVersion is the schema version of the two sale event payloads.
const SalesSchemaVersion = 1

// SaleAttributed is the payload of EventSaleAttributed: "promotion P, creator C, product
// X, quantity, amount, opaque order reference" and nothing more (DESIGN.md section 1,
// rule 3). It names no buyer, no address, no payment detail and no order id.
type SaleAttributed struct {
	// PromotionID is the promotion the hand-off token named.
	PromotionID string `json:"promotionId"`
	// CreatorID is the creator the hand-off token named.
	CreatorID string `json:"creatorId"`
	// ProductID is commerce's product id.
	ProductID string `json:"productId"`
	// Quantity is the number of units sold on the line, at least one.
	Quantity int `json:"quantity"`
	// Amount is the line total the buyer paid (commerce's own price times quantity),
	// in minor units. The commission is computed from it.
	Amount Price `json:"amount"`
	// OrderRef is an opaque, random per-order reference (NewOrderRef) that commerce
	// stores on the order: it lets support on both sides talk about one sale without
	// social ever learning the order id. It cannot be turned into the order id.
	OrderRef string `json:"orderRef"`
	// LineRef identifies the line within the order (commerce's cart line id); OrderRef
	// and LineRef together name one attributed line, which SaleReversed names again.
	LineRef string `json:"lineRef"`
	// SoldAt is when the order was paid.
	SoldAt time.Time `json:"soldAt"`
}

// SaleReversed is the payload of EventSaleReversed: an attributed line was refunded,
// wholly or in part. It names the same line as the SaleAttributed it reverses.
type SaleReversed struct {
	// PromotionID, CreatorID and ProductID repeat the attributed line's.
	PromotionID string `json:"promotionId"`
	CreatorID   string `json:"creatorId"`
	ProductID   string `json:"productId"`
	// Quantity is the number of units refunded; zero when the refund is not per unit.
	Quantity int `json:"quantity"`
	// Amount is the amount refunded on this line by this refund, in minor units. The
	// refunds of one line never add up to more than its attributed amount.
	Amount Price `json:"amount"`
	// OrderRef and LineRef name the attributed line.
	OrderRef string `json:"orderRef"`
	LineRef  string `json:"lineRef"`
	// ReversedAt is when the refund was made.
	ReversedAt time.Time `json:"reversedAt"`
}

// orderRefEncoding is lower-case RFC 4648 base32 without padding.
var orderRefEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewOrderRef returns a fresh opaque order reference: "or_" and 128 random bits. Commerce
// mints one per order, stores it on the order, and puts only it in sale events. Being
// random, not derived from the order id, it reveals nothing about the order.
func NewOrderRef() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("order ref: %w", err)
	}
	return "or_" + orderRefEncoding.EncodeToString(b[:]), nil
}

// ValidOrderRef reports whether s has the shape of an order reference.
func ValidOrderRef(s string) bool { return len(s) == 3+26 && ident.Base32(s, "or_") }
