package selfmon

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/redwatch/redwatch/tsdb"
)

// This file reads back the request series Samples writes: redwatch's HTTP request figures
// over a window (/status's last 24 h), from storage.

// counterBaseline is how far before a window a counter's last point is looked for, as the
// baseline of its increase. It must exceed the Sampler's write interval (10 s).
const counterBaseline = 15 * time.Minute

// requestSeries selects the request series: the counters per route and code, and the latency
// histogram across routes.
const requestSeries = `{__name__=~"redwatch_http_requests_total|redwatch_http_request_duration_seconds_(bucket|sum|count)"}`

// RawReader reads every stored point of the series a selector matches; *tsdb.DB satisfies it.
type RawReader interface {
	Raw(ctx context.Context, sel *tsdb.Selector, start, end time.Time) ([]tsdb.Series, error)
}

// IsReport tells whether an answer with code on route is a correct report about a watched
// target rather than a failure of redwatch (the requests Stats.ObserveReport records): it
// counts among the requests but not among the 5xx. The stored counters do not tell them
// apart, so readers pass the same rule the server applies; nil: every 5xx is an error.
type IsReport func(route string, code int) bool

// RequestStats reads the request series for (from, to] and summarises them.
func RequestStats(ctx context.Context, r RawReader, from, to time.Time, isReport IsReport) (Requests, error) {
	sel, err := tsdb.ParseSelector(requestSeries)
	if err != nil {
		return Requests{}, fmt.Errorf("BUG: %w", err)
	}
	series, err := r.Raw(ctx, sel, from.Add(-counterBaseline), to)
	if err != nil {
		return Requests{}, fmt.Errorf("cannot read the request series: %w", err)
	}
	return computeRequestStats(series, from, isReport), nil
}

// Requests are redwatch's HTTP request figures over a window, from its stored series.
// Every field is a finite number; without requests they are all zero.
type Requests struct {
	Requests   float64 // requests answered (increase of redwatch_http_requests_total)
	Errors     float64 // of which with a 5xx code, reports aside (IsReport)
	Observed   float64 // requests in the latency histogram (increase of _count)
	SumSeconds float64 // their total duration (increase of _sum)
	P95Seconds float64 // the 95th percentile latency, interpolated within its bucket
	P95Known   bool    // the histogram had requests in the window
	Routes     []RouteRequests
}

// ErrorRate is Errors/Requests (0..1), 0 without requests.
func (r Requests) ErrorRate() float64 { return ratio(r.Errors, r.Requests) }

// AvgSeconds is the mean request duration, 0 without observed requests.
func (r Requests) AvgSeconds() float64 { return ratio(r.SumSeconds, r.Observed) }

// RouteRequests is one route's share of a window.
type RouteRequests struct {
	Route    string
	Requests float64
	Errors   float64 // 5xx, reports aside
}

// ErrorRate is Errors/Requests (0..1), 0 without requests.
func (r RouteRequests) ErrorRate() float64 { return ratio(r.Errors, r.Requests) }

func ratio(a, b float64) float64 {
	if b <= 0 {
		return 0
	}
	return a / b
}

// computeRequestStats summarises the request series over (from, ...]: series holds every
// stored point of redwatch_http_requests_total{route,code} and of the histogram
// redwatch_http_request_duration_seconds_{bucket{le},sum,count} up to the window's end, read
// from before from (counterBaseline) so each counter's last point at or before from is its
// baseline. The counters restart from 0 with the process; counterIncrease accounts for that.
// Routes come sorted by requests, most first (ties by route).
func computeRequestStats(series []tsdb.Series, from time.Time, isReport IsReport) Requests {
	start := from.UnixMilli()
	var st Requests
	routes := map[string]*RouteRequests{}
	var buckets []bucketCount
	for i := range series {
		sr := &series[i]
		inc := counterIncrease(sr.Points, start)
		switch sr.Name {
		case "redwatch_http_requests_total":
			route := sr.Label("route")
			r := routes[route]
			if r == nil {
				r = &RouteRequests{Route: route}
				routes[route] = r
			}
			r.Requests += inc
			st.Requests += inc
			if code, err := strconv.Atoi(sr.Label("code")); err == nil && code >= 500 && code <= 599 && (isReport == nil || !isReport(route, code)) {
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
	slices.SortFunc(st.Routes, func(a, b RouteRequests) int {
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
