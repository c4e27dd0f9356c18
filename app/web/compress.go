package web

import (
	"compress/gzip"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// gzipMinBytes is the smallest answer worth compressing: below about one packet gzip saves no
// round trip and costs CPU on every poll.
const gzipMinBytes = 1024

// compressResponses gzip-compresses every answer of at least gzipMinBytes to a client that
// accepts gzip: pages, the fragments htmx polls every ui.refresh, the JSON API, /metrics and
// exports (streamed answers are compressed as they are flushed). routes.go puts it on every
// route group but the assets, which assets.Handler serves precompressed, and the write
// endpoints, whose answers are a status and at most one short error line.
func compressResponses() echo.MiddlewareFunc {
	return middleware.GzipWithConfig(middleware.GzipConfig{Level: gzip.DefaultCompression, MinLength: gzipMinBytes})
}
