package tsdb

import (
	"bytes"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// BenchmarkSeriesMemory writes rounds of N series (one metric, labels instance and key, as a
// key sampler writes them) 10 s apart in sample time, as many rounds as make a minute, then
// reports the live Go heap and the RSS the store holds per series. Label values are built
// afresh every round, as a sampler decoding Redis replies does, so the figures show what the
// store itself keeps. Run with -benchtime 1x:
//
//	go test -run XXX -bench SeriesMemory -benchtime 1x ./tsdb/
func BenchmarkSeriesMemory(b *testing.B) {
	for _, n := range []int{10000, 100000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			for range b.N {
				heap0, rss0 := liveHeap(), rssBytes(b)
				db := openTest(b, b.TempDir())
				const rounds = 6
				end := time.Now().Truncate(time.Second)
				batch := make([]Sample, 0, 1000)
				for r := range rounds {
					ts := end.Add(-time.Duration(rounds-1-r) * 10 * time.Second).UnixMilli()
					for i := range n {
						batch = append(batch, Sample{Name: "redis_key_length", Labels: []Label{{"instance", "cache"}, {"key", "user:session:" + strconv.Itoa(i)}}, Timestamp: ts, Value: float64(i + r)})
						if len(batch) == cap(batch) || i == n-1 {
							if err := db.Write(batch); err != nil {
								b.Fatal(err)
							}
							batch = batch[:0]
						}
					}
				}
				db.Flush()
				heap, rss := liveHeap(), rssBytes(b)
				if got := db.LatestCount(); got != n {
					b.Fatalf("latest table holds %d series, want %d", got, n)
				}
				b.ReportMetric(float64(heap-heap0)/float64(n), "heap-B/series")
				b.ReportMetric(float64(rss-rss0)/float64(n), "rss-B/series")
				db.Close()
			}
		})
	}
}

// liveHeap is the Go heap in use after a full collection.
func liveHeap() int64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// rssBytes reads VmRSS of this process from /proc/self/status.
func rssBytes(b *testing.B) int64 {
	st, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	for line := range bytes.Lines(st) {
		if v, ok := bytes.CutPrefix(line, []byte("VmRSS:")); ok {
			kb, err := strconv.ParseInt(string(bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimSpace(v), []byte("kB")))), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb << 10
		}
	}
	b.Fatal("no VmRSS in /proc/self/status")
	return 0
}
