package tsdb

import "testing"

// Open leaves VictoriaMetrics one raw-row buffer per partition (initVM panics, in every test
// that opens a store, when the linkname no longer reaches VictoriaMetrics' variable).
func TestRawRowsShards(t *testing.T) {
	db := openTest(t, t.TempDir())
	defer db.Close()
	if numRawRowsShards != 1 {
		t.Fatalf("numRawRowsShards %d after Open, want 1", numRawRowsShards)
	}
}
