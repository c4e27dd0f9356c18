package tsdb

import (
	"testing"
	"time"
)

// TestLatestSeriesShareTheirLabels: the series of one label set (a key's length, TTL, memory and
// exists) hold its key and labels once, and the set goes when its last series does (a stale
// marker, the sweep), so churning keys leave nothing behind.
func TestLatestSeriesShareTheirLabels(t *testing.T) {
	tb := newLatestTable()
	labels := []Label{{"db", "0"}, {"instance", "main"}, {"key", "q:1"}}
	other := []Label{{"db", "0"}, {"instance", "main"}, {"key", "q:2"}}
	now := time.Now().UnixMilli()
	names := []string{"redis_key_exists", "redis_key_length", "redis_key_ttl_seconds", "redis_key_memory_bytes"}
	for _, n := range names {
		tb.putAt(n, labels, now, 1, now)
	}
	tb.putAt("redis_key_length", other, now, 1, now)
	if len(tb.sets) != 2 || tb.count != 5 {
		t.Fatalf("want 2 label sets for 5 series, got %d sets, %d series", len(tb.sets), tb.count)
	}
	key := SeriesKey(labels)
	first := tb.byName[names[0]][key]
	for _, n := range names[1:] {
		lv := tb.byName[n][key]
		if lv.set != first.set {
			t.Fatalf("%s holds its own copy of the labels", n)
		}
		if v := lv.value(n); v.Key() != key || SeriesKey(v.Labels) != key || v.Name != n {
			t.Fatalf("%s reads back as %s%v (key %q), want labels %v", n, v.Name, v.Labels, v.Key(), labels)
		}
	}
	// A stale marker ends one series; the set stays for the other three.
	tb.putAt("redis_key_memory_bytes", labels, now+1000, StaleMarker(), now+1000)
	if ls := tb.sets[key]; ls == nil || ls.refs != 3 || tb.count != 4 {
		t.Fatalf("after a stale marker: set %+v, %d series", ls, tb.count)
	}
	// The sweep deletes every stale series and, with the last of them, the sets.
	tb.sweep(now + time.Hour.Milliseconds())
	if len(tb.sets) != 0 || tb.count != 0 || len(tb.byName) != 0 {
		t.Fatalf("after the sweep: %d sets, %d series, %d names left", len(tb.sets), tb.count, len(tb.byName))
	}
	// A series coming back gets a set again.
	tb.putAt("redis_key_length", labels, now, 2, now)
	if ls := tb.sets[key]; ls == nil || ls.refs != 1 {
		t.Fatalf("series back: set %+v", ls)
	}
}
