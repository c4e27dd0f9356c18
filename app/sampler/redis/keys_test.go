package redis

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/redwatch/redwatch/app/config"
	"github.com/redwatch/redwatch/app/redistest"
	"github.com/redwatch/redwatch/internal/testutil"
	"github.com/redwatch/redwatch/tsdb"
)

// keyTestT0 is the injected clock's start: tests drive rounds at keyTestT0 + n seconds.
var keyTestT0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func keyTestAt(sec int) time.Time { return keyTestT0.Add(time.Duration(sec) * time.Second) }

// keyTestWriter records samples in memory.
type keyTestWriter struct {
	mu      sync.Mutex
	samples []tsdb.Sample
	writes  int
}

func (w *keyTestWriter) Write(s []tsdb.Sample) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.samples = append(w.samples, s...)
	w.writes++
	return nil
}

// take returns the samples written since the last take.
func (w *keyTestWriter) take() []tsdb.Sample {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.samples
	w.samples = nil
	return s
}

func keyTestLabel(s tsdb.Sample, name string) string {
	for _, l := range s.Labels {
		if l.Name == name {
			return l.Value
		}
	}
	return ""
}

// keyTestFind returns the samples of metric name whose labels include the given pairs.
func keyTestFind(samples []tsdb.Sample, name string, pairs ...string) []tsdb.Sample {
	var out []tsdb.Sample
next:
	for _, s := range samples {
		if s.Name != name {
			continue
		}
		for i := 0; i+1 < len(pairs); i += 2 {
			if keyTestLabel(s, pairs[i]) != pairs[i+1] {
				continue next
			}
		}
		out = append(out, s)
	}
	return out
}

// keyTestValue returns the value of the one sample of name for key, failing otherwise.
func keyTestValue(t *testing.T, samples []tsdb.Sample, name string, pairs ...string) float64 {
	t.Helper()
	got := keyTestFind(samples, name, pairs...)
	if len(got) != 1 {
		t.Fatalf("%s%v: %d samples, want 1", name, pairs, len(got))
	}
	return got[0].Value
}

func keyTestExact(key string, interval time.Duration) config.Key {
	return config.Key{Key: key, Interval: config.Duration(interval)}
}

func keyTestPattern(pattern string, interval time.Duration, maxKeys int) config.Key {
	return config.Key{Pattern: pattern, Interval: config.Duration(interval), MaxKeys: maxKeys,
		ScanInterval: config.Duration(time.Minute)}
}

// newKeyTestSampler returns a sampler of srv's db 0 with an injected clock (rounds are driven
// by calling sampleDue/scanDue), MEMORY USAGE every minute and logs in logs.
func newKeyTestSampler(t *testing.T, c *goredis.Client, keys []config.Key, mod func(*keyOptions)) (*keySampler, *keyTestWriter, *testutil.SyncBuffer) {
	t.Helper()
	w := &keyTestWriter{}
	logs := &testutil.SyncBuffer{}
	o := keyOptions{
		Instance:       "test",
		Client:         c,
		Keys:           keys,
		MemoryInterval: time.Minute,
		MemorySamples:  5,
		Timeout:        2 * time.Second,
		Writer:         w,
		Logger:         slog.New(slog.NewJSONHandler(logs, nil)),
		Clock:          testutil.NewClock(keyTestT0), // never advanced: every round is at keyTestT0
	}
	if mod != nil {
		mod(&o)
	}
	return newKeySampler(o), w, logs
}

func keyTestDo(t *testing.T, c *goredis.Client, args ...any) {
	t.Helper()
	if err := c.Do(context.Background(), args...).Err(); err != nil && err != goredis.Nil {
		t.Fatalf("%v: %v", args, err)
	}
}

func keyTestSample(t *testing.T, k *keySampler, at time.Time) {
	t.Helper()
	if err := k.sampleDue(context.Background(), at); err != nil {
		t.Fatalf("sampleDue: %v", err)
	}
}

func keyTestScan(t *testing.T, k *keySampler, at time.Time) {
	t.Helper()
	if err := k.scanDue(context.Background(), at); err != nil {
		t.Fatalf("scanDue: %v", err)
	}
}

func keyTestSnapshot(t *testing.T, k *keySampler, key string) KeySnapshot {
	t.Helper()
	for _, s := range k.Keys() {
		if s.Key == key {
			return s
		}
	}
	t.Fatalf("key %q not in Keys()", key)
	return KeySnapshot{}
}

func TestKeyTypes(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client()
	keyTestDo(t, c, "set", "str", "hello")
	keyTestDo(t, c, "rpush", "list", "a", "b", "c")
	keyTestDo(t, c, "expire", "list", 100)
	keyTestDo(t, c, "sadd", "set", "a", "b")
	keyTestDo(t, c, "zadd", "zset", 1, "a", 2, "b", 3, "c", 4, "d")
	keyTestDo(t, c, "hset", "hash", "f1", "v", "f2", "v")
	keyTestDo(t, c, "pexpire", "hash", 5500)
	for range 3 {
		keyTestDo(t, c, "xadd", "stream", "*", "f", "v")
	}
	keyTestDo(t, c, "pfadd", "hll", "a", "b", "c", "d", "e")

	want := []struct {
		key, typ string
		length   int64
		ttl      float64 // -1: no expiry; else the upper bound
	}{
		{"str", "string", 5, -1},
		{"list", "list", 3, 100},
		{"set", "set", 2, -1},
		{"zset", "zset", 4, -1},
		{"hash", "hash", 2, 5.5},
		{"stream", "stream", 3, -1},
		{"hll", "hyperloglog", 5, -1},
	}
	var keys []config.Key
	for _, w := range want {
		keys = append(keys, keyTestExact(w.key, 10*time.Second))
	}
	k, w, logs := newKeyTestSampler(t, c, keys, nil)
	keyTestSample(t, k, keyTestAt(0))
	samples := w.take()
	for _, s := range samples {
		if s.Timestamp != keyTestAt(0).UnixMilli() {
			t.Fatalf("%s: timestamp %d, want the round's time", s.Name, s.Timestamp)
		}
		if keyTestLabel(s, "instance") != "test" || keyTestLabel(s, "db") != "0" {
			t.Fatalf("%s: labels %v", s.Name, s.Labels)
		}
	}
	for _, x := range want {
		l := []string{"key", x.key, "type", x.typ}
		if v := keyTestValue(t, samples, "redis_key_exists", l...); v != 1 {
			t.Errorf("%s: exists %v", x.key, v)
		}
		if v := keyTestValue(t, samples, "redis_key_length", l...); v != float64(x.length) {
			t.Errorf("%s: length %v, want %d", x.key, v, x.length)
		}
		if v := keyTestValue(t, samples, "redis_key_memory_bytes", l...); v <= 0 {
			t.Errorf("%s: memory %v, want > 0", x.key, v)
		}
		ttl := keyTestValue(t, samples, "redis_key_ttl_seconds", l...)
		if x.ttl == -1 && ttl != -1 || x.ttl > 0 && (ttl <= x.ttl-5 || ttl > x.ttl) {
			t.Errorf("%s: ttl %v, want %v", x.key, ttl, x.ttl)
		}
		s := keyTestSnapshot(t, k, x.key)
		if s.Type != x.typ || !s.Exists || !s.HasLength || s.Length != x.length || s.MemoryBytes <= 0 ||
			s.TTLSeconds != ttl || s.Error != "" || !s.LastSampled.Equal(keyTestAt(0)) ||
			s.ID != KeyID("test", 0, x.key) || s.Interval != 10*time.Second || s.Pattern != "" {
			t.Errorf("%s: snapshot %+v", x.key, s)
		}
	}
	if ttl := keyTestValue(t, samples, "redis_key_ttl_seconds", "key", "hash"); ttl != math.Trunc(ttl*1000)/1000 {
		t.Errorf("ttl %v is not in milliseconds", ttl)
	}
	got := k.Keys()
	for i := 1; i < len(got); i++ {
		if got[i-1].Key >= got[i].Key {
			t.Fatalf("Keys() not sorted: %q before %q", got[i-1].Key, got[i].Key)
		}
	}
	if strings.Contains(logs.String(), `"level":"WARN"`) {
		t.Errorf("unexpected warnings:\n%s", logs)
	}

	// The next round (10 s later) sends no MEMORY USAGE (due every minute) and keeps the last
	// memory in the snapshot.
	keyTestSample(t, k, keyTestAt(10))
	samples = w.take()
	if n := len(keyTestFind(samples, "redis_key_memory_bytes")); n != 0 {
		t.Errorf("memory sampled again after 10s: %d samples", n)
	}
	if n := len(keyTestFind(samples, "redis_key_length")); n != len(want) {
		t.Errorf("second round: %d lengths, want %d", n, len(want))
	}
	if s := keyTestSnapshot(t, k, "set"); s.MemoryBytes <= 0 {
		t.Errorf("memory lost from the snapshot: %+v", s)
	}
	keyTestSample(t, k, keyTestAt(60))
	if n := len(keyTestFind(w.take(), "redis_key_memory_bytes")); n != len(want) {
		t.Errorf("after a minute: %d memory samples, want %d", n, len(want))
	}
}

func TestKeyStreamGroups(t *testing.T) {
	for _, proto := range []int{2, 3} {
		t.Run("resp"+string(rune('0'+proto)), func(t *testing.T) {
			srv := redistest.Start(t)
			c := srv.Client(func(o *goredis.Options) { o.Protocol = proto })
			for i := 1; i <= 10; i++ {
				keyTestDo(t, c, "xadd", "st", i*10, "f", "v") // ids 10-0 ... 100-0
			}
			keyTestDo(t, c, "xgroup", "create", "st", "g1", "0")
			keyTestDo(t, c, "xgroup", "create", "st", "g2", "0")
			keyTestDo(t, c, "xreadgroup", "group", "g1", "c1", "count", 4, "streams", "st", ">")
			keyTestDo(t, c, "xack", "st", "g1", "10-0")
			keyTestDo(t, c, "xreadgroup", "group", "g2", "c1", "count", 1, "streams", "st", ">")
			keyTestDo(t, c, "xreadgroup", "group", "g2", "c2", "count", 1, "streams", "st", ">")
			// A stream with a deletion the group has not read past: Redis cannot compute lag.
			for i := 1; i <= 5; i++ {
				keyTestDo(t, c, "xadd", "holes", i, "f", "v")
			}
			keyTestDo(t, c, "xgroup", "create", "holes", "g", "0")
			keyTestDo(t, c, "xdel", "holes", "3-0")

			k, w, _ := newKeyTestSampler(t, c, []config.Key{
				keyTestExact("st", time.Second), keyTestExact("holes", time.Second)}, nil)
			keyTestSample(t, k, keyTestAt(0))
			samples := w.take()
			check := func(group string, lag, pending float64) {
				t.Helper()
				l := []string{"key", "st", "type", "stream", "group", group}
				if v := keyTestValue(t, samples, "redis_stream_group_lag", l...); v != lag {
					t.Errorf("%s: lag %v, want %v", group, v, lag)
				}
				if v := keyTestValue(t, samples, "redis_stream_group_pending", l...); v != pending {
					t.Errorf("%s: pending %v, want %v", group, v, pending)
				}
			}
			check("g1", 6, 3) // 4 delivered, 1 acked: 6 not yet delivered, 3 unacked
			check("g2", 8, 2) // 2 delivered to two consumers
			if v := keyTestValue(t, samples, "redis_key_length", "key", "st"); v != 10 {
				t.Errorf("length %v", v)
			}
			s := keyTestSnapshot(t, k, "st")
			if len(s.Groups) != 2 || s.Groups[0] != (StreamGroup{Name: "g1", Consumers: 1, Pending: 3, Lag: 6}) ||
				s.Groups[1] != (StreamGroup{Name: "g2", Consumers: 2, Pending: 2, Lag: 8}) {
				t.Errorf("groups %+v", s.Groups)
			}
			if got := keyTestFind(samples, "redis_stream_group_lag", "key", "holes"); len(got) != 0 {
				t.Errorf("lag written although unknown: %v", got)
			}
			keyTestValue(t, samples, "redis_stream_group_pending", "key", "holes", "group", "g")
			if s := keyTestSnapshot(t, k, "holes"); len(s.Groups) != 1 || s.Groups[0].Lag != -1 {
				t.Errorf("holes groups %+v, want lag -1", s.Groups)
			}
		})
	}
}

func TestKeyMissingExact(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client()
	keyTestDo(t, c, "rpush", "queue", "a", "b")
	k, w, _ := newKeyTestSampler(t, c, []config.Key{
		keyTestExact("queue", time.Second), keyTestExact("never", time.Second)}, nil)

	keyTestSample(t, k, keyTestAt(0))
	samples := w.take()
	if v := keyTestValue(t, samples, "redis_key_length", "key", "queue", "type", "list"); v != 2 {
		t.Fatalf("length %v", v)
	}
	// A key that never existed: exists 0, length 0, type "none", no TTL.
	if v := keyTestValue(t, samples, "redis_key_exists", "key", "never", "type", "none"); v != 0 {
		t.Errorf("never: exists %v", v)
	}
	if v := keyTestValue(t, samples, "redis_key_length", "key", "never", "type", "none"); v != 0 {
		t.Errorf("never: length %v", v)
	}
	if n := len(keyTestFind(samples, "redis_key_ttl_seconds", "key", "never")); n != 0 {
		t.Errorf("never: %d ttl samples", n)
	}

	// Emptied: reported every round as exists 0 and length 0 under its last type.
	keyTestDo(t, c, "del", "queue")
	for sec := 1; sec <= 3; sec++ {
		keyTestSample(t, k, keyTestAt(sec))
		samples = w.take()
		if v := keyTestValue(t, samples, "redis_key_exists", "key", "queue", "type", "list"); v != 0 {
			t.Errorf("round %d: exists %v", sec, v)
		}
		if v := keyTestValue(t, samples, "redis_key_length", "key", "queue", "type", "list"); v != 0 {
			t.Errorf("round %d: length %v", sec, v)
		}
		if n := len(keyTestFind(samples, "redis_key_ttl_seconds", "key", "queue")); n != 0 {
			t.Errorf("round %d: %d ttl samples for a missing key", sec, n)
		}
		if s := keyTestSnapshot(t, k, "queue"); s.Exists || s.Length != 0 || s.Type != "list" {
			t.Errorf("round %d: snapshot %+v", sec, s)
		}
	}

	// Back, as another type.
	keyTestDo(t, c, "sadd", "queue", "x", "y", "z")
	keyTestSample(t, k, keyTestAt(4))
	samples = w.take()
	if v := keyTestValue(t, samples, "redis_key_length", "key", "queue", "type", "set"); v != 3 {
		t.Errorf("recreated: length %v", v)
	}
	if s := keyTestSnapshot(t, k, "queue"); !s.Exists || s.Type != "set" {
		t.Errorf("recreated: snapshot %+v", s)
	}
}

func TestKeyWrongTypeWithinRound(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client()
	keyTestDo(t, c, "rpush", "k", "a")
	keyTestDo(t, c, "set", "s", "plain")
	k, w, logs := newKeyTestSampler(t, c, []config.Key{
		keyTestExact("k", time.Second), keyTestExact("s", time.Second)}, nil)
	keyTestSample(t, k, keyTestAt(0))
	w.take()

	keyTestDo(t, c, "del", "k")
	keyTestDo(t, c, "sadd", "k", "a", "b")
	keyTestDo(t, c, "del", "s")
	keyTestDo(t, c, "pfadd", "s", "a", "b", "c")
	keyTestSample(t, k, keyTestAt(1))
	samples := w.take()
	if v := keyTestValue(t, samples, "redis_key_length", "key", "k"); v != 2 {
		t.Errorf("k length %v, want 2", v)
	}
	if got := keyTestFind(samples, "redis_key_length", "key", "k", "type", "set"); len(got) != 1 {
		t.Errorf("k not reported as a set: %v", samples)
	}
	if got := keyTestFind(samples, "redis_key_length", "key", "s", "type", "hyperloglog"); len(got) != 1 || got[0].Value != 3 {
		t.Errorf("s not reported as a hyperloglog of 3: %v", got)
	}
	if n := len(keyTestFind(samples, "redis_key_exists", "key", "k")); n != 1 {
		t.Errorf("k: %d exists samples in one round", n)
	}
	if s := keyTestSnapshot(t, k, "k"); s.Type != "set" || s.Error != "" {
		t.Errorf("snapshot %+v", s)
	}
	if strings.Contains(logs.String(), "WRONGTYPE") {
		t.Errorf("a followed type change was logged:\n%s", logs)
	}
}

// TestKeyReplyErrorNoShift: keys the ACL user may not touch fail with NOPERM on every command;
// the keys around them in the same batch keep their own replies.
func TestKeyReplyErrorNoShift(t *testing.T) {
	srv := redistest.Start(t, "--user", "alice", "on", ">pw", "~ok:*", "+@all")
	admin := srv.Client()
	var keys []config.Key
	for i, name := range []string{"ok:a", "secret:b", "ok:c", "secret:d", "ok:e"} {
		for j := 0; j <= i; j++ {
			keyTestDo(t, admin, "rpush", name, j)
		}
		keys = append(keys, keyTestExact(name, time.Second))
	}
	alice := srv.Client(func(o *goredis.Options) { o.Username, o.Password = "alice", "pw" })
	k, w, logs := newKeyTestSampler(t, alice, keys, func(o *keyOptions) { o.BatchSize = 4 })
	for sec := range 3 {
		keyTestSample(t, k, keyTestAt(sec))
		samples := w.take()
		for i, name := range []string{"ok:a", "ok:c", "ok:e"} {
			if v := keyTestValue(t, samples, "redis_key_length", "key", name, "type", "list"); v != float64(2*i+1) {
				t.Errorf("%s: length %v, want %d", name, v, 2*i+1)
			}
		}
		for _, name := range []string{"secret:b", "secret:d"} {
			for _, s := range samples {
				if keyTestLabel(s, "key") == name {
					t.Errorf("%s: sample %s written despite the error", name, s.Name)
				}
			}
			if s := keyTestSnapshot(t, k, name); !strings.Contains(s.Error, "NOPERM") {
				t.Errorf("%s: error %q", name, s.Error)
			}
		}
	}
	if n := strings.Count(logs.String(), `"msg":"cannot sample key"`); n != 2 {
		t.Errorf("%d per-key warnings, want 2 (once per key)\n%s", n, logs)
	}
}

// TestKeyMemoryRefused: a server that refuses MEMORY USAGE is asked once; the other series are
// unaffected.
func TestKeyMemoryRefused(t *testing.T) {
	srv := redistest.Start(t, "--user", "alice", "on", ">pw", "~*", "+@all", "-memory")
	admin := srv.Client()
	keyTestDo(t, admin, "rpush", "a", 1, 2)
	keyTestDo(t, admin, "sadd", "b", 1)
	alice := srv.Client(func(o *goredis.Options) { o.Username, o.Password = "alice", "pw" })
	k, w, logs := newKeyTestSampler(t, alice, []config.Key{
		keyTestExact("a", time.Second), keyTestExact("b", time.Second)}, func(o *keyOptions) { o.MemoryInterval = time.Second })
	for sec := range 3 {
		keyTestSample(t, k, keyTestAt(sec))
		samples := w.take()
		if n := len(keyTestFind(samples, "redis_key_memory_bytes")); n != 0 {
			t.Errorf("%d memory samples", n)
		}
		if keyTestValue(t, samples, "redis_key_length", "key", "a") != 2 || keyTestValue(t, samples, "redis_key_length", "key", "b") != 1 {
			t.Errorf("lengths wrong: %v", samples)
		}
		for _, s := range k.Keys() {
			if s.Error != "" {
				t.Errorf("%s: error %q", s.Key, s.Error)
			}
		}
	}
	if !k.memRefused {
		t.Error("MEMORY USAGE not marked refused")
	}
	if n := strings.Count(logs.String(), "MEMORY USAGE refused"); n != 1 {
		t.Errorf("%d refusal warnings, want 1\n%s", n, logs)
	}
	// Only the first round asked (once per key): two NOPERM replies in all.
	info := admin.Info(context.Background(), "errorstats").Val()
	if !strings.Contains(info, "errorstat_NOPERM:count=2\r") {
		t.Errorf("MEMORY USAGE asked after the refusal:\n%s", info)
	}
}

func TestKeyHostileNames(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client()
	names := []string{
		"bin:\x00\xff\xfe\r\n\"'",
		"<script>alert(1)</script>",
		strings.Repeat("long:", 2048), // 10 KB
		"glob:[*?]\\",
	}
	var keys []config.Key
	for i, name := range names {
		for j := 0; j <= i; j++ {
			keyTestDo(t, c, "rpush", name, j)
		}
		keys = append(keys, keyTestExact(name, time.Second))
	}
	k, w, logs := newKeyTestSampler(t, c, keys, nil)
	keyTestSample(t, k, keyTestAt(0))
	samples := w.take()
	for i, name := range names {
		if v := keyTestValue(t, samples, "redis_key_length", "key", tsdb.LabelValue(name)); v != float64(i+1) {
			t.Errorf("%q: length %v", name[:min(len(name), 20)], v)
		}
		s := keyTestSnapshot(t, k, name)
		if s.Key != name || s.ID != KeyID("test", 0, name) || s.Length != int64(i+1) {
			t.Errorf("%q: snapshot %+v", name[:min(len(name), 20)], s)
		}
	}
	if strings.Contains(logs.String(), `"level":"WARN"`) {
		t.Errorf("warnings:\n%s", logs)
	}
}

// TestKeyServerKilled: a round against a dead server returns the error and writes nothing; the
// next round after a restart samples again.
func TestKeyServerKilled(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client(func(o *goredis.Options) { o.MaxRetries = -1 })
	keyTestDo(t, c, "rpush", "q", 1)
	keyTestDo(t, c, "rpush", "job:1", 1)
	k, w, logs := newKeyTestSampler(t, c, []config.Key{
		keyTestExact("q", time.Second), keyTestPattern("job:*", time.Second, 10)}, nil)
	keyTestScan(t, k, keyTestAt(0))
	keyTestSample(t, k, keyTestAt(0))
	w.take()

	srv.Kill()
	for sec := 1; sec <= 3; sec++ {
		if err := k.sampleDue(context.Background(), keyTestAt(sec)); err == nil {
			t.Fatal("sampleDue against a dead server: no error")
		}
	}
	if err := k.scanDue(context.Background(), keyTestAt(61)); err == nil {
		t.Fatal("scanDue against a dead server: no error")
	}
	if s := w.take(); len(s) != 0 {
		t.Fatalf("%d samples written while the server was dead", len(s))
	}
	if n := strings.Count(logs.String(), `"msg":"cannot sample keys"`); n != 1 {
		t.Errorf("%d round failure warnings for 3 failed rounds, want 1\n%s", n, logs)
	}
	if p := k.Patterns()[0]; p.Tracked != 1 || p.Matched != 1 || p.Error == "" {
		t.Errorf("failed scan lost the expansion or the error: %+v", p)
	}

	srv.Restart() // empty dataset
	keyTestDo(t, c, "rpush", "q", 1, 2)
	keyTestSample(t, k, keyTestAt(4))
	samples := w.take()
	if v := keyTestValue(t, samples, "redis_key_length", "key", "q"); v != 2 {
		t.Errorf("after restart: length %v", v)
	}
	if v := keyTestValue(t, samples, "redis_key_exists", "key", "job:1"); v != 0 {
		t.Errorf("after restart: job:1 exists %v", v)
	}
	if !strings.Contains(logs.String(), "sampling keys works again") {
		t.Errorf("recovery not logged\n%s", logs)
	}
}

// TestKeySchedules: each key is sampled on its own interval; MEMORY USAGE on its own cadence.
func TestKeySchedules(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client()
	keyTestDo(t, c, "rpush", "fast", 1)
	keyTestDo(t, c, "rpush", "slow", 1)
	k, w, _ := newKeyTestSampler(t, c, []config.Key{
		keyTestExact("fast", time.Second), keyTestExact("slow", 5*time.Second)},
		func(o *keyOptions) { o.MemoryInterval = 4 * time.Second })
	var fast, slow, fastMem []int
	for sec := 0; sec <= 10; sec++ {
		if next, _ := k.nextDue(); sec > 0 && !next.Equal(keyTestAt(sec)) {
			t.Fatalf("at %ds next due %v", sec, next.Sub(keyTestT0))
		}
		rt := k.RoundTrips()
		keyTestSample(t, k, keyTestAt(sec))
		samples := w.take()
		if len(keyTestFind(samples, "redis_key_exists", "key", "fast")) == 1 {
			fast = append(fast, sec)
		}
		if len(keyTestFind(samples, "redis_key_exists", "key", "slow")) == 1 {
			slow = append(slow, sec)
		}
		if len(keyTestFind(samples, "redis_key_memory_bytes", "key", "fast")) == 1 {
			fastMem = append(fastMem, sec)
		}
		// Both cohorts due together go out in one batch (after the first round's detection).
		if sec > 0 && k.RoundTrips()-rt != 1 {
			t.Errorf("at %ds: %d round trips, want 1", sec, k.RoundTrips()-rt)
		}
	}
	if want := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}; !equalInts(fast, want) {
		t.Errorf("fast sampled at %v, want %v", fast, want)
	}
	if want := []int{0, 5, 10}; !equalInts(slow, want) {
		t.Errorf("slow sampled at %v, want %v", slow, want)
	}
	if want := []int{0, 4, 8}; !equalInts(fastMem, want) {
		t.Errorf("fast memory sampled at %v, want %v", fastMem, want)
	}
	// A round between schedules sends nothing.
	rt := k.RoundTrips()
	keyTestSample(t, k, keyTestAt(10).Add(500*time.Millisecond))
	if k.RoundTrips() != rt || len(w.take()) != 0 {
		t.Error("a round with nothing due sent commands or wrote samples")
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestKeyRoundTrips: N keys of c commands each with batch size B take ceil(N*c/B) Execs when
// B is a multiple of c; a key's commands never straddle two batches otherwise.
func TestKeyRoundTrips(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client()
	var keys []config.Key
	for i := range 25 {
		name := "list:" + string(rune('a'+i))
		keyTestDo(t, c, "rpush", name, i)
		keys = append(keys, keyTestExact(name, time.Second))
	}
	for _, tc := range []struct{ batch, want int }{
		{10, 5},  // 50 commands (LLEN + PTTL per key) / 10
		{50, 1},  // all in one
		{7, 9},   // 3 keys (6 commands) per batch: ceil(25/3)
		{0, 1},   // default 512
		{1, 25},  // smaller than one key: one key per batch
		{100, 1}, // more than needed
	} {
		k, w, _ := newKeyTestSampler(t, c, keys, func(o *keyOptions) { o.BatchSize, o.MemoryInterval = tc.batch, 0 })
		keyTestSample(t, k, keyTestAt(0)) // detection + first round
		rt := k.RoundTrips()
		w.take()
		writes := w.writes
		keyTestSample(t, k, keyTestAt(1))
		if got := int(k.RoundTrips() - rt); got != tc.want {
			t.Errorf("batch %d: %d round trips, want %d", tc.batch, got, tc.want)
		}
		samples := w.take()
		for i := range 25 {
			name := "list:" + string(rune('a'+i))
			if v := keyTestValue(t, samples, "redis_key_length", "key", name); v != 1 {
				t.Fatalf("batch %d: %s length %v", tc.batch, name, v)
			}
		}
		if w.writes-writes != 1 { // 75 samples: gathered into one write (writeBatchSamples)
			t.Errorf("batch %d: %d writes for %d batches, want 1", tc.batch, w.writes-writes, tc.want)
		}
	}
}

// TestKeyWritesGathered: a round's samples are handed to the Writer in writes of at least
// writeBatchSamples (the last one excepted), each sample exactly once, over many pipeline
// batches.
func TestKeyWritesGathered(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client()
	n := writeBatchSamples/3 + 200 // 3 samples a key (exists, length, ttl): two writes
	var keys []config.Key
	pipe := c.Pipeline()
	for i := range n {
		name := "list:" + strconv.Itoa(i)
		pipe.RPush(context.Background(), name, i)
		keys = append(keys, keyTestExact(name, time.Second))
	}
	if _, err := pipe.Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	k, w, _ := newKeyTestSampler(t, c, keys, func(o *keyOptions) { o.MemoryInterval = 0 })
	keyTestSample(t, k, keyTestAt(0))
	w.take()
	writes, rt := w.writes, k.RoundTrips()
	keyTestSample(t, k, keyTestAt(1))
	if got := k.RoundTrips() - rt; got < 5 { // 2 commands a key
		t.Fatalf("%d round trips, want one per %d commands", got, defaultKeyBatchSize)
	}
	if got := w.writes - writes; got != 2 {
		t.Errorf("%d writes, want 2", got)
	}
	samples := w.take()
	if len(samples) != 3*n {
		t.Fatalf("%d samples, want %d", len(samples), 3*n)
	}
	seen := map[string]int{}
	for _, s := range samples {
		if s.Name == "redis_key_length" {
			seen[keyTestLabel(s, "key")]++
		}
	}
	for i := range n {
		if name := "list:" + strconv.Itoa(i); seen[name] != 1 {
			t.Fatalf("%s: %d length samples, want 1", name, seen[name])
		}
	}
}

func TestKeyInstanceDown(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client()
	keyTestDo(t, c, "rpush", "q", 1)
	up := false
	k, w, _ := newKeyTestSampler(t, c, []config.Key{
		keyTestExact("q", time.Second), keyTestPattern("q*", time.Second, 5)}, func(o *keyOptions) { o.Up = func() bool { return up } })
	keyTestScan(t, k, keyTestAt(0))
	keyTestSample(t, k, keyTestAt(0))
	if k.RoundTrips() != 0 || len(w.take()) != 0 {
		t.Fatal("rounds ran while the instance was down")
	}
	up = true
	keyTestScan(t, k, keyTestAt(1)) // retried one interval later, not a scan interval later
	keyTestSample(t, k, keyTestAt(1))
	samples := w.take()
	if v := keyTestValue(t, samples, "redis_key_length", "key", "q"); v != 1 {
		t.Fatalf("length %v", v)
	}
	if v := keyTestValue(t, samples, "redis_pattern_keys", "pattern", "q*"); v != 1 {
		t.Fatalf("redis_pattern_keys %v", v)
	}
}

// TestKeyModuleTypeChange: module types have no length command; TYPE each round notices a
// change of type.
func TestKeyModuleTypeChange(t *testing.T) {
	ctx := context.Background()
	op := func(typ, reply string) *sampleOp {
		o := &sampleOp{t: &trackedKey{key: "m", typ: typ}, pttl: goredis.NewIntCmd(ctx), typeCheck: goredis.NewStatusCmd(ctx)}
		o.typeCheck.SetVal(reply)
		return o
	}
	if changed, _ := op("ReJSON-RL", "ReJSON-RL").typeChanged(); changed {
		t.Error("same module type reported as changed")
	}
	if changed, _ := op("ReJSON-RL", "list").typeChanged(); !changed {
		t.Error("module type replaced by a list not noticed")
	}
	if lengthCommand("ReJSON-RL") != "" || !isModuleType("ReJSON-RL") || isModuleType("none") || isModuleType("list") {
		t.Error("module type classification")
	}
}

// TestKeyRun exercises Run on its clock while snapshots are read concurrently: each look at
// the sampler moves the clock a second on, and q (every second) and the pattern's key (every
// two seconds, scanned every three) are sampled again as they fall due.
func TestKeyRun(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client()
	keyTestDo(t, c, "rpush", "q", 1)
	keyTestDo(t, c, "rpush", "job:1", 1, 2)
	clock := testutil.NewClock(keyTestT0)
	k, w, _ := newKeyTestSampler(t, c, []config.Key{
		keyTestExact("q", time.Second),
		{Pattern: "job:*", Interval: config.Duration(2 * time.Second), MaxKeys: 5, ScanInterval: config.Duration(3 * time.Second)},
	}, func(o *keyOptions) { o.Clock = clock })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		k.Run(ctx)
	}()
	testutil.Eventually(t, 10*time.Second, "q sampled 3 times and job:1 twice", func() (bool, string) {
		_ = k.Keys()
		_ = k.Patterns()
		w.mu.Lock()
		n := len(keyTestFind(w.samples, "redis_key_length", "key", "q"))
		m := len(keyTestFind(w.samples, "redis_key_length", "key", "job:1"))
		w.mu.Unlock()
		clock.Advance(time.Second)
		return n >= 3 && m >= 2, fmt.Sprintf("q %d times, job:1 %d times by %s", n, m, clock.Now().Sub(keyTestT0))
	})
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if p := k.Patterns()[0]; p.Matched != 1 || p.LengthSum != 2 {
		t.Errorf("pattern %+v", p)
	}
}

func TestParseGroups(t *testing.T) {
	resp2 := []any{
		[]any{"name", "g1", "consumers", int64(2), "pending", int64(3), "last-delivered-id", "1-0", "entries-read", int64(4), "lag", int64(5)},
		[]any{"name", "g2", "consumers", int64(0), "pending", int64(0), "last-delivered-id", "0-0", "entries-read", nil, "lag", nil},
		[]any{"name", "old", "consumers", int64(1), "pending", int64(7), "last-delivered-id", "0-0"}, // Redis 6: no lag
	}
	resp3 := []any{
		map[any]any{"name": "g1", "consumers": int64(2), "pending": int64(3), "lag": int64(5)},
		map[any]any{"name": "g2", "consumers": int64(0), "pending": int64(0), "lag": nil},
		map[any]any{"name": "old", "consumers": int64(1), "pending": int64(7)},
	}
	want := []StreamGroup{{"g1", 2, 3, 5}, {"g2", 0, 0, -1}, {"old", 1, 7, -1}}
	for _, reply := range []any{resp2, resp3} {
		got, err := parseGroups(reply)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("got %+v", got)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("group %d: %+v, want %+v", i, got[i], want[i])
			}
		}
	}
	for _, bad := range []any{"x", []any{"x"}, nil} {
		if _, err := parseGroups(bad); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}

func TestIsCommandRefused(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{keyTestReplyError("ERR unknown command 'MEMORY', with args beginning with: 'usage' 'k'"), true},
		{keyTestReplyError("NOPERM User alice has no permissions to run the 'memory|usage' command"), true},
		{keyTestReplyError("NOPERM No permissions to access a key"), false},
		{keyTestReplyError("NOPERM this user has no permissions to access one of the keys used as arguments"), false},
		{keyTestReplyError("ERR command is disabled"), true},
		{keyTestReplyError("WRONGTYPE Operation against a key holding the wrong kind of value"), false},
		{context.DeadlineExceeded, false},
	} {
		if got := isCommandRefused(tc.err); got != tc.want {
			t.Errorf("%v: %v, want %v", tc.err, got, tc.want)
		}
	}
}

type keyTestReplyError string

func (e keyTestReplyError) Error() string { return string(e) }
func (keyTestReplyError) RedisError()     {}

func TestLogKey(t *testing.T) {
	long := strings.Repeat("k", 10240)
	if got := logKey(long); len(got) > 210 || !strings.HasPrefix(long, strings.TrimSuffix(got, "...")) {
		t.Errorf("logKey of 10 KB: %d bytes", len(got))
	}
	if got := logKey("short"); got != "short" {
		t.Errorf("logKey(short) = %q", got)
	}
}
