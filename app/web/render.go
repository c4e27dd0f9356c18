package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/redwatch/redwatch/app/auth"
	"github.com/redwatch/redwatch/assets"
	"github.com/redwatch/redwatch/views/layouts"
	"github.com/redwatch/redwatch/views/pages"
)

// pageKit is what every page handler shares: the layout (nav, refresh interval, assets) and
// the error pages. Handlers embed it.
type pageKit struct {
	refresh time.Duration // how often live panels poll
	redis   RedisSource   // the nav's Redis menu
}

// layoutProps fills the layout for the logged-in user (if any) of c.
func (s *pageKit) layoutProps(c echo.Context, title, nav string) layouts.Props {
	p := layouts.Props{
		Title:     title,
		CSRFToken: auth.CSRFToken(c),
		RefreshMs: int(s.refresh.Milliseconds()),
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

// notFound answers 404: for browsers an error page with msg, for API clients JSON.
func (s *pageKit) notFound(c echo.Context, msg string) error {
	if !strings.Contains(c.Request().Header.Get(echo.HeaderAccept), "text/html") || c.Request().Header.Get("HX-Request") != "" {
		return echo.NewHTTPError(http.StatusNotFound, msg)
	}
	p := s.errorPage(c, http.StatusNotFound, msg)
	p.Message = msg
	return render(c, http.StatusNotFound, pages.Error(p))
}

// errorPage words an error for people: 404s say the page does not exist (yet), server errors
// never show internals.
func (s *pageKit) errorPage(c echo.Context, code int, msg string) pages.ErrorProps {
	p := pages.ErrorProps{Layout: s.layoutProps(c, http.StatusText(code), ""), Code: code, Title: http.StatusText(code), Message: msg}
	switch {
	case code == http.StatusNotFound:
		p.Title = "Page not found"
		p.Message = "There is no page at " + c.Request().URL.Path + "."
	case code >= 500:
		p.Message = "Something went wrong on the server. The error is in redwatch's log with request id " + requestID(c) + "."
	}
	return p
}

// instanceNames lists the watched instances' names, sorted.
func (s *pageKit) instanceNames() []string {
	ins := s.redis.Instances()
	names := make([]string, len(ins))
	for i := range ins {
		names[i] = ins[i].Name
	}
	return names
}
