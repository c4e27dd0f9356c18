package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"testing"
	"time"
)

// chartResult is the part of a query_range answer the host chart test reads.
type chartResult struct {
	Status string
	Data   struct {
		Result []struct {
			Metric map[string]string
			Values [][2]any
		}
	}
}

// TestHostCharts checks each chart of /hosts/{host} down to what storage answers for it: the
// query_range reads of the chart's own selector.
func TestHostCharts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	now := time.Now()
	e.writeHost("testhost", now, 12)
	e.writeHost("other", now, 12) // same series for another host: the charts must not show them
	c := e.login("viewer", viewerPass)
	res, body := e.do(c, "GET", "/hosts/testhost", nil, "Accept: text/html")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /hosts/testhost: %d %s", res.StatusCode, body)
	}
	doc := parse(t, body)

	// Every chart: the selector, aggregate and unit, and what the chart API answers for it:
	// only testhost's series, of the right names.
	type want struct {
		query, agg, unit string
		series           []string // name and distinguishing label of each series returned
	}
	charts := map[string]want{
		"chart-cpu":        {`host_cpu_usage_percent{host="testhost"}`, "", "percent", []string{"host_cpu_usage_percent"}},
		"chart-load":       {`{__name__=~"host_load1|host_load5|host_load15",host="testhost"}`, "", "number", []string{"host_load1", "host_load15", "host_load5"}},
		"chart-memory":     {`{__name__=~"host_memory_used_bytes|host_memory_total_bytes",host="testhost"}`, "", "bytes", []string{"host_memory_total_bytes", "host_memory_used_bytes"}},
		"chart-swap":       {`host_swap_used_bytes{host="testhost"}`, "", "bytes", []string{"host_swap_used_bytes"}},
		"chart-disk-usage": {`host_disk_usage_percent{host="testhost"}`, "", "percent", []string{"host_disk_usage_percent /", "host_disk_usage_percent /data"}},
		"chart-disk-read":  {`host_disk_read_bytes_total{host="testhost"}`, "rate", "bytes_per_second", []string{"host_disk_read_bytes_total sda"}},
		"chart-disk-write": {`host_disk_written_bytes_total{host="testhost"}`, "rate", "bytes_per_second", []string{"host_disk_written_bytes_total sda"}},
		"chart-net-rx":     {`host_network_receive_bytes_total{host="testhost"}`, "rate", "bytes_per_second", []string{"host_network_receive_bytes_total eth0", "host_network_receive_bytes_total lo"}},
		"chart-net-tx":     {`host_network_transmit_bytes_total{host="testhost"}`, "rate", "bytes_per_second", []string{"host_network_transmit_bytes_total eth0"}},
	}
	one(t, doc, "host-charts")
	chartCount := 0
	for d := range doc.Descendants() {
		if _, ok := lookupAttr(d, "data-chart"); ok {
			chartCount++
		}
	}
	if chartCount != len(charts) {
		t.Errorf("%d charts, want %d", chartCount, len(charts))
	}
	end := now.Unix() + 1
	for id, w := range charts {
		ch := one(t, doc, id)
		if got := attr(ch, "data-query"); got != w.query {
			t.Errorf("%s data-query = %q, want %q", id, got, w.query)
		}
		if got := attr(ch, "data-agg"); got != w.agg {
			t.Errorf("%s data-agg = %q, want %q", id, got, w.agg)
		}
		if got := attr(ch, "data-unit"); got != w.unit {
			t.Errorf("%s data-unit = %q, want %q", id, got, w.unit)
		}
		if got := attr(ch, "data-range"); got != "3600" {
			t.Errorf("%s data-range = %q, want 3600", id, got)
		}
		if _, fixed := lookupAttr(ch, "data-start"); fixed {
			t.Errorf("%s has data-start on a live range", id)
		}
		q := url.Values{"query": {attr(ch, "data-query")}, "start": {strconv.FormatInt(end-120, 10)}, "end": {strconv.FormatInt(end, 10)}, "step": {"10"}}
		if w.agg != "" {
			q.Set("agg", w.agg)
		}
		res, body := e.do(c, "GET", "/api/v1/query_range?"+q.Encode(), nil)
		var qr chartResult
		if res.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &qr) != nil || qr.Status != "success" {
			t.Errorf("%s: query_range %s: %d %s", id, q.Get("query"), res.StatusCode, body)
			continue
		}
		var names []string
		for _, r := range qr.Data.Result {
			if r.Metric["host"] != "testhost" {
				t.Errorf("%s: series of host %q", id, r.Metric["host"])
			}
			name := r.Metric["__name__"]
			for _, l := range []string{"mount", "device", "interface"} {
				if v := r.Metric[l]; v != "" {
					name += " " + v
				}
			}
			names = append(names, name)
			if len(r.Values) == 0 {
				t.Errorf("%s: %s has no points", id, name)
			}
			if w.agg == "rate" {
				for _, v := range r.Values {
					if f, err := strconv.ParseFloat(v[1].(string), 64); err != nil || f <= 0 {
						t.Errorf("%s: %s rate %v, want > 0", id, name, v[1])
					}
				}
			}
		}
		sort.Strings(names)
		if !slices.Equal(names, w.series) {
			t.Errorf("%s: series %q, want %q", id, names, w.series)
		}
	}

}
