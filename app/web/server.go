// Package web is redwatch's HTTP server: the echo instance, its middleware, the one route table
// (routes.go) and one file per handler.
package web

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
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

	Store    Store
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
