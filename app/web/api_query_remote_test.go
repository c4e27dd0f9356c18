package web

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/redwatch/redwatch/app/queryengine"
	"github.com/redwatch/redwatch/tsdb"
)

// TestChartsReadRemote: with storage.remote, the dashboard's agg path (a selector and a
// per-step aggregate) answers from the remote engine, as MetricsQL rollups that keep the
// metric name, and a remote that is down gives 503 unavailable.
func TestChartsReadRemote(t *testing.T) {
	t.Parallel()
	// The "remote": another store with the history, served over HTTP by its own engine.
	far, err := tsdb.Open(tsdb.Options{Path: t.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { far.Close() })
	t0 := time.Now().Add(-20 * time.Minute).Truncate(time.Minute)
	var samples []tsdb.Sample
	for i := range 60 {
		samples = append(samples, tsdb.Sample{Name: "redis_commands_processed_total", Labels: []tsdb.Label{{Name: "instance", Value: "shared"}},
			Timestamp: t0.Add(time.Duration(i) * 10 * time.Second).UnixMilli(), Value: float64(100 * i)})
	}
	if err := far.Write(samples); err != nil {
		t.Fatal(err)
	}
	far.Flush()
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v1/query_range", func(w http.ResponseWriter, r *http.Request) {
		if err := far.ServeQueryRange(w, r); err != nil {
			http.Error(w, `{"status":"error","errorType":"bad_data","error":"bad"}`, http.StatusBadRequest)
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	remote, err := queryengine.NewRemote(queryengine.RemoteOptions{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvWith(t, envOptions{mod: func(o *Options) { o.Engine = remote }}) // its own store is empty

	ask := func(agg string) (int, []struct {
		Metric map[string]string
		Values [][2]any
	}) {
		t.Helper()
		q := url.Values{"query": {`redis_commands_processed_total{instance="shared"}`}, "agg": {agg}, "step": {"60"},
			"start": {itoa(t0.Add(2 * time.Minute).Unix())}, "end": {itoa(t0.Add(8 * time.Minute).Unix())}}
		res, body := e.do(nil, "GET", "/api/v1/query_range?"+q.Encode(), nil, "Authorization: Basic "+basic("viewer", viewerPass))
		var qr struct {
			Data struct {
				Result []struct {
					Metric map[string]string
					Values [][2]any
				}
			}
		}
		if res.StatusCode == 200 {
			if err := json.Unmarshal([]byte(body), &qr); err != nil {
				t.Fatal(err)
			}
		}
		return res.StatusCode, qr.Data.Result
	}
	code, last := ask("last")
	if code != 200 || len(last) != 1 || last[0].Metric["__name__"] != "redis_commands_processed_total" || last[0].Metric["instance"] != "shared" || len(last[0].Values) != 7 {
		t.Fatalf("agg=last from the remote: %d %+v", code, last)
	}
	if v := last[0].Values[0][1]; v != "1200" { // 2 minutes in: sample 12
		t.Errorf("agg=last at start = %v, want 1200", v)
	}
	code, rate := ask("rate")
	if code != 200 || len(rate) != 1 || rate[0].Metric["__name__"] != "redis_commands_processed_total" {
		t.Fatalf("agg=rate from the remote: %d %+v", code, rate)
	}
	for _, p := range rate[0].Values {
		if p[1] != "10" {
			t.Fatalf("agg=rate = %v, want 10/s at every step", rate[0].Values)
		}
	}

	srv.Close()
	res, body := e.do(nil, "GET", "/api/v1/query_range?query=x&agg=avg&step=60", nil, "Authorization: Basic "+basic("viewer", viewerPass))
	if res.StatusCode != http.StatusServiceUnavailable || !json.Valid([]byte(body)) {
		t.Fatalf("remote down: %d %s", res.StatusCode, body)
	}
}
