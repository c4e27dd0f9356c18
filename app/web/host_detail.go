package web

import "github.com/labstack/echo/v4"

// showHostDetail is not built yet (issue 4).
func (s *Server) showHostDetail(c echo.Context) error { return echo.ErrNotImplemented }
