package web

import "github.com/labstack/echo/v4"

// showAlerts is not built yet (issue 4).
func (s *Server) showAlerts(c echo.Context) error { return echo.ErrNotImplemented }
