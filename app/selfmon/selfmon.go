// Package selfmon measures redwatch itself — HTTP requests, sampler durations, samples
// written, series, resident memory — and writes those as redwatch_* series into storage on an
// interval, so they are charted, alerted on and exposed on /metrics like every other series.
// It also reads its request series back: the request stats over a window (RequestStats,
// RequestCache), as /status shows them.
package selfmon

import (
	"context"
	"log/slog"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redwatch/redwatch/tsdb"
)

// window keeps the most recent durations of one route for quantiles.
const window = 1024

type reqKey struct {
	route string
	code  int
}

type durations struct {
	buf  [window]float64 // seconds
	n    int             // values written in total
	next int
}

func (d *durations) add(v float64) {
	d.buf[d.next] = v
	d.next = (d.next + 1) % window
	d.n++
}

func (d *durations) quantiles(qs []float64) []float64 {
	n := min(d.n, window)
	vals := make([]float64, n)
	copy(vals, d.buf[:n])
	sort.Float64s(vals)
	out := make([]float64, len(qs))
	for i, q := range qs {
		if n == 0 {
			continue
		}
		// The nearest-rank quantile: the smallest value with at least q of all values at or below it.
		out[i] = vals[max(0, min(n-1, int(math.Ceil(q*float64(n)))-1))]
	}
	return out
}

// durationBuckets are the upper bounds, in seconds, of the request-duration histogram
// (redwatch_http_request_duration_seconds_bucket{le}); a last bucket le="+Inf" holds every
// request. They are Prometheus' default buckets.
var durationBuckets = [...]float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// histogram counts request durations across all routes, Prometheus-style: cumulative per bucket
// when written, since this process started.
type histogram struct {
	counts [len(durationBuckets) + 1]uint64 // per bucket, not cumulative; the last is (10s, +Inf)
	sum    float64                          // seconds
	count  uint64
}

func (h *histogram) observe(v float64) {
	i := sort.SearchFloat64s(durationBuckets[:], v) // first bound >= v: buckets are le (<=)
	h.counts[i]++
	h.sum += v
	h.count++
}

// Stats accumulates observations. Safe for concurrent use.
type Stats struct {
	mu        sync.Mutex
	requests  map[reqKey]uint64
	durations map[string]*durations
	hist      histogram
	samplers  map[string]func() time.Duration
	groups    map[string]func() map[string][]Phase
	sources   []func(now time.Time) []tsdb.Sample // AddSource
	errors    uint64                              // requests answered 5xx since start (of hist.count), reports aside
	marks     []requestMark                       // (time, total, errors) at each Samples call within errorWindow
}

// errorWindow is the span redwatch_http_error_ratio covers.
const errorWindow = 5 * time.Minute

// requestMark is the request counts at one Samples call.
type requestMark struct {
	at            time.Time
	total, errors uint64
}

// New returns empty Stats.
func New() *Stats {
	return &Stats{requests: map[reqKey]uint64{}, durations: map[string]*durations{}, samplers: map[string]func() time.Duration{},
		groups: map[string]func() map[string][]Phase{}}
}

// ObserveRequest records one served request; route is the route pattern (e.g. "/redis/:name"),
// never the raw path, so the number of series stays bounded. A 5xx answer counts as an error
// in redwatch_http_error_ratio.
func (s *Stats) ObserveRequest(route string, code int, d time.Duration) {
	s.observe(route, code, d, code >= 500)
}

// ObserveReport records one served request whose status, 5xx included, is a correct report
// about something redwatch watches, not a failure of redwatch: /health/targets/ answering 503
// because a watched Redis is down. It counts in redwatch_http_requests_total{route,code} and
// the durations like any request, never as an error in redwatch_http_error_ratio.
func (s *Stats) ObserveReport(route string, code int, d time.Duration) {
	s.observe(route, code, d, false)
}

func (s *Stats) observe(route string, code int, d time.Duration, failed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests[reqKey{route, code}]++
	if failed {
		s.errors++
	}
	w := s.durations[route]
	if w == nil {
		w = &durations{}
		s.durations[route] = w
	}
	w.add(d.Seconds())
	s.hist.observe(d.Seconds())
}

// AddSampler registers a sampler whose last round's duration is read, through lastRound, each
// time the samples are taken (the sampler owns that value; nothing copies it). lastRound must
// be safe for concurrent use; registering a name again replaces it.
func (s *Stats) AddSampler(name string, lastRound func() time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.samplers[name] = lastRound
}

// Phase is one timed part of a sampler's work (a Redis instance's info, keys or scan phase).
type Phase struct {
	Name     string        // the phase label
	Last     time.Duration // how long its latest run took
	Overruns uint64        // runs since start that did not fit their interval
}

// AddSamplerGroup registers a set of samplers that changes at run time (the Redis instances):
// phases returns each member's phases, reported as sampler=prefix+name with phase=Phase.Name.
// phases must be safe for concurrent use; registering a prefix again replaces it.
func (s *Stats) AddSamplerGroup(prefix string, phases func() map[string][]Phase) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups[prefix] = phases
}

// AddSource registers series another component keeps (ingest's refusal counters, the
// forwarder's state): every Samples call appends what source returns for its now. source must
// be safe for concurrent use; it is called without Stats' lock held.
func (s *Stats) AddSource(source func(now time.Time) []tsdb.Sample) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sources = append(s.sources, source)
}

// Store is what the sampler needs of storage; *tsdb.DB satisfies it.
type Store interface {
	Write(samples []tsdb.Sample) error
	SamplesWritten() uint64
	LatestCount() int
	// SeriesDropped is how many samples storage dropped since start because their series was
	// new and over storage.max_series, by reason (tsdb.DB.SeriesDropped).
	SeriesDropped() map[string]uint64
}

var quantiles = []float64{0.5, 0.9, 0.95, 0.99}

// Samples returns the current values as samples stamped now:
//   - redwatch_http_requests_total{route,code}: requests since this process started (a counter
//     that restarts from 0 with the process), once a route has seen a request;
//   - redwatch_http_request_duration_seconds{route,quantile}: quantiles 0.5, 0.9, 0.95 and 0.99
//     of the route's last 1024 requests (a gauge);
//   - redwatch_http_request_duration_seconds_bucket{le}, _sum and _count: a histogram of every
//     request's duration across all routes, cumulative since this process started, with the
//     bounds of durationBuckets and le="+Inf". These are written from the start, at 0 before
//     the first request, so a reader sees every restart as a drop to 0;
//   - redwatch_series_dropped_total{reason}: samples storage dropped since start because their
//     series was new and over storage.max_series (reason hourly_limit or daily_limit), written
//     from the start at 0, for the RedwatchSeriesDropped rule;
//   - redwatch_sampler_duration_seconds{sampler}: the last round of each sampler registered
//     with AddSampler (the host sampler); for a group (AddSamplerGroup, the Redis instances)
//     redwatch_sampler_duration_seconds{sampler,phase}, the last run of each phase that ran,
//     and redwatch_sampler_overruns_total{sampler,phase}, its runs that did not fit their
//     interval since this process started (from 0, with the phase's first run);
//   - redwatch_http_error_ratio: the share (0..1) of requests answered 5xx over the last
//     errorWindow (measured between calls of Samples; 0 without requests), for alert rules;
//     reports (ObserveReport) count among the requests, never among the 5xx;
//   - the series of every source registered with AddSource.
//
// Samples remembers the request counts of each call for the error ratio: call it once per
// sampling interval.
func (s *Stats) Samples(now time.Time, store Store) []tsdb.Sample {
	ts := now.UnixMilli()
	var out []tsdb.Sample
	add := func(name string, v float64, labels ...tsdb.Label) {
		out = append(out, tsdb.Sample{Name: name, Labels: labels, Timestamp: ts, Value: v})
	}
	s.mu.Lock()
	for k, n := range s.requests {
		add("redwatch_http_requests_total", float64(n), tsdb.Label{Name: "route", Value: k.route}, tsdb.Label{Name: "code", Value: strconv.Itoa(k.code)})
	}
	for route, d := range s.durations {
		for i, v := range d.quantiles(quantiles) {
			add("redwatch_http_request_duration_seconds", v, tsdb.Label{Name: "route", Value: route}, tsdb.Label{Name: "quantile", Value: strconv.FormatFloat(quantiles[i], 'f', -1, 64)})
		}
	}
	cum := uint64(0)
	for i, n := range s.hist.counts {
		cum += n
		le := "+Inf"
		if i < len(durationBuckets) {
			le = strconv.FormatFloat(durationBuckets[i], 'f', -1, 64)
		}
		add("redwatch_http_request_duration_seconds_bucket", float64(cum), tsdb.Label{Name: "le", Value: le})
	}
	add("redwatch_http_request_duration_seconds_sum", s.hist.sum)
	add("redwatch_http_error_ratio", s.errorRatio(now))
	add("redwatch_http_request_duration_seconds_count", float64(s.hist.count))
	for name, lastRound := range s.samplers {
		add("redwatch_sampler_duration_seconds", lastRound().Seconds(), tsdb.Label{Name: "sampler", Value: name})
	}
	for prefix, phases := range s.groups {
		for name, ps := range phases() {
			sampler := tsdb.Label{Name: "sampler", Value: prefix + name}
			for _, ph := range ps {
				phase := tsdb.Label{Name: "phase", Value: ph.Name}
				add("redwatch_sampler_duration_seconds", ph.Last.Seconds(), sampler, phase)
				add("redwatch_sampler_overruns_total", float64(ph.Overruns), sampler, phase)
			}
		}
	}
	sources := s.sources
	s.mu.Unlock()
	for _, source := range sources {
		out = append(out, source(now)...)
	}
	add("redwatch_samples_written_total", float64(store.SamplesWritten()))
	add("redwatch_series", float64(store.LatestCount()))
	for reason, n := range store.SeriesDropped() {
		add("redwatch_series_dropped_total", float64(n), tsdb.Label{Name: "reason", Value: reason})
	}
	if rss, ok := residentBytes(); ok {
		add("redwatch_process_resident_memory_bytes", float64(rss))
	}
	return out
}

// residentBytes reads this process's resident set size from /proc.
func residentBytes() (uint64, bool) {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0, false
	}
	pages, err := strconv.ParseUint(f[1], 10, 64)
	if err != nil {
		return 0, false
	}
	return pages * uint64(os.Getpagesize()), true
}

// Sampler writes Stats into storage every Interval.
type Sampler struct {
	Stats    *Stats
	Store    Store
	Interval time.Duration
	Logger   *slog.Logger
}

// Run writes until ctx is done.
func (s *Sampler) Run(ctx context.Context) {
	t := time.NewTicker(s.Interval)
	defer t.Stop()
	for {
		if err := s.Store.Write(s.Stats.Samples(time.Now(), s.Store)); err != nil {
			s.Logger.Warn("cannot write redwatch's own metrics", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// errorRatio returns the share of 5xx answers among the requests since the oldest mark within
// errorWindow, and records a mark for now. s.mu must be held.
func (s *Stats) errorRatio(now time.Time) float64 {
	s.marks = append(s.marks, requestMark{at: now, total: s.hist.count, errors: s.errors})
	i := 0
	for i < len(s.marks)-1 && now.Sub(s.marks[i+1].at) >= errorWindow {
		i++
	}
	s.marks = s.marks[i:]
	// The first Samples call starts from zero counts, as the process does.
	base := requestMark{}
	if now.Sub(s.marks[0].at) >= errorWindow || len(s.marks) > 1 {
		base = s.marks[0]
	}
	total := s.hist.count - base.total
	if total == 0 {
		return 0
	}
	return float64(s.errors-base.errors) / float64(total)
}
