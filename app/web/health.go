package web

import (
	"github.com/labstack/echo/v4"

	"github.com/redwatch/redwatch/app/health"
)

// healthHandler serves /health and its reports.
type healthHandler struct {
	opts *Options
}

func verbose(c echo.Context) bool {
	_, ok := c.QueryParams()["verbose"]
	return ok
}

func writeReport(c echo.Context, r health.Report) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(r.Code, r.Body)
}

// showLive answers /health/: the process is alive.
func (s *healthHandler) showLive(c echo.Context) error {
	return writeReport(c, s.opts.Health.Live(verbose(c)))
}

// showReady answers /health/ready/: storage writable, free space, samplers running.
func (s *healthHandler) showReady(c echo.Context) error {
	return writeReport(c, s.opts.Health.Ready(c.Request().Context(), verbose(c)))
}

// showDB answers /health/db/: the embedded storage.
func (s *healthHandler) showDB(c echo.Context) error {
	return writeReport(c, s.opts.Health.DB(c.Request().Context(), verbose(c)))
}

// showTargets answers /health/targets/: every watched Redis and host.
func (s *healthHandler) showTargets(c echo.Context) error {
	return writeReport(c, s.opts.Health.TargetsReport(verbose(c)))
}

// showRedisHealth answers /health/redis/{name}/.
func (s *healthHandler) showRedisHealth(c echo.Context) error {
	return writeReport(c, s.opts.Health.Target("redis", c.Param("name"), verbose(c)))
}
