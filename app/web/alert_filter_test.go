package web

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestAlertsPageFilters: ?severity= and ?state= narrow the list (and its poll URL), the
// current choice is marked, and a value outside the set is a 400 naming the parameter.
func TestAlertsPageFilters(t *testing.T) {
	t.Parallel()
	e := newFakeAlertsEnv(t, failingNotifiers(time.Now()))
	c := e.login("viewer", viewerPass)
	f := func(query string, wantRows int, wantSeverity, wantState string) {
		t.Helper()
		doc, _ := e.pageStatus(t, c, "/alerts"+query, http.StatusOK)
		rows := find(doc, "alert-row")
		if len(rows) != wantRows {
			t.Fatalf("%s: %d alert rows; want %d", query, len(rows), wantRows)
		}
		for _, r := range rows {
			if wantSeverity != "" && attr(r, "data-severity") != wantSeverity || wantState != "" && attr(r, "data-state") != wantState {
				t.Errorf("%s: row %s %s/%s passed the filter", query, attr(r, "data-rule"), attr(r, "data-severity"), attr(r, "data-state"))
			}
		}
		live := one(t, doc, "alerts-live")
		if poll := attr(live, "hx-get"); wantSeverity != "" && !strings.Contains(poll, "severity="+wantSeverity) || wantState != "" && !strings.Contains(poll, "state="+wantState) {
			t.Errorf("%s: poll URL %q drops the filter", query, poll)
		}
		var current []string
		for _, a := range find(doc, "alert-filter") {
			if attr(a, "aria-current") == "true" {
				current = append(current, attr(a, "data-param")+"="+attr(a, "data-value"))
			}
		}
		if got, want := strings.Join(current, " "), "severity="+wantSeverity+" state="+wantState; got != want {
			t.Errorf("%s: current filters %q; want %q", query, got, want)
		}
	}
	f("", 6, "", "")
	f("?severity=critical", 2, "critical", "")
	f("?state=pending", 2, "", "pending")
	f("?severity=critical&state=pending", 0, "critical", "pending")
	f("?severity=warning&state=firing", 2, "warning", "firing")

	_, body := e.pageStatus(t, c, "/alerts?severity=high", http.StatusBadRequest)
	if !strings.Contains(body, "severity") || !strings.Contains(body, "high") {
		t.Errorf("bad severity: body does not name it: %.200s", body)
	}
	e.pageStatus(t, c, "/alerts?state=resolved", http.StatusBadRequest)
}

func TestAlertChartURL(t *testing.T) {
	at := time.Unix(1_800_000_000, 0)
	from := "?from=1799998200" // 30 minutes before
	f := func(labels map[string]string, want string) {
		t.Helper()
		if got := alertChartURL(labels, at); got != want {
			t.Errorf("alertChartURL(%v) = %q; want %q", labels, got, want)
		}
	}
	f(map[string]string{"host": "web 1", "mount": "/"}, "/hosts/web%201"+from)
	f(map[string]string{"instance": "cache", "key": "queue:a", "db": "0"}, "/keys?instance=cache&q=queue%3Aa")
	f(map[string]string{"instance": "cache"}, "/redis/cache"+from)
	f(map[string]string{"q": "x"}, "")
}
