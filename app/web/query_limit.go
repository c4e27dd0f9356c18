package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/redwatch/redwatch/tsdb"
)

// QueryLimits bound the query and export handlers (/api/v1/series, /api/v1/query_range,
// /api/v1/export) together. Zero values pick the defaults.
type QueryLimits struct {
	// MaxRunning is how many requests run at once. Default 2×GOMAXPROCS, as VictoriaMetrics'
	// -search.maxConcurrentRequests: each uses about one core while it reads.
	MaxRunning int
	// MaxQueued is how many more wait for a running slot; beyond that a request gets 503 at
	// once. Default 4×MaxRunning, enough for a dashboard that loads all its charts at once.
	MaxQueued int
	// MaxWait is how long a request waits for a running slot before it gets 503. Default 10 s,
	// as VictoriaMetrics' -search.maxQueueDuration.
	MaxWait time.Duration
	// Timeout is each request's deadline once it runs: reading storage and writing the answer.
	// Default 30 s, as VictoriaMetrics' -search.maxQueryDuration.
	Timeout time.Duration
}

func (l QueryLimits) withDefaults() QueryLimits {
	if l.MaxRunning <= 0 {
		l.MaxRunning = 2 * runtime.GOMAXPROCS(0)
	}
	if l.MaxQueued <= 0 {
		l.MaxQueued = 4 * l.MaxRunning
	}
	if l.MaxWait <= 0 {
		l.MaxWait = 10 * time.Second
	}
	if l.Timeout <= 0 {
		l.Timeout = 30 * time.Second
	}
	return l
}

// queryRetryAfter is the Retry-After of a request refused by the concurrency limit, in seconds.
const queryRetryAfter = "1"

// queryGate admits at most MaxRunning requests at once and queues MaxQueued more for up to
// MaxWait; it is safe for concurrent use.
type queryGate struct {
	limits  QueryLimits
	what    string        // the endpoints it guards, for its errors
	running chan struct{} // one token per running request
	queued  chan struct{} // one token per waiting request
}

// newQueryGate returns a gate with limits l over the endpoints what names ("the query and
// export endpoints").
func newQueryGate(l QueryLimits, what string) *queryGate {
	l = l.withDefaults()
	return &queryGate{limits: l, what: what, running: make(chan struct{}, l.MaxRunning), queued: make(chan struct{}, l.MaxQueued)}
}

// metricsRunning is how many /metrics answers are built at once: each copies the latest-value
// table and sorts it, 414 MB allocated and 2 s at a million series
// (BenchmarkMetricsExposition1M), against the app's 512 MiB soft memory limit.
const metricsRunning = 1

// middleware runs next once a slot is free, with the request's context bounded by Timeout;
// a request that finds the queue full, or waits MaxWait, gets 503 with Retry-After.
func (g *queryGate) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := g.acquire(c.Request().Context()); err != nil {
			if errors.Is(err, context.Canceled) {
				return nil // the client went away while waiting
			}
			c.Response().Header().Set("Retry-After", queryRetryAfter)
			return promError(c, http.StatusServiceUnavailable, "unavailable", err.Error())
		}
		defer func() { <-g.running }()
		ctx, cancel := context.WithTimeout(c.Request().Context(), g.limits.Timeout)
		defer cancel()
		c.SetRequest(c.Request().WithContext(ctx))
		return next(c)
	}
}

// acquire takes a running slot, waiting in the queue when none is free. The caller releases
// the slot by receiving from g.running.
func (g *queryGate) acquire(ctx context.Context) error {
	select {
	case g.running <- struct{}{}:
		return nil
	default:
	}
	select {
	case g.queued <- struct{}{}:
	default:
		return fmt.Errorf("too many queries: %d running and %d waiting (the concurrency limit of %s); retry later",
			g.limits.MaxRunning, g.limits.MaxQueued, g.what)
	}
	defer func() { <-g.queued }()
	t := time.NewTimer(g.limits.MaxWait)
	defer t.Stop()
	select {
	case g.running <- struct{}{}:
		return nil
	case <-t.C:
		return fmt.Errorf("waited %s for one of the %d query slots (the concurrency limit of %s); retry later",
			g.limits.MaxWait, g.limits.MaxRunning, g.what)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// queryFailed answers a read that failed before anything was sent: a bound it hit is 422
// naming it, its deadline 503, a client that went away nothing; other errors get code.
func (s *queryHandler) queryFailed(c echo.Context, code int, errType string, err error) error {
	var le *tsdb.LimitError
	switch {
	case errors.As(err, &le):
		return promError(c, http.StatusUnprocessableEntity, "execution", err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return promError(c, http.StatusServiceUnavailable, "timeout",
			fmt.Sprintf("the query ran longer than %s (the time limit per query): select fewer series or a shorter range", s.queries.limits.Timeout))
	case errors.Is(err, context.Canceled):
		return nil
	}
	return promError(c, code, errType, err.Error())
}

// formParams returns the request's parameters: the URL query, and for POST also an
// application/x-www-form-urlencoded body, as the Prometheus API takes them.
func formParams(c echo.Context) (url.Values, error) {
	v, err := c.FormParams()
	if err != nil {
		return nil, fmt.Errorf("cannot read form: %w", err)
	}
	return v, nil
}

// parseMatches parses every match[] parameter (at least one) into one selector. Repeats of a
// text are parsed once, and tsdb.Union reads the series any of them matches once.
func parseMatches(params url.Values) (*tsdb.Selector, error) {
	matches := params["match[]"]
	if len(matches) == 0 {
		return nil, errors.New("no match[] parameter provided")
	}
	seen := make(map[string]bool, len(matches))
	sels := make([]*tsdb.Selector, 0, len(matches))
	for i, m := range matches {
		m = strings.TrimSpace(m)
		if seen[m] {
			continue
		}
		seen[m] = true
		sel, err := tsdb.ParseSelector(m)
		if err != nil {
			return nil, fmt.Errorf("match[] %d: %w", i+1, err)
		}
		sels = append(sels, sel)
	}
	return tsdb.Union(sels...), nil
}
