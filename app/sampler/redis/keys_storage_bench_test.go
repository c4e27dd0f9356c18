package redis

import (
	"fmt"
	"log/slog"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redwatch/redwatch/app/config"
	"github.com/redwatch/redwatch/app/redistest"
	"github.com/redwatch/redwatch/tsdb"
)

// Run: go test -run XXX -bench KeyRoundIntoStorage -benchtime 10x ./app/sampler/redis/

// BenchmarkKeyRoundIntoStorage is the product's key round end to end: one round of n watched
// exact keys per iteration, sampled from a real redis-server by the sampler's own code
// (sampleDue, as Run does) and written, every sample, into a real tsdb.DB (VictoriaMetrics and
// the latest table, through DB.Write as app.go's writer does). Rounds are 10 s apart with the
// default MEMORY USAGE interval (one round in six asks for it); storage's clock follows the
// rounds. Storage has no series ceiling (MaxSeries -1) so that 100,000 keys are all stored.
//
// Metrics: keys/s; redwatch-cpu-µs/key is this process's CPU time (getrusage) over the loop per
// key and round, tsdb's background work included, as it is part of the product's cost;
// allocs/key is runtime.MemStats' mallocs over the loop per key and round (background ones
// included); redis-cpu-ms/round is the server's used_cpu_sys + used_cpu_user per round; and
// heap-inuse-MiB is the Go heap in use after the loop (uncollected garbage included, as RSS sees
// it) and heap-live-MiB what a GC then leaves of it (VictoriaMetrics' caches included).
func BenchmarkKeyRoundIntoStorage(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			srv := redistest.Start(b)
			c := srv.Client()
			keys := keyBenchFill(b, c, n)

			at := time.Now().Truncate(time.Second)
			var nowMs atomic.Int64 // storage's clock: the time of the latest round
			nowMs.Store(at.UnixMilli())
			db, err := tsdb.Open(tsdb.Options{
				Path:      b.TempDir(),
				MaxSeries: -1,
				Logger:    slog.New(slog.DiscardHandler),
				Now:       func() time.Time { return time.UnixMilli(nowMs.Load()) },
			})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = db.Close() })
			k := keyBenchSampler(b, c, keys, config.DefaultKeyMemoryInterval.Std(), db, at)
			written := db.SamplesWritten()

			var mem0, mem1 runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&mem0)
			cpu0 := keyBenchProcessCPU(b)
			redis0 := keyBenchRedisCPU(b, c)
			b.ResetTimer()
			for range b.N {
				at = at.Add(10 * time.Second)
				nowMs.Store(at.UnixMilli())
				if err := k.sampleDue(b.Context(), at); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			cpu := keyBenchProcessCPU(b) - cpu0
			runtime.ReadMemStats(&mem1)
			perKey := float64(n) * float64(b.N) // keys sampled in the loop

			b.ReportMetric(perKey/b.Elapsed().Seconds(), "keys/s")
			b.ReportMetric(float64(cpu.Microseconds())/perKey, "redwatch-cpu-µs/key")
			b.ReportMetric(float64(mem1.Mallocs-mem0.Mallocs)/perKey, "allocs/key")
			b.ReportMetric((keyBenchRedisCPU(b, c)-redis0)*1000/float64(b.N), "redis-cpu-ms/round")
			b.ReportMetric(float64(mem1.HeapInuse)/(1<<20), "heap-inuse-MiB")
			runtime.GC()
			runtime.ReadMemStats(&mem1)
			b.ReportMetric(float64(mem1.HeapAlloc)/(1<<20), "heap-live-MiB")
			if got, want := db.SamplesWritten()-written, uint64(3*n*b.N); got < want { // as BenchmarkKeysPipelinedNoStorage
				b.Fatalf("%d samples stored, want >= %d", got, want)
			}
			runtime.KeepAlive(k)
		})
	}
}

// keyBenchProcessCPU is this process's user + system CPU time so far (getrusage RUSAGE_SELF).
func keyBenchProcessCPU(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
