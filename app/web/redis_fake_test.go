package web

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/redwatch/redwatch/app/sampler/redis"
)

// fakeRedis is a RedisSource holding plain snapshots set by the test.
type fakeRedis struct {
	mu        sync.Mutex
	instances []redis.InstanceSnapshot
	keys      []redis.KeySnapshot
	patterns  []redis.PatternSnapshot
}

var _ RedisSource = (*fakeRedis)(nil)

func (f *fakeRedis) set(ins []redis.InstanceSnapshot, keys []redis.KeySnapshot, pats []redis.PatternSnapshot) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.instances, f.keys, f.patterns = ins, keys, pats
}

func (f *fakeRedis) Instances() []redis.InstanceSnapshot {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.instances
}

func (f *fakeRedis) Instance(name string) (redis.InstanceSnapshot, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, in := range f.instances {
		if in.Name == name {
			return in, true
		}
	}
	return redis.InstanceSnapshot{}, false
}

func (f *fakeRedis) Keys() []redis.KeySnapshot {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.keys
}

func (f *fakeRedis) Patterns() []redis.PatternSnapshot {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.patterns
}

const (
	hostileKey = `<img src=x onerror=alert(1)>`
	mib        = 1 << 20
)

var longKey = "long:" + strings.Repeat("k", 10<<10)

func key(instance, name, typ string, length int64) redis.KeySnapshot {
	return redis.KeySnapshot{
		ID: redis.KeyID(instance, 0, name), Instance: instance, Key: name, Type: typ,
		Exists: true, Length: length, HasLength: true, MemoryBytes: 1024, TTLSeconds: -1,
		LastSampled: time.Now().Add(-2 * time.Second), Interval: 5 * time.Second,
	}
}

// fill gives e's fake two instances ("cache" up, "down" down and stale), five keys and a pattern.
func (e *env) fill() {
	now := time.Now()
	var cmds []redis.CommandStat
	for i := range 25 {
		cmds = append(cmds, redis.CommandStat{Name: fmt.Sprintf("cmd%02d", i), Calls: int64(1000 - i), UsecPerCall: 1.5, P50: 0.000012, P99: 0.0005})
	}
	cache := redis.InstanceSnapshot{
		Name: "cache", Addr: "127.0.0.1:6379", Interval: 10 * time.Second,
		Up: true, LastSeen: now, LastRunAt: now, PingLatency: 300 * time.Microsecond,
		Version: "7.2.4", Role: "master", Mode: "standalone", UptimeSeconds: 3 * 86400,
		OpsPerSec: 1500, MemoryUsedBytes: 512 * mib, MemoryMaxBytes: 1024 * mib, MemoryRSSBytes: 600 * mib,
		FragmentationRatio: 1.17, ConnectedClients: 3, BlockedClients: 1, RedwatchConnections: 2,
		HitRatio: 0.9876, HitRatioKnown: true, NetInputBytesPerSec: 2048, NetOutputBytesPerSec: 4096,
		Keyspace: []redis.DBKeys{{DB: 0, Keys: 12345, Expires: 10, AvgTTL: 60000}, {DB: 3, Keys: 7}},
		Commands: cmds,
		Clients: []redis.Client{
			{ID: 1, Addr: "10.0.0.1:5000", Name: "worker", AgeSeconds: 100, IdleSeconds: 50, Cmd: "blpop", Flags: "b", MemoryBytes: 20000},
			{ID: 2, Addr: "10.0.0.2:5000", Name: "", AgeSeconds: 900, IdleSeconds: 0, Cmd: "get", Flags: "N", Redwatch: true},
			{ID: 3, Addr: "10.0.0.3:5000", Name: "api", AgeSeconds: 10, IdleSeconds: 5, Cmd: "set", Flags: "N"},
		},
		Slowlog: []redis.SlowlogEntry{
			{ID: 2, Time: now.Add(-time.Minute), Micros: 120000, Args: []string{"EVAL", "<script>alert(1)</script>", "0"}, ClientAddr: "10.0.0.1:5000", ClientName: "worker"},
			{ID: 1, Time: now.Add(-time.Hour), Micros: 25000, Args: []string{"KEYS", "*"}},
		},
		SlowlogLength: 2, KeysWatched: 4, PatternsWatched: 1,
	}
	down := redis.InstanceSnapshot{
		Name: "down", Addr: "10.9.9.9:6379", Interval: 10 * time.Second,
		Up: false, Error: "dial tcp 10.9.9.9:6379: connection refused",
		LastSeen: now.Add(-time.Hour), LastRunAt: now.Add(-5 * time.Minute),
	}
	stale := key("down", "queue:emails", "list", 7)
	stale.LastSampled = now.Add(-time.Minute) // 3 intervals are 15s
	missing := key("cache", "gone", "none", 0)
	missing.Exists, missing.HasLength = false, false
	keys := []redis.KeySnapshot{
		key("cache", hostileKey, "string", 5),
		missing,
		key("cache", longKey, "hash", 3),
		key("cache", "queue:Emails", "list", 1234567),
		stale,
	}
	pats := []redis.PatternSnapshot{{Instance: "cache", Pattern: "session:*", Matched: 5, Tracked: 2, MaxKeys: 1000, LengthSum: 99, LastScan: now}}
	e.redis.set([]redis.InstanceSnapshot{cache, down}, keys, pats)
}
