package web

import (
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/redwatch/redwatch/views/layouts"
	"github.com/redwatch/redwatch/views/pages"
)

// showHostDetail renders /hosts/{host}: the host's live panel, the range picker and charts of
// CPU, load, memory, swap, disk and network over ?range= (or ?from=&to=). ?fragment=host-panel
// answers with only the polled panel. An unknown host is a 404; a bad range a 400.
func (s *hostsHandler) showHostDetail(c echo.Context) error {
	host, ok := s.knownHost(c.Param("host"))
	if !ok {
		return s.notFound(c, "There is no host named “"+host+"”.")
	}
	now := time.Now()
	panel := s.hostPanel(host, now)
	panel.PollURL = pages.HostURL(host) + "?fragment=" + pages.FragmentHostDetailPanel
	p := pages.HostDetailProps{
		Layout: s.layoutProps(c, "Host "+host, layouts.NavHosts),
		Host:   host,
		Source: panel.Source,
		Panel:  panel,
	}
	if c.QueryParam("fragment") == pages.FragmentHostDetailPanel {
		return renderFragment(c, pages.HostDetail(p), pages.FragmentHostDetailPanel)
	}
	r, err := pageRange(c.QueryParams(), now)
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, err.Error())
	}
	p.Range = rangePicker(pages.HostURL(host), c.QueryParams(), r)
	p.RangeSeconds = r.Seconds()
	if !r.Live {
		p.Start, p.End = r.Start.Unix(), r.End.Unix()
	}
	return render(c, http.StatusOK, pages.HostDetail(p))
}

// knownHost finds the host named by a path parameter among the known hosts, trying it also
// path-unescaped (echo leaves %2F and the like escaped). It returns the unescaped name either way.
func (s *hostsHandler) knownHost(param string) (string, bool) {
	names := s.hostNames()
	if slices.Contains(names, param) {
		return param, true
	}
	if u, err := url.PathUnescape(param); err == nil {
		return u, slices.Contains(names, u)
	}
	return param, false
}
