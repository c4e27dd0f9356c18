package web

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/redwatch/redwatch/app/buildinfo"
	"github.com/redwatch/redwatch/tsdb"
	"github.com/redwatch/redwatch/views/layouts"
	"github.com/redwatch/redwatch/views/pages"
)

// statusHandler serves /status.
type statusHandler struct {
	*pageKit
	opts     *Options
	hosts    *hostsHandler
	reqStats statsCache // the last-24h request stats, shared by every viewer
}

const (
	// statusRequestWindow is the span of /status's request stats.
	statusRequestWindow = 24 * time.Hour
	// statusRequestsRefresh is how often /status polls its request stats: they come from 24 h
	// of stored series, and change slowly.
	statusRequestsRefresh = 30 * time.Second
	// counterBaseline is how far before a window a counter's last point is looked for, as the
	// baseline of its increase. It must exceed selfmon's write interval (10 s).
	counterBaseline = 15 * time.Minute
	maxStatusRoutes = 10 // routes listed in the request stats
	maxStatusErrors = 50 // log entries listed
)

// requestSeries selects redwatch's own request series: the counters per route and code, and the
// latency histogram across routes.
const requestSeries = `{__name__=~"redwatch_http_requests_total|redwatch_http_request_duration_seconds_(bucket|sum|count)"}`

// showStatus renders /status: uptime and version, storage, counts, last-24h request stats and
// the last warnings and errors. ?fragment=status-summary|status-requests|status-errors answers
// with only that polled part (and computes only that).
func (s *statusHandler) showStatus(c echo.Context) error {
	now := time.Now()
	ctx := c.Request().Context()
	p := pages.StatusProps{Layout: s.layoutProps(c, "Status", layouts.NavStatus)}
	frag := c.QueryParam("fragment")
	switch frag {
	case "", pages.FragmentStatusSummary, pages.FragmentStatusRequests, pages.FragmentStatusErrors:
	default:
		return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("fragment: %q is not one of %s, %s, %s", frag, pages.FragmentStatusSummary, pages.FragmentStatusRequests, pages.FragmentStatusErrors))
	}
	if frag == "" || frag == pages.FragmentStatusSummary {
		p.Summary = s.statusSummary(ctx, now)
	}
	if frag == "" || frag == pages.FragmentStatusRequests {
		p.Requests = s.statusRequests(ctx, now)
	}
	if frag == "" || frag == pages.FragmentStatusErrors {
		p.Errors = s.statusErrors()
	}
	if frag != "" {
		return renderFragment(c, pages.Status(p), frag)
	}
	return render(c, http.StatusOK, pages.Status(p))
}

func statusPollURL(fragment string) string { return "/status?fragment=" + fragment }

// statusSummary gathers the process, storage and counts part of /status. Storage figures come
// from the same report as /health/db/ (which measures latency and walks the data directory).
func (s *statusHandler) statusSummary(ctx context.Context, now time.Time) pages.StatusSummaryProps {
	bi := buildinfo.Get()
	p := pages.StatusSummaryProps{
		PollURL: statusPollURL(pages.FragmentStatusSummary),
		Now:     now, Version: bi.Version, Commit: bi.Commit, GoVersion: bi.GoVersion,
	}
	p.Counts.Series, p.Counts.SamplesWritten = -1, -1
	if h := s.opts.Health; h != nil {
		p.Started = h.Started
		rep := h.DB(ctx, true)
		p.Storage = storageStatus(rep.Body)
		if v, ok := reportNumber(rep.Body, "series"); ok {
			p.Counts.Series = v
		}
		if v, ok := reportNumber(rep.Body, "samples_written"); ok {
			p.Counts.SamplesWritten = v
		}
		if h.RemoteWrite != nil {
			st := h.RemoteWrite()
			p.RemoteWrite = &pages.StatusRemoteWrite{
				URL: st.URL, State: st.State, Since: st.Since, LastSuccess: st.LastSuccess,
				Error: st.LastError, Queue: st.QueueSamples, Sent: st.Sent, Failed: st.Failed, Dropped: st.Dropped,
			}
		}
	} else {
		p.Storage.Error = "no storage report"
	}
	rs := s.opts.Redis
	for _, in := range rs.Instances() {
		p.Counts.RedisTotal++
		if in.Up {
			p.Counts.RedisUp++
		}
	}
	p.Counts.Keys = len(rs.Keys())
	p.Counts.Patterns = len(rs.Patterns())
	p.Counts.Hosts = len(s.hosts.hostNames())
	return p
}

// storageStatus reads the body of health.Checker.DB.
func storageStatus(body map[string]any) pages.StatusStorage {
	str := func(k string) string { v, _ := body[k].(string); return v }
	st := pages.StatusStorage{
		OK:      str("status") == "ok" || str("status") == "read_only", // read-only: its own badge
		Error:   str("error"),
		Engine:  str("engine"),
		Version: str("version"),
	}
	st.LatencyMs, _ = reportNumber(body, "latency_ms")
	st.Series, st.Known = reportNumber(body, "series")
	st.Rows, _ = reportNumber(body, "rows")
	st.DiskUsedBytes, _ = reportNumber(body, "disk_used_bytes")
	st.DiskFreeBytes, _ = reportNumber(body, "disk_free_bytes")
	st.ReadOnly, _ = body["read_only"].(bool)
	return st
}

// reportNumber reads a numeric field of a health report body, whatever its Go type.
func reportNumber(body map[string]any, key string) (float64, bool) {
	switch v := body[key].(type) {
	case float64:
		return v, true
	case int:
		return float64(v), true
	case int64:
		return float64(v), true
	case uint64:
		return float64(v), true
	case uint32:
		return float64(v), true
	}
	return 0, false
}

// statusErrors lists the last warnings and errors, newest first.
func (s *statusHandler) statusErrors() pages.StatusErrorsProps {
	p := pages.StatusErrorsProps{PollURL: statusPollURL(pages.FragmentStatusErrors)}
	if s.opts.RecentErrors == nil {
		return p
	}
	p.Enabled = true
	entries := s.opts.RecentErrors()
	for _, e := range entries[:min(len(entries), maxStatusErrors)] {
		p.Entries = append(p.Entries, pages.StatusLogEntry{Time: e.Time, Level: e.Level, Logger: e.Logger, Message: e.Msg, Attrs: e.Attrs})
	}
	return p
}

// statusRequests computes the request stats of the last statusRequestWindow from storage.
func (s *statusHandler) statusRequests(ctx context.Context, now time.Time) pages.StatusRequestsProps {
	p := pages.StatusRequestsProps{
		PollURL:   statusPollURL(pages.FragmentStatusRequests),
		RefreshMs: int(statusRequestsRefresh.Milliseconds()),
		Window:    "24 h",
	}
	st, at, err := s.cachedRequestStats(ctx, now)
	p.ComputedAt = at
	if err != nil {
		p.Error = err.Error()
		return p
	}
	p.Requests, p.Errors, p.ErrorRate = st.Requests, st.Errors, st.ErrorRate()
	p.AvgKnown, p.AvgSeconds = st.Observed > 0, st.AvgSeconds()
	p.P95Known, p.P95Seconds = st.P95Known, st.P95Seconds
	p95Now := map[string]float64{}
	for _, lv := range s.opts.Store.LatestByName("redwatch_http_request_duration_seconds") {
		if lv.Label("quantile") == "0.95" {
			p95Now[lv.Label("route")] = lv.Value
		}
	}
	for _, r := range st.Routes[:min(len(st.Routes), maxStatusRoutes)] {
		v, ok := p95Now[r.Route]
		p.Routes = append(p.Routes, pages.StatusRoute{
			Route: r.Route, Requests: r.Requests, Errors: r.Errors, ErrorRate: r.ErrorRate(),
			P95NowSeconds: v, P95NowKnown: ok,
		})
	}
	return p
}

// requestStats reads redwatch's own request series for (from, to] and summarises them.
// statsCache holds the last request stats, shared by every /status viewer.
type statsCache struct {
	mu    sync.Mutex
	at    time.Time // when stats were computed; zero: never
	stats requestStats
}

// cachedRequestStats returns the request stats of the statusRequestWindow before now,
// computed at most once per statusRequestsRefresh for all viewers (each computation reads 24 h
// of raw samples), and when they were computed. Concurrent callers wait for one computation.
func (s *statusHandler) cachedRequestStats(ctx context.Context, now time.Time) (requestStats, time.Time, error) {
	c := &s.reqStats
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at.IsZero() && !now.Before(c.at) && now.Sub(c.at) < statusRequestsRefresh {
		return c.stats, c.at, nil
	}
	st, err := s.requestStats(ctx, now.Add(-statusRequestWindow), now)
	if err != nil {
		return requestStats{}, now, err
	}
	c.at, c.stats = now, st
	return st, now, nil
}

func (s *statusHandler) requestStats(ctx context.Context, from, to time.Time) (requestStats, error) {
	sel, err := tsdb.ParseSelector(requestSeries)
	if err != nil {
		return requestStats{}, fmt.Errorf("BUG: %w", err)
	}
	series, err := s.opts.Store.Raw(ctx, sel, from.Add(-counterBaseline), to)
	if err != nil {
		return requestStats{}, fmt.Errorf("cannot read the request series: %w", err)
	}
	return computeRequestStats(series, from), nil
}

// requestStats are redwatch's HTTP request figures over a window, from its stored series.
// Every field is a finite number; without requests they are all zero.
type requestStats struct {
	Requests   float64 // requests answered (increase of redwatch_http_requests_total)
	Errors     float64 // of which with a 5xx code
	Observed   float64 // requests in the latency histogram (increase of _count)
	SumSeconds float64 // their total duration (increase of _sum)
	P95Seconds float64 // the 95th percentile latency, interpolated within its bucket
	P95Known   bool    // the histogram had requests in the window
	Routes     []routeRequests
}

// ErrorRate is Errors/Requests (0..1), 0 without requests.
func (r requestStats) ErrorRate() float64 { return ratio(r.Errors, r.Requests) }

// AvgSeconds is the mean request duration, 0 without observed requests.
func (r requestStats) AvgSeconds() float64 { return ratio(r.SumSeconds, r.Observed) }

// routeRequests is one route's share of a window.
type routeRequests struct {
	Route    string
	Requests float64
	Errors   float64 // 5xx
}

// ErrorRate is Errors/Requests (0..1), 0 without requests.
func (r routeRequests) ErrorRate() float64 { return ratio(r.Errors, r.Requests) }

func ratio(a, b float64) float64 {
	if b <= 0 {
		return 0
	}
	return a / b
}

// computeRequestStats summarises selfmon's request series over (from, ...]: series holds every
// stored point of redwatch_http_requests_total{route,code} and of the histogram
// redwatch_http_request_duration_seconds_{bucket{le},sum,count} up to the window's end, read
// from before from (counterBaseline) so each counter's last point at or before from is its
// baseline. The counters restart from 0 with the process; counterIncrease accounts for that.
// Routes come sorted by requests, most first (ties by route).
func computeRequestStats(series []tsdb.Series, from time.Time) requestStats {
	start := from.UnixMilli()
	var st requestStats
	routes := map[string]*routeRequests{}
	var buckets []bucketCount
	for i := range series {
		sr := &series[i]
		inc := counterIncrease(sr.Points, start)
		switch sr.Name {
		case "redwatch_http_requests_total":
			route := sr.Label("route")
			r := routes[route]
			if r == nil {
				r = &routeRequests{Route: route}
				routes[route] = r
			}
			r.Requests += inc
			st.Requests += inc
			if code, err := strconv.Atoi(sr.Label("code")); err == nil && code >= 500 && code <= 599 && !isTargetReport(route, code) {
				r.Errors += inc
				st.Errors += inc
			}
		case "redwatch_http_request_duration_seconds_bucket":
			le, err := strconv.ParseFloat(sr.Label("le"), 64)
			if err != nil || math.IsNaN(le) {
				continue
			}
			buckets = append(buckets, bucketCount{le: le, count: inc})
		case "redwatch_http_request_duration_seconds_sum":
			st.SumSeconds += inc
		case "redwatch_http_request_duration_seconds_count":
			st.Observed += inc
		}
	}
	if q := histogramQuantile(0.95, buckets); !math.IsNaN(q) {
		st.P95Seconds, st.P95Known = q, true
	}
	for _, r := range routes {
		if r.Requests > 0 {
			st.Routes = append(st.Routes, *r)
		}
	}
	slices.SortFunc(st.Routes, func(a, b routeRequests) int {
		return cmp.Or(cmp.Compare(b.Requests, a.Requests), cmp.Compare(a.Route, b.Route))
	})
	return st
}

// counterIncrease is how much a counter grew after start (unix ms), from its points in time
// order: the sum of the differences between consecutive points after start, where a drop means
// the process restarted and counted from 0 again, so the new value is the increase (as
// Prometheus' increase() treats resets). The last point at or before start is the baseline; a
// counter with none (it appeared within the window: a new process, or its first request) starts
// from 0.
func counterIncrease(pts []tsdb.Point, start int64) float64 {
	inc, prev, have := 0.0, 0.0, false
	for _, p := range pts {
		if p.Timestamp <= start {
			prev, have = p.Value, true
			continue
		}
		d := p.Value
		if have && p.Value >= prev {
			d = p.Value - prev
		}
		inc += d
		prev, have = p.Value, true
	}
	return inc
}

// bucketCount is one histogram bucket: how many observations were at most le.
type bucketCount struct {
	le    float64 // upper bound; +Inf for the last
	count float64 // cumulative
}

// histogramQuantile estimates quantile q (0..1) from cumulative buckets as Prometheus'
// histogram_quantile does: find the bucket holding the q-th observation and interpolate
// linearly between its lower and upper bound (the first bucket's lower bound is 0). When the
// rank falls in the +Inf bucket the answer is the highest finite bound. Buckets may come in any
// order; counts that decrease with le (from rounding or a torn write) are raised to keep them
// monotonic. It returns NaN without a +Inf bucket, with fewer than two buckets, or with no
// observations.
func histogramQuantile(q float64, buckets []bucketCount) float64 {
	if len(buckets) < 2 || math.IsNaN(q) {
		return math.NaN()
	}
	bs := slices.Clone(buckets)
	slices.SortFunc(bs, func(a, b bucketCount) int { return cmp.Compare(a.le, b.le) })
	if !math.IsInf(bs[len(bs)-1].le, 1) {
		return math.NaN()
	}
	for i := 1; i < len(bs); i++ {
		bs[i].count = max(bs[i].count, bs[i-1].count)
	}
	total := bs[len(bs)-1].count
	if total <= 0 {
		return math.NaN()
	}
	q = min(max(q, 0), 1)
	rank := q * total
	b := slices.IndexFunc(bs, func(x bucketCount) bool { return x.count >= rank })
	switch {
	case b == len(bs)-1:
		return bs[len(bs)-2].le
	case b == 0 && bs[0].le <= 0:
		return bs[0].le
	}
	lower, below := 0.0, 0.0
	if b > 0 {
		lower, below = bs[b-1].le, bs[b-1].count
	}
	inBucket := bs[b].count - below
	if inBucket <= 0 {
		return bs[b].le
	}
	return lower + (bs[b].le-lower)*(rank-below)/inBucket
}
