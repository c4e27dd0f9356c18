package web

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/redwatch/redwatch/tsdb"
)

// exportSeries answers GET /api/v1/export?match[]=SEL&start=&end=&format=csv|json with raw
// samples. JSON is VictoriaMetrics' export shape: one object per line with metric, values and
// timestamps (milliseconds). CSV has a header: name,labels...,timestamp_ms,value.
func (s *Server) exportSeries(c echo.Context) error {
	matches := c.QueryParams()["match[]"]
	if len(matches) == 0 {
		return promError(c, http.StatusBadRequest, "bad_data", "no match[] parameter provided")
	}
	start, end, err := parseRange(c, 24*time.Hour)
	if err != nil {
		return promError(c, http.StatusBadRequest, "bad_data", err.Error())
	}
	format := c.QueryParam("format")
	if format == "" {
		format = "json"
	}
	if format != "json" && format != "csv" {
		return promError(c, http.StatusBadRequest, "bad_data", "format: want csv or json, got "+strconv.Quote(format))
	}
	var all []tsdb.Series
	for _, m := range matches {
		sel, err := tsdb.ParseSelector(m)
		if err != nil {
			return promError(c, http.StatusBadRequest, "bad_data", err.Error())
		}
		series, err := s.opts.Store.Raw(c.Request().Context(), sel, start, end)
		if err != nil {
			return promError(c, http.StatusUnprocessableEntity, "execution", err.Error())
		}
		all = append(all, series...)
	}
	res := c.Response()
	if format == "json" {
		res.Header().Set(echo.HeaderContentType, "application/x-ndjson")
		res.WriteHeader(http.StatusOK)
		enc := json.NewEncoder(res)
		for _, se := range all {
			ts := make([]int64, len(se.Points))
			vs := make([]float64, len(se.Points))
			for i, p := range se.Points {
				ts[i], vs[i] = p.Timestamp, p.Value
			}
			if err := enc.Encode(map[string]any{"metric": labelsJSON(se.Name, se.Labels), "values": vs, "timestamps": ts}); err != nil {
				return nil // client went away
			}
		}
		return nil
	}
	// CSV: one column per label name seen in any series, sorted.
	names := map[string]bool{}
	for _, se := range all {
		for _, l := range se.Labels {
			names[l.Name] = true
		}
	}
	cols := make([]string, 0, len(names))
	for n := range names {
		cols = append(cols, n)
	}
	sort.Strings(cols)
	res.Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	res.Header().Set(echo.HeaderContentDisposition, `attachment; filename="redwatch-export.csv"`)
	res.WriteHeader(http.StatusOK)
	w := csv.NewWriter(res)
	_ = w.Write(append(append([]string{"__name__"}, cols...), "timestamp_ms", "value"))
	row := make([]string, 0, len(cols)+3)
	for _, se := range all {
		for _, p := range se.Points {
			row = append(row[:0], se.Name)
			for _, n := range cols {
				row = append(row, se.Label(n))
			}
			row = append(row, strconv.FormatInt(p.Timestamp, 10), formatValue(p.Value))
			if err := w.Write(row); err != nil {
				return nil
			}
		}
	}
	w.Flush()
	return nil
}
