package catalog

import (
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/etalase/etalase/shared/commerce/money"
	"github.com/etalase/etalase/shared/platform/ident"
)

// Limits of product fields.
const (
	MaxTitleRunes       = 200
	MaxDescriptionRunes = 5000
	MaxImageURLLength   = 2048
	// MaxStock bounds a product's stock and a single adjustment, far above any real
	// inventory and far below int64 overflow.
	MaxStock int64 = 1_000_000_000
)

// Status is whether a product is on sale.
type Status string

// Product statuses.
const (
	// StatusListed: on sale.
	StatusListed Status = "LISTED"
	// StatusDelisted: withdrawn by the seller; still readable, no longer changeable.
	StatusDelisted Status = "DELISTED"
)

// Product is a seller's product.
type Product struct {
	// ID is random and unguessable: "p_" and 26 base32 characters (128 bits).
	ID string
	// SellerID is the owning seller's user id (the token's subject).
	SellerID string
	// Title is 1 to 200 characters on one line.
	Title string
	// Description is free text up to 5000 characters; may be empty.
	Description string
	// ImageURL is an https URL or a root-relative path on the storefront ("/assets/x.jpg").
	ImageURL string
	// Price is positive, in a supported currency.
	Price money.Money
	// Stock is the number of units available, never negative.
	Stock int64
	// Status is LISTED or DELISTED.
	Status Status
	// Version starts at 1 and grows by one with every write. It is the optimistic
	// concurrency token and the event version social uses to drop stale events.
	Version int64
	// CreatedAt is when the product was created; it orders a seller's list.
	CreatedAt time.Time
	// UpdatedAt is when the product last changed.
	UpdatedAt time.Time
}

// InStock reports whether a buyer can buy the product now.
func (p Product) InStock() bool { return p.Status == StatusListed && p.Stock > 0 }

// NewProduct is what a seller supplies to create a product; the rules are Product's.
type NewProduct struct {
	// Title is required.
	Title string
	// Description may be empty.
	Description string
	// ImageURL is required.
	ImageURL string
	// Price must be positive.
	Price money.Money
	// Stock is the initial stock, zero or more.
	Stock int64
}

// Changes is a partial update: nil fields stay as they are.
type Changes struct {
	// Title, if set, replaces the title.
	Title *string
	// Description, if set, replaces the description; "" clears it.
	Description *string
	// ImageURL, if set, replaces the image.
	ImageURL *string
	// Price, if set, replaces the price.
	Price *money.Money
}

// normalize trims surrounding white space of the text fields.
func (n NewProduct) normalize() NewProduct {
	n.Title = strings.TrimSpace(n.Title)
	n.Description = strings.TrimSpace(n.Description)
	n.ImageURL = strings.TrimSpace(n.ImageURL)
	return n
}

// validate reports every problem of a (normalized) new product.
func (n NewProduct) validate() error {
	var ps problems
	validateTitle(&ps, n.Title)
	validateDescription(&ps, n.Description)
	validateImageURL(&ps, n.ImageURL)
	validatePrice(&ps, n.Price)
	validateStock(&ps, "stock", n.Stock)
	return ps.Err()
}

// normalize trims surrounding white space of the text fields that are set.
func (c Changes) normalize() Changes {
	trim := func(s *string) *string {
		if s == nil {
			return nil
		}
		t := strings.TrimSpace(*s)
		return &t
	}
	c.Title, c.Description, c.ImageURL = trim(c.Title), trim(c.Description), trim(c.ImageURL)
	return c
}

// validate reports every problem of (normalized) changes; at least one field must be set.
func (c Changes) validate() error {
	var ps problems
	if c.Title == nil && c.Description == nil && c.ImageURL == nil && c.Price == nil {
		ps.Add("", "at least one of title, description, imageUrl, price is required")
	}
	if c.Title != nil {
		validateTitle(&ps, *c.Title)
	}
	if c.Description != nil {
		validateDescription(&ps, *c.Description)
	}
	if c.ImageURL != nil {
		validateImageURL(&ps, *c.ImageURL)
	}
	if c.Price != nil {
		validatePrice(&ps, *c.Price)
	}
	return ps.Err()
}

// apply returns p with the changes and whether anything differs.
func (c Changes) apply(p Product) (Product, bool) {
	next := p
	if c.Title != nil {
		next.Title = *c.Title
	}
	if c.Description != nil {
		next.Description = *c.Description
	}
	if c.ImageURL != nil {
		next.ImageURL = *c.ImageURL
	}
	if c.Price != nil {
		next.Price = *c.Price
	}
	changed := next.Title != p.Title || next.Description != p.Description ||
		next.ImageURL != p.ImageURL || next.Price != p.Price
	return next, changed
}

func validateTitle(ps *problems, s string) {
	n := utf8.RuneCountInString(s)
	switch {
	case !utf8.ValidString(s):
		ps.Add("title", "must be valid UTF-8")
	case n == 0:
		ps.Add("title", "is required")
	case n > MaxTitleRunes:
		ps.Add("title", fmt.Sprintf("must be at most %d characters", MaxTitleRunes))
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		ps.Add("title", "must not contain control characters or line breaks")
	}
}

func validateDescription(ps *problems, s string) {
	bad := func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' }
	switch {
	case !utf8.ValidString(s):
		ps.Add("description", "must be valid UTF-8")
	case utf8.RuneCountInString(s) > MaxDescriptionRunes:
		ps.Add("description", fmt.Sprintf("must be at most %d characters", MaxDescriptionRunes))
	case strings.IndexFunc(s, bad) >= 0:
		ps.Add("description", "must not contain control characters")
	}
}

// validateImageURL accepts an absolute https URL with a host, or a root-relative path
// ("/assets/kopi.jpg") served by the storefront's own origin. Everything else (http,
// javascript:, data:, protocol-relative "//host/x") is refused: the URL ends up in
// pages on both accounts' front ends.
func validateImageURL(ps *problems, s string) {
	const field = "imageUrl"
	if s == "" {
		ps.Add(field, "is required")
		return
	}
	if len(s) > MaxImageURLLength {
		ps.Add(field, fmt.Sprintf("must be at most %d characters", MaxImageURLLength))
		return
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == '\\' || r == 0x7f || r > unicode.MaxASCII }) {
		ps.Add(field, "must be a URL without spaces, backslashes or non-ASCII characters (percent-encode them)")
		return
	}
	u, err := url.Parse(s)
	if err != nil {
		ps.Add(field, "must be a valid URL")
		return
	}
	switch {
	case strings.HasPrefix(s, "/") && !strings.HasPrefix(s, "//"):
		if u.Scheme != "" || u.Host != "" || len(s) < 2 {
			ps.Add(field, "must be an https URL or a path such as /assets/image.jpg")
		}
	case u.Scheme == "https" && u.Host != "" && u.User == nil && u.Opaque == "":
	default:
		ps.Add(field, "must be an https URL or a path such as /assets/image.jpg")
	}
}

func validatePrice(ps *problems, m money.Money) {
	if m == (money.Money{}) {
		ps.Add("price", "is required")
		return
	}
	if !money.Supported(m.Currency) {
		ps.Add("price.currency", "must be one of "+strings.Join(money.Currencies(), ", "))
	}
	switch {
	case m.Amount <= 0:
		ps.Add("price.amount", "must be greater than zero")
	case m.Amount > money.MaxAmount:
		ps.Add("price.amount", fmt.Sprintf("must be at most %d", money.MaxAmount))
	}
}

func validateStock(ps *problems, field string, n int64) {
	if n < 0 || n > MaxStock {
		ps.Add(field, fmt.Sprintf("must be between 0 and %d", MaxStock))
	}
}

// productIDEncoding is lower-case RFC 4648 base32 without padding: URL-safe, no
// ambiguous case, 26 characters for 128 bits.
var productIDEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewProductID returns a fresh random product id.
func NewProductID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("product id: %w", err)
	}
	return "p_" + productIDEncoding.EncodeToString(b[:]), nil
}

// ValidProductID reports whether id has the shape of a product id. Ids of any other
// shape cannot exist, so they are "not found" without a read.
func ValidProductID(id string) bool { return len(id) == 2+26 && ident.Base32(id, "p_") }
