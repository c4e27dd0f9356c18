package components_test

import (
	"testing"

	"github.com/redwatch/redwatch/views/components"
	"github.com/redwatch/redwatch/views/internal/htmltest"
)

func rangeOptions() []components.RangeOption {
	var out []components.RangeOption
	for _, k := range []string{"15m", "1h", "6h", "24h", "7d", "30d"} {
		out = append(out, components.RangeOption{Key: k, URL: "/p?client=%3Cx%3E&range=" + k})
	}
	return out
}

func TestRangePickerPresets(t *testing.T) {
	d := htmltest.Render(t, components.RangePicker(components.RangeProps{
		Current: "7d", Options: rangeOptions(), Action: "/p",
		Hidden: []components.HiddenField{{Name: "client", Value: `"><img src=x onerror=alert(1)>`}},
	}))
	root := d.One(t, "range-picker")
	if htmltest.Attr(root, "role") != "group" || htmltest.Attr(root, "aria-label") == "" {
		t.Errorf("picker is not a labelled group")
	}
	opts := d.ByTestID("range-opt")
	if len(opts) != 6 {
		t.Fatalf("%d options", len(opts))
	}
	for _, o := range opts {
		key := htmltest.Attr(o, "data-range-key")
		if htmltest.Text(o) != key || htmltest.Attr(o, "href") != "/p?client=%3Cx%3E&range="+key {
			t.Errorf("option %q: text %q href %q", key, htmltest.Text(o), htmltest.Attr(o, "href"))
		}
		if cur := htmltest.Attr(o, "aria-current") == "true"; cur != (key == "7d") {
			t.Errorf("option %s current=%v", key, cur)
		}
	}
	if got := htmltest.Attr(opts[1], "title"); got != "last 1 hour" {
		t.Errorf("1h title %q", got)
	}
	if got := htmltest.Attr(opts[4], "title"); got != "last 7 days" {
		t.Errorf("7d title %q", got)
	}
	// Not custom: the form is closed and empty.
	if _, open := htmltest.LookupAttr(d.One(t, "range-custom"), "open"); open {
		t.Errorf("custom form open for a preset")
	}
	if htmltest.Attr(d.One(t, "range-from"), "data-unix") != "" || htmltest.Attr(d.One(t, "range-from"), "value") != "" {
		t.Errorf("custom inputs filled for a preset")
	}
	form := d.One(t, "range-form")
	if htmltest.Attr(form, "method") != "get" || htmltest.Attr(form, "action") != "/p" {
		t.Errorf("form method %q action %q", htmltest.Attr(form, "method"), htmltest.Attr(form, "action"))
	}
	if _, ok := htmltest.LookupAttr(form, "data-range-form"); !ok {
		t.Errorf("form lacks data-range-form (app.js converts its times)")
	}
	var hidden []string
	for _, in := range htmltest.All(form, func(n *htmltest.Node) bool { return n.Data == "input" && htmltest.Attr(n, "type") == "hidden" }) {
		hidden = append(hidden, htmltest.Attr(in, "name")+"="+htmltest.Attr(in, "value"))
	}
	if len(hidden) != 1 || hidden[0] != `client="><img src=x onerror=alert(1)>` {
		t.Errorf("hidden fields %q", hidden)
	}
	if len(d.Tag("img")) != 0 {
		t.Errorf("a hidden value became markup")
	}
}

func TestRangePickerCustom(t *testing.T) {
	d := htmltest.Render(t, components.RangePicker(components.RangeProps{Current: "custom", Options: rangeOptions(), Action: "/p", From: 1700000000, To: 1700003600}))
	for _, o := range d.ByTestID("range-opt") {
		if _, cur := htmltest.LookupAttr(o, "aria-current"); cur {
			t.Errorf("preset %s current on a custom range", htmltest.Attr(o, "data-range-key"))
		}
	}
	toggle := d.One(t, "range-custom-toggle")
	if htmltest.Attr(toggle, "aria-current") != "true" || htmltest.Attr(toggle, "title") != "2023-11-14 22:13 to 2023-11-14 23:13 UTC" {
		t.Errorf("Custom: aria-current %q title %q", htmltest.Attr(toggle, "aria-current"), htmltest.Attr(toggle, "title"))
	}
	for id, want := range map[string][2]string{"range-from": {"1700000000", "2023-11-14T22:13"}, "range-to": {"1700003600", "2023-11-14T23:13"}} {
		n := d.One(t, id)
		if htmltest.Attr(n, "type") != "datetime-local" || htmltest.Attr(n, "data-unix") != want[0] || htmltest.Attr(n, "value") != want[1] {
			t.Errorf("%s: type %q data-unix %q value %q; want %v", id, htmltest.Attr(n, "type"), htmltest.Attr(n, "data-unix"), htmltest.Attr(n, "value"), want)
		}
	}
	// An open custom range (no end): "to" stays empty, meaning now.
	d = htmltest.Render(t, components.RangePicker(components.RangeProps{Current: "custom", Options: rangeOptions(), Action: "/p", From: 1700000000}))
	if htmltest.Attr(d.One(t, "range-to"), "data-unix") != "" || htmltest.Attr(d.One(t, "range-to"), "value") != "" {
		t.Errorf("open range has an end")
	}
	if got := htmltest.Attr(d.One(t, "range-custom-toggle"), "title"); got != "2023-11-14 22:13 to now" {
		t.Errorf("open range title %q", got)
	}
}
