// Package app assembles redwatch: it opens storage, starts the samplers and the HTTP server in
// order, and stops them in reverse (HTTP first, then samplers, then the remote-write forwarder's
// final flush, then a storage flush).
package app

import (
	"context"
	"errors"
	"fmt"
	"github.com/redwatch/redwatch/app/queryengine"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redwatch/redwatch/app/alert"
	"github.com/redwatch/redwatch/app/auth"
	"github.com/redwatch/redwatch/app/config"
	"github.com/redwatch/redwatch/app/health"
	"github.com/redwatch/redwatch/app/ingest"
	"github.com/redwatch/redwatch/app/logging"
	"github.com/redwatch/redwatch/app/notify"
	"github.com/redwatch/redwatch/app/notify/providers"
	"github.com/redwatch/redwatch/app/remotewrite"
	"github.com/redwatch/redwatch/app/sampler/host"
	"github.com/redwatch/redwatch/app/sampler/redis"
	"github.com/redwatch/redwatch/app/selfmon"
	"github.com/redwatch/redwatch/app/settings"
	"github.com/redwatch/redwatch/app/web"
	"github.com/redwatch/redwatch/tsdb"
)

// Options are what New needs besides the configuration.
type Options struct {
	Logger *logging.Logger
	// AdminPassword is REDWATCH_ADMIN_PASSWORD: the first admin's password when no users are
	// configured and none was generated before.
	AdminPassword string
}

// App is a running redwatch. Create it with New, then call Run once.
type App struct {
	cfg      config.Config
	log      *logging.Logger
	db       *tsdb.DB
	ln       net.Listener
	web      *web.Server
	host     *host.Sampler          // nil when [system].enabled = false
	redis    *redis.Manager         // one sampler per watched Redis: the config file's and the UI's
	settings *settings.Service      // instances and keys made from /settings
	alerts   *alert.Engine          // evaluates the alert rules
	notify   *notify.Dispatcher     // delivers alerts to the configured notifiers
	fwd      *remotewrite.Forwarder // nil unless [remote_write].url is set
	writer   *fanout                // what samplers write to: storage, then fwd
	// ingestWriter is what ingest writes to: as writer, but it returns tsdb.ErrReadOnly (a
	// pusher must learn that nothing was stored; ingest answers 503).
	ingestWriter *fanout
	ingest       *ingest.Ingest // the write endpoints; tracks pushing hosts
	stats        *selfmon.Stats
	started      time.Time
	// memBudget is the memory budget when redwatch sets the Go memory limit (see
	// runGoMemoryLimit); 0 when the operator's GOMEMLIMIT does.
	memBudget int64
}

// New opens storage, loads users and sessions, and binds the listen address, so that every
// start-up error surfaces before Run. On error nothing is left open.
func New(cfg config.Config, opts Options) (a *App, err error) {
	lg := opts.Logger
	log := lg.Named("app")
	a = &App{cfg: cfg, log: lg, stats: selfmon.New(), started: time.Now()}
	memLimit, adjust := setMemoryLimits(log, cfg.Storage)
	if adjust {
		a.memBudget = memLimit
	}

	db, err := tsdb.Open(tsdb.Options{
		Path:               cfg.Storage.Path,
		MemoryAllowedBytes: memLimit / 2, // storage caches: half the budget (see setMemoryLimits)
		Retention:          cfg.Storage.Retention.Std(),
		MaxSeries:          cfg.Storage.MaxSeries,
		Logger:             lg.Slog(),
	})
	if err != nil {
		return nil, fmt.Errorf("cannot open storage: %w", err)
	}
	a.db = db
	// A failed New returns a nil *App: close through the local, not through a.
	defer func() {
		if err != nil {
			db.Close()
		}
	}()
	if cfg.RemoteWrite.URL != "" {
		a.fwd, err = remotewrite.New(remotewrite.Options{
			URL:    cfg.RemoteWrite.URL,
			Logger: lg.Named("remotewrite"),
			// With the HTTP server's 4 s, shutdown stays within SPEC's 10 s.
			FinalFlushTimeout: 3 * time.Second,
		})
		if err != nil {
			return nil, fmt.Errorf("cannot set up remote_write.url: %w", err)
		}
	}
	a.writer = &fanout{db: a.db, fwd: a.fwd}
	a.ingestWriter = &fanout{db: a.db, fwd: a.fwd, strict: true}

	users := make([]auth.User, 0, len(cfg.Auth.Users))
	for _, u := range cfg.Auth.Users {
		users = append(users, auth.User{Name: u.Name, PasswordHash: u.PasswordHash, Role: auth.Role(u.Role)})
	}
	us, err := auth.NewUsers(users, cfg.Storage.Path, opts.AdminPassword, lg.Named("auth"))
	if err != nil {
		return nil, fmt.Errorf("cannot load users: %w", err)
	}
	sessions, err := auth.NewSessions(cfg.Storage.Path, cfg.Auth.SessionTTL.Std(), time.Now)
	if err != nil {
		return nil, fmt.Errorf("cannot load sessions: %w", err)
	}
	// Sessions of users removed from the config, or whose password changed, end now.
	if n, err := sessions.EndStale(us); err != nil {
		return nil, fmt.Errorf("cannot end stale sessions: %w", err)
	} else if n > 0 {
		lg.Named("auth").Info("sessions ended: their user was removed or changed password", "sessions", n)
	}

	hostname, _ := os.Hostname()
	if cfg.System.Enabled {
		a.host, err = host.New(host.Options{Interval: cfg.System.Interval.Std(), Writer: a.writer, Logger: lg.Named("sampler.host")})
		if err != nil {
			return nil, fmt.Errorf("cannot start host sampler: %w", err)
		}
		hostname = a.host.Host()
		a.stats.AddSampler("host", a.host.LastDuration)
	}

	// The samplers watch the config file's instances merged with those made from /settings;
	// every change made there is applied with Manager.Set. Alert rules likewise: the config
	// file's plus those made there, where the shipped defaults are seeded once as editable
	// rules (alerts.default_rules); changes go to the engine with SetRules (the engine is
	// built below; Open never applies anything).
	var defaultRules []config.Rule
	if cfg.Alerts.DefaultRules {
		defaultRules = alert.DefaultRules()
	}
	a.settings, err = settings.Open(settings.Options{
		Dir:             cfg.Storage.Path,
		FromConfig:      cfg.Redis,
		Apply:           func(set []config.Redis) error { return a.redis.Set(set) },
		FromConfigRules: cfg.Alerts.Rules,
		DefaultRules:    defaultRules,
		ApplyRules:      func(r []config.Rule) error { return a.alerts.SetRules(r) },
		SecretsDir:      cfg.Server.SecretsDir,
		Logger:          lg.Named("settings"),
	})
	if err != nil {
		return nil, fmt.Errorf("cannot load settings: %w", err)
	}
	managerOpts := redis.ManagerOptions{
		DataDir:     cfg.Storage.Path,
		SlowCommand: cfg.Log.SlowCommand.Std(),
		Writer:      a.writer,
		Logger:      lg.Named("sampler.redis"),
		SlowLogger:  lg.Named("slow"),
	}
	// Effective lists the config file's instances first (with the UI keys attached to them):
	// those must start. An instance made from /settings that no longer starts (e.g. its TLS
	// file is gone) is left out with an error log and shows as stopped on the page, so that
	// the admin can fix or delete it there (until then Manager.Set refuses other changes).
	set := a.settings.Effective()
	running := set[:len(cfg.Redis)]
	a.redis, err = redis.NewManager(managerOpts, running)
	if err != nil {
		return nil, fmt.Errorf("cannot set up the redis samplers: %w", err)
	}
	for _, r := range set[len(cfg.Redis):] {
		next := append(slices.Clip(running), r)
		if err := a.redis.Set(next); err != nil {
			log.Error("cannot start a redis instance made from /settings; fix or delete it there", "instance", r.Name, "err", err)
			continue
		}
		running = next
	}
	a.stats.AddSamplerGroup("redis:", redisPhases(a.redis))

	// MetricsQL: the local storage's engine, or a remote VictoriaMetrics (storage.remote) that
	// several redwatch appliances write to; expression rules and /api/v1/query* read it.
	var engine queryengine.Engine = queryengine.NewLocal(a.db)
	if cfg.Storage.Remote != "" {
		remote, err := queryengine.NewRemote(queryengine.RemoteOptions{URL: cfg.Storage.Remote})
		if err != nil {
			return nil, fmt.Errorf("storage.remote: %w", err)
		}
		engine = remote
		a.log.Named("app").Info("MetricsQL queries read the remote", "storage_remote", remote.Where())
	}

	// Alerts: the engine evaluates the rules against storage and hands every firing and
	// resolved alert to the dispatcher, which owns delivery to the notifiers.
	alertDir := filepath.Join(cfg.Storage.Path, "alerts")
	a.notify, err = notify.New(notify.Options{StateDir: alertDir, Logger: lg.Named("notify")}, providers.FromConfig(cfg.Notify))
	if err != nil {
		return nil, fmt.Errorf("cannot set up notifications: %w", err)
	}
	// The config file's rules must load. A rule made from /settings that the engine refuses
	// (it no longer validates) is left out with an error log and shown on the page as not
	// applied, so that the admin can fix or delete it there.
	if err := a.settings.CheckRules(alert.CheckRules); err != nil {
		return nil, fmt.Errorf("cannot set up alert rules: %w", err)
	}
	rules := a.settings.EffectiveRules()
	a.alerts, err = alert.New(alert.Options{
		Store:    a.db,
		Querier:  engine, // expression rules
		Writer:   a.writer,
		Notifier: a.notify,
		StateDir: alertDir,
		Interval: cfg.Alerts.Interval.Std(),
		Logger:   lg.Named("alerts"),
	}, rules)
	if err != nil {
		return nil, fmt.Errorf("cannot set up alert rules: %w", err)
	}

	a.ingest = ingest.New(ingest.Options{Tokens: cfg.Ingest.Tokens, Writer: a.ingestWriter, Sampled: a.sampledSeries, Logger: lg.Named("ingest")})
	checker := &health.Checker{Started: a.started, Storage: a.db, Targets: a.targets}
	if r, ok := engine.(*queryengine.Remote); ok {
		checker.RemoteQuery = r // shown by /health/ready?verbose; never fails readiness
	}
	a.stats.AddSource(a.ingest.Samples) // redwatch_ingest_rejected_total{reason}
	if a.fwd != nil {
		a.stats.AddSource(a.fwd.Samples) // redwatch_remote_write_*, stored and forwarded like selfmon's
		checker.RemoteWrite = a.fwd.Stats
	}
	a.web = web.New(web.Options{
		Listen:         cfg.Server.Listen,
		TLSCert:        cfg.Server.TLSCert,
		TLSKey:         cfg.Server.TLSKey,
		Refresh:        cfg.UI.Refresh.Std(),
		SystemInterval: cfg.System.Interval.Std(),
		Retention:      cfg.Storage.Retention.Std(),
		LocalHost:      hostname,
		TrustedProxies: cfg.Server.TrustedProxyNets(),
		Store:          a.db,
		Engine:         engine,
		Users:          us,
		Sessions:       sessions,
		Health:         checker,
		Stats:          a.stats,
		Ingest:         a.ingest,
		Redis:          a.redis,
		Settings:       a.settings,
		Alerts:         a.alerts,
		Notifiers:      a.notify,
		RecentErrors:   lg.Recent,
		Logger:         lg.Named("http"),
	})

	a.ln, err = net.Listen("tcp", cfg.Server.Listen)
	if err != nil {
		return nil, fmt.Errorf("cannot listen on %s (server.listen): %w", cfg.Server.Listen, err)
	}
	return a, nil
}

// setMemoryLimits bounds the Go heap as VictoriaMetrics' own server does: a lower GOGC (unless
// the operator set GOGC) and a soft memory limit. The limit is storage.memory_limit when set;
// otherwise GOMEMLIMIT when set, else config.DefaultMemoryLimitBytes. It returns the budget
// in bytes, of which the caller gives half to the storage caches
// (VictoriaMetrics' -memory.allowedBytes): the other half is for the latest table, the
// samplers, HTTP and the GC's headroom. adjust is true when redwatch, not GOMEMLIMIT, set the
// Go limit: Run then keeps it below the budget by what lies outside the Go heap
// (runGoMemoryLimit).
func setMemoryLimits(log *slog.Logger, st config.Storage) (limit int64, adjust bool) {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}
	limit, set := st.MemoryLimitBytes()
	switch {
	case set, os.Getenv("GOMEMLIMIT") == "":
		debug.SetMemoryLimit(goMemoryLimit(limit, 0, residentFileBytes()))
		adjust = true
	default:
		if l := debug.SetMemoryLimit(-1); l > 0 && l < 1<<62 {
			limit = l // GOMEMLIMIT sized the budget
		}
	}
	log.Debug("memory limits", "gogc", os.Getenv("GOGC"), "memory_limit_bytes", limit, "storage_cache_bytes", limit/2)
	return limit, adjust
}

// Addr is the address the HTTP server listens on (useful with port 0).
func (a *App) Addr() net.Addr { return a.ln.Addr() }

// Run serves and samples until ctx is done, then stops HTTP, stops the samplers and flushes
// storage. It returns the first fatal error.
func (a *App) Run(ctx context.Context) error {
	log := a.log.Named("app")
	sctx, stopSamplers := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	// The forwarder stops after the samplers, so that their last samples go out too.
	fctx, stopForwarder := context.WithCancel(context.Background())
	var fwg sync.WaitGroup
	if a.fwd != nil {
		fwg.Go(func() { a.fwd.Run(fctx) })
	}
	if a.host != nil {
		wg.Go(func() { a.host.Run(sctx) })
	}
	self := &selfmon.Sampler{Stats: a.stats, Store: a.writer, Interval: 10 * time.Second, Logger: a.log.Named("selfmon")}
	wg.Go(func() { self.Run(sctx) })
	if a.memBudget > 0 {
		wg.Go(func() { runGoMemoryLimit(sctx, log, a.memBudget, a.db.OffHeapBytes) })
	}
	wg.Go(func() { a.redis.Run(sctx) })
	// The compactor has a WaitGroup of its own: its storage search cannot be cancelled, so
	// shutdown flushes the samplers' last samples before waiting for it (see below).
	var rwg sync.WaitGroup
	rwg.Go(func() { a.db.RunRollups(sctx) })
	wg.Go(func() { a.alerts.Run(sctx) })
	wg.Go(func() { a.notify.Run(sctx) })

	log.Info("redwatch started", "listen", a.ln.Addr().String(), "data", a.cfg.Storage.Path, "tls", a.cfg.Server.TLSCert != "")
	// On the signal the samplers stop while HTTP shuts down (at most 4 s), not after it.
	var signalled atomic.Int64 // unix ns
	context.AfterFunc(ctx, func() { signalled.Store(time.Now().UnixNano()); stopSamplers() })
	err := a.web.Serve(ctx, a.ln)

	t0 := time.Now()
	if ns := signalled.Load(); ns != 0 {
		t0 = time.Unix(0, ns)
	}
	stopSamplers()
	wg.Wait()
	// A rollup pass over a few hundred thousand series can sit in a storage search for tens of
	// seconds without reaching a ctx check; should the 10 s shutdown watchdog end the process
	// meanwhile, what was written is on disk.
	a.db.Flush()
	rwg.Wait()
	stopForwarder() // its final flush takes at most 3 s
	fwg.Wait()
	if cerr := a.db.Close(); cerr != nil && err == nil {
		err = cerr
	}
	log.Info("redwatch stopped", "shutdown_ms", time.Since(t0).Milliseconds(), "read_only", a.db.ReadOnly())
	return err
}

// targets lists what /health/targets reports: the watched Redis instances, this host, then
// the hosts that push to the ingest endpoints (a pushed host named like this one is dropped:
// the local sampler's entry wins).
func (a *App) targets() []health.Target {
	var out []health.Target
	for _, r := range a.redis.Instances() {
		t := health.Target{Kind: "redis", Name: r.Name, Up: r.Up, LastSeen: r.LastSeen, Latency: r.PingLatency,
			Error: r.Error, Interval: r.Interval, LastRunAt: r.LastRunAt, Topology: topologyStatus(r.Topology)}
		if !t.Up && t.Error == "" {
			t.Error = "no sample yet"
		}
		out = append(out, t)
	}
	if a.host != nil {
		at, err := a.host.LastRun()
		t := health.Target{Kind: "host", Name: a.host.Host(), Interval: a.cfg.System.Interval.Std(), LastRunAt: at, Latency: a.host.LastDuration()}
		t.Up = !at.IsZero() && err == nil
		if t.Up {
			t.LastSeen = at
		} else if err != nil {
			t.Error = err.Error()
		} else {
			t.Error = "no sample yet"
		}
		out = append(out, t)
	}
	for _, t := range a.ingest.Targets(time.Now()) {
		if a.host != nil && t.Name == a.host.Host() {
			continue
		}
		out = append(out, t)
	}
	return out
}

// sampledSeries is ingest's Options.Sampled: it names the owner of a series redwatch's own
// samplers write, so that no push mixes into one: redwatch_* and ALERTS (redwatch itself),
// redis_* of a watched instance (label instance), host_* of this host (label host).
func (a *App) sampledSeries() func(name string, labels []tsdb.Label) string {
	local := ""
	if a.host != nil {
		local = a.host.Host()
	}
	return func(name string, labels []tsdb.Label) string {
		label := func(n string) string {
			for _, l := range labels {
				if l.Name == n {
					return l.Value
				}
			}
			return ""
		}
		switch {
		case strings.HasPrefix(name, "redwatch_") || name == "ALERTS":
			return "redwatch's own series"
		case strings.HasPrefix(name, "redis_"):
			if in := label("instance"); in != "" && a.redis.Has(in) {
				return fmt.Sprintf("Redis instance %q is sampled by redwatch", in)
			}
		case strings.HasPrefix(name, "host_") && local != "":
			if h := label("host"); h == local {
				return fmt.Sprintf("host %q is sampled by redwatch; an agent on it needs --host NAME", h)
			}
		}
		return ""
	}
}

// fanout is the writer the app hands to samplers (a.writer) and ingest (a.ingestWriter): it
// stores samples and, with [remote_write].url set, forwards them. Only batches storage accepted
// whole are forwarded: when storage rejects a sample (invalid name or label, bad timestamp,
// storage closed) it still stores the valid rest, but nothing of that batch is forwarded. Kept
// simple on purpose: such batches mean a bug or a bad payload, which ingest rejects before
// writing.
//
// While storage is read-only (tsdb.ErrReadOnly) a sampler's batch is still forwarded and its
// Write returns nil: storage logged the state change once and readiness reports it, so the
// samplers neither log it nor count their round as failed. With strict set (ingest) the
// error is returned and nothing is forwarded: the pusher is told to retry.
//
// It satisfies host.Writer and selfmon.Store and is safe for concurrent use; Write never
// waits for the network.
type fanout struct {
	db     *tsdb.DB
	fwd    *remotewrite.Forwarder // nil: storage only
	strict bool                   // return tsdb.ErrReadOnly instead of forwarding
}

func (f *fanout) Write(samples []tsdb.Sample) error {
	if f.strict && f.db.ReadOnly() {
		return tsdb.ErrReadOnly // a refused push must not show on pages either
	}
	if err := f.db.Write(samples); err != nil && (f.strict || !errors.Is(err, tsdb.ErrReadOnly)) {
		return err
	}
	if f.fwd != nil {
		return f.fwd.Write(samples) // never blocks; copies the samples
	}
	return nil
}

// CheckTimestamp is storage's: see tsdb.DB.CheckTimestamp.
func (f *fanout) CheckTimestamp(ts int64) error { return f.db.CheckTimestamp(ts) }

func (f *fanout) SamplesWritten() uint64           { return f.db.SamplesWritten() }
func (f *fanout) LatestCount() int                 { return f.db.LatestCount() }
func (f *fanout) SeriesDropped() map[string]uint64 { return f.db.SeriesDropped() }
