package redis

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/redwatch/redwatch/app/config"
	"github.com/redwatch/redwatch/app/redistest"
	"github.com/redwatch/redwatch/tsdb"
)

// Run: go test -run XXX -bench Keys -benchtime 3x ./app/sampler/redis/
//
// The NoStorage benchmarks below throw their samples away: they measure the Redis side and
// the sampler's own loop only, and cannot stand for the product's speed or CPU, which write
// every sample into storage. BenchmarkKeyRoundIntoStorage (keys_storage_bench_test.go) does.

// keyBenchWriter discards samples but counts them.
type keyBenchWriter struct{ n atomic.Int64 }

func (w *keyBenchWriter) Write(s []tsdb.Sample) error {
	w.n.Add(int64(len(s)))
	return nil
}

// keyBenchFill creates n keys (lists, hashes and sets in turn, 3 items each) with pipelined
// writes of 1,000 commands per round trip, and returns them as exact keys with a 10 s interval.
func keyBenchFill(b *testing.B, c *goredis.Client, n int) []config.Key {
	b.Helper()
	ctx := context.Background()
	keys := make([]config.Key, 0, n)
	pipe := c.Pipeline()
	for i := range n {
		var name string
		switch i % 3 {
		case 0:
			name = "bench:list:" + strconv.Itoa(i)
			pipe.RPush(ctx, name, "a", "b", "c")
		case 1:
			name = "bench:hash:" + strconv.Itoa(i)
			pipe.HSet(ctx, name, "a", 1, "b", 2, "c", 3)
		default:
			name = "bench:set:" + strconv.Itoa(i)
			pipe.SAdd(ctx, name, "a", "b", "c")
		}
		keys = append(keys, config.Key{Key: name, Interval: config.Duration(10 * time.Second)})
		if pipe.Len() == 1000 || i == n-1 {
			if _, err := pipe.Exec(ctx); err != nil {
				b.Fatalf("cannot create keys: %v", err)
			}
		}
	}
	return keys
}

// keyBenchSampler returns a sampler of keys writing to w whose types are already detected: its
// first round (detection and a full sampling round) ran at t0.
func keyBenchSampler(b *testing.B, c *goredis.Client, keys []config.Key, memEvery time.Duration, w Writer, t0 time.Time) *keySampler {
	b.Helper()
	k := newKeySampler(keyOptions{
		Instance:       "bench",
		Client:         c,
		Keys:           keys,
		MemoryInterval: memEvery,
		MemorySamples:  config.DefaultKeyMemorySamples,
		Timeout:        30 * time.Second,
		Writer:         w,
	})
	if err := k.sampleDue(context.Background(), t0); err != nil {
		b.Fatal(err)
	}
	return k
}

// BenchmarkKeysPipelinedNoStorage: one full sampling round (LLEN/HLEN/SCARD + PTTL per key,
// pipelined in batches of 512 commands) per iteration, samples thrown away (see the top of
// this file: not the product's speed).
func BenchmarkKeysPipelinedNoStorage(b *testing.B) {
	for _, n := range []int{10000, 100000} {
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			srv := redistest.Start(b)
			c := srv.Client()
			keys := keyBenchFill(b, c, n)

			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			w := &keyBenchWriter{}
			k := keyBenchSampler(b, c, keys, 0, w, keyTestT0)
			runtime.GC()
			runtime.ReadMemStats(&after)

			at := keyTestT0
			rt := k.RoundTrips()
			cpu0 := keyBenchRedisCPU(b, c)
			b.ResetTimer()
			for range b.N {
				at = at.Add(10 * time.Second)
				if err := k.sampleDue(context.Background(), at); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric((keyBenchRedisCPU(b, c)-cpu0)*1000/float64(b.N), "redis-cpu-ms/op")
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "keys/s")
			b.ReportMetric(float64(k.RoundTrips()-rt)/float64(b.N), "roundtrips/op")
			b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/float64(n), "heap-B/key")
			if got := w.n.Load(); got < int64(3*n*(b.N+1)) {
				b.Fatalf("%d samples written, want >= %d", got, 3*n*(b.N+1))
			}
			runtime.KeepAlive(k)
		})
	}
}

// BenchmarkKeysOneByOneNoStorage is the seed-style loop for comparison: per key TYPE, then its
// length command, then TTL, each its own round trip; nothing is stored.
func BenchmarkKeysOneByOneNoStorage(b *testing.B) {
	for _, n := range []int{10000, 100000} {
		benchmarkKeysOneByOne(b, n)
	}
}

func benchmarkKeysOneByOne(b *testing.B, n int) {
	b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
		srv := redistest.Start(b)
		c := srv.Client()
		keys := keyBenchFill(b, c, n)
		ctx := context.Background()
		var sum int64
		cpu0 := keyBenchRedisCPU(b, c)
		b.ResetTimer()
		for range b.N {
			for _, key := range keys {
				typ, err := c.Type(ctx, key.Key).Result()
				if err != nil {
					b.Fatal(err)
				}
				var length *goredis.IntCmd
				switch typ {
				case "list":
					length = c.LLen(ctx, key.Key)
				case "hash":
					length = c.HLen(ctx, key.Key)
				case "set":
					length = c.SCard(ctx, key.Key)
				default:
					b.Fatalf("%s: type %s", key.Key, typ)
				}
				sum += length.Val()
				if err := c.TTL(ctx, key.Key).Err(); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.StopTimer()
		if sum != int64(3*n*b.N) {
			b.Fatalf("sum of lengths %d", sum)
		}
		b.ReportMetric((keyBenchRedisCPU(b, c)-cpu0)*1000/float64(b.N), "redis-cpu-ms/op")
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "keys/s")
		b.ReportMetric(float64(3*n), "roundtrips/op")
	})
}

// BenchmarkKeysRedisCPUNoStorage measures the CPU time Redis spends serving the sampler: each
// iteration is one simulated minute of 10 s rounds (6 rounds; MEMORY USAGE once a minute, as by
// default); samples are thrown away, so its keys/s is not the product's.
func BenchmarkKeysRedisCPUNoStorage(b *testing.B) {
	n := 10000
	b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
		srv := redistest.Start(b)
		c := srv.Client()
		keys := keyBenchFill(b, c, n)
		k := keyBenchSampler(b, c, keys, time.Minute, &keyBenchWriter{}, keyTestT0)
		at := keyTestT0.Add(time.Minute - 10*time.Second) // the next round asks for memory
		cpu0 := keyBenchRedisCPU(b, c)
		const rounds = 6
		b.ResetTimer()
		for range b.N {
			for range rounds {
				at = at.Add(10 * time.Second)
				if err := k.sampleDue(context.Background(), at); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.StopTimer()
		msPerRound := (keyBenchRedisCPU(b, c) - cpu0) * 1000 / float64(b.N*rounds)
		b.ReportMetric(msPerRound, "redis-cpu-ms/round")
		b.ReportMetric(msPerRound/10000*100, "redis-cpu-%@10s")
		b.ReportMetric(float64(n)*float64(b.N*rounds)/b.Elapsed().Seconds(), "keys/s")
	})
}

// keyBenchRedisCPU is used_cpu_sys + used_cpu_user of INFO cpu, in seconds.
func keyBenchRedisCPU(b *testing.B, c *goredis.Client) float64 {
	b.Helper()
	text, err := c.Info(context.Background(), "cpu").Result()
	if err != nil {
		b.Fatal(err)
	}
	var total float64
	for _, line := range strings.Split(text, "\n") {
		name, value, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && (name == "used_cpu_sys" || name == "used_cpu_user") {
			v, err := strconv.ParseFloat(value, 64)
			if err != nil {
				b.Fatalf("%s: %v", line, err)
			}
			total += v
		}
	}
	return total
}
