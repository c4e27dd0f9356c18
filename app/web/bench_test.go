package web

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/redwatch/redwatch/app/auth"
	"github.com/redwatch/redwatch/app/health"
	"github.com/redwatch/redwatch/app/selfmon"
	"github.com/redwatch/redwatch/tsdb"
)

// newBenchServer builds the server exactly as the handler tests do.
func newBenchServer(tb testing.TB) (*Server, *tsdb.DB) {
	e := newEnv(tb)
	now := time.Now()
	e.targets = []health.Target{{Kind: "host", Name: "testhost", Up: true, LastSeen: now, LastRunAt: now, Interval: 10 * time.Second}}
	return e.srv, e.db
}

// reportReqPerSec reports b.N requests over the benchmark's wall time as req/s.
func reportReqPerSec(b *testing.B) {
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(b.N)/s, "req/s")
	}
}

// benchInProcess sends GET path through the whole echo stack (pre-middleware, auth, CSRF,
// handler) without a network, from GOMAXPROCS goroutines.
func benchInProcess(b *testing.B, h http.Handler, path string, prepare func(*http.Request)) {
	b.Helper()
	// One request first, so a broken setup fails loudly instead of benchmarking an error page.
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if prepare != nil {
		prepare(req)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodGet, path, nil)
			if prepare != nil {
				prepare(req)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Errorf("GET %s: %d", path, rec.Code)
				return
			}
		}
	})
	reportReqPerSec(b)
}

// benchLoopback sends GET path over real loopback HTTP/1.1 with keep-alive connections, one
// per goroutine.
func benchLoopback(b *testing.B, h http.Handler, path string, prepare func(*http.Request)) {
	b.Helper()
	ts := httptest.NewServer(h)
	defer ts.Close()
	tr := &http.Transport{
		MaxIdleConns:        0,
		MaxIdleConnsPerHost: 4 * runtime.GOMAXPROCS(0),
		IdleConnTimeout:     time.Minute,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	get := func() (int, error) {
		req, err := http.NewRequest(http.MethodGet, ts.URL+path, nil)
		if err != nil {
			return 0, err
		}
		if prepare != nil {
			prepare(req)
		}
		res, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		// Drain so the connection goes back to the pool.
		_, err = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode, err
	}
	if code, err := get(); err != nil || code != http.StatusOK {
		b.Fatalf("GET %s: %d %v", path, code, err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if code, err := get(); err != nil || code != http.StatusOK {
				b.Errorf("GET %s: %d %v", path, code, err)
				return
			}
		}
	})
	reportReqPerSec(b)
}

// BenchmarkHealthLive measures GET /health/ (liveness), which load balancers poll: through the
// echo stack in process, and over loopback HTTP with keep-alive.
func BenchmarkHealthLive(b *testing.B) {
	srv, _ := newBenchServer(b)
	b.Run("handler", func(b *testing.B) { benchInProcess(b, srv.Handler(), "/health/", nil) })
	b.Run("loopback", func(b *testing.B) { benchLoopback(b, srv.Handler(), "/health/", nil) })
}

// BenchmarkMetricsBasicAuth measures GET /metrics with HTTP Basic credentials, as Prometheus
// or curl sends it: each request presents the password again, so this shows what verifying it
// costs (bcrypt, unless auth's verification cache answers).
func BenchmarkMetricsBasicAuth(b *testing.B) {
	srv, db := newBenchServer(b)
	// A small but realistic exposition: a host's series.
	now := time.Now().UnixMilli()
	var samples []tsdb.Sample
	for _, name := range []string{"host_cpu_usage_percent", "host_load1", "host_load5", "host_load15", "host_memory_used_bytes", "host_memory_total_bytes", "host_up"} {
		samples = append(samples, tsdb.Sample{Name: name, Labels: []tsdb.Label{{Name: "host", Value: "testhost"}}, Timestamp: now, Value: 1})
	}
	if err := db.Write(samples); err != nil {
		b.Fatal(err)
	}
	withBasic := func(r *http.Request) { r.SetBasicAuth("viewer", viewerPass) }
	b.Run("handler", func(b *testing.B) { benchInProcess(b, srv.Handler(), "/metrics", withBasic) })
	b.Run("loopback", func(b *testing.B) { benchLoopback(b, srv.Handler(), "/metrics", withBasic) })
}

// BenchmarkQueryRange30Days is GET /api/v1/query_range over 30 days at the step a 600-pixel
// chart asks (4,320 s, read from the 5-minute rollups), for one series and for 100, through
// the whole HTTP stack with HTTP Basic. The data is 30 days of one sample a minute per series,
// rolled up as the running server would.
func BenchmarkQueryRange30Days(b *testing.B) {
	dir := b.TempDir()
	db, err := tsdb.Open(tsdb.Options{Path: dir, Logger: slog.New(slog.DiscardHandler), RollupCatchUp: 31 * 24 * time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	now := time.Now()
	start := now.Add(-30 * 24 * time.Hour)
	var batch []tsdb.Sample
	for ts := start; ts.Before(now); ts = ts.Add(time.Minute) {
		for s := range 100 {
			batch = append(batch, tsdb.Sample{Name: "bench_len", Labels: []tsdb.Label{{Name: "key", Value: "k" + strconv.Itoa(s)}}, Timestamp: ts.UnixMilli(), Value: float64(ts.Unix()%97 + int64(s))})
		}
		if len(batch) >= 100_000 {
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
	if err := db.RollupUntil(context.Background(), now); err != nil {
		b.Fatal(err)
	}
	db.Flush()
	users, err := auth.NewUsers([]auth.User{{Name: "admin", PasswordHash: mustHash(b, adminPass), Role: auth.RoleAdmin}}, dir, "", slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	sessions, err := auth.NewSessions(dir, time.Hour, time.Now)
	if err != nil {
		b.Fatal(err)
	}
	srv := New(Options{Store: db, Users: users, Sessions: sessions, Stats: selfmon.New(), Refresh: 2 * time.Second,
		Health: &health.Checker{Started: now, Storage: db}, Logger: slog.New(slog.DiscardHandler)})
	for _, c := range []struct{ name, sel string }{{"series=1", `bench_len{key="k7"}`}, {"series=100", `bench_len`}} {
		b.Run(c.name, func(b *testing.B) {
			path := "/api/v1/query_range?query=" + url.QueryEscape(c.sel) + "&start=" + strconv.FormatInt(start.Unix(), 10) +
				"&end=" + strconv.FormatInt(now.Unix(), 10) + "&step=4320&agg=avg"
			req := httptest.NewRequest(http.MethodGet, path, nil)
			req.SetBasicAuth("admin", adminPass)
			rec := httptest.NewRecorder()
			srv.Handler().ServeHTTP(rec, req)
			var body struct {
				Data struct {
					Result []struct{ Values [][]any }
				}
			}
			if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &body) != nil {
				b.Fatalf("%d %.300s", rec.Code, rec.Body)
			}
			want := 1
			if c.name == "series=100" {
				want = 100
			}
			if len(body.Data.Result) != want || len(body.Data.Result[0].Values) < 550 {
				b.Fatalf("%d series, %d points in the first; want %d series of ~600 points", len(body.Data.Result), len(body.Data.Result[0].Values), want)
			}
			size := rec.Body.Len()
			b.ResetTimer()
			for range b.N {
				req := httptest.NewRequest(http.MethodGet, path, nil)
				req.SetBasicAuth("admin", adminPass)
				rec := httptest.NewRecorder()
				srv.Handler().ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatal(rec.Code)
				}
			}
			b.ReportMetric(float64(size), "resp_bytes")
		})
	}
}

func mustHash(tb testing.TB, pass string) string {
	tb.Helper()
	h, err := auth.HashPassword(pass)
	if err != nil {
		tb.Fatal(err)
	}
	return h
}
