package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ColdStartStage measures every function's cold start against the hello-world and the
// reference programs, then traces their package initialisation: the "Cold start" and
// "Where the cold start goes" sections.
func ColdStartStage(ctx context.Context, env *Env) ([]*Section, error) {
	n, warmup, runs := env.Count(31, 4), 1, env.Count(7, 1)
	subjects, err := PrepareSubjects(ctx, env, PrepareOptions{References: true, Representative: true,
		Invocations: 2 * (warmup + n + runs)}) // a cold and a warm invocation per cold start
	if err != nil {
		return nil, err
	}
	env.Progressf("cold start: %d binaries × %d cold starts (+%d warm-up), one at a time", len(subjects), n, warmup)
	results := MeasureColdStarts(ctx, subjects, ColdOptions{
		N: n, Warmup: warmup, Log: env.Log,
		Progress: func(round, rounds int) {
			if round == rounds || round%5 == 0 || env.Quick {
				env.Progressf("cold start: round %d/%d", round, rounds)
			}
		},
	})
	pass, fns := 0, 0
	for _, r := range results {
		if r.Role == RoleFunction {
			fns++
			if r.Verdict == "PASS" {
				pass++
			}
		}
		if r.Error != "" {
			env.Progressf("cold start: %s", truncate(r.Error, 200))
		}
	}
	env.Progressf("cold start: %d of %d functions answer within %.1f× the hello-world's first response", pass, fns, ColdStartTarget)
	env.Progressf("cold start: %d traced cold starts each (GODEBUG=inittrace=1)", runs)
	traces := MeasureInitTraces(ctx, subjects, runs, env.Log)
	links, err := linkChains(ctx, env.Root, subjects, traces)
	if err != nil {
		env.Progressf("cold start: import chains unavailable: %v", err)
	}
	var first *FirstRequest
	if host, _, err := env.Binaries(ctx); err == nil && host[tlsRootsPkg] != "" {
		env.Progressf("cold start: first-request TLS costs, %d runs each", runs)
		first = &FirstRequest{
			DefaultRoots: MeasureTLS(ctx, host[tlsRootsPkg], runs),
			FileOnly:     MeasureTLS(ctx, host[tlsRootsPkg], runs, NoCertDir),
		}
	}
	secs := []*Section{ColdStartSection(results, n, warmup), FindingsSection(results, traces, links, first)}
	var errs []error
	for _, r := range results {
		if r.Error != "" {
			errs = append(errs, errors.New(r.Error))
		}
	}
	if err := ctx.Err(); err != nil {
		errs = append(errs, err)
	}
	return secs, errors.Join(errs...)
}

// ColdStartSection is the report's cold-start table and charts.
func ColdStartSection(results []*ColdResult, n, warmup int) *Section {
	s := &Section{ID: "cold-start", Title: "Cold start", Data: map[string]any{
		"target": ColdStartTarget, "coldStartsPerBinary": n, "warmupDropped": warmup, "results": results,
	}}
	var hello *ColdResult
	pass, fns := 0, 0
	for _, r := range results {
		if r.Role == RoleBaseline {
			hello = r
		}
		if r.Role == RoleFunction {
			fns++
			if r.Verdict == "PASS" {
				pass++
			}
		}
	}
	s.Blocks = append(s.Blocks, Text(fmt.Sprintf(
		"Every function of the template, both accounts, started cold %d times (after %d dropped warm-up start), "+
			"interleaved round-robin with a hello-world aws-lambda-go function (`infra/bench/testdata/hello`) "+
			"built in the same run with the same flags, one cold start at a time. A cold start is a new process from a "+
			"fresh pool, invoked once with the event named below, then once more warm, then ended. "+
			"**Init** is the REPORT line's Init Duration (process start to the runtime's first `invocation/next`); "+
			"**first response** is the wall clock from starting the cold invocation to its response (init plus the "+
			"first handler call, including its first DynamoDB request). Ratios are medians over the hello-world's "+
			"medians. Sizes: the deployed build (linux/arm64, `-tags lambda.norpc -trimpath -ldflags='-s -w'`) and the "+
			"binary the local runner runs (host, without `-s -w`).", n, warmup)))
	if hello != nil && len(hello.Samples) > 0 {
		s.Blocks = append(s.Blocks, Text(fmt.Sprintf(
			"**Target: first response within %.1f× the hello-world's** (hello-world: init %s ms, first response %s ms, median). "+
				"**%d of %d functions PASS.**", ColdStartTarget, ms1(hello.Init.Median), ms1(hello.FirstResponse.Median), pass, fns)))
	}
	t := &Table{Columns: []Column{
		{Name: "Binary"}, {Name: "Account"}, {Name: "Event"}, {Name: "Answer"},
		{Name: "Init median ms", Right: true}, {Name: "Init p90 ms", Right: true}, {Name: "Init × hello", Right: true},
		{Name: "First response median ms", Right: true}, {Name: "First response p90 ms", Right: true},
		{Name: "First response × hello", Right: true}, {Name: "Lambda MiB", Right: true}, {Name: "Host MiB", Right: true},
		{Name: "Max memory MB", Right: true}, {Name: "Target"},
	}}
	for _, r := range ordered(results) {
		verdict := r.Verdict
		switch r.Role {
		case RoleBaseline:
			verdict = "baseline"
		case RoleReference:
			verdict = "reference"
		}
		if r.Error != "" && len(r.Samples) == 0 {
			t.Rows = append(t.Rows, []string{r.Name, r.Account, r.Payload, "error: " + truncate(r.Error, 120),
				"", "", "", "", "", "", mib(r.LambdaSize), mib(r.HostSize), "", verdict})
			continue
		}
		t.Rows = append(t.Rows, []string{
			r.Name, r.Account, r.Payload, r.Outcome,
			ms1(r.Init.Median), ms1(r.Init.P90), ratio(float64(r.InitRatio)),
			ms1(r.FirstResponse.Median), ms1(r.FirstResponse.P90), ratio(float64(r.FirstResponseRatio)),
			mib(r.LambdaSize), mib(r.HostSize), fmt.Sprintf("%.0f", r.MaxMemoryMB), verdict,
		})
	}
	s.Blocks = append(s.Blocks, t)

	ratios := &Chart{Name: "ratio", Title: "First response of a cold start, × hello-world (median)", Unit: "× hello-world",
		Series: []string{"first response"}, Decimals: 2,
		Lines: []RefLine{{Value: 1, Label: "hello-world"}, {Value: ColdStartTarget, Label: fmt.Sprintf("target %.1f×", ColdStartTarget)}}}
	times := &Chart{Name: "ms", Title: "Cold start, median milliseconds", Unit: "ms",
		Series: []string{"Init Duration", "first response"}, Decimals: 1}
	sizes := &Chart{Name: "size", Title: "Binary size", Unit: "MiB",
		Series: []string{"Lambda (linux/arm64, -s -w)", "host (local runner)"}, Decimals: 1}
	for _, r := range ordered(results) {
		if len(r.Samples) > 0 {
			if r.Role != RoleBaseline {
				ratios.Groups = append(ratios.Groups, Group{Label: r.Name, Values: []float64{float64(r.FirstResponseRatio)},
					Miss: []bool{r.Verdict == "MISS"}})
			}
			times.Groups = append(times.Groups, Group{Label: r.Name, Values: []float64{r.Init.Median, r.FirstResponse.Median}})
		}
		sizes.Groups = append(sizes.Groups, Group{Label: r.Name, Values: []float64{mibf(r.LambdaSize), mibf(r.HostSize)}})
	}
	for _, c := range []*Chart{ratios, times, sizes} {
		if len(c.Groups) > 0 {
			s.Blocks = append(s.Blocks, c)
		}
	}
	return s
}

// FindingsSection explains where the cold start goes: package initialisation (from
// the traces), binary size, main's setup and the first handler call.
// links maps a package to the import chain that brings it into a binary (see linkChains).
// first, if not nil, are the TLS costs that the local figures leave out.
func FindingsSection(results []*ColdResult, traces []*InitTrace, links map[string][]string, first *FirstRequest) *Section {
	s := &Section{ID: "cold-start-findings", Title: "Where the cold start goes",
		Data: map[string]any{"traces": traces, "firstRequestTLS": first}}
	byName := map[string]*InitTrace{}
	for _, t := range traces {
		byName[t.Name] = t
	}
	s.Blocks = append(s.Blocks, Text(
		"A cold start is: exec and page-in of the binary, the Go runtime and every linked package's `init` "+
			"(measured with `GODEBUG=inittrace=1` on separate traced cold starts), `main` until the runtime's first "+
			"`invocation/next` (configuration, clients, secrets), then the first handler call, whose first AWS request "+
			"also pays for the SDK's lazy set-up and the connection (in AWS: DNS and TLS too). "+
			"*Before main* is when the last package init ended (after the runtime started); *main until ready* is "+
			"the traced Init Duration minus that: exec, then `main` until the first `invocation/next`. "+
			"*First call extra* is the cold handler call minus the same call warm. `sdk-default` and `sdk-lean` are reference programs (`infra/bench/testdata`): "+
			"DynamoDB and SQS clients built at init and one GetItem per call, with `config.LoadDefaultConfig` "+
			"and with etalase's `awsclient` respectively."))
	t := &Table{Columns: []Column{
		{Name: "Binary"}, {Name: "Lambda MiB", Right: true}, {Name: "Packages with init", Right: true},
		{Name: "Package init ms", Right: true}, {Name: "of which AWS SDK ms", Right: true},
		{Name: "Init allocs KiB", Right: true}, {Name: "Traced: before main ms", Right: true},
		{Name: "Traced: main until ready ms", Right: true}, {Name: "Init ms", Right: true}, {Name: "Cold handler ms", Right: true},
		{Name: "Warm handler ms", Right: true}, {Name: "First call extra ms", Right: true},
		{Name: "First response × hello", Right: true},
	}}
	chart := &Chart{Name: "breakdown", Title: "Cold start breakdown, median ms", Unit: "ms",
		Series: []string{"package init (traced)", "Init Duration", "first handler call"}, Decimals: 1}
	for _, r := range ordered(results) {
		tr := byName[r.Name]
		if tr == nil || len(r.Samples) == 0 {
			continue
		}
		t.Rows = append(t.Rows, []string{
			r.Name, mib(r.LambdaSize), fmt.Sprint(tr.Packages), ms1(float64(tr.PackageInit)), ms1(float64(tr.ByGroup[GroupSDK])),
			fmt.Sprintf("%.0f", float64(tr.InitBytes)/1024), ms1(float64(tr.ToMain)), ms1(float64(tr.Init - tr.ToMain)),
			ms1(r.Init.Median), ms1(r.Handler.Median), ms1(r.Warm.Median), ms1(r.Handler.Median - r.Warm.Median),
			ratio(float64(r.FirstResponseRatio)),
		})
		chart.Groups = append(chart.Groups, Group{Label: r.Name,
			Values: []float64{float64(tr.PackageInit), r.Init.Median, r.Handler.Median}})
	}
	s.Blocks = append(s.Blocks, t)
	if len(chart.Groups) > 0 {
		s.Blocks = append(s.Blocks, chart)
	}

	// The slowest package inits that the hello-world does not have, and why they are linked.
	if list := extraInits(traces); len(list) > 0 {
		pt := &Table{Caption: "Slowest package inits that the hello-world does not have (median over the binaries that run them)",
			Columns: []Column{{Name: "Package"}, {Name: "init ms", Right: true}, {Name: "KiB allocated", Right: true},
				{Name: "in"}, {Name: "linked through"}}}
		for _, e := range list[:min(len(list), topExtras)] {
			pt.Rows = append(pt.Rows, []string{e.Package, fmt.Sprintf("%.2f", e.Clock), fmt.Sprintf("%.0f", e.Bytes/1024),
				joinShort(e.In, 3), shortChain(links[e.Package])})
		}
		s.Blocks = append(s.Blocks, pt)
	}
	if first != nil {
		s.Blocks = append(s.Blocks, tlsTable(first))
	}
	if text := observations(results, byName); text != "" {
		s.Blocks = append(s.Blocks, Text(text))
	}
	return s
}

// observations are the figures of this run that the findings rest on.
func observations(results []*ColdResult, traces map[string]*InitTrace) string {
	by := map[string]*ColdResult{}
	for _, r := range results {
		by[r.Name] = r
	}
	var lines []string
	def, lean, hello := by["sdk-default"], by["sdk-lean"], by[HelloName]
	if def != nil && lean != nil && hello != nil && len(def.Samples) > 0 && len(lean.Samples) > 0 {
		lines = append(lines, fmt.Sprintf("- In this run the SDK's default pattern answered its first request in %s the hello-world's time, "+
			"the same program with etalase's `awsclient` in %s: `config.LoadDefaultConfig` costs %s ms of first response, "+
			"%s MiB of deployed binary and %s ms of package init.",
			ratio(float64(def.FirstResponseRatio)), ratio(float64(lean.FirstResponseRatio)),
			ms1(def.FirstResponse.Median-lean.FirstResponse.Median), fmt.Sprintf("%.1f", mibf(def.LambdaSize)-mibf(lean.LambdaSize)),
			diffTrace(traces["sdk-default"], traces["sdk-lean"])))
	}
	if tr := traces[HelloName]; tr != nil && hello != nil && len(hello.Samples) > 0 {
		lines = append(lines, fmt.Sprintf("- The hello-world itself: %s MiB deployed, %d packages with init work (%s ms), before main at %s ms, Init Duration %s ms.",
			fmt.Sprintf("%.1f", mibf(hello.LambdaSize)), tr.Packages, ms1(float64(tr.PackageInit)), ms1(float64(tr.ToMain)), ms1(hello.Init.Median)))
	}
	if h := traces[HelloName]; h != nil {
		var slow []string
		for _, r := range results {
			tr := traces[r.Name]
			if r.Role != RoleFunction || tr == nil || tr.Runs == 0 {
				continue
			}
			if extra := float64(tr.Init-tr.ToMain) - float64(h.Init-h.ToMain); extra > 5 {
				slow = append(slow, fmt.Sprintf("%s (+%s ms)", r.Name, ms1(extra)))
			}
		}
		if len(slow) > 0 {
			lines = append(lines, "- Main took more than 5 ms longer than the hello-world's to be ready in "+strings.Join(slow, ", ")+
				": work done in `main` before the first `invocation/next` (secrets read from SSM, schemas compiled, clients built).")
		}
	}
	var extraCalls []float64
	for _, r := range results {
		if r.Role == RoleFunction && len(r.Samples) > 0 {
			extraCalls = append(extraCalls, r.Handler.Median-r.Warm.Median)
		}
	}
	if len(extraCalls) > 0 {
		lines = append(lines, fmt.Sprintf("- A function's first handler call took a median %s ms more than the same call warm "+
			"(locally plain HTTP to the emulators; in AWS the first request also resolves DNS and makes a TLS connection).",
			ms1(Median(extraCalls))))
	}
	return strings.Join(lines, "\n")
}

func diffTrace(a, b *InitTrace) string {
	if a == nil || b == nil {
		return "?"
	}
	return ms1(float64(a.PackageInit) - float64(b.PackageInit))
}

// ordered lists the hello-world first, then the functions, then the references.
func ordered(results []*ColdResult) []*ColdResult {
	rank := map[string]int{RoleBaseline: 0, RoleFunction: 1, RoleReference: 2}
	out := append([]*ColdResult(nil), results...)
	sort.SliceStable(out, func(i, j int) bool { return rank[out[i].Role] < rank[out[j].Role] })
	return out
}

func ms1(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.1f", v)
}

func ratio(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	return fmt.Sprintf("%.2f×", v)
}

func mibf(b int64) float64 {
	if b < 0 {
		return math.NaN()
	}
	return float64(b) / (1 << 20)
}

func mib(b int64) string {
	if b < 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f", mibf(b))
}

func truncate(s string, n int) string {
	s = oneLine(s)
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func joinShort(xs []string, n int) string {
	if len(xs) <= n {
		return strings.Join(xs, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(xs[:n], ", "), len(xs)-n)
}

// topExtras is how many packages the findings list.
const topExtras = 12

// ExtraInit is a package whose init the hello-world does not run.
type ExtraInit struct {
	PackageInit
	// In are the binaries that run it.
	In []string
}

// extraInits lists the packages initialised by some binary but not by the hello-world,
// slowest first, each with the median of its figures over the binaries that run it.
func extraInits(traces []*InitTrace) []*ExtraInit {
	var hello *InitTrace
	for _, t := range traces {
		if t.Name == HelloName {
			hello = t
		}
	}
	byPkg := map[string]*ExtraInit{}
	seen := map[string][]PackageInit{}
	for _, tr := range traces {
		if tr == hello {
			continue
		}
		for pkg, p := range tr.all {
			if hello != nil {
				if _, ok := hello.all[pkg]; ok {
					continue
				}
			}
			e := byPkg[pkg]
			if e == nil {
				e = &ExtraInit{PackageInit: PackageInit{Package: pkg}}
				byPkg[pkg] = e
			}
			seen[pkg] = append(seen[pkg], p)
			e.In = append(e.In, tr.Name)
		}
	}
	list := make([]*ExtraInit, 0, len(byPkg))
	for pkg, e := range byPkg {
		var c, b, a []float64
		for _, p := range seen[pkg] {
			c, b, a = append(c, p.Clock), append(b, p.Bytes), append(a, p.Allocs)
		}
		e.Clock, e.Bytes, e.Allocs = Median(c), Median(b), Median(a)
		sort.Strings(e.In)
		list = append(list, e)
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].Clock != list[j].Clock {
			return list[i].Clock > list[j].Clock
		}
		return list[i].Package < list[j].Package
	})
	return list
}

// linkChains finds, for each of the slowest extra packages, the import chain that
// links it into the first binary (functions before references) that runs it.
func linkChains(ctx context.Context, root string, subjects []*Subject, traces []*InitTrace) (map[string][]string, error) {
	mod, err := modulePath(root)
	if err != nil {
		return nil, err
	}
	var pkgs []string
	importPath := map[string]string{}
	for _, s := range subjects {
		pkgs = append(pkgs, s.Package)
		importPath[s.Name] = mod + "/" + strings.TrimPrefix(s.Package, "./")
	}
	g, err := loadImports(ctx, root, pkgs)
	if err != nil {
		return nil, err
	}
	rank := map[string]int{}
	for _, s := range subjects {
		rank[s.Name] = map[string]int{RoleFunction: 0, RoleReference: 1, RoleBaseline: 2}[s.Role]
	}
	links := map[string][]string{}
	list := extraInits(traces)
	for _, e := range list[:min(len(list), topExtras)] {
		in := append([]string(nil), e.In...)
		sort.SliceStable(in, func(i, j int) bool { return rank[in[i]] < rank[in[j]] })
		for _, name := range in {
			if c := g.chain(importPath[name], e.Package); c != nil {
				links[e.Package] = c
				break
			}
		}
	}
	return links, nil
}

// modulePath reads the module path from root/go.mod.
func modulePath(root string) (string, error) {
	data, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "module" {
			return f[1], nil
		}
	}
	return "", errors.New("go.mod has no module line")
}

// shortChain writes an import chain without the module prefix of etalase's packages,
// leaving out the package itself (the row names it).
func shortChain(c []string) string {
	if len(c) < 2 {
		return ""
	}
	parts := make([]string, 0, len(c)-1)
	for _, p := range c[:len(c)-1] {
		if i := strings.Index(p, "/etalase/etalase/"); i >= 0 {
			p = p[i+len("/etalase/etalase/"):]
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, " → ")
}

// tlsTable shows the first-request TLS costs that no local cold start includes.
func tlsTable(f *FirstRequest) *Table {
	t := &Table{Caption: "First-request costs the local figures leave out: the emulators speak plain HTTP, AWS speaks TLS " +
		"(fresh process each run, medians, this machine)",
		Columns: []Column{{Name: "Step"}, {Name: "ms", Right: true}}}
	row := func(name string, c *TLSCosts, v Float) {
		val := ms1(float64(v))
		if c.Error != "" {
			val = "error: " + truncate(c.Error, 80)
		}
		t.Rows = append(t.Rows, []string{name, val})
	}
	row("load the system root certificates, Go's default search (certificate file, then every file of the certificate folders)",
		f.DefaultRoots, f.DefaultRoots.SystemRoots)
	row("load the system root certificates from the certificate file only (`"+NoCertDir+"`)", f.FileOnly, f.FileOnly.SystemRoots)
	row("first HTTPS request to a local server: connection and TLS handshake", f.DefaultRoots, f.DefaultRoots.FirstHTTPS)
	row("the same request again on the open connection", f.DefaultRoots, f.DefaultRoots.WarmHTTPS)
	return t
}
