package contract

// Event types of the catalog, as written to the outbox's eventType and carried to the
// social inbox. Social keeps one display snapshot per product and applies an event only
// if its Version is newer than the snapshot's, so delivery order does not matter.
const (
	// EventProductListed: a seller created a product; it is on sale.
	EventProductListed = "ProductListed"
	// EventProductUpdated: a listed product's display data, price or stock changed.
	EventProductUpdated = "ProductUpdated"
	// EventProductDelisted: the product is no longer on sale; promotions of it must stop
	// offering it.
	EventProductDelisted = "ProductDelisted"
)

// CatalogSchemaVersion is the schema version of the three catalog event payloads.
const CatalogSchemaVersion = 1

// Price is an amount as it crosses the boundary: integer minor units and an ISO 4217
// code (whole rupiah for IDR). Social displays it; commerce never trusts it back.
type Price struct {
	// Amount in minor units.
	Amount int64 `json:"amount"`
	// Currency is the ISO 4217 code, upper case.
	Currency string `json:"currency"`
}

// ProductDisplay is what social may know about a product: enough to show it in a
// promotion, nothing about stock levels, cost or buyers.
type ProductDisplay struct {
	// ProductID is commerce's product id.
	ProductID string `json:"productId"`
	// SellerID is the seller's user id.
	SellerID string `json:"sellerId"`
	// Title is the product's title.
	Title string `json:"title"`
	// ImageURL is an https URL or a path on the storefront's own origin.
	ImageURL string `json:"imageUrl"`
	// Price is the display price; the cart always re-prices from commerce's catalog.
	Price Price `json:"price"`
	// InStock is whether at least one unit is available; the count is not shared.
	InStock bool `json:"inStock"`
	// Version is the product's version after the change; it only ever grows.
	Version int64 `json:"version"`
}

// ProductListed is the payload of EventProductListed.
type ProductListed struct {
	ProductDisplay
}

// ProductUpdated is the payload of EventProductUpdated.
type ProductUpdated struct {
	ProductDisplay
}

// ProductDelisted is the payload of EventProductDelisted. It carries the last display
// data so that a consumer seeing it first (out of order) still has a full snapshot.
type ProductDelisted struct {
	ProductDisplay
}
