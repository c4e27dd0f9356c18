package tsdb

import (
	"fmt"
	"testing"
	"time"
)

// TestOffHeapBytes: writing series fills VictoriaMetrics' mmapped caches, which OffHeapBytes
// counts, and a closed DB holds none.
func TestOffHeapBytes(t *testing.T) {
	db := openTest(t, t.TempDir())
	before := db.OffHeapBytes()
	now := time.Now()
	var batch []Sample
	for i := range 20000 {
		batch = append(batch, Sample{Name: "offheap_test", Labels: []Label{{"key", fmt.Sprintf("k%d", i)}}, Timestamp: now.UnixMilli(), Value: 1})
	}
	if err := db.Write(batch); err != nil {
		t.Fatal(err)
	}
	db.Flush()
	after := db.OffHeapBytes()
	if after <= before {
		t.Fatalf("off-heap bytes %d after 20000 new series, %d before: want more", after, before)
	}
	t.Logf("off-heap cache bytes: %d before, %d after 20000 series", before, after)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if n := db.OffHeapBytes(); n != 0 {
		t.Fatalf("closed DB: %d off-heap bytes, want 0", n)
	}
}
