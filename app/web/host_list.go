package web

import "github.com/labstack/echo/v4"

// showHostList is not built yet (issue 4).
func (s *Server) showHostList(c echo.Context) error { return echo.ErrNotImplemented }
