package web

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/redwatch/redwatch/tsdb"
	"github.com/redwatch/redwatch/views/layouts"
	"github.com/redwatch/redwatch/views/pages"
)

// latestReader is what the host pages read: the latest-value table (*tsdb.DB's), never the
// stored series.
type latestReader interface {
	LatestOne(name string, labels ...tsdb.Label) (tsdb.LatestValue, bool)
	LatestByName(name string) []tsdb.LatestValue
}

// hostsHandler serves /hosts and /hosts/{host}, and builds the host panels of the overview.
type hostsHandler struct {
	*pageKit
	latest         latestReader
	localHost      string        // this host's name, listed before its first sample
	systemInterval time.Duration // host sampling interval, for staleness
	refresh        time.Duration // how often the panels poll
}

// showHostList renders /hosts: every known host (this host first, then pushing hosts by name)
// as its live panel linking to /hosts/{host}. ?fragment=host-row&host=H answers with only that
// host's polled row; an unknown host is a 404.
func (s *hostsHandler) showHostList(c echo.Context) error {
	now := time.Now()
	p := pages.HostListProps{Layout: s.layoutProps(c, "Hosts", layouts.NavHosts)}
	names := s.hostNames()
	if c.QueryParam("fragment") == pages.FragmentHostRow {
		host := c.QueryParam("host")
		for _, h := range names {
			if h == host {
				p.Hosts = append(p.Hosts, s.hostPanel(h, now))
				return renderFragment(c, pages.HostList(p), pages.HostRowFragment(h))
			}
		}
		return echo.NewHTTPError(http.StatusNotFound, "unknown host")
	}
	for _, h := range names {
		p.Hosts = append(p.Hosts, s.hostPanel(h, now))
	}
	return render(c, http.StatusOK, pages.HostList(p))
}
