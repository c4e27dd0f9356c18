package web

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/redwatch/redwatch/app/buildinfo"
	"github.com/redwatch/redwatch/app/queryengine"
	"github.com/redwatch/redwatch/tsdb"
)

// metricsQL is the MetricsQL side of the Prometheus API: the store's own handlers, which
// read the request's parameters (URL query and POST form) and write the Prometheus JSON answer
// themselves; *tsdb.DB satisfies it. An error means nothing was written (see tsdb's Serve*).
type metricsQL interface {
	ServeQuery(w http.ResponseWriter, r *http.Request) error
	ServeQueryRange(w http.ResponseWriter, r *http.Request) error
	ServeLabels(w http.ResponseWriter, r *http.Request) error
	ServeLabelValues(w http.ResponseWriter, r *http.Request, name string) error
}

// latestNames is the part of Store /api/v1/metadata reads: which series exist now.
type latestNames interface {
	LatestAll(fn func(lv *tsdb.LatestValue))
}

// errNoMetricsQL answers the MetricsQL endpoints of a server whose store has no engine (a
// test's fake store).
var errNoMetricsQL = errors.New("MetricsQL is not available: the store has no query engine")

// runMetricsQL serves one MetricsQL endpoint with serve, then turns its error into the
// Prometheus error shape: a bad parameter or expression 400 bad_data, a bound 422 naming it,
// the time limit 503 timeout (queryFailed).
func (s *queryHandler) runMetricsQL(c echo.Context, serve func(e metricsQL, w http.ResponseWriter, r *http.Request) error) error {
	if s.engine == nil {
		return promError(c, http.StatusServiceUnavailable, "unavailable", errNoMetricsQL.Error())
	}
	if _, err := formParams(c); err != nil { // parses a POST form, as the engine reads it
		return promError(c, http.StatusBadRequest, "bad_data", err.Error())
	}
	err := serve(s.engine, c.Response(), c.Request())
	switch {
	case err == nil:
		return nil
	case c.Response().Committed:
		s.log.Warn("MetricsQL answer cut short", "path", c.Path(), "err", err)
		return nil
	case errors.Is(err, tsdb.ErrBadQuery):
		return promError(c, http.StatusBadRequest, "bad_data", err.Error())
	case errors.Is(err, tsdb.ErrClosed), errors.Is(err, queryengine.ErrUnavailable):
		return promError(c, http.StatusServiceUnavailable, "unavailable", err.Error())
	}
	return s.queryFailed(c, http.StatusUnprocessableEntity, "execution", err)
}

// instantQuery answers GET or POST /api/v1/query?query=EXPR&time=&step=&timeout= (MetricsQL)
// with a Prometheus vector (a range selector such as x[5m]: a matrix).
func (s *queryHandler) instantQuery(c echo.Context) error {
	return s.runMetricsQL(c, metricsQL.ServeQuery)
}

// listLabels answers GET or POST /api/v1/labels?match[]=&start=&end=&limit=.
func (s *queryHandler) listLabels(c echo.Context) error {
	return s.runMetricsQL(c, metricsQL.ServeLabels)
}

// listLabelValues answers GET or POST /api/v1/label/:name/values?match[]=&start=&end=&limit=.
func (s *queryHandler) listLabelValues(c echo.Context) error {
	name := c.Param("name")
	if name != "__name__" && !strings.HasPrefix(name, "U__") {
		if err := tsdb.ValidateLabelName(name); err != nil {
			return promError(c, http.StatusBadRequest, "bad_data", err.Error())
		}
	}
	return s.runMetricsQL(c, func(e metricsQL, w http.ResponseWriter, r *http.Request) error {
		return e.ServeLabelValues(w, r, name)
	})
}

// promVersion is the Prometheus version /api/v1/status/buildinfo reports: Grafana picks the
// API calls it makes by it. VictoriaMetrics reports this one for the same engine.
const promVersion = "2.24.0"

// buildInfo answers /api/v1/status/buildinfo as Prometheus does (Grafana reads data.version);
// redwatch's own version is in data.redwatch_version.
func (s *queryHandler) buildInfo(c echo.Context) error {
	bi := buildinfo.Get()
	return c.JSON(http.StatusOK, map[string]any{"status": "success", "data": map[string]string{
		"version": promVersion, "revision": bi.Commit, "branch": "", "buildUser": "", "buildDate": "",
		"goVersion": bi.GoVersion, "redwatch_version": bi.Version,
	}})
}

// metadataJSON is one family of /api/v1/metadata.
type metadataJSON struct {
	Type string `json:"type"`
	Help string `json:"help"`
	Unit string `json:"unit"`
}

// listMetadata answers GET or POST /api/v1/metadata?metric=&limit= as Prometheus does: HELP and
// TYPE of every metric family with a current value (and of every series redwatch writes
// itself), keyed by family name. TYPE is histogram for NAME_bucket series with an le label
// (with their _sum and _count), counter for names ending in _total, else gauge.
func (s *queryHandler) listMetadata(c echo.Context) error {
	params, err := formParams(c)
	if err != nil {
		return promError(c, http.StatusBadRequest, "bad_data", err.Error())
	}
	limit := -1
	if l := params.Get("limit"); l != "" {
		if limit, err = strconv.Atoi(l); err != nil {
			return promError(c, http.StatusBadRequest, "bad_data", "limit: "+strconv.Quote(l)+" is not an integer")
		}
	}
	names := map[string]bool{}
	histograms := map[string]bool{}
	if s.latest != nil {
		s.latest.LatestAll(func(lv *tsdb.LatestValue) {
			names[lv.Name] = true
			if base, ok := strings.CutSuffix(lv.Name, "_bucket"); ok && lv.Label("le") != "" {
				histograms[base] = true
			}
		})
	}
	for name := range metricHelps {
		names[name] = true
	}
	families := map[string]string{} // family -> type
	for name := range names {
		if base, _, ok := cutHistogramSuffix(name); ok && histograms[base] {
			families[base] = "histogram"
			continue
		}
		typ := "gauge"
		if strings.HasSuffix(name, "_total") {
			typ = "counter"
		}
		if _, seen := families[name]; !seen {
			families[name] = typ
		}
	}
	keys := make([]string, 0, len(families))
	for f := range families {
		if m := params.Get("metric"); m == "" || m == f {
			keys = append(keys, f)
		}
	}
	slices.Sort(keys)
	if limit >= 0 && len(keys) > limit {
		keys = keys[:limit]
	}
	data := make(map[string][]metadataJSON, len(keys))
	for _, f := range keys {
		data[f] = []metadataJSON{{Type: families[f], Help: metricHelp(f)}}
	}
	return c.JSON(http.StatusOK, map[string]any{"status": "success", "data": data})
}
