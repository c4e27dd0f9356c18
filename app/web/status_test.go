package web

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redwatch/redwatch/app/buildinfo"
	"github.com/redwatch/redwatch/app/logging"
	"github.com/redwatch/redwatch/tsdb"
)

// /status on a fake store and storage: uptime and version, the storage card from the
// /health/db/ report, the counts, the request stats computed by selfmon from the stored
// series, the last 50 log problems (escaped), and the polled fragments.
func TestStatusPage(t *testing.T) {
	t.Parallel()
	now := time.Now()
	st := newStatusStore(statusRequestSeries(now),
		tsdb.Sample{Name: "host_up", Labels: lbls("host", "testhost"), Value: 1},
		tsdb.Sample{Name: "host_up", Labels: lbls("host", "other"), Value: 1}, // a pushing host
		tsdb.Sample{Name: "redwatch_http_request_duration_seconds", Labels: lbls("quantile", "0.95", "route", "/keys"), Value: 0.003},
		tsdb.Sample{Name: "redwatch_http_request_duration_seconds", Labels: lbls("quantile", "0.5", "route", "/status"), Value: 0.001})
	var entries []logging.Entry
	for i := range 60 {
		entries = append(entries, logging.Entry{Time: now.Add(-time.Duration(i) * time.Second), Level: "WARN", Logger: "redis", Msg: fmt.Sprintf("warning %d", i), Attrs: "instance=cache"})
	}
	entries[0] = logging.Entry{Time: now, Level: "ERROR", Logger: "http", Msg: "<script>alert(1)</script> failed", Attrs: `path=/x"><img src=x onerror=alert(2)>`}
	e := newStatusEnv(t, st, healthyDisk, func(o *Options) { o.RecentErrors = func() []logging.Entry { return entries } })
	e.fill()

	c := e.login("viewer", viewerPass)
	res, body := e.do(c, "GET", "/status", nil, "Accept: text/html")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /status: %d %s", res.StatusCode, body)
	}
	if strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=x") {
		t.Fatal("a hostile log line is rendered as markup")
	}
	doc := parse(t, body)
	if navCurrent(doc) != "status" {
		t.Errorf("current nav item %q, want status", navCurrent(doc))
	}

	if got := text(one(t, doc, "status-uptime")); got == "" || got == "never" {
		t.Errorf("uptime %q", got)
	}
	if got, want := text(one(t, doc, "status-version")), buildinfo.Get().Version; got != want {
		t.Errorf("version %q, want %q", got, want)
	}
	storage := one(t, doc, "status-storage")
	if attr(storage, "data-ok") != "true" || text(one(t, storage, "storage-state")) != "ok" {
		t.Errorf("storage not ok: %s", text(storage))
	}
	if got := text(one(t, storage, "storage-engine")); got != "victoriametrics" {
		t.Errorf("storage engine %q", got)
	}
	if got := text(one(t, storage, "storage-version")); got != tsdb.Engine {
		t.Errorf("storage version %q, want %q", got, tsdb.Engine)
	}
	for id, want := range map[string]string{"storage-latency": "1.5ms", "storage-size": "1.0 MiB", "storage-free": "5.0 GiB", "storage-rows": "3,400"} {
		if got := text(one(t, storage, id)); got != want {
			t.Errorf("%s %q, want %q", id, got, want)
		}
	}
	counts := one(t, doc, "status-counts")
	for id, want := range map[string]string{"count-redis": "1 of 2 up", "count-keys": "5", "count-patterns": "1", "count-hosts": "2", "count-series": "12", "count-samples": "99"} {
		if got := text(one(t, counts, id)); got != want {
			t.Errorf("%s %q, want %q", id, got, want)
		}
	}

	reqs := one(t, doc, "status-requests")
	for id, want := range map[string]string{
		"req-count": "240", "req-errors": "20", "req-error-rate": "8.3%", "req-avg": "10ms",
		"req-p95": strconv.FormatFloat(statusP95*1000, 'f', 1, 64) + "ms",
	} {
		if got := text(one(t, reqs, id)); got != want {
			t.Errorf("%s %q, want %q", id, got, want)
		}
	}
	routes := find(reqs, "req-route")
	if len(routes) != 3 || attr(routes[0], "data-route") != "/keys" || attr(routes[1], "data-route") != "/status" {
		t.Fatalf("route rows %v", texts(reqs, "req-route"))
	}
	if got, want := cells(routes[0]), []string{"/keys", "200", "20", "10.0%", "3ms"}; !slices.Equal(got, want) {
		t.Errorf("/keys row %q, want %q", got, want)
	}
	if got, want := cells(routes[1]), []string{"/status", "30", "0", "0.0%", "—"}; !slices.Equal(got, want) {
		t.Errorf("/status row %q, want %q", got, want)
	}
	if got, want := cells(routes[2]), []string{"/health/targets", "10", "0", "0.0%", "—"}; !slices.Equal(got, want) {
		t.Errorf("/health/targets row %q, want %q (its 503s report a target: no 5xx)", got, want)
	}

	table := one(t, doc, "status-errors")
	if table.Data != "table" {
		t.Errorf("status-errors is a <%s>, want a table", table.Data)
	}
	rows := find(table, "error-row")
	if len(rows) != 50 {
		t.Fatalf("%d error rows, want the last 50", len(rows))
	}
	if got := text(one(t, rows[0], "error-message")); got != "<script>alert(1)</script> failed" {
		t.Errorf("first error message %q", got)
	}
	if got := text(one(t, rows[0], "error-attrs")); got != `path=/x"><img src=x onerror=alert(2)>` {
		t.Errorf("first error attrs %q", got)
	}
	if attr(rows[0], "data-level") != "ERROR" || !strings.Contains(text(rows[0]), "http") {
		t.Errorf("first error row %q", text(rows[0]))
	}
	if got := text(one(t, rows[49], "error-message")); got != "warning 49" {
		t.Errorf("last error row %q, want warning 49 (newest first)", got)
	}

	// Each part polls on its own and answers with only itself.
	for frag, root := range map[string]string{"status-summary": "status-summary", "status-requests": "status-requests", "status-errors": "status-errors-panel"} {
		if got, want := attr(one(t, doc, root), "hx-get"), "/status?fragment="+frag; got != want {
			t.Errorf("%s polls %q, want %q", root, got, want)
		}
		res, body := e.do(c, "GET", "/status?fragment="+frag, nil, "HX-Request: true")
		if res.StatusCode != http.StatusOK {
			t.Fatalf("fragment %s: %d", frag, res.StatusCode)
		}
		d := assertFragment(t, body, root)
		for other, otherRoot := range map[string]string{"status-summary": "status-summary", "status-requests": "status-requests", "status-errors": "status-errors-panel"} {
			if other != frag && len(find(d, otherRoot)) != 0 {
				t.Errorf("fragment %s also holds %s", frag, otherRoot)
			}
		}
	}
	if got := attr(one(t, doc, "status-requests"), "hx-trigger"); got != "every 30000ms" {
		t.Errorf("request stats poll %q, want every 30000ms", got)
	}
	if got := attr(one(t, doc, "status-summary"), "hx-trigger"); got != "every 2000ms" {
		t.Errorf("summary poll %q, want every 2000ms (ui.refresh)", got)
	}
	res, _ = e.do(c, "GET", "/status?fragment=nope", nil, "HX-Request: true")
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown fragment: %d, want 400", res.StatusCode)
	}
}
