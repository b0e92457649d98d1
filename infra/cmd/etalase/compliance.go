package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/etalase/etalase/infra/compliance"
)

// runCompliance implements `etalase compliance [-template FILE] [-json]`: it checks the
// social/commerce boundary on the template and the Go package graph, prints the report
// and returns 1 when anything breaks the boundary (2 when the check cannot run).
func runCompliance(args []string) int {
	fs := flag.NewFlagSet("compliance", flag.ContinueOnError)
	tplPath := fs.String("template", "template.yaml", "SAM template to check (relative to the module root)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: etalase compliance [-template FILE] [-json]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	root, err := complianceRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "etalase compliance:", err)
		return 2
	}
	rep, err := compliance.Run(context.Background(), compliance.Options{RepoDir: root, TemplatePath: *tplPath})
	if err != nil {
		fmt.Fprintln(os.Stderr, "etalase compliance:", err)
		return 2
	}
	if *asJSON {
		err = rep.WriteJSON(os.Stdout)
	} else {
		err = rep.WriteText(os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "etalase compliance:", err)
		return 2
	}
	if !rep.Passed() {
		return 1
	}
	return 0
}

// complianceRoot finds the directory holding go.mod, from the working directory up.
func complianceRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find module root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find module root: no go.mod above the working directory")
		}
		dir = parent
	}
}
