package redis

import (
	"context"
	"log/slog"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/redwatch/redwatch/app/config"
	"github.com/redwatch/redwatch/app/redistest"
	"github.com/redwatch/redwatch/tsdb"
)

// Run: go test -run XXX -bench ClusterKeyRoundIntoStorage -benchtime 10x ./app/sampler/redis/

// BenchmarkClusterKeyRoundIntoStorage is BenchmarkKeyRoundIntoStorage's round (30,000 exact
// keys, lists, hashes and sets, into a real tsdb, MEMORY USAGE one round in six) on a real
// 3-master cluster (cluster = true: the key client splits each batch per node by slot) and, for
// comparison, on one standalone node holding the same keys. Both go through the product's
// Sampler (New), its key sampler's sampleDue as Run calls it.
//
// Metrics: keys/s; node-round-trips/round is the pipelines sent to nodes per round (a batch
// of 512 commands touching 3 masters is 3 of them, sent in parallel); execs/round the key
// sampler's own count of pipelined batches.
func BenchmarkClusterKeyRoundIntoStorage(b *testing.B) {
	const n = 30000
	for _, mode := range []string{"cluster", "node"} {
		b.Run("mode="+mode+"/keys="+strconv.Itoa(n), func(b *testing.B) {
			cfg := config.Redis{Name: "bench", Interval: config.Duration(10 * time.Second), Timeout: config.Duration(10 * time.Second)}
			var filler interface{ Pipeline() goredis.Pipeliner }
			if mode == "cluster" {
				c := redistest.StartCluster(b, 3)
				cfg.Addr, cfg.Cluster, filler = c.Nodes[0].Addr(), true, c.Client()
			} else {
				srv := redistest.Start(b)
				cfg.Addr, filler = srv.Addr(), srv.Client()
			}
			cfg.Keys = clusterBenchFill(b, filler, n)
			cfg.ApplyDefaults()
			if err := cfg.Validate(); err != nil {
				b.Fatal(err)
			}

			at := time.Now().Truncate(time.Second)
			var nowMs atomic.Int64
			nowMs.Store(at.UnixMilli())
			db, err := tsdb.Open(tsdb.Options{Path: b.TempDir(), MaxSeries: -1, Logger: slog.New(slog.DiscardHandler),
				Now: func() time.Time { return time.UnixMilli(nowMs.Load()) }})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = db.Close() })
			s, err := New(Options{Config: cfg, Writer: db})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = s.Close() })
			ctx := context.Background()
			s.Round(ctx, at)
			if !s.Up() {
				b.Fatalf("instance not up: %s", s.Snapshot().Error)
			}
			if err := s.keys.sampleDue(ctx, at); err != nil { // detection and a first round
				b.Fatal(err)
			}
			pipes0, execs0 := s.NodePipelines(), s.keys.RoundTrips()
			b.ResetTimer()
			for range b.N {
				at = at.Add(10 * time.Second)
				nowMs.Store(at.UnixMilli())
				if err := s.keys.sampleDue(ctx, at); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "keys/s")
			b.ReportMetric(float64(s.NodePipelines()-pipes0)/float64(b.N), "node-round-trips/round")
			b.ReportMetric(float64(s.keys.RoundTrips()-execs0)/float64(b.N), "execs/round")
			for _, k := range s.Keys()[:3] {
				if !k.Exists || k.Length != 3 {
					b.Fatalf("key %+v", k)
				}
			}
		})
	}
}

// clusterBenchFill creates n keys as keyBenchFill does (lists, hashes and sets of 3 elements)
// through any client, a cluster one included.
func clusterBenchFill(b *testing.B, c interface{ Pipeline() goredis.Pipeliner }, n int) []config.Key {
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
