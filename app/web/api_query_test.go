package web

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/redwatch/redwatch/tsdb"
)

// The Prometheus API over a real store: query_range (values per step), bad requests, series,
// a CSV export and /metrics.
func TestQueryAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	t0 := time.Now().Add(-10 * time.Minute).Truncate(time.Minute)
	var samples []tsdb.Sample
	for i := 0; i < 30; i++ {
		samples = append(samples, tsdb.Sample{Name: "host_cpu_usage_percent", Labels: []tsdb.Label{{Name: "host", Value: "testhost"}}, Timestamp: t0.Add(time.Duration(i) * 10 * time.Second).UnixMilli(), Value: float64(i)})
	}
	if err := e.db.Write(samples); err != nil {
		t.Fatal(err)
	}
	e.db.Flush()
	auth := "Authorization: Basic " + basic("viewer", viewerPass)
	q := url.Values{"query": {`host_cpu_usage_percent{host="testhost"}`}, "start": {itoa(t0.Add(time.Minute).Unix())}, "end": {itoa(t0.Add(3 * time.Minute).Unix())}, "step": {"60"}, "agg": {"max"}}
	res, body := e.do(nil, "GET", "/api/v1/query_range?"+q.Encode(), nil, auth)
	if res.StatusCode != 200 {
		t.Fatalf("query_range: %d %s", res.StatusCode, body)
	}
	var qr struct {
		Status string
		Data   struct {
			ResultType string
			Result     []struct {
				Metric map[string]string
				Values [][2]any
			}
		}
	}
	if err := json.Unmarshal([]byte(body), &qr); err != nil {
		t.Fatal(err)
	}
	if qr.Status != "success" || qr.Data.ResultType != "matrix" || len(qr.Data.Result) != 1 || qr.Data.Result[0].Metric["host"] != "testhost" {
		t.Fatalf("shape: %s", body)
	}
	vals := qr.Data.Result[0].Values
	if len(vals) != 3 || vals[0][1] != "6" || vals[2][1] != "18" || vals[0][0].(float64) != float64(t0.Add(time.Minute).Unix()) {
		t.Fatalf("values: %v", vals)
	}
	// Without agg the query is MetricsQL; with it, a series selector (api_metricsql_test.go
	// tests MetricsQL itself).
	for _, bad := range []string{"query=rate(x[5m])&agg=", "query=rate(x[5m]", "query=x&step=-1", "query=x&step=-1&agg=", "query=x&agg=median",
		"query=x&start=yesterday", "query=x&start=0&end=1000000&step=1", "query=x&start=0&end=1000000&step=1&agg=last"} {
		res, body := e.do(nil, "GET", "/api/v1/query_range?"+bad, nil, auth)
		if res.StatusCode != 400 || decode(t, body)["status"] != "error" || decode(t, body)["error"] == "" {
			t.Errorf("%s: %d %s, want 400 with a reason", bad, res.StatusCode, body)
		}
	}
	res, body = e.do(nil, "GET", "/api/v1/series?match[]="+url.QueryEscape(`{host="testhost"}`), nil, auth)
	if res.StatusCode != 200 || !strings.Contains(body, `"__name__":"host_cpu_usage_percent"`) {
		t.Fatalf("series: %d %s", res.StatusCode, body)
	}
	res, body = e.do(nil, "GET", "/api/v1/export?format=csv&match[]=host_cpu_usage_percent&start="+itoa(t0.Unix()), nil, auth)
	if res.StatusCode != 200 || !strings.HasPrefix(body, "__name__,host,timestamp_ms,value\n") || strings.Count(body, "\n") != 31 {
		t.Fatalf("export csv: %d %q", res.StatusCode, body[:min(len(body), 200)])
	}
	res, body = e.do(nil, "GET", "/metrics", nil, auth)
	if res.StatusCode != 200 || !strings.Contains(body, `host_cpu_usage_percent{host="testhost"} 29 `) {
		t.Fatalf("metrics: %d %s", res.StatusCode, body)
	}
}
