package web

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/redwatch/redwatch/app/auth"
	"github.com/redwatch/redwatch/app/keytrend"
	"github.com/redwatch/redwatch/app/selfmon"
	"github.com/redwatch/redwatch/assets"
	"github.com/redwatch/redwatch/views/components"
)

// routes is the one route table. It builds the feature handlers and registers every route in
// one access group, which decides who may call it:
//   - public: no login (health, the login form, InfluxDB's /ping, and the assets, which
//     assets.Handler serves precompressed);
//   - token: no login and no CSRF; the handler checks an ingest token itself (the writes);
//   - session: a logged-in user (session cookie or HTTP Basic) and CSRF on unsafe methods;
//   - api: session for machines, with CSRF on unsafe methods only;
//   - admin: session, and the user must be an admin.
//
// Unknown paths answer as the session group does (a login is asked for before a 404), and
// under /settings/ as the admin group does; so does a public route asked for with a path that
// is not clean (loginIfNotClean). A known path asked for with another method gets a login
// first too, then 405 (session.unrouted). Answers are gzip-compressed (compressResponses) but for the
// assets and the token group's, which are a status and at most one short error line.
func (s *Server) routes(canSilence bool) {
	e := s.e
	e.Pre(s.recoverPanics, requestIDMiddleware, s.accessLog)
	e.Use(s.securityHeaders)

	limiter := auth.NewLimiter(time.Now)
	login := auth.Middleware(auth.MiddlewareConfig{Users: s.opts.Users, Sessions: s.opts.Sessions, Limiter: limiter})
	csrf := auth.CSRF(s.tls.isTLS)
	compressed := routeGroup{e: e}.with(compressResponses())
	assetFiles := routeGroup{e: e}.with(loginIfNotClean(login))
	public := compressed.with(loginIfNotClean(login))
	publicPage := public.with(limitLoginBody, csrf) // the login form: CSRF before any session
	// Liveness, readiness and db health, which load balancers poll: public without the gzip
	// middleware, whose writer costs a reset per request that accepts gzip while these bodies
	// (~120 bytes) are under gzipMinBytes and never compressed.
	healthGroup := routeGroup{e: e}.with(loginIfNotClean(login))
	token := routeGroup{e: e}
	session := compressed.with(login, csrf)
	session.groups = map[string][]echo.MiddlewareFunc{}    // for session.unrouted
	logout := compressed.with(limitLoginBody, login, csrf) // bounded before CSRF reads the form
	api := compressed.with(login, unsafeOnly(csrf))        // machines: no CSRF cookie on reads
	admin := session.with(adminOnlyPage, auth.RequireAdmin())
	session.unrouted()

	page, o := s.page, &s.opts
	hosts := &hostsHandler{pageKit: page, latest: o.Store, history: o.Store, log: o.Logger, localHost: o.LocalHost, systemInterval: o.SystemInterval, refresh: o.Refresh}
	keys := &keysHandler{pageKit: page, watched: o.Redis, history: o.Store, retention: o.Retention, log: o.Logger,
		trends: keytrend.New(o.Store, keytrend.Options{TTL: o.Refresh, SparkPoints: components.SparklineMaxPoints})}
	overview := &overviewHandler{pageKit: page, instances: o.Redis, alerts: o.Alerts, hosts: hosts, keys: keys, refresh: o.Refresh}
	redis := &redisHandler{pageKit: page, instances: o.Redis, refresh: o.Refresh}
	alerts := &alertsHandler{pageKit: page, alerts: o.Alerts, notifiers: o.Notifiers, log: o.Logger, now: time.Now, canSilence: canSilence}
	settings := &settingsHandler{pageKit: page, settings: o.Settings, redis: o.Redis, latest: o.Store}
	status := &statusHandler{pageKit: page, redis: o.Redis, hosts: hosts, recentErrors: o.RecentErrors,
		requests: selfmon.NewRequestCache(o.Store, statusRequestWindow, statusRequestsRefresh, isTargetReport)}
	if o.Health != nil {
		status.health = o.Health
	}
	status.phases, _ = o.Redis.(samplerPhases) // *redis.Manager; a test's fake may have none
	health := &healthHandler{health: o.Health}
	explore := &exploreHandler{pageKit: page}
	metrics := &metricsHandler{latest: o.Store}
	apis := &apiHandler{instances: o.Redis, keys: o.Redis}
	query := &queryHandler{store: o.Store, latest: o.Store, retention: o.Retention, queries: s.queries, log: o.Logger}
	query.engine, _ = o.Store.(metricsQL) // a test's fake store has none
	if o.Engine != nil {
		query.engine = o.Engine
		if o.Engine.Where() != "local" {
			query.remoteCharts = o.Engine // storage.remote: charts read the shared history too
		}
	}
	lh := &loginHandler{pageKit: page, users: o.Users, sessions: liveSessions{o.Sessions, o.Users}, limiter: limiter, isTLS: s.tls.isTLS, log: o.Logger}

	// Health: JSON, with and without the trailing slash.
	healthGroup.both("/health", health.showLive)
	healthGroup.both("/health/ready", health.showReady)
	healthGroup.both("/health/db", health.showDB)
	public.both("/health/targets", health.showTargets) // may list many targets: compressed
	public.both("/health/redis/:name", health.showRedisHealth)
	assetFiles.GET("/assets/*", echo.WrapHandler(assets.Handler()))

	publicPage.GET("/login", lh.showLogin)
	publicPage.POST("/login", lh.submitLogin)
	logout.POST("/logout", lh.submitLogout)

	session.GET("/", overview.showOverview)
	session.GET("/redis/:name", redis.showRedisInstance)
	session.GET("/keys", keys.showKeyList)
	session.GET("/keys/:id", keys.showKeyDetail)
	session.GET("/hosts", hosts.showHostList)
	session.GET("/hosts/:host", hosts.showHostDetail)
	session.GET("/alerts", alerts.showAlerts)
	session.GET("/status", status.showStatus)
	session.GET("/explore", explore.showExplore)
	admin.POST("/alerts/silences", alerts.createSilence)
	admin.POST("/alerts/silences/:id/expire", alerts.expireSilence)

	// /settings and its forms (settings*.go): admin only, viewers get 403 on every route.
	//
	//	/settings                                the page
	//	/settings/instances                      add an instance
	//	/settings/instances/:name                edit it (a UI instance)
	//	/settings/instances/:name/{pause,resume,delete}
	//	/settings/instances/:name/keys           add a key or pattern to any instance
	//	/settings/keys/:id                       edit a UI key
	//	/settings/keys/:id/{pause,resume,delete}
	//	/settings/rules                          add an alert rule
	//	/settings/rules/:name                    edit it (a UI rule)
	//	/settings/rules/:name/{pause,resume,delete}
	//
	// The forms answer 303 to /settings?<done>=<kind>:<name> (done: added, saved, paused,
	// resumed, deleted), or re-render the page: 422 with the problems next to their fields,
	// 500 when the change could not be saved.
	admin.GET("/settings", settings.showSettings)
	admin.GET("/debug/pprof/*", showPprof) // Go profiles (debug_pprof.go)
	admin.notFound("/settings/*")
	form := admin.with(settings.needSettings)
	form.POST("/settings/instances", settings.addInstance)
	form.POST("/settings/instances/:name", settings.editInstance)
	form.POST("/settings/instances/:name/pause", settings.pauseInstance(true))
	form.POST("/settings/instances/:name/resume", settings.pauseInstance(false))
	form.POST("/settings/instances/:name/delete", settings.deleteInstance)
	form.POST("/settings/instances/:name/keys", settings.addKey)
	form.POST("/settings/keys/:id", settings.editKey)
	form.POST("/settings/keys/:id/pause", settings.pauseKey(true))
	form.POST("/settings/keys/:id/resume", settings.pauseKey(false))
	form.POST("/settings/keys/:id/delete", settings.deleteKey)
	form.POST("/settings/rules", settings.addRule)
	form.POST("/settings/rules/:name", settings.editRule)
	form.POST("/settings/rules/:name/pause", settings.pauseRule(true))
	form.POST("/settings/rules/:name/resume", settings.pauseRule(false))
	form.POST("/settings/rules/:name/delete", settings.deleteRule)

	api.GET("/metrics", metrics.showMetrics, s.metrics.middleware) // one at a time: each copies the latest values
	// The Prometheus API (api_query.go, api_metricsql.go): GET or POST form, behind one
	// concurrency limit and deadline.
	for path, h := range map[string]echo.HandlerFunc{
		"/api/v1/series":             query.listSeries,
		"/api/v1/query":              query.instantQuery,
		"/api/v1/query_range":        query.queryRange,
		"/api/v1/labels":             query.listLabels,
		"/api/v1/label/:name/values": query.listLabelValues,
		"/api/v1/metadata":           query.listMetadata,
		"/api/v1/export":             query.exportSeries,
	} {
		api.GET(path, h, s.queries.middleware)
		api.POST(path, h, s.queries.middleware)
	}
	api.GET("/api/v1/status/buildinfo", query.buildInfo)
	api.GET("/api/instances", apis.listInstances)
	api.GET("/api/keys", apis.listKeys)
	api.GET("/api/alerts", alerts.listAlerts)

	// Writes: ingest token, no login.
	if in := s.opts.Ingest; in != nil {
		token.POST("/api/v1/write", in.RemoteWrite)
		token.POST("/write", in.InfluxWrite)
		token.POST("/api/v2/write", in.InfluxWrite)
		public.GET("/ping", in.Ping) // as InfluxDB's
		public.HEAD("/ping", in.Ping)
	}
}

// routeGroup registers routes with the middleware of one access group (see routes).
type routeGroup struct {
	e  *echo.Echo
	mw []echo.MiddlewareFunc
	// groups, when set, holds the middleware of the routes of this group and of those made
	// from it (with), by route path: for the requests with a method they have no route for
	// (unrouted).
	groups map[string][]echo.MiddlewareFunc
}

// with returns a group that runs g's middleware, then mw.
func (g routeGroup) with(mw ...echo.MiddlewareFunc) routeGroup {
	return routeGroup{e: g.e, mw: append(append([]echo.MiddlewareFunc(nil), g.mw...), mw...), groups: g.groups}
}

func (g routeGroup) add(method, path string, h echo.HandlerFunc, mw []echo.MiddlewareFunc) {
	if g.groups != nil {
		g.groups[path] = g.mw
	}
	g.e.Add(method, path, h, append(append([]echo.MiddlewareFunc(nil), g.mw...), mw...)...)
}

func (g routeGroup) GET(path string, h echo.HandlerFunc, mw ...echo.MiddlewareFunc) {
	g.add(http.MethodGet, path, h, mw)
}

func (g routeGroup) HEAD(path string, h echo.HandlerFunc, mw ...echo.MiddlewareFunc) {
	g.add(http.MethodHead, path, h, mw)
}

func (g routeGroup) POST(path string, h echo.HandlerFunc, mw ...echo.MiddlewareFunc) {
	g.add(http.MethodPost, path, h, mw)
}

// notFound answers 404 to unknown paths under path after g's middleware (which may ask for a
// login or refuse a viewer first).
func (g routeGroup) notFound(path string) {
	g.e.RouteNotFound(path, notFound, g.mw...)
}

func notFound(echo.Context) error { return echo.ErrNotFound }

// unrouted answers, after g's middleware (a login first), the requests no more specific
// route or notFound takes, which echo gives to a RouteNotFound handler on /* rather than answer
// 405 itself: a path that has routes for other methods gets 405 with an Allow header (OPTIONS:
// 204 with it), recorded under their path, as echo answers without that handler, and after
// the middleware of those routes' group too when it is g or one made from it (admin: a viewer
// gets 403); any other path 404.
func (g routeGroup) unrouted() {
	g.e.RouteNotFound("/*", func(c echo.Context) error {
		allow, route := allowedMethods(g.e, c.Request())
		if route == "" {
			return applyMiddleware(notFound, g.mw)(c)
		}
		c.SetPath(route)
		mw, ok := g.groups[route]
		if !ok {
			mw = g.mw
		}
		return applyMiddleware(func(c echo.Context) error {
			c.Response().Header().Set(echo.HeaderAllow, allow)
			if c.Request().Method == http.MethodOptions {
				return c.NoContent(http.StatusNoContent)
			}
			return echo.ErrMethodNotAllowed
		}, mw)(c)
	})
}

// allowedMethods returns the Allow header for req's path, as echo words it, and the path of
// the route found for the other methods ("": none).
func allowedMethods(e *echo.Echo, req *http.Request) (allow, route string) {
	routes := map[string]bool{} // "GET /keys/:id"; without the RouteNotFound handlers
	for _, r := range e.Routes() {
		routes[r.Method+" "+r.Path] = true
	}
	allow = http.MethodOptions
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost} { // echo's order
		probe := e.NewContext(nil, nil)
		e.Router().Find(m, echo.GetPath(req), probe)
		if p := probe.Path(); m != req.Method && routes[m+" "+p] {
			allow, route = allow+", "+m, p
		}
	}
	return allow, route
}

// applyMiddleware wraps h in mw, the first outermost.
func applyMiddleware(h echo.HandlerFunc, mw []echo.MiddlewareFunc) echo.HandlerFunc {
	for i := len(mw) - 1; i >= 0; i-- {
		h = mw[i](h)
	}
	return h
}

// both registers a GET route with and without a trailing slash.
func (g routeGroup) both(path string, h echo.HandlerFunc) {
	g.GET(path, h)
	g.GET(path+"/", h)
}

// unsafeOnly applies mw to requests with unsafe methods only (POST and the like): GETs of the
// machine endpoints get no CSRF cookie they would never use.
func unsafeOnly(mw echo.MiddlewareFunc) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		wrapped := mw(next)
		return func(c echo.Context) error {
			switch c.Request().Method {
			case http.MethodGet, http.MethodHead:
				return next(c)
			}
			return wrapped(c)
		}
	}
}
