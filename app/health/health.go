// Package health decides what redwatch's health endpoints report: liveness, readiness of
// redwatch itself, the embedded storage, and the state of every watched target. It holds no
// HTTP code: app/web turns a Report into JSON and its status code.
package health

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/redwatch/redwatch/app/buildinfo"
	"github.com/redwatch/redwatch/app/remotewrite"
	"github.com/redwatch/redwatch/tsdb"
)

// Storage is what the checks need of the store; *tsdb.DB satisfies it.
type Storage interface {
	Ping(ctx context.Context) (time.Duration, error)
	DiskFree() (uint64, error)  // cheap: readiness calls it on every probe
	DiskState() tsdb.DiskState  // read-only state and free space at the last check; cheap
	Stats() (tsdb.Stats, error) // walks the data directory: /health/db only
}

// Target is one watched thing (a Redis instance, this host, a pushing host) as a sampler sees it.
type Target struct {
	Kind      string    // "redis" | "host"
	Name      string    // instance name or host name
	Up        bool      // the last attempt succeeded
	LastSeen  time.Time // last successful sample; zero if never
	Latency   time.Duration
	Error     string // last error, "" when up; never contains secrets
	Interval  time.Duration
	LastRunAt time.Time // last attempt, successful or not; zero for pushed targets
	// Pushed marks a target that pushes to redwatch (an agent) instead of being sampled by it.
	// It counts for /health/targets but not for readiness: a silent agent is down, yet
	// redwatch itself is fine.
	Pushed bool
}

// TargetSource lists the current targets; samplers provide it.
type TargetSource func() []Target

// Checker computes health reports. Its fields are set once before use; methods are safe for
// concurrent use.
type Checker struct {
	Started        time.Time
	Storage        Storage
	Targets        TargetSource
	MinFreeBytes   uint64 // data dir free-space floor for readiness (default: the storage's read-only limit)
	ReadyTimeout   time.Duration
	Now            func() time.Time
	StartupGrace   time.Duration // samplers are not judged before this much uptime (default 30s)
	StaleIntervals int           // a sampler is stuck after this many intervals without a run (default 3)
	// RemoteWrite reports the [remote_write] forwarder; nil when none is configured. Its state
	// is shown by /health/targets under "remote_write" but never fails readiness nor makes
	// /health/targets 503: the endpoint is where redwatch sends data, not a watched target,
	// and samples wait in its queue meanwhile.
	RemoteWrite func() remotewrite.Stats
}

// Report is a health answer: Code is the HTTP status, Body the JSON document.
type Report struct {
	Code int
	Body map[string]any
}

func (c *Checker) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Live is the liveness answer: the process runs and serves HTTP.
func (c *Checker) Live(verbose bool) Report {
	now := c.now()
	bi := buildinfo.Get()
	body := map[string]any{
		"status":         "ok",
		"timestamp":      now.UTC().Format(time.RFC3339Nano),
		"service":        "redwatch",
		"version":        bi.Version,
		"uptime_seconds": int64(now.Sub(c.Started).Seconds()),
	}
	if verbose {
		body["commit"] = bi.Commit
		body["go_version"] = bi.GoVersion
		body["started_at"] = c.Started.UTC().Format(time.RFC3339)
	}
	return Report{Code: http.StatusOK, Body: body}
}

// Ready reports whether redwatch itself can do its job: storage answers and is writable, the
// data directory has free space, and every sampler has run recently.
func (c *Checker) Ready(ctx context.Context, verbose bool) Report {
	now := c.now()
	timeout := c.ReadyTimeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ready := true
	checks := map[string]any{}

	lat, err := c.Storage.Ping(ctx)
	st := map[string]any{"status": "ok", "latency_ms": ms(lat)}
	ds := c.Storage.DiskState()
	switch {
	case ds.ReadOnly:
		ready = false
		st["status"] = "read_only"
		st["error"] = readOnlyReason(ds)
		st["read_only"] = true
		st["free_bytes"] = ds.FreeBytes
		st["min_free_bytes"] = ds.MinFreeBytes
		st["since"] = ds.Since.UTC().Format(time.RFC3339Nano)
	case err != nil:
		ready = false
		st["status"] = "error"
		st["error"] = err.Error()
	}
	checks["storage"] = st

	minFree := c.MinFreeBytes
	if minFree == 0 {
		minFree = ds.MinFreeBytes
	}
	disk := map[string]any{"status": "ok"}
	if free, err := c.Storage.DiskFree(); err != nil {
		ready = false
		disk["status"] = "error"
		disk["error"] = err.Error()
	} else {
		disk["free_bytes"] = free
		if free < minFree {
			ready = false
			disk["status"] = "error"
			disk["error"] = "free space below the minimum"
		}
		if verbose {
			disk["min_free_bytes"] = minFree
		}
	}
	checks["disk"] = disk

	samplers := map[string]any{"status": "ok"}
	grace := c.StartupGrace
	if grace <= 0 {
		grace = 30 * time.Second
	}
	stale := c.StaleIntervals
	if stale <= 0 {
		stale = 3
	}
	var stuck []string
	detail := map[string]any{}
	if c.Targets != nil {
		for _, t := range c.Targets() {
			if t.Pushed {
				continue
			}
			name := t.Kind + ":" + t.Name
			// A sampler counts as running if it attempted a round recently; a target being
			// down is not redwatch's fault and is reported by /health/targets instead.
			limit := time.Duration(stale)*t.Interval + 5*time.Second
			running := !t.LastRunAt.IsZero() && now.Sub(t.LastRunAt) <= limit
			if !running && now.Sub(c.Started) > grace {
				stuck = append(stuck, name)
			}
			if verbose {
				d := map[string]any{"running": running}
				if !t.LastRunAt.IsZero() {
					d["last_run"] = t.LastRunAt.UTC().Format(time.RFC3339Nano)
				}
				detail[name] = d
			}
		}
	}
	if len(stuck) > 0 {
		ready = false
		samplers["status"] = "error"
		samplers["error"] = "samplers not running"
		samplers["stuck"] = stuck
	}
	if verbose {
		samplers["detail"] = detail
	}
	checks["samplers"] = samplers

	body := map[string]any{"status": "ready", "timestamp": now.UTC().Format(time.RFC3339Nano), "checks": checks}
	code := http.StatusOK
	if !ready {
		body["status"] = "not_ready"
		code = http.StatusServiceUnavailable
	}
	return Report{Code: code, Body: body}
}

// DB reports the embedded storage: engine, latency, series, rows, disk used and free.
func (c *Checker) DB(ctx context.Context, verbose bool) Report {
	now := c.now()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	body := map[string]any{
		"status":    "ok",
		"timestamp": now.UTC().Format(time.RFC3339Nano),
		"engine":    "victoriametrics",
		"version":   tsdb.Engine,
	}
	code := http.StatusOK
	lat, err := c.Storage.Ping(ctx)
	body["latency_ms"] = ms(lat)
	ds := c.Storage.DiskState()
	body["min_free_bytes"] = ds.MinFreeBytes
	switch {
	case ds.ReadOnly:
		// Reads work; writes are refused until space returns.
		body["status"] = "read_only"
		body["error"] = readOnlyReason(ds)
		body["read_only_since"] = ds.Since.UTC().Format(time.RFC3339Nano)
		code = http.StatusServiceUnavailable
	case err != nil:
		body["status"] = "error"
		body["error"] = err.Error()
		code = http.StatusServiceUnavailable
	}
	if st, err := c.Storage.Stats(); err == nil {
		body["series"] = st.Series
		body["rows"] = st.Rows
		body["disk_used_bytes"] = st.DiskUsedBytes
		body["disk_free_bytes"] = st.DiskFreeBytes
		body["read_only"] = st.ReadOnly
		if verbose {
			body["pending_rows"] = st.PendingRows
			body["samples_written"] = st.SamplesWritten
			body["path"] = st.Path
			if !st.RollupsUntil.IsZero() {
				body["rollups_until"] = st.RollupsUntil.UTC().Format(time.RFC3339)
			}
		}
	} else {
		body["status"] = "error"
		body["error"] = err.Error()
		code = http.StatusServiceUnavailable
	}
	return Report{Code: code, Body: body}
}

// readOnlyReason says why storage is read-only, with the figures.
func readOnlyReason(ds tsdb.DiskState) string {
	return fmt.Sprintf("storage is read-only: %d bytes free on the data directory's disk, below the limit of %d; samples are not stored until space returns", ds.FreeBytes, ds.MinFreeBytes)
}

// TargetsReport lists every watched target; 503 when any is down. With RemoteWrite set it adds
// the forwarder's state, which does not count as a target.
func (c *Checker) TargetsReport(verbose bool) Report {
	now := c.now()
	var targets []Target
	if c.Targets != nil {
		targets = c.Targets()
	}
	list := make([]map[string]any, 0, len(targets))
	down := 0
	for _, t := range targets {
		list = append(list, targetJSON(t, verbose))
		if !t.Up {
			down++
		}
	}
	body := map[string]any{"status": "ok", "timestamp": now.UTC().Format(time.RFC3339Nano), "targets": list, "down": down, "total": len(targets)}
	if c.RemoteWrite != nil {
		body["remote_write"] = remoteWriteJSON(c.RemoteWrite())
	}
	code := http.StatusOK
	if down > 0 {
		body["status"] = "degraded"
		code = http.StatusServiceUnavailable
	}
	return Report{Code: code, Body: body}
}

// Target reports one target of the given kind; 404 when unknown, 503 when down.
func (c *Checker) Target(kind, name string, verbose bool) Report {
	if c.Targets != nil {
		for _, t := range c.Targets() {
			if t.Kind == kind && t.Name == name {
				body := targetJSON(t, verbose)
				body["timestamp"] = c.now().UTC().Format(time.RFC3339Nano)
				if !t.Up {
					return Report{Code: http.StatusServiceUnavailable, Body: body}
				}
				return Report{Code: http.StatusOK, Body: body}
			}
		}
	}
	return Report{Code: http.StatusNotFound, Body: map[string]any{"status": "unknown", "error": "no " + kind + " target named " + name}}
}

func targetJSON(t Target, verbose bool) map[string]any {
	m := map[string]any{"kind": t.Kind, "name": t.Name, "status": "down", "latency_ms": ms(t.Latency)}
	if t.Up {
		m["status"] = "up"
	}
	if !t.LastSeen.IsZero() {
		m["last_seen"] = t.LastSeen.UTC().Format(time.RFC3339Nano)
	} else {
		m["last_seen"] = nil
	}
	if t.Error != "" {
		m["error"] = t.Error
	}
	if t.Pushed {
		m["pushed"] = true
	}
	if verbose {
		m["interval_seconds"] = t.Interval.Seconds()
		if !t.LastRunAt.IsZero() {
			m["last_run"] = t.LastRunAt.UTC().Format(time.RFC3339Nano)
		}
	}
	return m
}

// remoteWriteJSON is the "remote_write" part of /health/targets.
func remoteWriteJSON(st remotewrite.Stats) map[string]any {
	m := map[string]any{
		"url":           st.URL,
		"status":        "down",
		"state":         st.State,
		"since":         st.Since.UTC().Format(time.RFC3339Nano),
		"last_success":  nil,
		"queue_samples": st.QueueSamples,
		"sent_total":    st.Sent,
		"failed_total":  st.Failed,
		"dropped_total": st.Dropped,
	}
	if st.Up {
		m["status"] = "up"
	}
	if !st.LastSuccess.IsZero() {
		m["last_success"] = st.LastSuccess.UTC().Format(time.RFC3339Nano)
	}
	if st.LastError != "" {
		m["error"] = st.LastError
	}
	return m
}
