package tsdb

import (
	"errors"
	"testing"
	"time"
)

// Write stores only samples inside [now-retention, now+MaxAhead] on the DB clock; the others
// are refused with a *TimestampError naming the bound, and never reach the latest table.
func TestWriteRefusesTimestampsOutsideWindow(t *testing.T) {
	clock := &fakeClock{t: time.Now().Add(-time.Hour).Truncate(time.Second)}
	db := openClocked(t, t.TempDir(), clock)
	defer db.Close()
	now := clock.Now()
	oldest, newest := db.AcceptWindow()
	if want := now.Add(-30 * 24 * time.Hour).UnixMilli(); oldest != want {
		t.Fatalf("oldest %d, want %d", oldest, want)
	}
	if want := now.Add(DefaultMaxAhead).UnixMilli(); newest != want {
		t.Fatalf("newest %d, want %d", newest, want)
	}
	lbl := []Label{{"instance", "r4"}}
	f := func(ts int64, wantErr error) {
		t.Helper()
		err := db.Write([]Sample{
			{Name: "ok_before", Labels: lbl, Timestamp: now.UnixMilli(), Value: 1},
			{Name: "redis_up", Labels: lbl, Timestamp: ts, Value: 1},
			{Name: "ok_after", Labels: lbl, Timestamp: now.UnixMilli(), Value: 2},
		})
		if wantErr == nil {
			if err != nil {
				t.Fatalf("ts %d: %v", ts, err)
			}
			return
		}
		var te *TimestampError
		if !errors.Is(err, wantErr) || !errors.As(err, &te) || te.Timestamp != ts {
			t.Fatalf("ts %d: error %v, want %v", ts, err, wantErr)
		}
		if err := db.CheckTimestamp(ts); !errors.Is(err, wantErr) {
			t.Fatalf("CheckTimestamp(%d) = %v, want %v", ts, err, wantErr)
		}
		if _, ok := db.LatestOne("redis_up", lbl...); ok {
			t.Fatalf("ts %d: refused sample is in the latest table", ts)
		}
		for _, name := range []string{"ok_before", "ok_after"} {
			if _, ok := db.LatestOne(name, lbl...); !ok {
				t.Fatalf("ts %d: valid sample %s was not stored", ts, name)
			}
		}
	}
	f(4102444800000, ErrTimestampTooNew) // 2100-01-01, the sample
	f(newest+1, ErrTimestampTooNew)
	f(oldest-1, ErrTimestampTooOld)
	if msg := db.CheckTimestamp(4102444800000).Error(); msg != "timestamp 2100-01-01T00:00:00Z is more than 10m0s ahead of now ("+now.UTC().Format(time.RFC3339)+")" {
		t.Fatalf("message %q", msg)
	}
	if msg := db.CheckTimestamp(oldest - 1000).Error(); msg != "timestamp "+time.UnixMilli(oldest-1000).UTC().Format(time.RFC3339Nano)+" is older than the retention of 30d" {
		t.Fatalf("message %q", msg)
	}
	if db.SamplesWritten() != 6 {
		t.Fatalf("%d samples written, want 6 (the valid ones)", db.SamplesWritten())
	}
	f(oldest+time.Hour.Milliseconds(), nil) // (VictoriaMetrics drops oldest itself: it uses the wall clock)
	f(newest, nil)                          // the far end is inside
	if lv, ok := db.LatestOne("redis_up", lbl...); !ok || lv.Timestamp != newest {
		t.Fatalf("latest %+v %v, want the sample at now+MaxAhead", lv, ok)
	}
}

// A sample stamped ahead of the clock (inside MaxAhead) is the latest value only until a sample
// stamped after its arrival comes: a pushed redis_up=1 five minutes ahead does not hide the
// sampler's redis_up=0 written ten seconds later.
func TestLatestFutureSampleDoesNotMaskLaterWrites(t *testing.T) {
	clock := &fakeClock{t: time.Now().Add(-time.Hour).Truncate(time.Second)}
	db := openClocked(t, t.TempDir(), clock)
	defer db.Close()
	lbl := []Label{{"instance", "r4"}}
	t0 := clock.Now()
	write := func(ts time.Time, v float64) {
		t.Helper()
		if err := db.Write([]Sample{{Name: "redis_up", Labels: lbl, Timestamp: ts.UnixMilli(), Value: v}}); err != nil {
			t.Fatal(err)
		}
	}
	latest := func() LatestValue {
		t.Helper()
		lv, ok := db.LatestOne("redis_up", lbl...)
		if !ok {
			t.Fatal("redis_up not in the latest table")
		}
		return lv
	}
	write(t0.Add(5*time.Minute), 1)
	if lv := latest(); lv.Value != 1 {
		t.Fatalf("future sample not recorded: %+v", lv)
	}
	write(t0.Add(-time.Second), 0) // stamped before the future one arrived: a late sample
	if lv := latest(); lv.Value != 1 || lv.PrevValue != 0 {
		t.Fatalf("late sample: %+v", lv)
	}
	now := clock.Add(10 * time.Second)
	write(now, 0)
	if lv := latest(); lv.Value != 0 || lv.Timestamp != now.UnixMilli() {
		t.Fatalf("sampler's value masked by the future one: %+v", lv)
	}
	now = clock.Add(10 * time.Second)
	write(now, 0)
	if lv := latest(); lv.Value != 0 || lv.Timestamp != now.UnixMilli() || lv.PrevTimestamp != now.Add(-10*time.Second).UnixMilli() {
		t.Fatalf("next sampler write: %+v", lv)
	}
	// A stale marker stamped now ends a series whose newest sample is stamped ahead.
	write(clock.Add(time.Second).Add(5*time.Minute), 1)
	write(clock.Add(time.Second), StaleMarker())
	if _, ok := db.LatestOne("redis_up", lbl...); ok {
		t.Fatal("stale marker did not end the series")
	}
}

// A sample stamped ahead of the DB clock is not preloaded after a restart either: the
// sampler's next value is the latest one. (The preload read up to the wall clock, which here
// runs 5 minutes ahead of the DB clock.)
func TestPreloadSkipsSamplesAheadOfTheClock(t *testing.T) {
	dir := t.TempDir()
	clock := &fakeClock{t: time.Now().Add(-5 * time.Minute).Truncate(time.Second)}
	db := openClocked(t, dir, clock)
	lbl := []Label{{"instance", "r4"}}
	t0 := clock.Now()
	if err := db.Write([]Sample{{Name: "redis_up", Labels: lbl, Timestamp: t0.Add(4 * time.Minute).UnixMilli(), Value: 1}}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openClocked(t, dir, clock)
	defer db.Close()
	now := clock.Add(10 * time.Second)
	if err := db.Write([]Sample{{Name: "redis_up", Labels: lbl, Timestamp: now.UnixMilli(), Value: 0}}); err != nil {
		t.Fatal(err)
	}
	if lv, ok := db.LatestOne("redis_up", lbl...); !ok || lv.Value != 0 || lv.Timestamp != now.UnixMilli() {
		t.Fatalf("latest after the restart: %+v %v, want the sampler's 0 at %d", lv, ok, now.UnixMilli())
	}
}
