package compliance

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// PackageGraph is what the import check knows about the module's packages.
type PackageGraph struct {
	// Module is the module path, e.g. github.com/etalase/etalase.
	Module string
	// Roots maps every package under functions/ and shared/ to all the packages it
	// depends on, directly or not (go list's Deps).
	Roots map[string][]string
	// Imports maps packages to their direct imports. It is optional and only used to
	// show how a forbidden package is reached.
	Imports map[string][]string
	// Errors are packages go list could not load, as "path: error".
	Errors []string
}

// ImportResult is the import check's outcome.
type ImportResult struct {
	Check Check
	// Edges is the number of (package, dependency) pairs examined.
	Edges int
}

// neutral are the shared trees both sides may use: the cross-account contract and
// account-neutral platform helpers.
var neutral = []string{"shared/contract", "shared/platform"}

// under reports whether rel is dir or inside it.
func under(rel, dir string) bool { return rel == dir || strings.HasPrefix(rel, dir+"/") }

// CheckImports checks rule 4 of the boundary on a package graph. A package under
// functions/<side>/ or shared/<side>/ may depend, inside the module, only on its own
// side's packages and on shared/contract and shared/platform; those two may depend only
// on each other; nothing checked may depend on infra/ (tooling). Dependencies outside
// the module are not restricted.
func CheckImports(g PackageGraph, sides []string) ImportResult {
	var bad, notes []string
	for _, e := range g.Errors {
		bad = append(bad, "cannot load "+e)
	}
	edges, functions := 0, 0
	prefix := g.Module + "/"
	for _, root := range sortedRoots(g.Roots) {
		rel, ok := strings.CutPrefix(root, prefix)
		if !ok {
			bad = append(bad, root+" is not in module "+g.Module)
			continue
		}
		side, allowed, ok := packageRule(rel, sides)
		if !ok {
			bad = append(bad, fmt.Sprintf("%s: a function lives in functions/<%s>/<name>", rel, strings.Join(sides, "|")))
			continue
		}
		if strings.HasPrefix(rel, "functions/") && strings.Count(rel, "/") == 2 {
			functions++
		}
		for _, dep := range g.Roots[root] {
			edges++
			drel, inModule := strings.CutPrefix(dep, prefix)
			if !inModule || slices.ContainsFunc(allowed, func(dir string) bool { return under(drel, dir) }) {
				continue
			}
			msg := fmt.Sprintf("%s imports %s", rel, drel)
			if chain := importChain(g.Imports, root, dep); len(chain) > 2 {
				msg = fmt.Sprintf("%s imports %s (via %s)", rel, drel, strings.Join(trimAll(chain[1:len(chain)-1], prefix), " -> "))
			}
			switch other := otherSide(drel, side, sides); {
			case under(drel, "infra"):
				msg += ": functions and shared code never import infra/ tooling"
			case other != "" && side == "":
				msg += fmt.Sprintf(": shared code both sides use must not depend on %s code", other)
			case other != "":
				msg += fmt.Sprintf(": a %s package must not depend on %s code", side, other)
			default:
				msg += fmt.Sprintf(": %s may only depend on %s", rel, strings.Join(allowed, ", "))
			}
			bad = append(bad, msg)
		}
	}
	summary := fmt.Sprintf("%d packages (%d functions), %d dependency edges", len(g.Roots), functions, edges)
	if len(g.Roots) == 0 {
		notes = append(notes, "no packages under functions/ or shared/ yet")
	}
	return ImportResult{
		Check: newCheck(CheckImportsBoundary, "a social package never depends on commerce code or the reverse; both share only shared/contract and shared/platform; nothing depends on infra/",
			summary, bad, notes),
		Edges: edges,
	}
}

// packageRule returns a package's side ("" for neutral ones) and the module-relative
// trees it may depend on; ok is false for a package in no recognised place.
func packageRule(rel string, sides []string) (side string, allowed []string, ok bool) {
	parts := strings.Split(rel, "/")
	switch {
	case slices.ContainsFunc(neutral, func(dir string) bool { return under(rel, dir) }):
		return "", neutral, true
	case len(parts) >= 2 && (parts[0] == "functions" || parts[0] == "shared") && slices.Contains(sides, parts[1]):
		return parts[1], append([]string{"functions/" + parts[1], "shared/" + parts[1]}, neutral...), true
	case parts[0] == "shared":
		// shared/<something else>: not a place the boundary knows; a function or
		// side package that imports it fails on its own rule.
		return "", append([]string{"shared/" + parts[1]}, neutral...), len(parts) >= 2
	}
	return "", nil, false
}

// otherSide names the side whose code rel is, when that is not side.
func otherSide(rel, side string, sides []string) string {
	for _, s := range sides {
		if s != side && (under(rel, "functions/"+s) || under(rel, "shared/"+s)) {
			return s
		}
	}
	return ""
}

// importChain finds a shortest import path from one package to another, or nil.
func importChain(imports map[string][]string, from, to string) []string {
	if imports == nil {
		return nil
	}
	prev := map[string]string{from: ""}
	queue := []string{from}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if p == to {
			var chain []string
			for ; p != ""; p = prev[p] {
				chain = append([]string{p}, chain...)
			}
			return chain
		}
		for _, next := range imports[p] {
			if _, seen := prev[next]; !seen {
				prev[next] = p
				queue = append(queue, next)
			}
		}
	}
	return nil
}

func trimAll(paths []string, prefix string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = strings.TrimPrefix(p, prefix)
	}
	return out
}

func sortedRoots(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// listedPackage is the part of `go list -json` output the loader reads.
type listedPackage struct {
	ImportPath string
	Imports    []string
	Deps       []string
	DepOnly    bool
	Error      *struct{ Err string }
}

// LoadPackageGraph lists the packages under functions/ and shared/ of the module in
// repoDir with everything they depend on, as the Lambda build sees them (linux/arm64,
// -tags lambda.norpc).
func LoadPackageGraph(ctx context.Context, repoDir string) (PackageGraph, error) {
	module, err := modulePath(filepath.Join(repoDir, "go.mod"))
	if err != nil {
		return PackageGraph{}, err
	}
	var patterns []string
	for _, dir := range []string{"functions", "shared"} {
		if st, err := os.Stat(filepath.Join(repoDir, dir)); err == nil && st.IsDir() {
			patterns = append(patterns, "./"+dir+"/...")
		}
	}
	g := PackageGraph{Module: module, Roots: map[string][]string{}, Imports: map[string][]string{}}
	if len(patterns) == 0 {
		return g, nil
	}
	args := append([]string{"list", "-e", "-deps", "-tags", "lambda.norpc", "-json=ImportPath,Imports,Deps,DepOnly,Error"}, patterns...)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = repoDir
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return PackageGraph{}, fmt.Errorf("go list: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return PackageGraph{}, fmt.Errorf("decode go list output: %w", err)
		}
		g.Imports[p.ImportPath] = p.Imports
		if p.Error != nil {
			g.Errors = append(g.Errors, p.ImportPath+": "+strings.TrimSpace(p.Error.Err))
		}
		if !p.DepOnly && strings.HasPrefix(p.ImportPath, module+"/") {
			g.Roots[p.ImportPath] = p.Deps
		}
	}
	return g, nil
}

// modulePath reads the module path from a go.mod file.
func modulePath(gomod string) (string, error) {
	f, err := os.Open(gomod)
	if err != nil {
		return "", fmt.Errorf("read module path: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`), nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("read module path: %w", err)
	}
	return "", fmt.Errorf("%s: no module line", gomod)
}
