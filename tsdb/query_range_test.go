package tsdb

import (
	"context"
	"log/slog"
	"math"
	"os"
	"testing"
	"time"
)

// openRangeTest opens a store whose first rollup reaches back catchUp.
func openRangeTest(t testing.TB, dir string, catchUp time.Duration) *DB {
	t.Helper()
	db, err := Open(Options{Path: dir, RollupCatchUp: catchUp, Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		t.Fatalf("Open: %s", err)
	}
	return db
}

// chartQuery is a query as the dashboard asks it: start on a multiple of the step, end now.
func chartQuery(t testing.TB, sel string, span, step time.Duration, now time.Time, agg Agg) RangeQuery {
	t.Helper()
	start := now.Add(-span).Truncate(step)
	return RangeQuery{Selector: mustSel(t, sel), Start: start, End: now, Step: step, Agg: agg}
}

// sameAsRaw checks that QueryRange answers q as an all-raw evaluation of the same grid does,
// point for point, and returns the answer's points. For rate, the values of steps starting
// before seriesStart+Lookback are not compared: a rollup bucket does not say when in it a
// series began, so rollups spread a young series' first increase over the whole step.
func sameAsRaw(t testing.TB, db *DB, q RangeQuery, seriesStart time.Time) []Point {
	t.Helper()
	got, err := db.QueryRange(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	// The rollup path rounds the step up to whole buckets and the start up to a bucket edge.
	rq := q
	if q.Step >= RollupStep {
		rq.Step = (q.Step + RollupStep - 1) / RollupStep * RollupStep
		if s := q.Start.Truncate(RollupStep); s.Before(q.Start) {
			rq.Start = s.Add(RollupStep)
		}
	}
	raw, err := db.queryRaw(context.Background(), rq, q.Agg)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(raw) {
		t.Fatalf("%s %s step %s: %d series, all-raw %d", q.Selector, q.Agg, q.Step, len(got), len(raw))
	}
	if len(got) == 0 {
		return nil
	}
	a, b := got[0].Points, raw[0].Points
	if len(a) != len(b) {
		t.Fatalf("%s %s step %s: %d points, all-raw %d\n%v\n%v", q.Selector, q.Agg, q.Step, len(a), len(b), tail(a), tail(b))
	}
	young := seriesStart.Add(Lookback).UnixMilli()
	for i := range a {
		if q.Agg == AggRate && a[i].Timestamp-rq.Step.Milliseconds() < young {
			if a[i].Timestamp != b[i].Timestamp {
				t.Fatalf("%s %s step %s point %d of %d: %+v, all-raw %+v", q.Selector, q.Agg, q.Step, i, len(a), a[i], b[i])
			}
			continue
		}
		if a[i].Timestamp != b[i].Timestamp || math.Abs(a[i].Value-b[i].Value) > 1e-9*math.Max(1, math.Abs(b[i].Value)) {
			t.Fatalf("%s %s step %s point %d of %d: %+v, all-raw %+v", q.Selector, q.Agg, q.Step, i, len(a), a[i], b[i])
		}
	}
	return a
}

func tail(ps []Point) []Point { return ps[max(0, len(ps)-3):] }

// TestYoungStoreShowsNewestStep: a store 10 minutes old answers a 30-day and a 7-day chart,
// whatever the step, with a point at the end of the range holding the newest sample.
func TestYoungStoreShowsNewestStep(t *testing.T) {
	for _, now := range rangeTestNows() {
		t.Run(now.Format("15:04:05"), func(t *testing.T) { youngStoreShowsNewestStep(t, now) })
	}
}

// rangeTestNows are the moments the range tests run at: just after a 10-minute edge, where a
// series' first sample opens a bucket (a fresh-clone CI run met it by chance at 18:00:08),
// and in the middle of a bucket.
func rangeTestNows() []time.Time {
	edge := time.Now().Add(-10 * time.Minute).Truncate(10 * time.Minute)
	return []time.Time{edge.Add(8 * time.Second), edge.Add(7*time.Minute + 23*time.Second + 417*time.Millisecond)}
}

func youngStoreShowsNewestStep(t *testing.T, now time.Time) {
	db := openRangeTest(t, t.TempDir(), 0)
	defer db.Close()
	dataEnd := now.Truncate(10 * time.Second)
	writeHistory(t, db, dataEnd, 10*time.Minute)
	if err := db.RollupUntil(context.Background(), now); err != nil {
		t.Fatal(err)
	}
	db.Flush()
	if db.RollupWatermark().IsZero() {
		t.Fatal("no rollup watermark after RollupUntil")
	}
	newest := 50 + 40*math.Sin(float64(60)/37) // writeHistory's value 60 steps (10 min) in
	for _, c := range []struct {
		span time.Duration
		step time.Duration
	}{
		{30 * 24 * time.Hour, 4320 * time.Second}, // 30 d on 600 px
		{30 * 24 * time.Hour, 4500 * time.Second}, // what the chart asks (whole buckets)
		{30 * 24 * time.Hour, 24 * time.Hour},
		{7 * 24 * time.Hour, 600 * time.Second},
		{7 * 24 * time.Hour, 1200 * time.Second}, // 7 d on 600 px
		{7 * 24 * time.Hour, time.Hour},
		{24 * time.Hour, 5 * time.Minute},
		{time.Hour, time.Minute},
		{15 * time.Minute, 10 * time.Second},
	} {
		for _, agg := range []Agg{AggLast, AggAvg, AggMin, AggMax, AggRate} {
			sel := "g"
			if agg == AggRate {
				sel = "c_total"
			}
			q := chartQuery(t, sel, c.span, c.step, now, agg)
			pts := sameAsRaw(t, db, q, dataEnd.Add(-10*time.Minute))
			if len(pts) == 0 {
				t.Fatalf("%s over %s at step %s: no points from a store 10 minutes old", agg, c.span, c.step)
			}
			lp := pts[len(pts)-1]
			if lp.Timestamp != now.UnixMilli() {
				t.Fatalf("%s over %s at step %s: newest point at %s, want the end of the range %s", agg, c.span, c.step,
					time.UnixMilli(lp.Timestamp).Format(time.RFC3339Nano), now.Format(time.RFC3339Nano))
			}
			if agg == AggLast && math.Abs(lp.Value-newest) > 1e-9*newest {
				t.Fatalf("last over %s at step %s: newest point %v, want the newest sample %v", c.span, c.step, lp.Value, newest)
			}
			if agg == AggRate && math.Abs(lp.Value-1) > 1e-9 {
				t.Fatalf("rate over %s at step %s: newest point %v, want 1/s", c.span, c.step, lp.Value)
			}
		}
	}
}

// TestThreeDaysShowsNewestStep: with 3 days of data rolled up, long ranges answer from rollups
// and raw samples together, point for point as an all-raw evaluation would, newest step
// included.
func TestThreeDaysShowsNewestStep(t *testing.T) {
	for _, now := range rangeTestNows() {
		t.Run(now.Format("15:04:05"), func(t *testing.T) { threeDaysShowsNewestStep(t, now) })
	}
}

func threeDaysShowsNewestStep(t *testing.T, now time.Time) {
	db := openRangeTest(t, t.TempDir(), 4*24*time.Hour)
	defer db.Close()
	dataEnd := now.Truncate(10 * time.Second)
	writeHistory(t, db, dataEnd, 72*time.Hour)
	if err := db.RollupUntil(context.Background(), now); err != nil {
		t.Fatal(err)
	}
	db.Flush()
	w := db.RollupWatermark()
	if now.Sub(w) > rollupDelay+RollupStep || w.After(now) {
		t.Fatalf("watermark %s, want within %s of now %s", w, rollupDelay+RollupStep, now)
	}
	rolled, err := db.readRollups(context.Background(), mustSel(t, "g"), now.Add(-72*time.Hour).UnixMilli(), w.UnixMilli())
	if err != nil || len(rolled) != 1 {
		t.Fatalf("rollups of g: %v, %d series", err, len(rolled))
	}
	for _, rs := range rolled {
		if n := len(rs.ts); n < 860 {
			t.Fatalf("%d buckets rolled up over 3 days, want about 864", n)
		}
	}
	newest := 50 + 40*math.Sin(float64(72*360)/37)
	for _, step := range []time.Duration{5 * time.Minute, 15 * time.Minute, 20 * time.Minute, 4320 * time.Second, time.Hour, 6 * time.Hour} {
		for _, span := range []time.Duration{3 * 24 * time.Hour, 30 * 24 * time.Hour} {
			for _, agg := range []Agg{AggLast, AggAvg, AggMin, AggMax, AggRate} {
				sel := "g"
				if agg == AggRate {
					sel = "c_total"
				}
				q := chartQuery(t, sel, span, step, now, agg)
				pts := sameAsRaw(t, db, q, dataEnd.Add(-72*time.Hour))
				if whole := (step + RollupStep - 1) / RollupStep * RollupStep; len(pts) < int(min(span, 72*time.Hour)/whole)-1 {
					t.Fatalf("%s over %s at step %s: %d points", agg, span, step, len(pts))
				}
				lp := pts[len(pts)-1]
				if lp.Timestamp != now.UnixMilli() {
					t.Fatalf("%s over %s at step %s: newest point at %s, want the end of the range %s", agg, span, step,
						time.UnixMilli(lp.Timestamp).Format(time.RFC3339Nano), now.Format(time.RFC3339Nano))
				}
				if agg == AggLast && math.Abs(lp.Value-newest) > 1e-9*newest {
					t.Fatalf("last at step %s: newest point %v, want the newest sample %v", step, lp.Value, newest)
				}
			}
		}
	}
}
