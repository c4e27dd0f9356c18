package web

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/redwatch/redwatch/app/buildinfo"
	"github.com/redwatch/redwatch/app/health"
	"github.com/redwatch/redwatch/app/logging"
	"github.com/redwatch/redwatch/app/remotewrite"
	"github.com/redwatch/redwatch/app/sampler/redis"
	"github.com/redwatch/redwatch/app/selfmon"
	"github.com/redwatch/redwatch/views/layouts"
	"github.com/redwatch/redwatch/views/pages"
)

// statusHandler serves /status.
type statusHandler struct {
	*pageKit
	health   healthSummary // nil: no storage report
	redis    watchedRedis  // what is watched, for the counts
	hosts    hostNamer     // the hosts with samples, for the counts
	requests requestSource // the last-24h request stats, shared by every viewer
	phases   samplerPhases // the Redis samplers' phases; nil: the table stays empty
	// recentErrors returns the last warnings and errors logged, newest first; nil: none are
	// shown.
	recentErrors func() []logging.Entry
}

// healthSummary is what /status shows of the health reports; *health.Checker is one.
type healthSummary interface {
	StartedAt() time.Time
	DB(ctx context.Context, verbose bool) health.Report[health.DBBody]
	RemoteWriteStats() (remotewrite.Stats, bool)
}

// watchedRedis is what /status counts of the watched Redis instances; RedisSource is one.
type watchedRedis interface {
	instanceLister
	watchedKeys
}

// samplerPhases gives /status the phases of each Redis instance's sampling; *redis.Manager is
// one.
type samplerPhases interface {
	Phases() []redis.InstancePhases // sorted by name
}

// hostNamer lists the hosts with samples; *hostsHandler is one.
type hostNamer interface {
	hostNames() []string
}

// requestSource gives /status its request figures; *selfmon.RequestCache is one.
type requestSource interface {
	Stats(ctx context.Context, now time.Time) (selfmon.Requests, time.Time, error)
	RouteP95() map[string]float64
}

const (
	// statusRequestWindow is the span of /status's request stats.
	statusRequestWindow = 24 * time.Hour
	// statusRequestsRefresh is how often /status polls its request stats: they come from 24 h
	// of stored series, and change slowly. They are computed at most this often.
	statusRequestsRefresh = 30 * time.Second
	maxStatusRoutes       = 10 // routes listed in the request stats
	maxStatusErrors       = 50 // log entries listed
)

// showStatus renders /status: uptime and version, storage, counts, the samplers' phases,
// last-24h request stats and the last warnings and errors.
// ?fragment=status-summary|status-sampling|status-requests|status-errors answers
// with only that polled part (and computes only that).
func (s *statusHandler) showStatus(c echo.Context) error {
	now := time.Now()
	ctx := c.Request().Context()
	p := pages.StatusProps{Layout: s.layoutProps(c, "Status", layouts.NavStatus)}
	frag := c.QueryParam("fragment")
	switch frag {
	case "", pages.FragmentStatusSummary, pages.FragmentStatusSampling, pages.FragmentStatusRequests, pages.FragmentStatusErrors:
	default:
		return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("fragment: %q is not one of %s, %s, %s, %s", frag,
			pages.FragmentStatusSummary, pages.FragmentStatusSampling, pages.FragmentStatusRequests, pages.FragmentStatusErrors))
	}
	if frag == "" || frag == pages.FragmentStatusSummary {
		p.Summary = s.statusSummary(ctx, now)
	}
	if frag == "" || frag == pages.FragmentStatusSampling {
		p.Sampling = s.statusSampling()
	}
	if frag == "" || frag == pages.FragmentStatusRequests {
		p.Requests = s.statusRequests(ctx, now)
	}
	if frag == "" || frag == pages.FragmentStatusErrors {
		p.Errors = s.statusErrors()
	}
	if frag != "" {
		return renderFragment(c, pages.Status(p), frag)
	}
	return render(c, http.StatusOK, pages.Status(p))
}

func statusPollURL(fragment string) string { return "/status?fragment=" + fragment }

// statusSummary gathers the process, storage and counts part of /status. Storage figures come
// from the same report as /health/db/ (which measures latency and walks the data directory).
func (s *statusHandler) statusSummary(ctx context.Context, now time.Time) pages.StatusSummaryProps {
	bi := buildinfo.Get()
	p := pages.StatusSummaryProps{
		PollURL: statusPollURL(pages.FragmentStatusSummary),
		Now:     now, Version: bi.Version, Commit: bi.Commit, GoVersion: bi.GoVersion,
	}
	p.Counts.Series, p.Counts.SamplesWritten = -1, -1
	if h := s.health; h != nil {
		p.Started = h.StartedAt()
		db := h.DB(ctx, true).Body
		p.Storage = storageStatus(db)
		if db.Series != nil {
			p.Counts.Series = float64(*db.Series)
		}
		if db.SamplesWritten != nil {
			p.Counts.SamplesWritten = float64(*db.SamplesWritten)
		}
		if st, ok := h.RemoteWriteStats(); ok {
			p.RemoteWrite = &pages.StatusRemoteWrite{
				URL: st.URL, State: st.State, Since: st.Since, LastSuccess: st.LastSuccess,
				Error: st.LastError, Queue: st.QueueSamples, Sent: st.Sent, Failed: st.Failed, Dropped: st.Dropped,
			}
		}
	} else {
		p.Storage.Error = "no storage report"
	}
	for _, in := range s.redis.Instances() {
		p.Counts.RedisTotal++
		if in.Up {
			p.Counts.RedisUp++
		}
	}
	p.Counts.Keys = len(s.redis.Keys())
	p.Counts.Patterns = len(s.redis.Patterns())
	p.Counts.Hosts = len(s.hosts.hostNames())
	return p
}

// storageStatus is the storage card of /status from the /health/db/ report. Its sizes are
// known when the report holds the storage's stats (Series is set with them).
func storageStatus(db health.DBBody) pages.StatusStorage {
	st := pages.StatusStorage{
		OK:        db.Status == "ok" || db.Status == "read_only", // read-only: its own badge
		Error:     db.Error,
		Engine:    db.Engine,
		Version:   db.Version,
		LatencyMs: db.LatencyMs,
		Known:     db.Series != nil,
	}
	if st.Known {
		st.Series, st.Rows = float64(*db.Series), float64(*db.Rows)
		st.DiskUsedBytes, st.DiskFreeBytes = float64(*db.DiskUsedBytes), float64(*db.DiskFreeBytes)
		st.ReadOnly = *db.ReadOnly
	}
	return st
}

// statusSampling is the phases table: each Redis instance's phases that ran, as its
// redwatch_sampler_duration_seconds and redwatch_sampler_overruns_total series report them.
func (s *statusHandler) statusSampling() pages.StatusSamplingProps {
	p := pages.StatusSamplingProps{PollURL: statusPollURL(pages.FragmentStatusSampling)}
	if s.phases == nil {
		return p
	}
	for _, in := range s.phases.Phases() {
		if len(in.Phases) == 0 {
			continue
		}
		sm := pages.StatusSampler{Name: "redis:" + in.Name}
		for _, ph := range in.Phases {
			sm.Phases = append(sm.Phases, pages.StatusPhase{
				Phase: ph.Phase.String(), LastSeconds: ph.Last.Seconds(), MeanSeconds: ph.Mean().Seconds(),
				MaxSeconds: ph.Max.Seconds(), IntervalSeconds: ph.Interval.Seconds(), Runs: ph.Runs, Overruns: ph.Overruns,
			})
		}
		p.Samplers = append(p.Samplers, sm)
	}
	return p
}

// statusErrors lists the last warnings and errors, newest first.
func (s *statusHandler) statusErrors() pages.StatusErrorsProps {
	p := pages.StatusErrorsProps{PollURL: statusPollURL(pages.FragmentStatusErrors)}
	if s.recentErrors == nil {
		return p
	}
	p.Enabled = true
	entries := s.recentErrors()
	for _, e := range entries[:min(len(entries), maxStatusErrors)] {
		p.Entries = append(p.Entries, pages.StatusLogEntry{Time: e.Time, Level: e.Level, Logger: e.Logger, Message: e.Msg, Attrs: e.Attrs})
	}
	return p
}

// statusRequests shows the request stats of the last statusRequestWindow.
func (s *statusHandler) statusRequests(ctx context.Context, now time.Time) pages.StatusRequestsProps {
	p := pages.StatusRequestsProps{
		PollURL:   statusPollURL(pages.FragmentStatusRequests),
		RefreshMs: int(statusRequestsRefresh.Milliseconds()),
		Window:    "24 h",
	}
	st, at, err := s.requests.Stats(ctx, now)
	p.ComputedAt = at
	if err != nil {
		p.Error = err.Error()
		return p
	}
	p.Requests, p.Errors, p.ErrorRate = st.Requests, st.Errors, st.ErrorRate()
	p.AvgKnown, p.AvgSeconds = st.Observed > 0, st.AvgSeconds()
	p.P95Known, p.P95Seconds = st.P95Known, st.P95Seconds
	p95Now := s.requests.RouteP95()
	for _, r := range st.Routes[:min(len(st.Routes), maxStatusRoutes)] {
		v, ok := p95Now[r.Route]
		p.Routes = append(p.Routes, pages.StatusRoute{
			Route: r.Route, Requests: r.Requests, Errors: r.Errors, ErrorRate: r.ErrorRate(),
			P95NowSeconds: v, P95NowKnown: ok,
		})
	}
	return p
}
