package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/redwatch/redwatch/app/sampler/redis"
)

// apiHandler serves the JSON API: /api/instances, /api/keys, /api/alerts.
type apiHandler struct {
	opts *Options
}

// listInstances answers GET /api/instances: a JSON array of every watched instance's latest
// snapshot, sorted by name; ?name=N keeps only that instance (an empty array if unknown).
// Snapshots hold no passwords.
func (s *apiHandler) listInstances(c echo.Context) error {
	out := []redis.InstanceSnapshot{}
	if name := c.QueryParam("name"); name != "" {
		if in, ok := s.opts.Redis.Instance(name); ok {
			out = append(out, in)
		}
	} else if all := s.opts.Redis.Instances(); all != nil {
		out = all
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, out)
}
