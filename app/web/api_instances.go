package web

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/redwatch/redwatch/app/sampler/redis"
)

// instanceSnapshots is what /api/instances reads: the samplers' latest snapshot of every
// watched instance, or of one by name.
type instanceSnapshots interface {
	instanceLister
	instanceReader
}

// apiHandler serves the JSON API over the samplers' snapshots: /api/instances and /api/keys.
type apiHandler struct {
	instances instanceSnapshots
	keys      watchedKeys
}

// listInstances answers GET /api/instances: a JSON array of instanceJSON, one per watched
// instance, sorted by name; ?name=N keeps only that instance (an empty array if unknown).
// Nothing in it is secret.
func (s *apiHandler) listInstances(c echo.Context) error {
	var ins []redis.InstanceSnapshot
	if name := c.QueryParam("name"); name != "" {
		if in, ok := s.instances.Instance(name); ok {
			ins = append(ins, in)
		}
	} else {
		ins = s.instances.Instances()
	}
	out := make([]instanceJSON, len(ins))
	for i := range ins {
		out[i] = newInstanceJSON(&ins[i])
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, out)
}

// instanceJSON is one watched Redis instance in /api/instances. Times are RFC 3339 in UTC.
// The values read from INFO, CLIENT LIST and SLOWLOG are those of the last successful round
// (last_seen_at): zero or empty before the first one, kept while the instance is down.
type instanceJSON struct {
	Name            string  `json:"name"`
	Addr            string  `json:"addr"`
	DB              int     `json:"db"`
	IntervalSeconds float64 `json:"interval_seconds"`

	Up    bool   `json:"up"`
	Error string `json:"error,omitempty"` // why it is down; never secrets
	// LastSeenAt is the last successful round, LastRunAt the last round, successful or
	// not; null before the first one.
	LastSeenAt *time.Time `json:"last_seen_at"`
	LastRunAt  *time.Time `json:"last_run_at"`
	// PingLatencySeconds is PING's round trip in the last successful round; null before it.
	PingLatencySeconds *float64 `json:"ping_latency_seconds"`

	Version       string `json:"version,omitempty"` // redis_version; omitted when unknown
	Role          string `json:"role,omitempty"`    // master | slave
	Mode          string `json:"mode,omitempty"`    // standalone | cluster | sentinel
	UptimeSeconds int64  `json:"uptime_seconds"`

	// OpsPerSecond, KeyspaceHitRatio and the network rates are the others' traffic over the
	// last interval (redwatch's own is subtracted); the rates are 0 on the first round.
	OpsPerSecond          float64 `json:"ops_per_second"`
	MemoryUsedBytes       int64   `json:"memory_used_bytes"`
	MemoryMaxBytes        int64   `json:"memory_max_bytes"` // 0: no maxmemory
	MemoryRSSBytes        int64   `json:"memory_rss_bytes"`
	MemFragmentationRatio float64 `json:"mem_fragmentation_ratio"`
	// ConnectedClients excludes redwatch's own connections, which are RedwatchConnections.
	ConnectedClients    int64 `json:"connected_clients"`
	RedwatchConnections int64 `json:"redwatch_connections"`
	BlockedClients      int64 `json:"blocked_clients"`
	// KeyspaceHitRatio is hits/(hits+misses); null when nobody else looked a key up over the
	// interval (and on the first round).
	KeyspaceHitRatio        *float64      `json:"keyspace_hit_ratio"`
	NetInputBytesPerSecond  float64       `json:"net_input_bytes_per_second"`
	NetOutputBytesPerSecond float64       `json:"net_output_bytes_per_second"`
	ConnectedReplicas       int64         `json:"connected_replicas"`
	ReplicationLagBytes     int64         `json:"replication_lag_bytes"`
	Keyspace                []dbKeysJSON  `json:"keyspace"` // by db
	Commands                []commandJSON `json:"commands"` // by calls, most first
	Clients                 []clientJSON  `json:"clients"`  // null when unknown (clients_error says why, or no round yet)
	ClientsError            string        `json:"clients_error,omitempty"`
	Slowlog                 []slowlogJSON `json:"slowlog"` // the kept entries, newest first
	SlowlogError            string        `json:"slowlog_error,omitempty"`
	SlowlogLength           int64         `json:"slowlog_length"` // SLOWLOG LEN
	KeysWatched             int           `json:"keys_watched"`
	PatternsWatched         int           `json:"patterns_watched"`
	// Topology is the Sentinel or Cluster deployment (api_topology.go); omitted for standalone.
	Topology *topologyJSON `json:"topology,omitempty"`
}

// dbKeysJSON is one database of INFO keyspace.
type dbKeysJSON struct {
	DB           int   `json:"db"`
	Keys         int64 `json:"keys"`
	KeysExpiring int64 `json:"keys_expiring"`
	// AvgTTLSeconds is Redis's estimate of the keys' mean TTL; null when it has none (no key
	// with an expiry, or not estimated yet).
	AvgTTLSeconds *float64 `json:"avg_ttl_seconds"`
}

// commandJSON is one command of INFO commandstats and latencystats.
type commandJSON struct {
	Name           string  `json:"name"` // lower case, subcommands as "config|get"
	Calls          int64   `json:"calls"`
	FailedCalls    int64   `json:"failed_calls"`
	SecondsPerCall float64 `json:"seconds_per_call"` // mean duration, usec_per_call
	// Latency percentiles from INFO latencystats; null when unknown (before Redis 7).
	P50Seconds  *float64 `json:"p50_seconds"`
	P99Seconds  *float64 `json:"p99_seconds"`
	P999Seconds *float64 `json:"p999_seconds"`
}

// clientJSON is one connection of CLIENT LIST.
type clientJSON struct {
	ID          int64  `json:"id"`
	Addr        string `json:"addr"`
	Name        string `json:"name"`
	User        string `json:"user,omitempty"`
	AgeSeconds  int64  `json:"age_seconds"`
	IdleSeconds int64  `json:"idle_seconds"`
	DB          int    `json:"db"`
	Cmd         string `json:"cmd"` // the last command
	Flags       string `json:"flags"`
	MemoryBytes int64  `json:"memory_bytes"` // tot-mem
	// OutputBufferBytes is omem, QueryBufferBytes qbuf.
	OutputBufferBytes int64      `json:"output_buffer_bytes"`
	QueryBufferBytes  int64      `json:"query_buffer_bytes"`
	LastActiveAt      *time.Time `json:"last_active_at"`
	// Redwatch marks redwatch's own connections (by address; false behind NAT or a proxy).
	Redwatch bool `json:"redwatch"`
}

// slowlogJSON is one kept SLOWLOG entry; Args are truncated as on the page.
type slowlogJSON struct {
	ID              int64      `json:"id"`
	At              *time.Time `json:"at"` // when Redis ran the command
	DurationSeconds float64    `json:"duration_seconds"`
	Args            []string   `json:"args"`
	ClientAddr      string     `json:"client_addr,omitempty"`
	ClientName      string     `json:"client_name,omitempty"`
}

// newInstanceJSON maps a snapshot to its JSON.
func newInstanceJSON(in *redis.InstanceSnapshot) instanceJSON {
	out := instanceJSON{
		Name: in.Name, Addr: in.Addr, DB: in.DB, IntervalSeconds: in.Interval.Seconds(),
		Up: in.Up, Error: in.Error, LastSeenAt: utcTime(in.LastSeen), LastRunAt: utcTime(in.LastRunAt),
		Version: in.Version, Role: in.Role, Mode: in.Mode, UptimeSeconds: in.UptimeSeconds,
		OpsPerSecond: in.OpsPerSec, MemoryUsedBytes: in.MemoryUsedBytes, MemoryMaxBytes: in.MemoryMaxBytes,
		MemoryRSSBytes: in.MemoryRSSBytes, MemFragmentationRatio: in.FragmentationRatio,
		ConnectedClients: in.ConnectedClients, RedwatchConnections: in.RedwatchConnections,
		BlockedClients: in.BlockedClients, NetInputBytesPerSecond: in.NetInputBytesPerSec,
		NetOutputBytesPerSecond: in.NetOutputBytesPerSec, ConnectedReplicas: in.ConnectedReplicas,
		ReplicationLagBytes: in.ReplicationLagBytes, Keyspace: make([]dbKeysJSON, len(in.Keyspace)),
		Commands: make([]commandJSON, len(in.Commands)), ClientsError: in.ClientsError,
		Slowlog: make([]slowlogJSON, len(in.Slowlog)), SlowlogError: in.SlowlogError,
		SlowlogLength: in.SlowlogLength, KeysWatched: in.KeysWatched, PatternsWatched: in.PatternsWatched,
		Topology: newTopologyJSON(in.Topology),
	}
	if !in.LastSeen.IsZero() {
		out.PingLatencySeconds = new(in.PingLatency.Seconds())
	}
	if in.HitRatioKnown {
		out.KeyspaceHitRatio = new(in.HitRatio)
	}
	for i, d := range in.Keyspace {
		out.Keyspace[i] = dbKeysJSON{DB: d.DB, Keys: d.Keys, KeysExpiring: d.Expires, AvgTTLSeconds: positive(float64(d.AvgTTL) / 1e3)}
	}
	for i, cs := range in.Commands {
		out.Commands[i] = commandJSON{
			Name: cs.Name, Calls: cs.Calls, FailedCalls: cs.FailedCalls, SecondsPerCall: cs.UsecPerCall / 1e6,
			P50Seconds: positive(cs.P50), P99Seconds: positive(cs.P99), P999Seconds: positive(cs.P999),
		}
	}
	if in.Clients != nil {
		out.Clients = make([]clientJSON, len(in.Clients))
		for i, cl := range in.Clients {
			out.Clients[i] = clientJSON{
				ID: cl.ID, Addr: cl.Addr, Name: cl.Name, User: cl.User, AgeSeconds: cl.AgeSeconds,
				IdleSeconds: cl.IdleSeconds, DB: cl.DB, Cmd: cl.Cmd, Flags: cl.Flags,
				MemoryBytes: cl.MemoryBytes, OutputBufferBytes: cl.OutputBufferBytes, QueryBufferBytes: cl.QueryBufferBytes, LastActiveAt: utcTime(cl.LastActive), Redwatch: cl.Redwatch,
			}
		}
	}
	for i, e := range in.Slowlog {
		out.Slowlog[i] = slowlogJSON{
			ID: e.ID, At: utcTime(e.Time), DurationSeconds: float64(e.Micros) / 1e6, Args: e.Args,
			ClientAddr: e.ClientAddr, ClientName: e.ClientName,
		}
	}
	return out
}

// utcTime returns t in UTC, nil when t is zero (never happened): JSON null.
func utcTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return new(t.UTC())
}

// positive returns v, nil when v is not positive: the snapshots' "0 when unknown".
func positive(v float64) *float64 {
	if v <= 0 {
		return nil
	}
	return &v
}
