// Package snapshot keeps social's display snapshots of commerce products: title, image,
// display price and in-stock flag, the only product data social may hold (DESIGN.md
// section 1). Social learns products only from the catalog events commerce's relay
// puts on the social inbox (ProductListed, ProductUpdated, ProductDelisted).
//
// Every event carries the product's version, which grows by one with each change in
// commerce. A snapshot is written only if the event's version is newer than the stored
// one (a conditional put), so a late, duplicated or reordered event never overwrites a
// newer snapshot, and applying the same event twice changes nothing.
package snapshot

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/etalase/etalase/shared/contract"
	"github.com/etalase/etalase/shared/social/money"
)

// ErrNotFound: social has no snapshot of the product (commerce never announced it).
var ErrNotFound = errors.New("product snapshot not found")

// ErrInvalid: an event's product data is unusable (no id, no version, bad price).
var ErrInvalid = errors.New("invalid product event")

// Snapshot is what social shows of a product.
type Snapshot struct {
	// ProductID is commerce's product id.
	ProductID string
	// SellerID is the seller's user id.
	SellerID string
	// Title is the product's title.
	Title string
	// ImageURL is an https URL or a path on the storefront's origin.
	ImageURL string
	// Price is the display price; commerce re-prices every cart from its own catalog.
	Price money.Money
	// InStock is whether at least one unit was available at Version.
	InStock bool
	// Listed is false once commerce delisted the product (for good).
	Listed bool
	// Version is the product's version in commerce that this snapshot shows.
	Version int64
	// UpdatedAt is when that version was made in commerce.
	UpdatedAt time.Time
}

// Available reports whether a viewer can buy the product: listed and in stock.
func (s Snapshot) Available() bool { return s.Listed && s.InStock }

// FromEvent converts a catalog event's payload to the snapshot it announces.
func FromEvent(eventType string, d contract.ProductDisplay, occurredAt time.Time) (Snapshot, error) {
	s := Snapshot{
		ProductID: d.ProductID, SellerID: d.SellerID, Title: d.Title, ImageURL: d.ImageURL,
		Price:   money.Money{Amount: d.Price.Amount, Currency: d.Price.Currency},
		InStock: d.InStock, Version: d.Version, UpdatedAt: occurredAt.UTC(),
	}
	switch eventType {
	case contract.EventProductListed, contract.EventProductUpdated:
		s.Listed = true
	case contract.EventProductDelisted:
		s.Listed, s.InStock = false, false
	default:
		return Snapshot{}, fmt.Errorf("%w: %q is not a catalog event", ErrInvalid, eventType)
	}
	switch {
	case s.ProductID == "" || len(s.ProductID) > 128:
		return Snapshot{}, fmt.Errorf("%w: product id", ErrInvalid)
	case s.Version < 1:
		return Snapshot{}, fmt.Errorf("%w: product %s: version %d", ErrInvalid, s.ProductID, s.Version)
	case !s.Price.Valid():
		return Snapshot{}, fmt.Errorf("%w: product %s: price %v", ErrInvalid, s.ProductID, s.Price)
	}
	return s, nil
}

// Store keeps snapshots.
type Store interface {
	// Get returns a product's snapshot, or ErrNotFound.
	Get(ctx context.Context, productID string) (Snapshot, error)
	// GetMany returns the snapshots of the products that have one, by product id.
	GetMany(ctx context.Context, productIDs []string) (map[string]Snapshot, error)
	// Put writes s unless a snapshot of the same or a newer version is stored; it
	// reports whether it wrote.
	Put(ctx context.Context, s Snapshot) (bool, error)
}
