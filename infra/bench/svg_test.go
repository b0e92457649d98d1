package bench

import (
	"bytes"
	"encoding/xml"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"
)

// svgElem is one element of a rendered chart.
type svgElem struct {
	name  string
	attrs map[string]string
	text  string
}

// parseSVG checks that doc is well-formed XML with an <svg> root and returns its
// elements in document order.
func parseSVG(t *testing.T, doc []byte) []svgElem {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(doc))
	var elems []svgElem
	var stack []int
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v\n%s", err, doc)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			e := svgElem{name: tok.Name.Local, attrs: map[string]string{}}
			for _, a := range tok.Attr {
				e.attrs[a.Name.Local] = a.Value
			}
			if len(elems) == 0 && (e.name != "svg" || tok.Name.Space != "http://www.w3.org/2000/svg") {
				t.Fatalf("root element is %v, want svg in the SVG namespace", tok.Name)
			}
			elems = append(elems, e)
			stack = append(stack, len(elems)-1)
		case xml.CharData: // an element's text includes its children's (a bar's <title>)
			for _, i := range stack {
				elems[i].text += string(tok)
			}
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		}
	}
	return elems
}

func withClass(elems []svgElem, name, class string) []svgElem {
	var out []svgElem
	for _, e := range elems {
		if e.name == name && (e.attrs["class"] == class || strings.HasPrefix(e.attrs["class"], class+" ")) {
			out = append(out, e)
		}
	}
	return out
}

func attrFloat(t *testing.T, e svgElem, name string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(e.attrs[name], 64)
	if err != nil {
		t.Fatalf("<%s %s=%q>: %v", e.name, name, e.attrs[name], err)
	}
	return v
}

func testChart() *Chart {
	return &Chart{
		Name: "ratio", Title: `Cold start <first> & "ratio"`, Unit: "× hello-world",
		Series: []string{"init", "first response"}, Decimals: 2,
		Groups: []Group{
			{Label: "hello-world", Values: []float64{1, 1}},
			{Label: "Commerce<Cart>Function", Values: []float64{2, 3}, Miss: []bool{false, true}},
			{Label: "no data", Values: []float64{math.NaN(), 0.5}},
		},
		Lines: []RefLine{{Value: 1.5, Label: "target 1.5×"}},
	}
}

func TestChartSVG(t *testing.T) {
	doc, err := testChart().SVG()
	if err != nil {
		t.Fatal(err)
	}
	elems := parseSVG(t, doc)

	bars := withClass(elems, "rect", "bar")
	if len(bars) != 5 { // six values, one NaN
		t.Fatalf("%d bars, want 5 (a NaN value draws none)", len(bars))
	}
	// Bars start at the same x and their widths are proportional to their values.
	unit := attrFloat(t, bars[0], "width") // value 1
	for i, want := range []float64{1, 1, 2, 3, 0.5} {
		if x := attrFloat(t, bars[i], "x"); x != attrFloat(t, bars[0], "x") {
			t.Errorf("bar %d starts at x=%v, bar 0 at %v", i, x, attrFloat(t, bars[0], "x"))
		}
		if got := attrFloat(t, bars[i], "width"); math.Abs(got-want*unit) > 0.2 {
			t.Errorf("bar %d width %v, want %v (value %v × %v)", i, got, want*unit, want, unit)
		}
	}
	// Only the marked value is drawn as a miss, in the warning colour.
	misses := withClass(elems, "rect", "bar miss")
	if len(misses) != 1 || misses[0].attrs["fill"] != svgMissColor || !strings.Contains(misses[0].text, "3.00") {
		t.Errorf("miss bars = %+v, want the one of value 3.00 in %s", misses, svgMissColor)
	}
	if bars[0].attrs["fill"] == bars[1].attrs["fill"] {
		t.Error("the two series have the same colour")
	}
	// The reference line sits where a bar of its value would end.
	refs := withClass(elems, "line", "ref")
	if len(refs) != 1 {
		t.Fatalf("%d reference lines, want 1", len(refs))
	}
	if got, want := attrFloat(t, refs[0], "x1"), attrFloat(t, bars[0], "x")+1.5*unit; math.Abs(got-want) > 0.2 {
		t.Errorf("reference line at x=%v, want %v", got, want)
	}
	// Text is escaped and present.
	labels := withClass(elems, "text", "label")
	if len(labels) != 3 || labels[1].text != "Commerce<Cart>Function" {
		t.Errorf("labels = %+v", labels)
	}
	if titles := withClass(elems, "text", "title"); len(titles) != 1 || titles[0].text != `Cold start <first> & "ratio"` {
		t.Errorf("title = %+v", titles)
	}
	if legend := withClass(elems, "rect", "legend"); len(legend) != 2 {
		t.Errorf("%d legend entries, want 2", len(legend))
	}
	// Ticks run from 0 to at least the largest value.
	ticks := withClass(elems, "text", "tick")
	if len(ticks) < 2 || ticks[0].text != "0" {
		t.Fatalf("ticks = %+v", ticks)
	}
	if last, _ := strconv.ParseFloat(ticks[len(ticks)-1].text, 64); last < 3 {
		t.Errorf("last tick %v is below the largest value 3", last)
	}
	// The same chart renders to the same bytes.
	again, _ := testChart().SVG()
	if !bytes.Equal(doc, again) {
		t.Error("rendering is not deterministic")
	}
}

func TestChartSVGErrors(t *testing.T) {
	for name, c := range map[string]*Chart{
		"no groups":      {Name: "x", Series: []string{"a"}},
		"too few values": {Name: "x", Series: []string{"a", "b"}, Groups: []Group{{Label: "g", Values: []float64{1}}}},
		"bad miss marks": {Name: "x", Series: []string{"a"}, Groups: []Group{{Label: "g", Values: []float64{1}, Miss: []bool{true, false}}}},
	} {
		if _, err := c.SVG(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestChartSVGAllZero(t *testing.T) {
	doc, err := (&Chart{Name: "z", Title: "zero", Unit: "ms", Groups: []Group{{Label: "a", Values: []float64{0}}}}).SVG()
	if err != nil {
		t.Fatal(err)
	}
	elems := parseSVG(t, doc)
	if bars := withClass(elems, "rect", "bar"); len(bars) != 1 || attrFloat(t, bars[0], "width") != 0 {
		t.Errorf("bars = %+v, want one of width 0", bars)
	}
	if strings.Contains(string(doc), "NaN") || strings.Contains(string(doc), "Inf") {
		t.Errorf("SVG has NaN or Inf coordinates:\n%s", doc)
	}
}

func TestNiceStep(t *testing.T) {
	for _, tt := range []struct{ in, want float64 }{
		{0, 1}, {-3, 1}, {0.3, 0.5}, {1, 1}, {1.2, 2}, {2.2, 2.5}, {3, 5}, {7, 10}, {42, 50}, {0.011, 0.02},
	} {
		if got := niceStep(tt.in); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("niceStep(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
