package partials_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redwatch/redwatch/views/internal/htmltest"
	"github.com/redwatch/redwatch/views/partials"
)

func alertsLiveProps() partials.AlertsLiveProps {
	const hostile = `<img src=x onerror=alert(1)>`
	long := strings.Repeat("v", 500)
	return partials.AlertsLiveProps{
		Alerts: []partials.AlertRow{
			{Rule: "QueueLong", Fingerprint: "00000000000000a1", Severity: "critical", State: "firing", Summary: "Queue " + hostile + " is long",
				Labels: []partials.AlertLabel{{Name: "long", Value: long}, {Name: "q", Value: hostile}}, Value: "5",
				ActiveAt: now.Add(-90 * time.Second), FiredAt: now.Add(-60 * time.Second), SilenceURL: "/alerts?silence=00000000000000a1#silence-form"},
			{Rule: "QueueSlow", Fingerprint: "00000000000000a2", Severity: "warning", State: "pending", Value: "7", ActiveAt: now.Add(-5 * time.Second)},
			{Rule: "DiskFull", Fingerprint: "00000000000000a3", Severity: "info", State: "firing", Value: "91.0%", ActiveAt: now.Add(-time.Hour),
				FiredAt: now.Add(-time.Hour), Silenced: true, SilenceID: "5111111111111111"},
		},
		Silences: []partials.SilenceRow{
			{ID: "5111111111111111", Matchers: []string{`alertname="DiskFull"`, `mount=~"/var/.*"`}, StartsAt: now.Add(-time.Hour), EndsAt: now.Add(2 * time.Hour),
				Comment: "resizing " + hostile, CreatedBy: "admin", State: "active", Muted: 1, ExpireURL: "/alerts/silences/5111111111111111/expire"},
		},
		Rules: []partials.RuleRow{
			{Name: "QueueLong", Series: "queue_len", Condition: "latest > 1", Severity: "critical", State: "firing", Active: 1, LastEval: now.Add(-3 * time.Second), EvalSeconds: 0.0012},
			{Name: "Broken", Series: "x{", Condition: "latest > 1", Severity: "warning", State: "ok", Error: "cannot query: " + hostile},
		},
		Notifiers: []partials.NotifierRow{
			{Name: "webhook[0]", Kind: "webhook", LastAttempt: now.Add(-10 * time.Second), LastError: "POST to h: 500 " + hostile, Failures: 4, Pending: 3},
			{Name: "email", Kind: "email", LastSuccess: now.Add(-time.Hour), Held: true, Pending: 1},
		},
		History: []partials.HistoryRow{
			{At: now.Add(-60 * time.Second), Rule: "QueueLong", Labels: []partials.AlertLabel{{Name: "q", Value: hostile}}, From: "pending", To: "firing", Value: "5"},
			{At: now.Add(-90 * time.Second), Rule: "QueueLong", From: "inactive", To: "pending", Value: "4"},
		},
		CSRFToken: "tok-1",
		PollURL:   "/alerts?fragment=alerts-live",
		RefreshMs: 5000,
		Now:       now,
	}
}

func TestAlertsLive(t *testing.T) {
	d := htmltest.Render(t, partials.AlertsLive(alertsLiveProps()))
	if strings.Contains(d.HTML, "<img") {
		t.Fatal("hostile text rendered as HTML")
	}
	root := d.One(t, "alerts-live")
	if htmltest.Attr(root, "hx-get") != "/alerts?fragment=alerts-live" || htmltest.Attr(root, "hx-trigger") != "every 5000ms" || htmltest.Attr(root, "hx-swap") != "outerHTML" {
		t.Errorf("live part does not poll: %v", root.Attr)
	}
	if got := htmltest.Text(d.One(t, "alert-counts")); got != "1 firing · 1 pending · 1 silenced" {
		t.Errorf("counts %q", got)
	}
	rows := d.ByTestID("alert-row")
	var order []string
	for _, r := range rows {
		order = append(order, htmltest.Attr(r, "data-rule")+":"+htmltest.Attr(r, "data-state")+":"+htmltest.Attr(r, "data-silenced"))
	}
	if strings.Join(order, " ") != "QueueLong:firing:false QueueSlow:pending:false DiskFull:firing:true" {
		t.Errorf("alert order %v", order)
	}
	first := rows[0]
	summary := htmltest.All(first, func(n *htmltest.Node) bool { return htmltest.Attr(n, "data-testid") == "alert-summary" })
	if len(summary) != 1 || htmltest.Text(summary[0]) != "Queue <img src=x onerror=alert(1)> is long" {
		t.Errorf("summary %v", summary)
	}
	chips := htmltest.All(first, func(n *htmltest.Node) bool { return htmltest.Attr(n, "data-label") != "" })
	if len(chips) != 2 || len([]rune(htmltest.Text(chips[0]))) != len("long=")+partials.AlertLabelMaxChars+1 || htmltest.Attr(chips[0], "title") != `long="`+strings.Repeat("v", 500)+`"` {
		t.Errorf("long label chip %q", htmltest.Text(chips[0]))
	}
	if htmltest.Text(chips[1]) != "q=<img src=x onerror=alert(1)>" {
		t.Errorf("hostile label chip %q", htmltest.Text(chips[1]))
	}
	since := htmltest.All(first, func(n *htmltest.Node) bool { return htmltest.Attr(n, "data-testid") == "alert-since" })
	if len(since) != 1 || htmltest.Text(since[0]) != "1m 30s" || !strings.Contains(htmltest.Attr(since[0], "title"), "firing since 2026-03-04T05:05:07Z") {
		t.Errorf("since %q %q", htmltest.Text(since[0]), htmltest.Attr(since[0], "title"))
	}
	if links := d.ByTestID("silence-alert"); len(links) != 1 || htmltest.Attr(links[0], "href") != "/alerts?silence=00000000000000a1#silence-form" {
		t.Errorf("silence links %d", len(links))
	}
	if s := d.ByTestID("alert-silenced"); len(s) != 1 || htmltest.Attr(s[0], "href") != "#silence-5111111111111111" {
		t.Errorf("silenced marker %v", s)
	}

	row := d.One(t, "silence-row")
	if htmltest.Attr(row, "id") != "silence-5111111111111111" || htmltest.Attr(row, "data-silence-id") != "5111111111111111" {
		t.Errorf("silence row %v", row.Attr)
	}
	if got := htmltest.Text(d.One(t, "silence-until")); got != "in 2h 0m" {
		t.Errorf("until %q", got)
	}
	btn := d.One(t, "expire-silence")
	form := btn.Parent
	if htmltest.Attr(form, "method") != "post" || htmltest.Attr(form, "action") != "/alerts/silences/5111111111111111/expire" || !strings.Contains(d.HTML, `name="_csrf" value="tok-1"`) {
		t.Errorf("expire form %v", form.Attr)
	}

	rules := d.ByTestID("rule-row")
	if len(rules) != 2 || htmltest.Attr(rules[0], "data-state") != "firing" || htmltest.Attr(rules[1], "data-state") != "ok" {
		t.Fatalf("rule rows %d", len(rules))
	}
	errs := d.ByTestID("rule-error")
	if htmltest.Text(errs[0]) != "" || htmltest.Text(errs[1]) != "cannot query: <img src=x onerror=alert(1)>" {
		t.Errorf("rule errors %q %q", htmltest.Text(errs[0]), htmltest.Text(errs[1]))
	}
	if got := htmltest.Text(d.ByTestID("rule-eval-duration")[0]); got != "1.2ms" {
		t.Errorf("eval duration %q", got)
	}
	if got := htmltest.Text(d.ByTestID("rule-last-eval")[1]); got != "never" {
		t.Errorf("never evaluated rule: %q", got)
	}

	ns := d.ByTestID("notifier-row")
	if len(ns) != 2 || htmltest.Attr(ns[0], "data-healthy") != "false" || !strings.Contains(htmltest.Attr(ns[0], "class"), "is-failing") ||
		htmltest.Attr(ns[1], "data-healthy") != "true" {
		t.Fatalf("notifier rows")
	}
	status := d.ByTestID("notifier-status")
	if htmltest.Text(status[0]) != "failing" || htmltest.Text(status[1]) != "quiet hours" {
		t.Errorf("notifier status %q %q", htmltest.Text(status[0]), htmltest.Text(status[1]))
	}
	if got := htmltest.Text(d.ByTestID("notifier-error")[0]); got != "POST to h: 500 <img src=x onerror=alert(1)> (10s ago)" {
		t.Errorf("notifier error %q", got)
	}
	if got := htmltest.Text(d.ByTestID("notifier-pending")[1]); got != "1 alert (held: quiet hours)" {
		t.Errorf("held notifier %q", got)
	}

	hist := d.ByTestID("history-row")
	if len(hist) != 2 || htmltest.Attr(hist[0], "data-to") != "firing" || htmltest.Attr(hist[1], "data-from") != "inactive" {
		t.Errorf("history rows")
	}
	for _, id := range []string{"alerts-empty", "silences-empty", "rules-empty", "notifiers-empty", "history-empty"} {
		d.None(t, id)
	}
}

// Viewers: no Silence links, no Expire buttons.
func TestAlertsLiveViewer(t *testing.T) {
	p := alertsLiveProps()
	for i := range p.Alerts {
		p.Alerts[i].SilenceURL = ""
	}
	for i := range p.Silences {
		p.Silences[i].ExpireURL = ""
	}
	d := htmltest.Render(t, partials.AlertsLive(p))
	d.None(t, "silence-alert")
	d.None(t, "expire-silence")
	d.One(t, "silence-row")
}

func TestAlertsLiveEmpty(t *testing.T) {
	d := htmltest.Render(t, partials.AlertsLive(partials.AlertsLiveProps{Now: now}))
	if got := htmltest.Text(d.One(t, "alerts-empty")); !strings.HasPrefix(got, "No alerts firing.") || !strings.Contains(got, "No alert rules yet") {
		t.Errorf("empty %q", got)
	}
	for _, id := range []string{"silences-empty", "rules-empty", "notifiers-empty", "history-empty"} {
		d.One(t, id)
	}
	if _, ok := htmltest.LookupAttr(d.One(t, "alerts-live"), "hx-get"); ok {
		t.Error("polls without a PollURL")
	}
	d = htmltest.Render(t, partials.AlertsLive(partials.AlertsLiveProps{Now: now, Rules: []partials.RuleRow{{Name: "A", State: "ok"}, {Name: "B", State: "ok"}}}))
	if got := htmltest.Text(d.One(t, "alerts-empty")); got != "No alerts firing. All 2 rules are ok." {
		t.Errorf("empty with rules %q", got)
	}
}

// TestAlertsLiveGroupsByRule: 77 alerts of one rule (pending and firing) are one card with
// its counts, closed and kept open across polls; the other rules stay in sight.
func TestAlertsLiveGroupsByRule(t *testing.T) {
	p := partials.AlertsLiveProps{Now: now}
	p.Alerts = append(p.Alerts, partials.AlertRow{Rule: "RedisDown", Fingerprint: "f0", Severity: "critical", State: "firing", Summary: "Redis cache is down", ActiveAt: now})
	for i := range 77 {
		state := "pending"
		if i < 3 {
			state = "firing"
		}
		p.Alerts = append(p.Alerts, partials.AlertRow{Rule: "RedisKeyMissing", Fingerprint: fmt.Sprintf("k%02d", i), Severity: "warning", State: state,
			Summary: fmt.Sprintf("Key job:%d is missing", i), ActiveAt: now})
	}
	// Firing first, as the handler orders them: the three firing, RedisDown, then the pending.
	p.Alerts[0], p.Alerts[1], p.Alerts[2], p.Alerts[3] = p.Alerts[1], p.Alerts[2], p.Alerts[3], p.Alerts[0]
	p.Alerts = append(p.Alerts, partials.AlertRow{Rule: "HostDiskHigh", Fingerprint: "d1", Severity: "warning", State: "pending", ActiveAt: now})
	p.Alerts = append(p.Alerts, partials.AlertRow{Rule: "HostDiskHigh", Fingerprint: "d2", Severity: "warning", State: "firing", Silenced: true, ActiveAt: now})

	d := htmltest.Render(t, partials.AlertsLive(p))
	groups := d.ByTestID("alert-group")
	if len(groups) != 1 {
		t.Fatalf("%d groups, want 1 (RedisKeyMissing; the other rules have one alert per list)", len(groups))
	}
	g := groups[0]
	if htmltest.Attr(g, "data-rule") != "RedisKeyMissing" || htmltest.Attr(g, "data-firing") != "3" || htmltest.Attr(g, "data-pending") != "74" {
		t.Fatalf("group %v", g.Attr)
	}
	if got := htmltest.Text(d.One(t, "alert-group-count")); got != "3 firing · 74 pending" {
		t.Fatalf("group counts %q", got)
	}
	det := htmltest.All(g, func(n *htmltest.Node) bool { return n.Data == "details" })
	if len(det) != 1 || htmltest.Attr(det[0], "id") == "" || !has(det[0], "data-keep-open") || has(det[0], "open") {
		t.Fatalf("the group is not a closed details with an id kept open across polls: %v", det[0].Attr)
	}
	// Its rows are inside it; the others are outside any group, in order.
	if n := len(htmltest.All(g, func(n *htmltest.Node) bool { return htmltest.Attr(n, "data-testid") == "alert-row" })); n != 77 {
		t.Fatalf("%d rows in the group, want 77", n)
	}
	var top []string
	for _, li := range htmltest.All(d.Tag("body")[0], func(n *htmltest.Node) bool {
		id := htmltest.Attr(n, "data-testid")
		return (id == "alert-row" || id == "alert-group") && htmltest.Attr(n.Parent.Parent, "data-testid") != "alert-group" && n.Parent.Parent.Data != "details"
	}) {
		top = append(top, htmltest.Attr(li, "data-rule")+"/"+htmltest.Attr(li, "data-testid")+"/"+htmltest.Attr(li, "data-silenced"))
	}
	if want := "RedisKeyMissing/alert-group/false RedisDown/alert-row/false HostDiskHigh/alert-row/false HostDiskHigh/alert-row/true"; strings.Join(top, " ") != want {
		t.Fatalf("top level %v, want %s", top, want)
	}
	if got := htmltest.Text(d.One(t, "alert-counts")); got != "4 firing · 75 pending · 1 silenced" {
		t.Errorf("counts %q", got)
	}
}

func has(n *htmltest.Node, key string) bool {
	_, ok := htmltest.LookupAttr(n, key)
	return ok
}
