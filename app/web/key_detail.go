package web

import "github.com/labstack/echo/v4"

// showKeyDetail is not built yet (issue 4).
func (s *Server) showKeyDetail(c echo.Context) error { return echo.ErrNotImplemented }
