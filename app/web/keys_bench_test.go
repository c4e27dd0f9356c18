package web

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/redwatch/redwatch/app/sampler/redis"
	"github.com/redwatch/redwatch/tsdb"
)

// ktBenchEnv is an env watching n keys, each with 1 h of redis_key_length sampled every 10 s
// (rolled up as the compactor would), and a viewer's session cookie.
func ktBenchEnv(b *testing.B, n int) (*env, []*http.Cookie) {
	b.Helper()
	e := newEnv(b)
	keys := make([]redis.KeySnapshot, n)
	for i := range keys {
		keys[i] = key("cache", fmt.Sprintf("queue:%05d", i), "list", int64(i))
		keys[i].MemoryBytes = int64(1000 + i%777)
	}
	e.redis.set(nil, keys, nil)
	now := time.Now()
	batch := make([]tsdb.Sample, 0, 50000)
	for ts := now.Add(-time.Hour); !ts.After(now); ts = ts.Add(10 * time.Second) {
		for i := range keys {
			v := float64(i) + float64(ts.Unix()%600)*float64(i%7)
			batch = append(batch, tsdb.Sample{Name: "redis_key_length", Labels: ktLabels(&keys[i]), Timestamp: ts.UnixMilli(), Value: v})
			if len(batch) == cap(batch) {
				if err := e.db.Write(batch); err != nil {
					b.Fatal(err)
				}
				batch = batch[:0]
			}
		}
	}
	if err := e.db.Write(batch); err != nil {
		b.Fatal(err)
	}
	// Reopen the storage before rolling up, as a running redwatch would have it. Rolled up
	// right after this write, the buckets often held no series at all, even after a flush: it
	// seems RollupUntil's all-series search hits a result VictoriaMetrics cached before the
	// series existed (its tag-filters cache is reset only when new index entries are flushed,
	// in the background). Reopen again so that the rollups just written are searchable.
	reopen := func() *tsdb.DB {
		st, err := e.db.Stats()
		if err != nil {
			b.Fatal(err)
		}
		if err := e.db.Close(); err != nil {
			b.Fatal(err)
		}
		db, err := tsdb.Open(tsdb.Options{Path: st.Path, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
		e.db, e.srv.opts.Store = db, db
		return db
	}
	if err := reopen().RollupUntil(context.Background(), now); err != nil {
		b.Fatal(err)
	}
	db := reopen()
	sel, err := tsdb.ParseSelector(keyLengthMetric)
	if err != nil {
		b.Fatal(err)
	}
	q := tsdb.RangeQuery{Selector: sel, Start: now.Add(-time.Hour), End: db.RollupWatermark(), Step: tsdb.RollupStep}
	if ss, err := db.QueryRange(context.Background(), q); err != nil || len(ss) != n || len(ss[0].Points) < 10 {
		b.Fatalf("rollups not searchable: %d series, %v", len(ss), err)
	}
	c := e.login("viewer", viewerPass)
	u, _ := url.Parse(e.ts.URL)
	return e, c.Jar.Cookies(u)
}

// BenchmarkKeysPage measures the server time to render the polled /keys table
// (?fragment=key-table, 50 rows) at 1,000 and 10,000 watched keys: by name (the default), by
// change while polling (the all-keys change cached for ui.refresh), and by change with that
// cache cold (a new range or the first poll after ui.refresh).
func BenchmarkKeysPage(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			e, cookies := ktBenchEnv(b, n)
			// Polling within ui.refresh finds the all-keys change cached: keep it for the whole
			// run, and clear it explicitly for the cold cases.
			e.srv.opts.Refresh = time.Hour
			h := e.srv.Handler()
			get := func(b *testing.B, path string) int {
				req := httptest.NewRequest(http.MethodGet, path, nil)
				req.Header.Set("HX-Request", "true")
				for _, c := range cookies {
					req.AddCookie(c)
				}
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
							e.srv.keys.changes.reset()
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
