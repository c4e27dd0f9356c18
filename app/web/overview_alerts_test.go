package web

import (
	"net/http"
	"strings"
	"testing"
)

// The overview lists the firing alerts (not the pending ones), as text, live as a fragment.
func TestOverviewFiringAlerts(t *testing.T) {
	t.Parallel()
	e := newFakeAlertsEnv(t, nil)
	c := e.login("viewer", viewerPass)
	for _, path := range []string{"/", "/?fragment=firing-alerts"} {
		doc, body := e.pageStatus(t, c, path, http.StatusOK)
		if strings.Contains(body, "<img") {
			t.Fatalf("%s: hostile label rendered as HTML", path)
		}
		rows := find(doc, "overview-alert")
		rules := map[string]int{}
		for _, r := range rows {
			rules[attr(r, "data-rule")]++
		}
		// QueueLong and QueueBadSummary fire for two queues each, one line per rule with its
		// count; QueueSlow is only pending.
		if len(rows) != 2 || rules["QueueLong"] != 1 || rules["QueueBadSummary"] != 1 {
			t.Fatalf("%s: firing rows %v", path, rules)
		}
		for _, r := range rows {
			if attr(r, "data-count") != "2" || text(one(t, r, "overview-alert-count")) != "2 alerts" {
				t.Errorf("%s: %s count %q", path, attr(r, "data-rule"), attr(r, "data-count"))
			}
		}
		if attr(rows[0], "data-severity") != "critical" {
			t.Errorf("%s: first row %q, want the critical alert first", path, attr(rows[0], "data-severity"))
		}
		if path != "/" && len(find(doc, "top-keys")) != 0 {
			t.Errorf("%s answered more than its fragment", path)
		}
	}
	// Without alerts the panel says so.
	plain := newEnvWith(t, envOptions{store: emptyStore{}})
	doc, _ := (&alertsEnv{env: plain}).pageStatus(t, plain.login("viewer", viewerPass), "/", http.StatusOK)
	if len(find(doc, "no-firing-alerts")) != 1 {
		t.Fatal("no 'No alerts firing' without an engine")
	}
}
