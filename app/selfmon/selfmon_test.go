package selfmon_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/redwatch/redwatch/app/selfmon"
	"github.com/redwatch/redwatch/tsdb"
)

// fakeStore records what is written. Safe for concurrent use.
type fakeStore struct {
	mu      sync.Mutex
	writes  [][]tsdb.Sample
	written uint64
	series  int
	dropped map[string]uint64
	err     error
}

var _ selfmon.Store = (*fakeStore)(nil)

func (s *fakeStore) Write(samples []tsdb.Sample) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	s.writes = append(s.writes, samples)
	s.written += uint64(len(samples))
	return nil
}

func (s *fakeStore) SamplesWritten() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.written
}

func (s *fakeStore) LatestCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.series
}

func (s *fakeStore) SeriesDropped() map[string]uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dropped
}

func (s *fakeStore) Writes() [][]tsdb.Sample {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]tsdb.Sample(nil), s.writes...)
}

// key renders a sample's series as name{a="1",b="2"} with labels sorted, for lookups.
func key(name string, labels ...tsdb.Label) string {
	ls := append([]tsdb.Label(nil), labels...)
	sort.Slice(ls, func(i, j int) bool { return ls[i].Name < ls[j].Name })
	var b strings.Builder
	b.WriteString(name)
	if len(ls) > 0 {
		b.WriteByte('{')
		for i, l := range ls {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "%s=%q", l.Name, l.Value)
		}
		b.WriteByte('}')
	}
	return b.String()
}

// byKey indexes samples by series, failing on duplicates.
func byKey(t *testing.T, samples []tsdb.Sample) map[string]tsdb.Sample {
	t.Helper()
	m := make(map[string]tsdb.Sample, len(samples))
	for _, s := range samples {
		k := key(s.Name, s.Labels...)
		if _, dup := m[k]; dup {
			t.Fatalf("series %s appears twice", k)
		}
		m[k] = s
	}
	return m
}

func lbl(name, value string) tsdb.Label { return tsdb.Label{Name: name, Value: value} }

func TestSamples(t *testing.T) {
	st := selfmon.New()
	// 1..100 ms on one route, in shuffled order, all 200.
	for i := range 100 {
		ms := (i*37)%100 + 1
		st.ObserveRequest("/metrics", 200, time.Duration(ms)*time.Millisecond)
	}
	st.ObserveRequest("/redis/:name", 200, 3*time.Millisecond)
	st.ObserveRequest("/redis/:name", 404, 5*time.Millisecond)
	st.ObserveRequest("/redis/:name", 404, 7*time.Millisecond)
	st.AddSampler("host", func() time.Duration { return 120 * time.Millisecond })
	st.AddSampler("redis:cache", func() time.Duration { return time.Second })
	st.AddSampler("redis:cache", func() time.Duration { return 2 * time.Second }) // registering again replaces
	members := map[string][]selfmon.Phase{"a": {{Name: "info", Last: 3 * time.Second}, {Name: "keys", Last: 1500 * time.Millisecond, Overruns: 2}}}
	st.AddSamplerGroup("group:", func() map[string][]selfmon.Phase { return members })

	store := &fakeStore{written: 12345, series: 678, dropped: map[string]uint64{tsdb.DropReasonHourlyLimit: 40, tsdb.DropReasonDailyLimit: 2}}
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	samples := st.Samples(now, store)
	m := byKey(t, samples)

	for _, s := range samples {
		if s.Timestamp != now.UnixMilli() {
			t.Errorf("%s: timestamp %d, want %d", key(s.Name, s.Labels...), s.Timestamp, now.UnixMilli())
		}
		if !strings.HasPrefix(s.Name, "redwatch_") {
			t.Errorf("%s: not a redwatch_ series", s.Name)
		}
		if math.IsNaN(s.Value) || math.IsInf(s.Value, 0) || s.Value < 0 {
			t.Errorf("%s: value %v", key(s.Name, s.Labels...), s.Value)
		}
	}

	exact := func(k string, want float64) {
		t.Helper()
		s, ok := m[k]
		if !ok {
			t.Errorf("missing %s", k)
			return
		}
		if s.Value != want {
			t.Errorf("%s = %v, want %v", k, s.Value, want)
		}
	}
	near := func(k string, want, tol float64) {
		t.Helper()
		s, ok := m[k]
		if !ok {
			t.Errorf("missing %s", k)
			return
		}
		if math.Abs(s.Value-want) > tol {
			t.Errorf("%s = %v, want %v ± %v", k, s.Value, want, tol)
		}
	}

	exact(key("redwatch_http_requests_total", lbl("route", "/metrics"), lbl("code", "200")), 100)
	exact(key("redwatch_http_requests_total", lbl("route", "/redis/:name"), lbl("code", "200")), 1)
	exact(key("redwatch_http_requests_total", lbl("route", "/redis/:name"), lbl("code", "404")), 2)

	// Quantiles of 1..100 ms, nearest rank: p50 is the 50th value, p99 the 99th.
	q := func(route, quantile string) string {
		return key("redwatch_http_request_duration_seconds", lbl("route", route), lbl("quantile", quantile))
	}
	near(q("/metrics", "0.5"), 0.050, 1e-9)
	near(q("/metrics", "0.9"), 0.090, 1e-9)
	near(q("/metrics", "0.95"), 0.095, 1e-9)
	near(q("/metrics", "0.99"), 0.099, 1e-9)
	if p50, p90, p95, p99 := m[q("/metrics", "0.5")].Value, m[q("/metrics", "0.9")].Value, m[q("/metrics", "0.95")].Value, m[q("/metrics", "0.99")].Value; !(p50 <= p90 && p90 <= p95 && p95 <= p99 && p99 <= 0.100) {
		t.Errorf("quantiles not ordered or above the max: p50=%v p90=%v p95=%v p99=%v", p50, p90, p95, p99)
	}
	// Quantiles are per route, not per code: three observations 3, 5, 7 ms.
	for _, qq := range []string{"0.5", "0.9", "0.95", "0.99"} {
		s, ok := m[q("/redis/:name", qq)]
		if !ok || s.Value < 0.003 || s.Value > 0.007 {
			t.Errorf("%s = %v (present %v), want within the observed 3..7ms", q("/redis/:name", qq), s.Value, ok)
		}
	}

	exact(key("redwatch_sampler_duration_seconds", lbl("sampler", "host")), 0.12)
	exact(key("redwatch_sampler_duration_seconds", lbl("sampler", "redis:cache")), 2)
	// A group's members: one duration and one overrun counter per phase, none without phase.
	exact(key("redwatch_sampler_duration_seconds", lbl("sampler", "group:a"), lbl("phase", "info")), 3)
	exact(key("redwatch_sampler_duration_seconds", lbl("sampler", "group:a"), lbl("phase", "keys")), 1.5)
	exact(key("redwatch_sampler_overruns_total", lbl("sampler", "group:a"), lbl("phase", "info")), 0)
	exact(key("redwatch_sampler_overruns_total", lbl("sampler", "group:a"), lbl("phase", "keys")), 2)
	if s, ok := m[key("redwatch_sampler_duration_seconds", lbl("sampler", "group:a"))]; ok {
		t.Errorf("a group member has a phase-less duration %v; want only the phase series", s.Value)
	}
	exact(key("redwatch_samples_written_total"), 12345)
	exact(key("redwatch_series"), 678)
	exact(key("redwatch_series_dropped_total", lbl("reason", tsdb.DropReasonHourlyLimit)), 40)
	exact(key("redwatch_series_dropped_total", lbl("reason", tsdb.DropReasonDailyLimit)), 2)

	if runtime.GOOS == "linux" {
		rss, ok := m[key("redwatch_process_resident_memory_bytes")]
		if !ok || rss.Value < 1<<20 {
			t.Errorf("redwatch_process_resident_memory_bytes = %v (present %v), want > 1 MiB", rss.Value, ok)
		}
	}

	// The histogram across routes: 103 requests, 1..100 ms on /metrics plus 3, 5, 7 ms.
	exact(key("redwatch_http_request_duration_seconds_count"), 103)
	near(key("redwatch_http_request_duration_seconds_sum"), 5.050+0.015, 1e-9)
	exact(key("redwatch_http_request_duration_seconds_bucket", lbl("le", "0.005")), 5+2) // 1..5 ms, 3 and 5 ms
	exact(key("redwatch_http_request_duration_seconds_bucket", lbl("le", "0.1")), 103)
	exact(key("redwatch_http_request_duration_seconds_bucket", lbl("le", "+Inf")), 103)

	// Exactly these series and no others: 3 request counters, 2 routes × 4 quantiles, 12
	// buckets, sum and count, the error ratio, 2 samplers, a group member's 2 phases × (duration
	// and overruns), written, series, 2 dropped, rss.
	want := 3 + 8 + 12 + 2 + 1 + 2 + 4 + 5
	if runtime.GOOS != "linux" {
		want--
	}
	if len(samples) != want {
		t.Errorf("%d samples, want %d:\n%v", len(samples), want, samples)
	}
}

func TestSamplesEmpty(t *testing.T) {
	samples := selfmon.New().Samples(time.Unix(1, 0), &fakeStore{})
	m := byKey(t, samples)
	for _, k := range []string{"redwatch_samples_written_total", "redwatch_series"} {
		if s, ok := m[k]; !ok || s.Value != 0 {
			t.Errorf("%s = %v (present %v), want 0", k, s.Value, ok)
		}
	}
	// The histogram is written from the start, at 0, so a restart shows as a drop to 0; the
	// per-route series appear with their first request.
	hist := 0
	for _, s := range samples {
		switch {
		case s.Name == "redwatch_http_error_ratio":
			if s.Value != 0 {
				t.Errorf("error ratio %v before any request, want 0", s.Value)
			}
		case strings.HasPrefix(s.Name, "redwatch_http_request_duration_seconds_"):
			hist++
			if s.Value != 0 {
				t.Errorf("%s = %v before any request, want 0", key(s.Name, s.Labels...), s.Value)
			}
		case strings.HasPrefix(s.Name, "redwatch_http_") || s.Name == "redwatch_sampler_duration_seconds":
			t.Errorf("unexpected %s before any observation", key(s.Name, s.Labels...))
		}
	}
	if hist != 12+2 {
		t.Errorf("%d histogram series before any request, want 12 buckets + sum + count", hist)
	}
}

// TestHistogram checks the bucket, sum and count series after observed requests: buckets are
// cumulative and inclusive of their upper bound (le), across all routes and codes.
func TestHistogram(t *testing.T) {
	les := []string{"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"}
	for _, tc := range []struct {
		name    string
		observe []time.Duration
		buckets []float64 // cumulative, in les order
		sum     float64   // seconds
	}{
		{"none", nil, []float64{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 0},
		{"on a bound", []time.Duration{5 * time.Millisecond}, []float64{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, 0.005},
		{"just above a bound", []time.Duration{5*time.Millisecond + time.Microsecond}, []float64{0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, 0.005001},
		{"zero", []time.Duration{0}, []float64{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, 0},
		{"spread", []time.Duration{time.Millisecond, 20 * time.Millisecond, 300 * time.Millisecond, 3 * time.Second},
			[]float64{1, 1, 2, 2, 2, 2, 3, 3, 3, 4, 4, 4}, 3.321},
		{"above the last bound", []time.Duration{11 * time.Second, time.Minute}, []float64{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}, 71},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := selfmon.New()
			for i, d := range tc.observe {
				// Routes and codes do not matter to the histogram.
				st.ObserveRequest(fmt.Sprintf("/r%d", i%2), 200+i*100, d)
			}
			m := byKey(t, st.Samples(time.Unix(100, 0), &fakeStore{}))
			for i, le := range les {
				k := key("redwatch_http_request_duration_seconds_bucket", lbl("le", le))
				if got, ok := m[k]; !ok || got.Value != tc.buckets[i] {
					t.Errorf("%s = %v (present %v), want %v", k, got.Value, ok, tc.buckets[i])
				}
			}
			if got := m["redwatch_http_request_duration_seconds_count"].Value; got != float64(len(tc.observe)) {
				t.Errorf("count = %v, want %d", got, len(tc.observe))
			}
			if got := m["redwatch_http_request_duration_seconds_sum"].Value; math.Abs(got-tc.sum) > 1e-9 {
				t.Errorf("sum = %v, want %v", got, tc.sum)
			}
		})
	}
}

// TestQuantileWindow checks that quantiles follow recent requests: after many slow requests,
// a run of fast ones longer than the window makes every quantile fast.
func TestQuantileWindow(t *testing.T) {
	st := selfmon.New()
	for range 5000 {
		st.ObserveRequest("/", 200, time.Second)
	}
	for range 5000 {
		st.ObserveRequest("/", 200, time.Millisecond)
	}
	m := byKey(t, st.Samples(time.Now(), &fakeStore{}))
	for _, q := range []string{"0.5", "0.9", "0.95", "0.99"} {
		k := key("redwatch_http_request_duration_seconds", lbl("route", "/"), lbl("quantile", q))
		if v := m[k].Value; v != 0.001 {
			t.Errorf("%s = %v, want 0.001", k, v)
		}
	}
	if v := m[key("redwatch_http_requests_total", lbl("route", "/"), lbl("code", "200"))].Value; v != 10000 {
		t.Errorf("requests_total = %v, want 10000 (counters are not windowed)", v)
	}
}

// TestConcurrent observes from many goroutines while Samples runs; run it with -race.
func TestConcurrent(t *testing.T) {
	st := selfmon.New()
	store := &fakeStore{}
	const (
		workers = 16
		each    = 2000
	)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var sampled sync.WaitGroup
	sampled.Add(1)
	go func() {
		defer sampled.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := store.Write(st.Samples(time.Now(), store)); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for w := range workers {
		wg.Go(func() {
			route := fmt.Sprintf("/r%d", w%4)
			for i := range each {
				st.ObserveRequest(route, 200+(w/4)%2, time.Duration(i%100+1)*time.Millisecond)
				if i%100 == 0 {
					d := time.Duration(i) * time.Microsecond
					st.AddSampler(fmt.Sprintf("s%d", w%3), func() time.Duration { return d })
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	sampled.Wait()

	m := byKey(t, st.Samples(time.Now(), store))
	var total float64
	for _, s := range m {
		if s.Name == "redwatch_http_requests_total" {
			total += s.Value
		}
	}
	if total != workers*each {
		t.Fatalf("requests_total sums to %v, want %d", total, workers*each)
	}
	for r := range 4 {
		for _, code := range []string{"200", "201"} {
			k := key("redwatch_http_requests_total", lbl("route", fmt.Sprintf("/r%d", r)), lbl("code", code))
			if m[k].Value != workers/4/2*each {
				t.Errorf("%s = %v, want %d", k, m[k].Value, workers/4/2*each)
			}
		}
	}
	for s := range 3 {
		if _, ok := m[key("redwatch_sampler_duration_seconds", lbl("sampler", fmt.Sprintf("s%d", s)))]; !ok {
			t.Errorf("sampler s%d missing", s)
		}
	}
	if len(store.Writes()) == 0 {
		t.Fatal("Samples never ran during the observations")
	}
}

func TestSamplerRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := selfmon.New()
		st.ObserveRequest("/", 200, time.Millisecond)
		store := &fakeStore{series: 7}
		s := &selfmon.Sampler{Stats: st, Store: store, Interval: 10 * time.Second, Logger: slog.New(slog.DiscardHandler)}
		ctx, cancel := context.WithCancel(t.Context())
		start := time.Now()
		done := make(chan struct{})
		go func() {
			defer close(done)
			s.Run(ctx)
		}()

		// One write at once, before the first tick.
		synctest.Wait()
		w := store.Writes()
		if len(w) != 1 {
			t.Fatalf("%d writes on start, want 1", len(w))
		}
		m := byKey(t, w[0])
		if s, ok := m["redwatch_series"]; !ok || s.Value != 7 || s.Timestamp != start.UnixMilli() {
			t.Fatalf("first write: redwatch_series %+v (present %v)", s, ok)
		}

		// Then one per Interval, stamped with the tick's time.
		time.Sleep(s.Interval - time.Nanosecond)
		synctest.Wait()
		if n := len(store.Writes()); n != 1 {
			t.Fatalf("%d writes before the first interval ended, want 1", n)
		}
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		time.Sleep(2 * s.Interval)
		synctest.Wait()
		w = store.Writes()
		if len(w) != 4 {
			t.Fatalf("%d writes after 3 intervals, want 4", len(w))
		}
		for i, samples := range w {
			want := start.Add(time.Duration(i) * s.Interval).UnixMilli()
			if samples[0].Timestamp != want {
				t.Errorf("write %d stamped %d, want %d", i, samples[0].Timestamp, want)
			}
		}
		// The second write counts the samples of the first.
		if v := byKey(t, w[1])["redwatch_samples_written_total"].Value; v != float64(len(w[0])) {
			t.Errorf("samples_written_total in write 1 = %v, want %d", v, len(w[0]))
		}

		// Cancel: Run returns without another write.
		cancel()
		synctest.Wait()
		select {
		case <-done:
		default:
			t.Fatal("Run did not return after ctx was cancelled")
		}
		if n := len(store.Writes()); n != 4 {
			t.Fatalf("%d writes after cancel, want 4", n)
		}
	})
}

func TestSamplerRunCancelledBeforeStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := &fakeStore{}
		s := &selfmon.Sampler{Stats: selfmon.New(), Store: store, Interval: time.Minute, Logger: slog.New(slog.DiscardHandler)}
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		s.Run(ctx) // returns at once (in fake time) after writing once
		if n := len(store.Writes()); n != 1 {
			t.Fatalf("%d writes, want 1", n)
		}
	})
}

func TestSamplerRunLogsWriteErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var buf bytes.Buffer
		log := slog.New(slog.NewTextHandler(&lockedWriter{mu: &mu, w: &buf}, nil))
		store := &fakeStore{err: errors.New("disk full")}
		s := &selfmon.Sampler{Stats: selfmon.New(), Store: store, Interval: time.Second, Logger: log}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() {
			defer close(done)
			s.Run(ctx)
		}()
		time.Sleep(1500 * time.Millisecond)
		synctest.Wait()
		cancel()
		<-done
		mu.Lock()
		out := buf.String()
		mu.Unlock()
		if n := strings.Count(out, "disk full"); n != 2 {
			t.Fatalf("want the error logged once per failed write (2), got %d:\n%s", n, out)
		}
		if !strings.Contains(out, "level=WARN") {
			t.Fatalf("write errors should be warnings:\n%s", out)
		}
	})
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// redwatch_http_error_ratio is the share of 5xx answers over the last five minutes of Samples
// calls, 0 without requests.
func TestErrorRatio(t *testing.T) {
	st := selfmon.New()
	t0 := time.Date(2026, 3, 4, 5, 0, 0, 0, time.UTC)
	ratio := func(at time.Duration) float64 {
		t.Helper()
		return byKey(t, st.Samples(t0.Add(at), &fakeStore{}))["redwatch_http_error_ratio"].Value
	}
	if r := ratio(0); r != 0 {
		t.Fatalf("no requests: %v", r)
	}
	for i := range 10 {
		code := 200
		if i < 3 {
			code = 502
		}
		st.ObserveRequest("/", code, time.Millisecond)
	}
	if r := ratio(10 * time.Second); r != 0.3 {
		t.Fatalf("3 of 10 failed: %v", r)
	}
	// Ten good requests later the window still holds the failures.
	for range 10 {
		st.ObserveRequest("/", 200, time.Millisecond)
	}
	if r := ratio(time.Minute); r != 0.15 {
		t.Fatalf("3 of 20 failed: %v", r)
	}
	// Past five minutes only the newer requests count.
	for range 5 {
		st.ObserveRequest("/", 200, time.Millisecond)
	}
	if r := ratio(6 * time.Minute); r != 0 {
		t.Fatalf("the failures are older than the window: %v", r)
	}
	if r := ratio(12 * time.Minute); r != 0 {
		t.Fatalf("no requests in the window: %v", r)
	}
}

// A report (a health endpoint's 503 about a watched Redis that is down) is a request like
// any other in redwatch_http_requests_total{code="503"}, never an error in the ratio.
func TestErrorRatioLeavesReportsOut(t *testing.T) {
	st := selfmon.New()
	t0 := time.Date(2026, 3, 4, 5, 0, 0, 0, time.UTC)
	st.Samples(t0, &fakeStore{})
	for range 90 {
		st.ObserveReport("/health/targets/", 503, time.Millisecond)
	}
	for range 8 {
		st.ObserveRequest("/", 200, time.Millisecond)
	}
	st.ObserveRequest("/health/ready/", 503, time.Millisecond)
	st.ObserveRequest("/", 500, time.Millisecond)
	m := byKey(t, st.Samples(t0.Add(10*time.Second), &fakeStore{}))
	if r := m["redwatch_http_error_ratio"].Value; r != 0.02 {
		t.Fatalf("ratio %v, want 2 errors of 100 requests = 0.02", r)
	}
	if n := m[key("redwatch_http_requests_total", tsdb.Label{Name: "route", Value: "/health/targets/"}, tsdb.Label{Name: "code", Value: "503"})].Value; n != 90 {
		t.Fatalf("requests_total{code=503} = %v, want 90", n)
	}
	if n := m["redwatch_http_request_duration_seconds_count"].Value; n != 100 {
		t.Fatalf("duration count %v, want 100", n)
	}
}

// A source registered with AddSource is asked at every Samples call for that call's time, and
// its series come out with redwatch's own.
func TestSamplesOfSources(t *testing.T) {
	st := selfmon.New()
	var asked []time.Time
	st.AddSource(func(now time.Time) []tsdb.Sample {
		asked = append(asked, now)
		return []tsdb.Sample{{Name: "redwatch_ingest_rejected_total", Labels: []tsdb.Label{{Name: "reason", Value: "busy"}}, Timestamp: now.UnixMilli(), Value: 3}}
	})
	for _, at := range []time.Time{time.Unix(10, 0), time.Unix(20, 0)} {
		m := byKey(t, st.Samples(at, &fakeStore{}))
		s, ok := m[key("redwatch_ingest_rejected_total", tsdb.Label{Name: "reason", Value: "busy"})]
		if !ok || s.Value != 3 || s.Timestamp != at.UnixMilli() {
			t.Fatalf("source's sample at %v: %+v (present %v)", at, s, ok)
		}
		if _, ok := m["redwatch_series"]; !ok {
			t.Fatal("redwatch's own series missing beside the source's")
		}
	}
	if len(asked) != 2 || !asked[1].Equal(time.Unix(20, 0)) {
		t.Fatalf("source asked at %v, want once per Samples call with its time", asked)
	}
}
