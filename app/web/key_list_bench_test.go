package web

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/redwatch/redwatch/app/keytrend"
	"github.com/redwatch/redwatch/app/sampler/redis"
	"github.com/redwatch/redwatch/tsdb"
	"github.com/redwatch/redwatch/views/components"
)

// keysBenchOptions are the options of a keys handler watching n keys, each with 1 h of
// redis_key_length sampled every 10 s in a real tsdb (rolled up as the compactor would), with
// ui.refresh an hour: polling within it finds the all-keys change cached for the whole run.
func keysBenchOptions(b *testing.B, n int) *Options {
	b.Helper()
	dir := b.TempDir()
	db, err := tsdb.Open(tsdb.Options{Path: dir, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	keys := make([]redis.KeySnapshot, n)
	for i := range keys {
		keys[i] = key("cache", fmt.Sprintf("queue:%05d", i), "list", int64(i))
		keys[i].MemoryBytes = int64(1000 + i%777)
	}
	watched := &fakeRedis{}
	watched.set(nil, keys, nil)
	now := time.Now()
	batch := make([]tsdb.Sample, 0, 50000)
	for ts := now.Add(-time.Hour); !ts.After(now); ts = ts.Add(10 * time.Second) {
		for i := range keys {
			v := float64(i) + float64(ts.Unix()%600)*float64(i%7)
			batch = append(batch, tsdb.Sample{Name: "redis_key_length", Labels: keyLabels(&keys[i]), Timestamp: ts.UnixMilli(), Value: v})
			if len(batch) == cap(batch) {
				if err := db.Write(batch); err != nil {
					b.Fatal(err)
				}
				batch = batch[:0]
			}
		}
	}
	if err := db.Write(batch); err != nil {
		b.Fatal(err)
	}
	// Reopen the storage before rolling up, as a running redwatch would have it. Rolled up
	// right after this write, the buckets often held no series at all, even after a flush: it
	// seems RollupUntil's all-series search hits a result VictoriaMetrics cached before the
	// series existed (its tag-filters cache is reset only when new index entries are flushed,
	// in the background). Reopen again so that the rollups just written are searchable.
	reopen := func() {
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
		if db, err = tsdb.Open(tsdb.Options{Path: dir, Logger: slog.New(slog.DiscardHandler)}); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
	}
	reopen()
	if err := db.RollupUntil(context.Background(), now); err != nil {
		b.Fatal(err)
	}
	reopen()
	sel, err := tsdb.ParseSelector(keytrend.Metric)
	if err != nil {
		b.Fatal(err)
	}
	q := tsdb.RangeQuery{Selector: sel, Start: now.Add(-time.Hour), End: db.RollupWatermark(), Step: tsdb.RollupStep}
	if ss, err := db.QueryRange(context.Background(), q); err != nil || len(ss) != n || len(ss[0].Points) < 10 {
		b.Fatalf("rollups not searchable: %d series, %v", len(ss), err)
	}
	return &Options{Store: db, Redis: watched, Refresh: time.Hour, Logger: slog.New(slog.DiscardHandler)}
}

// newBenchTrends is the keys handler's trend source as routes.go builds it, its cache empty.
func newBenchTrends(o *Options) *keytrend.Source {
	return keytrend.New(o.Store, keytrend.Options{TTL: o.Refresh, SparkPoints: components.SparklineMaxPoints})
}

// BenchmarkKeysPage measures the handler's time to render the polled /keys table
// (?fragment=key-table, 50 rows) at 1,000 and 10,000 watched keys: by name (the default), by
// change while polling (the all-keys change cached for ui.refresh), and by change with that
// cache cold (a new range or the first poll after ui.refresh). The handler is built as routes.go
// builds it, served without the login middleware.
func BenchmarkKeysPage(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			o := keysBenchOptions(b, n)
			page := &pageKit{refresh: o.Refresh, redis: o.Redis}
			keys := &keysHandler{pageKit: page, watched: o.Redis, history: o.Store, retention: o.Retention, log: o.Logger}
			keys.trends = newBenchTrends(o)
			h := echo.New()
			h.GET("/keys", keys.showKeyList)
			get := func(b *testing.B, path string) int {
				req := httptest.NewRequest(http.MethodGet, path, nil)
				req.Header.Set("HX-Request", "true")
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("GET %s: %d %.300s", path, rec.Code, rec.Body)
				}
				return rec.Body.Len()
			}
			run := func(name, path string, cold bool) {
				b.Run(name, func(b *testing.B) {
					size := get(b, path) // warm up, and fail loudly on a broken setup
					b.ReportAllocs()
					b.ResetTimer()
					for range b.N {
						if cold {
							b.StopTimer()
							keys.trends = newBenchTrends(o) // its change cache empty
							b.StartTimer()
						}
						get(b, path)
					}
					b.ReportMetric(float64(b.Elapsed().Microseconds())/1e3/float64(b.N), "ms/page")
					b.ReportMetric(float64(size), "bytes/page")
				})
			}
			run("sort=default", "/keys?fragment=key-table", false)
			run("sort=length", "/keys?fragment=key-table&sort=length&page=7", false)
			run("sort=change", "/keys?fragment=key-table&sort=change", false)
			run("sort=change-cold", "/keys?fragment=key-table&sort=change", true)
			run("sort=change-cold-24h", "/keys?fragment=key-table&sort=change&range=24h", true)
		})
	}
}
