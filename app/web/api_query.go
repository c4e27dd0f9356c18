package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/redwatch/redwatch/app/config"
	"github.com/redwatch/redwatch/app/queryengine"
	"github.com/redwatch/redwatch/tsdb"
)

// seriesStore is the part of Store the query API and the export read.
type seriesStore interface {
	QueryRange(ctx context.Context, q tsdb.RangeQuery) ([]tsdb.Series, error)
	SeriesMatching(ctx context.Context, sel *tsdb.Selector, start, end time.Time) ([]tsdb.Series, error)
	Export(ctx context.Context, sel *tsdb.Selector, start, end time.Time, begin func(labelNames []string) error, fn func(s *tsdb.Series) error) error
}

// queryHandler serves the Prometheus query API and the export.
type queryHandler struct {
	store  seriesStore
	engine metricsQL // MetricsQL (api_metricsql.go); nil: those endpoints answer 503
	// remoteCharts, set with storage.remote, answers the agg path (the dashboard's charts) too:
	// each aggregate becomes its MetricsQL rollup over the step (aggExpr). nil: local storage.
	remoteCharts rangeExpr
	latest       latestNames   // the families /api/v1/metadata lists
	retention    time.Duration // how far back /api/v1/series looks by default; 0: 30 days
	queries      *queryGate    // for the deadline its errors name
	log          *slog.Logger  // an export cut after its answer began
}

// promError answers in the Prometheus HTTP API's error shape.
func promError(c echo.Context, code int, errType, msg string) error {
	return c.JSON(code, map[string]any{"status": "error", "errorType": errType, "error": msg})
}

// parseTime accepts unix seconds (with fractions) or RFC 3339, as Prometheus does.
func parseTime(s string, def time.Time) (time.Time, error) {
	if s == "" {
		return def, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, &paramError{"cannot parse " + strconv.Quote(s) + " as unix seconds or RFC 3339 time"}
	}
	return t, nil
}

// parseStep accepts seconds ("15", "0.5") or a duration ("15s", "1m", "1d").
func parseStep(s string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return time.Duration(f * float64(time.Second)), nil
	}
	return config.ParseDuration(s)
}

// parseRange reads the start and end parameters; end defaults to now and start to end-span.
// The error names the parameter.
func parseRange(params url.Values, span time.Duration) (start, end time.Time, err error) {
	end, err = parseTime(params.Get("end"), time.Now())
	if err != nil {
		return start, end, fmt.Errorf("end: %w", err)
	}
	start, err = parseTime(params.Get("start"), end.Add(-span))
	if err != nil {
		return start, end, fmt.Errorf("start: %w", err)
	}
	return start, end, nil
}

type paramError struct{ msg string }

func (e *paramError) Error() string { return e.msg }

func labelsJSON(name string, labels []tsdb.Label) map[string]string {
	m := make(map[string]string, len(labels)+1)
	m["__name__"] = name
	for _, l := range labels {
		m[l.Name] = l.Value
	}
	return m
}

func formatValue(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// listSeries answers GET or POST /api/v1/series?match[]=SEL&start=&end= like Prometheus. The
// selectors are read with one search, so a series any number of them match is listed once.
func (s *queryHandler) listSeries(c echo.Context) error {
	params, err := formParams(c)
	if err != nil {
		return promError(c, http.StatusBadRequest, "bad_data", err.Error())
	}
	sel, err := parseMatches(params)
	if err != nil {
		return promError(c, http.StatusBadRequest, "bad_data", err.Error())
	}
	start, end, err := parseRange(params, s.seriesSpan())
	if err != nil {
		return promError(c, http.StatusBadRequest, "bad_data", err.Error())
	}
	series, err := s.store.SeriesMatching(c.Request().Context(), sel, start, end)
	if err != nil {
		return s.queryFailed(c, http.StatusUnprocessableEntity, "execution", err)
	}
	data := make([]map[string]string, 0, len(series))
	for _, se := range series {
		data = append(data, labelsJSON(se.Name, se.Labels))
	}
	return c.JSON(http.StatusOK, map[string]any{"status": "success", "data": data})
}

// seriesSpan is how far back /api/v1/series looks without a start: the retention.
func (s *queryHandler) seriesSpan() time.Duration {
	if s.retention > 0 {
		return s.retention
	}
	return 30 * 24 * time.Hour
}

// queryRange answers GET or POST /api/v1/query_range?query=EXPR&start=&end=&step= with a
// Prometheus matrix. Without agg the query is MetricsQL (a superset of PromQL), evaluated by
// the store's engine. With agg (even empty) it is redwatch's own evaluation, which the
// dashboard's charts use: query must be a series selector and agg picks the per-step aggregate
// (avg, min, max, last, rate; empty: last) over raw samples, or over the 5-minute rollups for
// a step of 5 minutes or more. The answer is written as it is encoded, never held whole as JSON.
func (s *queryHandler) queryRange(c echo.Context) error {
	params, err := formParams(c)
	if err != nil {
		return promError(c, http.StatusBadRequest, "bad_data", err.Error())
	}
	if _, ok := params["agg"]; !ok {
		return s.runMetricsQL(c, metricsQL.ServeQueryRange)
	}
	sel, err := tsdb.ParseSelector(params.Get("query"))
	if err != nil {
		return promError(c, http.StatusBadRequest, "bad_data", "query: "+err.Error())
	}
	start, end, err := parseRange(params, time.Hour)
	if err != nil {
		return promError(c, http.StatusBadRequest, "bad_data", err.Error())
	}
	stepStr := params.Get("step")
	var step time.Duration
	if stepStr == "" {
		// Prometheus requires step; a friendly default keeps ~250 points.
		step = max(end.Sub(start)/250, time.Second).Round(time.Second)
	} else if step, err = parseStep(stepStr); err != nil || step <= 0 {
		return promError(c, http.StatusBadRequest, "bad_data", "step: "+strconv.Quote(stepStr)+" is not a positive duration or number of seconds")
	}
	agg, err := tsdb.ParseAgg(params.Get("agg"))
	if err != nil {
		return promError(c, http.StatusBadRequest, "bad_data", "agg: "+err.Error())
	}
	var series []tsdb.Series
	if s.remoteCharts != nil {
		series, err = s.remoteCharts.QueryRangeExpr(c.Request().Context(), aggExpr(params.Get("query"), agg), start, end, step)
		if errors.Is(err, queryengine.ErrUnavailable) {
			return promError(c, http.StatusServiceUnavailable, "unavailable", err.Error())
		}
	} else {
		series, err = s.store.QueryRange(c.Request().Context(), tsdb.RangeQuery{Selector: sel, Start: start, End: end, Step: step, Agg: agg})
	}
	if err != nil {
		return s.queryFailed(c, http.StatusBadRequest, "bad_data", err)
	}
	res := c.Response()
	res.Header().Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	res.WriteHeader(http.StatusOK)
	_ = writeMatrix(res, series) // an error is a client that went away
	return nil
}

// rangeExpr is the part of a query engine the agg path reads when storage.remote is set.
type rangeExpr interface {
	QueryRangeExpr(ctx context.Context, expr string, start, end time.Time, step time.Duration) ([]tsdb.Series, error)
}

// aggExpr is the MetricsQL of redwatch's per-step aggregate agg of selector: last is the
// selector itself (its last value in each step, looking back as far as the local path does),
// avg/min/max the *_over_time rollup and rate rate(), keeping the metric names as the local
// path does. The window is left to the engine, which takes max(step, the series' sampling
// interval), so a step shorter than the sampling interval has no gaps.
func aggExpr(selector string, agg tsdb.Agg) string {
	switch agg {
	case tsdb.AggAvg, tsdb.AggMin, tsdb.AggMax:
		return string(agg) + "_over_time(" + selector + ") keep_metric_names"
	case tsdb.AggRate:
		return "rate(" + selector + ") keep_metric_names"
	}
	return selector
}

// writeMatrix writes a Prometheus matrix answer to w, flushing every 64 KiB of JSON.
func writeMatrix(w io.Writer, series []tsdb.Series) error {
	b := make([]byte, 0, 80<<10)
	b = append(b, `{"status":"success","data":{"resultType":"matrix","result":[`...)
	for i, se := range series {
		if i > 0 {
			b = append(b, ',')
		}
		metric, err := json.Marshal(labelsJSON(se.Name, se.Labels))
		if err != nil {
			return fmt.Errorf("cannot encode labels: %w", err)
		}
		b = append(b, `{"metric":`...)
		b = append(b, metric...)
		b = append(b, `,"values":[`...)
		for j, p := range se.Points {
			if j > 0 {
				b = append(b, ',')
			}
			b = append(b, '[')
			b = strconv.AppendFloat(b, float64(p.Timestamp)/1e3, 'f', -1, 64)
			b = append(b, ',', '"')
			b = append(b, formatValue(p.Value)...)
			b = append(b, '"', ']')
			if len(b) >= 64<<10 {
				if _, err := w.Write(b); err != nil {
					return err
				}
				b = b[:0]
			}
		}
		b = append(b, ']', '}')
	}
	b = append(b, "]}}\n"...)
	_, err := w.Write(b)
	return err
}
