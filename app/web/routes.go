package web

import (
	"github.com/labstack/echo/v4"

	"github.com/redwatch/redwatch/app/auth"
	"github.com/redwatch/redwatch/assets"
)

// routes is the one route table. Login is enforced for every route by auth.Middleware, except
// the paths auth.PublicPath lists (/health/*, /login, /assets/*).
func (s *Server) routes() {
	e := s.e
	e.Pre(s.recoverPanics, requestIDMiddleware, s.accessLog)
	e.Use(securityHeaders, auth.Middleware(auth.MiddlewareConfig{
		Users:    s.opts.Users,
		Sessions: s.opts.Sessions,
		IsPublic: auth.PublicPath,
		Limiter:  s.limiter,
	}), s.csrf())

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

	e.GET("/metrics", s.showMetrics)
	e.GET("/api/v1/series", s.listSeries)
	e.GET("/api/v1/query_range", s.queryRange)
	e.GET("/api/v1/export", s.exportSeries)
}

// both registers a GET route with and without a trailing slash.
func both(e *echo.Echo, path string, h echo.HandlerFunc) {
	e.GET(path, h)
	e.GET(path+"/", h)
}
