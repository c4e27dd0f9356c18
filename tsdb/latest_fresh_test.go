package tsdb

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is an injected Options.Now that tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

func openClocked(t testing.TB, dir string, c *fakeClock) *DB {
	t.Helper()
	db, err := Open(Options{Path: dir, Now: c.Now, Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		t.Fatalf("Open: %s", err)
	}
	return db
}

// visible reports how each reader of the latest table sees name{labels}: every reader must
// agree, and the answer is returned.
func visible(t *testing.T, db *DB, name string, labels ...Label) bool {
	t.Helper()
	_, one := db.LatestOne(name, labels...)
	byName := false
	for _, lv := range db.LatestByName(name) {
		byName = byName || SeriesKey(lv.Labels) == SeriesKey(sortedLabels(labels))
	}
	sel := false
	for _, lv := range db.Latest(mustSel(t, name)) {
		sel = sel || SeriesKey(lv.Labels) == SeriesKey(sortedLabels(labels))
	}
	all := false
	db.LatestAll(func(lv *LatestValue) {
		all = all || lv.Name == name && SeriesKey(lv.Labels) == SeriesKey(sortedLabels(labels))
	})
	if one != byName || one != sel || one != all {
		t.Fatalf("%s%v: readers disagree: LatestOne %v, LatestByName %v, Latest %v, LatestAll %v", name, labels, one, byName, sel, all)
	}
	return one
}

// A series not updated for 5 minutes disappears from every reader and from LatestCount, and
// the next sweep frees it; a series still written stays.
func TestLatestForgetsSeriesAfterStalenessWindow(t *testing.T) {
	clock := &fakeClock{t: time.Now().Add(-time.Hour).Truncate(time.Second)}
	db := openClocked(t, t.TempDir(), clock)
	defer db.Close()
	write := func(name, host string, v float64) {
		t.Helper()
		now := clock.Now()
		if err := db.Write([]Sample{{Name: name, Labels: []Label{{"host", host}}, Timestamp: now.UnixMilli(), Value: v}}); err != nil {
			t.Fatal(err)
		}
	}
	write("gone", "a", 1)
	write("kept", "a", 1)
	for i := 1; i <= 5; i++ { // kept is written every minute, gone never again
		clock.Add(time.Minute)
		write("kept", "a", float64(i))
	}
	// 5 minutes exactly: still fresh.
	if !visible(t, db, "gone", Label{"host", "a"}) || db.LatestCount() != 2 {
		t.Fatalf("at 5m: gone should still be fresh; count %d", db.LatestCount())
	}
	clock.Add(time.Second)
	if visible(t, db, "gone", Label{"host", "a"}) {
		t.Fatal("at 5m1s: a series not updated for more than 5 minutes is still shown")
	}
	if !visible(t, db, "kept", Label{"host", "a"}) || db.LatestCount() != 1 {
		t.Fatalf("kept must stay, count must be 1: count %d", db.LatestCount())
	}
	if db.latestHeld() != 2 {
		t.Fatalf("before the sweep the table holds 2 series, got %d", db.latestHeld())
	}
	clock.Add(time.Minute)
	write("kept", "a", 6) // a Write a minute after the last sweep sweeps
	if db.latestHeld() != 1 {
		t.Fatalf("after the sweep the table holds %d series, want 1", db.latestHeld())
	}
	// The stale series' samples stay in storage.
	db.Flush()
	got, err := db.Raw(context.Background(), mustSel(t, "gone"), clock.Now().Add(-time.Hour), clock.Now())
	if err != nil || len(got) != 1 || len(got[0].Points) != 1 {
		t.Fatalf("storage lost the stale series: %v %+v", err, got)
	}
	// A new sample brings it back.
	write("gone", "a", 2)
	if !visible(t, db, "gone", Label{"host", "a"}) {
		t.Fatal("a written series is not shown again")
	}
}

// A series sampled every 10 minutes stays fresh for 3 intervals (30 minutes), not 5 minutes.
func TestLatestStaleAfterThreeOwnIntervals(t *testing.T) {
	clock := &fakeClock{t: time.Now().Add(-3 * time.Hour).Truncate(time.Second)}
	db := openClocked(t, t.TempDir(), clock)
	defer db.Close()
	lbl := []Label{{"key", "slow"}}
	for range 2 {
		if err := db.Write([]Sample{{Name: "slow_metric", Labels: lbl, Timestamp: clock.Now().UnixMilli(), Value: 1}}); err != nil {
			t.Fatal(err)
		}
		lv, _ := db.LatestOne("slow_metric", lbl...)
		t.Logf("stale after %s", lv.StaleAfter())
		clock.Add(10 * time.Minute)
	}
	// 10 minutes after the last write: a 5-minute rule would hide it.
	if !visible(t, db, "slow_metric", lbl...) {
		t.Fatal("a 10-minute series is hidden 10 minutes after its last sample")
	}
	clock.Add(20 * time.Minute) // 30m since the last update
	if !visible(t, db, "slow_metric", lbl...) {
		t.Fatal("a 10-minute series is hidden at 3 intervals")
	}
	clock.Add(time.Second)
	if visible(t, db, "slow_metric", lbl...) {
		t.Fatal("a 10-minute series is still shown after 3 intervals")
	}
	// A series with a day-long gap does not stay for 3 days: the interval is capped at 1h.
	lv := LatestValue{PrevTimestamp: 1, Timestamp: 1 + (24 * time.Hour).Milliseconds()}
	if got := lv.StaleAfter(); got != 3*time.Hour {
		t.Fatalf("StaleAfter after a 24h gap = %s, want 3h", got)
	}
}

// A stale marker removes the series from the latest table at once; storage keeps the marker
// but reads skip it; an older marker does not remove a newer sample.
func TestStaleMarkerEndsSeries(t *testing.T) {
	clock := &fakeClock{t: time.Now().Add(-time.Hour).Truncate(time.Second)}
	db := openClocked(t, t.TempDir(), clock)
	defer db.Close()
	lbl := []Label{{"alertname", "RedisDown"}, {"alertstate", "firing"}}
	t0 := clock.Now()
	if err := db.Write([]Sample{{Name: "ALERTS", Labels: lbl, Timestamp: t0.UnixMilli(), Value: 1}}); err != nil {
		t.Fatal(err)
	}
	t1 := clock.Add(10 * time.Second)
	// A marker older than the newest sample is ignored.
	if err := db.Write([]Sample{{Name: "ALERTS", Labels: lbl, Timestamp: t0.Add(-time.Second).UnixMilli(), Value: StaleMarker()}}); err != nil {
		t.Fatal(err)
	}
	if !visible(t, db, "ALERTS", lbl...) {
		t.Fatal("an older stale marker removed a newer sample")
	}
	if err := db.Write([]Sample{{Name: "ALERTS", Labels: lbl, Timestamp: t1.UnixMilli(), Value: StaleMarker()}}); err != nil {
		t.Fatal(err)
	}
	if visible(t, db, "ALERTS", lbl...) || db.LatestCount() != 0 || db.latestHeld() != 0 {
		t.Fatalf("a stale marker did not end the series: count %d, held %d", db.LatestCount(), db.latestHeld())
	}
	db.Flush()
	got, err := db.Raw(context.Background(), mustSel(t, "ALERTS"), t0.Add(-time.Minute), t1.Add(time.Minute))
	if err != nil || len(got) != 1 || len(got[0].Points) != 1 || got[0].Points[0].Value != 1 {
		t.Fatalf("Raw after a stale marker: want the one real point, got %v %+v", err, got)
	}
	if !IsStaleMarker(StaleMarker()) || IsStaleMarker(math.NaN()) || IsStaleMarker(1) {
		t.Fatal("IsStaleMarker must tell the marker from other NaNs")
	}
	// A plain NaN is a value, not an end.
	if err := db.Write([]Sample{{Name: "nan_gauge", Timestamp: t1.UnixMilli(), Value: math.NaN()}}); err != nil {
		t.Fatal(err)
	}
	if lv, ok := db.LatestOne("nan_gauge"); !ok || !math.IsNaN(lv.Value) {
		t.Fatalf("a NaN gauge: %+v %v", lv, ok)
	}
}

// Series preloaded at Open are fresh only if their last sample is recent.
func TestPreloadedStaleSeriesHidden(t *testing.T) {
	dir := t.TempDir()
	now := time.Now().Truncate(time.Second)
	clock := &fakeClock{t: now}
	db := openClocked(t, dir, clock)
	if err := db.Write([]Sample{
		{Name: "old", Timestamp: now.Add(-10 * time.Minute).UnixMilli(), Value: 1},
		{Name: "recent", Timestamp: now.Add(-time.Minute).UnixMilli(), Value: 1},
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openClocked(t, dir, clock)
	defer db.Close()
	if visible(t, db, "old") {
		t.Fatal("a series last sampled 10 minutes before the restart is shown as current")
	}
	if !visible(t, db, "recent") {
		t.Fatal("a series sampled a minute before the restart is not preloaded")
	}
}

// One hour of churn: 1,000 new series a minute (session keys expiring every minute) plus 100
// steady ones, through DB.Write with the clock moving a minute per round. The latest table
// must hold about 6 minutes of churn, not an hour of it.
func TestLatestChurnDoesNotGrow(t *testing.T) {
	held, fresh, heap, rss := churn(t, 60, 1000)
	for m := 0; m < len(held); m += 10 {
		t.Logf("minute %2d: held %5d, fresh %5d, heap %5.1f MiB, RSS %5.1f MiB", m+1, held[m], fresh[m], float64(heap[m])/(1<<20), float64(rss[m])/(1<<20))
	}
	m := len(held) - 1
	t.Logf("minute %2d: held %5d, fresh %5d, heap %5.1f MiB, RSS %5.1f MiB", m+1, held[m], fresh[m], float64(heap[m])/(1<<20), float64(rss[m])/(1<<20))
	// Fresh: the steady series plus 6 rounds (5 minutes and the current one), no more, no fewer.
	if fresh[len(fresh)-1] != 100+6*1000 {
		t.Fatalf("fresh series after an hour of churn: %d, want %d", fresh[len(fresh)-1], 100+6*1000)
	}
	// Held: fresh plus at most one sweep period of stale ones.
	if held[len(held)-1] > 100+7*1000 {
		t.Fatalf("series held in memory after an hour of churn: %d (before the fix: 60,100)", held[len(held)-1])
	}
}

// churn runs minutes rounds of perMinute new series each and returns, after each round, the
// series held, the fresh series, the heap in use and the process' resident memory (bytes).
func churn(t testing.TB, minutes, perMinute int) (held, fresh []int, heap, rss []uint64) {
	clock := &fakeClock{t: time.Now().Add(-2 * time.Hour).Truncate(time.Minute)}
	db := openClocked(t, t.TempDir(), clock)
	defer db.Close()
	batch := make([]Sample, 0, perMinute+100)
	for m := range minutes {
		ts := clock.Now().UnixMilli()
		batch = batch[:0]
		for i := range 100 {
			batch = append(batch, Sample{Name: "redis_up", Labels: []Label{{"instance", fmt.Sprint("steady-", i)}}, Timestamp: ts, Value: 1})
		}
		for i := range perMinute {
			batch = append(batch, Sample{Name: "redis_key_length", Labels: []Label{{"instance", "main"}, {"db", "0"}, {"key", fmt.Sprintf("session:%d:%d", m, i)}}, Timestamp: ts, Value: float64(i)})
		}
		if err := db.Write(batch); err != nil {
			t.Fatal(err)
		}
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		held, fresh, heap = append(held, db.latestHeld()), append(fresh, db.LatestCount()), append(heap, ms.HeapInuse)
		rss = append(rss, residentBytes())
		clock.Add(time.Minute)
	}
	return held, fresh, heap, rss
}

// residentBytes is VmRSS of this process (0 when /proc is not there).
func residentBytes() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
