// Package demo seeds a running local etalase with a small, believable shop — sellers
// and their products (with images the storefront serves), creators and their
// promotions — so that a newcomer who runs `make dev-demo` sees a living shop at once.
//
// It goes only through the public HTTP APIs, with tokens from the local identity
// provider, as people would: sellers list products in commerce; the relay carries the
// catalog events to social's inbox; once social knows a product, creators promote it.
// Seeding again finds what is there (by title, by product) and adds only what is
// missing.
package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Product is a product of the demo catalog.
type Product struct {
	// Key names it in the demo ("kopi"); ID is its catalog id once listed.
	Key, ID string
	// SellerID lists it.
	SellerID string
	// Title, Description and Image (a path the storefront serves) describe it.
	Title, Description, Image string
	// Price is in whole rupiah.
	Price int64
	// Stock is what the seller lists it with.
	Stock int64
	// SoldOut sets its stock to zero once promoted, so the shop shows a sold-out item.
	SoldOut bool
}

// Promotion is a promotion of the demo shop.
type Promotion struct {
	// Key names it in the demo; ID is its id once created.
	Key, ID string
	// CreatorID promotes ProductKey's product.
	CreatorID, ProductKey string
	// Kind is video, live or showcase; Caption what the creator says.
	Kind, Caption string
	// CommissionBps is the creator's rate in basis points.
	CommissionBps int
}

// Shop is the seeded shop.
type Shop struct {
	Products   []Product
	Promotions []Promotion
}

// Product returns the product with key k; it panics on an unknown key (a typo in a test).
func (s *Shop) Product(k string) Product {
	for _, p := range s.Products {
		if p.Key == k {
			return p
		}
	}
	panic("demo: no product " + k)
}

// Promotion returns the promotion with key k; it panics on an unknown key.
func (s *Shop) Promotion(k string) Promotion {
	for _, p := range s.Promotions {
		if p.Key == k {
			return p
		}
	}
	panic("demo: no promotion " + k)
}

// Catalog is the demo's products; Promotions its promotions, oldest first (the feed
// shows the newest first).
var (
	Catalog = []Product{
		{Key: "batik", SellerID: "seller-1", Title: "Kain Batik Tulis Parang, 2 m", Image: "/assets/batik-parang.svg", Price: 450000, Stock: 8,
			Description: "Batik tulis motif parang dari Solo, pewarna alam soga, katun primisima 2 × 1,1 m. Setiap lembar dibatik tangan selama tiga minggu."},
		{Key: "kopi", SellerID: "seller-1", Title: "Kopi Arabika Gayo 250 g", Image: "/assets/kopi-gayo.svg", Price: 85000, Stock: 40,
			Description: "Biji kopi arabika Gayo, Aceh Tengah, sangrai medium. Catatan rasa cokelat, gula aren dan sedikit jeruk."},
		{Key: "sambal", SellerID: "seller-2", Title: "Sambal Bawang Pedas 150 g", Image: "/assets/sambal-bawang.svg", Price: 35000, Stock: 60,
			Description: "Sambal bawang cabai rawit goreng, tanpa pengawet. Tahan tiga bulan di suhu ruang."},
		{Key: "tenun", SellerID: "seller-3", Title: "Kain Tenun Ikat Sumba", Image: "/assets/tenun-sumba.svg", Price: 1250000, Stock: 3,
			Description: "Tenun ikat Sumba Timur, benang katun pewarna alam mengkudu dan nila, ditenun tiga bulan. 200 × 60 cm."},
		{Key: "rendang", SellerID: "seller-2", Title: "Rendang Daging Sapi 500 g", Image: "/assets/rendang.svg", Price: 145000, Stock: 25,
			Description: "Rendang Padang dimasak delapan jam, kemasan vakum. Tahan dua minggu tanpa kulkas, cocok untuk bekal mudik."},
		{Key: "keripik", SellerID: "seller-2", Title: "Keripik Singkong Balado 200 g", Image: "/assets/keripik-balado.svg", Price: 22000, Stock: 100,
			Description: "Keripik singkong tipis dengan bumbu balado pedas manis khas Bukittinggi."},
		{Key: "madu", SellerID: "seller-3", Title: "Madu Hutan Sumbawa 500 ml", Image: "/assets/madu-sumbawa.svg", Price: 120000, Stock: 5, SoldOut: true,
			Description: "Madu hutan liar dari Sumbawa, dipanen lestari oleh petani lebah lokal."},
		{Key: "rotan", SellerID: "seller-1", Title: "Tas Anyaman Rotan Bulat", Image: "/assets/tas-rotan.svg", Price: 275000, Stock: 12,
			Description: "Tas bulat anyaman rotan dari Lombok, tali kulit, diameter 20 cm."},
	}
	Promotions = []Promotion{
		{Key: "rotan-showcase", CreatorID: "creator-3", ProductKey: "rotan", Kind: "showcase", CommissionBps: 800, Caption: "Tas rotan Lombok: ringan, kuat, cocok buat ke pantai"},
		{Key: "madu-showcase", CreatorID: "creator-1", ProductKey: "madu", Kind: "showcase", CommissionBps: 1000, Caption: "Madu hutan asli, stok terbatas!"},
		{Key: "keripik-showcase", CreatorID: "creator-2", ProductKey: "keripik", Kind: "showcase", CommissionBps: 1200, Caption: "Camilan nonton bola: keripik balado, renyah sampai bungkus terakhir"},
		{Key: "tenun-video", CreatorID: "creator-3", ProductKey: "tenun", Kind: "video", CommissionBps: 500, Caption: "Tiga bulan di alat tenun: cerita di balik selembar tenun ikat Sumba"},
		{Key: "rendang-video", CreatorID: "creator-2", ProductKey: "rendang", Kind: "video", CommissionBps: 1000, Caption: "Rendang buat bekal mudik, tahan dua minggu tanpa kulkas"},
		{Key: "sambal-video", CreatorID: "creator-2", ProductKey: "sambal", Kind: "video", CommissionBps: 1500, Caption: "Level pedas lima, wajib coba dengan nasi hangat"},
		{Key: "batik-live", CreatorID: "creator-1", ProductKey: "batik", Kind: "live", CommissionBps: 700, Caption: "LIVE dari Laweyan: cara membedakan batik tulis dan batik cap"},
		{Key: "kopi-video", CreatorID: "creator-1", ProductKey: "kopi", Kind: "video", CommissionBps: 1000, Caption: "Pagi-pagi seduh Kopi Gayo: aroma cokelat dan gula aren, wajib coba!"},
	}
)

// Options configure Seed.
type Options struct {
	// URL is the local origin, e.g. http://127.0.0.1:3000.
	URL string
	// Client sends the requests; nil means a client with a 30 s timeout.
	Client *http.Client
	// Log receives one line per step; nil means none.
	Log io.Writer
	// SnapshotWait bounds the wait for social to learn of a product; zero means 60 s.
	SnapshotWait time.Duration
	// PromotionDays is how long the promotions run; zero means 30.
	PromotionDays int
}

// Seed lists the demo catalog and creates the demo promotions through the APIs at
// o.URL, adding only what is missing, and returns the shop with its ids.
func Seed(ctx context.Context, o Options) (*Shop, error) {
	c := &client{base: strings.TrimRight(o.URL, "/"), http: o.Client, log: o.Log, tokens: map[string]string{}}
	if c.http == nil {
		c.http = &http.Client{Timeout: 30 * time.Second}
	}
	if c.log == nil {
		c.log = io.Discard
	}
	if o.SnapshotWait <= 0 {
		o.SnapshotWait = 60 * time.Second
	}
	if o.PromotionDays <= 0 {
		o.PromotionDays = 30
	}
	shop := &Shop{Products: append([]Product(nil), Catalog...), Promotions: append([]Promotion(nil), Promotions...)}

	// Sellers list their products (or find them listed).
	existing := map[string]map[string]apiProduct{} // seller → title → product
	for i := range shop.Products {
		p := &shop.Products[i]
		if existing[p.SellerID] == nil {
			list, err := c.sellerProducts(ctx, p.SellerID)
			if err != nil {
				return nil, err
			}
			existing[p.SellerID] = list
		}
		if found, ok := existing[p.SellerID][p.Title]; ok && found.Status == "LISTED" {
			p.ID = found.ProductID
			continue
		}
		var out apiProduct
		err := c.do(ctx, p.SellerID, []string{"seller"}, http.MethodPost, "/commerce/v1/products", map[string]any{
			"title": p.Title, "description": p.Description, "imageUrl": p.Image,
			"price": map[string]any{"amount": p.Price, "currency": "IDR"}, "stock": p.Stock,
		}, &out)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", p.Title, err)
		}
		p.ID = out.ProductID
		fmt.Fprintf(c.log, "demo: %s listed %s (%s)\n", p.SellerID, p.Title, p.ID)
	}

	// Creators promote them, once social has the products' snapshots.
	promoted := map[string]map[string]string{} // creator → product id → promotion id
	for i := range shop.Promotions {
		pr := &shop.Promotions[i]
		prod := shop.Product(pr.ProductKey)
		if promoted[pr.CreatorID] == nil {
			m, err := c.ownPromotions(ctx, pr.CreatorID)
			if err != nil {
				return nil, err
			}
			promoted[pr.CreatorID] = m
		}
		if id, ok := promoted[pr.CreatorID][prod.ID]; ok {
			pr.ID = id
			continue
		}
		body := map[string]any{
			"productId": prod.ID, "kind": pr.Kind, "caption": pr.Caption, "commissionBps": pr.CommissionBps,
			"endsAt": time.Now().Add(time.Duration(o.PromotionDays) * 24 * time.Hour).UTC().Format(time.RFC3339),
		}
		if pr.Kind != "showcase" {
			body["mediaUrl"] = prod.Image
		}
		var out struct {
			PromotionID string `json:"promotionId"`
		}
		deadline := time.Now().Add(o.SnapshotWait)
		for {
			err := c.do(ctx, pr.CreatorID, []string{"creator"}, http.MethodPost, "/social/v1/promotions", body, &out)
			var ae *APIError
			if errors.As(err, &ae) && ae.Code == "product_not_found" && time.Now().Before(deadline) {
				// The catalog event is still on its way to social (outbox → relay → inbox).
				if err := sleep(ctx, 250*time.Millisecond); err != nil {
					return nil, err
				}
				continue
			}
			if errors.As(err, &ae) && ae.Code == "product_unavailable" && prod.SoldOut {
				// Seeded before and sold out since; its promotion ended. Leave it be.
				fmt.Fprintf(c.log, "demo: %s is sold out; not promoting it again\n", prod.Title)
				break
			}
			if errors.As(err, &ae) && ae.Code == "product_not_found" {
				return nil, fmt.Errorf("promote %s: social has not learned of product %s within %s: is the relay (outbox → social inbox) running? %w",
					prod.Title, prod.ID, o.SnapshotWait, err)
			}
			if err != nil {
				return nil, fmt.Errorf("promote %s: %w", prod.Title, err)
			}
			break
		}
		pr.ID = out.PromotionID
		promoted[pr.CreatorID][prod.ID] = pr.ID
		fmt.Fprintf(c.log, "demo: %s promotes %s (%s, %s)\n", pr.CreatorID, prod.Title, pr.Kind, pr.ID)
	}

	// A product that sold out, to show how the shop says so.
	for _, p := range shop.Products {
		if !p.SoldOut {
			continue
		}
		if err := c.do(ctx, p.SellerID, []string{"seller"}, http.MethodPut, "/commerce/v1/products/"+p.ID+"/stock", map[string]any{"stock": 0}, nil); err != nil {
			return nil, fmt.Errorf("sell out %s: %w", p.Title, err)
		}
		fmt.Fprintf(c.log, "demo: %s sold out\n", p.Title)
	}
	return shop, nil
}

// APIError is an error answer of an API: its status and stable code.
type APIError struct {
	Status        int
	Code, Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("HTTP %d %s: %s", e.Status, e.Code, e.Message)
}

type apiProduct struct {
	ProductID string `json:"productId"`
	Title     string `json:"title"`
	Status    string `json:"status"`
}

type client struct {
	base   string
	http   *http.Client
	log    io.Writer
	tokens map[string]string
}

// Token returns an access token for sub with scopes from the local identity provider
// at base (POST /_local/idp/token).
func Token(ctx context.Context, hc *http.Client, base, sub string, scopes ...string) (string, error) {
	body, _ := json.Marshal(map[string]any{"sub": sub, "scopes": scopes, "ttlSeconds": 3600})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(base, "/")+"/_local/idp/token", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("token for %s: is make dev running at %s? %w", sub, base, err)
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK || out.AccessToken == "" {
		return "", fmt.Errorf("token for %s: the identity provider answered %s", sub, resp.Status)
	}
	return out.AccessToken, nil
}

func (c *client) token(ctx context.Context, sub string, scopes []string) (string, error) {
	key := sub + " " + strings.Join(scopes, ",")
	if t, ok := c.tokens[key]; ok {
		return t, nil
	}
	t, err := Token(ctx, c.http, c.base, sub, scopes...)
	if err != nil {
		return "", err
	}
	c.tokens[key] = t
	return t, nil
}

// do sends one API request as sub and decodes a 2xx answer into out (if not nil).
func (c *client) do(ctx context.Context, sub string, scopes []string, method, path string, in, out any) error {
	tok, err := c.token(ctx, sub, scopes)
	if err != nil {
		return err
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error   struct{ Code, Message string } `json:"error"`
			Message string                         `json:"message"` // API Gateway's own errors
		}
		_ = json.Unmarshal(b, &e)
		msg := e.Error.Message
		if msg == "" {
			msg = e.Message
		}
		return &APIError{Status: resp.StatusCode, Code: e.Error.Code, Message: msg}
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return nil
}

func (c *client) sellerProducts(ctx context.Context, seller string) (map[string]apiProduct, error) {
	out := map[string]apiProduct{}
	cursor := ""
	for {
		q := url.Values{"limit": {"100"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var page struct {
			Items      []apiProduct `json:"items"`
			NextCursor string       `json:"nextCursor"`
		}
		if err := c.do(ctx, seller, []string{"seller"}, http.MethodGet, "/commerce/v1/seller/products?"+q.Encode(), nil, &page); err != nil {
			return nil, fmt.Errorf("%s's products: %w", seller, err)
		}
		for _, p := range page.Items {
			if prev, ok := out[p.Title]; !ok || prev.Status != "LISTED" {
				out[p.Title] = p
			}
		}
		if page.NextCursor == "" {
			return out, nil
		}
		cursor = page.NextCursor
	}
}

func (c *client) ownPromotions(ctx context.Context, creator string) (map[string]string, error) {
	out := map[string]string{}
	cursor := ""
	for {
		q := url.Values{"limit": {"50"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var page struct {
			Items []struct {
				PromotionID string `json:"promotionId"`
				ProductID   string `json:"productId"`
				State       string `json:"state"`
			} `json:"items"`
			NextCursor string `json:"nextCursor"`
		}
		if err := c.do(ctx, creator, []string{"creator"}, http.MethodGet, "/social/v1/creator/promotions?"+q.Encode(), nil, &page); err != nil {
			return nil, fmt.Errorf("%s's promotions: %w", creator, err)
		}
		for _, p := range page.Items {
			if p.State == "LIVE" {
				out[p.ProductID] = p.PromotionID
			}
		}
		if page.NextCursor == "" {
			return out, nil
		}
		cursor = page.NextCursor
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
