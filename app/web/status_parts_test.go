package web

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/redwatch/redwatch/tsdb"
)

func TestStatusPageEmpty(t *testing.T) {
	t.Parallel()
	e := newStatusEnv(t, newStatusStore(nil), healthyDisk, nil) // no requests stored, no log ring, no Redis
	res, body := e.do(e.login("viewer", viewerPass), "GET", "/status", nil, "Accept: text/html")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /status: %d", res.StatusCode)
	}
	doc := parse(t, body)
	for id, want := range map[string]string{
		"req-count": "no requests", "req-error-rate": "—", "req-avg": "—", "req-p95": "—",
		"count-redis": "0 of 0 up", "count-hosts": "1",
	} {
		if got := text(one(t, doc, id)); got != want {
			t.Errorf("%s %q, want %q", id, got, want)
		}
	}
	if strings.Contains(body, "NaN") {
		t.Error("the page shows NaN")
	}
	one(t, one(t, doc, "status-errors"), "errors-empty")
	if len(find(doc, "error-row")) != 0 || len(find(doc, "req-route")) != 0 {
		t.Error("rows without data")
	}
}

// The storage card says what the /health/db/ report says: read-only is its own badge, stats
// that cannot be read leave the sizes and counts unknown, and without a health checker there
// is no report at all.
func TestStatusStorageCard(t *testing.T) {
	t.Parallel()
	readOnly := healthyDisk
	readOnly.pingErr = tsdb.ErrReadOnly
	readOnly.ds = tsdb.DiskState{ReadOnly: true, FreeBytes: 1000, MinFreeBytes: 64 << 20, Since: time.Now()}
	readOnly.stats.ReadOnly = true
	broken := healthyDisk
	broken.pingErr, broken.statsErr = tsdb.ErrClosed, tsdb.ErrClosed
	for _, tc := range []struct {
		name    string
		disk    statusDisk
		noCheck bool
		want    map[string]string // by data-testid
		ok      string            // data-ok
	}{
		{"read-only", readOnly, false, map[string]string{"storage-state": "read-only", "storage-error": "storage is read-only: 1000 bytes free on the data directory's disk, below the limit of 67108864; samples are not stored until space returns",
			"storage-size": "1.0 MiB", "storage-rows": "3,400", "count-series": "12"}, "true"},
		{"stats unreadable", broken, false, map[string]string{"storage-state": "error", "storage-error": tsdb.ErrClosed.Error(),
			"storage-size": "—", "storage-free": "—", "storage-rows": "—", "count-series": "—", "count-samples": "—"}, "false"},
		{"no health checker", healthyDisk, true, map[string]string{"storage-state": "error", "storage-error": "no storage report",
			"storage-engine": "", "storage-size": "—", "count-series": "—", "count-samples": "—", "status-uptime": "never"}, "false"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newStatusEnv(t, newStatusStore(nil), tc.disk, func(o *Options) {
				if tc.noCheck {
					o.Health = nil
				}
			})
			res, body := e.do(e.login("viewer", viewerPass), "GET", "/status?fragment=status-summary", nil, "HX-Request: true")
			if res.StatusCode != http.StatusOK {
				t.Fatalf("GET /status: %d %s", res.StatusCode, body)
			}
			doc := parse(t, body)
			if got := attr(one(t, doc, "status-storage"), "data-ok"); got != tc.ok {
				t.Errorf("data-ok %q, want %q", got, tc.ok)
			}
			for id, want := range tc.want {
				if got := text(one(t, doc, id)); got != want {
					t.Errorf("%s %q, want %q", id, got, want)
				}
			}
		})
	}
}

// TestHostStatusAlertPagesForEveryRole opens each page as a viewer and as an admin.
func TestHostStatusAlertPagesForEveryRole(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.writeHost("testhost", time.Now(), 2)
	for _, u := range []struct{ name, pass string }{{"viewer", viewerPass}, {"admin", adminPass}} {
		c := e.login(u.name, u.pass)
		for path, testID := range map[string]string{"/hosts": "host-row", "/hosts/testhost": "host-detail", "/status": "status-requests", "/alerts": "alerts-empty"} {
			res, body := e.do(c, "GET", path, nil, "Accept: text/html")
			if res.StatusCode != http.StatusOK {
				t.Errorf("%s GET %s: %d", u.name, path, res.StatusCode)
				continue
			}
			one(t, parse(t, body), testID)
		}
	}
}
