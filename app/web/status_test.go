package web

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/redwatch/redwatch/app/buildinfo"
	"github.com/redwatch/redwatch/app/logging"
	"github.com/redwatch/redwatch/app/remotewrite"
	"github.com/redwatch/redwatch/tsdb"
)

func TestCounterIncrease(t *testing.T) {
	const start = 1000
	pts := func(tv ...float64) []tsdb.Point {
		var out []tsdb.Point
		for i := 0; i+1 < len(tv); i += 2 {
			out = append(out, tsdb.Point{Timestamp: int64(tv[i]), Value: tv[i+1]})
		}
		return out
	}
	for _, tc := range []struct {
		name string
		pts  []tsdb.Point
		want float64
	}{
		{"no points", nil, 0},
		{"only before the window", pts(900, 5, 1000, 7), 0},
		{"from a baseline", pts(990, 100, 1010, 110, 1020, 150), 50},
		{"restart in the middle", pts(990, 100, 1010, 110, 1020, 150, 1030, 5, 1040, 20), 10 + 40 + 5 + 15},
		{"restart to exactly zero", pts(990, 100, 1010, 0, 1020, 3), 3},
		{"two restarts", pts(990, 100, 1010, 2, 1020, 1, 1030, 4), 2 + 1 + 3},
		{"no baseline: appeared in the window", pts(1010, 3, 1020, 8), 8},
		{"the last point before the window is the baseline", pts(900, 10, 990, 40, 1010, 45), 5},
		{"flat", pts(990, 7, 1010, 7, 1020, 7), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := counterIncrease(tc.pts, start); got != tc.want {
				t.Fatalf("counterIncrease = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestHistogramQuantile(t *testing.T) {
	inf := math.Inf(1)
	b := func(lc ...float64) []bucketCount {
		var out []bucketCount
		for i := 0; i+1 < len(lc); i += 2 {
			out = append(out, bucketCount{le: lc[i], count: lc[i+1]})
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		q       float64
		buckets []bucketCount
		want    float64 // NaN: none
	}{
		{"interpolated in a middle bucket", 0.95, b(0.1, 50, 0.5, 90, 1, 100, inf, 100), 0.75},
		{"in the first bucket, from 0", 0.5, b(0.1, 80, 0.5, 90, inf, 100), 0.1 * 50 / 80},
		{"on a bucket's upper edge", 0.9, b(0.1, 50, 0.5, 90, inf, 100), 0.5},
		{"in the +Inf bucket: the highest finite bound", 0.95, b(0.1, 50, 0.5, 90, inf, 100), 0.5},
		{"unsorted input", 0.95, b(inf, 100, 1, 100, 0.1, 50, 0.5, 90), 0.75},
		{"non-monotonic counts are raised", 0.95, b(0.1, 50, 0.5, 90, 1, 89, 2.5, 100, inf, 100), 1 + (2.5-1)*(95-90)/10.0},
		{"q 0", 0, b(0.1, 50, inf, 100), 0},
		{"q 1", 1, b(0.1, 50, 1, 100, inf, 100), 1},
		{"no +Inf bucket", 0.95, b(0.1, 50, 0.5, 90), math.NaN()},
		{"one bucket", 0.95, b(inf, 100), math.NaN()},
		{"no observations", 0.95, b(0.1, 0, 0.5, 0, inf, 0), math.NaN()},
		{"no buckets", 0.95, nil, math.NaN()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := histogramQuantile(tc.q, tc.buckets)
			if math.IsNaN(tc.want) != math.IsNaN(got) || !math.IsNaN(got) && math.Abs(got-tc.want) > 1e-12 {
				t.Fatalf("histogramQuantile(%v) = %v, want %v", tc.q, got, tc.want)
			}
		})
	}
}

// counterPoints returns points of a counter that grows by inc within (from, ...]: a baseline
// before from, half the increase, a restart (drop to 0 and count again), then the rest.
func counterPoints(from time.Time, base, inc float64) []tsdb.Point {
	half := math.Floor(inc / 2)
	return []tsdb.Point{
		{Timestamp: from.Add(-5 * time.Minute).UnixMilli(), Value: base},
		{Timestamp: from.Add(time.Hour).UnixMilli(), Value: base + half/2},
		{Timestamp: from.Add(10 * time.Hour).UnixMilli(), Value: base + half},
		{Timestamp: from.Add(12 * time.Hour).UnixMilli(), Value: 0}, // the restart's first write
		{Timestamp: from.Add(20 * time.Hour).UnixMilli(), Value: inc - half},
	}
}

// requestFixture is a day of request series with a restart in the middle: 200 requests on
// /keys (20 of them 5xx), 30 on /status, none in the window on /old; 230 observed, in total
// 2.3 s; bucket increases giving p95 = 0.025 + 0.025*(218.5-180)/(225-180).
func requestFixture(from time.Time) []tsdb.Series {
	l := func(kv ...string) []tsdb.Label {
		var ls []tsdb.Label
		for i := 0; i+1 < len(kv); i += 2 {
			ls = append(ls, tsdb.Label{Name: kv[i], Value: kv[i+1]})
		}
		return ls
	}
	ss := []tsdb.Series{
		{Name: "redwatch_http_requests_total", Labels: l("code", "200", "route", "/keys"), Points: counterPoints(from, 500, 180)},
		{Name: "redwatch_http_requests_total", Labels: l("code", "500", "route", "/keys"), Points: []tsdb.Point{
			// Appears within the window (its first 5xx): counts from 0.
			{Timestamp: from.Add(13 * time.Hour).UnixMilli(), Value: 4},
			{Timestamp: from.Add(20 * time.Hour).UnixMilli(), Value: 20},
		}},
		{Name: "redwatch_http_requests_total", Labels: l("code", "200", "route", "/status"), Points: counterPoints(from, 7, 30)},
		{Name: "redwatch_http_requests_total", Labels: l("code", "200", "route", "/old"), Points: []tsdb.Point{
			{Timestamp: from.Add(-10 * time.Minute).UnixMilli(), Value: 99},
			{Timestamp: from.Add(-5 * time.Minute).UnixMilli(), Value: 100},
		}},
		{Name: "redwatch_http_request_duration_seconds_sum", Points: counterPoints(from, 50, 2.3)},
		{Name: "redwatch_http_request_duration_seconds_count", Points: counterPoints(from, 5000, 230)},
	}
	for _, b := range []struct {
		le  string
		inc float64
	}{{"0.005", 100}, {"0.01", 150}, {"0.025", 180}, {"0.05", 225}, {"0.1", 229}, {"10", 230}, {"+Inf", 230}} {
		ss = append(ss, tsdb.Series{Name: "redwatch_http_request_duration_seconds_bucket", Labels: l("le", b.le), Points: counterPoints(from, 3000, b.inc)})
	}
	return ss
}

const fixtureP95 = 0.025 + 0.025*(218.5-180)/(225-180)

func TestComputeRequestStats(t *testing.T) {
	from := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)

	t.Run("a day with a restart", func(t *testing.T) {
		st := computeRequestStats(requestFixture(from), from)
		if st.Requests != 230 || st.Errors != 20 || st.Observed != 230 {
			t.Fatalf("requests %v errors %v observed %v, want 230 20 230", st.Requests, st.Errors, st.Observed)
		}
		if got := st.ErrorRate(); math.Abs(got-20.0/230) > 1e-12 {
			t.Errorf("error rate %v", got)
		}
		if got := st.AvgSeconds(); math.Abs(got-0.01) > 1e-12 {
			t.Errorf("avg %v, want 0.01", got)
		}
		if !st.P95Known || math.Abs(st.P95Seconds-fixtureP95) > 1e-12 {
			t.Errorf("p95 %v (known %v), want %v", st.P95Seconds, st.P95Known, fixtureP95)
		}
		want := []routeRequests{{Route: "/keys", Requests: 200, Errors: 20}, {Route: "/status", Requests: 30}}
		if !slices.Equal(st.Routes, want) {
			t.Errorf("routes %+v, want %+v", st.Routes, want)
		}
		if got := st.Routes[0].ErrorRate(); got != 0.1 {
			t.Errorf("/keys error rate %v, want 0.1", got)
		}
	})

	t.Run("no data", func(t *testing.T) {
		for _, series := range [][]tsdb.Series{nil, {{Name: "redwatch_http_requests_total", Labels: []tsdb.Label{{Name: "route", Value: "/"}, {Name: "code", Value: "200"}}}}} {
			st := computeRequestStats(series, from)
			for name, v := range map[string]float64{"requests": st.Requests, "errors": st.Errors, "error rate": st.ErrorRate(), "avg": st.AvgSeconds(), "p95": st.P95Seconds} {
				if v != 0 {
					t.Errorf("%s = %v without requests, want 0", name, v)
				}
			}
			if st.P95Known || len(st.Routes) != 0 {
				t.Errorf("p95 known %v, routes %v without requests", st.P95Known, st.Routes)
			}
		}
	})

	t.Run("histogram idle, requests counted", func(t *testing.T) {
		// The window holds requests but no histogram points (an older version wrote none).
		st := computeRequestStats(requestFixture(from)[:4], from)
		if st.Requests != 230 || st.P95Known || st.AvgSeconds() != 0 || math.IsNaN(st.P95Seconds) {
			t.Errorf("requests %v p95 %v (known %v) avg %v", st.Requests, st.P95Seconds, st.P95Known, st.AvgSeconds())
		}
	})

	t.Run("error rate counts 5xx only", func(t *testing.T) {
		var ss []tsdb.Series
		for code, n := range map[string]float64{"200": 60, "304": 10, "404": 10, "429": 10, "500": 5, "503": 5, "x": 1} {
			ss = append(ss, tsdb.Series{Name: "redwatch_http_requests_total", Labels: []tsdb.Label{{Name: "code", Value: code}, {Name: "route", Value: "/r"}},
				Points: []tsdb.Point{{Timestamp: from.Add(time.Hour).UnixMilli(), Value: n}}})
		}
		st := computeRequestStats(ss, from)
		if st.Requests != 101 || st.Errors != 10 {
			t.Fatalf("requests %v errors %v, want 101 10", st.Requests, st.Errors)
		}
	})
}

// writeSeries writes series (their points) to the env's storage and makes them searchable.
func (e *env) writeSeries(ss []tsdb.Series) {
	e.t.Helper()
	var samples []tsdb.Sample
	for _, s := range ss {
		for _, p := range s.Points {
			samples = append(samples, tsdb.Sample{Name: s.Name, Labels: s.Labels, Timestamp: p.Timestamp, Value: p.Value})
		}
	}
	if err := e.db.Write(samples); err != nil {
		e.t.Fatal(err)
	}
	e.db.Flush()
}

// restart replaces the env's server with one built from its options changed by change, on the
// same storage and sessions (so Options are never written while a server reads them).
func (e *env) restart(change func(o *Options)) {
	e.t.Helper()
	opts := e.srv.opts
	change(&opts)
	old := e.ts
	e.srv = New(opts)
	e.ts = httptest.NewServer(e.srv.Handler()) // closed by newEnv's cleanup
	old.Close()
}

func TestStatusPage(t *testing.T) {
	e := newEnv(t)
	e.fill()
	now := time.Now()
	e.writeHost("testhost", now, 2)
	e.writeHost("other", now, 2) // a pushing host
	from := now.Add(-24 * time.Hour)
	e.writeSeries(requestFixture(from))
	// An older day, outside the window and its baseline: not counted.
	e.writeSeries([]tsdb.Series{{Name: "redwatch_http_requests_total", Labels: []tsdb.Label{{Name: "code", Value: "500"}, {Name: "route", Value: "/keys"}},
		Points: []tsdb.Point{{Timestamp: now.Add(-30 * time.Hour).UnixMilli(), Value: 1000}}}})
	e.writeSeries([]tsdb.Series{{Name: "redwatch_http_request_duration_seconds", Labels: []tsdb.Label{{Name: "quantile", Value: "0.95"}, {Name: "route", Value: "/keys"}},
		Points: []tsdb.Point{{Timestamp: now.UnixMilli(), Value: 0.003}}}})

	var entries []logging.Entry
	for i := range 60 {
		entries = append(entries, logging.Entry{Time: now.Add(-time.Duration(i) * time.Second), Level: "WARN", Logger: "redis", Msg: fmt.Sprintf("warning %d", i), Attrs: "instance=cache"})
	}
	entries[0] = logging.Entry{Time: now, Level: "ERROR", Logger: "http", Msg: "<script>alert(1)</script> failed", Attrs: `path=/x"><img src=x onerror=alert(2)>`}
	e.restart(func(o *Options) { o.RecentErrors = func() []logging.Entry { return entries } })

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
	for _, id := range []string{"storage-latency", "storage-size", "storage-free", "storage-rows"} {
		if got := text(one(t, storage, id)); got == "" || got == "—" {
			t.Errorf("%s %q", id, got)
		}
	}
	counts := one(t, doc, "status-counts")
	for id, want := range map[string]string{"count-redis": "1 of 2 up", "count-keys": "5", "count-patterns": "1", "count-hosts": "2"} {
		if got := text(one(t, counts, id)); got != want {
			t.Errorf("%s %q, want %q", id, got, want)
		}
	}
	for _, id := range []string{"count-series", "count-samples"} {
		n, err := strconv.Atoi(strings.ReplaceAll(text(one(t, counts, id)), ",", ""))
		if err != nil || n <= 0 {
			t.Errorf("%s %q, want a positive count", id, text(one(t, counts, id)))
		}
	}

	reqs := one(t, doc, "status-requests")
	for id, want := range map[string]string{
		"req-count": "230", "req-errors": "20", "req-error-rate": "8.7%", "req-avg": "10ms",
		"req-p95": strconv.FormatFloat(fixtureP95*1000, 'f', 1, 64) + "ms",
	} {
		if got := text(one(t, reqs, id)); got != want {
			t.Errorf("%s %q, want %q", id, got, want)
		}
	}
	routes := find(reqs, "req-route")
	if len(routes) != 2 || attr(routes[0], "data-route") != "/keys" || attr(routes[1], "data-route") != "/status" {
		t.Fatalf("route rows %v", texts(reqs, "req-route"))
	}
	if got, want := cells(routes[0]), []string{"/keys", "200", "20", "10.0%", "3ms"}; !slices.Equal(got, want) {
		t.Errorf("/keys row %q, want %q", got, want)
	}
	if got, want := cells(routes[1]), []string{"/status", "30", "0", "0.0%", "—"}; !slices.Equal(got, want) {
		t.Errorf("/status row %q, want %q", got, want)
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

// cells returns the text of each cell of a table row.
func cells(row *html.Node) []string {
	var out []string
	for c := row.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && (c.Data == "td" || c.Data == "th") {
			out = append(out, text(c))
		}
	}
	return out
}

func TestStatusPageEmpty(t *testing.T) {
	e := newEnv(t) // no requests stored, no log ring, no Redis
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

// TestHostStatusAlertPagesForEveryRole opens each page as a viewer and as an admin.
func TestHostStatusAlertPagesForEveryRole(t *testing.T) {
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

// BenchmarkStatusRequestStats measures the request stats of /status over a full day of
// selfmon series written every 10 s (30 route/code counters and the 14 histogram series, a
// restart in the middle): the storage read plus the computation, and the computation alone.
func BenchmarkStatusRequestStats(b *testing.B) {
	e := newEnv(b)
	now := time.Now()
	from := now.Add(-statusRequestWindow)
	first := from.Add(-counterBaseline)
	var names []tsdb.Series
	for i := range 30 {
		names = append(names, tsdb.Series{Name: "redwatch_http_requests_total", Labels: []tsdb.Label{{Name: "code", Value: []string{"200", "304", "500"}[i%3]}, {Name: "route", Value: fmt.Sprintf("/route/%d", i/3)}}})
	}
	for _, le := range []string{"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"} {
		names = append(names, tsdb.Series{Name: "redwatch_http_request_duration_seconds_bucket", Labels: []tsdb.Label{{Name: "le", Value: le}}})
	}
	names = append(names, tsdb.Series{Name: "redwatch_http_request_duration_seconds_sum"}, tsdb.Series{Name: "redwatch_http_request_duration_seconds_count"})
	restart := from.Add(12 * time.Hour)
	var samples []tsdb.Sample
	points := 0
	for ts := first; !ts.After(now); ts = ts.Add(10 * time.Second) {
		tick := float64(ts.Sub(first) / (10 * time.Second))
		if !ts.Before(restart) {
			tick = float64(ts.Sub(restart) / (10 * time.Second))
		}
		for i, s := range names {
			samples = append(samples, tsdb.Sample{Name: s.Name, Labels: s.Labels, Timestamp: ts.UnixMilli(), Value: tick * float64(i+1)})
		}
		points += len(names)
		if len(samples) >= 50000 {
			if err := e.db.Write(samples); err != nil {
				b.Fatal(err)
			}
			samples = samples[:0]
		}
	}
	if err := e.db.Write(samples); err != nil {
		b.Fatal(err)
	}
	e.db.Flush()
	ctx := context.Background()
	st, err := e.srv.status.requestStats(ctx, from, now)
	if err != nil || st.Requests == 0 || !st.P95Known {
		b.Fatalf("stats %+v, err %v", st, err)
	}
	b.Run("read+compute", func(b *testing.B) {
		for b.Loop() {
			if _, err := e.srv.status.requestStats(ctx, from, now); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(points), "points")
	})
	b.Run("compute", func(b *testing.B) {
		sel, _ := tsdb.ParseSelector(requestSeries)
		series, err := e.db.Raw(ctx, sel, first, now)
		if err != nil {
			b.Fatal(err)
		}
		read := 0
		for _, s := range series {
			read += len(s.Points)
		}
		if read < points*9/10 {
			b.Fatalf("read %d points of %d written", read, points)
		}
		for b.Loop() {
			computeRequestStats(series, from)
		}
		b.ReportMetric(float64(read), "points")
	})
}

// The 24 h request stats are computed once per statusRequestsRefresh for every viewer: a
// second computation within that time returns the first result, a later one reads anew.
func TestRequestStatsCached(t *testing.T) {
	e := newEnv(t)
	now := time.Now()
	first, at, err := e.srv.status.cachedRequestStats(context.Background(), now)
	if err != nil || first.Requests != 0 || !at.Equal(now) {
		t.Fatalf("first: %+v %v %v", first, at, err)
	}
	e.writeSeries(requestFixture(now.Add(-21 * time.Hour))) // all in the past: Write refuses samples more than 10 minutes ahead
	e.db.Flush()
	if st, at, _ := e.srv.status.cachedRequestStats(context.Background(), now.Add(time.Second)); st.Requests != 0 || !at.Equal(now) {
		t.Fatalf("within the refresh period: %v requests computed at %v, want the cached 0 from %v", st.Requests, at, now)
	}
	later := now.Add(statusRequestsRefresh)
	if st, at, _ := e.srv.status.cachedRequestStats(context.Background(), later); st.Requests == 0 || !at.Equal(later) {
		t.Fatalf("after the refresh period: %v requests computed at %v", st.Requests, at)
	}
}

// The [remote_write] endpoint is on /status and in /health/targets/ (URL without its password,
// state, queue, counters, last error); its being down neither fails readiness nor makes
// /health/targets/ 503. A real forwarder, first against a refused port, then a real receiver.
func TestRemoteWriteOnStatusAndHealth(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // down: connections are refused
	fwd, err := remotewrite.New(remotewrite.Options{
		URL: "http://bob:s3cret-pw@" + addr + "/api/v1/write", FlushOnWrite: true,
		MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond,
		Client: &http.Client{Timeout: 2 * time.Second}, FinalFlushTimeout: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); fwd.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	e := newEnv(t)
	e.checker.RemoteWrite = fwd.Stats
	fwd.Write([]tsdb.Sample{{Name: "m", Timestamp: time.Now().UnixMilli(), Value: 1}, {Name: "m", Timestamp: time.Now().UnixMilli() + 1, Value: 2}})
	deadline := time.Now().Add(5 * time.Second)
	for fwd.Stats().State != "unavailable" {
		if time.Now().After(deadline) {
			t.Fatalf("forwarder never unavailable: %+v", fwd.Stats())
		}
		time.Sleep(time.Millisecond)
	}

	res, body := e.do(nil, "GET", "/health/targets/", nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("/health/targets/ with the endpoint down: %d %s", res.StatusCode, body)
	}
	var rep struct {
		Status      string `json:"status"`
		Down        int    `json:"down"`
		RemoteWrite struct {
			URL          string  `json:"url"`
			Status       string  `json:"status"`
			State        string  `json:"state"`
			Error        string  `json:"error"`
			LastSuccess  *string `json:"last_success"`
			QueueSamples int     `json:"queue_samples"`
			SentTotal    uint64  `json:"sent_total"`
		} `json:"remote_write"`
	}
	if err := json.Unmarshal([]byte(body), &rep); err != nil {
		t.Fatal(err)
	}
	rw := rep.RemoteWrite
	if rep.Status != "ok" || rep.Down != 0 || rw.Status != "down" || rw.State != "unavailable" || !strings.Contains(rw.Error, "refused") ||
		rw.LastSuccess != nil || rw.QueueSamples != 2 || rw.URL != fwd.URL() || strings.Contains(body, "s3cret-pw") {
		t.Fatalf("/health/targets/: %s", body)
	}
	if res, body := e.do(nil, "GET", "/health/ready/", nil); res.StatusCode != http.StatusOK {
		t.Fatalf("/health/ready/ with the endpoint down: %d %s", res.StatusCode, body)
	}

	c := e.login("viewer", viewerPass)
	card := func() *html.Node {
		t.Helper()
		res, body := e.do(c, "GET", "/status?fragment=status-summary", nil)
		if res.StatusCode != http.StatusOK || strings.Contains(body, "s3cret-pw") {
			t.Fatalf("/status summary: %d %s", res.StatusCode, body)
		}
		return one(t, parse(t, body), "status-remote-write")
	}
	n := card()
	if attr(n, "data-state") != "unavailable" || text(one(t, n, "rw-state")) != "unavailable" || text(one(t, n, "rw-url")) != fwd.URL() ||
		!strings.Contains(text(one(t, n, "rw-error")), "refused") || text(one(t, n, "rw-queue")) != "2" || text(one(t, n, "rw-sent")) != "0" ||
		text(one(t, n, "rw-last-success")) != "never" {
		t.Fatalf("forwarding card while down: %s", text(n))
	}

	// The receiver comes back: delivering, nothing queued, last success set.
	rln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	rs := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	rs.Listener.Close()
	rs.Listener = rln
	rs.Start()
	t.Cleanup(rs.Close)
	for fwd.Sent() != 2 {
		if time.Now().After(deadline.Add(5 * time.Second)) {
			t.Fatalf("never delivered: %+v", fwd.Stats())
		}
		time.Sleep(time.Millisecond)
	}
	n = card()
	if attr(n, "data-state") != "delivering" || text(one(t, n, "rw-queue")) != "0" || text(one(t, n, "rw-sent")) != "2" ||
		text(one(t, n, "rw-last-success")) == "never" || len(texts(n, "rw-error")) != 0 {
		t.Fatalf("forwarding card after resuming: %s", text(n))
	}
	res, body = e.do(nil, "GET", "/health/targets/", nil)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, `"status":"up"`) || !strings.Contains(body, `"state":"delivering"`) || !strings.Contains(body, `"sent_total":2`) {
		t.Fatalf("/health/targets/ after resuming: %s", body)
	}
}

// Without [remote_write] there is no forwarding card and no remote_write in /health/targets/.
func TestNoRemoteWriteOnStatus(t *testing.T) {
	e := newEnv(t)
	c := e.login("viewer", viewerPass)
	res, body := e.do(c, "GET", "/status", nil)
	if res.StatusCode != http.StatusOK || len(texts(parse(t, body), "status-remote-write")) != 0 {
		t.Fatalf("/status without remote write: %d, card present: %v", res.StatusCode, strings.Contains(body, "status-remote-write"))
	}
	if res, body := e.do(nil, "GET", "/health/targets/", nil); res.StatusCode != http.StatusOK || strings.Contains(body, "remote_write") {
		t.Fatalf("/health/targets/: %d %s", res.StatusCode, body)
	}
}
