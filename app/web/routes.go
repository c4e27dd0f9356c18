package web

import (
	"github.com/labstack/echo/v4"

	"github.com/redwatch/redwatch/app/auth"
	"github.com/redwatch/redwatch/assets"
)

// routes is the one route table. Login is enforced for every route by auth.Middleware, except
// the paths auth.PublicPath lists (/health/*, /login, /assets/*, and the write endpoints of
// auth.TokenAuthPath, which check an ingest token themselves and are exempt from CSRF).
func (s *Server) routes() {
	e := s.e
	e.Pre(s.recoverPanics, requestIDMiddleware, s.accessLog)
	e.Use(compressResponses(), s.securityHeaders, limitLoginBody, auth.Middleware(auth.MiddlewareConfig{
		Users:    s.opts.Users,
		Sessions: s.opts.Sessions,
		IsPublic: auth.PublicPath,
		Limiter:  s.limiter,
	}), except(auth.TokenAuthPath, s.csrf()))

	// Health: public, JSON, with and without the trailing slash.
	for _, p := range []string{"/health", "/health/"} {
		e.GET(p, s.showLive)
	}
	both(e, "/health/ready", s.showReady)
	both(e, "/health/db", s.showDB)
	both(e, "/health/targets", s.showTargets)
	both(e, "/health/redis/:name", s.showRedisHealth)

	e.GET("/assets/*", echo.WrapHandler(assets.Handler()))

	e.GET("/login", s.showLogin)
	e.POST("/login", s.submitLogin)
	e.POST("/logout", s.submitLogout)

	e.GET("/", s.showOverview)
	e.GET("/redis/:name", s.showRedisInstance)
	e.GET("/keys", s.showKeyList)
	e.GET("/keys/:id", s.showKeyDetail)
	e.GET("/hosts", s.showHostList)
	e.GET("/hosts/:host", s.showHostDetail)
	e.GET("/alerts", s.showAlerts)
	e.GET("/status", s.showStatus)
	s.settingsRoutes(e) // /settings and its forms: admin only (settings.go)

	e.GET("/metrics", s.showMetrics, s.metrics.middleware) // one at a time: each copies the latest values
	// The Prometheus API: GET or POST form, behind one concurrency limit and deadline.
	for _, r := range []struct {
		path string
		h    echo.HandlerFunc
	}{
		{"/api/v1/series", s.listSeries},
		{"/api/v1/query_range", s.queryRange},
		{"/api/v1/export", s.exportSeries},
	} {
		e.GET(r.path, r.h, s.queries.middleware)
		e.POST(r.path, r.h, s.queries.middleware)
	}
	e.GET("/api/instances", s.listInstances)
	e.GET("/api/keys", s.listKeys)
	e.GET("/api/alerts", s.listAlerts)
	e.POST("/alerts/silences", s.createSilence, adminOnlyPage, auth.RequireAdmin())
	e.POST("/alerts/silences/:id/expire", s.expireSilence, adminOnlyPage, auth.RequireAdmin())

	// Writes: ingest token, no login (auth.TokenAuthPath).
	if in := s.opts.Ingest; in != nil {
		e.POST("/api/v1/write", in.RemoteWrite)
		e.POST("/write", in.InfluxWrite)
		e.POST("/api/v2/write", in.InfluxWrite)
		e.GET("/ping", in.Ping) // public (auth.PublicPath), as InfluxDB's
		e.HEAD("/ping", in.Ping)
	}
}

// except applies mw to every request whose path does not satisfy skip.
func except(skip func(path string) bool, mw echo.MiddlewareFunc) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		wrapped := mw(next)
		return func(c echo.Context) error {
			if skip(c.Request().URL.Path) {
				return next(c)
			}
			return wrapped(c)
		}
	}
}

// both registers a GET route with and without a trailing slash.
func both(e *echo.Echo, path string, h echo.HandlerFunc) {
	e.GET(path, h)
	e.GET(path+"/", h)
}
