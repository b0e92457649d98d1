package compliance

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Report is the outcome of a compliance run.
type Report struct {
	// Template is the checked template's path as given.
	Template string `json:"template"`
	// Module is the Go module whose packages were checked.
	Module string `json:"module,omitempty"`
	// Functions lists the template's functions by side ("none" and "both" for the
	// misplaced ones).
	Functions map[string][]string `json:"functions"`
	// Resources counts the template's resources by side (functions included).
	Resources map[string]int `json:"resources"`
	// CrossAccountGrants describes every allowed grant across the two accounts.
	CrossAccountGrants []string `json:"crossAccountGrants"`
	// Packages is how many function and shared packages the import check examined.
	Packages int `json:"packages"`
	// ImportEdges is how many (package, dependency) pairs the import check examined.
	ImportEdges int `json:"importEdges"`
	// Checks are the individual rules' outcomes.
	Checks []Check `json:"checks"`
}

// Report runs the template checks and starts a report with them.
func (a *Analysis) Report(templatePath string) *Report {
	r := &Report{Template: templatePath, Functions: map[string][]string{}, Resources: map[string]int{}}
	for _, s := range a.rules.Sides {
		r.Functions[s] = []string{}
	}
	for _, id := range a.tpl.ResourceIDs("") {
		key := placementKey(a.sides[id])
		r.Resources[key]++
		if slices.Contains(a.Functions(), id) {
			r.Functions[key] = append(r.Functions[key], id)
		}
	}
	r.Checks = a.Checks()
	for _, c := range r.Checks {
		if c.Name == CheckCrossIdentity || c.Name == CheckResourcePolicy {
			r.CrossAccountGrants = append(r.CrossAccountGrants, c.Notes...)
		}
	}
	return r
}

func placementKey(sides []string) string {
	switch len(sides) {
	case 0:
		return "none"
	case 1:
		return sides[0]
	}
	return "both"
}

// Violations counts the violations of every check.
func (r *Report) Violations() int {
	n := 0
	for _, c := range r.Checks {
		n += len(c.Violations)
	}
	return n
}

// Passed reports whether every check passed.
func (r *Report) Passed() bool {
	for _, c := range r.Checks {
		if !c.Passed {
			return false
		}
	}
	return true
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// WriteText writes the report for a person: the facts, then one line per check with
// its violations under it.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "etalase compliance: the social/commerce boundary (DESIGN.md section 1)\n")
	fmt.Fprintf(&b, "template   %s\n", r.Template)
	fmt.Fprintf(&b, "functions  %s\n", counts(r.Functions))
	fmt.Fprintf(&b, "resources  %s\n", countsInt(r.Resources))
	fmt.Fprintf(&b, "cross-account grants  %d\n", len(r.CrossAccountGrants))
	for _, g := range r.CrossAccountGrants {
		fmt.Fprintf(&b, "  %s\n", g)
	}
	if r.Module != "" {
		fmt.Fprintf(&b, "imports    %d packages, %d dependency edges checked (module %s)\n", r.Packages, r.ImportEdges, r.Module)
	}
	b.WriteString("\n")
	for _, c := range r.Checks {
		status := "PASS"
		if !c.Passed {
			status = "FAIL"
		}
		fmt.Fprintf(&b, "%s  %-32s %s\n", status, c.Name, c.Summary)
		if !c.Passed {
			fmt.Fprintf(&b, "      rule: %s\n", c.Rule)
		}
		for _, v := range c.Violations {
			fmt.Fprintf(&b, "      - %s\n", v)
		}
	}
	if r.Passed() {
		b.WriteString("\nresult: PASS, no violations\n")
	} else {
		fmt.Fprintf(&b, "\nresult: FAIL, %d violations\n", r.Violations())
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// counts renders functions by side: "social 0, commerce 1 (CommerceCatalogFunction)".
func counts(m map[string][]string) string {
	var parts []string
	for _, k := range orderedKeys(m) {
		s := fmt.Sprintf("%s %d", k, len(m[k]))
		if len(m[k]) > 0 {
			s += " (" + strings.Join(m[k], ", ") + ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

func countsInt(m map[string]int) string {
	var parts []string
	for _, k := range orderedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// orderedKeys puts social and commerce first, then the rest sorted.
func orderedKeys[V any](m map[string]V) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	rank := func(k string) int {
		if r, ok := map[string]int{"social": 0, "commerce": 1, "both": 2, "none": 3}[k]; ok {
			return r
		}
		return 4
	}
	slices.SortFunc(keys, func(x, y string) int {
		if d := rank(x) - rank(y); d != 0 {
			return d
		}
		return strings.Compare(x, y)
	})
	return keys
}
