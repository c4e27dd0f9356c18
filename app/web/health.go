package web

import (
	"context"

	"github.com/labstack/echo/v4"

	"github.com/redwatch/redwatch/app/health"
)

// healthReports computes the health answers; *health.Checker is one.
type healthReports interface {
	Live(verbose bool) health.Report[health.LiveBody]
	Ready(ctx context.Context, verbose bool) health.Report[health.ReadyBody]
	DB(ctx context.Context, verbose bool) health.Report[health.DBBody]
	TargetsReport(verbose bool) health.Report[health.TargetsBody]
	Target(kind, name string, verbose bool) (health.Report[health.TargetStatus], bool)
}

// healthHandler serves /health and its reports.
type healthHandler struct {
	health healthReports
}

func verbose(c echo.Context) bool {
	_, ok := c.QueryParams()["verbose"]
	return ok
}

func writeReport[B any](c echo.Context, r health.Report[B]) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(r.Code, r.Body)
}

// showLive answers /health/: the process is alive.
func (s *healthHandler) showLive(c echo.Context) error {
	return writeReport(c, s.health.Live(verbose(c)))
}

// showReady answers /health/ready/: storage writable, free space, samplers running.
func (s *healthHandler) showReady(c echo.Context) error {
	return writeReport(c, s.health.Ready(c.Request().Context(), verbose(c)))
}

// showDB answers /health/db/: the embedded storage.
func (s *healthHandler) showDB(c echo.Context) error {
	return writeReport(c, s.health.DB(c.Request().Context(), verbose(c)))
}

// showTargets answers /health/targets/: every watched Redis and host.
func (s *healthHandler) showTargets(c echo.Context) error {
	return writeReport(c, s.health.TargetsReport(verbose(c)))
}

// showRedisHealth answers /health/redis/{name}/; 404 for a name that is not watched.
func (s *healthHandler) showRedisHealth(c echo.Context) error {
	name := c.Param("name")
	if r, ok := s.health.Target("redis", name, verbose(c)); ok {
		return writeReport(c, r)
	}
	return writeReport(c, health.Unknown("redis", name))
}
