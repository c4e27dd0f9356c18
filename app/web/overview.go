package web

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/redwatch/redwatch/app/alert"
	"github.com/redwatch/redwatch/app/sampler/redis"
	"github.com/redwatch/redwatch/views/layouts"
	"github.com/redwatch/redwatch/views/pages"
	"github.com/redwatch/redwatch/views/partials"
)

// instanceLister lists the watched instances' snapshots, sorted by name (RedisSource's
// Instances).
type instanceLister interface {
	Instances() []redis.InstanceSnapshot
}

// alertLister lists the pending and firing alerts (AlertSource's Alerts).
type alertLister interface {
	Alerts() []alert.Alert
}

// hostPanels builds the live panels of the known hosts; *hostsHandler is one.
type hostPanels interface {
	hostNames() []string
	hostPanel(host string, now time.Time) partials.HostPanelProps
}

// topKeysSource builds the overview's top-moving keys; *keysHandler is one.
type topKeysSource interface {
	topKeys(ctx context.Context, now time.Time) partials.TopKeysProps
}

// overviewHandler serves the overview (/): alerts, instance cards, host panels, top keys.
type overviewHandler struct {
	*pageKit
	instances instanceLister
	alerts    alertLister // read through firingAlerts
	hosts     hostPanels
	keys      topKeysSource
	refresh   time.Duration // how often the parts poll
}

// showOverview renders /, or with ?fragment=host-panel&host=H only that host's live panel, with
// ?fragment=instances only the Redis instance cards, with ?fragment=firing-alerts only the
// firing alerts, or with ?fragment=top-keys only the top-moving keys.
func (s *overviewHandler) showOverview(c echo.Context) error {
	now := time.Now()
	p := pages.OverviewProps{Layout: s.layoutProps(c, "Overview", layouts.NavOverview), Instances: s.instanceCards(now)}
	if c.QueryParam("fragment") == pages.FragmentInstances {
		return renderFragment(c, pages.Overview(p), pages.FragmentInstances)
	}
	p.Alerts = s.overviewAlerts(now)
	if c.QueryParam("fragment") == pages.FragmentOverviewAlerts {
		return renderFragment(c, pages.Overview(p), pages.FragmentOverviewAlerts)
	}
	if c.QueryParam("fragment") == pages.FragmentTopKeys {
		p.TopKeys = s.keys.topKeys(c.Request().Context(), now)
		return renderFragment(c, pages.Overview(p), pages.FragmentTopKeys)
	}
	for _, h := range s.hosts.hostNames() {
		p.Hosts = append(p.Hosts, s.hosts.hostPanel(h, now))
	}
	if c.QueryParam("fragment") == pages.FragmentHostPanel {
		host := c.QueryParam("host")
		for _, h := range p.Hosts {
			if h.Host == host {
				return renderFragment(c, pages.Overview(p), pages.HostPanelFragment(host))
			}
		}
		return echo.NewHTTPError(http.StatusNotFound, "unknown host")
	}
	p.TopKeys = s.keys.topKeys(c.Request().Context(), now)
	return render(c, http.StatusOK, pages.Overview(p))
}

// instanceCards builds the overview's Redis instance cards from the samplers' snapshots.
func (s *overviewHandler) instanceCards(now time.Time) partials.InstanceCardsProps {
	p := partials.InstanceCardsProps{
		PollURL:   "/?fragment=" + pages.FragmentInstances,
		RefreshMs: int(s.refresh.Milliseconds()),
	}
	ins := s.instances.Instances()
	for i := range ins {
		p.Cards = append(p.Cards, instanceCard(&ins[i], now))
	}
	return p
}

// overviewAlerts lists the firing alerts for the overview, unsilenced first.
func (s *overviewHandler) overviewAlerts(now time.Time) partials.OverviewAlertsProps {
	p := partials.OverviewAlertsProps{
		PollURL:   "/?fragment=" + pages.FragmentOverviewAlerts,
		RefreshMs: int(s.refresh.Milliseconds()),
		Now:       now,
	}
	for _, a := range firingAlerts(s.alerts) {
		p.Alerts = append(p.Alerts, partials.FiringAlert{Rule: a.Rule, Severity: a.Severity, Summary: a.Summary, FiredAt: a.FiredAt, Silenced: a.Silenced})
	}
	return p
}
