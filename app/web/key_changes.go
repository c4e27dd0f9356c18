package web

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redwatch/redwatch/app/sampler/redis"
	"github.com/redwatch/redwatch/tsdb"
	"github.com/redwatch/redwatch/views/components"
	"github.com/redwatch/redwatch/views/pages"
	"github.com/redwatch/redwatch/views/partials"
)

// How keys' lengths moved over a page's range: the "change" column and the sparkline of the
// keys page, and the overview's top-moving keys.
//
// A page of rows costs two storage queries restricted to its keys (one selector with an
// or-group per key): the sparkline points and the change. Sorting by change, and the
// overview, need the change of every key: one QueryRange over all of redis_key_length whose
// step is the range / changeIntervals (5 minutes for 1 h, so storage answers from its 5-minute
// rollups up to the rollup watermark), cached for ui.refresh (changeCache) so that polling
// does not recompute it on every request.
//
// The change is last - first of the change query's points (changeQuery), the last one replaced
// by the newest sample of the latest table on a live range. For steps of 5 minutes or more the
// query's grid sits on rollup bucket edges and, on a live range, ends at the rollup watermark
// (the latest table gives the newest value), so storage reads rollups only, no raw tail: the
// change then covers the range plus up to a bucket.

// keyLengthMetric is the series the change and the sparklines are read from.
const keyLengthMetric = "redis_key_length"

const (
	// changeIntervals is how many steps the change query splits a range into.
	changeIntervals = 12
	// sparkIntervals is how many steps a sparkline query splits a range into: its
	// sparkIntervals+1 points plus the newest sample stay within SparklineMaxPoints.
	sparkIntervals = components.SparklineMaxPoints - 2
	// changeCacheEntries bounds the ranges whose changes are cached at once.
	changeCacheEntries = 8
)

// keyIdent identifies a watched key across its series: a key whose type changed has one
// series per type label.
type keyIdent struct{ instance, db, key string }

func snapshotIdent(k *redis.KeySnapshot) keyIdent {
	return keyIdent{instance: k.Instance, db: strconv.Itoa(k.DB), key: tsdb.LabelValue(k.Key)} // as stored
}

func labelsIdent(labels []tsdb.Label) keyIdent {
	var id keyIdent
	for _, l := range labels {
		switch l.Name {
		case "instance":
			id.instance = l.Value
		case "db":
			id.db = l.Value
		case "key":
			id.key = l.Value
		}
	}
	if id.db == "" {
		id.db = "0" // storage drops empty labels; samplers always write db
	}
	return id
}

// keyTrend is the first and the last known length of a key within a range.
type keyTrend struct {
	First, Last tsdb.Point
	OK          bool // at least one value is known
}

// Change is the length's change over the range (0 without values).
func (t keyTrend) Change() float64 {
	if !t.OK {
		return 0
	}
	return t.Last.Value - t.First.Value
}

// add folds one series' time-ordered points into t.
func (t *keyTrend) add(pts []tsdb.Point) {
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
func (t *keyTrend) addLatest(ts int64, v float64, r timeRange) {
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

// gridQuery asks for intervals+1 last-values of sel on a grid that ends exactly at r.End and
// starts at or before r.Start (the step is rounded up to whole seconds).
func gridQuery(sel *tsdb.Selector, r timeRange, intervals int) tsdb.RangeQuery {
	n := time.Duration(intervals)
	step := (r.End.Sub(r.Start) + n - 1) / n
	step = (step + time.Second - 1) / time.Second * time.Second
	return tsdb.RangeQuery{Selector: sel, Start: r.End.Add(-n * step), End: r.End, Step: step, Agg: tsdb.AggLast}
}

// rollupWatermarker is implemented by stores that keep rollups (*tsdb.DB): the end of the
// newest rolled-up bucket, zero before the first.
type rollupWatermarker interface {
	RollupWatermark() time.Time
}

// watermark is the store's rollup watermark, zero when it keeps none.
func (s *keysHandler) watermark() time.Time {
	if w, ok := s.opts.Store.(rollupWatermarker); ok {
		return w.RollupWatermark()
	}
	return time.Time{}
}

// changeQuery is the query the change over r is read from: gridQuery with changeIntervals
// steps, except that a step of RollupStep or more is rounded up to whole buckets and the grid
// ends on a bucket edge: the watermark on a live range (when it is less than a step behind),
// else the last edge before r.End. Storage then answers from rollups alone.
func changeQuery(sel *tsdb.Selector, r timeRange, watermark time.Time) tsdb.RangeQuery {
	q := gridQuery(sel, r, changeIntervals)
	if q.Step < tsdb.RollupStep {
		return q
	}
	bucket := tsdb.RollupStep
	step := (q.Step + bucket - 1) / bucket * bucket
	end := r.End.Truncate(bucket)
	if r.Live {
		if watermark.IsZero() || watermark.After(r.End) || r.End.Sub(watermark) >= step {
			return q // no usable rollups: storage reads raw samples after the watermark anyway
		}
		end = watermark
	}
	n := time.Duration(changeIntervals)
	return tsdb.RangeQuery{Selector: sel, Start: end.Add(-n * step), End: end, Step: step, Agg: tsdb.AggLast}
}

// keysSelector matches metric for exactly keys: one or-group per key. Label values are Go
// quoted, which the selector parser unquotes byte for byte (binary keys included).
func keysSelector(metric string, keys []*redis.KeySnapshot) (*tsdb.Selector, error) {
	var b strings.Builder
	b.WriteString(metric)
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteString(" or ")
		}
		b.WriteString("instance=")
		b.WriteString(strconv.Quote(k.Instance))
		b.WriteString(`,db="`)
		b.WriteString(strconv.Itoa(k.DB))
		b.WriteString(`",key=`)
		b.WriteString(strconv.Quote(k.Key))
	}
	b.WriteByte('}')
	sel, err := tsdb.ParseSelector(b.String())
	if err != nil {
		return nil, fmt.Errorf("cannot build the selector of %d keys: %w", len(keys), err)
	}
	return sel, nil
}

// rowTrend is what one row of the keys page shows about the range.
type rowTrend struct {
	change keyTrend
	spark  []tsdb.Point // at most components.SparklineMaxPoints, oldest first
}

// pageTrends reads the sparkline points and, when withChange, the change over r of each of
// keys (one page of rows): one or two storage queries restricted to those keys.
func (s *keysHandler) pageTrends(ctx context.Context, keys []*redis.KeySnapshot, r timeRange, withChange bool) (map[keyIdent]*rowTrend, error) {
	out := make(map[keyIdent]*rowTrend, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	for _, k := range keys {
		out[snapshotIdent(k)] = &rowTrend{}
	}
	sel, err := keysSelector(keyLengthMetric, keys)
	if err != nil {
		return nil, err
	}
	series, err := s.opts.Store.QueryRange(ctx, gridQuery(sel, r, sparkIntervals))
	if err != nil {
		return nil, fmt.Errorf("cannot read the keys' sparklines: %w", err)
	}
	for _, se := range series {
		if t := out[labelsIdent(se.Labels)]; t != nil {
			t.spark = mergePoints(t.spark, se.Points)
		}
	}
	if withChange {
		series, err := s.opts.Store.QueryRange(ctx, changeQuery(sel, r, s.watermark()))
		if err != nil {
			return nil, fmt.Errorf("cannot read the keys' changes: %w", err)
		}
		for _, se := range series {
			if t := out[labelsIdent(se.Labels)]; t != nil {
				t.change.add(se.Points)
			}
		}
	}
	if !r.Live {
		return out, nil
	}
	// The grid's last step may end before the newest sample (rollup steps are aligned to
	// 5-minute buckets): end both on the newest sample.
	for _, k := range keys {
		t := out[snapshotIdent(k)]
		lv, ok := s.opts.Store.LatestOne(keyLengthMetric, keySeriesLabels(k)...)
		if !ok {
			continue
		}
		if withChange {
			t.change.addLatest(lv.Timestamp, lv.Value, r)
		}
		if n := len(t.spark); lv.Timestamp >= r.Start.UnixMilli() && lv.Timestamp <= r.End.UnixMilli() &&
			(n == 0 || lv.Timestamp > t.spark[n-1].Timestamp) {
			t.spark = append(t.spark, tsdb.Point{Timestamp: lv.Timestamp, Value: lv.Value})
		}
		if n := len(t.spark); n > components.SparklineMaxPoints {
			t.spark = t.spark[n-components.SparklineMaxPoints:]
		}
	}
	return out, nil
}

// keySeriesLabels are the labels of k's current series.
func keySeriesLabels(k *redis.KeySnapshot) []tsdb.Label {
	typ := k.Type
	if typ == "" {
		typ = "none"
	}
	return []tsdb.Label{{Name: "instance", Value: k.Instance}, {Name: "db", Value: strconv.Itoa(k.DB)}, {Name: "key", Value: k.Key}, {Name: "type", Value: typ}}
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

// allKeyChanges returns the change over r of every key with samples, computed at most once per
// ui.refresh for the same range.
func (s *keysHandler) allKeyChanges(ctx context.Context, r timeRange) (map[keyIdent]keyTrend, error) {
	key := r.Key
	if r.Key == "custom" {
		key = fmt.Sprintf("custom:%d:%d:%t", r.Start.Unix(), r.End.Unix(), r.Live)
	}
	ttl := max(s.opts.Refresh, time.Second)
	return s.keyChangeCache().get(key, time.Now(), ttl, func() (map[keyIdent]keyTrend, error) {
		return s.computeKeyChanges(ctx, r)
	})
}

// computeKeyChanges reads the change over r of every key: one query over redis_key_length,
// plus the latest table on a live range.
func (s *keysHandler) computeKeyChanges(ctx context.Context, r timeRange) (map[keyIdent]keyTrend, error) {
	sel, err := tsdb.ParseSelector(keyLengthMetric)
	if err != nil {
		return nil, fmt.Errorf("BUG: cannot parse %s: %w", keyLengthMetric, err)
	}
	series, err := s.opts.Store.QueryRange(ctx, changeQuery(sel, r, s.watermark()))
	if err != nil {
		return nil, fmt.Errorf("cannot read the keys' changes: %w", err)
	}
	out := make(map[keyIdent]keyTrend, len(series))
	for _, se := range series {
		id := labelsIdent(se.Labels)
		t := out[id]
		t.add(se.Points)
		out[id] = t
	}
	if r.Live {
		s.opts.Store.LatestAll(func(lv *tsdb.LatestValue) {
			if lv.Name != keyLengthMetric {
				return
			}
			id := labelsIdent(lv.Labels)
			t := out[id]
			t.addLatest(lv.Timestamp, lv.Value, r)
			if t.OK {
				out[id] = t
			}
		})
	}
	return out, nil
}

// changeCache holds the changes of every key over recently asked ranges. Concurrent requests
// for the same range wait for one computation. The zero value is ready to use; it is safe for
// concurrent use.
type changeCache struct {
	mu      sync.Mutex
	entries map[string]*changeEntry
}

type changeEntry struct {
	done   chan struct{} // closed once trends and err are set
	at     time.Time     // when the computation started
	trends map[keyIdent]keyTrend
	err    error
}

// get returns the changes for key computed less than ttl before now, or computes them. The
// returned map is shared: callers must not modify it.
func (c *changeCache) get(key string, now time.Time, ttl time.Duration, compute func() (map[keyIdent]keyTrend, error)) (map[keyIdent]keyTrend, error) {
	c.mu.Lock()
	e := c.entries[key]
	if e == nil || now.Sub(e.at) >= ttl && isDone(e.done) {
		e = &changeEntry{done: make(chan struct{}), at: now}
		if c.entries == nil {
			c.entries = map[string]*changeEntry{}
		}
		c.entries[key] = e
		c.evict(now, ttl)
		c.mu.Unlock()
		e.trends, e.err = compute()
		close(e.done)
		if e.err != nil { // do not keep a failure (a cancelled request, say) for the next ones
			c.mu.Lock()
			if c.entries[key] == e {
				delete(c.entries, key)
			}
			c.mu.Unlock()
		}
		return e.trends, e.err
	}
	c.mu.Unlock()
	<-e.done
	return e.trends, e.err
}

// evict drops expired entries, then the oldest while there are too many. Callers hold mu.
func (c *changeCache) evict(now time.Time, ttl time.Duration) {
	for k, e := range c.entries {
		if now.Sub(e.at) >= ttl && isDone(e.done) {
			delete(c.entries, k)
		}
	}
	for len(c.entries) > changeCacheEntries {
		keys := make([]string, 0, len(c.entries))
		for k := range c.entries {
			keys = append(keys, k)
		}
		oldest := slices.MinFunc(keys, func(a, b string) int { return c.entries[a].at.Compare(c.entries[b].at) })
		delete(c.entries, oldest)
	}
}

func isDone(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// keyChangeCache returns s's cache of key changes.
func (s *keysHandler) keyChangeCache() *changeCache { return &s.changes }

// Top-moving keys of the overview.
const (
	topKeysCount = 10
	topKeysRange = "1h"
)

// topKeys lists the watched keys whose length changed most (in absolute value) over the last
// hour, biggest first, with their sparklines. A storage error is logged and shows no keys.
func (s *keysHandler) topKeys(ctx context.Context, now time.Time) partials.TopKeysProps {
	keys := s.opts.Redis.Keys()
	p := partials.TopKeysProps{
		Watched:   len(keys),
		RangeKey:  topKeysRange,
		PollURL:   "/?fragment=" + pages.FragmentTopKeys,
		RefreshMs: int(s.opts.Refresh.Milliseconds()),
	}
	if len(keys) == 0 {
		return p
	}
	r, err := pageRange(url.Values{"range": {topKeysRange}}, now)
	if err != nil {
		panic("BUG: " + err.Error())
	}
	changes, err := s.allKeyChanges(ctx, r)
	if err != nil {
		s.opts.Logger.Warn("cannot compute the top-moving keys", "err", err)
		return p
	}
	type moved struct {
		k      *redis.KeySnapshot
		change float64
	}
	var top []moved
	for i := range keys {
		if t := changes[snapshotIdent(&keys[i])]; t.OK && t.Change() != 0 {
			top = append(top, moved{&keys[i], t.Change()})
		}
	}
	slices.SortFunc(top, func(a, b moved) int {
		return cmp.Or(cmp.Compare(math.Abs(b.change), math.Abs(a.change)), compareKeyNames(a.k, b.k))
	})
	top = top[:min(len(top), topKeysCount)]
	rows := make([]*redis.KeySnapshot, len(top))
	for i, m := range top {
		rows[i] = m.k
	}
	trends, err := s.pageTrends(ctx, rows, r, false)
	if err != nil {
		s.opts.Logger.Warn("cannot read the top-moving keys' sparklines", "err", err)
		trends = nil
	}
	for _, m := range top {
		k := m.k
		row := partials.TopKeyRow{
			ID: k.ID, Instance: k.Instance, DB: k.DB, Key: k.Key, Type: k.Type,
			Length: k.Length, HasLength: k.HasLength, Exists: k.Exists, Change: m.change,
		}
		var spark []tsdb.Point
		if t := trends[snapshotIdent(k)]; t != nil {
			spark = t.spark
		}
		row.Spark = keySparkline(k.Type, spark, r)
		p.Rows = append(p.Rows, row)
	}
	return p
}

// reset empties the cache (benchmarks measure cold computations with it).
func (c *changeCache) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.entries)
}
