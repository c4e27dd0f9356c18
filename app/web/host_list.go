package web

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/redwatch/redwatch/tsdb"
	"github.com/redwatch/redwatch/views/components"
	"github.com/redwatch/redwatch/views/layouts"
	"github.com/redwatch/redwatch/views/pages"
)

// latestReader is what the host panels read: the latest-value table (*tsdb.DB's).
type latestReader interface {
	LatestOne(name string, labels ...tsdb.Label) (tsdb.LatestValue, bool)
	LatestByName(name string) []tsdb.LatestValue
}

// hostHistory reads the stored series the sparklines of /hosts draw; Store satisfies it.
type hostHistory interface {
	QueryRange(ctx context.Context, q tsdb.RangeQuery) ([]tsdb.Series, error)
}

// hostsHandler serves /hosts and /hosts/{host}, and builds the host panels of the overview.
type hostsHandler struct {
	*pageKit
	latest         latestReader
	history        hostHistory   // nil: no sparklines
	localHost      string        // this host's name, listed before its first sample
	systemInterval time.Duration // host sampling interval, for staleness
	refresh        time.Duration // how often the panels poll
	log            *slog.Logger  // nil: slog.Default()
}

// hostSparkRange is the span of the CPU sparklines of /hosts.
const hostSparkRange = time.Hour

// showHostList renders /hosts: every known host (this host first, then pushing hosts by name,
// redwatch agents and Telegraf alike) as one row of a table with its latest values and its CPU
// usage over the last hour. ?fragment=host-table answers with only the polled table.
func (s *hostsHandler) showHostList(c echo.Context) error {
	now := time.Now()
	p := pages.HostListProps{Layout: s.layoutProps(c, "Hosts", layouts.NavHosts), SparkRange: "1h", Now: now}
	sparks := s.cpuSparks(c.Request().Context(), now)
	for _, h := range s.hostNames() {
		panel := s.hostPanel(h, now)
		sp := components.SparklineProps{
			Points: sparks[h], From: now.Add(-hostSparkRange).UnixMilli(), To: now.UnixMilli(),
			Label: "CPU usage over 1h", Unit: components.UnitPercent, TestID: "host-cpu-spark",
		}
		p.Hosts = append(p.Hosts, pages.HostRow{Panel: panel, CPU: sp, Local: h == s.localHost})
	}
	if c.QueryParam("fragment") == pages.FragmentHostTable {
		return renderFragment(c, pages.HostList(p), pages.FragmentHostTable)
	}
	return render(c, http.StatusOK, pages.HostList(p))
}

// cpuSparks reads every host's CPU usage over the last hostSparkRange, one point a step of
// hostSparkRange/SparklineMaxPoints, by host: host_cpu_usage_percent, and 100 minus
// Telegraf's cpu_usage_idle of cpu-total. A failed read leaves the sparklines empty and is
// logged: the table shows the latest values regardless.
func (s *hostsHandler) cpuSparks(ctx context.Context, now time.Time) map[string][]components.SparkPoint {
	out := map[string][]components.SparkPoint{}
	if s.history == nil {
		return out
	}
	step := hostSparkRange / components.SparklineMaxPoints
	read := func(selector string, conv func(float64) float64) {
		sel, err := tsdb.ParseSelector(selector)
		if err != nil {
			panic("BUG: " + err.Error())
		}
		ss, err := s.history.QueryRange(ctx, tsdb.RangeQuery{Selector: sel, Start: now.Add(-hostSparkRange), End: now, Step: step, Agg: tsdb.AggAvg})
		if err != nil {
			s.logger().Warn("cannot read the CPU sparklines of /hosts", "selector", selector, "error", err)
			return
		}
		for _, sr := range ss {
			h := sr.Label("host")
			if h == "" || out[h] != nil {
				continue
			}
			pts := make([]components.SparkPoint, len(sr.Points))
			for i, pt := range sr.Points {
				pts[i] = components.SparkPoint{T: pt.Timestamp, V: conv(pt.Value)}
			}
			out[h] = pts
		}
	}
	read("host_cpu_usage_percent", func(v float64) float64 { return v })
	read(`cpu_usage_idle{cpu="`+telegrafCPUTotal+`"}`, func(v float64) float64 { return 100 - v })
	return out
}

func (s *hostsHandler) logger() *slog.Logger {
	if s.log == nil {
		return slog.Default()
	}
	return s.log
}
