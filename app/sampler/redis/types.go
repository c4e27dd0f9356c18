// Package redis watches Redis instances: one Sampler per instance runs INFO, PING, CLIENT LIST
// and SLOWLOG GET every interval and samples the configured keys and patterns on their own
// schedules with pipelined batches. Samples go to a Writer (storage); the latest state is kept
// in memory as snapshots for pages and the JSON API, which therefore never send a command to
// Redis. A Manager owns the Samplers of every configured instance.
package redis

import (
	"crypto/sha256"
	"encoding/binary"
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
	Name     string
	Addr     string
	DB       int
	Interval time.Duration

	Up          bool
	Error       string    // last error while down; never secrets
	LastSeen    time.Time // last successful round; zero if never
	LastRunAt   time.Time // last round, successful or not
	PingLatency time.Duration

	// Topology is how the instance is deployed (standalone, Sentinel, Cluster) and, for the
	// latter two, its nodes as last seen. For Sentinel and Cluster, Up means the instance can
	// serve: a master reachable (Sentinel), cluster_state ok with every master up (Cluster).
	Topology Topology

	Version       string // redis_version
	Role          string // master | slave
	Mode          string // standalone | cluster | sentinel
	UptimeSeconds int64

	OpsPerSec          float64
	MemoryUsedBytes    int64
	MemoryMaxBytes     int64 // 0: no maxmemory
	MemoryRSSBytes     int64
	FragmentationRatio float64
	// ConnectedClients excludes redwatch's own connections, which are RedwatchConnections.
	ConnectedClients    int64
	RedwatchConnections int64
	BlockedClients      int64
	// OpsPerSec, HitRatio and the network rates are the others' traffic over the last
	// interval: redwatch's own commands, lookups and bytes are subtracted. HitRatio is
	// hits/(hits+misses); HitRatioKnown is false when the interval had no lookups by others
	// (or on the first round).
	HitRatio             float64
	HitRatioKnown        bool
	NetInputBytesPerSec  float64
	NetOutputBytesPerSec float64
	ConnectedReplicas    int64
	ReplicationLagBytes  int64

	Keyspace []DBKeys
	Commands []CommandStat // by calls, most first

	Clients         []Client // nil when CLIENT LIST is refused
	ClientsError    string
	Slowlog         []SlowlogEntry // newest first
	SlowlogError    string
	SlowlogLength   int64
	KeysWatched     int
	PatternsWatched int
}

// DBKeys is one line of INFO keyspace.
type DBKeys struct {
	DB      int
	Keys    int64
	Expires int64
	AvgTTL  int64 // milliseconds, INFO's avg_ttl; 0 when Redis has no estimate
}

// CommandStat is one command of INFO commandstats (and latencystats where the server has it).
type CommandStat struct {
	Name        string // lower case, subcommands as "config|get"
	Calls       int64
	UsecPerCall float64
	FailedCalls int64
	// Latency percentiles in seconds from INFO latencystats (Redis 7+); 0 when unknown.
	P50  float64
	P99  float64
	P999 float64
}

// Client is one line of CLIENT LIST.
type Client struct {
	ID          int64
	Addr        string
	Name        string
	User        string
	Age         time.Duration
	Idle        time.Duration
	AgeSeconds  int64
	IdleSeconds int64
	DB          int
	Cmd         string // last command
	Flags       string
	MemoryBytes int64 // tot-mem
	// OutputBufferBytes is omem: the replies queued for the client and not yet sent (a slow
	// consumer, a pub/sub subscriber falling behind).
	OutputBufferBytes int64
	// QueryBufferBytes is qbuf: the client's commands read and not yet run (a client sending
	// huge commands or pipelines).
	QueryBufferBytes int64
	LastActive       time.Time // when the round saw it, minus idle
	// Redwatch marks redwatch's own connections (by address; false behind NAT or a proxy).
	Redwatch bool
}

// SlowlogEntry is one SLOWLOG entry. Args are truncated for display; they are never logged.
// Its JSON is the layout of the slowlog file (slowlogFile).
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
	ID       string // KeyID(instance, db, key)
	Instance string
	DB       int
	Key      string // the full name, as Redis has it
	// KeyLabel is the key label of its series when that differs from Key: a key longer than
	// tsdb.MaxLabelValueBytes (stored shortened) or not valid UTF-8 (stored encoded).
	KeyLabel string
	Pattern  string // the pattern that found it; "" for exact keys
	Type     string // string list set zset hash stream hyperloglog, a module type, or "none"
	Interval time.Duration

	Exists bool
	// Length is LLEN/SCARD/ZCARD/HLEN/XLEN/STRLEN/PFCOUNT; HasLength is false for types
	// without one (module types) and before the first sample.
	Length    int64
	HasLength bool
	// MemoryBytes is MEMORY USAGE (sampled on a slower cadence); 0 when unknown.
	MemoryBytes int64
	// TTLSeconds is -1 for no expiry; meaningful only when Exists.
	TTLSeconds  float64
	Groups      []StreamGroup // streams only
	LastSampled time.Time
	Error       string // last reply error for this key
}

// StreamGroup is one consumer group of a stream (XINFO GROUPS).
type StreamGroup struct {
	Name      string
	Consumers int64
	Pending   int64
	Lag       int64 // -1: unknown (Redis < 7 or not computable)
}

// PatternSnapshot is one watched pattern after its latest SCAN expansion.
type PatternSnapshot struct {
	Instance  string
	DB        int
	Pattern   string
	Matched   int64 // keys matching at the last scan
	Tracked   int   // of which tracked one by one (<= max_keys)
	MaxKeys   int
	LengthSum int64 // sum of the lengths of every matching key
	LastScan  time.Time
	Error     string
}

// KeyID is the stable identifier of a watched key in URLs (/keys/{id}): the first 16 hex digits
// of SHA-256 over instance, db and key. Safe for any key bytes.
func KeyID(instance string, db int, key string) string {
	return formatKeyID(keyHash(instance, db, key))
}

// keyHash is KeyID as a number: the first 8 bytes of the SHA-256, big-endian.
func keyHash(instance string, db int, key string) uint64 {
	h := sha256.New()
	h.Write([]byte(instance))
	h.Write([]byte{0})
	h.Write([]byte(strconv.Itoa(db)))
	h.Write([]byte{0})
	h.Write([]byte(key))
	var sum [sha256.Size]byte
	return binary.BigEndian.Uint64(h.Sum(sum[:0]))
}

// formatKeyID is KeyID of keyHash id: its 16 hex digits.
func formatKeyID(id uint64) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], id)
	return hex.EncodeToString(b[:])
}
