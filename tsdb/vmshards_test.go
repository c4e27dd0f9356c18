package tsdb

import "testing"

// The linkname reaches VictoriaMetrics' own variable (lib/storage set it from GOMAXPROCS before
// tsdb initialised) and Open leaves one raw-row buffer per partition.
func TestRawRowsShards(t *testing.T) {
	if vmShardsAtInit < 1 {
		t.Fatalf("lib/storage.numRawRowsShards read %d at init: the linkname in vmshards.go no longer names VictoriaMetrics' variable", vmShardsAtInit)
	}
	db := openTest(t, t.TempDir())
	defer db.Close()
	if numRawRowsShards != 1 {
		t.Fatalf("numRawRowsShards %d after Open, want 1", numRawRowsShards)
	}
}
