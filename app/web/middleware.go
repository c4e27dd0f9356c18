package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path"
	"runtime"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/redwatch/redwatch/app/auth"
	"github.com/redwatch/redwatch/views/pages"
)

// recoverPanics turns a handler panic into a logged 500 instead of a dropped connection.
func (s *Server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				buf := make([]byte, 8<<10)
				buf = buf[:runtime.Stack(buf, false)]
				s.opts.Logger.Error("panic in handler", "request_id", requestID(c), "path", c.Request().URL.Path, "panic", fmt.Sprint(r), "stack", string(buf))
				err = echo.NewHTTPError(http.StatusInternalServerError, "internal error")
			}
		}()
		return next(c)
	}
}

func requestID(c echo.Context) string {
	return c.Response().Header().Get(echo.HeaderXRequestID)
}

// quiet reports paths polled by machines; their access lines are logged at debug.
func quiet(path string) bool {
	return strings.HasPrefix(path, "/health") || strings.HasPrefix(path, "/assets/")
}

// reportRoutes are the routes whose 503 reports the state of a watched target (a Redis that is
// down), which is the correct answer and no failure of redwatch. /health/ready/ and
// /health/db/ are not among them: their 503 says redwatch itself (its storage, disk or
// samplers) cannot do its job.
var reportRoutes = map[string]bool{
	"/health/targets": true, "/health/targets/": true,
	"/health/redis/:name": true, "/health/redis/:name/": true,
}

// isTargetReport reports whether a request to route answered with status tells about a
// watched target rather than about redwatch: it counts among the requests but not as an
// error (selfmon.Stats.ObserveReport), and is logged as health checks are, at debug, so
// that a load balancer polling during a Redis outage neither floods the log at error nor
// pushes the real warnings out of /status's recent errors.
func isTargetReport(route string, status int) bool {
	return status == http.StatusServiceUnavailable && reportRoutes[route]
}

// accessLog logs one line per request and records it in selfmon stats. It runs outside auth so
// rejected requests are logged too; the user is read after the handler ran.
func (s *Server) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err) // writes the response, so the status below is final
		}
		req, res := c.Request(), c.Response()
		d := time.Since(start)
		route := c.Path()
		if route == "" || route == "/*" { // "/*": routes.go's answer to unknown paths
			route = "unmatched"
		}
		report := isTargetReport(route, res.Status)
		switch {
		case s.opts.Stats == nil:
		case report:
			s.opts.Stats.ObserveReport(route, res.Status, d)
		default:
			s.opts.Stats.ObserveRequest(route, res.Status, d)
		}
		user := ""
		if u, ok := auth.UserFrom(c); ok {
			user = u.Name
		}
		level := slog.LevelInfo
		switch {
		case res.Status >= 500 && !report:
			level = slog.LevelError
		case quiet(req.URL.Path):
			level = slog.LevelDebug
		}
		s.opts.Logger.LogAttrs(context.Background(), level, "request",
			slog.String("request_id", requestID(c)),
			slog.String("user", user),
			slog.String("ip", c.RealIP()),
			slog.String("method", req.Method),
			slog.String("path", req.URL.Path),
			slog.Int("status", res.Status),
			slog.Float64("duration_ms", float64(d.Microseconds())/1000),
			slog.String("user_agent", req.UserAgent()),
		)
		return nil
	}
}

// loginIfNotClean (routes.go puts it on the public routes) sends a request whose path is not
// clean, with "..", "." or empty segments as in /assets/../settings, through login before the
// handler: a public route answers no path that could name another route without a login.
func loginIfNotClean(login echo.MiddlewareFunc) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		guarded := login(next)
		return func(c echo.Context) error {
			if !isCleanPath(c.Request().URL.Path) {
				return guarded(c)
			}
			return next(c)
		}
	}
}

// isCleanPath reports whether p is what path.Clean makes of it, but for a trailing slash.
func isCleanPath(p string) bool {
	clean := path.Clean(p)
	if strings.HasSuffix(p, "/") && clean != "/" {
		clean += "/"
	}
	return clean == p
}

// hstsValue is the Strict-Transport-Security header sent over TLS: one year, this host only.
const hstsValue = "max-age=31536000"

// securityHeaders sets conservative headers on every response, and HSTS when served over TLS
// (never over plain HTTP, where browsers ignore it and it would only mislead).
func (s *Server) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		if s.tls.isTLS(c) {
			h.Set("Strict-Transport-Security", hstsValue)
		}
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'")
		return next(c)
	}
}

// tlsPolicy says which requests count as TLS: the server's own (server.tls_cert) and those
// a trusted proxy forwards as https.
type tlsPolicy struct {
	secure  bool         // serving TLS itself
	trusted []*net.IPNet // Options.TrustedProxies
}

// isTLS reports whether the request came over TLS: server.tls_cert is set, the connection is
// TLS, or a trusted proxy (server.trusted_proxies) says "X-Forwarded-Proto: https". Cookies
// get the Secure flag and responses HSTS then.
func (s tlsPolicy) isTLS(c echo.Context) bool {
	req := c.Request()
	if s.secure || req.TLS != nil {
		return true
	}
	return strings.EqualFold(req.Header.Get(echo.HeaderXForwardedProto), "https") && s.fromTrustedProxy(req)
}

// fromTrustedProxy reports whether the connection's peer is one of server.trusted_proxies.
func (s tlsPolicy) fromTrustedProxy(req *http.Request) bool {
	host, _, err := net.SplitHostPort(req.RemoteAddr)
	if err != nil {
		host = req.RemoteAddr
	}
	ip := net.ParseIP(host)
	for _, n := range s.trusted {
		if ip != nil && n.Contains(ip) {
			return true
		}
	}
	return false
}

// handleError writes errors as JSON for API clients and as short text for pages.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	code := http.StatusInternalServerError
	msg := "internal error"
	var he *echo.HTTPError
	if errors.As(err, &he) {
		code = he.Code
		msg = fmt.Sprint(he.Message)
		if he.Internal != nil && code < 500 {
			msg = fmt.Sprintf("%s: %s", msg, he.Internal)
		}
	} else {
		s.opts.Logger.Error("request failed", "request_id", requestID(c), "path", c.Request().URL.Path, "err", err)
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(code)
		return
	}
	if strings.Contains(c.Request().Header.Get(echo.HeaderAccept), "text/html") {
		_ = render(c, code, pages.Error(s.page.errorPage(c, code, msg)))
		return
	}
	_ = c.JSON(code, map[string]any{"status": "error", "error": msg})
}

var requestIDMiddleware = middleware.RequestIDWithConfig(middleware.RequestIDConfig{})
