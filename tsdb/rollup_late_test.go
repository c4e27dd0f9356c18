package tsdb

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/VictoriaMetrics/VictoriaMetrics/lib/storage"
	"github.com/redwatch/redwatch/internal/testutil"
)

// backfill writes series name every 10 s over (from, to] in batches of 1000 samples, as a
// remote-write client catching up does; value gives each sample's value.
func backfill(t testing.TB, db *DB, name string, from, to time.Time, offset time.Duration, value func(ts time.Time) float64) int {
	t.Helper()
	var batch []Sample
	n := 0
	for ts := from.Add(10*time.Second + offset); !ts.After(to); ts = ts.Add(10 * time.Second) {
		batch = append(batch, Sample{Name: name, Labels: []Label{{"host", "agent-1"}}, Timestamp: ts.UnixMilli(), Value: value(ts)})
		if len(batch) == 1000 {
			if err := db.Write(batch); err != nil {
				t.Fatal(err)
			}
			n += len(batch)
			batch = batch[:0]
		}
	}
	if err := db.Write(batch); err != nil {
		t.Fatal(err)
	}
	db.Flush()
	return n + len(batch)
}

func gauge(ts time.Time) float64   { return 50 + 40*math.Sin(float64(ts.Unix())/3700) }
func counter(ts time.Time) float64 { return float64(ts.Unix()%86400) * 3 } // 3/s, reset daily

// windows aggregates pts (every sample, or a step-10s query of samples 10 s apart) into steps
// of step ending at the timestamps of at, as the 5-minute query should: each covers (t-step, t],
// and a point off the grid (start, start+step, ...) the unfinished step since the last grid step.
func windows(pts []Point, at []Point, start time.Time, step time.Duration, agg Agg) []Point {
	var out []Point
	for _, p := range at {
		from := lastGridStep(start.UnixMilli(), p.Timestamp, step.Milliseconds())
		if from == p.Timestamp {
			from -= step.Milliseconds()
		}
		var vals []float64
		for _, q := range pts {
			if q.Timestamp > from && q.Timestamp <= p.Timestamp {
				vals = append(vals, q.Value)
			}
		}
		if len(vals) == 0 {
			continue
		}
		v := vals[0]
		sum := 0.0
		for _, x := range vals {
			sum += x
			switch agg {
			case AggMin:
				v = math.Min(v, x)
			case AggMax:
				v = math.Max(v, x)
			}
		}
		switch agg {
		case AggAvg:
			v = sum / float64(len(vals))
		case AggLast:
			v = vals[len(vals)-1]
		}
		out = append(out, Point{Timestamp: p.Timestamp, Value: v})
	}
	return out
}

// TestBackfillIsRolledUp: 2 days written after their buckets were rolled up (a remote-write
// backfill) are rolled up again by the next pass, so a 24 h query at step 300 s answers what
// the step-10s query aggregated does; backfilling the same buckets again is rolled up again
// without counting any sample twice.
func TestBackfillIsRolledUp(t *testing.T) {
	dir := t.TempDir()
	db := openTest(t, dir)
	defer func() { db.Close() }()
	ctx := context.Background()
	// Halfway into a bucket: the query's last, unfinished step (from the last 5-minute edge to
	// now) then holds samples. With now less than 10 s past an edge it holds none, the product
	// draws the step from the sample before it (both evaluation paths agree) and windows, which
	// aggregates only the samples inside a step, has no point there: 1 run in 30 failed so.
	now := time.Now().Truncate(RollupStep).Add(-RollupStep / 2)
	// The store has been running: everything up to a minute ago is rolled up (nothing there).
	if err := db.RollupUntil(ctx, now); err != nil {
		t.Fatal(err)
	}
	w := db.RollupWatermark()
	from := now.Add(-48 * time.Hour).Truncate(RollupStep)
	n := backfill(t, db, "bf_g", from, now, 0, gauge)
	backfill(t, db, "bf_total", from, now, 0, counter)
	if n < 17000 {
		t.Fatalf("backfilled %d samples, want 2 days at 10 s", n)
	}
	if got, want := db.LateBuckets(), int(w.Sub(from)/RollupStep); got != want {
		t.Fatalf("%d late buckets noted, want %d (every bucket from %s to the watermark %s)", got, want, from, w)
	}
	q := func(sel string, step time.Duration, agg Agg) RangeQuery {
		return chartQuery(t, sel, 24*time.Hour, step, now, agg)
	}
	count := func(q RangeQuery) int {
		t.Helper()
		got, err := db.QueryRange(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 {
			return 0
		}
		return len(got[0].Points)
	}
	fine, coarse := count(q("bf_g", 10*time.Second, AggLast)), count(q("bf_g", 5*time.Minute, AggAvg))
	t.Logf("before the next rollup pass: 24 h at step 10 s: %d points, at step 300 s: %d points", fine, coarse)
	if fine < 8640 || coarse > 10 {
		t.Fatalf("before the next pass: %d points at 10 s, %d at 300 s: want the 300 s query to miss the backfill (the test needs it)", fine, coarse)
	}

	if err := db.RollupUntil(ctx, now); err != nil {
		t.Fatal(err)
	}
	if left := db.LateBuckets(); left != 0 {
		t.Fatalf("%d late buckets left after a pass", left)
	}
	check := func(what string) {
		t.Helper()
		// Every sample: at step 10 s the same as the samples while they are 10 s apart.
		fine, err := db.Raw(ctx, mustSel(t, "bf_g"), now.Add(-25*time.Hour), now)
		if err != nil || len(fine) != 1 {
			t.Fatalf("%s: raw: %v, %d series", what, err, len(fine))
		}
		for _, agg := range []Agg{AggLast, AggAvg, AggMin, AggMax, AggRate} {
			sel := "bf_g"
			if agg == AggRate {
				sel = "bf_total"
			}
			pts := sameAsRaw(t, db, q(sel, 5*time.Minute, agg), from)
			if len(pts) < 288 {
				t.Fatalf("%s: %s over 24 h at step 300 s: %d points, want 289", what, agg, len(pts))
			}
			if agg == AggRate {
				continue
			}
			want := windows(fine[0].Points, pts, q(sel, 5*time.Minute, agg).Start, 5*time.Minute, agg)
			if len(want) != len(pts) {
				t.Fatalf("%s: %s: %d points, the samples aggregated give %d", what, agg, len(pts), len(want))
			}
			for i := range pts {
				if pts[i].Timestamp != want[i].Timestamp || math.Abs(pts[i].Value-want[i].Value) > 1e-9*math.Max(1, math.Abs(want[i].Value)) {
					t.Fatalf("%s: %s point %d: %+v, samples aggregated %+v", what, agg, i, pts[i], want[i])
				}
			}
		}
	}
	check("after the backfill")
	rolled, err := db.readRollups(ctx, mustSel(t, "bf_g"), from.UnixMilli(), w.UnixMilli())
	if err != nil || len(rolled) != 1 {
		t.Fatalf("rollups: %v, %d series", err, len(rolled))
	}
	for _, rs := range rolled {
		if len(rs.ts) != int(w.Sub(from)/RollupStep) || rs.agg[aggCount][len(rs.ts)/2] != 30 {
			t.Fatalf("%d buckets rolled up again, count %v, want %d buckets of 30", len(rs.ts), rs.agg[aggCount][len(rs.ts)/2], int(w.Sub(from)/RollupStep))
		}
	}

	// The same buckets get more samples (another 10 s grid, 5 s later): rolled up as version 1,
	// read alone, not added to version 0.
	backfill(t, db, "bf_g", from, now.Add(-3*time.Minute), 5*time.Second, gauge)
	backfill(t, db, "bf_total", from, now.Add(-3*time.Minute), 5*time.Second, counter)
	// A restart before the next pass keeps the late buckets.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, rollupLateFile)); err != nil || len(strings.Fields(string(b))) < 500 {
		t.Fatalf("late buckets file: %v, %d lines", err, len(strings.Fields(string(b))))
	}
	db = openTest(t, dir)
	if n := db.LateBuckets(); n < 500 {
		t.Fatalf("%d late buckets after a restart, want them all", n)
	}
	if err := db.RollupUntil(ctx, now); err != nil {
		t.Fatal(err)
	}
	check("after a second backfill and a restart")
	rolled, err = db.readRollups(ctx, mustSel(t, "bf_g"), from.UnixMilli(), w.UnixMilli())
	if err != nil || len(rolled) != 1 {
		t.Fatalf("rollups: %v, %d series", err, len(rolled))
	}
	for _, rs := range rolled {
		if c := rs.agg[aggCount][len(rs.ts)/2]; c != 60 {
			t.Fatalf("bucket count %v after the second backfill, want 60 (30 + 30, once each)", c)
		}
	}
	// Storage holds both versions of a bucket: the reader picked the newer one.
	mid := from.Add(12 * time.Hour).UnixMilli()
	tfss, err := mustSel(t, "bf_g").tagFilters()
	if err != nil {
		t.Fatal(err)
	}
	versions := map[int]int{}
	err = scan(ctx, db.rollup, tfss, storage.TimeRange{MinTimestamp: mid - RollupStep.Milliseconds() + 1, MaxTimestamp: mid}, 10, func(_ *storage.MetricName, pts []Point) error {
		for _, p := range pts {
			if _, v, _, ok := rollupSlot(p.Timestamp); ok {
				versions[v]++
			}
		}
		return nil
	})
	if err != nil || len(versions) != 2 || versions[0] != 6 || versions[1] != 6 {
		t.Fatalf("bucket ending %d holds versions %v (%v), want 0 and 1, six slots each", mid, versions, err)
	}
}

// TestLateSampleAtTheHorizon: a sample for the newest rolled-up bucket is rolled up again by
// the next pass; one for the bucket after it is rolled up by that pass, once.
func TestLateSampleAtTheHorizon(t *testing.T) {
	db := openTest(t, t.TempDir())
	defer db.Close()
	ctx := context.Background()
	now := time.Now()
	if err := db.RollupUntil(ctx, now); err != nil {
		t.Fatal(err)
	}
	w := db.RollupWatermark()
	// One sample in the newest rolled-up bucket, one in the bucket the next pass rolls up.
	for _, ts := range []time.Time{w.Add(-time.Second), w.Add(RollupStep - time.Second)} {
		if err := db.Write([]Sample{{Name: "h", Timestamp: ts.UnixMilli(), Value: 7}}); err != nil {
			t.Fatal(err)
		}
	}
	if n := db.LateBuckets(); n != 1 {
		t.Fatalf("%d late buckets, want 1: only the bucket at the watermark", n)
	}
	if err := db.RollupUntil(ctx, w.Add(RollupStep+rollupDelay)); err != nil {
		t.Fatal(err)
	}
	db.Flush()
	got, err := db.readRollups(ctx, mustSel(t, "h"), w.Add(-RollupStep).UnixMilli(), w.Add(RollupStep).UnixMilli())
	if err != nil || len(got) != 1 {
		t.Fatalf("rollups: %v, %d series", err, len(got))
	}
	for _, rs := range got {
		if len(rs.ts) != 2 || rs.agg[aggCount][0] != 1 || rs.agg[aggCount][1] != 1 {
			t.Fatalf("buckets %v counts %v, want both buckets with one sample", rs.ts, rs.agg[aggCount])
		}
	}
}

// While read-only, late buckets are neither rolled up again nor forgotten (no flush into a
// nearly full disk); once space returns the next pass rolls them up.
func TestLateBucketsWaitWhileReadOnly(t *testing.T) {
	db := openTest(t, t.TempDir())
	defer db.Close()
	ctx := context.Background()
	if err := db.RollupUntil(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	w := db.RollupWatermark()
	if err := db.Write([]Sample{{Name: "h", Timestamp: w.Add(-time.Second).UnixMilli(), Value: 7}}); err != nil {
		t.Fatal(err)
	}
	db.Flush()
	db.readOnly.Store(true) // the disk watch only stores a change of its own state
	if err := db.rollupLate(ctx); err != nil {
		t.Fatal(err)
	}
	if n := db.LateBuckets(); n != 1 {
		t.Fatalf("%d late buckets after a read-only pass, want the 1 noted still", n)
	}
	db.readOnly.Store(false)
	if err := db.rollupLate(ctx); err != nil {
		t.Fatal(err)
	}
	if n := db.LateBuckets(); n != 0 {
		t.Fatalf("%d late buckets once writable, want 0", n)
	}
}

// TestFirstRollupStartsAtOldestSample: on a store that was empty at Open, the first pass rolls
// up from the bucket of the oldest sample written, not a day of empty buckets (each a search
// of every series' index entries), and a sample written later before that bucket is still
// rolled up, as a late one. A store that held samples at Open searches the whole catch-up.
func TestFirstRollupStartsAtOldestSample(t *testing.T) {
	dir := t.TempDir()
	db := openTest(t, dir)
	ctx := context.Background()
	now := time.Now().Truncate(RollupStep).Add(RollupStep / 2)
	from := now.Add(-time.Hour).Truncate(RollupStep)
	backfill(t, db, "first_g", from, now, 0, gauge)
	if err := db.RollupUntil(ctx, now); err != nil {
		t.Fatal(err)
	}
	target := now.Add(-rollupDelay).Truncate(RollupStep)
	if w := db.RollupWatermark(); !w.Equal(target) {
		t.Fatalf("watermark %s, want %s", w, target)
	}
	want := uint64(target.Sub(from) / RollupStep)
	if got := db.rollupScans.Load(); got != want {
		t.Fatalf("first pass searched %d buckets, want %d (from the oldest sample's, %s)", got, want, from)
	}
	sel, err := ParseSelector(`first_g`)
	if err != nil {
		t.Fatal(err)
	}
	buckets := func() int {
		t.Helper()
		rs, err := db.readRollups(ctx, sel, from.Add(-3*time.Hour).UnixMilli(), target.UnixMilli())
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, r := range rs {
			r.decode(r.pts, from.Add(-3*time.Hour).UnixMilli(), target.UnixMilli())
			n += len(r.ts)
		}
		return n
	}
	if got := buckets(); got != int(want) {
		t.Fatalf("%d buckets rolled up, want %d", got, want)
	}

	// A sample two hours before the first one, written after the pass: a late bucket.
	old := from.Add(-2 * time.Hour).Add(time.Minute)
	if err := db.Write([]Sample{{Name: "first_g", Labels: []Label{{"host", "agent-1"}}, Timestamp: old.UnixMilli(), Value: 7}}); err != nil {
		t.Fatal(err)
	}
	db.Flush()
	if got := db.LateBuckets(); got != 1 {
		t.Fatalf("%d late buckets, want 1 (the old sample's)", got)
	}
	if err := db.RollupUntil(ctx, now); err != nil {
		t.Fatal(err)
	}
	if got := buckets(); got != int(want)+1 {
		t.Fatalf("%d buckets rolled up after the late pass, want %d", got, want+1)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	// Reopened with samples in it (and no watermark): the whole catch-up is searched.
	if err := os.Remove(filepath.Join(dir, rollupWatermarkFile)); err != nil {
		t.Fatal(err)
	}
	db = openTest(t, dir)
	defer func() { db.Close() }()
	if err := db.RollupUntil(ctx, now); err != nil {
		t.Fatal(err)
	}
	if got, all := db.rollupScans.Load(), uint64(24*time.Hour/RollupStep); got != all {
		t.Fatalf("reopened store searched %d buckets, want the whole catch-up, %d", got, all)
	}
}

// TestRollupReadSeesSeriesFlushedInBackground: a read of the rollup storage asked before a
// series had rollups, asked again once VictoriaMetrics' own 1-second flusher made them
// searchable and the pass persisted them, sees them. VictoriaMetrics resets its cached answer
// to the first read only up to 10 s after such a flush (see rollupGenLabel).
func TestRollupReadSeesSeriesFlushedInBackground(t *testing.T) {
	db := openTest(t, t.TempDir())
	defer func() { db.Close() }()
	ctx := context.Background()
	end := time.Now().Add(-time.Hour).Truncate(RollupStep).UnixMilli()
	read := func(sel string) int {
		t.Helper()
		rolled, err := db.readRollups(ctx, mustSel(t, sel), end-RollupStep.Milliseconds(), end)
		if err != nil {
			t.Fatal(err)
		}
		return len(rolled)
	}
	if n := read("late_g"); n != 0 {
		t.Fatalf("%d series rolled up before any was written", n)
	}
	var ss []Sample
	for agg := range rollupAggs {
		ss = append(ss, Sample{Name: "late_g", Labels: []Label{{"host", "a"}}, Timestamp: rollupTimestamp(end, agg), Value: 1})
	}
	if err := db.writeRollupSamples(ss); err != nil {
		t.Fatal(err)
	}
	// Searchable without a flush of ours: storage's flusher got there. Each poll asks with
	// filters of its own, which nothing has cached.
	i := 0
	testutil.Eventually(t, 15*time.Second, "the series searchable", func() (bool, string) {
		i++
		return read(fmt.Sprintf(`late_g{host=~"a|poll%d"}`, i)) == 1, ""
	})
	if !db.persist(db.rollup) {
		t.Fatal("persist: closed")
	}
	if n := read("late_g"); n != 1 {
		t.Fatalf("the read asked before the series had rollups: %d series after they were flushed and persisted, want 1", n)
	}
}
