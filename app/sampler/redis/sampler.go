package redis

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/redwatch/redwatch/app/config"
	"github.com/redwatch/redwatch/internal/clock"
	"github.com/redwatch/redwatch/tsdb"
)

const (
	slowlogKept  = 256 // slowlog entries kept per instance
	slowlogFetch = 128 // SLOWLOG GET count per round
	// Retries of a down instance wait 1 s, 2 s, 4 s, ... up to this, while redis_up 0 is still
	// written every interval.
	maxRetryBackoff = 30 * time.Second
	poolSize        = 3 // instance round, key rounds, pattern scans
)

// Options configure a Sampler.
type Options struct {
	// Config is the instance, validated and with defaults applied.
	Config config.Redis
	// DataDir is the storage path; the slowlog is kept in DataDir/slowlog/NAME.json. "" keeps
	// it in memory only.
	DataDir string
	// SlowCommand: a command (or pipeline) slower than this is logged at warn on SlowLogger.
	// 0 turns that off.
	SlowCommand time.Duration
	Writer      Writer
	Logger      *slog.Logger // nil: discard
	SlowLogger  *slog.Logger // logger="slow"; nil: Logger
	Clock       Clock        // nil: the real clock

	// own is the node's tracker when a cluster sampler builds a node's Sampler: its key client
	// reaches the node through it too (see clusterSampler). nil: a tracker of its own.
	own *ownTracker
}

// Sampler watches one Redis instance: one long-lived go-redis client, an instance round every
// interval (PING, then INFO, CLIENT LIST, SLOWLOG and LATENCY LATEST in one pipelined round
// trip) and a key sampler for its keys and patterns. Build it with New, drive it with Run
// (once), read it with Snapshot, Keys and Patterns from any goroutine, and Close it after Run
// returns.
type Sampler struct {
	cfg     config.Redis
	client  *goredis.Client
	own     *ownTracker // what the client adds to the server's counters
	keys    *keySampler
	slowlog *slowlogStore
	// sentinel asks the sentinels every round; nil unless sentinel_addrs (see sentinel.go).
	sentinel *sentinelWatcher
	w        Writer
	log      *slog.Logger
	clock    Clock

	up atomic.Bool

	// Owned by the goroutine running Run.
	prev           *infoRound
	failures       int
	retryAt        time.Time
	downSince      time.Time
	clientsRefused bool        // CLIENT LIST was refused once: not asked again
	setnameRefused atomic.Bool // CLIENT SETNAME was refused: new connections stay unnamed
	slowlogRefused bool        // SLOWLOG was refused once: not asked again
	latencyRefused bool        // LATENCY LATEST was refused once: not asked again
	writeFailing   bool        // the last Writer.Write failed (logged once per change)
	slowlogFailing bool        // the last save of the kept slowlog failed (logged once per change)

	mu           sync.Mutex // guards snap and lastDuration
	snap         InstanceSnapshot
	lastDuration time.Duration

	cluster *clusterSampler // cluster = true: the nodes and their rounds; nil otherwise

	phases *PhaseStats // the info phase (Round) and the key sampler's keys and scan phases
}

// New builds the Sampler and its client; it connects lazily, so an absent Redis is not an
// error here (it shows as down). Errors are configuration problems (the slowlog file).
func New(opts Options) (*Sampler, error) {
	if opts.Config.Cluster {
		return withPhases(newCluster(opts))
	}
	cfg := opts.Config
	base := opts.Logger
	if base == nil {
		base = slog.New(slog.DiscardHandler)
	}
	log := base.With("instance", cfg.Name)
	if opts.Writer == nil {
		return nil, errors.New("cannot create redis sampler: Writer is nil")
	}
	path := ""
	if opts.DataDir != "" {
		path = filepath.Join(opts.DataDir, "slowlog", cfg.Name+".json")
	}
	sl, err := newSlowlogStore(path, slowlogKept)
	if err != nil {
		return nil, fmt.Errorf("cannot load the slowlog of redis %q: %w", cfg.Name, err)
	}
	copts, err := clientOptions(cfg)
	if err != nil {
		return nil, fmt.Errorf("cannot set up redis %q: %w", cfg.Name, err)
	}
	s := &Sampler{cfg: cfg, slowlog: sl, w: opts.Writer, log: log, own: opts.own, clock: clock.OrReal(opts.Clock)}
	if s.own == nil {
		s.own = &ownTracker{}
	}
	var client *goredis.Client
	if cfg.IsSentinel() {
		s.sentinel = newSentinelWatcher(cfg, copts)
		client = newFailoverClient(cfg, copts, s.onConnect, s.own)
	} else {
		copts.OnConnect = s.onConnect
		copts.Dialer = s.own.dialer(goredis.NewDialer(copts))
		client = goredis.NewClient(copts)
	}
	client.AddHook(s.own)
	s.client = client
	slow := opts.SlowLogger
	if slow == nil {
		slow = base
	}
	if opts.SlowCommand > 0 {
		client.AddHook(slowHook{threshold: opts.SlowCommand, log: slow.With("instance", cfg.Name)})
	}
	s.keys = newKeySampler(keyOptions{
		Instance:       cfg.Name,
		DB:             cfg.DB,
		Client:         client,
		Keys:           cfg.Keys,
		MemoryInterval: cfg.KeyMemoryInterval.Std(),
		MemorySamples:  cfg.KeyMemorySamples,
		Timeout:        cfg.Timeout.Std(),
		Writer:         opts.Writer,
		Logger:         base, // its lines carry instance themselves
		Up:             s.up.Load,
		Clock:          s.clock,
	})
	s.snap = InstanceSnapshot{Name: cfg.Name, Addr: cfg.Addr, DB: cfg.DB, Interval: cfg.Interval.Std(),
		Topology: Topology{Kind: KindStandalone},
		Slowlog:  sl.entries()}
	if s.sentinel != nil {
		s.snap.Topology = Topology{Kind: KindSentinel, MasterName: cfg.MasterName}
	}
	return withPhases(s, nil)
}

// withPhases gives a built Sampler, and its key sampler, the PhaseStats they record into.
func withPhases(s *Sampler, err error) (*Sampler, error) {
	if err != nil {
		return nil, err
	}
	s.phases = NewPhaseStats(nil)
	s.keys.phases = s.phases
	return s, nil
}

// clientOptions maps an instance's configuration to go-redis options: RESP2 and no CLIENT
// SETINFO (Redis 6 and managed servers), no automatic retries (a failed round is the signal),
// a small pool (pipelines share it: no separate pipeline pool), and every command bounded by
// timeout. The connection name is not set here: go-redis would fail the connection when
// CLIENT SETNAME is refused; Sampler.onConnect sets it and tolerates a refusal. TLS verifies the server against the
// system roots or tls_ca_file, and presents tls_cert_file when set.
func clientOptions(cfg config.Redis) (*goredis.Options, error) {
	t := cfg.Timeout.Std()
	o := &goredis.Options{
		Addr:            cfg.Addr,
		Username:        cfg.Username,
		Password:        cfg.Password,
		DB:              cfg.DB,
		Protocol:        2,
		DisableIdentity: true,
		DialTimeout:     t,
		DialerRetries:   1, // a failed round is the retry signal; see Sampler.Run

		ReadTimeout:           t,
		WriteTimeout:          t,
		PoolTimeout:           t,
		ContextTimeoutEnabled: true,
		MaxRetries:            -1,
		PoolSize:              poolSize,
		MaxIdleConns:          poolSize,
		PipelinePoolSize:      -1,
	}
	if !cfg.TLS {
		return o, nil
	}
	host, _, _ := net.SplitHostPort(cfg.Addr)
	o.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, ServerName: host}
	if cfg.TLSCAFile != "" {
		b, err := os.ReadFile(cfg.TLSCAFile)
		if err != nil {
			return nil, fmt.Errorf("cannot read tls_ca_file: %w", err)
		}
		o.TLSConfig.RootCAs = x509.NewCertPool()
		if !o.TLSConfig.RootCAs.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("tls_ca_file %q holds no PEM certificate", cfg.TLSCAFile)
		}
	}
	if cfg.TLSCertFile != "" {
		pair, err := tls.LoadX509KeyPair(cfg.TLSCertFile, cfg.TLSKeyFile)
		if err != nil {
			return nil, fmt.Errorf("cannot load tls_cert_file and tls_key_file: %w", err)
		}
		o.TLSConfig.Certificates = []tls.Certificate{pair}
	}
	return o, nil
}

// clientName is the name redwatch's connections carry in CLIENT LIST.
const clientName = "redwatch"

// onConnect names a new connection "redwatch" with CLIENT SETNAME. A least-privilege ACL user
// may not run it: the refusal is logged once and later connections stay unnamed, like a
// refused CLIENT LIST. Other errors (I/O) fail the connection.
func (s *Sampler) onConnect(ctx context.Context, cn *goredis.Conn) error {
	if s.setnameRefused.Load() {
		return nil
	}
	err := cn.ClientSetName(ctx, clientName).Err()
	switch {
	case err == nil:
		return nil
	case isReplyError(err):
		if !s.setnameRefused.Swap(true) {
			s.log.Warn("CLIENT SETNAME refused; redwatch's connections stay unnamed", "error", err)
		}
		return nil
	}
	return err
}

// Name is the instance name.
func (s *Sampler) Name() string { return s.cfg.Name }

// Config is the configuration the Sampler runs with.
func (s *Sampler) Config() config.Redis { return s.cfg }

// Run samples until ctx is done: the instance round every interval (retrying a down instance
// with capped exponential backoff in between), and the keys on their own schedules, all on the
// Sampler's clock.
func (s *Sampler) Run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	// The key sampler skips its rounds while the instance is not known to be up; started
	// before the first instance round, it would skip its first round and leave every key and
	// pattern without a sample for a whole interval after each start.
	startKeys := sync.OnceFunc(func() { wg.Go(func() { s.keys.Run(ctx) }) })

	interval := s.cfg.Interval.Std()
	next := s.clock.Now()
	for {
		wake := next
		if !s.up.Load() && !s.retryAt.IsZero() && s.retryAt.Before(wake) {
			wake = s.retryAt
		}
		select {
		case <-ctx.Done():
			return
		case <-s.clock.After(wake.Sub(s.clock.Now())):
		}
		now := s.clock.Now()
		if !now.Before(next) {
			s.Round(ctx, now)
			startKeys()
			for !next.After(now) {
				next = next.Add(interval)
			}
		} else if !s.up.Load() && !now.Before(s.retryAt) {
			s.Round(ctx, now) // an early retry of a down instance
		}
	}
}

// Round runs one instance round at now and writes its samples. A down instance is not asked
// again before its retry time: the round then only writes redis_up 0. A round cut short by ctx
// records nothing. Not safe for concurrent use; Run calls it.
func (s *Sampler) Round(ctx context.Context, now time.Time) {
	if s.cluster != nil {
		t0 := s.phases.Start()
		s.cluster.round(ctx, now)
		if ctx.Err() == nil {
			s.phases.Observe(PhaseInfo, t0, s.cfg.Interval.Std(), s.overran(now))
		}
		return
	}
	ts := now.UnixMilli()
	s.sentinelRound(ctx, now)
	if !s.up.Load() && now.Before(s.retryAt) {
		s.write([]tsdb.Sample{s.sample("redis_up", ts, 0)})
		s.mu.Lock()
		s.snap.LastRunAt = now
		s.mu.Unlock()
		return
	}
	t0 := time.Now() // a stopwatch: real time, whatever the clock (see Clock)
	samples, snap, err := s.collect(ctx, now)
	d := time.Since(t0)
	if err != nil && ctx.Err() != nil {
		return // stopped (shutdown, Manager.Set) mid-round: says nothing about the instance
	}
	if err != nil {
		s.markDown(now, err)
		s.write([]tsdb.Sample{s.sample("redis_up", ts, 0)})
		s.mu.Lock()
		s.snap.Up, s.snap.Error, s.snap.LastRunAt = false, err.Error(), now
		s.lastDuration = d
		s.mu.Unlock()
		s.phases.Observe(PhaseInfo, t0, s.cfg.Interval.Std(), s.overran(now))
		return
	}
	s.markUp(now)
	s.write(samples)
	fillSentinelNode(&snap, s.prev.info)
	s.mu.Lock()
	s.snap = snap
	s.lastDuration = d
	s.mu.Unlock()
	s.phases.Observe(PhaseInfo, t0, s.cfg.Interval.Std(), s.overran(now))
}

// overran reports whether the instance round that began at now (on the Sampler's clock) did
// not fit its interval: the next round was due before it ended.
func (s *Sampler) overran(now time.Time) bool {
	return !s.clock.Now().Before(now.Add(s.cfg.Interval.Std()))
}

// collect asks Redis for one round: PING (its round trip is redis_ping_latency_seconds), then
// INFO all, CLIENT LIST, SLOWLOG GET, SLOWLOG LEN and LATENCY LATEST pipelined in one round
// trip. An error means the instance is down; a refused CLIENT LIST, SLOWLOG or LATENCY
// (managed Redis, a least-privilege ACL user) is not.
func (s *Sampler) collect(ctx context.Context, now time.Time) ([]tsdb.Sample, InstanceSnapshot, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout.Std())
	defer cancel()
	ts := now.UnixMilli()

	p0 := time.Now()
	if err := s.client.Ping(ctx).Err(); err != nil {
		return nil, InstanceSnapshot{}, describe(err)
	}
	ping := time.Since(p0)

	// INFO first, with no other command of redwatch in flight: own is then exactly what
	// redwatch had added to the counters INFO reports (see ownTracker).
	infoCmd := goredis.NewStringCmd(ctx, "info", "all")
	var clientsCmd *goredis.StringCmd
	var slowCmd *goredis.SlowLogCmd
	var slowLenCmd, latencyCmd *goredis.Cmd
	var infoAt time.Time
	own := s.own.exclusive(ctx, infoCmd, func(ctx context.Context) {
		pipe := s.client.Pipeline()
		_ = pipe.Process(ctx, infoCmd)
		if !s.clientsRefused {
			clientsCmd = pipe.ClientList(ctx)
		}
		if !s.slowlogRefused {
			slowCmd = pipe.SlowLogGet(ctx, slowlogFetch)
			slowLenCmd = pipe.Do(ctx, "slowlog", "len")
		}
		if !s.latencyRefused {
			latencyCmd = pipe.Do(ctx, "latency", "latest")
		}
		infoAt = s.clock.Now()
		_, _ = pipe.Exec(ctx) // errors are per command, below
	})
	info, err := infoCmd.Result()
	if err != nil {
		return nil, InstanceSnapshot{}, describe(err)
	}

	snap := s.Snapshot()
	snap.Up, snap.Error, snap.LastSeen, snap.LastRunAt = true, "", now, now
	snap.PingLatency = ping
	samples := make([]tsdb.Sample, 0, 128)
	samples = append(samples, s.sample("redis_up", ts, 1), s.sample("redis_ping_latency_seconds", ts, ping.Seconds()))
	cur := &infoRound{at: infoAt, info: parseInfo(info), own: own}
	samples = infoSamples(samples, s.cfg.Name, ts, cur, s.prev, &snap)
	s.prev = cur

	if clientsCmd != nil {
		text, err := clientsCmd.Result()
		switch {
		case err == nil:
			snap.Clients, snap.ClientsError = parseClientList(text, now), ""
			for i := range snap.Clients {
				snap.Clients[i].Redwatch = s.own.IsOwn(snap.Clients[i].Addr)
			}
			samples = clientSamples(samples, s.cfg.Name, ts, snap.Clients)
		case isReplyError(err):
			// Refused (ACL, renamed command): say so once and stop asking.
			s.clientsRefused = true
			snap.Clients, snap.ClientsError = nil, "CLIENT LIST refused: "+err.Error()
			s.log.Warn("CLIENT LIST refused; the client list stays empty", "error", err)
		default:
			return nil, InstanceSnapshot{}, describe(err)
		}
	}
	if slowCmd != nil {
		entries, err := slowCmd.Result()
		switch {
		case err == nil:
			n, err := s.slowlog.add(entries)
			switch {
			case err != nil && !s.slowlogFailing:
				s.slowlogFailing = true
				s.log.Warn("cannot keep the slowlog", "error", err)
			case err == nil && n > 0 && s.slowlogFailing:
				s.slowlogFailing = false
				s.log.Info("keeping the slowlog works again")
			}
			if n > 0 {
				snap.Slowlog = s.slowlog.entries()
			}
		case isReplyError(err):
			s.slowlogRefused = true
			snap.SlowlogError = "SLOWLOG refused: " + err.Error()
			s.log.Warn("SLOWLOG refused; the slowlog stays empty", "error", err)
		default:
			return nil, InstanceSnapshot{}, describe(err)
		}
		if n, err := slowLenCmd.Int64(); err == nil {
			snap.SlowlogLength = n
			samples = append(samples, s.sample("redis_slowlog_length", ts, float64(n)))
		}
	}
	if latencyCmd != nil {
		reply, err := latencyCmd.Result()
		switch {
		case err == nil:
			samples = latencySamples(samples, s.cfg.Name, ts, reply)
		case isReplyError(err):
			s.latencyRefused = true
			s.log.Warn("LATENCY LATEST refused; no latency spike series", "error", err)
		default:
			return nil, InstanceSnapshot{}, describe(err)
		}
	}
	snap.KeysWatched, snap.PatternsWatched = s.keys.Counts()
	return samples, snap, nil
}

// markDown records a failed round; the state change (not every failure) is logged.
func (s *Sampler) markDown(now time.Time, err error) {
	s.failures++
	backoff := time.Second << min(s.failures-1, 5)
	s.retryAt = now.Add(min(backoff, maxRetryBackoff))
	if s.up.Swap(false) || s.downSince.IsZero() {
		s.downSince = now
		s.log.Warn("redis down", "addr", s.addr(), "error", err.Error())
	}
}

// markUp records a successful round and logs the recovery.
func (s *Sampler) markUp(now time.Time) {
	if !s.up.Swap(true) {
		if !s.downSince.IsZero() {
			s.log.Info("redis up again", "addr", s.addr(), "down_for", now.Sub(s.downSince).Round(time.Millisecond).String())
			// The server may have been replaced or reconfigured: ask for what it refused again.
			s.clientsRefused, s.slowlogRefused, s.latencyRefused = false, false, false
		} else {
			s.log.Info("redis up", "addr", s.addr())
		}
	}
	s.failures, s.retryAt, s.downSince = 0, time.Time{}, time.Time{}
}

func (s *Sampler) sample(name string, ts int64, v float64) tsdb.Sample {
	return tsdb.Sample{Name: name, Labels: []tsdb.Label{{Name: "instance", Value: s.cfg.Name}}, Timestamp: ts, Value: v}
}

// write hands samples to the Writer, logging a failure once per change of state.
func (s *Sampler) write(samples []tsdb.Sample) {
	err := s.w.Write(samples)
	switch {
	case err != nil && !s.writeFailing:
		s.writeFailing = true
		s.log.Error("cannot store redis samples", "error", err)
	case err == nil && s.writeFailing:
		s.writeFailing = false
		s.log.Info("storing redis samples works again")
	}
}

// Up reports whether the last round reached the instance.
func (s *Sampler) Up() bool { return s.up.Load() }

// Snapshot returns the instance's state after its latest round.
func (s *Sampler) Snapshot() InstanceSnapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.snap
}

// LastDuration is how long the latest instance round took.
func (s *Sampler) LastDuration() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastDuration
}

// Phases returns how long the phases of its sampling took, and how often they did not fit
// their interval (PhaseStats.Stats).
func (s *Sampler) Phases() []PhaseStat { return s.phases.Stats() }

// Keys returns the snapshots of the tracked keys, sorted by key.
func (s *Sampler) Keys() []KeySnapshot { return s.keys.Keys() }

// Patterns returns the snapshots of the watched patterns, in configuration order.
func (s *Sampler) Patterns() []PatternSnapshot { return s.keys.Patterns() }

// Close closes the client; call it after Run returned.
func (s *Sampler) Close() error {
	if s.cluster != nil {
		return s.cluster.close()
	}
	if s.sentinel != nil {
		s.sentinel.close()
	}
	return s.client.Close()
}

// describe turns a go-redis error into a short, secret-free reason for logs and /health.
func describe(err error) error {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return fmt.Errorf("timeout: %w", err)
	case isReplyError(err) && strings.HasPrefix(err.Error(), "NOAUTH"),
		isReplyError(err) && strings.HasPrefix(err.Error(), "WRONGPASS"):
		return fmt.Errorf("authentication failed (check username/password): %w", err)
	}
	return err
}

// slowHook logs commands and pipelines slower than threshold at warn, without arguments other
// than the command name and a truncated key.
type slowHook struct {
	threshold time.Duration
	log       *slog.Logger
}

func (h slowHook) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (h slowHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		t0 := time.Now()
		err := next(ctx, cmd)
		if d := time.Since(t0); d > h.threshold {
			attrs := []any{"cmd", cmd.Name(), "duration_ms", float64(d.Microseconds()) / 1000}
			if args := cmd.Args(); len(args) > 1 && cmd.Name() != "auth" && cmd.Name() != "hello" {
				attrs = append(attrs, "key", logKey(fmt.Sprint(args[1])))
			}
			h.log.Warn("slow redis command", attrs...)
		}
		return err
	}
}

func (h slowHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		t0 := time.Now()
		err := next(ctx, cmds)
		if d := time.Since(t0); d > h.threshold && len(cmds) > 0 {
			h.log.Warn("slow redis pipeline", "cmds", len(cmds), "first_cmd", cmds[0].Name(), "duration_ms", float64(d.Microseconds())/1000)
		}
		return err
	}
}
