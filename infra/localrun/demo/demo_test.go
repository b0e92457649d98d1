package demo

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"

	"github.com/etalase/etalase/web"
)

// Every demo image is one the storefront serves, every promotion names a demo product,
// and the seller page's image picker offers only images that exist.
func TestCatalogIsConsistent(t *testing.T) {
	files := web.Files()
	keys := map[string]bool{}
	for _, p := range Catalog {
		if keys[p.Key] {
			t.Errorf("product key %s twice", p.Key)
		}
		keys[p.Key] = true
		if _, err := fs.Stat(files, strings.TrimPrefix(p.Image, "/")); err != nil {
			t.Errorf("%s: image %s is not in the storefront", p.Title, p.Image)
		}
		if p.Price <= 0 || p.Stock <= 0 || p.SellerID == "" || p.Title == "" {
			t.Errorf("%s: incomplete product %+v", p.Key, p)
		}
	}
	promoted := map[string]bool{}
	for _, pr := range Promotions {
		if !keys[pr.ProductKey] {
			t.Errorf("promotion %s: no product %s", pr.Key, pr.ProductKey)
		}
		if promoted[pr.CreatorID+"/"+pr.ProductKey] {
			t.Errorf("promotion %s: %s promotes %s twice (seeding again could not tell them apart)", pr.Key, pr.CreatorID, pr.ProductKey)
		}
		promoted[pr.CreatorID+"/"+pr.ProductKey] = true
		if pr.CommissionBps < 100 || pr.CommissionBps > 5000 {
			t.Errorf("promotion %s: commission %d bps outside 100..5000", pr.Key, pr.CommissionBps)
		}
	}
	app, err := fs.ReadFile(files, "app.js")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`const IMAGES = \[([^\]]*)\]`).FindSubmatch(app)
	if m == nil {
		t.Fatal("app.js has no IMAGES list")
	}
	for _, name := range regexp.MustCompile(`'([a-z-]+)'`).FindAllSubmatch(m[1], -1) {
		if _, err := fs.Stat(files, "assets/"+string(name[1])+".svg"); err != nil {
			t.Errorf("app.js offers image %s, which is not in the storefront", name[1])
		}
	}
}
