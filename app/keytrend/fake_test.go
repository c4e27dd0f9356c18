package keytrend

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redwatch/redwatch/tsdb"
)

// fakeStore answers every query with its series that match the selector, whatever the grid,
// and its latest values; it counts the queries.
type fakeStore struct {
	series  []tsdb.Series
	latest  []tsdb.LatestValue
	queries atomic.Int32
}

func (f *fakeStore) QueryRange(_ context.Context, q tsdb.RangeQuery) ([]tsdb.Series, error) {
	f.queries.Add(1)
	var out []tsdb.Series
	for _, s := range f.series {
		if q.Selector.Matches(s.Name, s.Labels) {
			out = append(out, s)
		}
	}
	return out, nil
}

func (f *fakeStore) LatestOne(name string, labels ...tsdb.Label) (tsdb.LatestValue, bool) {
	for _, lv := range f.latest {
		if lv.Name == name && sameLabels(lv.Labels, labels) {
			return lv, true
		}
	}
	return tsdb.LatestValue{}, false
}

func (f *fakeStore) LatestAll(fn func(lv *tsdb.LatestValue)) {
	for i := range f.latest {
		fn(&f.latest[i])
	}
}

func sameLabels(a, b []tsdb.Label) bool {
	if len(a) != len(b) {
		return false
	}
	for _, l := range a {
		if labelValueOf(b, l.Name) != l.Value {
			return false
		}
	}
	return true
}

func labelValueOf(labels []tsdb.Label, name string) string {
	for _, l := range labels {
		if l.Name == name {
			return l.Value
		}
	}
	return ""
}

func typed(typ string) []tsdb.Label {
	return []tsdb.Label{{Name: "instance", Value: "cache"}, {Name: "db", Value: "0"}, {Name: "key", Value: "k"}, {Name: "type", Value: typ}}
}

func points(ts ...int64) []tsdb.Point {
	out := make([]tsdb.Point, len(ts))
	for i, t := range ts {
		out[i] = tsdb.Point{Timestamp: t * 1000, Value: float64(t)}
	}
	return out
}

// A key whose type changed has one series per type: its sparkline merges them, its change
// runs from the oldest to the newest; the newest sample of its current series ends both on a
// live range, and the sparkline keeps the newest SparkPoints.
func TestTrendsMergeSeriesAndLatest(t *testing.T) {
	t.Parallel()
	f := &fakeStore{
		series: []tsdb.Series{
			{Name: Metric, Labels: typed("list"), Points: points(100, 110, 120)},
			{Name: Metric, Labels: typed("string"), Points: points(120, 130, 140)},
			{Name: Metric, Labels: []tsdb.Label{{Name: "instance", Value: "cache"}, {Name: "key", Value: "other"}}, Points: points(100)},
		},
		latest: []tsdb.LatestValue{{Name: Metric, Labels: typed("string"), Timestamp: 145_000, Value: 145}},
	}
	k := Watched{Key: Key{Instance: "cache", DB: "0", Key: "k"}, Type: "string"}
	s := New(f, Options{SparkPoints: 5})
	live := Range{Name: "1h", Start: time.Unix(90, 0), End: time.Unix(150, 0), Live: true}
	rows, err := s.Trends(context.Background(), []Watched{k}, live, true)
	if err != nil {
		t.Fatal(err)
	}
	r := rows[k.Key]
	var got []int64
	for _, p := range r.Spark {
		got = append(got, p.Timestamp/1000)
	}
	if want := []int64{110, 120, 130, 140, 145}; !slices.Equal(got, want) || r.Spark[4].Value != 145 {
		t.Errorf("sparkline %v, want %v", got, want)
	}
	if c := r.Change; !c.OK || c.First.Timestamp != 100_000 || c.Last.Timestamp != 145_000 || c.Change() != 45 {
		t.Errorf("change %+v", c)
	}
	// A fixed range ignores the latest table.
	fixed := live
	fixed.Name, fixed.Live = "custom", false
	rows, _ = s.Trends(context.Background(), []Watched{k}, fixed, true)
	if c := rows[k.Key].Change; c.Change() != 40 {
		t.Errorf("fixed range: change %v, want 40", c.Change())
	}
	// The all-keys change: the same, per key; a db-less series is db 0's.
	all, err := s.Changes(context.Background(), live)
	if err != nil || all[k.Key].Change() != 45 || !all[Key{Instance: "cache", DB: "0", Key: "other"}].OK || len(all) != 2 {
		t.Errorf("Changes: %v, %v", all, err)
	}
}

// Changes computes a range once per TTL: polling reuses it, another range or a later poll does
// not.
func TestChangesCached(t *testing.T) {
	t.Parallel()
	f := &fakeStore{}
	now := time.Unix(1700000000, 0)
	s := New(f, Options{TTL: 2 * time.Second, SparkPoints: 60, Now: func() time.Time { return now }})
	ctx := context.Background()
	hour := Range{Name: "1h", Start: now.Add(-time.Hour), End: now, Live: true}
	f6h := Range{Name: "6h", Start: now.Add(-6 * time.Hour), End: now, Live: true}
	for range 3 {
		if _, err := s.Changes(ctx, hour); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.queries.Load(); n != 1 {
		t.Errorf("%d queries for one range, want 1", n)
	}
	s.Changes(ctx, f6h)
	if n := f.queries.Load(); n != 2 {
		t.Errorf("%d queries for two ranges, want 2", n)
	}
	now = now.Add(2 * time.Second)
	s.Changes(ctx, hour)
	if n := f.queries.Load(); n != 3 {
		t.Errorf("%d queries after the TTL, want 3", n)
	}
}
