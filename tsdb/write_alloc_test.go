package tsdb

import (
	"strconv"
	"testing"
	"time"
)

// A Write of series already known allocates nothing per sample: names come from the latest
// table's entries, the limiter is not asked again, buffers are reused (none at all today;
// a couple per call are allowed for VictoriaMetrics' AddRows).
func TestWriteKnownSeriesAllocs(t *testing.T) {
	db := openTest(t, t.TempDir())
	defer db.Close()
	allocsPerWrite := func(n int) float64 {
		batch := make([]Sample, n)
		for i := range batch {
			batch[i] = Sample{Name: "alloc_value", Labels: []Label{{"key", "k" + strconv.Itoa(i)}, {"instance", "cache"}}}
		}
		ts := time.Now().Add(-time.Hour).UnixMilli()
		write := func() {
			ts += 1000
			for i := range batch {
				batch[i].Timestamp, batch[i].Value = ts, float64(i)
			}
			if err := db.Write(batch); err != nil {
				t.Fatal(err)
			}
		}
		write() // the series enter the table
		write() // and storage's caches
		return testing.AllocsPerRun(50, write)
	}
	small, big := allocsPerWrite(100), allocsPerWrite(2000)
	t.Logf("allocations per Write: %.1f of 100 samples, %.1f of 2000", small, big)
	if perSample := (big - small) / 1900; perSample > 0.001 {
		t.Errorf("%.3f allocations per sample of a known series (%.1f per Write of 100, %.1f of 2000), want 0", perSample, small, big)
	}
	if big > 2 {
		t.Errorf("%.1f allocations per Write of 2000 known samples, want at most 2", big)
	}
}
