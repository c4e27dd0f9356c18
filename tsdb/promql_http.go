package tsdb

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/VictoriaMetrics/VictoriaMetrics/app/vmselect/prometheus"
	"github.com/VictoriaMetrics/VictoriaMetrics/lib/httputil"
)

// The Prometheus HTTP API over MetricsQL: VictoriaMetrics' own handlers, which read their
// parameters from r (r.FormValue: the URL query and a POST form body) and write the Prometheus
// JSON answer to w themselves. Each returns nil once it has answered; an error when it has
// not written anything (nearly always: see WroteAnswer), which the caller turns into the
// Prometheus error shape: of ErrBadQuery's kind for a bad parameter or expression, a
// *LimitError for a bound, an error wrapping context.DeadlineExceeded past
// Options.MaxQueryDuration (or the request's smaller timeout parameter), ErrClosed. The caller
// bounds how many run at once. Safe for concurrent use.

// ServeQuery answers /api/v1/query (query, time, step, timeout; MetricsQL).
func (db *DB) ServeQuery(w http.ResponseWriter, r *http.Request) error {
	if _, err := positiveDuration(r, "step"); err != nil {
		return err
	}
	return db.serve(r, func(now time.Time) error { return prometheus.QueryHandler(nil, now, w, r) })
}

// ServeQueryRange answers /api/v1/query_range (query, start, end, step, timeout; MetricsQL).
// start defaults to an hour before end, end to now, step to 1/250 of the range (at least 1 s).
func (db *DB) ServeQueryRange(w http.ResponseWriter, r *http.Request) error {
	now := time.Now()
	endMs, err := httputil.GetTime(r, "end", now.UnixMilli())
	if err != nil {
		return &badQueryError{fmt.Errorf("end: %w", err)}
	}
	startMs, err := httputil.GetTime(r, "start", endMs-time.Hour.Milliseconds())
	if err != nil {
		return &badQueryError{fmt.Errorf("start: %w", err)}
	}
	start, end := time.UnixMilli(startMs), time.UnixMilli(endMs)
	step, err := positiveDuration(r, "step")
	if err != nil {
		return err
	}
	if step == 0 {
		// Prometheus requires step; a friendly default keeps ~250 points.
		step = max(end.Sub(start)/250, time.Second).Round(time.Second)
		r.Form.Set("step", fmt.Sprintf("%dms", step.Milliseconds()))
	}
	if r.FormValue("start") == "" {
		r.Form.Set("start", strconv.FormatFloat(float64(startMs)/1e3, 'f', -1, 64))
	}
	if err := checkRange(start, end, step); err != nil {
		return err
	}
	return db.serve(r, func(now time.Time) error { return prometheus.QueryRangeHandler(nil, now, w, r) })
}

// ServeLabels answers /api/v1/labels (match[], start, end, limit).
func (db *DB) ServeLabels(w http.ResponseWriter, r *http.Request) error {
	return db.serve(r, func(now time.Time) error { return prometheus.LabelsHandler(nil, now, w, r) })
}

// ServeLabelValues answers /api/v1/label/<name>/values (match[], start, end, limit).
func (db *DB) ServeLabelValues(w http.ResponseWriter, r *http.Request, name string) error {
	return db.serve(r, func(now time.Time) error { return prometheus.LabelValuesHandler(nil, now, name, w, r) })
}

// serve runs one VictoriaMetrics handler over db, its errors made ours.
func (db *DB) serve(r *http.Request, handler func(now time.Time) error) error {
	if err := r.ParseForm(); err != nil {
		return &badQueryError{fmt.Errorf("cannot read form: %w", err)}
	}
	timeout := db.opts.MaxQueryDuration
	if d, err := positiveDuration(r, "timeout"); err != nil {
		return err
	} else if d > 0 {
		timeout = min(timeout, d)
	}
	// The engine knows no context: its deadline is the timeout parameter, the request's own
	// deadline when that is sooner.
	ctx := r.Context()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("query stopped: %w", err)
	}
	if d, ok := ctx.Deadline(); ok && time.Until(d) < timeout {
		timeout = time.Until(d)
		r.Form.Set("timeout", strconv.FormatFloat(max(timeout.Seconds(), 0.001), 'f', 3, 64))
	}
	err := db.withEngine(func() error { return handler(time.Now()) })
	if err != nil {
		return db.engineError(err, timeout)
	}
	return nil
}

// positiveDuration reads the duration parameter name (seconds or a duration such as 15s);
// 0 when it is absent. VictoriaMetrics panics on a step that is not positive.
func positiveDuration(r *http.Request, name string) (time.Duration, error) {
	if r.FormValue(name) == "" {
		return 0, nil
	}
	ms, err := httputil.GetDuration(r, name, 0)
	if err != nil {
		return 0, &badQueryError{fmt.Errorf("%s: %w", name, err)}
	}
	if ms <= 0 {
		return 0, &badQueryError{fmt.Errorf("%s: %q is not a positive duration or number of seconds", name, r.FormValue(name))}
	}
	return time.Duration(ms) * time.Millisecond, nil
}
