// Package keytrend reads how watched keys' lengths moved over a range: the change of each key
// (last - first known length) and its sparkline points, for the keys page and the overview's
// top-moving keys.
//
// A page of keys costs two storage queries restricted to its keys (one selector with an
// or-group per key): the sparkline points and the change. The change of every key (to sort by
// change, or for the overview) is one QueryRange over all of redis_key_length whose step is
// the range / changeIntervals (5 minutes for 1 h, so storage answers from its 5-minute
// rollups up to the rollup watermark), cached for Options.TTL (ui.refresh) so that polling
// does not recompute it on every request.
//
// The change is last - first of the change query's points (changeQuery), the last one replaced
// by the newest sample of the latest table on a live range. For steps of 5 minutes or more the
// query's grid sits on rollup bucket edges and, on a live range, ends at the rollup watermark
// (the latest table gives the newest value), so storage reads rollups only, no raw tail: the
// change then covers the range plus up to a bucket.
package keytrend

import (
	"context"
	"fmt"
	"time"

	"github.com/redwatch/redwatch/tsdb"
)

// Metric is the series the change and the sparklines are read from.
const Metric = "redis_key_length"

// Store is what trends are read from; *tsdb.DB satisfies it.
type Store interface {
	QueryRange(ctx context.Context, q tsdb.RangeQuery) ([]tsdb.Series, error)
	LatestOne(name string, labels ...tsdb.Label) (tsdb.LatestValue, bool)
	LatestAll(fn func(lv *tsdb.LatestValue))
}

// Watermarker is implemented by stores that keep rollups (*tsdb.DB): the end of the newest
// rolled-up bucket, zero before the first. A Store without it is read as keeping none.
type Watermarker interface {
	RollupWatermark() time.Time
}

var (
	_ Store       = (*tsdb.DB)(nil)
	_ Watermarker = (*tsdb.DB)(nil) // checked: a Store without it silently reads raw samples
)

// Key identifies a watched key across its series (a key whose type changed has one series
// per type label): its instance, db and key labels as stored (tsdb.LabelValue of the name).
type Key struct{ Instance, DB, Key string }

// KeyOf is the key a series' labels belong to.
func KeyOf(labels []tsdb.Label) Key {
	var k Key
	for _, l := range labels {
		switch l.Name {
		case "instance":
			k.Instance = l.Value
		case "db":
			k.DB = l.Value
		case "key":
			k.Key = l.Value
		}
	}
	if k.DB == "" {
		k.DB = "0" // storage drops empty labels; samplers always write db
	}
	return k
}

// Watched is a key and its current type: its newest sample is read from the series of that
// type ("" reads as "none", a missing key's).
type Watched struct {
	Key
	Type string
}

// labels are the labels of w's current series.
func (w Watched) labels() []tsdb.Label {
	typ := w.Type
	if typ == "" {
		typ = "none"
	}
	return []tsdb.Label{{Name: "instance", Value: w.Instance}, {Name: "db", Value: w.DB}, {Name: "key", Value: w.Key.Key}, {Name: "type", Value: typ}}
}

// Range is the time span trends are read over.
type Range struct {
	Name       string // a preset's name ("1h"), or "custom"; Changes caches a preset under it
	Start, End time.Time
	Live       bool // the range ends now: the latest table gives the newest values
}

// cacheKey names r in the cache of Changes: a preset by its name (its end moves with every
// request), a custom range by its bounds.
func (r Range) cacheKey() string {
	if r.Name == "custom" {
		return fmt.Sprintf("custom:%d:%d:%t", r.Start.Unix(), r.End.Unix(), r.Live)
	}
	return r.Name
}

// Trend is the first and the last known length of a key within a range.
type Trend struct {
	First, Last tsdb.Point
	OK          bool // at least one value is known
}

// Change is the length's change over the range (0 without values).
func (t Trend) Change() float64 {
	if !t.OK {
		return 0
	}
	return t.Last.Value - t.First.Value
}

// add folds one series' time-ordered points into t.
func (t *Trend) add(pts []tsdb.Point) {
	if len(pts) == 0 {
		return
	}
	f, l := pts[0], pts[len(pts)-1]
	if !t.OK || f.Timestamp < t.First.Timestamp {
		t.First = f
	}
	if !t.OK || l.Timestamp > t.Last.Timestamp {
		t.Last = l
	}
	t.OK = true
}

// addLatest makes the newest sample the last value when it is newer and within r.
func (t *Trend) addLatest(ts int64, v float64, r Range) {
	if ts < r.Start.UnixMilli() || ts > r.End.UnixMilli() {
		return
	}
	p := tsdb.Point{Timestamp: ts, Value: v}
	switch {
	case !t.OK:
		t.First, t.Last, t.OK = p, p, true
	case ts > t.Last.Timestamp:
		t.Last = p
	}
}

// Row is what one row of a page shows about a key over a range.
type Row struct {
	Change Trend        // set when Trends is asked withChange
	Spark  []tsdb.Point // at most Options.SparkPoints, oldest first
}

// Options configure a Source.
type Options struct {
	// TTL is how long Changes reuses a computation for the same range (ui.refresh); at
	// least a second.
	TTL time.Duration
	// SparkPoints is the most points a sparkline holds (at least 3): a sparkline query has
	// SparkPoints-2 steps, whose points plus the newest sample stay within it.
	SparkPoints int
	// Now is the clock of Changes' cache; nil: time.Now.
	Now func() time.Time
}

// Source reads key trends from a Store. It is safe for concurrent use.
type Source struct {
	store  Store
	opts   Options
	cache  changeCache // the changes of every key over recently asked ranges
	marker Watermarker // nil: the store keeps no rollups
}

// New returns a Source reading from store.
func New(store Store, opts Options) *Source {
	if opts.SparkPoints < 3 {
		panic(fmt.Sprintf("BUG: keytrend.Options.SparkPoints is %d, want at least 3", opts.SparkPoints))
	}
	opts.TTL = max(opts.TTL, time.Second)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Source{store: store, opts: opts}
	s.marker, _ = store.(Watermarker)
	return s
}

// watermark is the store's rollup watermark, zero when it keeps none.
func (s *Source) watermark() time.Time {
	if s.marker == nil {
		return time.Time{}
	}
	return s.marker.RollupWatermark()
}

// Trends reads the sparkline points and, when withChange, the change over r of each of keys
// (one page of rows): one or two storage queries restricted to those keys. Every key of keys
// has a Row in the result.
func (s *Source) Trends(ctx context.Context, keys []Watched, r Range, withChange bool) (map[Key]*Row, error) {
	out := make(map[Key]*Row, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	for _, k := range keys {
		out[k.Key] = &Row{}
	}
	sel, err := keysSelector(keys)
	if err != nil {
		return nil, err
	}
	series, err := s.store.QueryRange(ctx, gridQuery(sel, r, s.opts.SparkPoints-2))
	if err != nil {
		return nil, fmt.Errorf("cannot read the keys' sparklines: %w", err)
	}
	for _, se := range series {
		if t := out[KeyOf(se.Labels)]; t != nil {
			t.Spark = mergePoints(t.Spark, se.Points)
		}
	}
	if withChange {
		series, err := s.store.QueryRange(ctx, changeQuery(sel, r, s.watermark()))
		if err != nil {
			return nil, fmt.Errorf("cannot read the keys' changes: %w", err)
		}
		for _, se := range series {
			if t := out[KeyOf(se.Labels)]; t != nil {
				t.Change.add(se.Points)
			}
		}
	}
	if !r.Live {
		return out, nil
	}
	// The grid's last step may end before the newest sample (rollup steps are aligned to
	// 5-minute buckets): end both on the newest sample.
	for _, k := range keys {
		t := out[k.Key]
		lv, ok := s.store.LatestOne(Metric, k.labels()...)
		if !ok {
			continue
		}
		if withChange {
			t.Change.addLatest(lv.Timestamp, lv.Value, r)
		}
		if n := len(t.Spark); lv.Timestamp >= r.Start.UnixMilli() && lv.Timestamp <= r.End.UnixMilli() &&
			(n == 0 || lv.Timestamp > t.Spark[n-1].Timestamp) {
			t.Spark = append(t.Spark, tsdb.Point{Timestamp: lv.Timestamp, Value: lv.Value})
		}
		if n := len(t.Spark); n > s.opts.SparkPoints {
			t.Spark = t.Spark[n-s.opts.SparkPoints:]
		}
	}
	return out, nil
}

// Changes returns the change over r of every key with samples, computed at most once per
// Options.TTL for the same range; concurrent calls for one range wait for one computation.
// The returned map is shared: callers must not modify it.
func (s *Source) Changes(ctx context.Context, r Range) (map[Key]Trend, error) {
	return s.cache.get(r.cacheKey(), s.opts.Now(), s.opts.TTL, func() (map[Key]Trend, error) {
		return s.computeChanges(ctx, r)
	})
}

// computeChanges reads the change over r of every key: one query over Metric, plus the latest
// table on a live range.
func (s *Source) computeChanges(ctx context.Context, r Range) (map[Key]Trend, error) {
	sel, err := tsdb.ParseSelector(Metric)
	if err != nil {
		return nil, fmt.Errorf("BUG: cannot parse %s: %w", Metric, err)
	}
	series, err := s.store.QueryRange(ctx, changeQuery(sel, r, s.watermark()))
	if err != nil {
		return nil, fmt.Errorf("cannot read the keys' changes: %w", err)
	}
	out := make(map[Key]Trend, len(series))
	for _, se := range series {
		k := KeyOf(se.Labels)
		t := out[k]
		t.add(se.Points)
		out[k] = t
	}
	if r.Live {
		s.store.LatestAll(func(lv *tsdb.LatestValue) {
			if lv.Name != Metric {
				return
			}
			k := KeyOf(lv.Labels)
			t := out[k]
			t.addLatest(lv.Timestamp, lv.Value, r)
			if t.OK {
				out[k] = t
			}
		})
	}
	return out, nil
}

// mergePoints merges two time-ordered point lists (two series of one key); at equal
// timestamps b wins.
func mergePoints(a, b []tsdb.Point) []tsdb.Point {
	if len(a) == 0 {
		return b
	}
	out := make([]tsdb.Point, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || i < len(a) && a[i].Timestamp < b[j].Timestamp:
			out = append(out, a[i])
			i++
		case i == len(a) || b[j].Timestamp < a[i].Timestamp:
			out = append(out, b[j])
			j++
		default:
			out = append(out, b[j])
			i++
			j++
		}
	}
	return out
}
