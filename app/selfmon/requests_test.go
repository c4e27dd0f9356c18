package selfmon

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/redwatch/redwatch/tsdb"
)

func TestCounterIncrease(t *testing.T) {
	t.Parallel()
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
	t.Parallel()
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
	t.Parallel()
	from := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)

	t.Run("a day with a restart", func(t *testing.T) {
		st := computeRequestStats(requestFixture(from), from, nil)
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
		want := []RouteRequests{{Route: "/keys", Requests: 200, Errors: 20}, {Route: "/status", Requests: 30}}
		if !slices.Equal(st.Routes, want) {
			t.Errorf("routes %+v, want %+v", st.Routes, want)
		}
		if got := st.Routes[0].ErrorRate(); got != 0.1 {
			t.Errorf("/keys error rate %v, want 0.1", got)
		}
	})

	t.Run("no data", func(t *testing.T) {
		for _, series := range [][]tsdb.Series{nil, {{Name: "redwatch_http_requests_total", Labels: []tsdb.Label{{Name: "route", Value: "/"}, {Name: "code", Value: "200"}}}}} {
			st := computeRequestStats(series, from, nil)
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
		st := computeRequestStats(requestFixture(from)[:4], from, nil)
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
		st := computeRequestStats(ss, from, nil)
		if st.Requests != 101 || st.Errors != 10 {
			t.Fatalf("requests %v errors %v, want 101 10", st.Requests, st.Errors)
		}
	})

	t.Run("reports are requests, not 5xx", func(t *testing.T) {
		// /health/targets answering 503 reports a Redis that is down; /health/ready's 503 is
		// redwatch's own failure.
		var ss []tsdb.Series
		for _, r := range []struct{ route, code string }{{"/health/targets", "503"}, {"/health/targets", "200"}, {"/health/ready", "503"}} {
			ss = append(ss, tsdb.Series{Name: "redwatch_http_requests_total", Labels: []tsdb.Label{{Name: "code", Value: r.code}, {Name: "route", Value: r.route}},
				Points: []tsdb.Point{{Timestamp: from.Add(time.Hour).UnixMilli(), Value: 10}}})
		}
		isReport := func(route string, code int) bool { return route == "/health/targets" && code == 503 }
		st := computeRequestStats(ss, from, isReport)
		want := []RouteRequests{{Route: "/health/targets", Requests: 20}, {Route: "/health/ready", Requests: 10, Errors: 10}}
		if st.Requests != 30 || st.Errors != 10 || !slices.Equal(st.Routes, want) {
			t.Fatalf("requests %v errors %v routes %+v, want 30, 10 and %+v", st.Requests, st.Errors, st.Routes, want)
		}
	})
}
