package web

import "github.com/labstack/echo/v4"

// showStatus is not built yet (issue 4).
func (s *Server) showStatus(c echo.Context) error { return echo.ErrNotImplemented }
