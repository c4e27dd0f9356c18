package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/redwatch/redwatch/app/config"
	"github.com/redwatch/redwatch/app/redistest"
	"github.com/redwatch/redwatch/internal/testutil"
	"github.com/redwatch/redwatch/tsdb"
)

// newTestInstance returns a Sampler for addr (defaults applied) writing to a recorder, with
// its logs in a buffer; mod adjusts the configuration before defaults.
func newTestInstance(t *testing.T, addr string, mod func(*config.Redis), opts func(*Options)) (*Sampler, *keyTestWriter, *testutil.SyncBuffer) {
	t.Helper()
	cfg := config.Redis{Name: "main", Addr: addr, Interval: config.Duration(time.Second), Timeout: config.Duration(500 * time.Millisecond)}
	if mod != nil {
		mod(&cfg)
	}
	cfg.ApplyDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	w := &keyTestWriter{}
	logs := &testutil.SyncBuffer{}
	o := Options{Config: cfg, DataDir: t.TempDir(), Writer: w, Logger: slog.New(slog.NewJSONHandler(logs, nil))}
	if opts != nil {
		opts(&o)
	}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, w, logs
}

// logCount counts JSON log lines with this msg.
func logCount(logs *testutil.SyncBuffer, msg string) int {
	n := 0
	for _, line := range strings.Split(logs.String(), "\n") {
		var l struct{ Msg string }
		if json.Unmarshal([]byte(line), &l) == nil && l.Msg == msg {
			n++
		}
	}
	return n
}

func TestInstanceRoundWritesSeriesAndSnapshot(t *testing.T) {
	srv := redistest.Start(t, "--slowlog-log-slower-than", "0")
	srv.Do("set", "a", "1")
	srv.Do("get", "a")
	s, w, _ := newTestInstance(t, srv.Addr(), nil, nil)
	ctx := context.Background()
	now := time.Now()
	s.Round(ctx, now)
	got := w.take()
	if v := keyTestValue(t, got, "redis_up", "instance", "main"); v != 1 {
		t.Fatalf("redis_up = %v", v)
	}
	for _, name := range []string{"redis_ping_latency_seconds", "redis_memory_used_bytes", "redis_connected_clients",
		"redis_commands_processed_total", "redis_slowlog_length"} {
		if v := keyTestValue(t, got, name, "instance", "main"); name != "redis_ping_latency_seconds" && v <= 0 {
			t.Errorf("%s = %v, want > 0", name, v)
		}
	}
	if len(keyTestFind(got, "redis_db_keys", "db", "0")) != 1 || len(keyTestFind(got, "redis_clients_idle", "over", "1m")) != 1 {
		t.Fatalf("missing keyspace or client series")
	}
	snap := s.Snapshot()
	if !snap.Up || snap.Version == "" || snap.LastSeen != now || snap.SlowlogLength == 0 || len(snap.Slowlog) == 0 {
		t.Fatalf("snapshot: %+v", snap)
	}
	var self bool
	for _, c := range snap.Clients {
		self = self || c.Name == "redwatch"
	}
	if !self {
		t.Fatalf("redwatch's own connection not named in CLIENT LIST: %+v", snap.Clients)
	}
	// The second round has a previous one: ops/s and the hit ratio are computed over it.
	srv.Do("get", "a")
	srv.Do("get", "missing")
	s.Round(ctx, now.Add(time.Second))
	got = w.take()
	if v := keyTestValue(t, got, "redis_keyspace_hit_ratio", "instance", "main"); v <= 0 || v >= 1 {
		t.Fatalf("hit ratio %v, want in (0, 1)", v)
	}
	if !s.Snapshot().HitRatioKnown {
		t.Fatal("hit ratio unknown after two rounds")
	}
}

// TestInstanceDownBackoffAndRecovery: a killed server is down from the first failed round,
// is not asked again before its retry time (but redis_up 0 is still written), comes back
// without a new Sampler, and each state change is logged once.
func TestInstanceDownBackoffAndRecovery(t *testing.T) {
	srv := redistest.Start(t)
	s, w, logs := newTestInstance(t, srv.Addr(), nil, nil)
	ctx := context.Background()
	t0 := time.Now()
	s.Round(ctx, t0)
	if !s.Up() {
		t.Fatal("not up")
	}
	w.take()
	srv.Kill()
	s.Round(ctx, t0.Add(time.Second))
	if s.Up() || s.Snapshot().Error == "" {
		t.Fatalf("not down after a failed round: %+v", s.Snapshot())
	}
	if v := keyTestValue(t, w.take(), "redis_up", "instance", "main"); v != 0 {
		t.Fatalf("redis_up = %v", v)
	}
	// Before the retry time nothing is sent, yet the round still says redis_up 0.
	srv.Restart()
	s.Round(ctx, t0.Add(1500*time.Millisecond))
	if s.Up() {
		t.Fatal("retried before the backoff elapsed")
	}
	if got := w.take(); len(got) != 1 || got[0].Name != "redis_up" || got[0].Value != 0 {
		t.Fatalf("backoff round wrote %v", got)
	}
	// The next attempts double the wait, capped.
	srv.Kill()
	for i, want := range []time.Duration{2, 4, 8, 16, 30, 30} {
		at := s.retryAt
		s.Round(ctx, at)
		if d := s.retryAt.Sub(at); d != want*time.Second {
			t.Fatalf("attempt %d: next retry after %s, want %s", i, d, want*time.Second)
		}
	}
	// go-redis probes a refused address once a second before dialing again, so the first
	// retries after the restart may still fail.
	srv.Restart()
	testutil.WaitFor(t, "a retry to reach the restarted server", func() bool {
		s.Round(ctx, s.retryAt)
		return s.Up()
	})
	if s.Snapshot().Error != "" {
		t.Fatalf("not up again: %+v", s.Snapshot())
	}
	if n := logCount(logs, "redis down"); n != 1 {
		t.Fatalf("%d \"redis down\" log lines, want 1:\n%s", n, logs)
	}
	if n := logCount(logs, "redis up again"); n != 1 {
		t.Fatalf("%d \"redis up again\" log lines, want 1:\n%s", n, logs)
	}
}

func TestInstanceACLUserAndWrongPassword(t *testing.T) {
	srv := redistest.Start(t, "--user", "watcher", "on", ">s3cret", "~*", "&*", "+@all")
	ctx := context.Background()
	s, _, _ := newTestInstance(t, srv.Addr(), func(r *config.Redis) { r.Username, r.Password = "watcher", "s3cret" }, nil)
	s.Round(ctx, time.Now())
	if !s.Up() {
		t.Fatalf("ACL user: %+v", s.Snapshot())
	}
	bad, _, logs := newTestInstance(t, srv.Addr(), func(r *config.Redis) { r.Username, r.Password = "watcher", "wrong" }, nil)
	bad.Round(ctx, time.Now())
	snap := bad.Snapshot()
	if bad.Up() || !strings.Contains(snap.Error, "authentication failed") {
		t.Fatalf("wrong password: %+v", snap)
	}
	if strings.Contains(snap.Error, "wrong") || strings.Contains(logs.String(), `"wrong"`) {
		t.Fatalf("the password leaked: %q\n%s", snap.Error, logs)
	}
}

// TestInstanceTLS: a TLS-only server with a private CA and required client certificates is
// watched with tls_ca_file / tls_cert_file / tls_key_file; without the CA it is down with a
// certificate error.
func TestInstanceTLS(t *testing.T) {
	srv, files := redistest.StartTLS(t)
	srv.Do("rpush", "q", "a", "b")
	// TLS handshakes under -race on a loaded machine can outlast the 500 ms test timeout; the
	// error this test asserts on must be the certificate's, not a timeout.
	slowTLS := func(r *config.Redis) {
		r.Interval, r.Timeout = config.Duration(10*time.Second), config.Duration(5*time.Second)
	}
	s, w, _ := newTestInstance(t, srv.Addr(), func(r *config.Redis) {
		slowTLS(r)
		r.TLS, r.TLSCAFile, r.TLSCertFile, r.TLSKeyFile = true, files.CA, files.ClientCert, files.ClientKey
		r.Keys = []config.Key{{Key: "q"}}
	}, nil)
	ctx := context.Background()
	s.Round(ctx, time.Now())
	if !s.Up() {
		t.Fatalf("TLS: %+v", s.Snapshot())
	}
	keyTestValue(t, w.take(), "redis_up", "instance", "main")
	if err := s.keys.sampleDue(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	if v := keyTestValue(t, w.take(), "redis_key_length", "key", "q"); v != 2 {
		t.Fatalf("length over TLS = %v", v)
	}
	untrusted, _, _ := newTestInstance(t, srv.Addr(), func(r *config.Redis) { slowTLS(r); r.TLS = true }, nil)
	untrusted.Round(ctx, time.Now())
	if untrusted.Up() || !strings.Contains(untrusted.Snapshot().Error, "certificate") {
		t.Fatalf("unverified server accepted: %+v", untrusted.Snapshot())
	}
}

// TestInstanceRefusedClientList: a user without CLIENT (as on managed Redis) keeps the
// instance up; the client list says why it is empty, and CLIENT LIST is not asked again.
func TestInstanceRefusedClientList(t *testing.T) {
	srv := redistest.Start(t, "--user", "ro", "on", ">pw", "~*", "&*", "+@all", "-client|list")
	s, _, logs := newTestInstance(t, srv.Addr(), func(r *config.Redis) { r.Username, r.Password = "ro", "pw" }, nil)
	ctx := context.Background()
	s.Round(ctx, time.Now())
	s.Round(ctx, time.Now().Add(time.Second))
	snap := s.Snapshot()
	if !snap.Up || snap.Clients != nil || !strings.Contains(snap.ClientsError, "refused") {
		t.Fatalf("snapshot: up=%v clients=%v err=%q", snap.Up, snap.Clients, snap.ClientsError)
	}
	if n := strings.Count(logs.String(), "CLIENT LIST refused"); n != 1 {
		t.Fatalf("logged %d times, want once", n)
	}
}

// TestInstanceManagedRedisRefusals: a user without @admin (no CONFIG, CLIENT LIST or SLOWLOG,
// as on managed Redis) is still watched: INFO series, the keyspace, and keys; what is refused
// says so, once.
func TestInstanceManagedRedisRefusals(t *testing.T) {
	srv := redistest.Start(t, "--user", "app", "on", ">pw", "~*", "&*", "+@all", "-@admin")
	srv.Do("rpush", "q", "a")
	s, w, logs := newTestInstance(t, srv.Addr(), func(r *config.Redis) { r.Username, r.Password = "app", "pw" }, nil)
	ctx := context.Background()
	s.Round(ctx, time.Now())
	s.Round(ctx, time.Now().Add(time.Second))
	snap := s.Snapshot()
	if !snap.Up || snap.MemoryUsedBytes == 0 || len(snap.Keyspace) != 1 {
		t.Fatalf("snapshot: %+v", snap)
	}
	if !strings.Contains(snap.ClientsError, "refused") || !strings.Contains(snap.SlowlogError, "refused") {
		t.Fatalf("refusals not reported: clients %q slowlog %q", snap.ClientsError, snap.SlowlogError)
	}
	if len(keyTestFind(w.take(), "redis_memory_used_bytes")) != 2 {
		t.Fatal("INFO series missing")
	}
	if n := logCount(logs, "SLOWLOG refused; the slowlog stays empty"); n != 1 {
		t.Fatalf("slowlog refusal logged %d times", n)
	}
	if n := logCount(logs, "LATENCY LATEST refused; no latency spike series"); n != 1 {
		t.Fatalf("LATENCY LATEST refusal logged %d times", n)
	}
}

func TestInstanceSlowCommandLogged(t *testing.T) {
	srv := redistest.Start(t)
	slow := &testutil.SyncBuffer{}
	s, _, _ := newTestInstance(t, srv.Addr(), nil, func(o *Options) {
		o.SlowCommand = time.Nanosecond
		o.SlowLogger = slog.New(slog.NewJSONHandler(slow, nil)).With("logger", "slow")
	})
	s.Round(context.Background(), time.Now())
	if !strings.Contains(slow.String(), `"msg":"slow redis command","logger":"slow","instance":"main","cmd":"ping"`) ||
		!strings.Contains(slow.String(), `"slow redis pipeline"`) {
		t.Fatalf("slow log:\n%s", slow)
	}
}

// TestInstanceSlowlogSurvivesRestart: the kept slowlog is read back by a new Sampler on the
// same data directory.
func TestInstanceSlowlogSurvivesRestart(t *testing.T) {
	srv := redistest.Start(t, "--slowlog-log-slower-than", "0")
	dir := t.TempDir()
	s, _, _ := newTestInstance(t, srv.Addr(), nil, func(o *Options) { o.DataDir = dir })
	s.Round(context.Background(), time.Now())
	n := len(s.Snapshot().Slowlog)
	if n == 0 {
		t.Fatal("no slowlog entries")
	}
	s.Close()
	srv.Kill()
	again, _, _ := newTestInstance(t, srv.Addr(), nil, func(o *Options) { o.DataDir = dir })
	if got := len(again.Snapshot().Slowlog); got != n {
		t.Fatalf("after restart %d entries, want %d (file %s)", got, n, filepath.Join(dir, "slowlog", "main.json"))
	}
}

// TestManagerSetAddsRemovesAndKeeps: Set starts new instances, stops removed ones and keeps
// unchanged ones running with their state.
func TestManagerSetAddsRemovesAndKeeps(t *testing.T) {
	a, b := redistest.Start(t), redistest.Start(t)
	cfg := func(name, addr string) config.Redis {
		r := config.Redis{Name: name, Addr: addr, Interval: config.Duration(time.Second), Timeout: config.Duration(500 * time.Millisecond)}
		r.ApplyDefaults()
		return r
	}
	m, err := NewManager(ManagerOptions{Writer: &keyTestWriter{}}, []config.Redis{cfg("a", a.Addr())})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { m.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	waitUp := func(name string) InstanceSnapshot {
		t.Helper()
		testutil.WaitFor(t, name+" up", func() bool { s, ok := m.Instance(name); return ok && s.Up })
		s, _ := m.Instance(name)
		return s
	}
	first := waitUp("a").LastSeen
	if err := m.Set([]config.Redis{cfg("a", a.Addr()), cfg("b", b.Addr())}); err != nil {
		t.Fatal(err)
	}
	waitUp("b")
	if s, _ := m.Instance("a"); s.LastSeen.Before(first) || !s.Up {
		t.Fatalf("a was restarted: %+v", s)
	}
	if err := m.Set([]config.Redis{cfg("b", b.Addr())}); err != nil {
		t.Fatal(err)
	}
	if _, ok := m.Instance("a"); ok || len(m.Instances()) != 1 {
		t.Fatalf("a still watched: %+v", m.Instances())
	}
	if err := m.Set([]config.Redis{cfg("b", b.Addr()), cfg("b", a.Addr())}); err == nil {
		t.Fatal("a duplicate name was accepted")
	}
}

// TestInstanceKeysSampledAtStart: keys and patterns get their first sample at start-up, not
// one key interval later (the key sampler skips rounds until the instance is known up): they
// are sampled while the clock still stands at the start.
func TestInstanceKeysSampledAtStart(t *testing.T) {
	srv := redistest.Start(t)
	srv.Do("rpush", "q", 1, 2)
	srv.Do("rpush", "job:1", 1)
	clock := testutil.NewClock(keyTestT0)
	s, w, _ := newTestInstance(t, srv.Addr(), func(r *config.Redis) {
		r.Interval = config.Duration(time.Second)
		r.Keys = []config.Key{{Key: "q", Interval: config.Duration(time.Minute)},
			{Pattern: "job:*", Interval: config.Duration(time.Minute)}}
	}, func(o *Options) { o.Clock = clock })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	defer func() { cancel(); <-done }()
	testutil.Eventually(t, 5*time.Second, "key q and pattern job:* sampled at start", func() (bool, string) {
		w.mu.Lock()
		defer w.mu.Unlock()
		n := len(keyTestFind(w.samples, "redis_key_length", "key", "q"))
		m := len(keyTestFind(w.samples, "redis_pattern_keys", "pattern", "job:*"))
		return n > 0 && m > 0, fmt.Sprintf("%d samples of key q, %d of pattern job:*", n, m)
	})
	if d := clock.Now().Sub(keyTestT0); d != 0 {
		t.Fatalf("the clock moved %s", d)
	}
}

// TestInstanceCancelledRoundNotDown: a round cut short by its context (shutdown, Manager.Set)
// does not mark a healthy instance down, write redis_up 0 or log "redis down".
func TestInstanceCancelledRoundNotDown(t *testing.T) {
	srv := redistest.Start(t)
	s, w, logs := newTestInstance(t, srv.Addr(), nil, nil)
	s.Round(context.Background(), time.Now())
	if !s.Up() {
		t.Fatalf("not up: %+v", s.Snapshot())
	}
	w.take()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s.Round(ctx, time.Now().Add(time.Second))
	if !s.Up() || s.Snapshot().Error != "" {
		t.Fatalf("a cancelled round marked the instance down: %+v", s.Snapshot())
	}
	if got := keyTestFind(w.take(), "redis_up"); len(got) != 0 {
		t.Fatalf("a cancelled round wrote %v", got)
	}
	if n := logCount(logs, "redis down"); n != 0 {
		t.Fatalf("%d \"redis down\" lines:\n%s", n, logs)
	}
}

// failingWriter fails every Write while fail is set.
type failingWriter struct {
	keyTestWriter
	fail atomic.Bool
}

func (w *failingWriter) Write(s []tsdb.Sample) error {
	if w.fail.Load() {
		return errors.New("disk full")
	}
	return w.keyTestWriter.Write(s)
}

// TestInstanceWriteErrorLoggedOnce: storage refusing the samples is logged once per change,
// not every round.
func TestInstanceWriteErrorLoggedOnce(t *testing.T) {
	srv := redistest.Start(t)
	w := &failingWriter{}
	w.fail.Store(true)
	s, _, logs := newTestInstance(t, srv.Addr(), nil, func(o *Options) { o.Writer = w })
	now := time.Now()
	for i := range 3 {
		s.Round(context.Background(), now.Add(time.Duration(i)*time.Second))
	}
	if n := logCount(logs, "cannot store redis samples"); n != 1 {
		t.Fatalf("%d store errors logged for 3 failing rounds, want 1:\n%s", n, logs)
	}
	w.fail.Store(false)
	for i := 3; i < 5; i++ {
		s.Round(context.Background(), now.Add(time.Duration(i)*time.Second))
	}
	if n := logCount(logs, "storing redis samples works again"); n != 1 {
		t.Fatalf("%d recoveries logged, want 1:\n%s", n, logs)
	}
	if len(keyTestFind(w.take(), "redis_up")) != 2 {
		t.Fatal("samples not written after recovery")
	}
}

// TestInstanceSlowlogSaveErrorLoggedOnce: a slowlog file that cannot be written is logged once,
// not every round, and the entries still show.
func TestInstanceSlowlogSaveErrorLoggedOnce(t *testing.T) {
	srv := redistest.Start(t, "--slowlog-log-slower-than", "0")
	dir := t.TempDir()
	s, _, logs := newTestInstance(t, srv.Addr(), nil, func(o *Options) { o.DataDir = dir })
	// A non-empty directory where the file should be: every save fails.
	if err := os.MkdirAll(filepath.Join(dir, "slowlog", "main.json", "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for i := range 3 {
		s.Round(context.Background(), now.Add(time.Duration(i)*time.Second))
	}
	if !s.Up() || len(s.Snapshot().Slowlog) == 0 {
		t.Fatalf("snapshot: up %v, %d slowlog entries", s.Up(), len(s.Snapshot().Slowlog))
	}
	if n := logCount(logs, "cannot keep the slowlog"); n != 1 {
		t.Fatalf("%d slowlog save errors logged for 3 rounds, want 1:\n%s", n, logs)
	}
}

// TestInstanceLogAttrsOnce: every log line of an instance (key sampler and slow commands
// included) names the instance exactly once.
func TestInstanceLogAttrsOnce(t *testing.T) {
	srv := redistest.Start(t, "--user", "alice", "on", ">pw", "~*", "+@all", "-memory")
	srv.Do("rpush", "q", 1)
	s, _, logs := newTestInstance(t, srv.Addr(), func(r *config.Redis) {
		r.Username, r.Password = "alice", "pw"
		r.Keys = []config.Key{{Key: "q"}}
	}, func(o *Options) { o.SlowCommand = time.Nanosecond })
	ctx := context.Background()
	s.Round(ctx, time.Now())
	if err := s.keys.sampleDue(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, msg := range []string{"MEMORY USAGE refused; key memory is no longer sampled on this instance", "slow redis command", "redis up"} {
		if logCount(logs, msg) == 0 {
			t.Fatalf("no %q line:\n%s", msg, logs)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if n := strings.Count(line, `"instance":`); n != 1 {
			t.Errorf("instance %d times in %s", n, line)
		}
	}
}

// TestInstancePausedServer: a server that accepts connections but never answers (SIGSTOP) is
// down after one interval, every round and key round is bounded by the timeout, LastRunAt
// keeps advancing (readiness relies on it), and Run returns within the timeout once cancelled.
func TestInstancePausedServer(t *testing.T) {
	srv := redistest.Start(t)
	srv.Do("rpush", "q", 1)
	const timeout = 300 * time.Millisecond
	clock := testutil.NewClock(keyTestT0)
	s, _, logs := newTestInstance(t, srv.Addr(), func(r *config.Redis) {
		r.Timeout = config.Duration(timeout)
		r.Keys = []config.Key{{Key: "q", Interval: config.Duration(time.Second)},
			{Pattern: "q*", Interval: config.Duration(time.Second), ScanInterval: config.Duration(time.Second)}}
	}, func(o *Options) { o.Clock = clock })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	defer func() { cancel(); <-done }()
	testutil.WaitFor(t, "up", s.Up)
	srv.Pause()
	defer srv.Resume()
	// One interval later the round times out.
	clock.Advance(time.Second)
	testutil.WaitFor(t, "a paused server down after one interval", func() bool {
		snap := s.Snapshot()
		return !snap.Up && snap.LastRunAt.Equal(clock.Now())
	})
	if snap := s.Snapshot(); !snap.LastRunAt.Equal(clock.Now()) || !strings.Contains(snap.Error, "timeout") {
		t.Fatalf("down: last run %v (clock %v), error %q", snap.LastRunAt, clock.Now(), snap.Error)
	}
	// The next round (the first retry) is at the next interval, and times out again.
	clock.Advance(time.Second)
	testutil.WaitFor(t, "the next round while paused", func() bool { return s.Snapshot().LastRunAt.Equal(clock.Now()) })
	if snap := s.Snapshot(); !strings.Contains(snap.Error, "timeout") {
		t.Fatalf("while paused: error %q", snap.Error)
	}
	if d := s.LastDuration(); d > timeout+100*time.Millisecond {
		t.Fatalf("a round took %v, timeout %v", d, timeout)
	}
	t0 := time.Now()
	cancel()
	<-done
	if d := time.Since(t0); d > timeout+200*time.Millisecond {
		t.Fatalf("Run returned %v after cancel, timeout %v", d, timeout)
	}
	if n := logCount(logs, "redis down"); n != 1 {
		t.Fatalf("%d \"redis down\" lines, want 1:\n%s", n, logs)
	}
}

// TestManagerStopsPromptlyOnSilentServer: shutdown and Set close the clients first, so a
// server that accepts connections but never answers does not hold them for the timeout.
func TestManagerStopsPromptlyOnSilentServer(t *testing.T) {
	srv := redistest.Start(t)
	r := config.Redis{Name: "slow", Addr: srv.Addr(), Interval: config.Duration(5 * time.Second), Timeout: config.Duration(4 * time.Second)}
	r.ApplyDefaults()
	clock := testutil.NewClock(keyTestT0)
	m, err := NewManager(ManagerOptions{Writer: &keyTestWriter{}, Clock: clock}, []config.Redis{r})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { m.Run(ctx); close(done) }()
	testutil.WaitFor(t, "up", func() bool { s, _ := m.Instance("slow"); return s.Up })
	srv.Pause()
	defer srv.Resume()
	// The next round starts: it hangs on the paused server once its PING is sent.
	m.mu.Lock()
	own := m.running["slow"].s.own
	m.mu.Unlock()
	sent := own.written.Load()
	clock.Advance(5 * time.Second)
	testutil.WaitFor(t, "the next round's PING", func() bool { return own.written.Load() > sent })
	t0 := time.Now()
	if err := m.Set(nil); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(t0); d > time.Second {
		t.Fatalf("Set waited %s for a hanging round", d)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(time.Second):
		t.Fatal("Run did not return within 1s of cancel")
	}
}

// TestManagerSetFailureChangesNothing: when one instance cannot be built, the running set
// stays as it was.
func TestManagerSetFailureChangesNothing(t *testing.T) {
	srv := redistest.Start(t)
	good := config.Redis{Name: "a", Addr: srv.Addr(), Interval: config.Duration(time.Second), Timeout: config.Duration(500 * time.Millisecond)}
	good.ApplyDefaults()
	m, err := NewManager(ManagerOptions{Writer: &keyTestWriter{}}, []config.Redis{good})
	if err != nil {
		t.Fatal(err)
	}
	bad := good
	bad.Name, bad.TLS, bad.TLSCAFile = "b", true, "/nonexistent/ca.pem"
	changed := good
	changed.Interval = config.Duration(2 * time.Second)
	if err := m.Set([]config.Redis{changed, bad}); err == nil {
		t.Fatal("a broken instance was accepted")
	}
	if list := m.Instances(); len(list) != 1 || list[0].Name != "a" || list[0].Interval != time.Second {
		t.Fatalf("the running set changed: %+v", list)
	}
}

// leastPrivilegeACL is the minimal ACL a monitoring user needs (README, "Watching Redis"):
// every key readable (~*), the read commands (TYPE, PTTL, the lengths, PFCOUNT, SCAN, XINFO,
// MEMORY USAGE are all in @read), INFO, PING, CLIENT LIST and SLOWLOG; no CLIENT SETNAME.
var leastPrivilegeACL = []string{"on", ">pw", "~*", "+@read", "+info", "+ping", "+client|list", "+slowlog|get", "+slowlog|len", "+latency|latest"}

// TestInstanceLeastPrivilegeUser: an ACL user without CLIENT SETNAME (refused by Redis 7 with
// NOPERM) is watched: the instance is up, its INFO series, client list and slowlog are read,
// and its keys (a stream with a group, a list) are sampled with length, TTL, memory and groups.
// The refusal is logged once and the connections stay unnamed.
func TestInstanceLeastPrivilegeUser(t *testing.T) {
	srv := redistest.Start(t, append([]string{"--user", "mon"}, leastPrivilegeACL...)...)
	if err := srv.Client().Do(context.Background(), "client", "setname", "x").Err(); err != nil {
		t.Fatalf("default user: %v", err)
	}
	mon := srv.Client(func(o *goredis.Options) { o.Username, o.Password = "mon", "pw" })
	if err := mon.Do(context.Background(), "client", "setname", "x").Err(); err == nil || !strings.HasPrefix(err.Error(), "NOPERM") {
		t.Fatalf("CLIENT SETNAME as mon: %v, want NOPERM", err)
	}
	srv.Do("xadd", "events", "*", "f", "v")
	srv.Do("xgroup", "create", "events", "workers", "0")
	srv.Do("rpush", "q", "a", "b", "c")
	s, w, logs := newTestInstance(t, srv.Addr(), func(r *config.Redis) {
		r.Username, r.Password = "mon", "pw"
		r.Keys = []config.Key{{Key: "events"}, {Key: "q"}}
	}, nil)
	ctx := context.Background()
	s.Round(ctx, time.Now())
	s.Round(ctx, time.Now().Add(time.Second))
	snap := s.Snapshot()
	if !snap.Up || snap.Error != "" || snap.ClientsError != "" || snap.SlowlogError != "" || len(snap.Clients) == 0 {
		t.Fatalf("snapshot: up=%v err=%q clients=%d (%q) slowlog %q", snap.Up, snap.Error, len(snap.Clients), snap.ClientsError, snap.SlowlogError)
	}
	own := 0
	for _, c := range snap.Clients {
		if c.User == "mon" && c.Name != "" {
			t.Fatalf("connection named %q although SETNAME is refused", c.Name)
		}
		// The test's own connections (default user, and mon's whose last command was the
		// refused SETNAME) are not redwatch's.
		if c.Redwatch && (c.User != "mon" || c.Cmd == "client|setname") {
			t.Fatalf("client %+v marked as redwatch's", c)
		}
		if c.Redwatch {
			own++
		}
	}
	if own == 0 || int64(own) != snap.RedwatchConnections {
		t.Fatalf("%d clients marked redwatch, RedwatchConnections %d", own, snap.RedwatchConnections)
	}
	if len(keyTestFind(w.take(), "redis_memory_used_bytes")) != 2 {
		t.Fatal("INFO series missing")
	}
	if err := s.keys.sampleDue(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	got := w.take()
	if v := keyTestValue(t, got, "redis_key_length", "key", "q"); v != 3 {
		t.Fatalf("q length = %v", v)
	}
	if v := keyTestValue(t, got, "redis_stream_group_pending", "key", "events", "group", "workers"); v != 0 {
		t.Fatalf("events pending = %v", v)
	}
	if keyTestValue(t, got, "redis_key_memory_bytes", "key", "events") <= 0 {
		t.Fatal("no key memory")
	}
	for _, k := range s.Keys() {
		if k.Error != "" || !k.Exists {
			t.Fatalf("key %s: %+v", k.Key, k)
		}
	}
	if n := logCount(logs, "CLIENT SETNAME refused; redwatch's connections stay unnamed"); n != 1 {
		t.Fatalf("SETNAME refusal logged %d times, want 1:\n%s", n, logs)
	}
	if s.latencyRefused {
		t.Fatal("LATENCY LATEST refused to the documented least-privilege user")
	}
}
