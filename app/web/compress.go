package web

import (
	"compress/gzip"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/redwatch/redwatch/app/auth"
)

// gzipMinBytes is the smallest answer worth compressing: below about one packet gzip saves no
// round trip and costs CPU on every poll.
const gzipMinBytes = 1024

// compressResponses gzip-compresses every answer of at least gzipMinBytes to a client that
// accepts gzip: pages, the fragments htmx polls every ui.refresh, the JSON API, /metrics and
// exports (streamed answers are compressed as they are flushed). Assets are skipped, since
// assets.Handler serves them precompressed, and so are the write endpoints, whose answers are
// a status and at most one short error line.
func compressResponses() echo.MiddlewareFunc {
	return middleware.GzipWithConfig(middleware.GzipConfig{
		Skipper: func(c echo.Context) bool {
			p := c.Request().URL.Path
			return strings.HasPrefix(p, "/assets/") || auth.TokenAuthPath(p)
		},
		Level:     gzip.DefaultCompression,
		MinLength: gzipMinBytes,
	})
}
