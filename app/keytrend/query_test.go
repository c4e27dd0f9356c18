package keytrend

import (
	"testing"
	"time"

	"github.com/redwatch/redwatch/tsdb"
)

func TestGridQuery(t *testing.T) {
	t.Parallel()
	end := time.Unix(1700000000, 500e6)
	const sparkIntervals = 58 // a sparkline of 60 points
	for _, c := range []struct {
		span      time.Duration
		intervals int
		step      time.Duration
	}{
		{time.Hour, changeIntervals, 5 * time.Minute},
		{time.Hour, sparkIntervals, 63 * time.Second},
		{15 * time.Minute, changeIntervals, 75 * time.Second},
		{30 * 24 * time.Hour, sparkIntervals, 44690 * time.Second},
	} {
		q := gridQuery(nil, Range{Start: end.Add(-c.span), End: end}, c.intervals)
		if q.Step != c.step || !q.End.Equal(end) || q.Start.After(end.Add(-c.span)) || q.End.Sub(q.Start) != time.Duration(c.intervals)*c.step || q.Agg != tsdb.AggLast {
			t.Errorf("%s / %d: step %s, %s..%s", c.span, c.intervals, q.Step, q.Start, q.End)
		}
	}
}

func TestChangeQuery(t *testing.T) {
	t.Parallel()
	end := time.Date(2026, 3, 4, 5, 7, 31, 0, time.UTC)
	edge := time.Date(2026, 3, 4, 5, 5, 0, 0, time.UTC) // the last bucket edge
	live := Range{Name: "1h", Start: end.Add(-time.Hour), End: end, Live: true}
	f := func(name string, r Range, w time.Time, start, stop time.Time, step time.Duration) {
		t.Helper()
		q := changeQuery(nil, r, w)
		if !q.Start.Equal(start) || !q.End.Equal(stop) || q.Step != step {
			t.Errorf("%s: %s..%s step %s, want %s..%s step %s", name, q.Start, q.End, q.Step, start, stop, step)
		}
		if q.Start.After(r.Start) {
			t.Errorf("%s: starts after the range", name)
		}
	}
	// Rollups up to the watermark: the grid ends there, on a bucket edge, whole buckets a step.
	f("live 1h", live, edge, edge.Add(-time.Hour), edge, 5*time.Minute)
	// No rollups, or too far behind: the plain grid, ending at the range's end.
	f("no rollups", live, time.Time{}, end.Add(-time.Hour), end, 5*time.Minute)
	f("watermark behind", live, edge.Add(-10*time.Minute), end.Add(-time.Hour), end, 5*time.Minute)
	// A short range reads raw samples up to its end.
	short := Range{Name: "15m", Start: end.Add(-15 * time.Minute), End: end, Live: true}
	f("15m", short, edge, end.Add(-15*time.Minute), end, 75*time.Second)
	// A fixed range in the past ends on the bucket edge before its end.
	fixed := Range{Name: "custom", Start: end.Add(-24 * time.Hour), End: end}
	f("fixed 24h", fixed, edge.Add(24*time.Hour), edge.Add(-24*time.Hour), edge, 2*time.Hour)
	odd := Range{Name: "custom", Start: end.Add(-100 * time.Minute), End: end}
	f("fixed 100m", odd, edge, edge.Add(-12*10*time.Minute), edge, 10*time.Minute)
}

// The cache key of a preset is its name; of a custom range, its bounds.
func TestRangeCacheKey(t *testing.T) {
	t.Parallel()
	end := time.Unix(1700000000, 0)
	if got := (Range{Name: "1h", Start: end.Add(-time.Hour), End: end, Live: true}).cacheKey(); got != "1h" {
		t.Errorf("preset: %q", got)
	}
	if got := (Range{Name: "custom", Start: end.Add(-time.Hour), End: end}).cacheKey(); got != "custom:1699996400:1700000000:false" {
		t.Errorf("custom: %q", got)
	}
}
