// Command fuzzsmoke runs every Go fuzz target of the repository briefly, one after the
// other, and prints what each tried (issue #8, "bad input"): the targets are found by
// their declarations (func FuzzX(f *testing.F) in a _test.go file), so a new one runs
// without being listed anywhere. make test calls it (make fuzz-smoke alone):
//
//	go run ./infra/cmd/fuzzsmoke -fuzztime 3s
//
// Each target runs as go test -run '^$' -fuzz '^FuzzX$' -fuzztime 3s ./pkg. The seed
// corpora (testdata/fuzz/FuzzX and f.Add) already run as ordinary tests under go test;
// this adds a few seconds of mutation per target. A target that fails prints go test's
// output, which names the failing input it wrote to testdata/fuzz/FuzzX: commit it
// with the fix, and it stays a regression test. The last line is the summary:
//
//	fuzz: 11 targets, 812345 execs, 0 failures
package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// target is one fuzz target: its function name and its package directory.
type target struct {
	name string
	dir  string // relative to the root, slash-separated, e.g. shared/commerce/cart
}

var (
	fuzzFunc     = regexp.MustCompile(`(?m)^func (Fuzz\w*)\(\s*\w+ \*testing\.F\s*\)`)
	execsLine    = regexp.MustCompile(`execs: (\d+)`)
	baselineLine = regexp.MustCompile(`gathering baseline coverage: (\d+)/\d+ completed`)
)

// skipDirs are folders that hold no target of ours.
var skipDirs = map[string]bool{".git": true, ".cache": true, "node_modules": true, "testdata": true, "vendor": true, "web": true}

func main() {
	fuzztime := flag.Duration("fuzztime", 3*time.Second, "how long to fuzz each target")
	minimize := flag.Duration("fuzzminimizetime", time.Second, "how long to minimize a new input (go test -fuzzminimizetime); large inputs otherwise stall a short run")
	root := flag.String("root", ".", "the repository root")
	match := flag.String("run", "", "only targets whose name or package matches this regular expression")
	timeout := flag.Duration("timeout", 2*time.Minute, "how long one target's go test (build included) may take")
	flag.Parse()

	var only *regexp.Regexp
	if *match != "" {
		var err error
		if only, err = regexp.Compile(*match); err != nil {
			fail("fuzz: -run: %v", err)
		}
	}
	targets, err := find(*root)
	if err != nil {
		fail("fuzz: %v", err)
	}
	if only != nil {
		targets = slices.DeleteFunc(targets, func(t target) bool { return !only.MatchString(t.name) && !only.MatchString(t.dir) })
	}
	if len(targets) == 0 {
		fail("fuzz: no fuzz targets found under %s", *root)
	}

	var total int64
	var failed []string
	start := time.Now()
	for _, t := range targets {
		execs, baseline, out, dur, err := run(*root, t, *fuzztime, *minimize, *timeout)
		status := "ok"
		if execs == 0 {
			// The whole time went to re-running the corpus (the seeds and what earlier
			// runs found, kept in GOCACHE): those are inputs tried too, but no mutation.
			execs, status = baseline, "ok (corpus only: raise -fuzztime)"
		}
		total += execs
		if err != nil {
			status = "FAIL"
			failed = append(failed, t.name)
		}
		fmt.Printf("fuzz: %-28s %-34s %9d execs  %5.1fs  %s\n", t.name, "./"+t.dir, execs, dur.Seconds(), status)
		if err != nil {
			fmt.Printf("--- %s: %v\n%s\n", t.name, err, indent(out))
		}
	}
	fmt.Printf("fuzz: %d targets, %d execs, %d failures (%.0fs)\n", len(targets), total, len(failed), time.Since(start).Seconds())
	if len(failed) > 0 {
		fmt.Printf("fuzz: failed: %s\n", strings.Join(failed, ", "))
		os.Exit(1)
	}
}

// find returns every fuzz target under root, sorted by package and name.
func find(root string) ([]target, error) {
	var out []target
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (skipDirs[d.Name()] || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, filepath.Dir(path))
		if err != nil {
			return err
		}
		for _, m := range fuzzFunc.FindAllSubmatch(src, -1) {
			out = append(out, target{name: string(m[1]), dir: filepath.ToSlash(rel)})
		}
		return nil
	})
	slices.SortFunc(out, func(a, b target) int {
		if c := strings.Compare(a.dir, b.dir); c != 0 {
			return c
		}
		return strings.Compare(a.name, b.name)
	})
	return out, err
}

// run fuzzes one target and returns the execs go test reported last, and how many
// corpus inputs its baseline run completed.
func run(root string, t target, fuzztime, minimize, timeout time.Duration) (execs, baseline int64, out []byte, dur time.Duration, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "test", "-run=^$", "-fuzz=^"+t.name+"$",
		"-fuzztime="+fuzztime.String(), "-fuzzminimizetime="+minimize.String(), "./"+t.dir)
	cmd.Dir = root
	cmd.WaitDelay = 10 * time.Second
	start := time.Now()
	out, err = cmd.CombinedOutput()
	dur = time.Since(start)
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if m := execsLine.FindSubmatch(sc.Bytes()); m != nil {
			execs, _ = strconv.ParseInt(string(m[1]), 10, 64)
		}
		if m := baselineLine.FindSubmatch(sc.Bytes()); m != nil {
			baseline, _ = strconv.ParseInt(string(m[1]), 10, 64)
		}
	}
	if ctx.Err() != nil {
		err = fmt.Errorf("no result within %s", timeout)
	}
	return execs, baseline, out, dur, err
}

func indent(b []byte) string {
	return "    " + strings.ReplaceAll(strings.TrimRight(string(b), "\n"), "\n", "\n    ")
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(2)
}
