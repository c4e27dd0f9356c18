package tsdb

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"time"
)

// countFreshByScan is LatestCount as it was before freshCount: every series visited.
func countFreshByScan(t *latestTable, nowMs int64) int {
	n := 0
	for _, m := range t.byName {
		for _, lv := range m {
			if lv.fresh(nowMs) {
				n++
			}
		}
	}
	return n
}

// LatestCount's kept count must equal a scan of the table at every moment, through whatever
// the table's writers do: new series, samples on time, late, ahead of the clock and at the
// same timestamp (each moves a series' staleness differently), stale markers, sweeps, long
// gaps (which lengthen a series' window to 3 intervals) and a clock that goes back.
func TestLatestCountMatchesScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	tab := newLatestTable()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	last := map[int]int64{} // series -> newest timestamp written
	recounts := 0
	for step := range 20000 {
		switch r := rng.IntN(100); {
		case r < 10: // time passes: seconds, minutes, or a long gap
			now += []int64{1_000, 10_000, 60_000, 4 * 60_000, 20 * 60_000}[rng.IntN(5)] + rng.Int64N(1000)
		case r < 11: // the clock goes back
			now -= rng.Int64N(10 * 60_000)
		case r < 13:
			tab.sweep(now)
		default:
			id := rng.IntN(60)
			ts := now
			switch rng.IntN(10) {
			case 0: // late, possibly between the two samples held
				ts = now - rng.Int64N(15*60_000)
			case 1: // ahead of the clock
				ts = now + rng.Int64N(60_000)
			case 2: // the same timestamp again
				if l, ok := last[id]; ok {
					ts = l
				}
			}
			v := float64(step)
			if rng.IntN(15) == 0 {
				v = StaleMarker()
			}
			name := "m" + strconv.Itoa(id%7)
			tab.putAt(name, []Label{{"id", strconv.Itoa(id)}}, ts, v, now)
			last[id] = max(last[id], ts)
		}
		valid := tab.fresh.valid && tab.fresh.at <= now && now <= tab.fresh.until
		if !valid {
			recounts++
		}
		if got, want := tab.countFresh(now), countFreshByScan(tab, now); got != want {
			t.Fatalf("step %d at %d: LatestCount %d, a scan counts %d (kept count %+v)", step, now, got, want, tab.fresh)
		}
	}
	// The point of keeping the count: most reads do not visit the table.
	if recounts > 20000/5 {
		t.Fatalf("the table was scanned on %d of 20000 reads", recounts)
	}
	t.Logf("scanned on %d of 20000 reads", recounts)
}

// BenchmarkLatestCount400k reads the fresh count of a table of 400,000 series (100,000
// watched keys) written every 10 s, as self-monitoring does between two rounds: "kept" is
// LatestCount, "scan" the scan it replaced.
func BenchmarkLatestCount400k(b *testing.B) {
	tab := newLatestTable()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	for round := range 2 {
		for i := range 400_000 {
			tab.putAt("redis_key_"+strconv.Itoa(i%4), []Label{{"key", strconv.Itoa(i / 4)}}, now, float64(round), now)
		}
		now += 10_000
	}
	b.Run("kept", func(b *testing.B) {
		for b.Loop() {
			tab.countFresh(now)
		}
	})
	b.Run("scan", func(b *testing.B) {
		for b.Loop() {
			countFreshByScan(tab, now)
		}
	})
}
