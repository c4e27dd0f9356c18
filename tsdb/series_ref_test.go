package tsdb

import (
	"context"
	"testing"
	"time"
)

// A Sample.Ref lets later Writes of its series skip the lookup, and is never trusted past what
// it knows: a series removed from the latest table (a stale marker written without the Ref)
// or another DB's table sends the sample down the full path again, and a bad timestamp is
// still refused.
func TestSeriesRef(t *testing.T) {
	db := openTest(t, t.TempDir())
	defer db.Close()
	t0 := base()
	labels := []Label{{"key", "q"}, {"instance", "cache"}} // unsorted, as callers may give them
	ref := &SeriesRef{}
	write := func(db *DB, at time.Duration, v float64, r *SeriesRef) error {
		return db.Write([]Sample{{Name: "ref_len", Labels: labels, Timestamp: t0.Add(at).UnixMilli(), Value: v, Ref: r}})
	}
	latest := func(db *DB) (float64, bool) {
		lv, ok := db.LatestOne("ref_len", Label{"instance", "cache"}, Label{"key", "q"})
		return lv.Value, ok
	}
	if err := write(db, 0, 1, ref); err != nil {
		t.Fatal(err)
	}
	if ref.lv == nil || ref.t != db.latest {
		t.Fatalf("Write did not fill the Ref: %+v", ref)
	}
	first := ref.lv
	if err := write(db, 10*time.Second, 2, ref); err != nil {
		t.Fatal(err)
	}
	if v, ok := latest(db); !ok || v != 2 || ref.lv != first {
		t.Fatalf("after a Write through the Ref: latest %v (held %v), Ref moved %v; want 2, true, false", v, ok, ref.lv != first)
	}
	if err := write(db, 10*365*24*time.Hour, 3, ref); err == nil {
		t.Fatal("a sample ten years ahead was accepted through its Ref")
	}
	if v, _ := latest(db); v != 2 {
		t.Fatalf("latest %v after a refused sample, want 2", v)
	}

	// A stale marker written without the Ref removes the series; the Ref still points to it.
	if err := write(db, 20*time.Second, StaleMarker(), nil); err != nil {
		t.Fatal(err)
	}
	if _, ok := latest(db); ok {
		t.Fatal("the series is still in the latest table after its stale marker")
	}
	if err := write(db, 30*time.Second, 4, ref); err != nil {
		t.Fatal(err)
	}
	if v, ok := latest(db); !ok || v != 4 || ref.lv == first {
		t.Fatalf("after a Write through an out-of-date Ref: latest %v (held %v), Ref renewed %v; want 4, true, true", v, ok, ref.lv != first)
	}

	// Another DB does not trust this one's Ref.
	other := openTest(t, t.TempDir())
	defer other.Close()
	if err := write(other, 40*time.Second, 5, ref); err != nil {
		t.Fatal(err)
	}
	if v, ok := latest(other); !ok || v != 5 || ref.t != other.latest {
		t.Fatalf("other DB: latest %v (held %v), Ref in its table %v; want 5, true, true", v, ok, ref.t == other.latest)
	}
	if v, _ := latest(db); v != 4 {
		t.Fatalf("first DB's latest %v after a write to the other, want 4", v)
	}

	// Every sample reached storage under the one series.
	db.Flush()
	got, err := db.Raw(context.Background(), mustSel(t, `ref_len{instance="cache",key="q"}`), t0.Add(-time.Minute), t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || len(got[0].Points) != 3 { // 1, 2, 4: the stale marker is not a point
		t.Fatalf("Raw: %+v, want one series of 3 points", got)
	}
}
