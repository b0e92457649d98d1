package bench

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestTableMarkdown(t *testing.T) {
	tb := &Table{
		Caption: "Sizes",
		Columns: []Column{{Name: "Binary"}, {Name: "MiB", Right: true}, {Name: "Note"}},
		Rows: [][]string{
			{"hello-world", "5.6", "a|b"},
			{"CommerceCatalogFunction", "8.4"}, // a short row gets empty cells
			{"multi\nline", "1", ""},
		},
	}
	want := "**Sizes**\n\n" +
		"| Binary | MiB | Note |\n" +
		"|---|---:|---|\n" +
		"| hello-world | 5.6 | a\\|b |\n" +
		"| CommerceCatalogFunction | 8.4 |  |\n" +
		"| multi line | 1 |  |\n"
	if got := tb.Markdown(); got != want {
		t.Errorf("Markdown() =\n%s\nwant\n%s", got, want)
	}
}

func testReport() *Report {
	return &Report{
		Title:     "etalase benchmark",
		Generated: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Quick:     true,
		Took:      Duration(42 * time.Second),
		Host:      Host{GoVersion: "go1.26", OS: "linux", Arch: "amd64", CPUs: 2, Load: "1.50"},
		Sections: []*Section{
			{
				ID: "cold-start", Title: "Cold start",
				Data: map[string]any{"ratio": Float(math.NaN()), "n": 5},
				Blocks: []Block{
					Text("Intro *text*."),
					&Table{Columns: []Column{{Name: "A"}}, Rows: [][]string{{"1"}}},
					&Chart{Name: "ratio", Title: "Ratio", Unit: "×", Series: []string{"x"},
						Groups: []Group{{Label: "f", Values: []float64{math.NaN()}}, {Label: "g", Values: []float64{2}}}},
				},
			},
			{ID: "latency", Title: "Latency", Err: "emulator\ngone"},
		},
	}
}

func TestReportMarkdown(t *testing.T) {
	md := testReport().Markdown()
	for _, want := range []string{
		"# etalase benchmark\n",
		"Generated 2026-01-02T03:04:05Z in 42s, quick counts",
		"Host: linux/amd64, 2 CPUs, go1.26, load average 1.50",
		"- [Cold start](#cold-start)\n- [Latency](#latency)\n",
		"<a id=\"cold-start\"></a>\n\n## Cold start\n\nIntro *text*.\n\n| A |\n|---|\n| 1 |\n",
		"![Ratio](cold-start-ratio.svg)\n",
		"## Latency\n\n**This stage failed:** emulator gone\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report.md lacks %q:\n%s", want, md)
		}
	}
	if strings.Index(md, "## Cold start") > strings.Index(md, "## Latency") {
		t.Error("sections are out of order")
	}
}

func TestReportWrite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	if err := testReport().Write(dir); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"report.md", "report.json", "cold-start-ratio.svg"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s not written: %v", f, err)
		}
	}
	raw, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Quick    bool    `json:"quick"`
		Took     float64 `json:"took"`
		Sections []struct {
			ID     string         `json:"id"`
			Data   map[string]any `json:"data"`
			Error  string         `json:"error"`
			Tables []Table        `json:"tables"`
			Charts []struct {
				File   string `json:"file"`
				Groups []struct {
					Values []*float64 `json:"values"`
				} `json:"groups"`
			} `json:"charts"`
		} `json:"sections"`
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("report.json: %v\n%s", err, raw)
	}
	if !got.Quick || got.Took != 42000 || len(got.Sections) != 2 {
		t.Fatalf("report.json = %+v", got)
	}
	cs := got.Sections[0]
	if cs.ID != "cold-start" || cs.Data["ratio"] != nil || cs.Data["n"] != 5.0 {
		t.Errorf("cold-start data = %v (NaN must be null)", cs.Data)
	}
	if len(cs.Tables) != 1 || cs.Tables[0].Rows[0][0] != "1" {
		t.Errorf("tables = %+v", cs.Tables)
	}
	if len(cs.Charts) != 1 || cs.Charts[0].File != "cold-start-ratio.svg" ||
		cs.Charts[0].Groups[0].Values[0] != nil || *cs.Charts[0].Groups[1].Values[0] != 2 {
		t.Errorf("charts = %+v", cs.Charts)
	}
	if got.Sections[1].Error == "" {
		t.Error("the failed section lost its error")
	}
}

func TestReportRejectsClashingFiles(t *testing.T) {
	r := testReport()
	r.Sections[1].ID = "cold-start"
	if err := r.Write(t.TempDir()); err == nil {
		t.Error("two sections with one id: no error")
	}
	r = testReport()
	r.Sections[0].Blocks = append(r.Sections[0].Blocks, &Chart{Name: "ratio", Groups: []Group{{Label: "x", Values: []float64{1}}}})
	if err := r.Write(t.TempDir()); err == nil {
		t.Error("two charts with one name: no error")
	}
}

func TestSelectStages(t *testing.T) {
	all := []Stage{{Name: "cold start"}, {Name: "requests"}, {Name: "latency"}}
	tests := []struct {
		list    string
		want    []string
		wantErr bool
	}{
		{"", []string{"cold start", "requests", "latency"}, false},
		{"latency,cold-start", []string{"cold start", "latency"}, false},
		{" Cold Start ", []string{"cold start"}, false},
		{"latency,nope", nil, true},
	}
	for _, tc := range tests {
		got, err := SelectStages(all, tc.list)
		if (err != nil) != tc.wantErr {
			t.Errorf("SelectStages(%q) error = %v, want error %v", tc.list, err, tc.wantErr)
			continue
		}
		var names []string
		for _, st := range got {
			names = append(names, st.Name)
		}
		if strings.Join(names, "|") != strings.Join(tc.want, "|") {
			t.Errorf("SelectStages(%q) = %v, want %v", tc.list, names, tc.want)
		}
	}
}
