package tsdb

import (
	"math"
	"strconv"
	"testing"
	"time"
)

// A Write of series already known allocates nothing per sample: names come from the latest
// table's entries, the limiter is not asked again, buffers are reused. redwatch's part of
// Write (buildRows, the row builders) allocates nothing at all; the whole Write is allowed a
// couple of allocations per call for VictoriaMetrics' AddRows (none today), except under the
// race detector, where VictoriaMetrics' sync.Pools drop buffers at random.
func TestWriteKnownSeriesAllocs(t *testing.T) {
	db := openTest(t, t.TempDir())
	defer db.Close()
	measure := func(n int) (own, whole float64) {
		batch := make([]Sample, n)
		for i := range batch {
			batch[i] = Sample{Name: "alloc_value", Labels: []Label{{"key", "k" + strconv.Itoa(i)}, {"instance", "cache"}}}
		}
		ts := time.Now().Add(-time.Hour).UnixMilli()
		next := func() {
			ts += 1000
			for i := range batch {
				batch[i].Timestamp, batch[i].Value = ts, float64(i)
			}
		}
		write := func() {
			next()
			if err := db.Write(batch); err != nil {
				t.Fatal(err)
			}
		}
		write() // the series enter the table
		write() // and storage's caches
		// AllocsPerRun counts the allocations of the whole process, VictoriaMetrics' background
		// flushers and mergers included, so the least of a few measurements is buildRows' own.
		own = math.Inf(1)
		for range 5 {
			own = min(own, testing.AllocsPerRun(50, func() {
				next()
				rb := db.getRowBuilder()
				if err := db.buildRows(batch, db.now().UnixMilli(), rb); err != nil || len(rb.mrs) != n {
					t.Fatalf("buildRows: %v, %d rows, want %d", err, len(rb.mrs), n)
				}
				db.putRowBuilder(rb)
			}))
		}
		whole = math.Inf(1)
		for range 5 {
			whole = min(whole, testing.AllocsPerRun(50, write))
		}
		return own, whole
	}
	own, whole := measure(2000)
	t.Logf("allocations per Write of 2000 known samples: %.1f in buildRows, %.1f in all", own, whole)
	if own != 0 {
		t.Errorf("buildRows of 2000 known samples: %.1f allocations, want 0", own)
	}
	if !raceEnabled && whole > 2 {
		t.Errorf("Write of 2000 known samples: %.1f allocations, want at most 2 (AddRows')", whole)
	}
}
