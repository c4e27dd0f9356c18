package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/redwatch/redwatch/app/queryengine"
	"github.com/redwatch/redwatch/app/vmtest"
	"github.com/redwatch/redwatch/tsdb"
)

// TestChartsReadVictoriaMetricsE2E: storage.remote against a real victoria-metrics
// single-node. Two writer appliances (each a tsdb and a remote-write Forwarder to the VM)
// write a counter each; a third redwatch, its own store empty and its engine the Remote of
// the VM, serves the dashboard's chart path (query_range with agg) and the Prometheus query
// API with both writers' data.
func TestChartsReadVictoriaMetricsE2E(t *testing.T) {
	t.Parallel()
	vm := vmtest.Start(t)
	t0 := time.Now().Add(-20 * time.Minute).Truncate(time.Minute)
	for w, inst := range []string{"writer-a", "writer-b"} {
		wr := vmtest.NewWriter(t, vm)
		for i := range 60 {
			wr.Write([]tsdb.Sample{{Name: "redis_commands_processed_total", Labels: []tsdb.Label{{Name: "instance", Value: inst}},
				Timestamp: t0.Add(time.Duration(i) * 10 * time.Second).UnixMilli(), Value: float64(100 * (w + 1) * i)}})
		}
		wr.Sync()
	}
	remote, err := queryengine.NewRemote(queryengine.RemoteOptions{URL: vm.PromURL()})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvWith(t, envOptions{mod: func(o *Options) { o.Engine = remote }})
	if n, err := e.db.QueryRange(t.Context(), tsdb.RangeQuery{Selector: mustSelector(t, "redis_commands_processed_total"),
		Start: t0, End: t0.Add(20 * time.Minute), Step: time.Minute, Agg: tsdb.AggLast}); err != nil || len(n) != 0 {
		t.Fatalf("the reader's own store has %v (%v): it must be empty", n, err)
	}

	type series struct {
		Metric map[string]string
		Values [][2]any
		Value  [2]any
	}
	get := func(path string, q url.Values) []series {
		t.Helper()
		res, body := e.do(nil, "GET", path+"?"+q.Encode(), nil, "Authorization: Basic "+basic("viewer", viewerPass))
		var qr struct {
			Status string
			Data   struct{ Result []series }
		}
		if res.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &qr) != nil || qr.Status != "success" {
			t.Fatalf("%s %v: %d %s", path, q, res.StatusCode, body)
		}
		return qr.Data.Result
	}
	chart := func(inst, agg string) series {
		t.Helper()
		rs := get("/api/v1/query_range", url.Values{"query": {`redis_commands_processed_total{instance="` + inst + `"}`}, "agg": {agg}, "step": {"60"},
			"start": {itoa(t0.Add(2 * time.Minute).Unix())}, "end": {itoa(t0.Add(8 * time.Minute).Unix())}})
		if len(rs) != 1 || rs[0].Metric["__name__"] != "redis_commands_processed_total" || rs[0].Metric["instance"] != inst || len(rs[0].Values) != 7 {
			t.Fatalf("chart %s agg=%s: %+v", inst, agg, rs)
		}
		return rs[0]
	}
	for w, inst := range []string{"writer-a", "writer-b"} {
		perSample := 100 * (w + 1)
		for _, agg := range []string{"last", "max"} {
			for k, p := range chart(inst, agg).Values { // the sample at each step: 2 minutes in is sample 12
				if want := itoa(int64(perSample * (12 + 6*k))); p[1] != want {
					t.Errorf("chart %s agg=%s step %d = %v, want %s", inst, agg, k, p[1], want)
				}
			}
		}
		for _, p := range chart(inst, "rate").Values {
			if want := itoa(int64(perSample / 10)); p[1] != want {
				t.Errorf("chart %s agg=rate = %v, want %s/s at every step", inst, p[1], want)
			}
		}
	}

	// The MetricsQL API (Explore, Grafana) reads the same history: both writers, summed.
	rs := get("/api/v1/query", url.Values{"query": {`sum(rate(redis_commands_processed_total[2m]))`}, "time": {itoa(t0.Add(5 * time.Minute).Unix())}})
	if len(rs) != 1 || rs[0].Value[1] != "30" {
		t.Errorf("sum of both writers' rates: %+v, want 10+20 = 30", rs)
	}
	res, body := e.do(nil, "GET", "/api/v1/label/instance/values?match[]=redis_commands_processed_total", nil, "Authorization: Basic "+basic("viewer", viewerPass))
	if res.StatusCode != http.StatusOK || body == "" {
		t.Fatalf("label values: %d %s", res.StatusCode, body)
	}
	var lv struct{ Data []string }
	if err := json.Unmarshal([]byte(body), &lv); err != nil || len(lv.Data) != 2 || lv.Data[0] != "writer-a" || lv.Data[1] != "writer-b" {
		t.Errorf("label values of instance: %s", body)
	}
}

func mustSelector(t *testing.T, s string) *tsdb.Selector {
	t.Helper()
	sel, err := tsdb.ParseSelector(s)
	if err != nil {
		t.Fatal(err)
	}
	return sel
}
