package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/redwatch/redwatch/app/health"
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
