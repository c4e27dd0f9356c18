package components_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/redwatch/redwatch/views/components"
	"github.com/redwatch/redwatch/views/internal/htmltest"
)

// polyline parses a polyline's points attribute.
func polyline(t *testing.T, s string) [][2]float64 {
	t.Helper()
	var out [][2]float64
	for _, f := range strings.Fields(s) {
		x, y, ok := strings.Cut(f, ",")
		if !ok {
			t.Fatalf("bad point %q", f)
		}
		xf, err1 := strconv.ParseFloat(x, 64)
		yf, err2 := strconv.ParseFloat(y, 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("bad point %q", f)
		}
		out = append(out, [2]float64{xf, yf})
	}
	return out
}

func TestSparkline(t *testing.T) {
	pts := []components.SparkPoint{{T: 1000, V: 100}, {T: 2000, V: 250}, {T: 3000, V: 160}}
	d := htmltest.Render(t, components.Sparkline(components.SparklineProps{
		Points: pts, From: 0, To: 3000, Label: "Length over 1h", Suffix: "items",
	}))
	svg := d.One(t, "sparkline")
	if svg.Data != "svg" {
		t.Fatalf("sparkline is a <%s>", svg.Data)
	}
	if got := htmltest.Attr(svg, "aria-label"); got != "Length over 1h: 100 items → 160 items" {
		t.Errorf("aria-label %q", got)
	}
	if htmltest.Attr(svg, "role") != "img" || htmltest.Attr(svg, "data-points") != "3" {
		t.Errorf("role %q, data-points %q", htmltest.Attr(svg, "role"), htmltest.Attr(svg, "data-points"))
	}
	lines := d.Tag("polyline")
	if len(lines) != 1 {
		t.Fatalf("%d polylines", len(lines))
	}
	xy := polyline(t, htmltest.Attr(lines[0], "points"))
	if len(xy) != 3 {
		t.Fatalf("points %v", xy)
	}
	// x by time within From..To: 1/3, 2/3 and the right edge; y: min at the bottom, max on top.
	if xy[0][0] != 40.7 || xy[1][0] != 79.3 || xy[2][0] != 118 {
		t.Errorf("x %v", xy)
	}
	if xy[1][1] != 2 || xy[0][1] != 22 || !(xy[2][1] > 2 && xy[2][1] < 22) {
		t.Errorf("y %v", xy)
	}

	// Units.
	d = htmltest.Render(t, components.Sparkline(components.SparklineProps{
		Points: []components.SparkPoint{{T: 1, V: 1024}, {T: 2, V: 2048}}, Unit: components.UnitBytes, Label: "Memory", TestID: "mem",
	}))
	if got := htmltest.Attr(d.One(t, "mem"), "aria-label"); got != "Memory: 1.0 KiB → 2.0 KiB" {
		t.Errorf("bytes summary %q", got)
	}

	// Flat: mid-height. One point: a dot. None: an empty box of the same size.
	d = htmltest.Render(t, components.Sparkline(components.SparklineProps{Points: []components.SparkPoint{{T: 1, V: 5}, {T: 2, V: 5}}}))
	for _, p := range polyline(t, htmltest.Attr(d.Tag("polyline")[0], "points")) {
		if p[1] != 12 {
			t.Errorf("flat line at y %v", p[1])
		}
	}
	d = htmltest.Render(t, components.Sparkline(components.SparklineProps{Points: []components.SparkPoint{{T: 1, V: 5}}}))
	if len(d.Tag("circle")) != 1 || len(d.Tag("polyline")) != 0 {
		t.Errorf("one point not drawn as a dot")
	}
	d = htmltest.Render(t, components.Sparkline(components.SparklineProps{Label: "Length"}))
	svg = d.One(t, "sparkline")
	if len(d.Tag("polyline"))+len(d.Tag("circle")) != 0 || htmltest.Attr(svg, "aria-label") != "Length: no data" {
		t.Errorf("empty sparkline drew something or says %q", htmltest.Attr(svg, "aria-label"))
	}
	if htmltest.Attr(svg, "width") != "120" || !strings.Contains(htmltest.Attr(svg, "class"), "is-empty") {
		t.Errorf("empty sparkline changes size or lacks is-empty")
	}

	// More than SparklineMaxPoints are thinned, keeping the first and the last.
	many := make([]components.SparkPoint, 500)
	for i := range many {
		many[i] = components.SparkPoint{T: int64(i), V: float64(i)}
	}
	d = htmltest.Render(t, components.Sparkline(components.SparklineProps{Points: many}))
	xy = polyline(t, htmltest.Attr(d.Tag("polyline")[0], "points"))
	if len(xy) != components.SparklineMaxPoints || xy[0] != [2]float64{2, 22} || xy[len(xy)-1] != [2]float64{118, 2} {
		t.Errorf("thinned to %d points, ends %v %v", len(xy), xy[0], xy[len(xy)-1])
	}
}

func TestFormatUnit(t *testing.T) {
	for _, c := range []struct {
		v            float64
		unit, suffix string
		want         string
	}{
		{1536, components.UnitBytes, "", "1.5 KiB"},
		{12.34, components.UnitPercent, "", "12.3%"},
		{90, components.UnitSeconds, "", "1m 30s"},
		{12345, "", "items", "12.3k items"},
		{7, components.UnitNumber, "", "7"},
	} {
		if got := components.FormatUnit(c.v, c.unit, c.suffix); got != c.want {
			t.Errorf("FormatUnit(%v, %q, %q) = %q, want %q", c.v, c.unit, c.suffix, got, c.want)
		}
	}
}
