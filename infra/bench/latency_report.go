package bench

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// LatencySection is the report's "Latency" section: the method and targets, a table
// of every route at every level, charts of the ratios and of the webhooks, and the
// results as data. ops are the routes in measuring order; n the requests per route
// and level; took the stage's time.
func LatencySection(results []*LatencyResult, ops []LatencyOp, n int, took time.Duration) *Section {
	s := &Section{ID: "latency", Title: "Latency"}
	byKey := map[string]map[int]*LatencyResult{}
	for _, r := range results {
		if byKey[r.Route] == nil {
			byKey[r.Route] = map[int]*LatencyResult{}
		}
		byKey[r.Route][r.Clients] = r
	}
	var notMeasured []string
	routes := 0
	for _, op := range ops {
		if op.Reference {
			continue
		}
		routes++
		if !op.Measured {
			notMeasured = append(notMeasured, op.Route)
		}
	}

	s.Blocks = append(s.Blocks, Text(fmt.Sprintf(
		"Every HTTP route of both accounts (%d routes, from the runner's route table) through the local runner — the API "+
			"Gateway stand-in with its JWT authorizer in front of the functions' processes, each running one invocation at a "+
			"time — at %s concurrent "+
			"clients, each sending its next request when its last answer was read; %d requests per route and level after a "+
			"warm-up (the function's processes started up to the level, then one request per client). Every request has its "+
			"own state, made beforehand through the same API and not timed: products with ample stock, carts holding a line, "+
			"guest carts, orders awaiting payment for each notification and cancellation (Midtrans notifications say "+
			"`pending`, Xendit callbacks `PAID`, each signed as the provider signs it), promotions. "+
			"Batches of the route's requests alternate with batches of as many bare DynamoDB Local calls (every ten "+
			"requests at one client), made from the benchmark through the SDK at the same concurrency on a bare table of "+
			"the route's account: GetItem of a product-sized item for GET routes, PutItem of a new one for the others. "+
			"**×** is the route's percentile over the baseline's. A latency "+
			"runs from sending the request until its whole answer was read, over the 2xx answers; any other answer is an "+
			"error, counted and flagged (⚠). Cold starts and throttles are the function's during the measured batches, "+
			"which the warm-up should have made zero. Two references are measured the same way, to read the ratios by: "+
			"the runner's floor (a route whose function answers 404 without reading anything) and a bare "+
			"TransactWriteItems of two Puts from the benchmark (most writes here are transactions).",
		routes, latencyLevelsText(), n)))

	pass, total := latencyPassCount(results)
	var perLevel []string
	for _, c := range LatencyLevels {
		p, t := 0, 0
		for _, r := range results {
			if r.Clients == c && r.Measured && !r.Reference {
				t++
				if r.Verdict == VerdictPass {
					p++
				}
			}
		}
		perLevel = append(perLevel, fmt.Sprintf("%d of %d at %s", p, t, latencyClients(c)))
	}
	flagged := 0
	for _, r := range results {
		if r.Errors > 0 {
			flagged++
		}
	}
	summary := fmt.Sprintf("**Targets: p99 within %.0f× the baseline's p99 for the API operations, a webhook's acknowledgement "+
		"p99 under %s.** **%d of %d results PASS** (%s).", LatencyTarget, WebhookAckTarget, pass, total, strings.Join(perLevel, ", "))
	if flagged > 0 {
		summary += fmt.Sprintf(" %d results had errors (⚠).", flagged)
	}
	if len(notMeasured) > 0 {
		summary += fmt.Sprintf(" **Not measured (no driver):** %s.", strings.Join(notMeasured, ", "))
	}
	if n < LatencyLevels[len(LatencyLevels)-1] {
		summary += fmt.Sprintf(" With %d requests per route and level (quick counts), no more than %d clients send at once: "+
			"the higher levels are indicative only.", n, n)
	}
	summary += fmt.Sprintf(" The stage took %s.", took.Round(time.Second))
	s.Blocks = append(s.Blocks, Text(summary))

	t := &Table{Columns: []Column{
		{Name: "Operation"}, {Name: "Route"}, {Name: "Function"}, {Name: "Account"}, {Name: "Clients", Right: true},
		{Name: "n", Right: true}, {Name: "p50 ms", Right: true}, {Name: "p99 ms", Right: true}, {Name: "Baseline"},
		{Name: "Baseline p50 ms", Right: true}, {Name: "Baseline p99 ms", Right: true},
		{Name: "p50 ×", Right: true}, {Name: "p99 ×", Right: true}, {Name: "Errors", Right: true},
		{Name: "Cold starts", Right: true}, {Name: "Throttles", Right: true}, {Name: "Target"},
	}}
	var ordered []*LatencyResult
	for _, op := range ops {
		for _, c := range LatencyLevels {
			if r := byKey[op.Route][c]; r != nil {
				ordered = append(ordered, r)
			}
		}
	}
	for _, r := range ordered {
		t.Rows = append(t.Rows, latencyRow(r))
	}
	s.Blocks = append(s.Blocks, t)
	if notes := latencyNotes(ordered); notes != "" {
		s.Blocks = append(s.Blocks, Text(notes))
	}

	for _, c := range latencyCharts(ops, byKey) {
		if len(c.Groups) > 0 {
			s.Blocks = append(s.Blocks, c)
		}
	}
	s.Data = map[string]any{
		"levels":           LatencyLevels,
		"requestsPerLevel": n,
		"target":           LatencyTarget,
		"webhookTargetMs":  Millis(WebhookAckTarget),
		"pass":             pass,
		"results":          ordered,
		"notMeasured":      notMeasured,
		"tookMs":           Duration(took),
	}
	return s
}

// latencyRow is one table row.
func latencyRow(r *LatencyResult) []string {
	name := r.Name
	if name == "" {
		name = "–"
	}
	function := r.Function
	if function == "" {
		function = "(benchmark process)"
	}
	base := "GetItem"
	if r.Kind == LatencyWrite {
		base = "PutItem"
	}
	if !r.Measured || r.Latency.N == 0 {
		return []string{name, "`" + r.Route + "`", function, r.Account, fmt.Sprint(r.Clients), "0",
			"", "", base, "", "", "", "", fmt.Sprint(r.Errors), "", "", latencyTarget(r)}
	}
	p50x, p99x := ratio(float64(r.P50Ratio)), ratio(float64(r.P99Ratio))
	cold, throttles := fmt.Sprint(r.ColdStarts), fmt.Sprint(r.Throttles)
	if r.Function == "" {
		cold, throttles = "–", "–"
	}
	if r.Webhook {
		// The webhook's target is absolute; the ratios are for comparison.
		p99x += " (abs.)"
	}
	return []string{
		name, "`" + r.Route + "`", function, r.Account, fmt.Sprint(r.Clients), fmt.Sprint(r.Latency.N),
		ms1(r.Latency.Median), ms1(r.Latency.P99), base, ms1(r.Baseline.Median), ms1(r.Baseline.P99),
		p50x, p99x, fmt.Sprint(r.Errors), cold, throttles, latencyTarget(r),
	}
}

// latencyNotes lists the errors by code and the results with a note.
func latencyNotes(results []*LatencyResult) string {
	var lines []string
	for _, r := range results {
		var parts []string
		if len(r.ErrorCodes) > 0 {
			var codes []string
			for _, k := range latencyCodes(r.ErrorCodes) {
				codes = append(codes, fmt.Sprintf("%d × %s", r.ErrorCodes[k], k))
			}
			parts = append(parts, "errors: "+strings.Join(codes, ", "))
		}
		if r.BaselineErrors > 0 {
			parts = append(parts, fmt.Sprintf("%d baseline calls failed", r.BaselineErrors))
		}
		if r.Note != "" && r.Measured {
			parts = append(parts, r.Note)
		}
		if len(parts) > 0 {
			lines = append(lines, fmt.Sprintf("- `%s` at %s: %s.", r.Route, latencyClients(r.Clients), strings.Join(parts, "; ")))
		}
	}
	if len(lines) == 0 {
		return ""
	}
	return "Errors and notes:\n\n" + strings.Join(lines, "\n")
}

// latencyCharts are the ratio chart of the API operations and the webhooks' chart.
func latencyCharts(ops []LatencyOp, byKey map[string]map[int]*LatencyResult) []*Chart {
	var series []string
	for _, c := range LatencyLevels {
		series = append(series, latencyClients(c))
	}
	ratios := &Chart{Name: "p99-ratio", Title: "API operations (and references): p99 × the bare DynamoDB Local call's p99, same concurrency",
		Unit: "× baseline p99", Series: series, Decimals: 1,
		Lines: []RefLine{{Value: LatencyTarget, Label: fmt.Sprintf("target %.0f×", LatencyTarget)}}}
	hooks := &Chart{Name: "webhook-p99", Title: "Payment webhooks: acknowledgement p99", Unit: "ms", Series: series, Decimals: 0,
		Lines: []RefLine{{Value: Millis(WebhookAckTarget), Label: "target " + WebhookAckTarget.String()}}}
	top := &Chart{Name: "ms-32", Title: fmt.Sprintf("Latency at %s, ms", latencyClients(LatencyLevels[len(LatencyLevels)-1])),
		Unit: "ms", Series: []string{"p50", "p99", "baseline p99"}, Decimals: 0}
	for _, op := range ops {
		if !op.Measured {
			continue
		}
		label := op.Name
		g := Group{Label: label}
		seen := false
		for _, c := range LatencyLevels {
			r := byKey[op.Route][c]
			v, miss := math.NaN(), false
			if r != nil && r.Latency.N > 0 {
				seen = true
				miss = r.Verdict == VerdictMiss
				if op.Webhook {
					v = r.Latency.P99
				} else {
					v = float64(r.P99Ratio)
				}
			}
			g.Values = append(g.Values, v)
			g.Miss = append(g.Miss, miss)
		}
		if !seen {
			continue
		}
		if op.Webhook {
			hooks.Groups = append(hooks.Groups, g)
		} else {
			ratios.Groups = append(ratios.Groups, g)
		}
		if r := byKey[op.Route][LatencyLevels[len(LatencyLevels)-1]]; r != nil && r.Latency.N > 0 {
			top.Groups = append(top.Groups, Group{Label: label, Values: []float64{r.Latency.Median, r.Latency.P99, r.Baseline.P99}})
		}
	}
	return []*Chart{ratios, hooks, top}
}

func latencyClients(c int) string {
	if c == 1 {
		return "1 client"
	}
	return fmt.Sprintf("%d clients", c)
}

func latencyLevelsText() string {
	var s []string
	for _, c := range LatencyLevels {
		s = append(s, fmt.Sprint(c))
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

// latencyCodes returns the error codes, the most frequent first, then by name.
func latencyCodes(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	return keys
}
