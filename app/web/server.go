// Package web is redwatch's HTTP server. How it is laid out:
//
//   - server.go: Server, its Options and New (which fills nil Redis, Alerts and Notifiers with
//     no-op sources), serving and shutdown; the interfaces Options are typed with live where
//     they are read (Store, Ingester here, RedisSource in redis_source.go, AlertSource and
//     NotifierHealth in alert_source.go, SettingsService in settings.go).
//   - routes.go: the one route table. It builds every feature handler from Options and
//     registers each route in one access group (routeGroup: public, token, session, api,
//     admin); middleware.go and compress.go hold the middleware the groups use.
//   - Feature handlers, one struct each, holding the small interfaces it reads, declared
//     beside it: overviewHandler (overview.go), redisHandler (redis_instance.go),
//     keysHandler (keys.go; key_list, key_detail, key_top, key_sort), hostsHandler
//     (host_list.go; host_detail, host_panel), alertsHandler (alert_list.go; alert_silence*,
//     alert_format, api_alerts), settingsHandler (settings.go; settings_page, _instance, _key, _rule,
//     _form), statusHandler (status.go), loginHandler (login.go), healthHandler (health.go),
//     metricsHandler (metrics.go), apiHandler (api_instances.go, api_keys.go) and queryHandler
//     (api_query.go, api_export.go, query_limit.go). One file per action, named for it.
//   - The page kit (render.go): pageKit, embedded by page handlers, renders the layout and the
//     error pages; timerange.go parses the range picker.
//   - The JSON API's own response types (*JSON, units in field names) live in the api_*.go
//     file of their endpoint.
//   - Tests: web_test.go builds a whole server (newEnv, newEnvWith, newAccessEnv) and holds
//     the HTTP helpers (do, login, page, pageStatus, postForm); html_test.go the HTML helpers;
//     store_fake_test.go the fake stores, redis_fake_test.go and alert_fake_test.go the fake
//     sources; <feature>_env_test.go a feature's own environment and helpers; *_browser_test.go
//     drive the one shared chromium of browser_test.go.
package web

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"github.com/redwatch/redwatch/app/queryengine"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/redwatch/redwatch/app/auth"
	"github.com/redwatch/redwatch/app/health"
	"github.com/redwatch/redwatch/app/logging"
	"github.com/redwatch/redwatch/app/selfmon"
	"github.com/redwatch/redwatch/tsdb"
)

// Store is what handlers read; *tsdb.DB satisfies it. Handlers never talk to a watched Redis.
type Store interface {
	Latest(sel *tsdb.Selector) []tsdb.LatestValue
	LatestByName(name string) []tsdb.LatestValue
	LatestOne(name string, labels ...tsdb.Label) (tsdb.LatestValue, bool)
	LatestAll(fn func(lv *tsdb.LatestValue))
	QueryRange(ctx context.Context, q tsdb.RangeQuery) ([]tsdb.Series, error)
	SeriesMatching(ctx context.Context, sel *tsdb.Selector, start, end time.Time) ([]tsdb.Series, error)
	Raw(ctx context.Context, sel *tsdb.Selector, start, end time.Time) ([]tsdb.Series, error)
	Export(ctx context.Context, sel *tsdb.Selector, start, end time.Time, begin func(labelNames []string) error, fn func(s *tsdb.Series) error) error
}

// Ingester serves the write endpoints, which check their own ingest token (routes.go registers
// them in the token group, without login or CSRF); *ingest.Ingest satisfies it.
type Ingester interface {
	RemoteWrite(c echo.Context) error // POST /api/v1/write
	InfluxWrite(c echo.Context) error // POST /write and POST /api/v2/write
	Ping(c echo.Context) error        // GET and HEAD /ping (InfluxDB's), no token
}

// Options are the server's dependencies and settings, fixed at New.
type Options struct {
	Listen         string
	TLSCert        string // both set: serve HTTPS
	TLSKey         string
	Refresh        time.Duration // how often live panels poll
	SystemInterval time.Duration // host sampling interval, for staleness
	Retention      time.Duration
	LocalHost      string // this host's name, shown before its first sample
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is believed for the
	// client's address (login limiter, request log) and whose X-Forwarded-Proto: https counts
	// as TLS (isTLS); nil: neither is believed.
	TrustedProxies []*net.IPNet

	Store Store
	// Engine answers /api/v1/query, query_range without agg, labels, label values (and series
	// when it is remote); nil: the Store's own engine when it has one.
	Engine   queryengine.Engine
	Users    *auth.Users
	Sessions *auth.Sessions
	Health   *health.Checker
	Stats    *selfmon.Stats
	Ingest   Ingester    // nil: the write endpoints are not registered
	Redis    RedisSource // nil: no Redis instances are watched
	// Settings manages the instances and keys made from /settings; nil: /settings lists the
	// watched instances read-only.
	Settings SettingsService
	// Alerts feeds /alerts and /api/alerts; nil: no alert engine.
	Alerts AlertSource
	// Notifiers reports notifier health on /alerts; nil: no notifiers.
	Notifiers NotifierHealth
	// RecentErrors returns the last warnings and errors logged, newest first (/status);
	// nil: none are shown.
	RecentErrors func() []logging.Entry
	Logger       *slog.Logger // access and error log (logger="http")
	// Queries bounds the query and export endpoints (query_limit.go); zero: the defaults.
	Queries QueryLimits
}

// Server serves redwatch's HTTP endpoints: the echo instance and its middleware. The handlers
// live on the feature handlers routes.go builds (keysHandler, alertsHandler, ...).
type Server struct {
	opts    Options
	e       *echo.Echo
	tls     tlsPolicy
	page    *pageKit   // the error pages
	queries *queryGate // the query and export endpoints' concurrency limit and deadline
	metrics *queryGate // /metrics': metricsRunning at once
}

// New builds the server and its route table.
func New(opts Options) *Server {
	if opts.Redis == nil {
		opts.Redis = noRedis{}
	}
	if opts.Alerts == nil {
		opts.Alerts = noAlerts{}
	}
	if opts.Notifiers == nil {
		opts.Notifiers = noNotifiers{}
	}
	_, none := opts.Alerts.(noAlerts)
	canSilence := !none
	s := &Server{opts: opts, tls: tlsPolicy{secure: opts.TLSCert != "", trusted: opts.TrustedProxies},
		page:    &pageKit{refresh: opts.Refresh, redis: opts.Redis},
		queries: newQueryGate(opts.Queries, "the query and export endpoints"),
		metrics: newQueryGate(QueryLimits{MaxRunning: metricsRunning, MaxWait: opts.Queries.MaxWait, Timeout: opts.Queries.Timeout}, "/metrics")}
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.Logger.SetOutput(discard{})
	e.HTTPErrorHandler = s.handleError
	e.IPExtractor = ipExtractor(opts.TrustedProxies)
	s.e = e
	s.routes(canSilence)
	return s
}

// ipExtractor returns how a request's client address is found (echo's RealIP, used by the
// login limiter and the request log): the connection's address, or with trusted proxies the
// rightmost X-Forwarded-For entry that is not one of them, walking left only through
// trusted addresses (a client cannot pick its address by sending the header itself).
func ipExtractor(trusted []*net.IPNet) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range trusted {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// Handler returns the http.Handler (for tests).
func (s *Server) Handler() http.Handler { return s.e }

// Echo exposes the echo instance (for the route-table test).
func (s *Server) Echo() *echo.Echo { return s.e }

// Serve accepts connections on ln until ctx is done, then shuts down gracefully, giving
// in-flight requests up to 4 s (the rest of SPEC's 10 s goes to samplers, forwarding, storage).
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.e,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.opts.Logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() {
		var err error
		if s.tls.secure {
			srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
			err = srv.ServeTLS(ln, s.opts.TLSCert, s.opts.TLSKey)
		} else {
			err = srv.Serve(ln)
		}
		errc <- err
	}()
	select {
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		// Requests still running after 4 s (a long export) are cut, not waited for: SIGTERM
		// must end in an exit 0 within 10 s.
		s.opts.Logger.Warn("requests still running 4s after shutdown began are cut", "err", err)
		srv.Close()
	}
	return nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
