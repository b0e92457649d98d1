// Package e2e_test walks the storefront in a real browser (Debian's Chromium, headless,
// driven by chromedp) against the real template run by the local runner, seeded with
// the demo shop: the whole seamless flow as a person meets it, from the feed to a paid
// order and the creator's earnings, with the states along the way (a price changed
// since the video, an item out of stock, a payment failed and one expired, the network
// gone). Each step leaves a screenshot in .cache/screenshots/.
package e2e_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/etalase/etalase/infra/emulator"
	"github.com/etalase/etalase/infra/localrun"
	"github.com/etalase/etalase/infra/localrun/demo"
	"github.com/etalase/etalase/infra/localrun/localtest"
)

// chromiumMissing is what the test says when it cannot find a browser.
const chromiumMissing = "the storefront's browser test needs Chromium and found none: install the Debian packages " +
	"chromium and chromium-driver (apt-get install -y chromium chromium-driver; .ci/run does this in CI), " +
	"or set CHROMIUM to a Chromium or Chrome binary"

// chromium finds the browser: CHROMIUM when set, else Debian's. Without one the test
// fails under make test and in CI (a test that needs something never skips there) and
// skips elsewhere, saying why.
func chromium(t *testing.T) string {
	t.Helper()
	candidates := []string{"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"}
	if c := os.Getenv("CHROMIUM"); c != "" {
		candidates = []string{c}
	}
	for _, c := range candidates {
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	msg := chromiumMissing + " (looked for " + strings.Join(candidates, ", ") + ")"
	if os.Getenv(emulator.EnvRequireEmulators) == "1" || os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// browser is one headless Chromium tab with a fresh profile, and the screenshots taken.
type browser struct {
	t     *testing.T
	ctx   context.Context
	dir   string
	n     int
	shots []string
}

func newBrowser(t *testing.T, ctx context.Context, exe string) *browser {
	t.Helper()
	profile := t.TempDir()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(profile),
		// Headless, and nothing that reaches for the network on its own (it would stall
		// on a machine without one).
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("hide-scrollbars", true),
		// Back from the payment page loads the shop afresh: chromedp loses track of the
		// document of a page restored from the back-forward cache.
		chromedp.Flag("disable-features", "BackForwardCache"),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelTab := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	// Stop the browser before the profile folder is removed (cleanups run in reverse).
	t.Cleanup(func() { cancelTab(); cancelAlloc() })
	if err := chromedp.Run(bctx); err != nil {
		t.Fatalf("start Chromium (%s): %v", exe, err)
	}
	dir := filepath.Join(localtest.Root(), ".cache", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	old, _ := filepath.Glob(filepath.Join(dir, "*.png"))
	for _, f := range old {
		os.Remove(f)
	}
	return &browser{t: t, ctx: bctx, dir: dir}
}

// stepTimeout bounds every step: every wait in this test ends.
const stepTimeout = 30 * time.Second

// step runs actions within stepTimeout and then saves a screenshot named after the
// step. On failure it saves the page as it was and stops the test, saying which step.
func (b *browser) step(name string, actions ...chromedp.Action) {
	b.t.Helper()
	b.stepWithin(stepTimeout, name, actions...)
}

func (b *browser) stepWithin(d time.Duration, name string, actions ...chromedp.Action) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, d)
	defer cancel()
	began := time.Now()
	err := chromedp.Run(ctx, actions...)
	b.t.Logf("step %s: %s", name, time.Since(began).Round(time.Millisecond))
	b.n++
	file := fmt.Sprintf("%02d-%s.png", b.n, name)
	if err != nil {
		file = fmt.Sprintf("%02d-%s-FAILED.png", b.n, name)
	}
	var png []byte
	sctx, scancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer scancel()
	if serr := chromedp.Run(sctx, chromedp.FullScreenshot(&png, 100)); serr == nil {
		if werr := os.WriteFile(filepath.Join(b.dir, file), png, 0o644); werr == nil {
			b.shots = append(b.shots, file)
		}
	}
	if err != nil {
		var text, loc string
		tctx, tcancel := context.WithTimeout(b.ctx, 5*time.Second)
		_ = chromedp.Run(tctx, chromedp.Location(&loc), chromedp.Evaluate(`document.body ? document.body.innerText : ""`, &text))
		tcancel()
		b.t.Fatalf("step %s: %v\nat %s (screenshot %s)\npage text:\n%.1500s", name, err, loc, filepath.Join(b.dir, file), text)
	}
}

// until waits for a JavaScript condition on the page to be true, within the step's
// time. It asks again every 100 ms, also across page loads (where a question may fail
// because the page it asked went away).
func until(js string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		var last error
		for {
			var ok bool
			err := chromedp.Evaluate("!!("+js+")", &ok).Do(ctx)
			if err == nil && ok {
				return nil
			}
			if err != nil {
				last = err
			}
			select {
			case <-ctx.Done():
				if last != nil {
					return fmt.Errorf("waiting for %s: %w (last error: %v)", js, ctx.Err(), last)
				}
				return fmt.Errorf("waiting for %s: %w", js, ctx.Err())
			case <-time.After(100 * time.Millisecond):
			}
		}
	})
}

// text reads an element's text.
func text(sel string, out *string) chromedp.Action { return chromedp.Text(sel, out, chromedp.ByQuery) }

// signIn uses the page's sign-in picker, as a person does.
func signIn(who string) chromedp.Action {
	return chromedp.Tasks{
		chromedp.Click(`#signin`, chromedp.ByQuery),
		chromedp.WaitVisible(`#picker`, chromedp.ByQuery),
		chromedp.Click(`#picker [data-who="`+who+`"]`, chromedp.ByQuery),
		until(`document.querySelector('#signin').dataset.who === '` + who + `'`),
	}
}

// nav clicks a link of the header.
func nav(name string) chromedp.Action {
	return chromedp.Tasks{
		chromedp.Click(`a[data-nav="`+name+`"]`, chromedp.ByQuery),
		until(`document.body.dataset.page === '` + name + `' && !document.querySelector('#view .loading')`),
	}
}

// openPromotion goes to the feed and clicks the promotion's card.
func openPromotion(id string) chromedp.Action {
	return chromedp.Tasks{
		nav("feed"),
		chromedp.WaitVisible(`#feed [data-promotion="`+id+`"]`, chromedp.ByQuery),
		chromedp.Click(`#feed [data-promotion="`+id+`"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#promotion[data-promotion="`+id+`"] #buy`, chromedp.ByQuery),
	}
}

// checkoutAndOpenPayment presses Checkout in the cart and waits for the provider's page.
func checkoutAndOpenPayment(orderID *string) chromedp.Action {
	return chromedp.Tasks{
		chromedp.WaitEnabled(`#checkout`, chromedp.ByQuery),
		chromedp.Click(`#checkout`, chromedp.ByQuery),
		until(`location.pathname.startsWith('/_local/pay/page/')`),
		chromedp.WaitVisible(`#amount`, chromedp.ByQuery),
		text(`#order-id`, orderID),
	}
}

// backToShop is what a person does after the payment page: its "back to the shop"
// link when the provider shows one, else the browser's Back button until the shop is
// there again (the page's form post is a step of its own in the history).
func backToShop() chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		var hasLink bool
		if err := chromedp.Evaluate(`!!document.querySelector('#return')`, &hasLink).Do(ctx); err != nil {
			return err
		}
		if hasLink {
			return chromedp.Click(`#return`, chromedp.ByQuery).Do(ctx)
		}
		// history.back() rather than chromedp.NavigateBack: a page restored from the
		// back-forward cache fires no load event for NavigateBack to wait for.
		for range 4 {
			var path string
			if err := until(`location.pathname !== ''`).Do(ctx); err != nil {
				return err
			}
			if err := chromedp.Evaluate(`location.pathname`, &path).Do(ctx); err != nil {
				return err
			}
			if !strings.HasPrefix(path, "/_local/pay/") {
				return nil
			}
			// Back after this question has its answer, so that the page going away cannot
			// break the question.
			if err := chromedp.Evaluate(`window.__leaving = true; setTimeout(() => history.back(), 50)`, nil).Do(ctx); err != nil {
				return err
			}
			if err := until(`window.__leaving !== true && document.readyState === 'complete'`).Do(ctx); err != nil {
				return err
			}
		}
		return errors.New("still on the payment page after pressing Back four times")
	})
}

func orderStatus(status string) chromedp.Action {
	return chromedp.Tasks{
		until(`document.body.dataset.page === 'order' && !!document.querySelector('#order-status[data-status="` + status + `"]')`),
		chromedp.WaitVisible(`#order-message`, chromedp.ByQuery),
	}
}

func TestStorefrontWalkthrough(t *testing.T) {
	exe := chromium(t)
	r, logs := localtest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 170*time.Second)
	defer cancel()
	begin := time.Now()
	shop, err := demo.Seed(ctx, demo.Options{URL: r.URL, SnapshotWait: 45 * time.Second})
	if err != nil {
		t.Fatalf("seed the demo shop: %v\n%s", err, tail(logs.String(), 3000))
	}
	t.Logf("demo shop seeded in %s", time.Since(begin).Round(time.Millisecond))
	sellerAPI := seller(t, r)
	b := newBrowser(t, ctx, exe)
	defer func() { t.Logf("screenshots in %s: %s", b.dir, strings.Join(b.shots, ", ")) }()

	kopi, kopiPromo := shop.Product("kopi"), shop.Promotion("kopi-video")
	var s string

	// 1. A guest opens the shop: the feed comes from social.
	b.step("feed",
		chromedp.Navigate(r.URL+"/"),
		chromedp.WaitVisible(`#feed .promo`, chromedp.ByQuery),
		until(`document.querySelectorAll('#feed .promo').length >= 7`),
		// A mark on this document: if anything below left the page (a jump-out), it is gone.
		chromedp.Evaluate(`window.__sameDocument = true`, nil),
	)

	// 2. The promotion's page, with the price shown in the video.
	b.step("promotion",
		openPromotion(kopiPromo.ID),
		text(`#displayed-price`, &s),
	)
	if s != "Rp 85.000" {
		t.Errorf("displayed price = %q, want Rp 85.000", s)
	}

	// 3. Buy: social's hand-off token goes to commerce's guest cart in one click.
	b.step("buy-guest-cart",
		chromedp.Click(`#buy`, chromedp.ByQuery),
		until(`document.body.dataset.page === 'cart' && !!document.querySelector('.line[data-product="`+kopi.ID+`"]')`),
		text(`#cart-total`, &s),
	)
	if s != "Total Rp 85.000" {
		t.Errorf("guest cart total = %q", s)
	}
	var same bool
	var origin string
	mustRun(t, b.ctx, chromedp.Evaluate(`window.__sameDocument === true`, &same), chromedp.Evaluate(`location.origin`, &origin))
	if !same || origin != r.URL {
		t.Errorf("the hand-over left the page: same document %v, origin %s", same, origin)
	}
	// What the buyer never sees: the page's x-ray of which account answered. One click
	// took a token from social and put it into commerce's cart.
	var xray string
	b.step("hand-over-xray",
		chromedp.Click(`#xray-toggle`, chromedp.ByQuery),
		chromedp.WaitVisible(`#xray-log li`, chromedp.ByQuery),
		chromedp.ScrollIntoView(`#xray`, chromedp.ByQuery),
		text(`#xray-log`, &xray),
	)
	handoff := strings.Index(xray, "POST /social/v1/promotions/"+kopiPromo.ID+"/handoff")
	add := strings.Index(xray, "POST /commerce/v1/guest-cart/items")
	if handoff < 0 || add < 0 || add > handoff { // newest first
		t.Errorf("x-ray of the Buy click = %q, want the hand-off from social, then the add to commerce's cart", xray)
	}
	mustRun(t, b.ctx, chromedp.Click(`#xray-toggle`, chromedp.ByQuery))

	// The guest cart's cookie is HttpOnly and Secure: Chromium keeps it on
	// http://127.0.0.1 (a potentially trustworthy origin) and sends it back.
	checkGuestCookie(t, b.ctx)

	// 4. Meanwhile the seller raises the price; the buyer signs in and the guest cart
	// merges into theirs, which says the price changed since the video.
	sellerAPI("PATCH", "/commerce/v1/products/"+kopi.ID, `{"price":{"amount":95000,"currency":"IDR"}}`, http.StatusOK)
	b.step("signed-in-price-changed",
		signIn("buyer-1"),
		nav("cart"),
		chromedp.WaitVisible(`.line[data-product="`+kopi.ID+`"] .price-changed`, chromedp.ByQuery),
		text(`.line[data-product="`+kopi.ID+`"] .price-changed`, &s),
	)
	if !strings.Contains(s, "Rp 85.000") || !strings.Contains(s, "Rp 95.000") {
		t.Errorf("price-changed note = %q, want the video's Rp 85.000 and the shop's Rp 95.000", s)
	}

	// 5. Two instead of one.
	b.step("quantity",
		chromedp.Click(`.line[data-product="`+kopi.ID+`"] .inc`, chromedp.ByQuery),
		until(`document.querySelector('.line[data-product="`+kopi.ID+`"] .qty')?.textContent === '2'`),
		text(`#cart-total`, &s),
	)
	if s != "Total Rp 190.000" {
		t.Errorf("cart total after quantity 2 = %q, want Total Rp 190.000", s)
	}

	// 6. Checkout opens the payment provider's hosted page (the local sandbox).
	var paidOrder string
	b.step("payment-page",
		checkoutAndOpenPayment(&paidOrder),
		text(`#amount`, &s),
	)
	if s != "IDR 190.000" {
		t.Errorf("payment page amount = %q, want IDR 190.000", s)
	}

	// 7. Pay; back in the shop the order turns PAID by itself (webhook → payments).
	b.step("paid-at-provider",
		chromedp.Click(`button[value="pay"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#result`, chromedp.ByQuery),
	)
	b.stepWithin(40*time.Second, "order-paid",
		backToShop(),
		orderStatus("PAID"),
		text(`#order-total`, &s),
	)
	if s != "Rp 190.000" {
		t.Errorf("order total = %q", s)
	}

	// 8. An out-of-stock attempt: the seller's sambal sells out just before the buyer
	// presses Buy. Whether social already knows (the page says so) or not yet (commerce
	// refuses the hand-off), the buyer reads it plainly.
	sambal, sambalPromo := shop.Product("sambal"), shop.Promotion("sambal-video")
	sellerAs(t, r, sambal.SellerID)("PUT", "/commerce/v1/products/"+sambal.ID+"/stock", `{"stock":0}`, http.StatusOK)
	b.step("out-of-stock",
		openPromotion(sambalPromo.ID),
		chromedp.ActionFunc(func(ctx context.Context) error {
			var enabled bool
			if err := chromedp.Evaluate(`!document.querySelector('#buy').disabled`, &enabled).Do(ctx); err != nil || !enabled {
				return err
			}
			return chromedp.Click(`#buy`, chromedp.ByQuery).Do(ctx)
		}),
		chromedp.WaitVisible(`#notice .out-of-stock`, chromedp.ByQuery),
		text(`#notice .out-of-stock`, &s),
	)
	if !strings.Contains(s, "Out of stock") {
		t.Errorf("out-of-stock message = %q", s)
	}

	// 9. A payment that fails, and one left to expire: each order says so.
	var failedOrder, expiredOrder string
	b.step("fail-checkout",
		openPromotion(shop.Promotion("keripik-showcase").ID),
		chromedp.Click(`#buy`, chromedp.ByQuery),
		until(`document.body.dataset.page === 'cart' && !!document.querySelector('.line[data-product="`+shop.Product("keripik").ID+`"]')`),
		checkoutAndOpenPayment(&failedOrder),
		chromedp.Click(`button[value="fail"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#result`, chromedp.ByQuery),
	)
	b.stepWithin(40*time.Second, "order-failed", backToShop(), orderStatus("FAILED"))
	b.step("expire-checkout",
		openPromotion(shop.Promotion("rendang-video").ID),
		chromedp.Click(`#buy`, chromedp.ByQuery),
		until(`document.body.dataset.page === 'cart' && !!document.querySelector('.line[data-product="`+shop.Product("rendang").ID+`"]')`),
		checkoutAndOpenPayment(&expiredOrder),
		chromedp.Click(`button[value="expire"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#result`, chromedp.ByQuery),
	)
	b.stepWithin(40*time.Second, "order-expired", backToShop(), orderStatus("EXPIRED"))
	t.Logf("orders: paid %s, failed %s, expired %s", paidOrder, failedOrder, expiredOrder)

	// 10. The network goes away: the page says so plainly, and recovers.
	b.step("network-error",
		network.EmulateNetworkConditions(true, 0, -1, -1),
		chromedp.Click(`a[data-nav="feed"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#net-error`, chromedp.ByQuery),
	)
	b.step("network-back",
		network.EmulateNetworkConditions(false, 0, -1, -1),
		// The page tries again by itself when the browser says it is online; else the
		// person presses "Try again".
		chromedp.ActionFunc(func(ctx context.Context) error {
			var shown bool
			if err := chromedp.Evaluate(`!document.querySelector('#net-error').hidden`, &shown).Do(ctx); err != nil || !shown {
				return err
			}
			return chromedp.Evaluate(`document.querySelector('#net-retry').click()`, nil).Do(ctx)
		}),
		until(`document.querySelector('#net-error').hidden && document.querySelectorAll('#feed .promo').length > 0`),
	)

	// 11. The seller's page: their products; stock set by hand.
	b.step("seller",
		signIn("seller-1"),
		nav("seller"),
		chromedp.WaitVisible(`#seller-products tr[data-product="`+kopi.ID+`"]`, chromedp.ByQuery),
		chromedp.SetValue(`tr[data-product="`+kopi.ID+`"] .stock-input`, "55", chromedp.ByQuery),
		chromedp.Click(`tr[data-product="`+kopi.ID+`"] .save-stock`, chromedp.ByQuery),
		until(`document.querySelector('tr[data-product="`+kopi.ID+`"] .stock-input')?.value === '55' && document.querySelector('#toast').textContent === 'Stock set'`),
	)
	var p struct {
		Stock int64 `json:"stock"`
	}
	getJSON(t, r.URL+"/commerce/v1/products/"+kopi.ID, &p)
	if p.Stock != 55 {
		t.Errorf("kopi stock after the seller set it = %d, want 55", p.Stock)
	}

	// 12. The creator's page: the click of step 3 and the sale of step 7, with the
	// commission (10% of Rp 190.000). The sale travels paid order → outbox → relay →
	// social inbox; a person reloads until it shows.
	b.stepWithin(45*time.Second, "creator",
		signIn("creator-1"),
		nav("creator"),
		chromedp.ActionFunc(func(ctx context.Context) error {
			sel := `#creator-promotions tr[data-promotion="` + kopiPromo.ID + `"]`
			for {
				var sales string
				err := chromedp.Run(ctx, chromedp.WaitVisible(sel, chromedp.ByQuery), chromedp.Text(sel+` .sales`, &sales, chromedp.ByQuery))
				if err != nil {
					return err
				}
				if sales == "1" {
					return nil
				}
				select {
				case <-ctx.Done():
					return fmt.Errorf("the sale of order %s never reached the creator's page (sales %q): paid order → outbox → relay → social inbox: %w", paidOrder, sales, ctx.Err())
				case <-time.After(time.Second):
				}
				if err := chromedp.Run(ctx, chromedp.Reload(), until(`document.body.dataset.page === 'creator' && !document.querySelector('#view .loading')`)); err != nil {
					return err
				}
			}
		}),
	)
	var clicks, earned, total string
	row := `#creator-promotions tr[data-promotion="` + kopiPromo.ID + `"]`
	mustRun(t, b.ctx, text(row+` .clicks`, &clicks), text(row+` .earned`, &earned), text(`#stat-earnings .v`, &total))
	if clicks == "0" || earned != "Rp 19.000" || total != "Rp 19.000" {
		t.Errorf("creator page: clicks %s, earned %s, total earnings %s; want at least one click and Rp 19.000", clicks, earned, total)
	}
	t.Logf("walkthrough took %s", time.Since(begin).Round(time.Millisecond))
}

func mustRun(t *testing.T, ctx context.Context, actions ...chromedp.Action) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Run(ctx, actions...); err != nil {
		t.Fatal(err)
	}
}

func checkGuestCookie(t *testing.T, ctx context.Context) {
	t.Helper()
	var cookies []*network.Cookie
	var status int
	mustRun(t, ctx,
		chromedp.ActionFunc(func(ctx context.Context) error {
			var err error
			var loc string
			if err := chromedp.Location(&loc).Do(ctx); err != nil {
				return err
			}
			u, err := url.Parse(loc)
			if err != nil {
				return err
			}
			cookies, err = network.GetCookies().WithURLs([]string{u.Scheme + "://" + u.Host + "/commerce/v1/guest-cart"}).Do(ctx)
			return err
		}),
		// Without the X-Cart-Id header, only the cookie names the cart.
		chromedp.Evaluate(`fetch('/commerce/v1/guest-cart', {credentials: 'same-origin'}).then(r => r.status)`, &status,
			func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }),
	)
	var found *network.Cookie
	for _, c := range cookies {
		if c.Name == "etalase_cart" {
			found = c
		}
	}
	if found == nil || !found.HTTPOnly || !found.Secure || found.Path != "/commerce" {
		t.Errorf("guest cart cookie in Chromium = %+v, want etalase_cart, HttpOnly, Secure, Path=/commerce", found)
	}
	if status != http.StatusOK {
		t.Errorf("guest cart by cookie alone = %d, want 200", status)
	}
}

// seller returns a function that calls the API as seller-1.
func seller(t *testing.T, r *localrun.Runner) func(method, path, body string, want int) {
	return sellerAs(t, r, "seller-1")
}

func sellerAs(t *testing.T, r *localrun.Runner, sub string) func(method, path, body string, want int) {
	tok, err := r.IdP.Mint(sub, []string{"seller"}, time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	return func(method, path, body string, want int) {
		t.Helper()
		req, err := http.NewRequest(method, r.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != want {
			t.Fatalf("%s %s = %d %s, want %d", method, path, resp.StatusCode, b, want)
		}
	}
}

func getJSON(t *testing.T, url string, out any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d", url, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatal(errors.Join(fmt.Errorf("GET %s", url), err))
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
