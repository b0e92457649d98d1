package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/etalase/etalase/infra/localrun/demo"
)

const seedUsage = `usage: etalase seed [-url http://127.0.0.1:3000]

Fills a running make dev with the demo shop: sellers list products (with images
the storefront serves), the relay tells social about them, creators promote them.
Only what is missing is added, so running it twice is harmless. make dev-demo
(or SEED=1 make dev) does this at start.

flags:
`

// runSeed implements `etalase seed`.
func runSeed(args []string) int {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	url := fs.String("url", fmt.Sprintf("http://127.0.0.1:%d", envInt("PORT", 3000)), "the running make dev's origin")
	wait := fs.Duration("wait", time.Minute, "how long to wait for social to learn of the products")
	fs.Usage = func() { fmt.Fprint(fs.Output(), seedUsage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := seedDemo(ctx, *url, *wait, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "etalase seed: %v\n", err)
		return 1
	}
	return 0
}

// seedDemo seeds the demo shop at url and says where to look.
func seedDemo(ctx context.Context, url string, wait time.Duration, w io.Writer) error {
	begin := time.Now()
	shop, err := demo.Seed(ctx, demo.Options{URL: url, Log: w, SnapshotWait: wait})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "demo shop ready in %s: %d products, %d promotions. Open %s/ (sign in as buyer-1, creator-1 or seller-1)\n",
		time.Since(begin).Round(time.Millisecond), len(shop.Products), len(shop.Promotions), url)
	return nil
}
