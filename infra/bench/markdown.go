package bench

import (
	"fmt"
	"strings"
	"time"
)

// Markdown returns report.md's content: a header with the host, a table of contents,
// then each section with its blocks; charts are linked images of their SVG files.
func (r *Report) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", r.Title)
	mode := "full counts (`make bench`)"
	if r.Quick {
		mode = "quick counts (`make bench-quick`): indicative only"
	}
	fmt.Fprintf(&b, "Generated %s in %s, %s.  \n", r.Generated.UTC().Format(time.RFC3339),
		time.Duration(r.Took).Round(time.Second), mode)
	fmt.Fprintf(&b, "Host: %s/%s, %d CPUs, %s", r.Host.OS, r.Host.Arch, r.Host.CPUs, r.Host.GoVersion)
	if r.Host.Load != "" {
		fmt.Fprintf(&b, ", load average %s at the start", r.Host.Load)
	}
	b.WriteString(".\n\n")
	if len(r.Sections) > 1 {
		for _, s := range r.Sections {
			fmt.Fprintf(&b, "- [%s](#%s)\n", s.Title, s.ID)
		}
		b.WriteString("\n")
	}
	for _, s := range r.Sections {
		writeSection(&b, s)
	}
	return b.String()
}

func writeSection(b *strings.Builder, s *Section) {
	fmt.Fprintf(b, "<a id=\"%s\"></a>\n\n## %s\n\n", s.ID, s.Title)
	if s.Err != "" {
		fmt.Fprintf(b, "**This stage failed:** %s\n\n", oneLine(s.Err))
	}
	for _, blk := range s.Blocks {
		switch blk := blk.(type) {
		case Text:
			b.WriteString(strings.TrimSpace(string(blk)))
			b.WriteString("\n\n")
		case *Table:
			b.WriteString(blk.Markdown())
			b.WriteString("\n")
		case *Chart:
			fmt.Fprintf(b, "![%s](%s)\n\n", escapeCell(blk.Title), ChartFile(s.ID, blk.Name))
		}
	}
}

// Markdown renders the table (GitHub-flavoured), with a trailing newline.
func (t *Table) Markdown() string {
	var b strings.Builder
	if t.Caption != "" {
		fmt.Fprintf(&b, "**%s**\n\n", oneLine(t.Caption))
	}
	b.WriteString("|")
	for _, c := range t.Columns {
		b.WriteString(" " + escapeCell(c.Name) + " |")
	}
	b.WriteString("\n|")
	for _, c := range t.Columns {
		if c.Right {
			b.WriteString("---:|")
		} else {
			b.WriteString("---|")
		}
	}
	b.WriteString("\n")
	for _, row := range t.Rows {
		b.WriteString("|")
		for i := range t.Columns {
			cell := ""
			if i < len(row) {
				cell = row[i]
			}
			b.WriteString(" " + escapeCell(cell) + " |")
		}
		b.WriteString("\n")
	}
	return b.String()
}

// escapeCell keeps a value inside its table cell: pipes escaped, one line.
func escapeCell(s string) string {
	return strings.ReplaceAll(oneLine(s), "|", `\|`)
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
