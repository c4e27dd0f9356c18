package health

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/redwatch/redwatch/app/buildinfo"
	"github.com/redwatch/redwatch/app/remotewrite"
	"github.com/redwatch/redwatch/tsdb"
)

// The JSON of every report, byte for byte, as the endpoints answered it when reports were
// built as maps (keys in alphabetical order, fields present or absent as here): load
// balancers, scripts and the end-to-end tests read it.
func TestReportsJSON(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 4, 5, 6, 7, 890_000_000, time.UTC)
	started := now.Add(-90*time.Minute - 500*time.Millisecond)
	since := time.Date(2026, 3, 4, 1, 0, 0, 0, time.UTC)
	okStorage := stubStorage{latency: 1234 * time.Microsecond, free: 5 << 30, ds: tsdb.DiskState{FreeBytes: 5 << 30, MinFreeBytes: 64 << 20},
		stats: tsdb.Stats{Series: 12, Rows: 3400, PendingRows: 5, DiskUsedBytes: 1 << 20, DiskFreeBytes: 5 << 30, SamplesWritten: 99, Path: "/data"}}
	withRollups := okStorage
	withRollups.stats.RollupsUntil = since
	zeros := stubStorage{ds: tsdb.DiskState{}, stats: tsdb.Stats{}} // every figure 0: still present
	readOnly := okStorage
	readOnly.pingErr = tsdb.ErrReadOnly
	readOnly.free = 0
	readOnly.ds = tsdb.DiskState{ReadOnly: true, FreeBytes: 0, MinFreeBytes: 64 << 20, Since: since}
	readOnly.stats.ReadOnly = true
	broken := stubStorage{latency: 2 * time.Millisecond, pingErr: errors.New("storage is closed"), freeErr: errors.New("statfs: no such file"), statsErr: tsdb.ErrClosed}
	lowDisk := okStorage
	lowDisk.free = 1000

	targets := []Target{
		{Kind: "redis", Name: "cache", Up: true, LastSeen: now.Add(-3 * time.Second), Latency: 250 * time.Microsecond, Interval: 10 * time.Second, LastRunAt: now.Add(-3 * time.Second)},
		{Kind: "redis", Name: "db", Up: false, Error: "connection refused", Interval: 15 * time.Second, LastRunAt: now.Add(-time.Hour)},
		{Kind: "host", Name: "agent-1", Up: false, LastSeen: now.Add(-time.Hour), Error: "no push for 3600s", Interval: 10 * time.Second, Pushed: true},
		{Kind: "host", Name: "never", Interval: 0},
	}
	rwDown := remotewrite.Stats{URL: "http://vm:8428/api/v1/write", State: "unavailable", Since: since, LastError: "connection refused", QueueSamples: 0, Failed: 3}
	rwUp := remotewrite.Stats{URL: "http://vm:8428/api/v1/write", State: "delivering", Up: true, Since: since, LastSuccess: now.Add(-time.Second), QueueSamples: 7, Sent: 1000, Dropped: 2}

	checker := func(st Storage, ts []Target, rw *remotewrite.Stats) *Checker {
		c := &Checker{Started: started, Storage: st, Now: func() time.Time { return now }}
		if ts != nil {
			c.Targets = func() []Target { return ts }
		}
		if rw != nil {
			c.RemoteWrite = func() remotewrite.Stats { return *rw }
		}
		return c
	}
	ctx := context.Background()
	check(t, "live", checker(okStorage, nil, nil).Live(false), http.StatusOK,
		`{"service":"redwatch","status":"ok","timestamp":"2026-03-04T05:06:07.89Z","uptime_seconds":5400,"version":"{version}"}`)
	check(t, "live verbose", checker(okStorage, nil, nil).Live(true), http.StatusOK,
		`{"commit":"{commit}","go_version":"{go}","service":"redwatch","started_at":"2026-03-04T03:36:07Z","status":"ok","timestamp":"2026-03-04T05:06:07.89Z","uptime_seconds":5400,"version":"{version}"}`)

	running := []Target{targets[0], targets[2]} // a pushed target is never judged
	check(t, "ready", checker(okStorage, running, nil).Ready(ctx, false), http.StatusOK,
		`{"checks":{"disk":{"free_bytes":5368709120,"status":"ok"},"samplers":{"status":"ok"},"storage":{"latency_ms":1.234,"status":"ok"}},"status":"ready","timestamp":"2026-03-04T05:06:07.89Z"}`)
	check(t, "ready verbose", checker(okStorage, running, nil).Ready(ctx, true), http.StatusOK,
		`{"checks":{"disk":{"free_bytes":5368709120,"min_free_bytes":67108864,"status":"ok"},"samplers":{"detail":{"redis:cache":{"last_run":"2026-03-04T05:06:04.89Z","running":true}},"status":"ok"},"storage":{"latency_ms":1.234,"status":"ok"}},"status":"ready","timestamp":"2026-03-04T05:06:07.89Z"}`)
	grace := checker(okStorage, targets, nil)
	grace.Started = now.Add(-10 * time.Second)
	check(t, "ready within the startup grace", grace.Ready(ctx, true), http.StatusOK,
		`{"checks":{"disk":{"free_bytes":5368709120,"min_free_bytes":67108864,"status":"ok"},"samplers":{"detail":{"host:never":{"running":false},"redis:cache":{"last_run":"2026-03-04T05:06:04.89Z","running":true},"redis:db":{"last_run":"2026-03-04T04:06:07.89Z","running":false}},"status":"ok"},"storage":{"latency_ms":1.234,"status":"ok"}},"status":"ready","timestamp":"2026-03-04T05:06:07.89Z"}`)
	check(t, "ready verbose without targets", checker(okStorage, nil, nil).Ready(ctx, true), http.StatusOK,
		`{"checks":{"disk":{"free_bytes":5368709120,"min_free_bytes":67108864,"status":"ok"},"samplers":{"detail":{},"status":"ok"},"storage":{"latency_ms":1.234,"status":"ok"}},"status":"ready","timestamp":"2026-03-04T05:06:07.89Z"}`)
	check(t, "ready with zeros", checker(zeros, []Target{}, nil).Ready(ctx, true), http.StatusOK,
		`{"checks":{"disk":{"free_bytes":0,"min_free_bytes":0,"status":"ok"},"samplers":{"detail":{},"status":"ok"},"storage":{"latency_ms":0,"status":"ok"}},"status":"ready","timestamp":"2026-03-04T05:06:07.89Z"}`)
	check(t, "ready read-only", checker(readOnly, nil, nil).Ready(ctx, false), http.StatusServiceUnavailable,
		`{"checks":{"disk":{"error":"free space below the minimum","free_bytes":0,"status":"error"},"samplers":{"status":"ok"},"storage":{"error":"storage is read-only: 0 bytes free on the data directory's disk, below the limit of 67108864; samples are not stored until space returns","free_bytes":0,"latency_ms":1.234,"min_free_bytes":67108864,"read_only":true,"since":"2026-03-04T01:00:00Z","status":"read_only"}},"status":"not_ready","timestamp":"2026-03-04T05:06:07.89Z"}`)
	check(t, "ready broken", checker(broken, nil, nil).Ready(ctx, true), http.StatusServiceUnavailable,
		`{"checks":{"disk":{"error":"statfs: no such file","status":"error"},"samplers":{"detail":{},"status":"ok"},"storage":{"error":"storage is closed","latency_ms":2,"status":"error"}},"status":"not_ready","timestamp":"2026-03-04T05:06:07.89Z"}`)
	check(t, "ready low disk", checker(lowDisk, nil, nil).Ready(ctx, false), http.StatusServiceUnavailable,
		`{"checks":{"disk":{"error":"free space below the minimum","free_bytes":1000,"status":"error"},"samplers":{"status":"ok"},"storage":{"latency_ms":1.234,"status":"ok"}},"status":"not_ready","timestamp":"2026-03-04T05:06:07.89Z"}`)
	stuck := checker(okStorage, targets, nil)
	stuck.Started = now.Add(-time.Hour)
	check(t, "ready stuck", stuck.Ready(ctx, false), http.StatusServiceUnavailable,
		`{"checks":{"disk":{"free_bytes":5368709120,"status":"ok"},"samplers":{"error":"samplers not running","status":"error","stuck":["redis:db","host:never"]},"storage":{"latency_ms":1.234,"status":"ok"}},"status":"not_ready","timestamp":"2026-03-04T05:06:07.89Z"}`)
	check(t, "ready stuck verbose", stuck.Ready(ctx, true), http.StatusServiceUnavailable,
		`{"checks":{"disk":{"free_bytes":5368709120,"min_free_bytes":67108864,"status":"ok"},"samplers":{"detail":{"host:never":{"running":false},"redis:cache":{"last_run":"2026-03-04T05:06:04.89Z","running":true},"redis:db":{"last_run":"2026-03-04T04:06:07.89Z","running":false}},"error":"samplers not running","status":"error","stuck":["redis:db","host:never"]},"storage":{"latency_ms":1.234,"status":"ok"}},"status":"not_ready","timestamp":"2026-03-04T05:06:07.89Z"}`)

	check(t, "db", checker(okStorage, nil, nil).DB(ctx, false), http.StatusOK,
		`{"disk_free_bytes":5368709120,"disk_used_bytes":1048576,"engine":"victoriametrics","latency_ms":1.234,"min_free_bytes":67108864,"read_only":false,"rows":3400,"series":12,"status":"ok","timestamp":"2026-03-04T05:06:07.89Z","version":"{engine}"}`)
	check(t, "db verbose", checker(okStorage, nil, nil).DB(ctx, true), http.StatusOK,
		`{"disk_free_bytes":5368709120,"disk_used_bytes":1048576,"engine":"victoriametrics","latency_ms":1.234,"min_free_bytes":67108864,"path":"/data","pending_rows":5,"read_only":false,"rows":3400,"samples_written":99,"series":12,"status":"ok","timestamp":"2026-03-04T05:06:07.89Z","version":"{engine}"}`)
	check(t, "db verbose with rollups", checker(withRollups, nil, nil).DB(ctx, true), http.StatusOK,
		`{"disk_free_bytes":5368709120,"disk_used_bytes":1048576,"engine":"victoriametrics","latency_ms":1.234,"min_free_bytes":67108864,"path":"/data","pending_rows":5,"read_only":false,"rollups_until":"2026-03-04T01:00:00Z","rows":3400,"samples_written":99,"series":12,"status":"ok","timestamp":"2026-03-04T05:06:07.89Z","version":"{engine}"}`)
	check(t, "db zeros", checker(zeros, nil, nil).DB(ctx, true), http.StatusOK,
		`{"disk_free_bytes":0,"disk_used_bytes":0,"engine":"victoriametrics","latency_ms":0,"min_free_bytes":0,"path":"","pending_rows":0,"read_only":false,"rows":0,"samples_written":0,"series":0,"status":"ok","timestamp":"2026-03-04T05:06:07.89Z","version":"{engine}"}`)
	check(t, "db read-only", checker(readOnly, nil, nil).DB(ctx, false), http.StatusServiceUnavailable,
		`{"disk_free_bytes":5368709120,"disk_used_bytes":1048576,"engine":"victoriametrics","error":"storage is read-only: 0 bytes free on the data directory's disk, below the limit of 67108864; samples are not stored until space returns","latency_ms":1.234,"min_free_bytes":67108864,"read_only":true,"read_only_since":"2026-03-04T01:00:00Z","rows":3400,"series":12,"status":"read_only","timestamp":"2026-03-04T05:06:07.89Z","version":"{engine}"}`)
	check(t, "db broken", checker(broken, nil, nil).DB(ctx, true), http.StatusServiceUnavailable,
		`{"engine":"victoriametrics","error":"tsdb: closed","latency_ms":2,"min_free_bytes":0,"status":"error","timestamp":"2026-03-04T05:06:07.89Z","version":"{engine}"}`)
	pingOnly := okStorage
	pingOnly.pingErr = errors.New("timeout")
	check(t, "db ping error", checker(pingOnly, nil, nil).DB(ctx, false), http.StatusServiceUnavailable,
		`{"disk_free_bytes":5368709120,"disk_used_bytes":1048576,"engine":"victoriametrics","error":"timeout","latency_ms":1.234,"min_free_bytes":67108864,"read_only":false,"rows":3400,"series":12,"status":"error","timestamp":"2026-03-04T05:06:07.89Z","version":"{engine}"}`)

	check(t, "targets none", checker(okStorage, nil, nil).TargetsReport(false), http.StatusOK,
		`{"down":0,"status":"ok","targets":[],"timestamp":"2026-03-04T05:06:07.89Z","total":0}`)
	check(t, "targets", checker(okStorage, targets, nil).TargetsReport(false), http.StatusServiceUnavailable,
		`{"down":3,"status":"degraded","targets":[{"kind":"redis","last_seen":"2026-03-04T05:06:04.89Z","latency_ms":0.25,"name":"cache","status":"up"},{"error":"connection refused","kind":"redis","last_seen":null,"latency_ms":0,"name":"db","status":"down"},{"error":"no push for 3600s","kind":"host","last_seen":"2026-03-04T04:06:07.89Z","latency_ms":0,"name":"agent-1","pushed":true,"status":"down"},{"kind":"host","last_seen":null,"latency_ms":0,"name":"never","status":"down"}],"timestamp":"2026-03-04T05:06:07.89Z","total":4}`)
	check(t, "targets verbose", checker(okStorage, targets, nil).TargetsReport(true), http.StatusServiceUnavailable,
		`{"down":3,"status":"degraded","targets":[{"interval_seconds":10,"kind":"redis","last_run":"2026-03-04T05:06:04.89Z","last_seen":"2026-03-04T05:06:04.89Z","latency_ms":0.25,"name":"cache","status":"up"},{"error":"connection refused","interval_seconds":15,"kind":"redis","last_run":"2026-03-04T04:06:07.89Z","last_seen":null,"latency_ms":0,"name":"db","status":"down"},{"error":"no push for 3600s","interval_seconds":10,"kind":"host","last_seen":"2026-03-04T04:06:07.89Z","latency_ms":0,"name":"agent-1","pushed":true,"status":"down"},{"interval_seconds":0,"kind":"host","last_seen":null,"latency_ms":0,"name":"never","status":"down"}],"timestamp":"2026-03-04T05:06:07.89Z","total":4}`)
	check(t, "targets remote write down", checker(okStorage, targets[:1], &rwDown).TargetsReport(false), http.StatusOK,
		`{"down":0,"remote_write":{"dropped_total":0,"error":"connection refused","failed_total":3,"last_success":null,"queue_samples":0,"sent_total":0,"since":"2026-03-04T01:00:00Z","state":"unavailable","status":"down","url":"http://vm:8428/api/v1/write"},"status":"ok","targets":[{"kind":"redis","last_seen":"2026-03-04T05:06:04.89Z","latency_ms":0.25,"name":"cache","status":"up"}],"timestamp":"2026-03-04T05:06:07.89Z","total":1}`)
	check(t, "targets remote write up", checker(okStorage, nil, &rwUp).TargetsReport(true), http.StatusOK,
		`{"down":0,"remote_write":{"dropped_total":2,"failed_total":0,"last_success":"2026-03-04T05:06:06.89Z","queue_samples":7,"sent_total":1000,"since":"2026-03-04T01:00:00Z","state":"delivering","status":"up","url":"http://vm:8428/api/v1/write"},"status":"ok","targets":[],"timestamp":"2026-03-04T05:06:07.89Z","total":0}`)

	c := checker(okStorage, targets, nil)
	known := func(r Report[TargetStatus], ok bool) Report[TargetStatus] {
		t.Helper()
		if !ok {
			t.Fatal("a watched target is unknown")
		}
		return r
	}
	check(t, "target up", known(c.Target("redis", "cache", false)), http.StatusOK,
		`{"kind":"redis","last_seen":"2026-03-04T05:06:04.89Z","latency_ms":0.25,"name":"cache","status":"up","timestamp":"2026-03-04T05:06:07.89Z"}`)
	check(t, "target up verbose", known(c.Target("redis", "cache", true)), http.StatusOK,
		`{"interval_seconds":10,"kind":"redis","last_run":"2026-03-04T05:06:04.89Z","last_seen":"2026-03-04T05:06:04.89Z","latency_ms":0.25,"name":"cache","status":"up","timestamp":"2026-03-04T05:06:07.89Z"}`)
	check(t, "target down verbose", known(c.Target("redis", "db", true)), http.StatusServiceUnavailable,
		`{"error":"connection refused","interval_seconds":15,"kind":"redis","last_run":"2026-03-04T04:06:07.89Z","last_seen":null,"latency_ms":0,"name":"db","status":"down","timestamp":"2026-03-04T05:06:07.89Z"}`)
	check(t, "target never seen", known(c.Target("host", "never", true)), http.StatusServiceUnavailable,
		`{"interval_seconds":0,"kind":"host","last_seen":null,"latency_ms":0,"name":"never","status":"down","timestamp":"2026-03-04T05:06:07.89Z"}`)
	for _, name := range []string{"nope", "agent-1"} { // agent-1 is a host
		if _, ok := c.Target("redis", name, true); ok {
			t.Errorf("redis target %s: known", name)
		}
	}
	check(t, "target unknown", Unknown("redis", "nope"), http.StatusNotFound,
		`{"error":"no redis target named nope","status":"unknown"}`)
}

// check asserts a report's code and its JSON, byte for byte; want may hold {commit}, {go},
// {version} and {engine}, which stand for this binary's build information and tsdb.Engine.
func check[B any](t *testing.T, name string, r Report[B], wantCode int, want string) {
	t.Helper()
	bi := buildinfo.Get()
	want = strings.NewReplacer("{commit}", bi.Commit, "{go}", runtime.Version(), "{version}", bi.Version, "{engine}", tsdb.Engine).Replace(want)
	b, err := json.Marshal(r.Body)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if r.Code != wantCode || string(b) != want {
		t.Errorf("%s: %d %s\nwant %d %s", name, r.Code, b, wantCode, want)
	}
}
