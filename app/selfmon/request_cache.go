package selfmon

import (
	"context"
	"sync"
	"time"

	"github.com/redwatch/redwatch/tsdb"
)

// RequestReader is what RequestCache reads of storage; *tsdb.DB satisfies it.
type RequestReader interface {
	RawReader
	LatestByName(name string) []tsdb.LatestValue
}

// RequestCache serves the request figures of a page that many viewers poll (/status): the
// stats of the Window before now, computed at most once per Refresh for all of them (each
// computation reads a window of raw samples), and each route's latest p95. Safe for
// concurrent use; build it with NewRequestCache.
type RequestCache struct {
	reader   RequestReader
	window   time.Duration
	refresh  time.Duration
	isReport IsReport

	mu    sync.Mutex
	at    time.Time // when stats were computed; zero: never
	stats Requests
}

// NewRequestCache returns a cache of the request stats over window, read from r at most once
// per refresh; isReport is as for RequestStats.
func NewRequestCache(r RequestReader, window, refresh time.Duration, isReport IsReport) *RequestCache {
	return &RequestCache{reader: r, window: window, refresh: refresh, isReport: isReport}
}

// Stats returns the request stats of the window before now and when they were computed: the
// last ones if they are less than refresh old, else new ones. Concurrent callers wait for one
// computation. A failed computation is not kept: the next call tries again.
func (c *RequestCache) Stats(ctx context.Context, now time.Time) (Requests, time.Time, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at.IsZero() && !now.Before(c.at) && now.Sub(c.at) < c.refresh {
		return c.stats, c.at, nil
	}
	st, err := RequestStats(ctx, c.reader, now.Add(-c.window), now, c.isReport)
	if err != nil {
		return Requests{}, now, err
	}
	c.at, c.stats = now, st
	return st, now, nil
}

// RouteP95 returns each route's 95th percentile latency over its last 1024 requests, in
// seconds, from the latest values of redwatch_http_request_duration_seconds{route,quantile}
// (fresh ones only: a route idle for long is absent). It is not cached: the latest table is
// in memory.
func (c *RequestCache) RouteP95() map[string]float64 {
	p95 := map[string]float64{}
	for _, lv := range c.reader.LatestByName("redwatch_http_request_duration_seconds") {
		if lv.Label("quantile") == "0.95" {
			p95[lv.Label("route")] = lv.Value
		}
	}
	return p95
}
