// Package health decides what redwatch's health endpoints report: liveness, readiness of
// redwatch itself, the embedded storage, and the state of every watched target. It holds no
// HTTP code: app/web writes a Report's Body as JSON with its Code (report.go: the bodies).
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
	// Topology is a Sentinel or Cluster instance's deployment; nil for standalone instances
	// and hosts. Up then means the instance can serve (a master reachable; cluster_state ok
	// with every master up), as its sampler decides.
	Topology *TopologyStatus
}

// TargetSource lists the current targets; samplers provide it.
type TargetSource func() []Target

// RemoteQuery is the remote query engine of storage.remote; *queryengine.Remote satisfies it.
type RemoteQuery interface {
	Where() string                   // its URL, without credentials
	Check(ctx context.Context) error // a trivial query; nil when it answered
}

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
	// RemoteQuery is storage.remote's query engine; nil when charts and rules read local
	// storage. /health/ready?verbose asks it a trivial query and shows the answer under
	// checks.query, as information only: it never makes redwatch not ready (local storage
	// and the samplers work without it). Without verbose it is not asked.
	RemoteQuery RemoteQuery
}

// StartedAt is when redwatch started (Started), for callers that hold the Checker through an
// interface.
func (c *Checker) StartedAt() time.Time { return c.Started }

// RemoteWriteStats is the [remote_write] forwarder's state; false when none is configured.
func (c *Checker) RemoteWriteStats() (remotewrite.Stats, bool) {
	if c.RemoteWrite == nil {
		return remotewrite.Stats{}, false
	}
	return c.RemoteWrite(), true
}

func (c *Checker) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Live is the liveness answer: the process runs and serves HTTP.
func (c *Checker) Live(verbose bool) Report[LiveBody] {
	now := c.now()
	bi := buildinfo.Get()
	body := LiveBody{
		Service:       "redwatch",
		Status:        "ok",
		Timestamp:     stamp(now),
		UptimeSeconds: int64(now.Sub(c.Started).Seconds()),
		Version:       bi.Version,
	}
	if verbose {
		body.Commit, body.GoVersion = bi.Commit, bi.GoVersion
		body.StartedAt = c.Started.UTC().Format(time.RFC3339)
	}
	return Report[LiveBody]{Code: http.StatusOK, Body: body}
}

// stamp formats t as the reports' timestamps: RFC 3339 in UTC, with its fraction of a second.
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// Ready reports whether redwatch itself can do its job: storage answers and is writable, the
// data directory has free space, and every sampler has run recently.
func (c *Checker) Ready(ctx context.Context, verbose bool) Report[ReadyBody] {
	now := c.now()
	timeout := c.ReadyTimeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	lat, err := c.Storage.Ping(ctx)
	st := StorageCheck{Status: "ok", LatencyMs: ms(lat)}
	ds := c.Storage.DiskState()
	switch {
	case ds.ReadOnly:
		st.Status, st.Error, st.ReadOnly = "read_only", readOnlyReason(ds), true
		st.FreeBytes, st.MinFreeBytes = new(ds.FreeBytes), new(ds.MinFreeBytes)
		st.Since = stamp(ds.Since)
	case err != nil:
		st.Status, st.Error = "error", err.Error()
	}
	checks := ReadyChecks{Storage: st, Disk: c.diskCheck(ds, verbose), Samplers: c.samplersCheck(now, verbose)}
	if verbose && c.RemoteQuery != nil {
		checks.Query = remoteQueryCheck(ctx, c.RemoteQuery)
	}
	body := ReadyBody{Status: "ready", Timestamp: stamp(now), Checks: checks}
	code := http.StatusOK
	if checks.Storage.Status != "ok" || checks.Disk.Status != "ok" || checks.Samplers.Status != "ok" {
		body.Status = "not_ready"
		code = http.StatusServiceUnavailable
	}
	return Report[ReadyBody]{Code: code, Body: body}
}

// remoteQueryCheck asks the remote query engine a trivial query, within ctx's deadline.
func remoteQueryCheck(ctx context.Context, r RemoteQuery) *QueryCheck {
	began := time.Now()
	err := r.Check(ctx)
	q := &QueryCheck{Status: "ok", URL: r.Where(), LatencyMs: ms(time.Since(began))}
	if err != nil {
		q.Status, q.Error = "unavailable", err.Error()
	}
	return q
}

// diskCheck is readiness' free space on the data directory, against MinFreeBytes or else the
// storage's read-only limit.
func (c *Checker) diskCheck(ds tsdb.DiskState, verbose bool) DiskCheck {
	minFree := c.MinFreeBytes
	if minFree == 0 {
		minFree = ds.MinFreeBytes
	}
	free, err := c.Storage.DiskFree()
	if err != nil {
		return DiskCheck{Status: "error", Error: err.Error()}
	}
	disk := DiskCheck{Status: "ok", FreeBytes: new(free)}
	if free < minFree {
		disk.Status, disk.Error = "error", "free space below the minimum"
	}
	if verbose {
		disk.MinFreeBytes = new(minFree)
	}
	return disk
}

// samplersCheck is readiness' samplers: every sampled (not pushed) target attempted a round
// within StaleIntervals of its interval, once StartupGrace has passed.
func (c *Checker) samplersCheck(now time.Time, verbose bool) SamplersCheck {
	grace := c.StartupGrace
	if grace <= 0 {
		grace = 30 * time.Second
	}
	stale := c.StaleIntervals
	if stale <= 0 {
		stale = 3
	}
	samplers := SamplersCheck{Status: "ok"}
	if verbose {
		samplers.Detail = map[string]SamplerRun{}
	}
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
				samplers.Stuck = append(samplers.Stuck, name)
			}
			if verbose {
				samplers.Detail[name] = SamplerRun{Running: running, LastRun: stampOrEmpty(t.LastRunAt)}
			}
		}
	}
	if len(samplers.Stuck) > 0 {
		samplers.Status, samplers.Error = "error", "samplers not running"
	}
	return samplers
}

// stampOrEmpty is stamp(t), or "" for the zero time (then an omitempty field is absent).
func stampOrEmpty(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return stamp(t)
}

// DB reports the embedded storage: engine, latency, series, rows, disk used and free.
func (c *Checker) DB(ctx context.Context, verbose bool) Report[DBBody] {
	now := c.now()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	body := DBBody{Status: "ok", Timestamp: stamp(now), Engine: "victoriametrics", Version: tsdb.Engine}
	code := http.StatusOK
	lat, err := c.Storage.Ping(ctx)
	body.LatencyMs = ms(lat)
	ds := c.Storage.DiskState()
	body.MinFreeBytes = ds.MinFreeBytes
	switch {
	case ds.ReadOnly:
		// Reads work; writes are refused until space returns.
		body.Status, body.Error, body.ReadOnlySince = "read_only", readOnlyReason(ds), stamp(ds.Since)
		code = http.StatusServiceUnavailable
	case err != nil:
		body.Status, body.Error = "error", err.Error()
		code = http.StatusServiceUnavailable
	}
	st, err := c.Storage.Stats()
	if err != nil {
		body.Status, body.Error = "error", err.Error()
		return Report[DBBody]{Code: http.StatusServiceUnavailable, Body: body}
	}
	body.Series, body.Rows, body.ReadOnly = new(st.Series), new(st.Rows), new(st.ReadOnly)
	body.DiskUsedBytes, body.DiskFreeBytes = new(st.DiskUsedBytes), new(st.DiskFreeBytes)
	if verbose {
		body.PendingRows, body.SamplesWritten, body.Path = new(st.PendingRows), new(st.SamplesWritten), new(st.Path)
		if !st.RollupsUntil.IsZero() {
			body.RollupsUntil = st.RollupsUntil.UTC().Format(time.RFC3339)
		}
	}
	return Report[DBBody]{Code: code, Body: body}
}

// readOnlyReason says why storage is read-only, with the figures.
func readOnlyReason(ds tsdb.DiskState) string {
	return fmt.Sprintf("storage is read-only: %d bytes free on the data directory's disk, below the limit of %d; samples are not stored until space returns", ds.FreeBytes, ds.MinFreeBytes)
}

// TargetsReport lists every watched target; 503 when any is down. With RemoteWrite set it adds
// the forwarder's state, which does not count as a target.
func (c *Checker) TargetsReport(verbose bool) Report[TargetsBody] {
	now := c.now()
	var targets []Target
	if c.Targets != nil {
		targets = c.Targets()
	}
	body := TargetsBody{Status: "ok", Timestamp: stamp(now), Targets: make([]TargetStatus, 0, len(targets)), Total: len(targets)}
	for _, t := range targets {
		body.Targets = append(body.Targets, targetStatus(t, verbose))
		if !t.Up {
			body.Down++
		}
	}
	if c.RemoteWrite != nil {
		body.RemoteWrite = remoteWriteStatus(c.RemoteWrite())
	}
	code := http.StatusOK
	if body.Down > 0 {
		body.Status = "degraded"
		code = http.StatusServiceUnavailable
	}
	return Report[TargetsBody]{Code: code, Body: body}
}

// Target reports one target of the given kind, 503 when it is down; false when there is no
// such target (then the answer is Unknown).
func (c *Checker) Target(kind, name string, verbose bool) (Report[TargetStatus], bool) {
	if c.Targets != nil {
		for _, t := range c.Targets() {
			if t.Kind == kind && t.Name == name {
				body := targetStatus(t, verbose)
				body.Timestamp = stamp(c.now())
				if !t.Up {
					return Report[TargetStatus]{Code: http.StatusServiceUnavailable, Body: body}, true
				}
				return Report[TargetStatus]{Code: http.StatusOK, Body: body}, true
			}
		}
	}
	return Report[TargetStatus]{}, false
}

// Unknown is the 404 answer for a target of the given kind that is not watched.
func Unknown(kind, name string) Report[UnknownTarget] {
	return Report[UnknownTarget]{Code: http.StatusNotFound, Body: UnknownTarget{Status: "unknown", Error: "no " + kind + " target named " + name}}
}

func targetStatus(t Target, verbose bool) TargetStatus {
	ts := TargetStatus{Kind: t.Kind, Name: t.Name, Status: "down", LatencyMs: ms(t.Latency), Error: t.Error, Pushed: t.Pushed}
	if t.Up {
		ts.Status = "up"
	}
	if !t.LastSeen.IsZero() {
		ts.LastSeen = new(stamp(t.LastSeen))
	}
	if t.Topology != nil {
		ts.Deployment = t.Topology.Kind
	}
	if verbose {
		ts.IntervalSeconds = new(t.Interval.Seconds())
		ts.LastRun = stampOrEmpty(t.LastRunAt)
		ts.Topology = t.Topology
	}
	return ts
}

// remoteWriteStatus is the "remote_write" part of /health/targets.
func remoteWriteStatus(st remotewrite.Stats) *RemoteWriteStatus {
	rw := &RemoteWriteStatus{
		URL:          st.URL,
		Status:       "down",
		State:        st.State,
		Since:        stamp(st.Since),
		QueueSamples: st.QueueSamples,
		SentTotal:    st.Sent,
		FailedTotal:  st.Failed,
		DroppedTotal: st.Dropped,
		Error:        st.LastError,
	}
	if st.Up {
		rw.Status = "up"
	}
	if !st.LastSuccess.IsZero() {
		rw.LastSuccess = new(stamp(st.LastSuccess))
	}
	return rw
}
