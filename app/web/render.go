package web

import (
	"net/http"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/redwatch/redwatch/app/auth"
	"github.com/redwatch/redwatch/assets"
	"github.com/redwatch/redwatch/views/layouts"
)

// layoutProps fills the layout for the logged-in user (if any) of c.
func (s *Server) layoutProps(c echo.Context, title, nav string) layouts.Props {
	p := layouts.Props{
		Title:     title,
		CSRFToken: auth.CSRFToken(c),
		RefreshMs: int(s.opts.Refresh.Milliseconds()),
		Nav:       nav,
		Assets: layouts.AssetURLs{
			AppCSS:   assets.URL("app.css"),
			AppJS:    assets.URL("app.js"),
			HTMX:     assets.URL("htmx.min.js"),
			UPlotJS:  assets.URL("uPlot.iife.min.js"),
			UPlotCSS: assets.URL("uPlot.min.css"),
		},
	}
	if u, ok := auth.UserFrom(c); ok {
		p.User = u.Name
		p.Role = string(u.Role)
		p.RedisInstances = s.instanceNames() // the nav's Redis menu; logged-out pages have no nav
	}
	return p
}

// render writes a templ component as an HTML page with the given status.
func render(c echo.Context, code int, comp templ.Component) error {
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	c.Response().Header().Set("Cache-Control", "no-store")
	c.Response().WriteHeader(code)
	return comp.Render(c.Request().Context(), c.Response())
}

// renderFragment writes only the named templ fragments of comp (for htmx polling).
func renderFragment(c echo.Context, comp templ.Component, ids ...any) error {
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	c.Response().Header().Set("Cache-Control", "no-store")
	c.Response().WriteHeader(http.StatusOK)
	return templ.RenderFragments(c.Request().Context(), c.Response(), comp, ids...)
}
