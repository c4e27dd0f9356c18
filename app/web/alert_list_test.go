package web

import (
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
)

func TestAlertsPageLists(t *testing.T) {
	t.Parallel()
	e := newFakeAlertsEnv(t, failingNotifiers(time.Now()))
	for _, user := range []struct{ name, pass string }{{"viewer", viewerPass}, {"admin", adminPass}} {
		c := e.login(user.name, user.pass)
		doc, body := e.pageStatus(t, c, "/alerts", http.StatusOK)
		if strings.Contains(body, "<img") || strings.Contains(body, "<b>boom") {
			t.Fatalf("%s: hostile text rendered as HTML", user.name)
		}
		rows := alertRows(t, doc)
		// QueueLong and QueueBadSummary fire for both queues; QueueSlow is pending.
		want := map[string][2]string{
			"QueueLong/" + hostileQueue:       {"firing", "critical"},
			"QueueLong/b":                     {"firing", "critical"},
			"QueueBadSummary/" + hostileQueue: {"firing", "warning"},
			"QueueBadSummary/b":               {"firing", "warning"},
			"QueueSlow/" + hostileQueue:       {"pending", "warning"},
			"QueueSlow/b":                     {"pending", "warning"},
		}
		if len(rows) != len(want) {
			t.Fatalf("%s: alert rows %v", user.name, slices.Collect(maps.Keys(rows)))
		}
		for k, w := range want {
			r := rows[k]
			if r == nil {
				t.Fatalf("%s: no alert row %s", user.name, k)
			}
			if attr(r, "data-state") != w[0] || attr(r, "data-severity") != w[1] || attr(r, "data-silenced") != "false" {
				t.Errorf("%s: %s: state %q severity %q silenced %q", user.name, k, attr(r, "data-state"), attr(r, "data-severity"), attr(r, "data-silenced"))
			}
		}
		// Firing before pending, critical before warning.
		all := find(doc, "alert-row")
		if attr(all[0], "data-rule") != "QueueLong" || attr(all[len(all)-1], "data-state") != "pending" {
			t.Errorf("%s: order: first %s, last %s", user.name, attr(all[0], "data-rule"), attr(all[len(all)-1], "data-state"))
		}
		r := rows["QueueLong/"+hostileQueue]
		if got := text(one(t, r, "alert-summary")); got != "Queue "+hostileQueue+" holds 5 jobs" {
			t.Errorf("%s: summary %q", user.name, got)
		}
		if got := text(one(t, r, "alert-value")); got != "5" {
			t.Errorf("%s: value %q", user.name, got)
		}
		if got := attr(one(t, r, "alert-since"), "datetime"); got != e.t0.UTC().Format(time.RFC3339) {
			t.Errorf("%s: since %q, want %s", user.name, got, e.t0.UTC().Format(time.RFC3339))
		}
		if got := text(one(t, doc, "alert-counts")); got != "4 firing · 2 pending · 0 silenced" {
			t.Errorf("%s: counts %q", user.name, got)
		}
		if hasTestID(doc, "alerts-empty") {
			t.Errorf("%s: empty state shown with alerts", user.name)
		}

		// Rules: state, count, condition with units, the summary error.
		rules := map[string]*html.Node{}
		for _, rr := range find(doc, "rule-row") {
			rules[attr(rr, "data-rule")] = rr
		}
		for name, state := range map[string]string{"QueueLong": "firing", "QueueSlow": "pending", "QueueHuge": "ok", "QueueBadSummary": "firing", "MemoryHigh": "ok"} {
			if rules[name] == nil || attr(rules[name], "data-state") != state {
				t.Errorf("%s: rule %s: %v, want state %s", user.name, name, rules[name] != nil, state)
			}
		}
		if got := text(one(t, rules["QueueLong"], "rule-active")); got != "2" {
			t.Errorf("%s: QueueLong active %q", user.name, got)
		}
		if got := text(one(t, rules["MemoryHigh"], "rule-condition")); got != "avg over 5m > 85.0% for 5m · clears at ≤ 80.0%" {
			t.Errorf("%s: MemoryHigh condition %q", user.name, got)
		}
		if got := text(one(t, rules["QueueBadSummary"], "rule-error")); !strings.Contains(got, "summary") {
			t.Errorf("%s: QueueBadSummary error %q", user.name, got)
		}
		if got := text(one(t, rules["QueueLong"], "rule-error")); got != "" {
			t.Errorf("%s: QueueLong error %q", user.name, got)
		}
		if got := text(one(t, rules["QueueLong"], "rule-last-eval")); got == "never" {
			t.Errorf("%s: QueueLong never evaluated", user.name)
		}

		// Notifiers: the failing one stands out, with its error as text.
		ns := find(doc, "notifier-row")
		if len(ns) != 2 || attr(ns[0], "data-notifier") != "webhook[0]" || attr(ns[0], "data-healthy") != "false" || attr(ns[1], "data-healthy") != "true" {
			t.Fatalf("%s: notifier rows %d", user.name, len(ns))
		}
		if got := text(one(t, ns[0], "notifier-error")); !strings.Contains(got, `unexpected status 500 Internal Server Error: "<b>boom</b>"`) {
			t.Errorf("%s: notifier error %q", user.name, got)
		}
		if got := text(one(t, ns[0], "notifier-status")); got != "failing" {
			t.Errorf("%s: failing notifier status %q", user.name, got)
		}
		if got := text(one(t, ns[1], "notifier-status")); got != "ok" {
			t.Errorf("%s: healthy notifier status %q", user.name, got)
		}

		// History: newest first (queue b's alerts came second).
		hist := find(doc, "history-row")
		if len(hist) != 6 {
			t.Fatalf("%s: %d history rows, want 6", user.name, len(hist))
		}
		if !strings.Contains(text(hist[0]), "q=b") || strings.Contains(text(hist[len(hist)-1]), "q=b") {
			t.Errorf("%s: history not newest first: first %q, last %q", user.name, text(hist[0]), text(hist[len(hist)-1]))
		}
		if attr(hist[len(hist)-1], "data-from") != "inactive" {
			t.Errorf("%s: oldest transition from %q", user.name, attr(hist[len(hist)-1], "data-from"))
		}

		// Viewers get no controls; admins get the silence form and a Silence link per alert.
		admin := user.name == "admin"
		if hasTestID(doc, "silence-form") != admin || hasTestID(doc, "silence-alert") != admin {
			t.Errorf("%s: silence-form %v silence-alert %v", user.name, hasTestID(doc, "silence-form"), hasTestID(doc, "silence-alert"))
		}
	}
}

// Without an alert engine the page says so, the API answers empty lists and silences cannot
// be made.
func TestAlertsWithoutEngine(t *testing.T) {
	t.Parallel()
	e := &alertsEnv{env: newEnvWith(t, envOptions{store: emptyStore{}})}
	admin := e.login("admin", adminPass)
	doc, _ := e.pageStatus(t, admin, "/alerts", http.StatusOK)
	if got := text(one(t, doc, "alerts-empty")); !strings.Contains(got, "No alerts firing") || !strings.Contains(got, "No alert rules yet") {
		t.Errorf("empty state %q", got)
	}
	for _, id := range []string{"rules-empty", "silences-empty", "notifiers-empty", "history-empty"} {
		one(t, doc, id)
	}
	if navCurrent(doc) != "alerts" {
		t.Errorf("current nav item %q, want alerts", navCurrent(doc))
	}
	if hasTestID(doc, "silence-form") {
		t.Error("silence form without an engine")
	}
	res, body := e.do(nil, "GET", "/api/alerts", nil, "Authorization: Basic "+basic("viewer", viewerPass))
	if res.StatusCode != http.StatusOK || strings.TrimSpace(body) != `{"alerts":[],"silences":[],"rules":[],"notifiers":[],"history":[]}` {
		t.Errorf("/api/alerts: %d %s", res.StatusCode, body)
	}
	res, _ = e.postForm(t, admin, "/alerts/silences", url.Values{"matcher_name": {"a"}, "matcher_value": {"b"}, "duration": {"1h"}, "comment": {"x"}})
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("silence without an engine: %d, want 404", res.StatusCode)
	}
	if got := firingAlerts(e.srv.opts.Alerts); len(got) != 0 {
		t.Errorf("firingAlerts: %v", got)
	}
}

func TestAlertsValueUnits(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		series, agg string
		v           float64
		want        string
	}{
		{"host_cpu_usage_percent", "avg", 91.26, "91.3%"},
		{`redwatch_http_error_ratio{route="/"}`, "avg", 0.05, "5.0%"},
		{"redis_memory_used_bytes", "last", 2048, "2.0 KiB"},
		{"redis_net_input_bytes_total", "rate", 2048, "2.0 KiB/s"},
		{`{__name__="redwatch_http_request_duration_seconds",quantile="0.95"}`, "last", 1.5, "1.5s"},
		{"redis_commands_total", "rate", 12, "12/s"},
		{"queue_len", "last", 5, "5"},
	} {
		if got := ruleUnit(c.series, c.agg).format(c.v); got != c.want {
			t.Errorf("%s %s %v: %q, want %q", c.series, c.agg, c.v, got, c.want)
		}
	}
	for d, want := range map[time.Duration]string{0: "0s", 30 * time.Second: "30s", 5 * time.Minute: "5m", 90 * time.Minute: "1h30m", time.Hour: "1h", 7 * 24 * time.Hour: "7d"} {
		if got := alertDuration(d); got != want {
			t.Errorf("alertDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
