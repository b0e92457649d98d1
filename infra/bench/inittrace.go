package bench

import (
	"context"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// InitTrace is what GODEBUG=inittrace=1 says about one subject's package
// initialisation, as medians over a few cold starts.
type InitTrace struct {
	Name string `json:"name"`
	Runs int    `json:"runs"`
	// Packages is the number of packages with init work.
	Packages int `json:"packages"`
	// PackageInit is the summed clock time of every package's init, in ms; InitBytes
	// what they allocated.
	PackageInit Float `json:"packageInitMs"`
	InitBytes   Float `json:"initBytes"`
	// ToMain is when the last package init ended, in ms after the runtime started:
	// about when main began.
	ToMain Float `json:"toMainMs"`
	// Init is the Init Duration of the traced cold starts (tracing adds a little).
	Init Float `json:"initMs"`
	// ByGroup is PackageInit by origin: "Go runtime and standard library",
	// "aws-lambda-go", "AWS SDK (aws-sdk-go-v2, smithy-go)", "etalase", "other".
	ByGroup map[string]Float `json:"byGroupMs"`
	// Top are the packages with the most init time, slowest first.
	Top []PackageInit `json:"top"`
	// Error is set when the traced cold starts failed.
	Error string `json:"error,omitempty"`

	all map[string]PackageInit // every package, by path
}

// topPackages is how many packages InitTrace.Top keeps.
const topPackages = 15

// PackageInit is one package's init, medians over the runs.
type PackageInit struct {
	Package string  `json:"package"`
	Clock   float64 `json:"clockMs"`
	Bytes   float64 `json:"bytes"`
	Allocs  float64 `json:"allocs"`
}

// Package groups of InitTrace.ByGroup.
const (
	GroupStd    = "Go runtime and standard library"
	GroupLambda = "aws-lambda-go"
	GroupSDK    = "AWS SDK (aws-sdk-go-v2, smithy-go)"
	GroupApp    = "etalase"
	GroupOther  = "other"
)

// initLine matches a line of GODEBUG=inittrace=1 (after the runner's log prefix).
var initLine = regexp.MustCompile(`init (\S+) @([0-9.]+) ms, ([0-9.]+) ms clock, ([0-9]+) bytes, ([0-9]+) allocs`)

// traceRun is one parsed trace.
type traceRun struct {
	pkgs   map[string]PackageInit
	toMain float64
}

// parseInitTrace reads the inittrace lines of one process's output.
func parseInitTrace(output string) traceRun {
	run := traceRun{pkgs: map[string]PackageInit{}}
	for _, m := range initLine.FindAllStringSubmatch(output, -1) {
		at, _ := strconv.ParseFloat(m[2], 64)
		clock, _ := strconv.ParseFloat(m[3], 64)
		bytes, _ := strconv.ParseFloat(m[4], 64)
		allocs, _ := strconv.ParseFloat(m[5], 64)
		p := run.pkgs[m[1]] // a package appears once; "runtime" may too
		p.Package = m[1]
		p.Clock += clock
		p.Bytes += bytes
		p.Allocs += allocs
		run.pkgs[m[1]] = p
		run.toMain = max(run.toMain, at+clock)
	}
	return run
}

// packageGroup says where a package comes from.
func packageGroup(pkg string) string {
	switch {
	case strings.HasPrefix(pkg, "github.com/aws/aws-lambda-go"):
		return GroupLambda
	case strings.HasPrefix(pkg, "github.com/aws/aws-sdk-go-v2"), strings.HasPrefix(pkg, "github.com/aws/smithy-go"):
		return GroupSDK
	case strings.HasPrefix(pkg, "github.com/etalase/"):
		return GroupApp
	case !strings.Contains(strings.SplitN(pkg, "/", 2)[0], "."):
		return GroupStd // includes vendor/golang.org/x/... of the standard library
	}
	return GroupOther
}

// MeasureInitTraces makes runs cold starts of each subject with GODEBUG=inittrace=1
// and returns the medians of what the traces say.
func MeasureInitTraces(ctx context.Context, subjects []*Subject, runs int, log io.Writer) []*InitTrace {
	outputs := map[string][]traceRun{}
	results := MeasureColdStarts(ctx, subjects, ColdOptions{
		N: runs, Log: log, ExtraEnv: []string{"GODEBUG=inittrace=1"},
		Output: func(s *Subject, _ int, out string) { outputs[s.Name] = append(outputs[s.Name], parseInitTrace(out)) },
	})
	traces := make([]*InitTrace, len(subjects))
	for i, s := range subjects {
		traces[i] = summarizeTraces(s.Name, outputs[s.Name])
		traces[i].Init = Float(results[i].Init.Median)
		traces[i].Error = results[i].Error
	}
	return traces
}

// summarizeTraces takes the median of each figure over runs.
func summarizeTraces(name string, runs []traceRun) *InitTrace {
	t := &InitTrace{Name: name, Runs: len(runs), ByGroup: map[string]Float{}, all: map[string]PackageInit{}}
	if len(runs) == 0 {
		return t
	}
	var total, bytes, toMain []float64
	groups := map[string][]float64{}
	perPkg := map[string][]PackageInit{}
	for _, r := range runs {
		sum, b := 0.0, 0.0
		g := map[string]float64{}
		for _, p := range r.pkgs {
			sum += p.Clock
			b += p.Bytes
			g[packageGroup(p.Package)] += p.Clock
			perPkg[p.Package] = append(perPkg[p.Package], p)
		}
		total = append(total, sum)
		bytes = append(bytes, b)
		toMain = append(toMain, r.toMain)
		for _, name := range []string{GroupStd, GroupLambda, GroupSDK, GroupApp, GroupOther} {
			groups[name] = append(groups[name], g[name])
		}
	}
	t.PackageInit, t.InitBytes, t.ToMain = Float(Median(total)), Float(Median(bytes)), Float(Median(toMain))
	for name, xs := range groups {
		if m := Median(xs); m > 0 {
			t.ByGroup[name] = Float(m)
		}
	}
	for pkg, ps := range perPkg {
		var c, b, a []float64
		for _, p := range ps {
			c, b, a = append(c, p.Clock), append(b, p.Bytes), append(a, p.Allocs)
		}
		p := PackageInit{Package: pkg, Clock: Median(c), Bytes: Median(b), Allocs: Median(a)}
		t.all[pkg] = p
		t.Top = append(t.Top, p)
	}
	t.Packages = len(t.Top)
	sort.Slice(t.Top, func(i, j int) bool {
		if t.Top[i].Clock != t.Top[j].Clock {
			return t.Top[i].Clock > t.Top[j].Clock
		}
		return t.Top[i].Package < t.Top[j].Package
	})
	t.Top = t.Top[:min(len(t.Top), topPackages)]
	return t
}
