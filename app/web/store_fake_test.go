package web

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redwatch/redwatch/tsdb"
)

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

// newLatestEnv is newEnv running on an empty latestStore instead of a real tsdb.
func newLatestEnv(t *testing.T) (*env, *latestStore) {
	t.Helper()
	st := newLatestStore()
	return newEnvWith(t, envOptions{store: st}), st
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
