package tsdb

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/VictoriaMetrics/VictoriaMetrics/lib/storage"
)

// Point is one sample of a series.
type Point struct {
	Timestamp int64 // unix milliseconds
	Value     float64
}

// Series is one series and, for reads that return data, its points in time order.
type Series struct {
	Name   string
	Labels []Label // sorted by name
	Points []Point
}

// Label returns the value of the named label, or "".
func (s Series) Label(name string) string { return labelValue(s.Labels, name) }

// Agg is a per-step aggregate for QueryRange.
type Agg string

const (
	// AggLast is the newest sample at or before each step, looking back at most
	// max(step, Lookback) — Prometheus' instant-value semantics. It is the default.
	AggLast Agg = "last"
	AggAvg  Agg = "avg" // mean of the samples in (t-step, t]
	AggMin  Agg = "min"
	AggMax  Agg = "max"
	// AggRate is the per-second increase of a counter over (t-step, t], measured from the last
	// sample at or before t-step (so one sample per step suffices); decreases are counter resets.
	AggRate Agg = "rate"
)

// ParseAgg accepts "", last, avg, min, max and rate ("" means last).
func ParseAgg(s string) (Agg, error) {
	switch Agg(s) {
	case "":
		return AggLast, nil
	case AggLast, AggAvg, AggMin, AggMax, AggRate:
		return Agg(s), nil
	}
	return "", fmt.Errorf("unknown aggregate %q: want last, avg, min, max or rate", s)
}

// Lookback is how far back a step looks for a value when its own window has none.
const Lookback = 5 * time.Minute

// MaxPointsPerSeries bounds (end-start)/step for QueryRange, as Prometheus does.
const MaxPointsPerSeries = 11000

// RangeQuery asks for one value per step at Start, Start+step, ... up to End, each aggregating
// the step (t-step, t]; when End is not on that grid, one more value at End aggregates the
// newest, unfinished step (the last grid step, End], so a range ending now always shows the
// newest samples, whatever the step.
type RangeQuery struct {
	Selector *Selector
	Start    time.Time
	End      time.Time
	Step     time.Duration
	Agg      Agg
}

// QueryRange evaluates q for every matching series. Steps without data are omitted; a series
// with no points in the range is left out. It is bounded: a *LimitError when the selector
// matches more than Options.MaxSeriesPerQuery series, reads more than MaxSamplesPerQuery
// samples or would return more than MaxPointsPerQuery points; an error wrapping
// context.DeadlineExceeded when ctx's deadline passes first.
func (db *DB) QueryRange(ctx context.Context, q RangeQuery) ([]Series, error) {
	if q.Step <= 0 {
		return nil, fmt.Errorf("step must be positive, got %s", q.Step)
	}
	if q.End.Before(q.Start) {
		return nil, fmt.Errorf("end %s is before start %s", q.End.Format(time.RFC3339), q.Start.Format(time.RFC3339))
	}
	if n := q.End.Sub(q.Start)/q.Step + 1; n > MaxPointsPerSeries {
		return nil, fmt.Errorf("range/step gives %d points per series, more than %d: use a larger step", n, MaxPointsPerSeries)
	}
	agg := q.Agg
	if agg == "" {
		agg = AggLast
	}
	ctx = withBudget(ctx, db.maxSamples(), hintQuery)
	if q.Step < RollupStep {
		return db.queryRaw(ctx, q, agg)
	}
	out, err := db.queryRollups(ctx, q, agg)
	if err != nil {
		return nil, err
	}
	points := 0
	for _, s := range out {
		points += len(s.Points)
	}
	if int64(points) > db.maxPoints() {
		return nil, &LimitError{Bound: "points", Limit: db.maxPoints(), Hint: hintQuery}
	}
	return out, nil
}

// queryRaw answers q from raw samples, aggregating each series as it is read, so memory holds
// one series' raw samples and the answer, never every raw sample.
func (db *DB) queryRaw(ctx context.Context, q RangeQuery, agg Agg) ([]Series, error) {
	step := q.Step.Milliseconds()
	lookback := max(step, Lookback.Milliseconds())
	// Read from the earliest instant any step may look at.
	from := q.Start.UnixMilli() - lookback
	var out []Series
	points, maxPoints := 0, db.maxPoints()
	err := db.each(ctx, q.Selector, time.UnixMilli(from), q.End, func(mn *storage.MetricName, pts []Point) error {
		pts = aggregate(pts, q.Start.UnixMilli(), q.End.UnixMilli(), step, lookback, agg)
		if len(pts) == 0 {
			return nil
		}
		if points += len(pts); int64(points) > maxPoints {
			return &LimitError{Bound: "points", Limit: maxPoints, Hint: hintQuery}
		}
		s := seriesFromMetricName(mn)
		s.Points = pts
		out = append(out, *s)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sortSeries(out)
	return out, nil
}

// lastGridStep is the newest step start+k*step (k may be negative) at or before end.
func lastGridStep(start, end, step int64) int64 {
	d := end - start
	k := d / step
	if d%step != 0 && d < 0 {
		k-- // floor, not truncation
	}
	return start + k*step
}

// aggregate turns time-ordered raw points into one point per step at start, start+step, ...
// up to end, each step t covering (t-step, t]; when end is not on that grid, one more point at
// end covers the newest, unfinished step (g, end] after the last grid step g, so the newest
// samples are always drawn. start may lie after end: then only that point is computed.
func aggregate(raw []Point, start, end, step, lookback int64, agg Agg) []Point {
	out := make([]Point, 0, min(max(int((end-start)/step), 0)+2, len(raw)+1))
	// hi: index of the first raw point with Timestamp > t; lo: first with Timestamp > from.
	lo, hi := 0, 0
	last := lastGridStep(start, end, step)
	eval := func(from, t int64) {
		for hi < len(raw) && raw[hi].Timestamp <= t {
			hi++
		}
		for lo < hi && raw[lo].Timestamp <= from {
			lo++
		}
		if v, ok := aggregateWindow(raw, lo, hi, from, t, lookback, agg); ok {
			out = append(out, Point{Timestamp: t, Value: v})
		}
	}
	for t := start; t <= last; t += step {
		eval(t-step, t)
	}
	if last < end {
		eval(last, end)
	}
	return out
}

// aggregateWindow is agg over the step (from, t]: raw[lo:hi] are its points and raw[:hi] every
// point at or before t.
func aggregateWindow(raw []Point, lo, hi int, from, t, lookback int64, agg Agg) (float64, bool) {
	if hi == 0 {
		return 0, false // nothing at or before t
	}
	last := raw[hi-1]
	if last.Timestamp <= t-lookback {
		return 0, false // stale
	}
	window := raw[lo:hi]
	var v float64
	switch agg {
	case AggLast:
		v = last.Value
	case AggAvg, AggMin, AggMax:
		if len(window) == 0 {
			return last.Value, true // carry the last value forward within the lookback
		}
		v = window[0].Value
		sum := 0.0
		for _, p := range window {
			sum += p.Value
			switch {
			case agg == AggMin && p.Value < v:
				v = p.Value
			case agg == AggMax && p.Value > v:
				v = p.Value
			}
		}
		if agg == AggAvg {
			v = sum / float64(len(window))
		}
	case AggRate:
		// Baseline: the last point at or before from; when the window holds no new point,
		// measure over the last two points instead so a slow sampler gives no dips.
		// A young series has no point before the window: start from its first one.
		b := hi - 1
		a := lo - 1
		if a < 0 {
			a = lo
		}
		if a >= b {
			a = b - 1
		}
		if a < 0 || raw[b].Timestamp-raw[a].Timestamp <= 0 || raw[a].Timestamp <= from-lookback {
			return 0, false
		}
		inc := 0.0
		for i := a + 1; i <= b; i++ {
			d := raw[i].Value - raw[i-1].Value
			if d < 0 {
				d = raw[i].Value // counter reset: it restarted from zero
			}
			inc += d
		}
		v = inc / (float64(raw[b].Timestamp-raw[a].Timestamp) / 1e3)
	default:
		panic("BUG: unknown aggregate " + string(agg))
	}
	return v, true
}

// Raw returns every stored point of the series matching sel within [start, end], in time
// order. It is bounded as QueryRange is by series and samples (a *LimitError), and by ctx.
func (db *DB) Raw(ctx context.Context, sel *Selector, start, end time.Time) ([]Series, error) {
	var out []Series
	err := db.each(withBudget(ctx, db.maxSamples(), hintExport), sel, start, end, func(mn *storage.MetricName, pts []Point) error {
		s := seriesFromMetricName(mn)
		s.Points = append([]Point(nil), pts...)
		out = append(out, *s)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sortSeries(out)
	return out, nil
}

// each streams the raw points of the series matching sel within [start, end] to fn, as scan
// does, holding db.mu shared throughout. The error names the selector.
func (db *DB) each(ctx context.Context, sel *Selector, start, end time.Time, fn func(mn *storage.MetricName, pts []Point) error) error {
	db.mu.RLock()
	defer db.mu.RUnlock()
	if db.closed {
		return ErrClosed
	}
	tfss, err := sel.tagFilters()
	if err != nil {
		return err
	}
	tr := storage.TimeRange{MinTimestamp: start.UnixMilli(), MaxTimestamp: end.UnixMilli()}
	if err := scan(ctx, db.s, tfss, tr, db.opts.MaxSeriesPerQuery, fn); err != nil {
		return fmt.Errorf("selector %s: %w", sel.quoted(), err)
	}
	return nil
}

// scan streams the series matching tfss within tr from s, one series at a time: fn gets the
// series name and its points sorted by time, deduplicated, NaNs dropped; pts is reused after
// fn returns. It relies on storage yielding every block of a series consecutively (blocks are
// ordered by TSID, then time), so memory stays bounded by the largest series. The samples read
// are taken from ctx's budget (see withBudget); more than maxSeries series is a *LimitError,
// and ctx's deadline an error wrapping context.DeadlineExceeded.
func scan(ctx context.Context, s *storage.Storage, tfss []*storage.TagFilters, tr storage.TimeRange, maxSeries int, fn func(mn *storage.MetricName, pts []Point) error) error {
	var sr storage.Search
	n := sr.Init(nil, s, tfss, tr, maxSeries, deadline(ctx))
	defer sr.MustClose()
	if err := sr.Error(); err != nil {
		return searchError(err, maxSeries)
	}
	if n > maxSeries {
		// Each monthly partition is searched with the bound; together they may pass it.
		return &LimitError{Bound: "series", Limit: int64(maxSeries), Hint: hintSeries}
	}
	var (
		cur   []byte // marshaled name of the series being collected
		mn    storage.MetricName
		pts   []Point
		block storage.Block
		ts    []int64
		vs    []float64
	)
	flush := func() error {
		if cur == nil {
			return nil
		}
		if err := mn.Unmarshal(cur); err != nil {
			return fmt.Errorf("cannot unmarshal series name: %w", err)
		}
		pts = sortDedup(pts)
		if len(pts) == 0 {
			return nil
		}
		return fn(&mn, pts)
	}
	for i := 0; sr.NextMetricBlock(); i++ {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("query stopped: %w", err)
			}
		}
		mbr := &sr.MetricBlockRef
		if cur == nil || string(cur) != string(mbr.MetricName) {
			if err := flush(); err != nil {
				return err
			}
			cur = append(cur[:0], mbr.MetricName...)
			pts = pts[:0]
		}
		mbr.BlockRef.MustReadBlock(&block)
		if err := block.UnmarshalData(); err != nil {
			return fmt.Errorf("cannot read block: %w", err)
		}
		ts, vs = block.AppendRowsWithTimeRangeFilter(ts[:0], vs[:0], tr)
		if err := take(ctx, len(ts)); err != nil {
			return err
		}
		if need := len(pts) + len(ts); need > cap(pts) {
			// Double: append grows large slices by 1.25x, copying a long series many times.
			pts = slices.Grow(pts, max(need, 2*cap(pts))-len(pts))
		}
		for j := range ts {
			pts = append(pts, Point{Timestamp: ts[j], Value: vs[j]})
		}
	}
	if err := sr.Error(); err != nil {
		return searchError(err, maxSeries)
	}
	return flush()
}

// SeriesMatching lists the series matching sel that have samples within [start, end], without
// their points, sorted by name then labels. More than Options.MaxSeriesPerQuery series is a
// *LimitError.
func (db *DB) SeriesMatching(ctx context.Context, sel *Selector, start, end time.Time) ([]Series, error) {
	db.mu.RLock()
	defer db.mu.RUnlock()
	if db.closed {
		return nil, ErrClosed
	}
	tfss, err := sel.tagFilters()
	if err != nil {
		return nil, err
	}
	tr := storage.TimeRange{MinTimestamp: start.UnixMilli(), MaxTimestamp: end.UnixMilli()}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("query stopped: %w", err) // storage checks its deadline in whole seconds
	}
	names, err := db.s.SearchMetricNames(nil, tfss, tr, db.opts.MaxSeriesPerQuery, deadline(ctx))
	if err == nil && len(names) > db.opts.MaxSeriesPerQuery {
		err = &LimitError{Bound: "series", Limit: int64(db.opts.MaxSeriesPerQuery), Hint: hintSeries}
	}
	if err != nil {
		return nil, fmt.Errorf("cannot list series for %s: %w", sel.quoted(), searchError(err, db.opts.MaxSeriesPerQuery))
	}
	out := make([]Series, 0, len(names))
	var mn storage.MetricName
	for _, name := range names {
		if err := mn.UnmarshalString(name); err != nil {
			return nil, fmt.Errorf("cannot unmarshal series name: %w", err)
		}
		out = append(out, *seriesFromMetricName(&mn))
	}
	sortSeries(out)
	return out, nil
}

func seriesFromMetricName(mn *storage.MetricName) *Series {
	s := &Series{Name: string(mn.MetricGroup), Labels: make([]Label, 0, len(mn.Tags))}
	for _, t := range mn.Tags {
		s.Labels = append(s.Labels, Label{Name: string(t.Key), Value: string(t.Value)})
	}
	sort.Slice(s.Labels, func(i, j int) bool { return s.Labels[i].Name < s.Labels[j].Name })
	return s
}

// sortDedup sorts points by time and keeps the last written value for a repeated timestamp.
// Storage mostly yields a series' blocks in time order, so sorting is usually skipped.
func sortDedup(ps []Point) []Point {
	byTime := func(a, b Point) int { return cmp.Compare(a.Timestamp, b.Timestamp) }
	if !slices.IsSortedFunc(ps, byTime) {
		mergeRuns(ps)
	}
	out := ps[:0]
	for _, p := range ps {
		if math.IsNaN(p.Value) {
			continue
		}
		if n := len(out); n > 0 && out[n-1].Timestamp == p.Timestamp {
			out[n-1] = p
			continue
		}
		out = append(out, p)
	}
	return out
}

// mergeRuns sorts ps by time, stably, by merging its ascending runs: the blocks of one
// series, each sorted, that overlap when samples came late (a backfill). O(n log runs), where
// slices.SortStableFunc's insertion sort and in-place merges took half of a late rollup's CPU.
func mergeRuns(ps []Point) {
	var bounds []int // the start of each run, then len(ps)
	for i := range ps {
		if i == 0 || ps[i].Timestamp < ps[i-1].Timestamp {
			bounds = append(bounds, i)
		}
	}
	bounds = append(bounds, len(ps))
	src, dst := ps, make([]Point, len(ps))
	for len(bounds) > 2 {
		next := bounds[:0:0]
		for i := 0; i+1 < len(bounds); i += 2 {
			lo, mid, hi := bounds[i], bounds[i+1], bounds[min(i+2, len(bounds)-1)] // a last odd run merges with nothing
			next = append(next, lo)
			a, b, k := lo, mid, lo
			for a < mid && b < hi {
				if src[b].Timestamp < src[a].Timestamp { // ties take the earlier run first: stable
					dst[k], b = src[b], b+1
				} else {
					dst[k], a = src[a], a+1
				}
				k++
			}
			k += copy(dst[k:], src[a:mid])
			copy(dst[k:], src[b:hi])
		}
		bounds = append(next, len(ps))
		src, dst = dst, src
	}
	if &src[0] != &ps[0] {
		copy(ps, src)
	}
}

func sortSeries(ss []Series) {
	sort.Slice(ss, func(i, j int) bool {
		if ss[i].Name != ss[j].Name {
			return ss[i].Name < ss[j].Name
		}
		return SeriesKey(ss[i].Labels) < SeriesKey(ss[j].Labels)
	})
}

// deadline converts ctx's deadline into VictoriaMetrics' unix-seconds form (default 30 s).
func deadline(ctx context.Context) uint64 {
	d, ok := ctx.Deadline()
	if !ok {
		d = time.Now().Add(30 * time.Second)
	}
	return uint64(d.Unix())
}

// loadLatest fills the latest table from the last 15 minutes of storage, so /metrics and the
// pages show values right after a restart. It streams one series at a time and keeps only its
// last two points, so start-up memory does not grow with the number of series, and takes the
// table's lock per series, so writers are not held up while it runs (see startPreload). Label
// values stored before Write encoded them are encoded here, so the table holds each series
// once, as Write keys it. The 15 minutes end at the DB clock's now (Options.Now, which judges
// freshness and the timestamps Write takes): a sample stamped ahead of it is not preloaded,
// where, ranked by its timestamp, it would mask the samples written after the restart. It
// returns ctx's error when ctx is done first.
func (db *DB) loadLatest(ctx context.Context) error {
	tfss := allSeriesFilters()
	end := db.now()
	tr := storage.TimeRange{MinTimestamp: end.Add(-15 * time.Minute).UnixMilli(), MaxTimestamp: end.UnixMilli()}
	t := db.latest
	return scan(ctx, db.s, tfss, tr, math.MaxInt32, func(mn *storage.MetricName, pts []Point) error {
		s := seriesFromMetricName(mn)
		labels := encodeLabels(s.Labels) // sorted still: encoding keeps the names
		n := len(pts)
		t.mu.Lock()
		defer t.mu.Unlock()
		if n > 1 {
			t.put(s.Name, labels, pts[n-2].Timestamp, pts[n-2].Value)
		}
		t.put(s.Name, labels, pts[n-1].Timestamp, pts[n-1].Value)
		return nil
	})
}
