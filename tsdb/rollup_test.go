package tsdb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/VictoriaMetrics/VictoriaMetrics/lib/storage"
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
			for i := range rollupAggs {
				v := float64(s + i)
				if i == aggCount {
					v = 30
				}
				batch = append(batch, Sample{Name: "bench_g", Labels: []Label{{"series", string(rune('a' + s%26))}, {"n", itoa(s)}}, Timestamp: rollupTimestamp(ts.UnixMilli(), i), Value: v})
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

func TestRollupTimestamp(t *testing.T) {
	end := 5_000 * RollupStep.Milliseconds() // a bucket end
	for agg := range rollupAggs {
		if got, want := rollupTimestamp(end, agg), end-5+int64(agg); got != want {
			t.Fatalf("%s: slot end%+d, want end%+d", rollupAggs[agg], got-end, want-end)
		}
	}
}

func TestRollupDecode(t *testing.T) {
	step := RollupStep.Milliseconds()
	// bucket returns the slots of the bucket ending at end, aggregate i valued 10*end/step+i,
	// without the aggregates in skip.
	bucket := func(end int64, skip ...int) []Point {
		var pts []Point
		for i := range rollupAggs {
			if !slices.Contains(skip, i) {
				pts = append(pts, Point{rollupTimestamp(end, i), float64(10*end/step + int64(i))})
			}
		}
		return pts
	}
	e := func(i int64) int64 { return (100 + i) * step }
	f := func(name string, pts []Point, from, to int64, wantEnds ...int64) {
		t.Helper()
		var rs rollupSeries
		rs.decode(pts, from, to)
		if fmt.Sprint(rs.ts) != fmt.Sprint(wantEnds) {
			t.Fatalf("%s: buckets %v, want %v", name, rs.ts, wantEnds)
		}
		for i, end := range rs.ts {
			for a := range rollupAggs {
				if want := float64(10*end/step + int64(a)); rs.agg[a][i] != want {
					t.Fatalf("%s: bucket %d aggregate %s = %v, want %v", name, end, rollupAggs[a], rs.agg[a][i], want)
				}
			}
		}
	}
	cat := func(parts ...[]Point) []Point { return slices.Concat(parts...) }
	f("empty", nil, 0, e(9))
	f("whole buckets", cat(bucket(e(1)), bucket(e(2)), bucket(e(3))), 0, e(9), e(1), e(2), e(3))
	for skip := range rollupAggs {
		f("without "+rollupAggs[skip], cat(bucket(e(1)), bucket(e(2), skip), bucket(e(3))), 0, e(9), e(1), e(3))
	}
	f("only inc", cat(bucket(e(1), 0, 1, 2, 3, 4), bucket(e(2))), 0, e(9), e(2))
	f("only min", cat(bucket(e(1)), bucket(e(2), 1, 2, 3, 4, 5)), 0, e(9), e(1))
	stray := func(ts int64) []Point { return []Point{{ts, -1}} }
	f("points in no slot", cat(stray(e(1)-6), bucket(e(1)), stray(e(1)+1), stray(e(2)-6), bucket(e(2)), stray(e(3)-step/2)), 0, e(9), e(1), e(2))
	f("six points in a row off the slots", []Point{{e(1) - 6, 0}, {e(1) - 5, 1}, {e(1) - 4, 2}, {e(1) - 3, 3}, {e(1) - 2, 4}, {e(1) - 1, 5}}, 0, e(9))
	all := cat(bucket(e(1)), bucket(e(2)), bucket(e(3)))
	f("from excludes", all, e(1), e(9), e(2), e(3))
	f("from inside the slots", all, e(2)-3, e(9), e(2), e(3))
	f("to excludes", all, 0, e(3)-1, e(1), e(2))
	f("to includes", all, 0, e(3), e(1), e(2), e(3))

	// Versions: a bucket rolled up again is written 6 ms earlier per version; the reader takes
	// the highest whole version alone.
	version := func(end int64, v int, val float64, skip ...int) []Point {
		var pts []Point
		for i := range rollupAggs {
			if !slices.Contains(skip, i) {
				pts = append(pts, Point{rollupVersionTimestamp(end, i, v), val + float64(i)})
			}
		}
		return pts
	}
	g := func(name string, pts []Point, want ...float64) {
		t.Helper()
		var rs rollupSeries
		rs.decode(pts, 0, e(9))
		if len(rs.ts) != len(want) {
			t.Fatalf("%s: buckets %v, want %d", name, rs.ts, len(want))
		}
		for i := range want {
			for a := range rollupAggs {
				if rs.agg[a][i] != want[i]+float64(a) {
					t.Fatalf("%s: bucket %d aggregate %s = %v, want %v (one version, whole)", name, rs.ts[i], rollupAggs[a], rs.agg[a][i], want[i]+float64(a))
				}
			}
		}
	}
	g("version 0 only", version(e(1), 0, 100), 100)
	g("versions 0 and 1", cat(version(e(1), 1, 200), version(e(1), 0, 100)), 200)
	g("versions 0 to 2, two buckets", cat(version(e(1), 2, 300), version(e(1), 1, 200), version(e(1), 0, 100), version(e(2), 1, 20), version(e(2), 0, 10)), 300, 20)
	for skip := range rollupAggs {
		g("version 1 without "+rollupAggs[skip], cat(version(e(1), 1, 200, skip), version(e(1), 0, 100)), 100)
	}
	g("only version 1", version(e(1), 1, 200), 200)
	g("the last version", version(e(1), rollupVersions-1, 900), 900)
	g("beyond the versions", version(e(1), rollupVersions, 900))
}

func TestRollupSlot(t *testing.T) {
	end := 5_000 * RollupStep.Milliseconds()
	for _, v := range []int{0, 1, 7, rollupVersions - 1} {
		for agg := range rollupAggs {
			e, gv, ga, ok := rollupSlot(rollupVersionTimestamp(end, agg, v))
			if !ok || e != end || gv != v || ga != agg {
				t.Fatalf("slot of version %d %s: end%+d version %d agg %d ok %t", v, rollupAggs[agg], e-end, gv, ga, ok)
			}
		}
	}
	for _, ts := range []int64{end + 1, end - int64(rollupVersions*len(rollupAggs)), end - RollupStep.Milliseconds()/2} {
		if _, _, _, ok := rollupSlot(ts); ok {
			t.Fatalf("end%+d is in no slot", ts-end)
		}
	}
}

// recentBuckets returns a recent bucket end such that [end-span, end] lies in one month:
// storage counts a series once per monthly partition.
func recentBuckets(span time.Duration) time.Time {
	end := time.Now().Add(-2 * time.Minute).Truncate(RollupStep).UTC()
	if start := end.Add(-span - RollupStep); start.Month() != end.Month() {
		end = start.Truncate(RollupStep)
	}
	return end
}

// TestRollupWriteReadExact rolls up one bucket and checks what storage holds: six samples at
// the bucket end and the 5 ms before it, neither deduplicated nor rounded, read back whole.
func TestRollupWriteReadExact(t *testing.T) {
	db := openTest(t, t.TempDir())
	defer db.Close()
	now := time.Now()
	end := recentBuckets(10 * time.Minute).UnixMilli()
	start := end - RollupStep.Milliseconds()
	// Values decimals represent exactly, with a counter reset and a baseline before the bucket.
	raw := []Point{{start - 10_000, 20}, {start + 10_000, 12.5}, {start + 60_000, 7.25}, {start + 120_000, 1048576}, {start + 200_000, 0.125}, {end, 3}}
	var samples []Sample
	for _, p := range raw {
		samples = append(samples, Sample{Name: "x", Labels: []Label{{"k", "v"}}, Timestamp: p.Timestamp, Value: p.Value})
	}
	if err := db.Write(samples); err != nil {
		t.Fatal(err)
	}
	db.Flush()
	if err := db.RollupUntil(context.Background(), now); err != nil {
		t.Fatal(err)
	}
	db.Flush()
	want, ok := rollupBucket(raw, start, end, raw[0], true)
	// inc: 20 -> 12.5 and 7.25 are resets (+12.5, +7.25), +1048568.75, reset to 0.125, +2.875.
	if !ok || want.v[aggCount] != 5 || want.v[aggInc] != 1048591.5 {
		t.Fatalf("rollupBucket: %v", want.v)
	}

	// Storage holds exactly the six slots of that bucket (the baseline sample made a bucket
	// of its own, ending at start), before and after a merge, where deduplication would run.
	if d := storage.GetDedupInterval(); d != 0 {
		t.Fatalf("storage deduplicates samples closer than %d ms", d)
	}
	tfss, err := mustSel(t, `x`).tagFilters()
	if err != nil {
		t.Fatal(err)
	}
	var wantStored []Point
	for i := range rollupAggs {
		wantStored = append(wantStored, Point{end - 5 + int64(i), want.v[i]})
	}
	checkStored := func() {
		t.Helper()
		var stored []Point
		tr := storage.TimeRange{MinTimestamp: start + 1, MaxTimestamp: end + RollupStep.Milliseconds()}
		err = scan(context.Background(), db.rollup, tfss, tr, 10, func(mn *storage.MetricName, pts []Point) error {
			if len(mn.Tags) != 1 || string(mn.Tags[0].Key) != "k" || string(mn.MetricGroup) != "x" {
				t.Fatalf("rollup series %s, want the raw series' name and labels", mn)
			}
			stored = append(stored, pts...)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(stored) != fmt.Sprint(wantStored) {
			t.Fatalf("stored %v\nwant   %v", stored, wantStored)
		}
	}
	checkStored()
	if err := db.rollup.ForceMergePartitions(""); err != nil {
		t.Fatal(err)
	}
	checkStored()

	// readRollups returns the bucket for any (from, to] holding its end, even when from cuts
	// into its slots.
	f := func(from, to int64, wantBucket bool) {
		t.Helper()
		got, err := db.readRollups(context.Background(), mustSel(t, `x`), from, to)
		if err != nil {
			t.Fatal(err)
		}
		if !wantBucket {
			if len(got) != 0 {
				t.Fatalf("(end%+d, end%+d]: got %d series, want none", from-end, to-end, len(got))
			}
			return
		}
		if len(got) != 1 {
			t.Fatalf("(end%+d, end%+d]: got %d series, want 1", from-end, to-end, len(got))
		}
		for _, rs := range got {
			if rs.s.Name != "x" || SeriesKey(rs.s.Labels) != SeriesKey([]Label{{"k", "v"}}) || len(rs.ts) != 1 || rs.ts[0] != end {
				t.Fatalf("(end%+d, end%+d]: got %+v", from-end, to-end, rs)
			}
			for i := range rollupAggs {
				if rs.agg[i][0] != want.v[i] {
					t.Fatalf("aggregate %s = %v, want exactly %v", rollupAggs[i], rs.agg[i][0], want.v[i])
				}
			}
		}
	}
	f(start, end, true)
	f(end-1, end, true)
	f(end-3, end+RollupStep.Milliseconds(), true)
	f(end, end+RollupStep.Milliseconds(), false)
	f(start, end-1, false)
}

// TestRollupSeriesPerRawSeries checks that rollups add one series per raw series: VictoriaMetrics'
// memory grows with the number of series.
func TestRollupSeriesPerRawSeries(t *testing.T) {
	dir := t.TempDir()
	db := openTest(t, dir)
	const n = 300
	end := recentBuckets(10 * time.Minute)
	var batch []Sample
	for ts := end.Add(-10 * time.Minute); !ts.After(end); ts = ts.Add(10 * time.Second) {
		for s := 0; s < n; s++ {
			batch = append(batch, Sample{Name: "redis_key_memory_bytes", Labels: []Label{{"instance", "cache"}, {"key", "k" + itoa(s)}}, Timestamp: ts.UnixMilli(), Value: float64(s)})
		}
	}
	if err := db.Write(batch); err != nil {
		t.Fatal(err)
	}
	// Reopen: VictoriaMetrics caches which series a filter matches for up to ~10 s after new
	// series appear, and Open has asked for all series already.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openTest(t, dir)
	defer db.Close()
	if err := db.RollupUntil(context.Background(), time.Now()); err != nil {
		t.Fatal(err)
	}
	db.Flush()
	deadline := uint64(time.Now().Add(10 * time.Second).Unix())
	rawSeries, err := db.s.GetSeriesCount(deadline)
	if err != nil {
		t.Fatal(err)
	}
	rollupSeries, err := db.rollup.GetSeriesCount(deadline)
	if err != nil {
		t.Fatal(err)
	}
	if rawSeries != n || rollupSeries != n {
		t.Fatalf("%d raw series and %d rollup series, want %d of each", rawSeries, rollupSeries, n)
	}
	got, err := db.readRollups(context.Background(), mustSel(t, `redis_key_memory_bytes`), end.Add(-10*time.Minute).UnixMilli(), end.UnixMilli())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("read the rollups of %d series, want %d", len(got), n)
	}
	for _, rs := range got {
		if len(rs.ts) != 2 {
			t.Fatalf("%+v: %d buckets, want 2", rs.s, len(rs.ts))
		}
	}
}

func TestOpenRemovesOldRollups(t *testing.T) {
	dir := t.TempDir()
	oldDir := filepath.Join(dir, "rollup-5m")
	oldWatermark := filepath.Join(dir, "rollup-5m.watermark")
	if err := os.MkdirAll(filepath.Join(oldDir, "data", "small"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(oldDir, "data", "small", "part"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(oldWatermark, []byte("1700000000000\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	open := func() *DB {
		t.Helper()
		db, err := Open(Options{Path: dir, Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))})
		if err != nil {
			t.Fatalf("Open: %s", err)
		}
		return db
	}
	db := open()
	for _, p := range []string{oldDir, oldWatermark} {
		if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s: still there after Open (%v)", p, err)
		}
		if !strings.Contains(logs.String(), `msg="removed rollups of an older format; they are rebuilt from raw samples" logger=tsdb path=`+p+"\n") {
			t.Fatalf("no log line for %s in:\n%s", p, logs.String())
		}
	}
	if !db.RollupWatermark().IsZero() {
		t.Fatalf("watermark %s, want none: the old one belongs to the old rollups", db.RollupWatermark())
	}
	if err := db.RollupUntil(context.Background(), time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, rollupWatermarkFile)); err != nil {
		t.Fatalf("new watermark: %s", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	logs.Reset()
	db = open()
	defer db.Close()
	if strings.Contains(logs.String(), "older format") {
		t.Fatalf("second Open removed something:\n%s", logs.String())
	}
	if db.RollupWatermark().IsZero() {
		t.Fatal("the new watermark was not kept")
	}
}
