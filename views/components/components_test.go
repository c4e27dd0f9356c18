package components_test

import (
	"testing"

	"github.com/redwatch/redwatch/views/components"
	"github.com/redwatch/redwatch/views/internal/htmltest"
)

func TestChart(t *testing.T) {
	d := htmltest.Render(t, components.Chart(components.ChartProps{
		Title:  "CPU",
		Query:  `host_cpu_usage_percent{host="h1"}`,
		Unit:   components.UnitPercent,
		TestID: "cpu-chart",
	}))
	n := d.One(t, "cpu-chart")
	if _, ok := htmltest.LookupAttr(n, "data-chart"); !ok {
		t.Fatalf("chart element lacks data-chart")
	}
	want := map[string]string{
		"data-query": `host_cpu_usage_percent{host="h1"}`,
		"data-unit":  "percent",
		"data-range": "3600",
	}
	for k, v := range want {
		if got := htmltest.Attr(n, k); got != v {
			t.Errorf("%s = %q; want %q", k, got, v)
		}
	}
	for _, k := range []string{"data-agg", "data-refresh"} {
		if _, ok := htmltest.LookupAttr(n, k); ok {
			t.Errorf("%s present although not set", k)
		}
	}

	d = htmltest.Render(t, components.Chart(components.ChartProps{Query: "x{}", Agg: "rate", RangeSeconds: 600, RefreshMs: 5000, TestID: "c"}))
	n = d.One(t, "c")
	for k, v := range map[string]string{"data-agg": "rate", "data-range": "600", "data-refresh": "5000", "data-unit": "number"} {
		if got := htmltest.Attr(n, k); got != v {
			t.Errorf("%s = %q; want %q", k, got, v)
		}
	}
}

func TestChartOptions(t *testing.T) {
	d := htmltest.Render(t, components.Chart(components.ChartProps{
		Query: `{__name__=~"a|b"}`, Unit: components.UnitPerSecond, Scale: 100, TestID: "c",
		RangeSeconds: 7200, Start: 1700000000, End: 1700007200,
		SeriesNames: map[string]string{"b": `<i>b</i>`, "a": "A"},
	}))
	n := d.One(t, "c")
	for k, v := range map[string]string{
		"data-unit":  "per_second",
		"data-scale": "100",
		"data-range": "7200",
		"data-start": "1700000000",
		"data-end":   "1700007200",
		"data-names": `{"a":"A","b":"\u003ci\u003eb\u003c/i\u003e"}`,
	} {
		if got := htmltest.Attr(n, k); got != v {
			t.Errorf("%s = %q; want %q", k, got, v)
		}
	}
	// Without a fixed span, scale or names: none of those attributes.
	n = htmltest.Render(t, components.Chart(components.ChartProps{Query: "x", Scale: 1, TestID: "c"})).One(t, "c")
	for _, k := range []string{"data-start", "data-end", "data-scale", "data-names"} {
		if _, ok := htmltest.LookupAttr(n, k); ok {
			t.Errorf("%s present although not set", k)
		}
	}
}

func TestNamesSelector(t *testing.T) {
	f := func(metrics []string, pairs []string, want string) {
		t.Helper()
		if got := components.NamesSelector(metrics, pairs...); got != want {
			t.Errorf("NamesSelector(%q, %q) = %q; want %q", metrics, pairs, got, want)
		}
	}
	f([]string{"a"}, []string{"instance", "x"}, `a{instance="x"}`)
	f([]string{"a", "b"}, []string{"instance", "x"}, `{__name__=~"a|b",instance="x"}`)
	f([]string{"a", "b"}, nil, `{__name__=~"a|b"}`)
	f([]string{"a", "b"}, []string{"instance", "we\"ird\\name\n", "db", "0"}, `{__name__=~"a|b",instance="we\"ird\\name\n",db="0"}`)
}

func TestMeterClamps(t *testing.T) {
	f := func(in float64, want string) {
		t.Helper()
		d := htmltest.Render(t, components.Meter(components.MeterProps{Percent: in, Label: "x", TestID: "m"}))
		if got := htmltest.Attr(d.One(t, "m"), "value"); got != want {
			t.Errorf("Meter(%v) value = %q; want %q", in, got, want)
		}
	}
	f(42.25, "42.2")
	f(-5, "0.0")
	f(150, "100.0")
}

func TestBadge(t *testing.T) {
	f := func(kind components.BadgeKind, wantClass string) {
		t.Helper()
		d := htmltest.Render(t, components.Badge(components.BadgeProps{Text: "hi", Kind: kind, TestID: "b"}))
		n := d.One(t, "b")
		if got := htmltest.Attr(n, "class"); got != "badge "+wantClass {
			t.Errorf("class = %q; want %q", got, "badge "+wantClass)
		}
		if htmltest.Text(n) != "hi" {
			t.Errorf("text = %q", htmltest.Text(n))
		}
	}
	f(components.BadgeWarn, "badge-warn")
	f(components.BadgeOK, "badge-ok")
	f("", "badge-muted")
	f("bogus", "badge-muted")
}

func TestStat(t *testing.T) {
	d := htmltest.Render(t, components.Stat(components.StatProps{Label: "CPU", Value: "12.5%", TestID: "cpu"}))
	if got := htmltest.Text(d.One(t, "cpu")); got != "12.5%" {
		t.Fatalf("value = %q", got)
	}
}
