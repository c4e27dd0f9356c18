package tsdb

import (
	"context"
	"math"
	"testing"
	"time"
)

// writeHistory writes a gauge (a sine) and a counter (1/s with a reset) every 10 s for span.
func writeHistory(t testing.TB, db *DB, end time.Time, span time.Duration) {
	t.Helper()
	var batch []Sample
	start := end.Add(-span)
	counter := 0.0
	for ts := start; !ts.After(end); ts = ts.Add(10 * time.Second) {
		i := ts.Sub(start) / (10 * time.Second)
		counter += 10
		if i == 500 {
			counter = 3 // the process restarted
		}
		batch = append(batch,
			Sample{Name: "g", Labels: []Label{{"host", "a"}}, Timestamp: ts.UnixMilli(), Value: 50 + 40*math.Sin(float64(i)/37)},
			Sample{Name: "c_total", Labels: []Label{{"host", "a"}}, Timestamp: ts.UnixMilli(), Value: counter},
		)
	}
	if err := db.Write(batch); err != nil {
		t.Fatal(err)
	}
	db.Flush()
}

func TestRollupsMatchRaw(t *testing.T) {
	dir := t.TempDir()
	db := openTest(t, dir)
	now := time.Now()
	end := now.Add(-2 * time.Minute).Truncate(RollupStep)
	writeHistory(t, db, end, 6*time.Hour)
	if err := db.RollupUntil(context.Background(), now); err != nil {
		t.Fatal(err)
	}
	db.Flush()
	if w := db.RollupWatermark(); w.Before(end) {
		t.Fatalf("watermark %s is before the data end %s", w, end)
	}
	f := func(sel string, agg Agg, step time.Duration) {
		t.Helper()
		q := RangeQuery{Selector: mustSel(t, sel), Start: end.Add(-5 * time.Hour), End: now, Step: step, Agg: agg}
		viaRollups, err := db.QueryRange(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		viaRaw, err := db.queryRaw(context.Background(), q, agg)
		if err != nil {
			t.Fatal(err)
		}
		if len(viaRollups) != 1 || len(viaRaw) != 1 {
			t.Fatalf("%s %s: %d and %d series", sel, agg, len(viaRollups), len(viaRaw))
		}
		a, b := viaRollups[0].Points, viaRaw[0].Points
		if len(a) != len(b) || len(a) < 10 {
			t.Fatalf("%s %s step %s: %d rollup points vs %d raw points", sel, agg, step, len(a), len(b))
		}
		for i := range a {
			if a[i].Timestamp != b[i].Timestamp || math.Abs(a[i].Value-b[i].Value) > 1e-9*math.Max(1, math.Abs(b[i].Value)) {
				t.Fatalf("%s %s step %s point %d: rollup %+v raw %+v", sel, agg, step, i, a[i], b[i])
			}
		}
	}
	for _, agg := range []Agg{AggLast, AggAvg, AggMin, AggMax} {
		f(`g`, agg, 5*time.Minute)
		f(`g{host="a"}`, agg, 15*time.Minute)
	}
	f(`c_total`, AggRate, 5*time.Minute)
	f(`c_total`, AggRate, 30*time.Minute)

	// A restart keeps the watermark: nothing is rolled up twice.
	w := db.RollupWatermark()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openTest(t, dir)
	defer db.Close()
	if !db.RollupWatermark().Equal(w) {
		t.Fatalf("watermark after restart %s, want %s", db.RollupWatermark(), w)
	}
	if err := db.RollupUntil(context.Background(), now); err != nil {
		t.Fatal(err)
	}
	db.Flush()
	got, err := db.readRollups(context.Background(), mustSel(t, `g`), end.Add(-10*time.Minute).UnixMilli(), end.UnixMilli())
	if err != nil {
		t.Fatal(err)
	}
	for _, rs := range got {
		if len(rs.ts) != 2 {
			t.Fatalf("want 2 buckets after a restart, got %d: rolled up twice?", len(rs.ts))
		}
		if rs.agg[aggCount][1] != 30 {
			t.Fatalf("bucket count %v, want 30 samples per 5 minutes", rs.agg[aggCount][1])
		}
	}
}

func TestRollupBucket(t *testing.T) {
	pts := []Point{{0, 5}, {10, 7}, {20, 2}, {30, 4}, {40, 100}}
	b, ok := rollupBucket(pts, 0, 30, Point{0, 5}, true)
	if !ok {
		t.Fatal("empty")
	}
	want := [len(rollupAggs)]float64{2, 7, 13, 3, 4, 2 + 2 + 2} // inc: 5->7 (+2), 7->2 reset (+2), 2->4 (+2)
	if b.v != want {
		t.Fatalf("got %v want %v", b.v, want)
	}
	if _, ok := rollupBucket(pts, 40, 50, Point{}, false); ok {
		t.Fatal("a bucket with no samples must be skipped")
	}
}

// BenchmarkQuery30Days100Series reads 30 days of 100 series (10 s samples) at a 1-hour step,
// the shape of a month chart, from rollups.
func BenchmarkQuery30Days100Series(b *testing.B) {
	db := openTest(b, b.TempDir())
	defer db.Close()
	now := time.Now()
	// Writing 30 days of 10 s raw samples for 100 series (26M samples) is slow to set up; the
	// read path only sees rollups, so write the rollups the compactor would have written.
	end := now.Add(-2 * time.Minute).Truncate(RollupStep)
	writeRollupsDirect(b, db, 100, end.Add(-30*24*time.Hour+time.Hour), end) // just inside the 30-day retention
	db.watermark.Store(end.UnixMilli())
	sel, _ := ParseSelector(`bench_g`)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		got, err := db.QueryRange(context.Background(), RangeQuery{Selector: sel, Start: now.Add(-30 * 24 * time.Hour), End: now, Step: time.Hour, Agg: AggAvg})
		if err != nil || len(got) != 100 || len(got[0].Points) < 700 {
			b.Fatalf("%v %d", err, len(got))
		}
	}
}

func writeRollupsDirect(b *testing.B, db *DB, series int, from, to time.Time) {
	b.Helper()
	var batch []Sample
	flush := func() {
		if err := db.writeRollupSamples(batch); err != nil {
			b.Fatal(err)
		}
		batch = batch[:0]
	}
	for ts := from.Add(RollupStep); !ts.After(to); ts = ts.Add(RollupStep) {
		for s := 0; s < series; s++ {
			for i, agg := range rollupAggs {
				v := float64(s + i)
				if agg == "count" {
					v = 30
				}
				batch = append(batch, Sample{Name: "bench_g", Labels: []Label{{"series", string(rune('a' + s%26))}, {"n", itoa(s)}, {rollupLabel, agg}}, Timestamp: ts.UnixMilli(), Value: v})
			}
		}
		if len(batch) > 50000 {
			flush()
		}
	}
	flush()
	db.Flush()
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// BenchmarkQuery30DaysOneSeries compares reading 30 days of one series (10 s samples) at a
// 1-hour step from raw samples and from rollups.
func BenchmarkQuery30DaysOneSeries(b *testing.B) {
	db := openTest(b, b.TempDir())
	defer db.Close()
	now := time.Now()
	end := now.Add(-2 * time.Minute).Truncate(RollupStep)
	start := end.Add(-30*24*time.Hour + time.Hour)
	var batch []Sample
	for ts := start; !ts.After(end); ts = ts.Add(10 * time.Second) {
		batch = append(batch, Sample{Name: "bench_g", Labels: []Label{{"n", "0"}}, Timestamp: ts.UnixMilli(), Value: float64(ts.Unix() % 97)})
		if len(batch) == 50000 {
			if err := db.Write(batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if err := db.Write(batch); err != nil {
		b.Fatal(err)
	}
	writeRollupsDirect(b, db, 1, start, end)
	db.watermark.Store(end.UnixMilli())
	db.Flush()
	sel, _ := ParseSelector(`bench_g`)
	q := RangeQuery{Selector: sel, Start: now.Add(-30 * 24 * time.Hour), End: now, Step: time.Hour, Agg: AggAvg}
	b.Run("raw", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if got, err := db.queryRaw(context.Background(), q, AggAvg); err != nil || len(got) != 1 {
				b.Fatal(err)
			}
		}
	})
	b.Run("rollups", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if got, err := db.QueryRange(context.Background(), q); err != nil || len(got) != 1 {
				b.Fatal(err)
			}
		}
	})
}
