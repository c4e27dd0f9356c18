package web

import "github.com/labstack/echo/v4"

// settingsRoutes registers /settings and its forms, admin only (not built yet, issue 4).
func (s *Server) settingsRoutes(e *echo.Echo) {}
