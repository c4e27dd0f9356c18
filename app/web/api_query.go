package web

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/redwatch/redwatch/app/config"
	"github.com/redwatch/redwatch/tsdb"
)

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
func parseRange(c echo.Context, span time.Duration) (start, end time.Time, err error) {
	end, err = parseTime(c.QueryParam("end"), time.Now())
	if err != nil {
		return start, end, fmt.Errorf("end: %w", err)
	}
	start, err = parseTime(c.QueryParam("start"), end.Add(-span))
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

// listSeries answers GET /api/v1/series?match[]=SEL&start=&end= like Prometheus.
func (s *Server) listSeries(c echo.Context) error {
	matches := c.QueryParams()["match[]"]
	if len(matches) == 0 {
		return promError(c, http.StatusBadRequest, "bad_data", "no match[] parameter provided")
	}
	start, end, err := parseRange(c, s.retention())
	if err != nil {
		return promError(c, http.StatusBadRequest, "bad_data", err.Error())
	}
	seen := map[string]bool{}
	data := []map[string]string{}
	for _, m := range matches {
		sel, err := tsdb.ParseSelector(m)
		if err != nil {
			return promError(c, http.StatusBadRequest, "bad_data", err.Error())
		}
		series, err := s.opts.Store.SeriesMatching(c.Request().Context(), sel, start, end)
		if err != nil {
			return promError(c, http.StatusUnprocessableEntity, "execution", err.Error())
		}
		for _, se := range series {
			lj := labelsJSON(se.Name, se.Labels)
			key := se.Name + "\x00" + seriesKeyOf(se.Labels)
			if !seen[key] {
				seen[key] = true
				data = append(data, lj)
			}
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"status": "success", "data": data})
}

func seriesKeyOf(labels []tsdb.Label) string {
	b := make([]byte, 0, 64)
	for _, l := range labels {
		b = append(b, l.Name...)
		b = append(b, 0)
		b = append(b, l.Value...)
		b = append(b, 1)
	}
	return string(b)
}

func (s *Server) retention() time.Duration {
	if s.opts.Retention > 0 {
		return s.opts.Retention
	}
	return 30 * 24 * time.Hour
}

// queryRange answers GET /api/v1/query_range?query=SEL&start=&end=&step=&agg= with a Prometheus
// matrix. Only series selectors are evaluated; agg picks the per-step aggregate (default last).
func (s *Server) queryRange(c echo.Context) error {
	q := c.QueryParam("query")
	sel, err := tsdb.ParseSelector(q)
	if err != nil {
		return promError(c, http.StatusBadRequest, "bad_data", "query: "+err.Error())
	}
	start, end, err := parseRange(c, time.Hour)
	if err != nil {
		return promError(c, http.StatusBadRequest, "bad_data", err.Error())
	}
	stepStr := c.QueryParam("step")
	var step time.Duration
	if stepStr == "" {
		// Prometheus requires step; a friendly default keeps ~250 points.
		step = max(end.Sub(start)/250, time.Second).Round(time.Second)
	} else if step, err = parseStep(stepStr); err != nil || step <= 0 {
		return promError(c, http.StatusBadRequest, "bad_data", "step: "+strconv.Quote(stepStr)+" is not a positive duration or number of seconds")
	}
	agg, err := tsdb.ParseAgg(c.QueryParam("agg"))
	if err != nil {
		return promError(c, http.StatusBadRequest, "bad_data", "agg: "+err.Error())
	}
	series, err := s.opts.Store.QueryRange(c.Request().Context(), tsdb.RangeQuery{Selector: sel, Start: start, End: end, Step: step, Agg: agg})
	if err != nil {
		return promError(c, http.StatusBadRequest, "bad_data", err.Error())
	}
	result := make([]map[string]any, 0, len(series))
	for _, se := range series {
		values := make([][2]any, len(se.Points))
		for i, p := range se.Points {
			values[i] = [2]any{float64(p.Timestamp) / 1e3, formatValue(p.Value)}
		}
		result = append(result, map[string]any{"metric": labelsJSON(se.Name, se.Labels), "values": values})
	}
	return c.JSON(http.StatusOK, map[string]any{"status": "success", "data": map[string]any{"resultType": "matrix", "result": result}})
}
