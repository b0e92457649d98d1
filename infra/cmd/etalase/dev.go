package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/etalase/etalase/infra/emulator"
	"github.com/etalase/etalase/infra/localrun"
	"github.com/etalase/etalase/infra/localrun/gateway"
)

const devUsage = `usage: etalase dev [-port N] [-data DIR] [-params FILE] [-seed]

Runs both accounts of template.yaml locally: starts DynamoDB Local and the SQS
emulator, provisions each account's tables and queues, builds every function,
runs them as Lambda runs them, serves both accounts' HTTP APIs on one origin
with the JWT authorizer and a local identity provider, and wires SQS queues,
DynamoDB streams and schedules to their functions. Ctrl-C stops everything.

PORT, DATA and SEED in the environment are the defaults of -port, -data and -seed.
The storefront is at the HTTP API's origin: http://127.0.0.1:3000/.

flags:
`

// runDev implements `etalase dev` and returns the process exit code.
func runDev(args []string) int {
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	port := fs.Int("port", envInt("PORT", 3000), "HTTP API port on 127.0.0.1 (0 picks a free one)")
	dataDir := fs.String("data", os.Getenv("DATA"), "keep DynamoDB Local's tables in `DIR` between runs")
	paramsPath := fs.String("params", "", "template parameters `FILE` (default infra/local/parameters.json)")
	seed := fs.Bool("seed", envBool("SEED"), "fill the shop with the demo catalog, creators and promotions")
	fs.Usage = func() { fmt.Fprint(fs.Output(), devUsage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	wd, err := os.Getwd()
	if err != nil {
		return fail(err)
	}
	root, err := emulator.RepoRoot(wd)
	if err != nil {
		return fail(err)
	}
	if *paramsPath == "" {
		*paramsPath = filepath.Join(root, localrun.ParamsFile)
	}
	params, err := localrun.LoadParams(*paramsPath)
	if err != nil {
		return fail(err)
	}
	// Take the port first, so that a port in use is said plainly before anything starts.
	ln, err := gateway.Listen(fmt.Sprintf("127.0.0.1:%d", *port))
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			fmt.Fprintf(os.Stderr, "etalase dev: port %d is already in use; stop what uses it or run PORT=<other> make dev\n", *port)
			return 1
		}
		return fail(err)
	}
	if *dataDir != "" {
		if *dataDir, err = filepath.Abs(*dataDir); err != nil {
			return fail(err)
		}
	}

	cacheDir := filepath.Join(root, ".cache")
	logDir := filepath.Join(cacheDir, "emulators", "logs")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return fail(err)
	}
	emuLog, err := os.Create(filepath.Join(logDir, "dev.log"))
	if err != nil {
		return fail(err)
	}
	defer emuLog.Close()

	fmt.Fprintln(os.Stderr, "etalase dev: starting DynamoDB Local and the SQS emulator...")
	stack, err := emulator.Start(ctx, emulator.Options{CacheDir: cacheDir, DataDir: *dataDir, Log: emuLog})
	if err != nil {
		ln.Close()
		return fail(err)
	}
	defer stack.Stop()

	fmt.Fprintln(os.Stderr, "etalase dev: provisioning both accounts and building the functions...")
	begin := time.Now()
	runner, err := localrun.Start(ctx, localrun.Options{
		Root:             root,
		Template:         filepath.Join(root, "template.yaml"),
		Params:           params,
		DynamoDBEndpoint: stack.DynamoDBEndpoint,
		SQSEndpoint:      stack.SQSEndpoint,
		Listener:         ln,
		Log:              os.Stdout,
	})
	if err != nil {
		ln.Close()
		return fail(err)
	}
	printSummary(os.Stdout, runner, stack, *dataDir, time.Since(begin))
	if *seed {
		fmt.Fprintln(os.Stderr, "etalase dev: seeding the demo shop...")
		if err := seedDemo(ctx, runner.URL, time.Minute, os.Stderr); err != nil && ctx.Err() == nil {
			fmt.Fprintf(os.Stderr, "etalase dev: the demo shop is incomplete: %v\n", err)
		}
	}

	<-ctx.Done()
	fmt.Fprintln(os.Stderr, "\netalase dev: stopping...")
	code := 0
	if err := runner.Close(); err != nil {
		fmt.Fprintf(os.Stderr, "etalase dev: stop functions: %v\n", err)
		code = 1
	}
	if err := stack.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "etalase dev: stop emulators: %v\n", err)
		code = 1
	}
	fmt.Fprintln(os.Stderr, "etalase dev: stopped")
	return code
}

// printSummary prints where everything is.
func printSummary(w io.Writer, r *localrun.Runner, stack *emulator.Stack, dataDir string, took time.Duration) {
	fmt.Fprintf(w, "\netalase is running (ready in %s)\n\n", took.Round(time.Millisecond))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ROUTE\tFUNCTION\tACCOUNT\tAUTH")
	routes := append([]gateway.Route(nil), r.Routes...)
	sort.Slice(routes, func(i, j int) bool {
		if routes[i].Path != routes[j].Path {
			return routes[i].Path < routes[j].Path
		}
		return routes[i].Method < routes[j].Method
	})
	for _, rt := range routes {
		auth := "public"
		if rt.Authorizer != nil {
			auth = "jwt " + strings.Join(rt.Scopes, ",")
		}
		fmt.Fprintf(tw, "%s %s\t%s\t%s\t%s\n", rt.Method, rt.Path, rt.FunctionID, sideOf(r, rt.FunctionID), auth)
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "TABLE\tLOCAL NAME\tACCOUNT\t")
	for _, side := range []string{"social", "commerce"} {
		res := r.Resources[side]
		for _, id := range sortedKeys(res.Tables) {
			fmt.Fprintf(tw, "%s\t%s\t%s\t\n", id, res.Tables[id].Name, side)
		}
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "QUEUE\tURL\tACCOUNT\t")
	for _, side := range []string{"social", "commerce"} {
		res := r.Resources[side]
		for _, id := range sortedKeys(res.Queues) {
			fmt.Fprintf(tw, "%s\t%s\t%s\t\n", id, res.Queues[id].URL, side)
		}
	}
	fmt.Fprintln(tw)
	// Names only: the values are secrets, generated afresh for this run.
	fmt.Fprintln(tw, "SSM PARAMETER\tACCOUNT\t")
	for _, side := range []string{"social", "commerce"} {
		for _, name := range sortedKeys(r.Secrets[side]) {
			fmt.Fprintf(tw, "%s\t%s\t\n", name, side)
		}
	}
	tw.Flush()
	persist := "in memory"
	if dataDir != "" {
		persist = "kept in " + dataDir
	}
	fmt.Fprintf(w, "\nstorefront                %s/  (the page over both accounts; make dev-demo fills it)\n", r.URL)
	fmt.Fprintf(w, "HTTP API (both accounts)  %s\n", r.URL)
	fmt.Fprintf(w, "identity provider         %s/_local/idp/token  (make token SUB=seller-1 SCOPES=seller)\n", r.URL)
	fmt.Fprintf(w, "DynamoDB Local            %s  (%s)\n", stack.DynamoDBEndpoint, persist)
	fmt.Fprintf(w, "SQS emulator              %s\n", stack.SQSEndpoint)
	fmt.Fprintf(w, "SSM Parameter Store       %s  (per account; fresh secrets each run, values never printed)\n", r.SSMURL)
	fmt.Fprintf(w, "\nPress Ctrl-C to stop.\n\n")
}

func sideOf(r *localrun.Runner, fn string) string {
	if f, ok := r.Functions[fn]; ok {
		return f.Account
	}
	return "?"
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// envBool reads a flag's default from the environment: set and not 0, false or no.
func envBool(name string) bool {
	switch strings.ToLower(strings.TrimSpace(os.Getenv(name))) {
	case "", "0", "false", "no":
		return false
	}
	return true
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}
