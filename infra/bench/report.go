package bench

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"time"
)

// Report is everything one `etalase bench` run found: host facts and one Section per
// stage, in order. Write renders it as report.md, report.json and one SVG file per chart.
type Report struct {
	// Title heads the Markdown report.
	Title string `json:"title"`
	// Generated is when the run ended.
	Generated time.Time `json:"generated"`
	// Quick says the run used the smaller counts of `make bench-quick`.
	Quick bool `json:"quick"`
	// Took is the run's wall-clock time.
	Took Duration `json:"took"`
	// Host describes the machine and toolchain.
	Host Host `json:"host"`
	// Sections are the stages' results, in the order they ran.
	Sections []*Section `json:"sections"`
}

// Host describes where the report was measured.
type Host struct {
	GoVersion string `json:"goVersion"`
	OS        string `json:"os"`
	Arch      string `json:"arch"`
	CPUs      int    `json:"cpus"`
	// Load is the 1-minute load average when the run started (Linux), or "".
	Load string `json:"load,omitempty"`
}

// Section is one part of the report, owned by the stage that measured it: a title, the
// Markdown blocks (text, tables, charts) in order, and Data, the section's raw figures
// for report.json. A stage that failed still gets a section, with Err set.
type Section struct {
	// ID is stable and unique: the JSON key, the Markdown anchor and the prefix of the
	// section's chart files (e.g. "cold-start").
	ID string `json:"id"`
	// Title is the section's heading.
	Title string `json:"title"`
	// Blocks are rendered in order.
	Blocks []Block `json:"-"`
	// Data is the section's machine-readable result; it must marshal to JSON.
	Data any `json:"data,omitempty"`
	// Err is why the stage failed, if it did.
	Err string `json:"error,omitempty"`
}

// Block is a piece of a section: Text, *Table or *Chart.
type Block interface{ block() }

// Text is Markdown, written as is, as its own paragraph(s).
type Text string

// Table is a Markdown table; report.json has it too.
type Table struct {
	// Caption, if set, is written in bold above the table.
	Caption string `json:"caption,omitempty"`
	// Columns name the columns; Right aligns a column of figures.
	Columns []Column `json:"columns"`
	// Rows hold one cell per column.
	Rows [][]string `json:"rows"`
}

// Column is a table column.
type Column struct {
	Name  string `json:"name"`
	Right bool   `json:"right,omitempty"`
}

// Chart is a horizontal bar chart, written to <section id>-<Name>.svg and linked from
// the Markdown. Each Group is one labelled row of bars, one bar per series.
type Chart struct {
	// Name makes the file name; it must be unique within its section.
	Name string `json:"name"`
	// Title heads the chart; Unit labels the axis (e.g. "ms", "x hello-world").
	Title string `json:"title"`
	Unit  string `json:"unit"`
	// Series name the bars of each group (the legend); one series needs no legend.
	Series []string `json:"series"`
	// Groups are the rows, top to bottom.
	Groups []Group `json:"groups"`
	// Lines are vertical reference lines, e.g. a target.
	Lines []RefLine `json:"lines,omitempty"`
	// Decimals is how many decimals the bar labels show.
	Decimals int `json:"-"`
}

// Group is one labelled row of a chart.
type Group struct {
	Label string `json:"label"`
	// Values has one value per series; NaN draws no bar.
	Values []float64 `json:"values"`
	// Miss marks values drawn in the warning colour (e.g. over a target); nil means none.
	Miss []bool `json:"miss,omitempty"`
}

// RefLine is a vertical line across a chart at Value.
type RefLine struct {
	Value float64 `json:"value"`
	Label string  `json:"label"`
}

func (Text) block()   {}
func (*Table) block() {}
func (*Chart) block() {}

// Duration marshals as fractional milliseconds in report.json.
type Duration time.Duration

// MarshalJSON writes milliseconds.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(Millis(time.Duration(d)))
}

// ChartFile is the file name of a section's chart.
func ChartFile(sectionID, chartName string) string { return sectionID + "-" + chartName + ".svg" }

// Write writes report.md, report.json and the charts' SVG files into dir, creating it.
func (r *Report) Write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := r.check(); err != nil {
		return err
	}
	for _, s := range r.Sections {
		for _, b := range s.Blocks {
			c, ok := b.(*Chart)
			if !ok {
				continue
			}
			svg, err := c.SVG()
			if err != nil {
				return fmt.Errorf("chart %s: %w", ChartFile(s.ID, c.Name), err)
			}
			if err := os.WriteFile(filepath.Join(dir, ChartFile(s.ID, c.Name)), svg, 0o644); err != nil {
				return err
			}
		}
	}
	js, err := r.JSON()
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "report.json"), js, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "report.md"), []byte(r.Markdown()), 0o644)
}

// check rejects duplicate section ids and chart names, which would overwrite files.
func (r *Report) check() error {
	seen := map[string]bool{}
	for _, s := range r.Sections {
		if s.ID == "" || seen[s.ID] {
			return fmt.Errorf("report: section id %q is empty or used twice", s.ID)
		}
		seen[s.ID] = true
		charts := map[string]bool{}
		for _, b := range s.Blocks {
			if c, ok := b.(*Chart); ok {
				if c.Name == "" || charts[c.Name] {
					return fmt.Errorf("report: section %s: chart name %q is empty or used twice", s.ID, c.Name)
				}
				charts[c.Name] = true
			}
		}
	}
	return nil
}

// jsonSection is a Section as report.json has it: its data, tables and chart files.
type jsonSection struct {
	*Section
	Tables []*Table    `json:"tables,omitempty"`
	Charts []jsonChart `json:"charts,omitempty"`
	Text   []string    `json:"text,omitempty"`
}

type jsonChart struct {
	File string `json:"file"`
	*Chart
}

// JSON returns report.json's content.
func (r *Report) JSON() ([]byte, error) {
	out := struct {
		*Report
		Sections []jsonSection `json:"sections"`
	}{Report: r}
	for _, s := range r.Sections {
		js := jsonSection{Section: s}
		for _, b := range s.Blocks {
			switch b := b.(type) {
			case *Table:
				js.Tables = append(js.Tables, b)
			case *Chart:
				js.Charts = append(js.Charts, jsonChart{File: ChartFile(s.ID, b.Name), Chart: b})
			case Text:
				js.Text = append(js.Text, string(b))
			}
		}
		out.Sections = append(out.Sections, js)
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("report.json: %w", err)
	}
	return append(b, '\n'), nil
}

// Float is a float64 that report.json writes as null when it is NaN or infinite (which
// encoding/json refuses), e.g. a ratio to a baseline that could not be measured.
type Float float64

// MarshalJSON writes the number, or null.
func (f Float) MarshalJSON() ([]byte, error) {
	if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
		return []byte("null"), nil
	}
	return json.Marshal(float64(f))
}

// MarshalJSON writes NaN values as null.
func (g Group) MarshalJSON() ([]byte, error) {
	vals := make([]Float, len(g.Values))
	for i, v := range g.Values {
		vals[i] = Float(v)
	}
	return json.Marshal(struct {
		Label  string  `json:"label"`
		Values []Float `json:"values"`
		Miss   []bool  `json:"miss,omitempty"`
	}{g.Label, vals, g.Miss})
}
