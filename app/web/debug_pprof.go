package web

import (
	"net/http"
	"net/http/pprof"
	"strings"

	"github.com/labstack/echo/v4"
)

// showPprof serves Go's runtime profiles under /debug/pprof/ (admin group only, as
// Prometheus and VictoriaMetrics offer them): the index at /debug/pprof/, cmdline, profile
// (CPU, ?seconds=N, default 30), symbol, trace (?seconds=N) and every named profile of
// runtime/pprof (heap, allocs, goroutine, block, mutex, threadcreate; ?debug=1 for text).
// An unknown profile name answers 404, as net/http/pprof does.
func showPprof(c echo.Context) error {
	name := strings.TrimPrefix(c.Request().URL.Path, "/debug/pprof/")
	var h http.HandlerFunc
	switch name {
	case "cmdline":
		h = pprof.Cmdline
	case "profile":
		h = pprof.Profile
	case "symbol":
		h = pprof.Symbol
	case "trace":
		h = pprof.Trace
	default:
		h = pprof.Index // "" is the index; other names are runtime/pprof's profiles
	}
	h(c.Response(), c.Request())
	return nil
}
