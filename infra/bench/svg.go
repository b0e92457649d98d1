package bench

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Chart geometry, in SVG user units (pixels).
const (
	svgWidth     = 820
	svgFont      = 12
	svgCharWidth = 6.8 // a generous average for 12 px sans-serif
	svgBarHeight = 14
	svgBarGap    = 2
	svgGroupGap  = 10
	svgRightPad  = 80 // room for the value after the longest bar
)

var (
	// svgPalette colours the series, in order.
	svgPalette = []string{"#4e79a7", "#f28e2b", "#59a14f", "#76b7b2", "#b07aa1", "#9c755f"}
	// svgMissColor fills a value marked Miss.
	svgMissColor = "#e15759"
)

// SVG renders the chart as a standalone SVG document: hand-written, no dependencies, the
// same bytes for the same chart.
func (c *Chart) SVG() ([]byte, error) {
	if len(c.Groups) == 0 {
		return nil, errors.New("chart has no groups")
	}
	nSeries := max(len(c.Series), 1)
	for _, g := range c.Groups {
		if len(g.Values) != nSeries {
			return nil, fmt.Errorf("group %q has %d values for %d series", g.Label, len(g.Values), nSeries)
		}
		if g.Miss != nil && len(g.Miss) != nSeries {
			return nil, fmt.Errorf("group %q has %d miss marks for %d series", g.Label, len(g.Miss), nSeries)
		}
	}

	// Scale: from 0 to a round number at or above every value and reference line.
	top := 0.0
	for _, g := range c.Groups {
		for _, v := range g.Values {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				top = max(top, v)
			}
		}
	}
	for _, l := range c.Lines {
		top = max(top, l.Value)
	}
	step := niceStep(top / 5)
	top = step * math.Ceil(top/step)
	if top <= 0 {
		top, step = 1, 0.2
	}

	labelW := 0.0
	for _, g := range c.Groups {
		labelW = max(labelW, float64(len([]rune(g.Label)))*svgCharWidth)
	}
	left := math.Round(labelW + 20)
	plotW := svgWidth - left - svgRightPad
	titleH := 30.0
	legendH := 0.0
	if len(c.Series) > 1 {
		legendH = 22
	}
	lineLabelH := 0.0
	if len(c.Lines) > 0 {
		lineLabelH = 16
	}
	plotTop := titleH + legendH + lineLabelH
	groupH := float64(nSeries)*(svgBarHeight+svgBarGap) - svgBarGap + svgGroupGap
	plotH := float64(len(c.Groups))*groupH + svgGroupGap/2
	height := plotTop + plotH + 40
	x := func(v float64) float64 { return left + plotW*v/top }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%s" viewBox="0 0 %d %s" font-family="sans-serif" font-size="%d">`+"\n",
		svgWidth, num(height), svgWidth, num(height), svgFont)
	fmt.Fprintf(&b, `<title>%s</title>`+"\n", xmlEscape(c.Title))
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="#ffffff"/>`+"\n")
	fmt.Fprintf(&b, `<text class="title" x="%s" y="20" font-size="15" font-weight="bold">%s</text>`+"\n", num(10), xmlEscape(c.Title))

	if len(c.Series) > 1 {
		lx := left
		for i, s := range c.Series {
			fmt.Fprintf(&b, `<rect class="legend" x="%s" y="%s" width="12" height="12" fill="%s"/>`, num(lx), num(titleH+2), svgPalette[i%len(svgPalette)])
			fmt.Fprintf(&b, `<text x="%s" y="%s">%s</text>`+"\n", num(lx+16), num(titleH+12), xmlEscape(s))
			lx += 16 + float64(len([]rune(s)))*svgCharWidth + 18
		}
	}

	// Grid and axis.
	for t := 0.0; t <= top+step/2; t += step {
		fmt.Fprintf(&b, `<line class="grid" x1="%s" y1="%s" x2="%s" y2="%s" stroke="#dddddd"/>`+"\n",
			num(x(t)), num(plotTop), num(x(t)), num(plotTop+plotH))
		fmt.Fprintf(&b, `<text class="tick" x="%s" y="%s" text-anchor="middle" fill="#555555">%s</text>`+"\n",
			num(x(t)), num(plotTop+plotH+15), trimFloat(t))
	}
	fmt.Fprintf(&b, `<text class="unit" x="%s" y="%s" text-anchor="middle" fill="#555555">%s</text>`+"\n",
		num(left+plotW/2), num(plotTop+plotH+32), xmlEscape(c.Unit))

	// Bars.
	for gi, g := range c.Groups {
		gy := plotTop + svgGroupGap/2 + float64(gi)*groupH
		fmt.Fprintf(&b, `<text class="label" x="%s" y="%s" text-anchor="end" dominant-baseline="middle">%s</text>`+"\n",
			num(left-8), num(gy+(groupH-svgGroupGap)/2), xmlEscape(g.Label))
		for si, v := range g.Values {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			y := gy + float64(si)*(svgBarHeight+svgBarGap)
			fill := svgPalette[si%len(svgPalette)]
			class := "bar"
			if g.Miss != nil && g.Miss[si] {
				fill, class = svgMissColor, "bar miss"
			}
			series := ""
			if si < len(c.Series) {
				series = c.Series[si] + ": "
			}
			w := max(x(max(v, 0))-left, 0)
			label := strconv.FormatFloat(v, 'f', c.Decimals, 64)
			fmt.Fprintf(&b, `<rect class="%s" x="%s" y="%s" width="%s" height="%d" fill="%s"><title>%s</title></rect>`+"\n",
				class, num(left), num(y), num(w), svgBarHeight, fill, xmlEscape(g.Label+" — "+series+label+" "+c.Unit))
			fmt.Fprintf(&b, `<text class="value" x="%s" y="%s" dominant-baseline="middle" font-size="11">%s</text>`+"\n",
				num(left+w+4), num(y+svgBarHeight/2), xmlEscape(label))
		}
	}

	// Reference lines over the bars.
	for _, l := range c.Lines {
		lx := x(l.Value)
		fmt.Fprintf(&b, `<line class="ref" x1="%s" y1="%s" x2="%s" y2="%s" stroke="#333333" stroke-dasharray="5,3"/>`+"\n",
			num(lx), num(plotTop-4), num(lx), num(plotTop+plotH))
		fmt.Fprintf(&b, `<text class="ref-label" x="%s" y="%s" text-anchor="middle" font-size="11">%s</text>`+"\n",
			num(lx), num(plotTop-7), xmlEscape(l.Label))
	}
	b.WriteString("</svg>\n")
	return []byte(b.String()), nil
}

// niceStep returns the smallest of 1, 2, 2.5 and 5 times a power of ten that is >= x.
func niceStep(x float64) float64 {
	if !(x > 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= x*(1-1e-9) {
			return m * p
		}
	}
	return 10 * p
}

// num formats a coordinate with at most one decimal.
func num(v float64) string { return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) }

// trimFloat formats a tick value without float noise.
func trimFloat(v float64) string {
	return strconv.FormatFloat(math.Round(v*1e6)/1e6, 'f', -1, 64)
}

var xmlReplacer = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;")

func xmlEscape(s string) string { return xmlReplacer.Replace(s) }
