package web

import (
	"strings"
	"testing"
	"time"

	"github.com/redwatch/redwatch/app/health"
	"github.com/redwatch/redwatch/tsdb"
)

// The health endpoints answer with and without the trailing slash, without a login, never
// cached; their bodies are health's reports (app/health tests them byte for byte).
func TestHealthEndpoints(t *testing.T) {
	t.Parallel()
	e := newStatusEnv(t, newStatusStore(nil), healthyDisk, nil)
	now := time.Now()
	e.targets = []health.Target{{Kind: "host", Name: "testhost", Up: true, LastSeen: now, LastRunAt: now, Interval: 10 * time.Second}}
	for _, p := range []string{"/health", "/health/", "/health/?verbose"} {
		res, body := e.do(nil, "GET", p, nil)
		m := decode(t, body)
		if res.StatusCode != 200 || m["status"] != "ok" || m["service"] != "redwatch" || m["version"] == nil || m["uptime_seconds"] == nil || m["timestamp"] == nil {
			t.Fatalf("%s: %d %s", p, res.StatusCode, body)
		}
		if strings.Contains(p, "verbose") != (m["go_version"] != nil) {
			t.Fatalf("%s: verbose detail mismatch: %s", p, body)
		}
	}
	for _, p := range []string{"/health/ready", "/health/ready/"} {
		res, body := e.do(nil, "GET", p, nil)
		m := decode(t, body)
		checks, _ := m["checks"].(map[string]any)
		storage, _ := checks["storage"].(map[string]any)
		if res.StatusCode != 200 || m["status"] != "ready" || storage["status"] != "ok" || storage["latency_ms"] == nil {
			t.Fatalf("%s: %d %s", p, res.StatusCode, body)
		}
	}
	res, body := e.do(nil, "GET", "/health/db/", nil)
	m := decode(t, body)
	for _, k := range []string{"engine", "version", "latency_ms", "series", "rows", "disk_used_bytes", "disk_free_bytes"} {
		if _, ok := m[k]; !ok || res.StatusCode != 200 {
			t.Fatalf("/health/db/ lacks %s: %d %s", k, res.StatusCode, body)
		}
	}
	res, body = e.do(nil, "GET", "/health/targets/", nil)
	if res.StatusCode != 200 || !strings.Contains(body, `"testhost"`) {
		t.Fatalf("targets: %d %s", res.StatusCode, body)
	}
	res, body = e.do(nil, "GET", "/health/redis/nope/", nil)
	if want := `{"error":"no redis target named nope","status":"unknown"}` + "\n"; res.StatusCode != 404 || body != want || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("unknown redis: %d %q %q, want 404 %q, not stored", res.StatusCode, body, res.Header.Get("Cache-Control"), want)
	}

	// A target down: targets 503; a sampler that stopped running: ready 503.
	e.targets = append(e.targets, health.Target{Kind: "redis", Name: "cache", Up: false, Error: "connection refused", LastRunAt: now, Interval: 10 * time.Second})
	res, body = e.do(nil, "GET", "/health/targets", nil)
	if res.StatusCode != 503 || decode(t, body)["status"] != "degraded" {
		t.Fatalf("targets with one down: %d %s", res.StatusCode, body)
	}
	res, body = e.do(nil, "GET", "/health/redis/cache", nil)
	if res.StatusCode != 503 || !strings.Contains(body, "connection refused") {
		t.Fatalf("redis down: %d %s", res.StatusCode, body)
	}
	e.checker.Started = now.Add(-time.Hour)
	e.targets = []health.Target{{Kind: "host", Name: "testhost", Up: true, LastRunAt: now.Add(-10 * time.Minute), Interval: 10 * time.Second}}
	res, body = e.do(nil, "GET", "/health/ready", nil)
	if res.StatusCode != 503 || decode(t, body)["status"] != "not_ready" || !strings.Contains(body, "host:testhost") {
		t.Fatalf("ready with a stuck sampler: %d %s", res.StatusCode, body)
	}
	// Storage gone: not ready, db 503.
	e.targets = nil
	e.checker.Storage = statusDisk{pingErr: tsdb.ErrClosed, statsErr: tsdb.ErrClosed}
	res, body = e.do(nil, "GET", "/health/ready", nil)
	if res.StatusCode != 503 || decode(t, body)["status"] != "not_ready" {
		t.Fatalf("ready with storage closed: %d %s", res.StatusCode, body)
	}
	res, _ = e.do(nil, "GET", "/health/db", nil)
	if res.StatusCode != 503 {
		t.Fatalf("db with storage closed: %d", res.StatusCode)
	}
	res, _ = e.do(nil, "GET", "/health", nil)
	if res.StatusCode != 200 {
		t.Fatalf("liveness must not depend on storage: %d", res.StatusCode)
	}
}

func TestSilentAgentDoesNotFailReadiness(t *testing.T) {
	t.Parallel()
	e := newStatusEnv(t, newStatusStore(nil), healthyDisk, nil)
	now := time.Now()
	e.checker.Started = now.Add(-time.Hour)
	e.targets = []health.Target{
		{Kind: "host", Name: "testhost", Up: true, LastSeen: now, LastRunAt: now, Interval: 10 * time.Second},
		{Kind: "host", Name: "agent-1", Up: false, LastSeen: now.Add(-time.Hour), Interval: 10 * time.Second, Error: "no push for 3600s", Pushed: true},
	}
	res, body := e.do(nil, "GET", "/health/ready", nil)
	if res.StatusCode != 200 {
		t.Fatalf("ready with a silent agent: %d %s", res.StatusCode, body)
	}
	res, body = e.do(nil, "GET", "/health/targets", nil)
	if res.StatusCode != 503 || !strings.Contains(body, `"pushed":true`) || !strings.Contains(body, "no push for 3600s") {
		t.Fatalf("targets with a silent agent: %d %s", res.StatusCode, body)
	}
}
