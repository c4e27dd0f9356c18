package web

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/redwatch/redwatch/app/auth"
	"github.com/redwatch/redwatch/app/auth/authtest"
	"github.com/redwatch/redwatch/app/health"
	"github.com/redwatch/redwatch/app/logging"
	"github.com/redwatch/redwatch/app/selfmon"
	"github.com/redwatch/redwatch/internal/testutil"
	"github.com/redwatch/redwatch/tsdb"
)

// TestTargetReportsAreNotErrors: while a watched Redis is down, a load balancer polling
// /health/targets/ and /health/redis/{name}/ gets 503, the correct answer. Those answers are
// counted in redwatch_http_requests_total{code="503"} but not in redwatch_http_error_ratio,
// are logged at debug (not ERROR), and do not enter the recent problems /status shows.
func TestTargetReportsAreNotErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db, err := tsdb.Open(tsdb.Options{Path: dir, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	users, err := auth.NewUsers([]auth.User{{Name: "admin", PasswordHash: authtest.Hash(t, adminPass), Role: auth.RoleAdmin}}, dir, "", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	sessions, err := auth.NewSessions(dir, time.Hour, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	var logs testutil.SyncBuffer
	lg, err := logging.New(logging.Options{Level: "info", Stderr: &logs})
	if err != nil {
		t.Fatal(err)
	}
	lg.Named("sampler.redis").Warn("redis is down", "instance", "cache") // a real warning, to keep
	now := time.Now()
	targets := []health.Target{
		{Kind: "host", Name: "testhost", Up: true, LastSeen: now, LastRunAt: now, Interval: 10 * time.Second},
		{Kind: "redis", Name: "cache", Up: false, Error: "dial tcp 127.0.0.1:1: connect: connection refused", LastRunAt: now, Interval: 10 * time.Second},
	}
	stats := selfmon.New()
	srv := New(Options{
		Refresh: 2 * time.Second, SystemInterval: 10 * time.Second, LocalHost: "testhost",
		Store: db, Users: users, Sessions: sessions, Stats: stats, Redis: &fakeRedis{},
		Health: &health.Checker{Started: now, Storage: db, Targets: func() []health.Target { return targets }},
		Logger: lg.Named("http"),
	})
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	start := time.Now().Add(-30 * time.Second)                 // sample times in the past, readable at once
	if err := db.Write(stats.Samples(start, db)); err != nil { // the ratio's first mark
		t.Fatal(err)
	}

	get := func(path string, want int) {
		t.Helper()
		res, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != want {
			t.Fatalf("GET %s: %d, want %d", path, res.StatusCode, want)
		}
	}
	for range 60 {
		get("/health/targets/", http.StatusServiceUnavailable)
		get("/health/targets", http.StatusServiceUnavailable)
		get("/health/redis/cache/", http.StatusServiceUnavailable)
	}
	for range 20 {
		get("/health/", http.StatusOK)
		get("/health/ready/", http.StatusOK) // a Redis being down does not make redwatch unready
	}
	get("/health/redis/nope/", http.StatusNotFound)

	var ratio, total503 float64 = -1, 0
	samples := stats.Samples(start.Add(10*time.Second), db)
	if err := db.Write(samples); err != nil {
		t.Fatal(err)
	}
	for _, s := range samples {
		switch {
		case s.Name == "redwatch_http_error_ratio":
			ratio = s.Value
		case s.Name == "redwatch_http_requests_total" && label(s.Labels, "code") == "503":
			total503 += s.Value
		}
	}
	if ratio != 0 {
		t.Errorf("redwatch_http_error_ratio = %v during a Redis outage, want 0", ratio)
	}
	if total503 != 180 {
		t.Errorf("redwatch_http_requests_total{code=\"503\"} sums to %v, want 180", total503)
	}
	// /status's request figures count them as requests, not as 5xx.
	db.Flush()
	rs, err := selfmon.RequestStats(t.Context(), db, start.Add(-time.Second), start.Add(11*time.Second), isTargetReport)
	if err != nil {
		t.Fatal(err)
	}
	if rs.Requests != 221 || rs.Errors != 0 {
		t.Errorf("/status request stats: %v requests, %v 5xx; want 221 and 0", rs.Requests, rs.Errors)
	}
	if strings.Contains(logs.String(), `"level":"ERROR"`) {
		t.Errorf("503 reports logged at ERROR:\n%.2000s", logs.String())
	}
	recent := lg.Recent()
	if len(recent) != 1 || recent[0].Msg != "redis is down" {
		t.Errorf("recent problems %+v; want only the sampler's warning", recent)
	}
	// At debug, the access lines are there, with their status.
	lg.SetLevel(slog.LevelDebug)
	get("/health/targets/", http.StatusServiceUnavailable)
	if !strings.Contains(logs.String(), `"level":"DEBUG","msg":"request"`) || !strings.Contains(logs.String(), `"status":503`) {
		t.Errorf("no debug access line for the 503:\n%.2000s", logs.String())
	}
}

func label(ls []tsdb.Label, name string) string {
	for _, l := range ls {
		if l.Name == name {
			return l.Value
		}
	}
	return ""
}
