package tsdb

import (
	"strconv"
	"testing"
	"time"
)

// BenchmarkPersist measures the durability flush after one second's worth of samples of a
// small install (200 series): the cost redwatch pays every second while sampling.
func BenchmarkPersist(b *testing.B) {
	db := openTest(b, b.TempDir())
	defer db.Close()
	samples := make([]Sample, 200)
	for i := range samples {
		samples[i] = Sample{Name: "redis_up", Labels: []Label{{"instance", strconv.Itoa(i)}}}
	}
	ts := time.Now().Add(-time.Hour)
	b.ResetTimer()
	for range b.N {
		ts = ts.Add(time.Second)
		for i := range samples {
			samples[i].Timestamp, samples[i].Value = ts.UnixMilli(), float64(i)
		}
		if err := db.Write(samples); err != nil {
			b.Fatal(err)
		}
		db.persist(db.s)
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/persist")
}
