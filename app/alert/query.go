package alert

import (
	"context"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/redwatch/redwatch/tsdb"
)

// How a rule reads its series at an evaluation instant now, with stale = max(window, 3
// intervals): a series whose newest sample is older than stale is gone, and non-finite
// values (NaN, ±Inf) are ignored (they can be neither compared meaningfully nor encoded as
// JSON).
//
// last reads the latest-value table. avg, min, max and rate read the raw samples of
// (now-window-stale, now] (rate) or (now-stale, now] and aggregate the window (now-window, now]:
//   - avg, min, max: over the samples in the window; when the window holds none, the newest
//     earlier sample (younger than stale) is carried forward, so a series sampled less often
//     than the window does not vanish between samples;
//   - rate: the per-second increase from the last sample at or before now-window (or the
//     first sample, for a series younger than the window) to the newest one, counter resets
//     counted from zero; when the window holds no sample, the increase over the last two.
//     This is tsdb.AggRate with a step ending exactly at now.
//
// The raw samples are read with Raw rather than QueryRange: QueryRange answers steps of
// tsdb.RollupStep (5m) or more from 5-minute rollups aligned to the clock, which cannot cover
// exactly [now-window, now] (a single step at now returns nothing).
//
// Rules with the same selector share one read per round: one Latest call for their last
// rules, one Raw call over the longest range their other rules need.

// seriesValue is the evaluated value of one series matched by a rule.
type seriesValue struct {
	labels []tsdb.Label // the series' labels, sorted by name, without __name__
	value  float64
}

// An expr rule is evaluated by one instant query at now (Querier.Query): each series returned
// is one value, its newest point (the engine's own lookback decides what is gone); non-finite
// values are ignored. Rules with the same expression share one query per round.

// fetch is one read of storage shared by the rules of a round with the same selector (or
// expression).
type fetch struct {
	sel    *tsdb.Selector
	expr   string // an expr rule's: Querier.Query, not sel
	latest bool   // Latest, or Raw over (from, now]
	from   int64  // unix ms, exclusive
	lvs    []tsdb.LatestValue
	raw    []tsdb.Series
	err    error
	dur    time.Duration
}

func (f *fetch) run(ctx context.Context, st Store, q Querier, now time.Time) {
	t0 := time.Now()
	switch {
	case f.expr != "" && q == nil:
		f.err = errNoQuerier
	case f.expr != "":
		f.raw, f.err = q.Query(ctx, f.expr, now)
	case f.latest:
		f.lvs = st.Latest(f.sel)
	default:
		f.raw, f.err = st.Raw(ctx, f.sel, time.UnixMilli(f.from+1), now)
	}
	f.dur = time.Since(t0)
}

// rawFrom is the exclusive start of the raw samples r needs at now (unix ms).
func (r *rule) rawFrom(now time.Time, interval time.Duration) int64 {
	from := now.UnixMilli() - r.stale(interval).Milliseconds()
	if r.agg == "rate" {
		from -= r.window.Milliseconds()
	}
	return from
}

// values evaluates r at now from f, a fetch for r's selector. It does not modify f.
func (r *rule) values(f *fetch, now time.Time, interval time.Duration) []seriesValue {
	stale := r.stale(interval).Milliseconds()
	nowMs := now.UnixMilli()
	if r.expr != "" {
		out := make([]seriesValue, 0, len(f.raw))
		for i := range f.raw {
			pts := f.raw[i].Points
			if len(pts) == 0 || !finite(pts[len(pts)-1].Value) {
				continue
			}
			out = append(out, seriesValue{labels: f.raw[i].Labels, value: pts[len(pts)-1].Value})
		}
		return out
	}
	if r.agg == "last" {
		out := make([]seriesValue, 0, len(f.lvs))
		for i := range f.lvs {
			lv := &f.lvs[i]
			if lv.Timestamp <= nowMs-stale || !finite(lv.Value) {
				continue
			}
			out = append(out, seriesValue{labels: lv.Labels, value: lv.Value})
		}
		return out
	}
	from := r.rawFrom(now, interval)
	out := make([]seriesValue, 0, len(f.raw))
	for i := range f.raw {
		pts := f.raw[i].Points
		pts = pts[sort.Search(len(pts), func(j int) bool { return pts[j].Timestamp > from }):]
		v, ok := aggregate(pts, r.agg, nowMs, r.window.Milliseconds(), stale)
		if ok && finite(v) {
			out = append(out, seriesValue{labels: f.raw[i].Labels, value: v})
		}
	}
	return out
}

// aggregate computes agg over pts (time-ordered) for the window (now-window, now]; see the
// comment at the top of this file. It does not modify pts.
func aggregate(pts []tsdb.Point, agg string, now, window, stale int64) (float64, bool) {
	if slices.ContainsFunc(pts, func(p tsdb.Point) bool { return !finite(p.Value) || p.Timestamp > now }) {
		// Rare: copy without them (one +Inf would make every average infinite).
		pts = slices.DeleteFunc(slices.Clone(pts), func(p tsdb.Point) bool { return !finite(p.Value) || p.Timestamp > now })
	}
	n := len(pts)
	if n == 0 || pts[n-1].Timestamp <= now-stale {
		return 0, false
	}
	lo := sort.Search(n, func(i int) bool { return pts[i].Timestamp > now-window }) // first in the window
	win := pts[lo:]
	switch agg {
	case "avg", "min", "max":
		if len(win) == 0 {
			return pts[n-1].Value, true // carried forward; fresh, checked above
		}
		v, sum := win[0].Value, 0.0
		for _, p := range win {
			sum += p.Value
			switch {
			case agg == "min" && p.Value < v:
				v = p.Value
			case agg == "max" && p.Value > v:
				v = p.Value
			}
		}
		if agg == "avg" {
			v = sum / float64(len(win))
		}
		return v, true
	case "rate":
		b := n - 1
		a := lo - 1
		if a < 0 {
			a = lo // a series younger than the window: from its first sample
		}
		if a >= b {
			a = b - 1 // no sample in the window but the newest: the last two samples
		}
		if a < 0 || pts[b].Timestamp <= pts[a].Timestamp {
			return 0, false
		}
		inc := 0.0
		for i := a + 1; i <= b; i++ {
			d := pts[i].Value - pts[i-1].Value
			if d < 0 {
				d = pts[i].Value // counter reset: it restarted from zero
			}
			inc += d
		}
		return inc / (float64(pts[b].Timestamp-pts[a].Timestamp) / 1e3), true
	}
	panic("BUG: unknown aggregate " + agg)
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
