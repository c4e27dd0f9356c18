package keytrend

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/redwatch/redwatch/tsdb"
)

// watched is the key name of instance cache, db 0, of type list.
func watched(name string) Watched {
	return Watched{Key: Key{Instance: "cache", DB: "0", Key: tsdb.LabelValue(name)}, Type: "list"}
}

// writeTrend writes name's length every 10 s over the last 75 minutes up to now, as the key
// sampler does: from until 45 minutes ago, to from 15 minutes ago on, a straight line between.
// Over any range of 1 h its change is to - from, whatever the query's grid.
func writeTrend(t *testing.T, db *tsdb.DB, now time.Time, name string, from, to float64) {
	t.Helper()
	labels := []tsdb.Label{{Name: "instance", Value: "cache"}, {Name: "db", Value: "0"}, {Name: "key", Value: name}, {Name: "type", Value: "list"}}
	var ss []tsdb.Sample
	for ts := now.Add(-75 * time.Minute); !ts.After(now); ts = ts.Add(10 * time.Second) {
		v := from
		switch age := now.Sub(ts); {
		case age <= 15*time.Minute:
			v = to
		case age < 45*time.Minute:
			v = from + (to-from)*float64(45*time.Minute-age)/float64(30*time.Minute)
		}
		ss = append(ss, tsdb.Sample{Name: Metric, Labels: labels, Timestamp: ts.UnixMilli(), Value: v})
	}
	if err := db.Write(ss); err != nil {
		t.Fatal(err)
	}
}

// The trends of a page of keys and the changes of every key, as storage answers them: over
// 1 h every key moved by to - from; over the last 15 minutes it stayed put. Hostile, binary
// and long names select their series.
func TestTrendsFromStorage(t *testing.T) {
	t.Parallel()
	db, err := tsdb.Open(tsdb.Options{Path: t.TempDir(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := time.Now()
	want := map[string][2]float64{"alpha": {100, 150}, "beta": {80, 50}, "gamma": {20, 20}}
	for _, n := range []string{`<img src=x onerror=alert(1)>`, `quote"and\backslash`, "new\nline", "nul\x00byte", "\xff\xfeinvalid", `or} {x="y"`, "ключ", "x:" + strings.Repeat("a", 70_000)} {
		want[n] = [2]float64{1, 8}
	}
	var keys []Watched
	for n, ft := range want {
		writeTrend(t, db, now, n, ft[0], ft[1])
		keys = append(keys, watched(n))
	}
	keys = append(keys, watched("never-sampled"))
	db.Flush()
	s := New(db, Options{TTL: time.Hour, SparkPoints: 60})
	ctx := context.Background()
	hour := Range{Name: "1h", Start: now.Add(-time.Hour), End: now, Live: true}
	quarter := Range{Name: "15m", Start: now.Add(-15 * time.Minute), End: now, Live: true}

	rows, err := s.Trends(ctx, keys, hour, true)
	if err != nil || len(rows) != len(keys) {
		t.Fatalf("Trends: %d rows, %v", len(rows), err)
	}
	all, err := s.Changes(ctx, hour)
	if err != nil || len(all) != len(want) {
		t.Fatalf("Changes: %d keys, %v", len(all), err)
	}
	short, err := s.Trends(ctx, keys, quarter, true)
	if err != nil {
		t.Fatal(err)
	}
	shortAll, err := s.Changes(ctx, quarter)
	if err != nil {
		t.Fatal(err)
	}
	for n, ft := range want {
		k := watched(n).Key
		r := rows[k]
		if c := r.Change; !c.OK || c.Change() != ft[1]-ft[0] {
			t.Errorf("%.20q: change over 1h %v (%+v), want %v", n, c.Change(), c, ft[1]-ft[0])
		}
		if c := all[k]; !c.OK || c.Change() != ft[1]-ft[0] {
			t.Errorf("%.20q: all-keys change over 1h %v, want %v", n, c.Change(), ft[1]-ft[0])
		}
		if p := r.Spark; len(p) < 30 || len(p) > 60 || p[0].Value != ft[0] || p[len(p)-1].Value != ft[1] {
			t.Errorf("%.20q: %d sparkline points", n, len(p))
		}
		if c := short[k].Change; !c.OK || c.Change() != 0 {
			t.Errorf("%.20q: change over 15m %v", n, c.Change())
		}
		if c := shortAll[k]; !c.OK || c.Change() != 0 {
			t.Errorf("%.20q: all-keys change over 15m %v", n, c.Change())
		}
	}
	if r := rows[watched("never-sampled").Key]; r.Change.OK || len(r.Spark) != 0 {
		t.Errorf("a key without samples has a trend: %+v", r)
	}
	// Without the change, only the sparkline is read.
	rows, err = s.Trends(ctx, keys[:1], hour, false)
	if r := rows[keys[0].Key]; err != nil || r.Change.OK || len(r.Spark) < 30 {
		t.Errorf("Trends without change: %+v, %v", r, err)
	}
}
