package web

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/redwatch/redwatch/app/sampler/redis"
	"github.com/redwatch/redwatch/tsdb"
)

// Helpers of the keys tests (key_*_test.go); trendStore, their fake store, is in
// store_fake_test.go.

// keyLabels are the labels the key sampler writes for k.
func keyLabels(k *redis.KeySnapshot) []tsdb.Label {
	return []tsdb.Label{{Name: "instance", Value: k.Instance}, {Name: "db", Value: strconv.Itoa(k.DB)}, {Name: "key", Value: k.Key}, {Name: "type", Value: k.Type}}
}

// keyTrend is a key's length every step over the 75 minutes up to end: from until 45 minutes
// before end, to from 15 minutes before end on, a straight line between. Over any range of
// 1 h ending at or after end its change is to - from, whatever the query's grid.
func keyTrend(end time.Time, step time.Duration, from, to float64) []tsdb.Point {
	var out []tsdb.Point
	for ts := end.Add(-75 * time.Minute); !ts.After(end); ts = ts.Add(step) {
		v := from
		switch age := end.Sub(ts); {
		case age <= 15*time.Minute:
			v = to
		case age < 45*time.Minute:
			v = from + (to-from)*float64(45*time.Minute-age)/float64(30*time.Minute)
		}
		out = append(out, tsdb.Point{Timestamp: ts.UnixMilli(), Value: v})
	}
	return out
}

// writeKeyTrend writes k's length every 10 s over the last 75 minutes up to now (keyTrend).
func writeKeyTrend(t testing.TB, db *tsdb.DB, now time.Time, k *redis.KeySnapshot, from, to float64) {
	t.Helper()
	var ss []tsdb.Sample
	for _, p := range keyTrend(now, 10*time.Second, from, to) {
		ss = append(ss, tsdb.Sample{Name: "redis_key_length", Labels: keyLabels(k), Timestamp: p.Timestamp, Value: p.Value})
	}
	if err := db.Write(ss); err != nil {
		t.Fatal(err)
	}
}

// trendSparkPoints is how many points of a trendStore trend lie within the last hour.
const trendSparkPoints = 12

// trend stores k's length (keyTrend) every 5 minutes up to 2.5 minutes ago: trendSparkPoints of
// them within the last hour, 3 within the last 15 minutes, none on a range's edge.
func (s *trendStore) trend(k *redis.KeySnapshot, from, to float64) {
	pts := keyTrend(time.Now().Add(-150*time.Second), 5*time.Minute, from, to)
	s.series = append(s.series, tsdb.Series{Name: "redis_key_length", Labels: keyLabels(k), Points: pts})
}

// keysByColumn is the keys of the sort tests, each with a distinct value in every column.
func keysByColumn() []redis.KeySnapshot {
	alpha := key("a", "alpha", "list", 30)
	alpha.MemoryBytes, alpha.TTLSeconds = 300, -1
	beta := key("a", "Beta", "hash", 10)
	beta.MemoryBytes, beta.TTLSeconds = 100, 60
	gamma := key("a", "gamma", "string", 20)
	gamma.MemoryBytes, gamma.TTLSeconds = 0, 3600
	missing := key("a", "zz-missing", "none", 0)
	missing.Exists, missing.HasLength = false, false
	balpha := key("b", "alpha", "zset", 40)
	balpha.MemoryBytes, balpha.TTLSeconds = 200, 5
	return []redis.KeySnapshot{beta, alpha, gamma, missing, balpha} // the source's order
}

// keyRows returns the rows of a /keys page as "instance/key", in order.
func keyRows(t *testing.T, doc *html.Node) []string {
	t.Helper()
	var out []string
	for _, r := range find(doc, "key-row") {
		c := cells(r)
		out = append(out, strings.TrimSuffix(c[0], "/db0")+"/"+c[1])
	}
	return out
}
