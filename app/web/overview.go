package web

import (
	"net/http"
	"net/url"
	"sort"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/redwatch/redwatch/tsdb"
	"github.com/redwatch/redwatch/views/layouts"
	"github.com/redwatch/redwatch/views/pages"
	"github.com/redwatch/redwatch/views/partials"
)

// showOverview renders /, or with ?fragment=host-panel&host=H only that host's live panel, or
// with ?fragment=instances only the Redis instance cards, with ?fragment=firing-alerts only the firing
// alerts, or with ?fragment=top-keys only the
// top-moving keys.
func (s *Server) showOverview(c echo.Context) error {
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
		p.TopKeys = s.topKeys(c.Request().Context(), now)
		return renderFragment(c, pages.Overview(p), pages.FragmentTopKeys)
	}
	for _, h := range s.hostNames() {
		p.Hosts = append(p.Hosts, s.hostPanel(h, now))
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
	p.TopKeys = s.topKeys(c.Request().Context(), now)
	return render(c, http.StatusOK, pages.Overview(p))
}

// hostNames lists hosts with samples, this host first even before its first sample.
func (s *Server) hostNames() []string {
	seen := map[string]bool{}
	var names []string
	if s.opts.LocalHost != "" {
		names = append(names, s.opts.LocalHost)
		seen[s.opts.LocalHost] = true
	}
	var others []string
	for _, lv := range s.opts.Store.LatestByName("host_up") {
		if h := lv.Label("host"); !seen[h] {
			seen[h] = true
			others = append(others, h)
		}
	}
	sort.Strings(others)
	return append(names, others...)
}

// hostPanel builds one host's panel from the latest-value table.
func (s *Server) hostPanel(host string, now time.Time) partials.HostPanelProps {
	hl := tsdb.Label{Name: "host", Value: host}
	get := func(name string) float64 {
		lv, _ := s.opts.Store.LatestOne(name, hl)
		return lv.Value
	}
	p := partials.HostPanelProps{
		Host:      host,
		PollURL:   "/?fragment=" + pages.FragmentHostPanel + "&host=" + url.QueryEscape(host),
		RefreshMs: int(s.opts.Refresh.Milliseconds()),
		Now:       now,
	}
	up, ok := s.opts.Store.LatestOne("host_up", hl)
	if !ok {
		p.Missing = true
		return p
	}
	p.UpdatedAt = up.Time()
	p.Stale = now.Sub(p.UpdatedAt) > staleAfter(s.opts.SystemInterval)
	p.CPUPercent = get("host_cpu_usage_percent")
	p.Load1, p.Load5, p.Load15 = get("host_load1"), get("host_load5"), get("host_load15")
	p.MemUsedBytes, p.MemTotalBytes = get("host_memory_used_bytes"), get("host_memory_total_bytes")
	p.MemPercent = get("host_memory_usage_percent")
	p.SwapUsedBytes = get("host_swap_used_bytes")

	byMount := map[string]*partials.DiskStat{}
	var mounts []string
	disk := func(name string, set func(d *partials.DiskStat, v float64)) {
		for _, lv := range s.opts.Store.LatestByName(name) {
			if lv.Label("host") != host {
				continue
			}
			m := lv.Label("mount")
			d := byMount[m]
			if d == nil {
				d = &partials.DiskStat{Mount: m}
				byMount[m] = d
				mounts = append(mounts, m)
			}
			set(d, lv.Value)
		}
	}
	disk("host_disk_usage_percent", func(d *partials.DiskStat, v float64) { d.Percent = v })
	disk("host_disk_used_bytes", func(d *partials.DiskStat, v float64) { d.UsedBytes = v })
	disk("host_disk_total_bytes", func(d *partials.DiskStat, v float64) { d.TotalBytes = v })
	sort.Strings(mounts)
	for _, m := range mounts {
		p.Disks = append(p.Disks, *byMount[m])
	}
	rate := func(name string) float64 {
		sum := 0.0
		for _, lv := range s.opts.Store.LatestByName(name) {
			if lv.Label("host") == host {
				if r, ok := lv.Rate(); ok {
					sum += r
				}
			}
		}
		return sum
	}
	p.NetRxBytesPerSec = rate("host_network_receive_bytes_total")
	p.NetTxBytesPerSec = rate("host_network_transmit_bytes_total")
	return p
}

// instanceCards builds the overview's Redis instance cards from the samplers' snapshots.
func (s *Server) instanceCards(now time.Time) partials.InstanceCardsProps {
	p := partials.InstanceCardsProps{
		PollURL:   "/?fragment=" + pages.FragmentInstances,
		RefreshMs: int(s.opts.Refresh.Milliseconds()),
	}
	ins := s.redisSource().Instances()
	for i := range ins {
		p.Cards = append(p.Cards, instanceCard(&ins[i], now))
	}
	return p
}

// overviewAlerts lists the firing alerts for the overview, unsilenced first.
func (s *Server) overviewAlerts(now time.Time) partials.OverviewAlertsProps {
	p := partials.OverviewAlertsProps{
		PollURL:   "/?fragment=" + pages.FragmentOverviewAlerts,
		RefreshMs: int(s.opts.Refresh.Milliseconds()),
		Now:       now,
	}
	for _, a := range s.firingAlerts() {
		p.Alerts = append(p.Alerts, partials.FiringAlert{Rule: a.Rule, Severity: a.Severity, Summary: a.Summary, FiredAt: a.FiredAt, Silenced: a.Silenced})
	}
	return p
}
