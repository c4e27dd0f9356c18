package pages_test

import (
	"strings"
	"testing"

	"github.com/redwatch/redwatch/views/internal/htmltest"
	"github.com/redwatch/redwatch/views/pages"
	"github.com/redwatch/redwatch/views/partials"
)

func TestAlertListSilenceForm(t *testing.T) {
	const hostile = `<img src=x onerror=alert(1)>`
	p := pages.AlertListProps{
		Layout: layout("admin", "admin"),
		Notice: "Silence " + hostile + " created.",
		Silence: &pages.SilenceFormProps{
			Action: "/alerts/silences", CSRFToken: "csrf-123", Open: true, Title: "Silence QueueLong",
			Matchers: []pages.SilenceMatcherInput{
				{Name: "alertname", Op: "=", Value: "QueueLong"},
				{Name: "q", Op: "=~", Value: "(", Error: "Not a valid regular expression: missing closing )."},
				{}, {},
			},
			Duration: "custom", Until: "2030-01-02T03:04", Comment: "fixing " + hostile,
			Errors: map[string]string{"comment": "too " + hostile},
		},
		Live: partials.AlertsLiveProps{PollURL: "/alerts?fragment=alerts-live"},
	}
	d := htmltest.Render(t, pages.AlertList(p))
	if strings.Contains(d.HTML, "<img") {
		t.Fatal("hostile text rendered as HTML")
	}
	if got := htmltest.Text(d.One(t, "alerts-notice")); got != "Silence "+hostile+" created." {
		t.Errorf("notice %q", got)
	}
	if _, open := htmltest.LookupAttr(d.One(t, "silence-panel"), "open"); !open || htmltest.Attr(d.One(t, "silence-panel"), "id") != pages.SilenceFormID {
		t.Error("panel not open, or not the link target")
	}
	form := d.One(t, "silence-form")
	if htmltest.Attr(form, "method") != "post" || htmltest.Attr(form, "action") != "/alerts/silences" {
		t.Fatalf("form %v", form.Attr)
	}
	if in := inputs(form); htmltest.Attr(in["_csrf"], "value") != "csrf-123" || htmltest.Attr(in["until"], "value") != "2030-01-02T03:04" || htmltest.Attr(in["until"], "type") != "datetime-local" {
		t.Errorf("hidden or until input wrong")
	}
	rows := d.ByTestID("silence-matcher")
	if len(rows) != 4 {
		t.Fatalf("%d matcher rows", len(rows))
	}
	var ops []string
	for _, sel := range htmltest.All(form, func(n *htmltest.Node) bool { return n.Data == "select" && htmltest.Attr(n, "name") == "matcher_op" }) {
		for _, o := range htmltest.All(sel, func(n *htmltest.Node) bool { return n.Data == "option" }) {
			if _, ok := htmltest.LookupAttr(o, "selected"); ok {
				ops = append(ops, htmltest.Attr(o, "value"))
			}
		}
	}
	if strings.Join(ops, " ") != "= =~ = =" {
		t.Errorf("selected operators %q", ops)
	}
	fe := d.ByTestID("field-error")
	if len(fe) != 2 || htmltest.Attr(fe[0], "data-field") != "matchers" || htmltest.Attr(fe[0], "data-row") != "1" || htmltest.Attr(fe[1], "data-field") != "comment" {
		t.Fatalf("field errors %d", len(fe))
	}
	if htmltest.Text(fe[1]) != "too "+hostile {
		t.Errorf("comment error %q", htmltest.Text(fe[1]))
	}
	bad := htmltest.All(rows[1], func(n *htmltest.Node) bool { return htmltest.Attr(n, "aria-invalid") == "true" })
	if len(bad) != 2 || htmltest.Attr(bad[0], "aria-describedby") != htmltest.Attr(fe[0], "id") {
		t.Errorf("the bad row's inputs are not marked invalid")
	}
	area := htmltest.All(form, func(n *htmltest.Node) bool { return n.Data == "textarea" })
	if len(area) != 1 || htmltest.Text(area[0]) != "fixing "+hostile || htmltest.Attr(area[0], "aria-invalid") != "true" {
		t.Errorf("comment not kept")
	}
	var durations []string
	for _, o := range htmltest.All(form, func(n *htmltest.Node) bool {
		return n.Data == "option" && htmltest.Attr(n.Parent, "name") == "duration"
	}) {
		durations = append(durations, htmltest.Attr(o, "value"))
		if _, ok := htmltest.LookupAttr(o, "selected"); ok != (htmltest.Attr(o, "value") == "custom") {
			t.Errorf("option %s selected=%v", htmltest.Attr(o, "value"), ok)
		}
	}
	if strings.Join(durations, " ") != "1h 4h 24h 7d custom" {
		t.Errorf("durations %q", durations)
	}

	// Viewers: no form.
	p.Silence = nil
	d = htmltest.Render(t, pages.AlertList(p))
	d.None(t, "silence-form")
	d.One(t, "alerts-live")

	// The polled fragment is the live part alone.
	f := htmltest.RenderFragments(t, pages.AlertList(p), pages.FragmentAlerts)
	f.One(t, "alerts-live")
	if strings.Contains(f.HTML, "<nav") || strings.Contains(f.HTML, "alerts-notice") {
		t.Errorf("fragment has more than the live part")
	}
}
