package tsdb

import (
	"context"
	"strconv"
	"testing"
	"time"
)

// BenchmarkWrite measures ingestion in batches of 1000 samples over 10,000 series.
func BenchmarkWrite(b *testing.B) {
	db := openTest(b, b.TempDir())
	defer db.Close()
	const series = 10000
	batch := make([]Sample, 1000)
	ts := time.Now().Add(-time.Hour).UnixMilli()
	db.LatestCount() // self-monitoring reads it every 10 s, so writes keep its count
	b.ResetTimer()
	n := 0
	for i := 0; i < b.N; i++ {
		for j := range batch {
			id := (n + j) % series
			batch[j] = Sample{Name: "bench_value", Labels: []Label{{"instance", "cache"}, {"key", "k" + strconv.Itoa(id)}}, Timestamp: ts + int64(n+j)/series*1000, Value: float64(j)}
		}
		n += len(batch)
		if err := db.Write(batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "samples/s")
}

// BenchmarkWriteKnownSeries is BenchmarkWrite without building the samples in the loop: the
// 10,000 series' samples are built once and only their timestamps and values change, so the
// figures are Write's own (a sampler builds its samples anyway).
func BenchmarkWriteKnownSeries(b *testing.B) {
	db := openTest(b, b.TempDir())
	defer db.Close()
	const series, batchLen = 10000, 1000
	all := make([]Sample, series)
	for i := range all {
		all[i] = Sample{Name: "bench_value", Labels: []Label{{"instance", "cache"}, {"key", "k" + strconv.Itoa(i)}}}
	}
	ts := time.Now().Add(-time.Hour).UnixMilli()
	b.ResetTimer()
	n := 0
	for i := 0; i < b.N; i++ {
		from := n % series
		batch := all[from : from+batchLen]
		for j := range batch {
			batch[j].Timestamp, batch[j].Value = ts+int64(n+j)/series*1000, float64(j)
		}
		n += batchLen
		if err := db.Write(batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "samples/s")
}

func fillSeries(b *testing.B, db *DB, series int, span, every time.Duration) time.Time {
	b.Helper()
	end := time.Now().Truncate(time.Second)
	start := end.Add(-span)
	var batch []Sample
	for t := start; !t.After(end); t = t.Add(every) {
		for s := 0; s < series; s++ {
			batch = append(batch, Sample{Name: "q_value", Labels: []Label{{"series", strconv.Itoa(s)}}, Timestamp: t.UnixMilli(), Value: float64(t.Unix() % 100)})
		}
		if len(batch) >= 10000 {
			if err := db.Write(batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if err := db.Write(batch); err != nil {
		b.Fatal(err)
	}
	db.Flush()
	return end
}

// BenchmarkQueryOneSeries24h reads one series sampled every 10 s over 24 h at a 10 s step.
func BenchmarkQueryOneSeries24h(b *testing.B) {
	db := openTest(b, b.TempDir())
	defer db.Close()
	end := fillSeries(b, db, 1, 24*time.Hour, 10*time.Second)
	sel, _ := ParseSelector(`q_value{series="0"}`)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		got, err := db.QueryRange(context.Background(), RangeQuery{Selector: sel, Start: end.Add(-24 * time.Hour), End: end, Step: 10 * time.Second, Agg: AggAvg})
		if err != nil || len(got) != 1 || len(got[0].Points) < 8000 {
			b.Fatalf("%v %d", err, len(got))
		}
	}
}

// BenchmarkQuery100Series1h reads 100 series sampled every 10 s over 1 h at a 10 s step.
func BenchmarkQuery100Series1h(b *testing.B) {
	db := openTest(b, b.TempDir())
	defer db.Close()
	end := fillSeries(b, db, 100, time.Hour, 10*time.Second)
	sel, _ := ParseSelector(`q_value`)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		got, err := db.QueryRange(context.Background(), RangeQuery{Selector: sel, Start: end.Add(-time.Hour), End: end, Step: 10 * time.Second, Agg: AggLast})
		if err != nil || len(got) != 100 {
			b.Fatalf("%v %d", err, len(got))
		}
	}
}

// BenchmarkLatestLookup looks up single series and a selector among 10,000 series.
func BenchmarkLatestLookup(b *testing.B) {
	db := openTest(b, b.TempDir())
	defer db.Close()
	ts := time.Now().UnixMilli()
	var batch []Sample
	for s := 0; s < 10000; s++ {
		batch = append(batch, Sample{Name: "redis_key_length", Labels: []Label{{"instance", "cache"}, {"key", "k" + strconv.Itoa(s)}}, Timestamp: ts, Value: float64(s)})
	}
	if err := db.Write(batch); err != nil {
		b.Fatal(err)
	}
	b.Run("one", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, ok := db.LatestOne("redis_key_length", Label{"instance", "cache"}, Label{"key", "k" + strconv.Itoa(i%10000)}); !ok {
				b.Fatal("missing")
			}
		}
	})
	sel, _ := ParseSelector(`redis_key_length{instance="cache"}`)
	b.Run("selector-10000", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if got := db.Latest(sel); len(got) != 10000 {
				b.Fatal(len(got))
			}
		}
	})
}
