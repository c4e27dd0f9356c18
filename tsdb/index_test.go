package tsdb

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestIndexModeBelongsToTheStore: a new store is indexed without the per-day index and says so
// with its marker; a store an older redwatch wrote keeps its per-day index. Either way a series
// keeps one identity across restarts that lost VictoriaMetrics' name cache (a kill -9 does), so
// its samples before and after read back as one series. The two series differ only in their
// last label, so their identities sort next to each other: second identities (what opening a
// per-day store without its per-day index gives) sort after both first ones, and each series
// reads back split in two (measured: 4 series of 1 sample each).
func TestIndexModeBelongsToTheStore(t *testing.T) {
	for _, tc := range []struct {
		name       string
		older      bool // VictoriaMetrics' directories exist, without the marker, before the first Open
		wantPerDay bool
	}{
		{"new store", false, false},
		{"store of an older redwatch", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			raw, rollup := filepath.Join(dir, "raw"), filepath.Join(dir, rollupDir)
			if tc.older {
				for _, p := range []string{raw, rollup} {
					// VictoriaMetrics' metadata directory: what any store it opened holds.
					if err := os.MkdirAll(filepath.Join(p, "metadata"), 0o750); err != nil {
						t.Fatal(err)
					}
				}
			}
			t0 := time.Now().Add(-time.Minute).Truncate(time.Second)
			for i := range 2 {
				db := openTest(t, dir)
				for _, p := range []string{raw, rollup} {
					_, err := os.Stat(filepath.Join(p, globalIndexMarker))
					if has := err == nil; has == tc.wantPerDay {
						t.Fatalf("open %d: %s has the marker: %v (err %v)", i, p, has, err)
					}
				}
				ts := t0.Add(time.Duration(i) * time.Second).UnixMilli()
				if err := db.Write([]Sample{
					{Name: "idx", Labels: []Label{{"a", "x"}, {"b", "y"}, {"c", "1"}}, Timestamp: ts, Value: float64(i)},
					{Name: "idx", Labels: []Label{{"a", "x"}, {"b", "y"}, {"c", "2"}}, Timestamp: ts, Value: float64(i)},
				}); err != nil {
					t.Fatal(err)
				}
				if err := db.Close(); err != nil {
					t.Fatal(err)
				}
				// Lose the name -> series cache, as a kill -9 does: the next run finds the
				// series through the index alone.
				if err := os.RemoveAll(filepath.Join(raw, "cache")); err != nil {
					t.Fatal(err)
				}
			}
			db := openTest(t, dir)
			defer db.Close()
			got, err := db.Raw(context.Background(), mustSel(t, "idx"), t0.Add(-time.Minute), time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 2 || len(got[0].Points) != 2 || len(got[1].Points) != 2 {
				t.Fatalf("want two series, each with both runs' samples, got %+v", got)
			}
		})
	}
}
