// Package redis watches Redis instances: one Sampler per instance runs INFO, PING, CLIENT LIST
// and SLOWLOG GET every interval and samples the configured keys and patterns on their own
// schedules with pipelined batches. Samples go to a Writer (storage); the latest state is kept
// in memory as snapshots for pages and the JSON API, which therefore never send a command to
// Redis. A Manager owns the Samplers of every configured instance.
package redis

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"

	"github.com/redwatch/redwatch/tsdb"
)

// Writer stores samples; the app's storage fan-out satisfies it. Write may be called from
// several samplers' goroutines at once; the caller does not touch the slice afterwards.
type Writer interface {
	Write(samples []tsdb.Sample) error
}

// The snapshot types below are what pages and the JSON API show. They are plain values, built
// by the samplers after each round and never mutated afterwards: slices in them are shared
// between snapshots and must be treated as read-only.

// InstanceSnapshot is the state of one watched Redis after its latest round.
type InstanceSnapshot struct {
	Name            string        `json:"name"`
	Addr            string        `json:"addr"`
	DB              int           `json:"db"`
	Interval        time.Duration `json:"-"`
	IntervalSeconds float64       `json:"interval_seconds"`

	Up                 bool          `json:"up"`
	Error              string        `json:"error,omitempty"` // last error while down; never secrets
	LastSeen           time.Time     `json:"last_seen"`       // last successful round; zero if never
	LastRunAt          time.Time     `json:"last_run"`        // last round, successful or not
	PingLatency        time.Duration `json:"-"`
	PingLatencySeconds float64       `json:"ping_latency_seconds"`

	Version       string `json:"version,omitempty"` // redis_version
	Role          string `json:"role,omitempty"`    // master | slave
	Mode          string `json:"mode,omitempty"`    // standalone | cluster | sentinel
	UptimeSeconds int64  `json:"uptime_seconds"`

	OpsPerSec          float64 `json:"ops_per_second"`
	MemoryUsedBytes    int64   `json:"memory_used_bytes"`
	MemoryMaxBytes     int64   `json:"memory_max_bytes"` // 0: no maxmemory
	MemoryRSSBytes     int64   `json:"memory_rss_bytes"`
	FragmentationRatio float64 `json:"mem_fragmentation_ratio"`
	// ConnectedClients excludes redwatch's own connections, which are RedwatchConnections.
	ConnectedClients    int64 `json:"connected_clients"`
	RedwatchConnections int64 `json:"redwatch_connections"`
	BlockedClients      int64 `json:"blocked_clients"`
	// OpsPerSec, HitRatio and the network rates are the others' traffic over the last
	// interval: redwatch's own commands, lookups and bytes are subtracted. HitRatio is
	// hits/(hits+misses); HitRatioKnown is false when the interval had no lookups by others
	// (or on the first round).
	HitRatio             float64 `json:"keyspace_hit_ratio"`
	HitRatioKnown        bool    `json:"keyspace_hit_ratio_known"`
	NetInputBytesPerSec  float64 `json:"net_input_bytes_per_second"`
	NetOutputBytesPerSec float64 `json:"net_output_bytes_per_second"`
	ConnectedReplicas    int64   `json:"connected_replicas"`
	ReplicationLagBytes  int64   `json:"replication_lag_bytes"`

	Keyspace []DBKeys      `json:"keyspace"`
	Commands []CommandStat `json:"commands"` // by calls, most first

	Clients         []Client       `json:"clients"` // nil when CLIENT LIST is refused
	ClientsError    string         `json:"clients_error,omitempty"`
	Slowlog         []SlowlogEntry `json:"slowlog"` // newest first
	SlowlogError    string         `json:"slowlog_error,omitempty"`
	SlowlogLength   int64          `json:"slowlog_length"`
	KeysWatched     int            `json:"keys_watched"`
	PatternsWatched int            `json:"patterns_watched"`
}

// DBKeys is one line of INFO keyspace.
type DBKeys struct {
	DB      int   `json:"db"`
	Keys    int64 `json:"keys"`
	Expires int64 `json:"expires"`
	AvgTTL  int64 `json:"avg_ttl_ms"`
}

// CommandStat is one command of INFO commandstats (and latencystats where the server has it).
type CommandStat struct {
	Name        string  `json:"name"` // lower case, subcommands as "config|get"
	Calls       int64   `json:"calls"`
	UsecPerCall float64 `json:"usec_per_call"`
	FailedCalls int64   `json:"failed_calls"`
	// Latency percentiles in seconds from INFO latencystats (Redis 7+); 0 when unknown.
	P50  float64 `json:"p50_seconds"`
	P99  float64 `json:"p99_seconds"`
	P999 float64 `json:"p999_seconds"`
}

// Client is one line of CLIENT LIST.
type Client struct {
	ID          int64         `json:"id"`
	Addr        string        `json:"addr"`
	Name        string        `json:"name"`
	User        string        `json:"user,omitempty"`
	Age         time.Duration `json:"-"`
	Idle        time.Duration `json:"-"`
	AgeSeconds  int64         `json:"age_seconds"`
	IdleSeconds int64         `json:"idle_seconds"`
	DB          int           `json:"db"`
	Cmd         string        `json:"cmd"` // last command
	Flags       string        `json:"flags"`
	MemoryBytes int64         `json:"memory_bytes"` // tot-mem
	LastActive  time.Time     `json:"last_active"`  // when the round saw it, minus idle
	// Redwatch marks redwatch's own connections (by address; false behind NAT or a proxy).
	Redwatch bool `json:"redwatch"`
}

// SlowlogEntry is one SLOWLOG entry. Args are truncated for display; they are never logged.
type SlowlogEntry struct {
	ID         int64         `json:"id"`
	Time       time.Time     `json:"time"`
	Duration   time.Duration `json:"-"`
	Micros     int64         `json:"duration_us"`
	Args       []string      `json:"args"`
	ClientAddr string        `json:"client_addr,omitempty"`
	ClientName string        `json:"client_name,omitempty"`
}

// KeySnapshot is one watched key after its latest sample.
type KeySnapshot struct {
	ID       string `json:"id"` // KeyID(instance, db, key)
	Instance string `json:"instance"`
	DB       int    `json:"db"`
	Key      string `json:"key"` // the full name, as Redis has it
	// KeyLabel is the key label of its series when that differs from Key: a key longer than
	// tsdb.MaxLabelValueBytes (stored shortened) or not valid UTF-8 (stored encoded).
	KeyLabel string        `json:"key_label,omitempty"`
	Pattern  string        `json:"pattern,omitempty"` // the pattern that found it; "" for exact keys
	Type     string        `json:"type"`              // string list set zset hash stream hyperloglog, a module type, or "none"
	Interval time.Duration `json:"-"`

	Exists bool `json:"exists"`
	// Length is LLEN/SCARD/ZCARD/HLEN/XLEN/STRLEN/PFCOUNT; HasLength is false for types
	// without one (module types) and before the first sample.
	Length    int64 `json:"length"`
	HasLength bool  `json:"has_length"`
	// MemoryBytes is MEMORY USAGE (sampled on a slower cadence); 0 when unknown.
	MemoryBytes int64 `json:"memory_bytes"`
	// TTLSeconds is -1 for no expiry; meaningful only when Exists.
	TTLSeconds  float64       `json:"ttl_seconds"`
	Groups      []StreamGroup `json:"groups,omitempty"` // streams only
	LastSampled time.Time     `json:"last_sampled"`
	Error       string        `json:"error,omitempty"` // last reply error for this key
}

// StreamGroup is one consumer group of a stream (XINFO GROUPS).
type StreamGroup struct {
	Name      string `json:"name"`
	Consumers int64  `json:"consumers"`
	Pending   int64  `json:"pending"`
	Lag       int64  `json:"lag"` // -1: unknown (Redis < 7 or not computable)
}

// PatternSnapshot is one watched pattern after its latest SCAN expansion.
type PatternSnapshot struct {
	Instance  string    `json:"instance"`
	DB        int       `json:"db"`
	Pattern   string    `json:"pattern"`
	Matched   int64     `json:"matched"` // keys matching at the last scan
	Tracked   int       `json:"tracked"` // of which tracked one by one (<= max_keys)
	MaxKeys   int       `json:"max_keys"`
	LengthSum int64     `json:"length_sum"` // sum of the lengths of every matching key
	LastScan  time.Time `json:"last_scan"`
	Error     string    `json:"error,omitempty"`
}

// KeyID is the stable identifier of a watched key in URLs (/keys/{id}): the first 16 hex digits
// of SHA-256 over instance, db and key. Safe for any key bytes.
func KeyID(instance string, db int, key string) string {
	h := sha256.New()
	h.Write([]byte(instance))
	h.Write([]byte{0})
	h.Write([]byte(strconv.Itoa(db)))
	h.Write([]byte{0})
	h.Write([]byte(key))
	return hex.EncodeToString(h.Sum(nil))[:16]
}
