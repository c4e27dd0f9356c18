package tsdb

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// TestSeriesCeiling writes more new series than Options.MaxSeries: the first MaxSeries are
// stored and in the latest table, the rest are in neither and are counted; samples of admitted
// series keep being stored, redwatch's own series pass, and the drop is logged once.
func TestSeriesCeiling(t *testing.T) {
	var logBuf bytes.Buffer
	db, err := Open(Options{Path: t.TempDir(), MaxSeries: 10, Logger: slog.New(slog.NewTextHandler(&logBuf, nil))})
	if err != nil {
		t.Fatalf("Open: %s", err)
	}
	defer db.Close()
	if got := db.MaxSeries(); got != 10 {
		t.Fatalf("MaxSeries() = %d, want 10", got)
	}
	t0 := base()
	batch := func(ts time.Time, from, to int) []Sample {
		var out []Sample
		for i := from; i < to; i++ {
			out = append(out, Sample{Name: "pushed", Labels: []Label{{"id", strconv.Itoa(i)}}, Timestamp: ts.UnixMilli(), Value: float64(i)})
		}
		return out
	}
	if err := db.Write(batch(t0, 0, 25)); err != nil {
		t.Fatalf("Write: %s", err)
	}
	// Admitted series go on; new ones stay out; redwatch's own pass.
	own := Sample{Name: "redwatch_series_dropped_total", Labels: []Label{{"reason", DropReasonHourlyLimit}}, Timestamp: t0.Add(time.Minute).UnixMilli(), Value: 15}
	if err := db.Write(append(batch(t0.Add(time.Minute), 0, 30), own)); err != nil {
		t.Fatalf("Write: %s", err)
	}
	db.Flush()

	got, err := db.Raw(context.Background(), mustSel(t, `pushed`), t0.Add(-time.Minute), t0.Add(2*time.Minute))
	if err != nil {
		t.Fatalf("Raw: %s", err)
	}
	if len(got) != 10 {
		t.Fatalf("stored %d series, want 10", len(got))
	}
	stored := map[string]bool{}
	for _, s := range got {
		if len(s.Points) != 2 {
			t.Errorf("series %v has %d points, want 2 (both writes)", s.Labels, len(s.Points))
		}
		stored[s.Labels[0].Value] = true
	}
	latest := db.LatestByName("pushed")
	if len(latest) != 10 {
		t.Fatalf("latest table holds %d series, want the 10 stored", len(latest))
	}
	for _, lv := range latest {
		if !stored[lv.Label("id")] {
			t.Errorf("latest table holds id=%s, which storage dropped", lv.Label("id"))
		}
	}
	if _, ok := db.LatestOne("redwatch_series_dropped_total", Label{"reason", DropReasonHourlyLimit}); !ok {
		t.Errorf("redwatch's own series was dropped")
	}
	// 15 dropped in the first write, 20 in the second.
	if d := db.SeriesDropped(); d[DropReasonHourlyLimit] != 35 || d[DropReasonDailyLimit] != 0 {
		t.Errorf("SeriesDropped() = %v, want hourly_limit 35, daily_limit 0", d)
	}
	if n := strings.Count(logBuf.String(), "new series dropped"); n != 1 {
		t.Errorf("drop logged %d times, want once:\n%s", n, logBuf.String())
	}
	if !strings.Contains(logBuf.String(), "limit=10") {
		t.Errorf("drop log does not name the limit:\n%s", logBuf.String())
	}
}

func TestSeriesCeilingOff(t *testing.T) {
	db, err := Open(Options{Path: t.TempDir(), MaxSeries: -1, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("Open: %s", err)
	}
	defer db.Close()
	var samples []Sample
	for i := range 1000 {
		samples = append(samples, Sample{Name: "pushed", Labels: []Label{{"id", strconv.Itoa(i)}}, Timestamp: base().UnixMilli(), Value: 1})
	}
	if err := db.Write(samples); err != nil {
		t.Fatalf("Write: %s", err)
	}
	if n := len(db.LatestByName("pushed")); n != 1000 || db.MaxSeries() != -1 {
		t.Fatalf("latest holds %d series (want 1000), MaxSeries %d (want -1)", n, db.MaxSeries())
	}
}

func TestDefaultMaxSeries(t *testing.T) {
	if got := DefaultMaxSeries(0); got != 262144 {
		t.Errorf("DefaultMaxSeries(0) = %d, want 262144 (256 MiB / 1 KiB)", got)
	}
	if got := DefaultMaxSeries(1 << 30); got != 1<<20 {
		t.Errorf("DefaultMaxSeries(1 GiB) = %d, want %d", got, 1<<20)
	}
}

// While read-only the ceiling still bounds the latest table (the only place samples go): new
// series over it are kept out and counted; once writable, the series admitted meanwhile are
// the ones stored.
func TestSeriesCeilingWhileReadOnly(t *testing.T) {
	db, err := Open(Options{Path: t.TempDir(), MaxSeries: 2, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("Open: %s", err)
	}
	defer db.Close()
	t0 := base()
	batch := func(ts time.Time) []Sample {
		var out []Sample
		for i := range 4 {
			out = append(out, Sample{Name: "pushed", Labels: []Label{{"id", strconv.Itoa(i)}}, Timestamp: ts.UnixMilli(), Value: float64(i)})
		}
		return out
	}
	db.readOnly.Store(true) // the disk watch only stores a change of its own state
	if err := db.Write(batch(t0)); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("Write while read-only: %v, want ErrReadOnly", err)
	}
	if n := len(db.LatestByName("pushed")); n != 2 {
		t.Fatalf("latest table holds %d series while read-only, want the 2 under the ceiling", n)
	}
	if d := db.SeriesDropped()[DropReasonHourlyLimit]; d != 2 {
		t.Fatalf("dropped %d while read-only, want 2", d)
	}
	db.readOnly.Store(false)
	if err := db.Write(batch(t0.Add(time.Minute))); err != nil {
		t.Fatalf("Write: %s", err)
	}
	db.Flush()
	got, err := db.Raw(context.Background(), mustSel(t, `pushed`), t0.Add(-time.Minute), t0.Add(2*time.Minute))
	if err != nil || len(got) != 2 {
		t.Fatalf("stored %d series (%v), want 2", len(got), err)
	}
	latest := db.LatestByName("pushed")
	for i, s := range got {
		if len(s.Points) != 1 || len(latest) != 2 || latest[i].Label("id") != s.Label("id") {
			t.Fatalf("stored %+v, latest %+v: want the same 2 series, one point each", got, latest)
		}
	}
}

// The cached verdict of Write (the latest table's entry) is asked again after the hour: in a
// new hour the series already known are counted into the new hourly filter first, so new
// series find it as full as without the cache, and are dropped and counted exactly as before.
func TestSeriesCeilingCachedAcrossHour(t *testing.T) {
	db, err := Open(Options{Path: t.TempDir(), MaxSeries: 10, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("Open: %s", err)
	}
	defer db.Close()
	t0 := base()
	batch := func(ts time.Time, from, to int) []Sample {
		var out []Sample
		for i := from; i < to; i++ {
			out = append(out, Sample{Name: "pushed", Labels: []Label{{"id", strconv.Itoa(i)}}, Timestamp: ts.UnixMilli(), Value: float64(i)})
		}
		return out
	}
	write := func(ts time.Time, from, to int) {
		t.Helper()
		if err := db.Write(batch(ts, from, to)); err != nil {
			t.Fatalf("Write: %s", err)
		}
	}
	write(t0, 0, 10)                     // admitted, cached
	write(t0.Add(10*time.Second), 0, 10) // from the cache
	if d := db.SeriesDropped(); d[DropReasonHourlyLimit] != 0 {
		t.Fatalf("dropped %v within the first hour, want none", d)
	}
	if g := db.series.generation(); g != 1 {
		t.Fatalf("generation %d before the hour, want 1", g)
	}
	db.series.rotate(false)              // the hour is over
	write(t0.Add(20*time.Second), 0, 10) // known series: counted into the new hour
	write(t0.Add(20*time.Second), 10, 15)
	if d := db.SeriesDropped(); d[DropReasonHourlyLimit] != 5 || d[DropReasonDailyLimit] != 0 {
		t.Fatalf("SeriesDropped() = %v after the hour, want hourly_limit 5 (the new hour is full of the known series), daily_limit 0", d)
	}
	if n := len(db.LatestByName("pushed")); n != 10 {
		t.Fatalf("latest table holds %d series, want 10", n)
	}
	// Two new hours, and the daily filter (20) fills: 0..9, then 10..19 are in it, so 20 is
	// dropped by the day although the hour has room.
	db.series.rotate(false)
	write(t0.Add(30*time.Second), 10, 20)
	db.series.rotate(false)
	write(t0.Add(35*time.Second), 20, 21)
	if d := db.SeriesDropped(); d[DropReasonHourlyLimit] != 5 || d[DropReasonDailyLimit] != 1 {
		t.Fatalf("SeriesDropped() = %v, want hourly_limit 5, daily_limit 1", d)
	}
	// A new day: every series may come back; known ones are re-admitted, not skipped.
	db.series.rotate(true)
	write(t0.Add(40*time.Second), 0, 10)
	write(t0.Add(40*time.Second), 20, 21)
	if d := db.SeriesDropped(); d[DropReasonHourlyLimit] != 6 || d[DropReasonDailyLimit] != 1 {
		t.Fatalf("SeriesDropped() = %v after the day, want hourly_limit 6 (0..9 fill the new hour), daily_limit 1", d)
	}
}

// The limiter forgets its hourly filter every hour and its daily one every 24 hours, each
// time in a new generation.
func TestSeriesLimiterRotates(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newSeriesLimiter(10, slog.New(slog.DiscardHandler))
		defer l.stop()
		g1 := l.cur.Load()
		if ok, gen := l.admit("x", []byte("a")); !ok || gen != 1 {
			t.Fatalf("admit = %v, %d; want true, 1", ok, gen)
		}
		time.Sleep(time.Hour - time.Second)
		synctest.Wait()
		if l.generation() != 1 {
			t.Fatalf("generation %d before the hour, want 1", l.generation())
		}
		time.Sleep(time.Second)
		synctest.Wait()
		g2 := l.cur.Load()
		if g2.n != 2 || g2.hourly == g1.hourly || g2.daily != g1.daily {
			t.Fatalf("after an hour: generation %d (want 2), hourly replaced %v (want true), daily replaced %v (want false)", g2.n, g2.hourly != g1.hourly, g2.daily != g1.daily)
		}
		if g2.hourly.CurrentItems() != 0 || g2.daily.CurrentItems() != 1 {
			t.Fatalf("after an hour: hourly holds %d (want 0), daily %d (want 1)", g2.hourly.CurrentItems(), g2.daily.CurrentItems())
		}
		time.Sleep(23 * time.Hour)
		synctest.Wait()
		g24 := l.cur.Load()
		if g24.n != 25 || g24.daily == g1.daily || g24.daily.CurrentItems() != 0 {
			t.Fatalf("after a day: generation %d (want 25), daily replaced %v (want true)", g24.n, g24.daily != g1.daily)
		}
	})
}
