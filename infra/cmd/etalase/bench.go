package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/etalase/etalase/infra/bench"
	"github.com/etalase/etalase/infra/emulator"
)

const benchUsage = `usage: etalase bench [-quick] [-only STAGES] [-out DIR]

Measures the local system and writes a report: DIR/report.md, DIR/report.json and
SVG charts. It starts DynamoDB Local, the SQS emulator and every function of
template.yaml through the local runner (fresh tables and queues), then runs each
stage of the report (see infra/bench), printing progress lines to stderr.
Figures are medians, and ratios to baselines measured in the same run.

-quick uses the smaller counts of make bench-quick (about a minute); the default
counts take a few minutes on two cores. -only runs some stages, by name or id,
comma-separated (e.g. -only cold-start).

flags:
`

// runBench implements `etalase bench` and returns the process exit code.
func runBench(args []string) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	quick := fs.Bool("quick", false, "smaller counts (make bench-quick)")
	only := fs.String("only", "", "run only these `STAGES` (comma-separated names)")
	out := fs.String("out", "bench-out", "write the report into `DIR` (relative to the repository root)")
	fs.Usage = func() { fmt.Fprint(fs.Output(), benchUsage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	wd, err := os.Getwd()
	if err != nil {
		return failBench(err)
	}
	root, err := emulator.RepoRoot(wd)
	if err != nil {
		return failBench(err)
	}
	dir := *out
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(root, dir)
	}
	// Bounded whatever happens: the full run takes minutes, the quick one about one.
	limit := 20 * time.Minute
	if *quick {
		limit = 5 * time.Minute
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()

	stages, err := bench.SelectStages(bench.DefaultStages(), *only)
	if err != nil {
		fmt.Fprintf(os.Stderr, "etalase bench: %v\n", err)
		return 2
	}
	rep, err := bench.Run(ctx, bench.Options{Root: root, OutDir: dir, Quick: *quick, Progress: os.Stderr, Stages: stages})
	if rep != nil {
		fmt.Fprintf(os.Stderr, "etalase bench: report in %s (took %s)\n", filepath.Join(dir, "report.md"),
			time.Duration(rep.Took).Round(time.Second))
	}
	if err != nil {
		return failBench(err)
	}
	return 0
}

func failBench(err error) int {
	fmt.Fprintf(os.Stderr, "etalase bench: %v\n", err)
	return 1
}
