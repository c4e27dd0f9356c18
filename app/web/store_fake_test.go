package web

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redwatch/redwatch/app/health"
	"github.com/redwatch/redwatch/app/ingest"
	"github.com/redwatch/redwatch/tsdb"
)

// The fake stores of the web tests, for tests in which storage is not what is tested (a test of
// storage runs on newEnv's real tsdb):
//   - emptyStore: nothing stored, every write dropped, a disk with room to spare;
//   - snapshotOnlyStore: panics when called, for servers that must read only snapshots;
//   - latestStore: a latest-value table the test fills, no stored series;
//   - statusStore: a latestStore with fixed stored series for Raw (the /status request stats);
//   - trendStore: fixed stored series for every read, the latest table derived from them (keys).
//
// A fake made for one test's timing (heldLatest, readLog, endlessExport, stuckExport) stays
// beside that test.

// emptyStore is a Store with nothing stored, a Writer (ingest's, the samplers') that drops
// every write, and a health.Storage with room to spare.
type emptyStore struct{}

var (
	_ Store          = emptyStore{}
	_ ingest.Writer  = emptyStore{}
	_ health.Storage = emptyStore{}
)

func (emptyStore) Latest(*tsdb.Selector) []tsdb.LatestValue { return nil }
func (emptyStore) LatestByName(string) []tsdb.LatestValue   { return nil }
func (emptyStore) LatestOne(string, ...tsdb.Label) (tsdb.LatestValue, bool) {
	return tsdb.LatestValue{}, false
}
func (emptyStore) LatestAll(func(*tsdb.LatestValue)) {}
func (emptyStore) QueryRange(context.Context, tsdb.RangeQuery) ([]tsdb.Series, error) {
	return nil, nil
}
func (emptyStore) SeriesMatching(context.Context, *tsdb.Selector, time.Time, time.Time) ([]tsdb.Series, error) {
	return nil, nil
}
func (emptyStore) Raw(context.Context, *tsdb.Selector, time.Time, time.Time) ([]tsdb.Series, error) {
	return nil, nil
}

// Export exports no series: begin gets no label names.
func (emptyStore) Export(_ context.Context, _ *tsdb.Selector, _, _ time.Time, begin func([]string) error, _ func(*tsdb.Series) error) error {
	return begin(nil)
}
func (emptyStore) Write([]tsdb.Sample) error                   { return nil }
func (emptyStore) CheckTimestamp(int64) error                  { return nil }
func (emptyStore) Ping(context.Context) (time.Duration, error) { return time.Millisecond, nil }
func (emptyStore) DiskFree() (uint64, error)                   { return 1 << 40, nil }
func (emptyStore) DiskState() tsdb.DiskState                   { return tsdb.DiskState{FreeBytes: 1 << 40} }
func (emptyStore) Stats() (tsdb.Stats, error)                  { return tsdb.Stats{}, nil }

// snapshotOnlyStore is the Store of a server whose tests read only the samplers' snapshots
// (the JSON API): any call to it panics.
type snapshotOnlyStore struct{ Store }

// seriesWithin returns the series of all that sel matches, with their points within
// [start, end] (whatever a query's step): how the fakes answer reads of stored series.
func seriesWithin(all []tsdb.Series, sel *tsdb.Selector, start, end time.Time) []tsdb.Series {
	var out []tsdb.Series
	for _, se := range all {
		if !sel.Matches(se.Name, se.Labels) {
			continue
		}
		c := tsdb.Series{Name: se.Name, Labels: se.Labels}
		for _, p := range se.Points {
			if p.Timestamp >= start.UnixMilli() && p.Timestamp <= end.UnixMilli() {
				c.Points = append(c.Points, p)
			}
		}
		out = append(out, c)
	}
	return out
}

// latestStore is a Store holding only a latest-value table, filled by the test with write:
// for page tests in which storage is not what is tested. It keeps every series written (a real
// table drops stale ones) and holds no stored series: the series reads answer none.
type latestStore struct {
	mu     sync.Mutex
	series map[string]*tsdb.LatestValue // by name and series key
}

var _ Store = (*latestStore)(nil)

func newLatestStore() *latestStore {
	return &latestStore{series: map[string]*tsdb.LatestValue{}}
}

// Write is write, for the alert engine (an alert.Writer).
func (s *latestStore) Write(samples []tsdb.Sample) error {
	s.write(samples)
	return nil
}

// write records samples as tsdb.DB.Write does in its latest table: a newer sample becomes the
// latest and the one it replaces the previous.
func (s *latestStore) write(samples []tsdb.Sample) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sm := range samples {
		labels := seriesLabels(sm.Labels)
		k := sm.Name + "\xff" + tsdb.SeriesKey(labels)
		lv := s.series[k]
		switch {
		case lv == nil:
			s.series[k] = &tsdb.LatestValue{Name: sm.Name, Labels: labels, Timestamp: sm.Timestamp, Value: sm.Value}
		case sm.Timestamp > lv.Timestamp:
			lv.PrevTimestamp, lv.PrevValue = lv.Timestamp, lv.Value
			lv.Timestamp, lv.Value = sm.Timestamp, sm.Value
		}
	}
}

// lbls builds labels from name, value pairs.
func lbls(kv ...string) []tsdb.Label {
	var ls []tsdb.Label
	for i := 0; i+1 < len(kv); i += 2 {
		ls = append(ls, tsdb.Label{Name: kv[i], Value: kv[i+1]})
	}
	return ls
}

// seriesLabels returns labels as the latest table keeps them: values encoded with
// tsdb.LabelValue, empty ones dropped, sorted by name.
func seriesLabels(labels []tsdb.Label) []tsdb.Label {
	var out []tsdb.Label
	for _, l := range labels {
		if l.Value != "" {
			out = append(out, tsdb.Label{Name: l.Name, Value: tsdb.LabelValue(l.Value)})
		}
	}
	slices.SortFunc(out, func(a, b tsdb.Label) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// latest returns the values for which keep is true, sorted by name then labels.
func (s *latestStore) latest(keep func(lv *tsdb.LatestValue) bool) []tsdb.LatestValue {
	var out []tsdb.LatestValue
	s.LatestAll(func(lv *tsdb.LatestValue) {
		if keep(lv) {
			out = append(out, *lv)
		}
	})
	slices.SortFunc(out, func(a, b tsdb.LatestValue) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Key(), b.Key()))
	})
	return out
}

// Latest returns the values of the series sel matches, sorted by name then labels.
func (s *latestStore) Latest(sel *tsdb.Selector) []tsdb.LatestValue {
	return s.latest(func(lv *tsdb.LatestValue) bool { return sel.Matches(lv.Name, lv.Labels) })
}

// LatestByName returns the values of the series called name, sorted by labels.
func (s *latestStore) LatestByName(name string) []tsdb.LatestValue {
	return s.latest(func(lv *tsdb.LatestValue) bool { return lv.Name == name })
}

// LatestOne returns the value of the series name{labels}; label values may be given raw.
func (s *latestStore) LatestOne(name string, labels ...tsdb.Label) (tsdb.LatestValue, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if lv := s.series[name+"\xff"+tsdb.SeriesKey(seriesLabels(labels))]; lv != nil {
		return *lv, true
	}
	return tsdb.LatestValue{}, false
}

// LatestAll calls fn for every series, in no particular order.
func (s *latestStore) LatestAll(fn func(lv *tsdb.LatestValue)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, lv := range s.series {
		fn(lv)
	}
}

func (s *latestStore) QueryRange(context.Context, tsdb.RangeQuery) ([]tsdb.Series, error) {
	return nil, nil
}

func (s *latestStore) SeriesMatching(context.Context, *tsdb.Selector, time.Time, time.Time) ([]tsdb.Series, error) {
	return nil, nil
}

func (s *latestStore) Raw(context.Context, *tsdb.Selector, time.Time, time.Time) ([]tsdb.Series, error) {
	return nil, nil
}

// Export exports no series: begin gets no label names.
func (s *latestStore) Export(_ context.Context, _ *tsdb.Selector, _, _ time.Time, begin func(labelNames []string) error, _ func(s *tsdb.Series) error) error {
	return begin(nil)
}

// statusStore is a latestStore whose Raw answers the points of its series within [start, end]
// that the selector matches: the stored series /status reads its request stats from. Its
// series are fixed before the server runs.
type statusStore struct {
	*latestStore
	series []tsdb.Series
}

// newStatusStore returns a statusStore holding series, with latest in its latest table.
func newStatusStore(series []tsdb.Series, latest ...tsdb.Sample) *statusStore {
	st := &statusStore{latestStore: newLatestStore(), series: series}
	st.write(latest)
	return st
}

func (s *statusStore) Raw(_ context.Context, sel *tsdb.Selector, start, end time.Time) ([]tsdb.Series, error) {
	return seriesWithin(s.series, sel, start, end), nil
}

// trendStore is a Store of fixed stored series, for the keys tests: every read of stored series
// answers the series that match the selector, with their points within the read's bounds
// (seriesWithin), and the latest table holds each series' newest point. Fill it (trendStore.trend)
// before the server serves.
type trendStore struct {
	series  []tsdb.Series
	allKeys atomic.Int32 // the all-keys change queries (a bare redis_key_length selector)
}

func (s *trendStore) QueryRange(_ context.Context, q tsdb.RangeQuery) ([]tsdb.Series, error) {
	if q.Selector.String() == "redis_key_length" {
		s.allKeys.Add(1)
	}
	return seriesWithin(s.series, q.Selector, q.Start, q.End), nil
}

func (s *trendStore) SeriesMatching(_ context.Context, sel *tsdb.Selector, start, end time.Time) ([]tsdb.Series, error) {
	return seriesWithin(s.series, sel, start, end), nil
}

func (s *trendStore) Raw(_ context.Context, sel *tsdb.Selector, start, end time.Time) ([]tsdb.Series, error) {
	return seriesWithin(s.series, sel, start, end), nil
}

func (s *trendStore) LatestOne(name string, labels ...tsdb.Label) (tsdb.LatestValue, bool) {
	for _, se := range s.series {
		if se.Name == name && sameLabels(se.Labels, labels) && len(se.Points) > 0 {
			p := se.Points[len(se.Points)-1]
			return tsdb.LatestValue{Name: se.Name, Labels: se.Labels, Timestamp: p.Timestamp, Value: p.Value}, true
		}
	}
	return tsdb.LatestValue{}, false
}

// sameLabels reports whether a and b hold the same labels, in any order.
func sameLabels(a, b []tsdb.Label) bool {
	return len(a) == len(b) && !slices.ContainsFunc(a, func(l tsdb.Label) bool { return !slices.Contains(b, l) })
}

func (s *trendStore) LatestAll(fn func(lv *tsdb.LatestValue)) {
	for _, se := range s.series {
		if n := len(se.Points); n > 0 {
			fn(&tsdb.LatestValue{Name: se.Name, Labels: se.Labels, Timestamp: se.Points[n-1].Timestamp, Value: se.Points[n-1].Value})
		}
	}
}

// The latest values of other metrics and exports are not read by the keys pages.
func (s *trendStore) Latest(*tsdb.Selector) []tsdb.LatestValue { return nil }
func (s *trendStore) LatestByName(string) []tsdb.LatestValue   { return nil }
func (s *trendStore) Export(context.Context, *tsdb.Selector, time.Time, time.Time, func([]string) error, func(*tsdb.Series) error) error {
	return nil
}
