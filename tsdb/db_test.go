package tsdb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redwatch/redwatch/internal/testutil"
)

func openTest(t testing.TB, dir string) *DB {
	t.Helper()
	db, err := Open(Options{Path: dir, Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		t.Fatalf("Open: %s", err)
	}
	return db
}

func mustSel(t testing.TB, s string) *Selector {
	t.Helper()
	sel, err := ParseSelector(s)
	if err != nil {
		t.Fatalf("ParseSelector(%q): %s", s, err)
	}
	return sel
}

// base is a recent, minute-aligned instant: storage rejects samples outside the retention.
func base() time.Time { return time.Now().Add(-2 * time.Hour).Truncate(time.Minute) }

func TestWriteReadBackExact(t *testing.T) {
	db := openTest(t, t.TempDir())
	defer db.Close()
	t0 := base()
	hostile := "<script>alert(1)</script>\x00\xff" + strings.Repeat("k", 10<<10)
	var samples []Sample
	for i := 0; i < 100; i++ {
		ts := t0.Add(time.Duration(i) * 10 * time.Second).UnixMilli()
		samples = append(samples,
			Sample{Name: "m_gauge", Labels: []Label{{"host", "a"}}, Timestamp: ts, Value: float64(i) * 1.5},
			Sample{Name: "m_gauge", Labels: []Label{{"host", "b"}}, Timestamp: ts, Value: -float64(i)},
			Sample{Name: "m_key", Labels: []Label{{"key", hostile}}, Timestamp: ts, Value: 0.1 + float64(i)},
		)
	}
	if err := db.Write(samples); err != nil {
		t.Fatalf("Write: %s", err)
	}
	db.Flush()
	got, err := db.Raw(context.Background(), mustSel(t, `m_gauge{host="a"}`), t0, t0.Add(time.Hour))
	if err != nil {
		t.Fatalf("Raw: %s", err)
	}
	if len(got) != 1 || len(got[0].Points) != 100 {
		t.Fatalf("want 1 series with 100 points, got %d series %+v", len(got), got)
	}
	for i, p := range got[0].Points {
		if p.Value != float64(i)*1.5 || p.Timestamp != t0.Add(time.Duration(i)*10*time.Second).UnixMilli() {
			t.Fatalf("point %d: got %+v", i, p)
		}
	}
	got, err = db.Raw(context.Background(), mustSel(t, `m_key`), t0, t0.Add(time.Hour))
	if err != nil {
		t.Fatalf("Raw: %s", err)
	}
	// Not valid UTF-8 (\xff): stored as LabelValue encodes it.
	if len(got) != 1 || got[0].Label("key") != LabelValue(hostile) || got[0].Points[7].Value != 7.1 {
		t.Fatalf("hostile key did not round-trip: %d series", len(got))
	}
	// Longer than MaxLabelValueBytes: stored shortened, the invalid byte encoded.
	if k := got[0].Label("key"); !strings.HasPrefix(k, "<script>alert(1)</script>\x00"+`\xff`+strings.Repeat("k", 3000)) || len(k) > MaxLabelValueBytes {
		t.Fatalf("hostile key encoded as %.60q (%d bytes)", k, len(k))
	}
	lv, ok := db.LatestOne("m_gauge", Label{"host", "b"})
	if !ok || lv.Value != -99 || lv.PrevValue != -98 {
		t.Fatalf("LatestOne: %+v %v", lv, ok)
	}
}

func TestWriteRejectsBadSamplesKeepsGood(t *testing.T) {
	db := openTest(t, t.TempDir())
	defer db.Close()
	ts := base().UnixMilli()
	err := db.Write([]Sample{
		{Name: "good_one", Timestamp: ts, Value: 1},
		{Name: "bad-name", Timestamp: ts, Value: 2},
		{Name: "good_two", Labels: []Label{{"0bad", "x"}}, Timestamp: ts, Value: 3},
		{Name: "good_three", Timestamp: ts, Value: 4},
	})
	if err == nil || !strings.Contains(err.Error(), `invalid metric name "bad-name"`) {
		t.Fatalf("want error naming bad-name, got %v", err)
	}
	db.Flush()
	got, err := db.SeriesMatching(context.Background(), mustSel(t, `{__name__=~"good_.*"}`), base(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Name != "good_one" || got[1].Name != "good_three" {
		t.Fatalf("want good_one and good_three, got %+v", got)
	}
}

func TestSelectors(t *testing.T) {
	db := openTest(t, t.TempDir())
	defer db.Close()
	ts := base().UnixMilli()
	var samples []Sample
	for _, inst := range []string{"cache", "queue", "sessions"} {
		for _, key := range []string{"q:1", "q:2", "other"} {
			samples = append(samples, Sample{Name: "redis_key_length", Labels: []Label{{"instance", inst}, {"key", key}}, Timestamp: ts, Value: 1})
		}
	}
	samples = append(samples, Sample{Name: "redis_up", Labels: []Label{{"instance", "cache"}}, Timestamp: ts, Value: 1})
	if err := db.Write(samples); err != nil {
		t.Fatal(err)
	}
	db.Flush()
	f := func(selector string, want int) {
		t.Helper()
		sel := mustSel(t, selector)
		got, err := db.SeriesMatching(context.Background(), sel, base().Add(-time.Minute), time.Now())
		if err != nil {
			t.Fatalf("%s: %s", selector, err)
		}
		if len(got) != want {
			t.Fatalf("%s: storage gave %d series, want %d", selector, len(got), want)
		}
		if n := len(db.Latest(sel)); n != want {
			t.Fatalf("%s: latest table gave %d series, want %d", selector, n, want)
		}
	}
	f(`redis_key_length`, 9)
	f(`redis_key_length{instance="cache"}`, 3)
	f(`redis_key_length{instance!="cache"}`, 6)
	f(`redis_key_length{key=~"q:.*"}`, 6)
	f(`redis_key_length{key!~"q:.*",instance=~"cache|queue"}`, 2)
	f(`{instance="cache"}`, 4)
	f(`{__name__=~"redis_.*",key=""}`, 1)
	f(`redis_key_length{key="q:1" or instance="sessions"}`, 5)
	f(`redis_key_length{instance="nope"}`, 0)

	for _, bad := range []string{``, `rate(x[5m])`, `x + 1`, `{}`, `x{a=~"("}`} {
		if _, err := ParseSelector(bad); err == nil {
			t.Errorf("ParseSelector(%q): want error", bad)
		}
	}
}

func TestQueryRangeAggregates(t *testing.T) {
	db := openTest(t, t.TempDir())
	defer db.Close()
	t0 := base()
	// 1 sample every 10 s, values 0..59 over 10 minutes.
	var samples []Sample
	for i := 0; i < 60; i++ {
		samples = append(samples, Sample{Name: "g", Timestamp: t0.Add(time.Duration(i) * 10 * time.Second).UnixMilli(), Value: float64(i)})
	}
	if err := db.Write(samples); err != nil {
		t.Fatal(err)
	}
	db.Flush()
	f := func(agg Agg, step time.Duration, steps int, want []float64) {
		t.Helper()
		// Steps at t0+step, t0+2*step, ... each covering (t-step, t].
		got, err := db.QueryRange(context.Background(), RangeQuery{Selector: mustSel(t, "g"), Start: t0.Add(step), End: t0.Add(time.Duration(steps) * step), Step: step, Agg: agg})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 {
			t.Fatalf("%s: want 1 series, got %d", agg, len(got))
		}
		var vals []float64
		for _, p := range got[0].Points {
			vals = append(vals, p.Value)
		}
		if fmt.Sprint(vals) != fmt.Sprint(want) {
			t.Fatalf("%s step %s: got %v want %v", agg, step, vals, want)
		}
	}
	// A 1-minute step covers samples 6k+1..6k+6 (timestamps in (t-60s, t]).
	f(AggLast, time.Minute, 3, []float64{6, 12, 18})
	f(AggMin, time.Minute, 3, []float64{1, 7, 13})
	f(AggMax, time.Minute, 3, []float64{6, 12, 18})
	f(AggAvg, time.Minute, 3, []float64{3.5, 9.5, 15.5})
	f(AggRate, time.Minute, 3, []float64{0.1, 0.1, 0.1})
	// A step finer than the samples carries the last value forward, and rate stays smooth.
	f(AggAvg, 5*time.Second, 4, []float64{0, 1, 1, 2})
	// At t0+5s only one sample exists: no rate yet.
	f(AggRate, 5*time.Second, 4, []float64{0.1, 0.1, 0.1})

	// Nothing past the lookback after the data ends.
	got, err := db.QueryRange(context.Background(), RangeQuery{Selector: mustSel(t, "g"), Start: t0.Add(20 * time.Minute), End: t0.Add(30 * time.Minute), Step: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Fatalf("want no points after lookback, got %+v", got)
	}
	if _, err := db.QueryRange(context.Background(), RangeQuery{Selector: mustSel(t, "g"), Start: t0, End: t0.Add(24 * time.Hour), Step: time.Second}); err == nil {
		t.Fatal("want error for too many points")
	}
}

func TestRateAcrossCounterReset(t *testing.T) {
	db := openTest(t, t.TempDir())
	defer db.Close()
	t0 := base()
	// +10 per 10 s, then a restart at i=30 from 0, then +10 per 10 s again.
	var samples []Sample
	for i := 0; i < 60; i++ {
		v := float64(1000 + i*10)
		if i >= 30 {
			v = float64((i - 30) * 10)
		}
		samples = append(samples, Sample{Name: "c_total", Timestamp: t0.Add(time.Duration(i) * 10 * time.Second).UnixMilli(), Value: v})
	}
	if err := db.Write(samples); err != nil {
		t.Fatal(err)
	}
	db.Flush()
	got, err := db.QueryRange(context.Background(), RangeQuery{Selector: mustSel(t, "c_total"), Start: t0.Add(time.Minute), End: t0.Add(9 * time.Minute), Step: time.Minute, Agg: AggRate})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range got[0].Points {
		// Every minute but the one with the reset is exactly 1/s; the reset minute loses only
		// the increase up to the unseen zero crossing (0 instead of 10 for one interval).
		if p.Value < 0 || p.Value > 1.0001 {
			t.Fatalf("rate at %s = %v: a reset must not give a negative or huge rate", time.UnixMilli(p.Timestamp), p.Value)
		}
	}
	if len(got[0].Points) != 9 {
		t.Fatalf("want 9 points, got %d", len(got[0].Points))
	}
	lv, _ := db.LatestOne("c_total")
	if r, ok := lv.Rate(); !ok || r != 1 {
		t.Fatalf("latest rate = %v %v, want 1", r, ok)
	}
}

func TestRetentionDropsOldSamples(t *testing.T) {
	db, err := Open(Options{Path: t.TempDir(), Retention: 24 * time.Hour, Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Now()
	if err := db.Write([]Sample{
		{Name: "r", Labels: []Label{{"age", "old"}}, Timestamp: now.Add(-72 * time.Hour).UnixMilli(), Value: 1},
		{Name: "r", Labels: []Label{{"age", "new"}}, Timestamp: now.Add(-time.Hour).UnixMilli(), Value: 2},
	}); !errors.Is(err, ErrTimestampTooOld) {
		t.Fatalf("Write: %v, want ErrTimestampTooOld for the old sample", err)
	}
	db.Flush()
	got, err := db.Raw(context.Background(), mustSel(t, "r"), now.Add(-100*time.Hour), now)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Label("age") != "new" {
		t.Fatalf("want only the sample inside retention, got %+v", got)
	}
	if _, err := Open(Options{Path: t.TempDir(), Retention: time.Hour}); err == nil {
		t.Fatal("want error for retention below 1 day")
	}
}

func TestReopenKeepsData(t *testing.T) {
	dir := t.TempDir()
	db := openTest(t, dir)
	now := time.Now().Add(-time.Minute)
	if err := db.Write([]Sample{
		{Name: "persist", Labels: []Label{{"k", "v"}}, Timestamp: now.Add(-10 * time.Second).UnixMilli(), Value: 41},
		{Name: "persist", Labels: []Label{{"k", "v"}}, Timestamp: now.UnixMilli(), Value: 42},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(Options{Path: dir}); err == nil || !strings.Contains(err.Error(), "in use by another process") {
		t.Fatalf("second Open of a locked dir: want a clear error, got %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Write([]Sample{{Name: "x", Timestamp: 1, Value: 1}}); err != ErrClosed {
		t.Fatalf("Write after Close: %v", err)
	}
	db = openTest(t, dir)
	defer db.Close()
	got, err := db.Raw(context.Background(), mustSel(t, "persist"), now.Add(-time.Hour), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || len(got[0].Points) != 2 || got[0].Points[1].Value != 42 {
		t.Fatalf("data lost across reopen: %+v", got)
	}
	lv, ok := db.LatestOne("persist", Label{"k", "v"})
	if !ok || lv.Value != 42 || lv.PrevValue != 41 {
		t.Fatalf("latest table not preloaded: %+v %v", lv, ok)
	}
}

func TestStatsAndPing(t *testing.T) {
	db := openTest(t, t.TempDir())
	defer db.Close()
	if err := db.Write([]Sample{{Name: "s", Timestamp: base().UnixMilli(), Value: 1}}); err != nil {
		t.Fatal(err)
	}
	db.Flush()
	st, err := db.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Rows < 1 || st.Series < 1 || st.DiskFreeBytes == 0 || st.DiskUsedBytes == 0 || st.SamplesWritten != 1 {
		t.Fatalf("stats: %+v", st)
	}
	if _, err := db.Ping(context.Background()); err != nil {
		t.Fatalf("Ping: %s", err)
	}
}

func TestLatestRate(t *testing.T) {
	f := func(lv LatestValue, want float64, wantOK bool) {
		t.Helper()
		got, ok := lv.Rate()
		if ok != wantOK || (ok && math.Abs(got-want) > 1e-9) {
			t.Fatalf("Rate(%+v) = %v %v, want %v %v", lv, got, ok, want, wantOK)
		}
	}
	f(LatestValue{Timestamp: 10000, Value: 100}, 0, false)
	f(LatestValue{PrevTimestamp: 0 + 1000, PrevValue: 50, Timestamp: 11000, Value: 100}, 5, true)
	f(LatestValue{PrevTimestamp: 1000, PrevValue: 500, Timestamp: 11000, Value: 100}, 10, true)
}

// VictoriaMetrics' own log lines reach our slog logger, tagged logger=vm.
func TestVMLogsRouteToSlog(t *testing.T) {
	var buf testutil.SyncBuffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	// A DB clock 400 days behind the wall clock: Write accepts the sample, VictoriaMetrics
	// (on the wall clock) finds it outside the retention and warns.
	past := func() time.Time { return time.Now().Add(-400 * 24 * time.Hour) }
	db, err := Open(Options{Path: t.TempDir(), Logger: log, Now: past})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Write([]Sample{{Name: "too_old", Timestamp: past().UnixMilli(), Value: 1}}); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, "a VictoriaMetrics warning with logger=vm in slog output", func() (bool, string) {
		out := buf.String()
		return strings.Contains(out, `"logger":"vm"`) && strings.Contains(out, `"level":"WARN"`) && strings.Contains(out, "too small timestamp"), out
	})
}

// Samples of one series that share their labels slice (a remote-write series, a range import)
// take Write's same-series path after the first: every valid one is stored and becomes the
// latest value as any sample would, an invalid one among them is refused alone, and a stale
// marker still ends the series in the latest table (a sample after it starts it again).
func TestWriteSamplesSharingLabels(t *testing.T) {
	db := openTest(t, t.TempDir())
	defer db.Close()
	t0 := base()
	at := func(i int) int64 { return t0.Add(time.Duration(i) * 10 * time.Second).UnixMilli() }
	shared := []Label{{"host", "a"}}
	var samples []Sample
	for i := range 5 {
		samples = append(samples, Sample{Name: "m_shared", Labels: shared, Timestamp: at(i), Value: float64(i)})
	}
	samples = append(samples,
		Sample{Name: "m_shared", Labels: shared, Timestamp: 0, Value: 99},    // invalid: refused alone
		Sample{Name: "m_shared", Labels: shared, Timestamp: at(7), Value: 7}, // newest
		Sample{Name: "m_shared", Labels: shared, Timestamp: at(6), Value: 6}) // late: becomes the previous one
	if err := db.Write(samples); err == nil || !strings.Contains(err.Error(), "sample 5 (m_shared)") {
		t.Fatalf("want the error of sample 5, got %v", err)
	}
	lv, ok := db.LatestOne("m_shared", Label{"host", "a"})
	if !ok || lv.Value != 7 || lv.Timestamp != at(7) || lv.PrevValue != 6 || lv.PrevTimestamp != at(6) {
		t.Fatalf("LatestOne: %+v %v", lv, ok)
	}

	ended := []Label{{"host", "b"}}
	if err := db.Write([]Sample{
		{Name: "m_shared", Labels: ended, Timestamp: at(0), Value: 1},
		{Name: "m_shared", Labels: ended, Timestamp: at(1), Value: 2},
		{Name: "m_shared", Labels: ended, Timestamp: at(2), Value: StaleMarker()},
	}); err != nil {
		t.Fatal(err)
	}
	if lv, ok := db.LatestOne("m_shared", Label{"host", "b"}); ok {
		t.Fatalf("a stale marker after shared-label samples left %+v in the latest table", lv)
	}
	if err := db.Write([]Sample{
		{Name: "m_shared", Labels: ended, Timestamp: at(3), Value: 3},
		{Name: "m_shared", Labels: ended, Timestamp: at(4), Value: 4},
	}); err != nil {
		t.Fatal(err)
	}
	if lv, ok := db.LatestOne("m_shared", Label{"host", "b"}); !ok || lv.Value != 4 || lv.PrevValue != 3 {
		t.Fatalf("after the stale marker: %+v %v", lv, ok)
	}

	db.Flush()
	got, err := db.Raw(context.Background(), mustSel(t, `m_shared{host="a"}`), t0, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || len(got[0].Points) != 7 {
		t.Fatalf("want 1 series with 7 points (0-4, 6, 7), got %+v", got)
	}
	for i, want := range []float64{0, 1, 2, 3, 4, 6, 7} {
		if p := got[0].Points[i]; p.Value != want {
			t.Fatalf("point %d: got %+v, want value %v", i, p, want)
		}
	}
}
