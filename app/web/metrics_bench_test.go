package web

import (
	"bufio"
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/redwatch/redwatch/tsdb"
)

// BenchmarkMetricsExposition1M formats /metrics for one million pushed series (the series
// ceiling of a 1 GiB memory budget) and reports the time per exposition. Its values are built
// here, so their series keys are computed during the exposition (the latest table has them).
func BenchmarkMetricsExposition1M(b *testing.B) {
	const n = 1_000_000
	ts := time.Now().UnixMilli()
	lvs := make([]tsdb.LatestValue, n)
	for i := range lvs {
		lvs[i] = tsdb.LatestValue{Name: "card_test_value", Labels: []tsdb.Label{{Name: "host", Value: "h" + strconv.Itoa(i%100)}, {Name: "id", Value: "s" + strconv.Itoa(i)}}, Timestamp: ts, Value: float64(i)}
	}
	b.ResetTimer()
	for b.Loop() {
		w := bufio.NewWriter(io.Discard)
		writeExposition(w, lvs)
		w.Flush()
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/exposition")
}
