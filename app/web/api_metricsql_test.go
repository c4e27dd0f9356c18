package web

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/redwatch/redwatch/tsdb"
)

// basicAuthTransport adds an Authorization header to every request.
type basicAuthTransport struct{ auth string }

func (b basicAuthTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", b.auth)
	return http.DefaultTransport.RoundTrip(r)
}

// writeMetricsQLData stores two Redis counters (2/s and 5/s, a sample every 10 s for 30
// minutes ending at end) and a gauge, and returns end.
func writeMetricsQLData(t *testing.T, db *tsdb.DB) time.Time {
	t.Helper()
	end := time.Now().Add(-time.Minute).Truncate(10 * time.Second)
	t0 := end.Add(-30 * time.Minute)
	var samples []tsdb.Sample
	for i := 0; i <= 180; i++ {
		ts := t0.Add(time.Duration(i) * 10 * time.Second).UnixMilli()
		for inst, perSec := range map[string]float64{"a:6379": 2, "b:6379": 5} {
			l := []tsdb.Label{{Name: "instance", Value: inst}, {Name: "job", Value: "redis"}}
			samples = append(samples,
				tsdb.Sample{Name: "redis_commands_processed_total", Labels: l, Timestamp: ts, Value: perSec * 10 * float64(i)},
				tsdb.Sample{Name: "redis_memory_used_bytes", Labels: l, Timestamp: ts, Value: 1000})
		}
	}
	if err := db.Write(samples); err != nil {
		t.Fatal(err)
	}
	db.Flush()
	return end
}

// The official Prometheus Go client (client_golang api/v1) drives redwatch over HTTP: every
// call of Query, QueryRange, Series, LabelNames, LabelValues, Buildinfo and Metadata succeeds
// with the values stored.
func TestPrometheusClient(t *testing.T) {
	t.Parallel()
	e := newQueryEnv(t, tsdb.Options{}, QueryLimits{}, nil)
	end := writeMetricsQLData(t, e.db)
	client, err := api.NewClient(api.Config{Address: e.ts.URL, RoundTripper: basicAuthTransport{e.auth}})
	if err != nil {
		t.Fatal(err)
	}
	p := promv1.NewAPI(client)
	ctx := context.Background()
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

	v, _, err := p.Query(ctx, `sum by (job) (rate(redis_commands_processed_total[1m]))`, end)
	if err != nil {
		t.Fatalf("Query: %v", err)
	}
	vec, ok := v.(model.Vector)
	if !ok || len(vec) != 1 || vec[0].Metric["job"] != "redis" || !near(float64(vec[0].Value), 7) || !vec[0].Timestamp.Time().Equal(end) {
		t.Errorf("Query: %v", v)
	}
	if v, _, err = p.Query(ctx, "1+1", end); err != nil || !strings.Contains(v.String(), "2") {
		t.Errorf("Query 1+1: %v %v", v, err)
	}

	v, _, err = p.QueryRange(ctx, `rate(redis_commands_processed_total[1m])`, promv1.Range{Start: end.Add(-10 * time.Minute), End: end, Step: time.Minute})
	if err != nil {
		t.Fatalf("QueryRange: %v", err)
	}
	m, ok := v.(model.Matrix)
	if !ok || len(m) != 2 {
		t.Fatalf("QueryRange: %v", v)
	}
	for _, s := range m {
		want := map[model.LabelValue]float64{"a:6379": 2, "b:6379": 5}[s.Metric["instance"]]
		if len(s.Values) != 11 || s.Metric["__name__"] != "" {
			t.Errorf("QueryRange %v: %d points, want 11 without __name__", s.Metric, len(s.Values))
		}
		for _, pt := range s.Values {
			if !near(float64(pt.Value), want) {
				t.Errorf("QueryRange %v at %v: %v, want %v", s.Metric, pt.Timestamp, pt.Value, want)
			}
		}
	}

	series, _, err := p.Series(ctx, []string{`redis_memory_used_bytes{instance="a:6379"}`}, end.Add(-time.Hour), end)
	if err != nil || len(series) != 1 || series[0]["job"] != "redis" || series[0]["__name__"] != "redis_memory_used_bytes" {
		t.Errorf("Series: %v %v", series, err)
	}
	names, _, err := p.LabelNames(ctx, nil, end.Add(-time.Hour), end)
	if err != nil || !slices.Equal(names, model.LabelNames{"__name__", "instance", "job"}) {
		t.Errorf("LabelNames: %v %v", names, err)
	}
	values, _, err := p.LabelValues(ctx, "instance", []string{"redis_memory_used_bytes"}, end.Add(-time.Hour), end)
	if err != nil || !slices.Equal(values, model.LabelValues{"a:6379", "b:6379"}) {
		t.Errorf("LabelValues: %v %v", values, err)
	}
	values, _, err = p.LabelValues(ctx, "__name__", nil, end.Add(-time.Hour), end)
	if err != nil || !slices.Equal(values, model.LabelValues{"redis_commands_processed_total", "redis_memory_used_bytes"}) {
		t.Errorf("LabelValues __name__: %v %v", values, err)
	}
	bi, err := p.Buildinfo(ctx)
	if err != nil || !strings.HasPrefix(bi.Version, "2.") {
		t.Errorf("Buildinfo: %+v %v", bi, err)
	}
	md, err := p.Metadata(ctx, "", "")
	if err != nil {
		t.Fatalf("Metadata: %v", err)
	}
	if c := md["redis_commands_processed_total"]; len(c) != 1 || c[0].Type != promv1.MetricTypeCounter || c[0].Help != metricHelp("redis_commands_processed_total") {
		t.Errorf("Metadata counter: %+v", c)
	}
	if g := md["redis_memory_used_bytes"]; len(g) != 1 || g[0].Type != promv1.MetricTypeGauge || g[0].Help == "" {
		t.Errorf("Metadata gauge: %+v", g)
	}
	if md, err = p.Metadata(ctx, "redis_memory_used_bytes", ""); err != nil || len(md) != 1 {
		t.Errorf("Metadata of one metric: %v %v", md, err)
	}
}

// Grafana's Prometheus data source, as it talks to a server on "Save & test", in the query
// editor and on a dashboard (GET and POST form): every request answers 200 with a
// Prometheus-shaped body; a bad expression answers 400 bad_data.
func TestGrafanaRequestSequence(t *testing.T) {
	t.Parallel()
	e := newQueryEnv(t, tsdb.Options{}, QueryLimits{}, nil)
	end := writeMetricsQLData(t, e.db)
	s, en := itoa(end.Add(-time.Hour).Unix()), itoa(end.Unix())
	for _, c := range []struct {
		post   bool
		path   string
		params url.Values
		data   string // a JSON fragment the body must hold
	}{
		{false, "/api/v1/status/buildinfo", nil, `"version":"2.`},
		{true, "/api/v1/query", url.Values{"query": {"1+1"}, "time": {en}}, `"value":[` + en + `,"2"]`},
		{false, "/api/v1/query", url.Values{"query": {"1+1"}, "time": {en}}, `"value":[` + en + `,"2"]`},
		{false, "/api/v1/labels", url.Values{"start": {s}, "end": {en}}, `"data":["__name__","instance","job"]`},
		{true, "/api/v1/labels", url.Values{"start": {s}, "end": {en}}, `"data":["__name__","instance","job"]`},
		{false, "/api/v1/label/__name__/values", url.Values{"start": {s}, "end": {en}}, `"redis_memory_used_bytes"`},
		{false, "/api/v1/label/instance/values", url.Values{"match[]": {"redis_memory_used_bytes"}, "start": {s}, "end": {en}}, `"data":["a:6379","b:6379"]`},
		{false, "/api/v1/metadata", nil, `"redis_commands_processed_total":[{"type":"counter"`},
		{true, "/api/v1/query_range", url.Values{"query": {`sum(rate(redis_commands_processed_total{job="redis"}[1m0s]))`}, "start": {itoa(end.Add(-10 * time.Minute).Unix())}, "end": {en}, "step": {"60"}}, `"resultType":"matrix"`},
		{false, "/api/v1/query_range", url.Values{"query": {`rate(redis_commands_processed_total[1m])`}, "start": {s}, "end": {en}, "step": {"15"}}, `"instance":"b:6379"`},
		{true, "/api/v1/series", url.Values{"match[]": {"redis_memory_used_bytes"}, "start": {s}, "end": {en}}, `"__name__":"redis_memory_used_bytes"`},
	} {
		res, body := e.get(t, c.post, c.path, c.params)
		var m struct{ Status string }
		if res.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &m) != nil || m.Status != "success" || !strings.Contains(body, c.data) {
			t.Errorf("post=%v %s?%s: %d %.400s, want 200 success holding %s", c.post, c.path, c.params.Encode(), res.StatusCode, body, c.data)
		}
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("%s: Content-Type %q", c.path, ct)
		}
	}
	if !strings.Contains(mustBody(e.get(t, true, "/api/v1/query_range", url.Values{"query": {`sum(rate(redis_commands_processed_total[1m]))`}, "start": {itoa(end.Add(-5 * time.Minute).Unix())}, "end": {en}, "step": {"60"}})), `"7"]`) {
		t.Error("query_range of the summed rate does not give 7")
	}
	for _, c := range []struct {
		path   string
		params url.Values
	}{
		{"/api/v1/query", url.Values{"query": {"sum(rate(x[5m])"}}},
		{"/api/v1/query_range", url.Values{"query": {"rate(x[5m]"}, "step": {"60"}}},
		{"/api/v1/query_range", url.Values{"query": {"up"}, "step": {"0"}}},
		{"/api/v1/query", url.Values{}},
		{"/api/v1/label/bad-name/values", nil},
	} {
		for _, post := range []bool{false, true} {
			res, body := e.get(t, post, c.path, c.params)
			wantPromError(t, c.path+"?"+c.params.Encode(), res, body, http.StatusBadRequest, "bad_data")
		}
	}
}

func mustBody(_ *http.Response, body string) string { return body }
