package selfmon

import (
	"context"
	"errors"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redwatch/redwatch/tsdb"
)

// memReader is an in-memory RequestReader: Raw answers the points of its series in
// [start, end] that the selector matches, and records each call. Safe for concurrent use.
type memReader struct {
	mu     sync.Mutex
	series []tsdb.Series
	latest []tsdb.LatestValue
	err    error
	calls  []rawCall
}

type rawCall struct{ start, end time.Time }

func (m *memReader) Raw(_ context.Context, sel *tsdb.Selector, start, end time.Time) ([]tsdb.Series, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls = append(m.calls, rawCall{start, end})
	if m.err != nil {
		return nil, m.err
	}
	var out []tsdb.Series
	for _, s := range m.series {
		if !sel.Matches(s.Name, s.Labels) {
			continue
		}
		c := tsdb.Series{Name: s.Name, Labels: s.Labels}
		for _, p := range s.Points {
			if p.Timestamp >= start.UnixMilli() && p.Timestamp <= end.UnixMilli() {
				c.Points = append(c.Points, p)
			}
		}
		out = append(out, c)
	}
	return out, nil
}

func (m *memReader) LatestByName(name string) []tsdb.LatestValue {
	var out []tsdb.LatestValue
	for _, lv := range m.latest {
		if lv.Name == name {
			out = append(out, lv)
		}
	}
	return out
}

func (m *memReader) set(series []tsdb.Series, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.series, m.err = series, err
}

func (m *memReader) callCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.calls)
}

// RequestStats reads the request series from counterBaseline before the window to its end,
// and only them: an older point, and a series of another name, are not counted.
func TestRequestStatsReadsTheWindowAndItsBaseline(t *testing.T) {
	t.Parallel()
	to := time.Date(2026, 5, 2, 0, 0, 0, 0, time.UTC)
	from := to.Add(-24 * time.Hour)
	series := append(requestFixture(from),
		tsdb.Series{Name: "redwatch_http_requests_total", Labels: []tsdb.Label{{Name: "code", Value: "500"}, {Name: "route", Value: "/keys"}},
			Points: []tsdb.Point{{Timestamp: from.Add(-6 * time.Hour).UnixMilli(), Value: 1000}}}, // before the baseline: an older process
		tsdb.Series{Name: "redwatch_http_requests_other", Labels: []tsdb.Label{{Name: "code", Value: "500"}, {Name: "route", Value: "/keys"}},
			Points: []tsdb.Point{{Timestamp: from.Add(time.Hour).UnixMilli(), Value: 1000}}})
	r := &memReader{series: series}
	st, err := RequestStats(t.Context(), r, from, to, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := computeRequestStats(requestFixture(from), from, nil); st.Requests != 230 || st.Errors != 20 || st.P95Seconds != want.P95Seconds || len(st.Routes) != 2 {
		t.Errorf("stats %+v, want those of the fixture: %+v", st, want)
	}
	if want := (rawCall{from.Add(-counterBaseline), to}); len(r.calls) != 1 || r.calls[0] != want {
		t.Errorf("Raw calls %v, want one over %v", r.calls, want)
	}

	r.set(nil, errors.New("storage is closed"))
	if _, err := RequestStats(t.Context(), r, from, to, nil); err == nil || !strings.Contains(err.Error(), "cannot read the request series: storage is closed") {
		t.Errorf("error %v", err)
	}
}

// The stats are computed once per refresh for every caller: a second call within that time
// returns the first result, a later one reads anew; a failure is not kept.
func TestRequestCache(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 2, 0, 0, 0, 0, time.UTC)
	r := &memReader{}
	c := NewRequestCache(r, 24*time.Hour, 30*time.Second, nil)
	get := func(at time.Time, wantRequests float64, wantAt time.Time, wantCalls int) {
		t.Helper()
		st, computed, err := c.Stats(t.Context(), at)
		if err != nil || st.Requests != wantRequests || !computed.Equal(wantAt) || r.callCount() != wantCalls {
			t.Fatalf("Stats at %v: %v requests computed at %v (%v), %d reads; want %v at %v, %d reads", at, st.Requests, computed, err, r.callCount(), wantRequests, wantAt, wantCalls)
		}
	}
	later := now.Add(30 * time.Second)
	day := requestFixture(later.Add(-24 * time.Hour)) // 230 requests in the day before later
	get(now, 0, now, 1)
	r.set(day, nil)
	get(now.Add(time.Second), 0, now, 1) // cached
	get(now.Add(29*time.Second), 0, now, 1)
	get(later, 230, later, 2)
	get(now, 230, now, 3) // the clock went back: computed anew

	r.set(nil, errors.New("storage is closed"))
	failed := now.Add(time.Minute)
	if _, at, err := c.Stats(t.Context(), failed); err == nil || !at.Equal(failed) {
		t.Fatalf("Stats with storage failing: %v at %v", err, at)
	}
	r.set(day, nil)
	get(failed.Add(time.Second), 230, failed.Add(time.Second), 5) // the failure was not cached
}

func TestRouteP95(t *testing.T) {
	t.Parallel()
	lv := func(route, q string, v float64) tsdb.LatestValue {
		return tsdb.LatestValue{Name: "redwatch_http_request_duration_seconds", Labels: []tsdb.Label{{Name: "quantile", Value: q}, {Name: "route", Value: route}}, Value: v}
	}
	r := &memReader{latest: []tsdb.LatestValue{lv("/keys", "0.5", 0.001), lv("/keys", "0.95", 0.003), lv("/status", "0.99", 0.2), lv("/", "0.95", 0),
		{Name: "redwatch_http_request_duration_seconds_sum", Labels: []tsdb.Label{{Name: "quantile", Value: "0.95"}, {Name: "route", Value: "/x"}}, Value: 9}}}
	got := NewRequestCache(r, time.Hour, time.Minute, nil).RouteP95()
	if want := map[string]float64{"/keys": 0.003, "/": 0}; !maps.Equal(got, want) {
		t.Fatalf("RouteP95 = %v, want %v", got, want)
	}
}
