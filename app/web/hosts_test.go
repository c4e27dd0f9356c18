package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/redwatch/redwatch/tsdb"
)

// hostSamples are one round of host metrics for host at ts (ms), as the host sampler writes
// them, with counters scaled by round so rates are positive.
func hostSamples(host string, ts int64, round int) []tsdb.Sample {
	l := func(kv ...string) []tsdb.Label {
		ls := []tsdb.Label{{Name: "host", Value: host}}
		for i := 0; i+1 < len(kv); i += 2 {
			ls = append(ls, tsdb.Label{Name: kv[i], Value: kv[i+1]})
		}
		return ls
	}
	r := float64(round)
	return []tsdb.Sample{
		{Name: "host_up", Labels: l(), Timestamp: ts, Value: 1},
		{Name: "host_cpu_usage_percent", Labels: l(), Timestamp: ts, Value: 12.5},
		{Name: "host_load1", Labels: l(), Timestamp: ts, Value: 0.5},
		{Name: "host_load5", Labels: l(), Timestamp: ts, Value: 0.25},
		{Name: "host_load15", Labels: l(), Timestamp: ts, Value: 0.125},
		{Name: "host_memory_used_bytes", Labels: l(), Timestamp: ts, Value: 2 << 30},
		{Name: "host_memory_total_bytes", Labels: l(), Timestamp: ts, Value: 8 << 30},
		{Name: "host_memory_usage_percent", Labels: l(), Timestamp: ts, Value: 25},
		{Name: "host_swap_used_bytes", Labels: l(), Timestamp: ts, Value: 1 << 20},
		{Name: "host_disk_usage_percent", Labels: l("mount", "/"), Timestamp: ts, Value: 40},
		{Name: "host_disk_usage_percent", Labels: l("mount", "/data"), Timestamp: ts, Value: 70},
		{Name: "host_disk_used_bytes", Labels: l("mount", "/"), Timestamp: ts, Value: 40 << 30},
		{Name: "host_disk_total_bytes", Labels: l("mount", "/"), Timestamp: ts, Value: 100 << 30},
		{Name: "host_disk_read_bytes_total", Labels: l("device", "sda"), Timestamp: ts, Value: r * 1e6},
		{Name: "host_disk_written_bytes_total", Labels: l("device", "sda"), Timestamp: ts, Value: r * 2e6},
		{Name: "host_network_receive_bytes_total", Labels: l("interface", "eth0"), Timestamp: ts, Value: r * 3e6},
		{Name: "host_network_receive_bytes_total", Labels: l("interface", "lo"), Timestamp: ts, Value: r * 1e3},
		{Name: "host_network_transmit_bytes_total", Labels: l("interface", "eth0"), Timestamp: ts, Value: r * 4e6},
	}
}

// writeHost writes rounds of host metrics every 10 s, the last one at last.
func (e *env) writeHost(host string, last time.Time, rounds int) {
	e.t.Helper()
	var samples []tsdb.Sample
	for i := range rounds {
		ts := last.Add(-time.Duration(rounds-1-i) * 10 * time.Second).UnixMilli()
		samples = append(samples, hostSamples(host, ts, i)...)
	}
	if err := e.db.Write(samples); err != nil {
		e.t.Fatal(err)
	}
	e.db.Flush()
}

func TestHostList(t *testing.T) {
	e := newEnv(t)
	now := time.Now()
	e.writeHost("testhost", now, 3)
	e.writeHost(hostileKey, now, 3)
	e.writeHost("other", now.Add(-10*time.Minute), 3) // a pushing host that went quiet: stale
	c := e.login("viewer", viewerPass)

	res, body := e.do(c, "GET", "/hosts", nil, "Accept: text/html")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /hosts: %d %s", res.StatusCode, body)
	}
	if strings.Contains(body, hostileKey) {
		t.Fatal("a hostile host name is rendered as markup")
	}
	doc := parse(t, body)
	rows := find(doc, "host-row")
	var got, states, links []string
	for _, r := range rows {
		got = append(got, attr(r, "data-host"))
		states = append(states, attr(r, "data-state"))
		links = append(links, attr(one(t, r, "host-link"), "href"))
		wantPoll := "/hosts?" + url.Values{"fragment": {"host-row"}, "host": {attr(r, "data-host")}}.Encode()
		if attr(r, "hx-get") != wantPoll || attr(r, "hx-swap") != "outerHTML" || attr(r, "hx-trigger") != "every 2000ms" {
			t.Errorf("row %q does not poll itself: hx-get=%q hx-swap=%q hx-trigger=%q", attr(r, "data-host"), attr(r, "hx-get"), attr(r, "hx-swap"), attr(r, "hx-trigger"))
		}
		// The panel inside is the host panel partial, not polling on its own.
		panel := one(t, r, "host-panel")
		if attr(panel, "hx-get") != "" {
			t.Errorf("row %q: the panel polls too (%q)", attr(r, "data-host"), attr(panel, "hx-get"))
		}
		if name := text(one(t, panel, "host-name")); name != attr(r, "data-host") {
			t.Errorf("panel name %q in row %q", name, attr(r, "data-host"))
		}
	}
	// This host first, then pushing hosts by name ("<" sorts before "o").
	if want := []string{"testhost", hostileKey, "other"}; !slices.Equal(got, want) {
		t.Fatalf("rows %q, want %q", got, want)
	}
	if want := []string{"live", "live", "stale"}; !slices.Equal(states, want) {
		t.Errorf("states %q, want %q", states, want)
	}
	if want := []string{"/hosts/testhost", "/hosts/" + url.PathEscape(hostileKey), "/hosts/other"}; !slices.Equal(links, want) {
		t.Errorf("links %q, want %q", links, want)
	}
	if n := len(find(rows[2], "stale")); n != 1 {
		t.Errorf("the stale host's panel shows %d stale badges, want 1", n)
	}
	if got := text(one(t, doc, "host-count")); got != "3 hosts" {
		t.Errorf("host count %q", got)
	}
	if nav := navCurrent(doc); nav != "hosts" {
		t.Errorf("current nav item %q, want hosts", nav)
	}

	// Each row's poll answers with only that row, fresh.
	for _, h := range []string{"testhost", hostileKey} {
		res, body = e.do(c, "GET", "/hosts?"+url.Values{"fragment": {"host-row"}, "host": {h}}.Encode(), nil, "HX-Request: true")
		if res.StatusCode != http.StatusOK {
			t.Fatalf("row poll %q: %d %s", h, res.StatusCode, body)
		}
		frag := assertFragment(t, body, "host-row")
		if got := attr(one(t, frag, "host-row"), "data-host"); got != h {
			t.Errorf("row poll for %q answers %q", h, got)
		}
	}
	res, _ = e.do(c, "GET", "/hosts?fragment=host-row&host=nope", nil, "HX-Request: true")
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("row poll for an unknown host: %d, want 404", res.StatusCode)
	}
}

func TestHostListBeforeFirstSample(t *testing.T) {
	e := newEnv(t)
	res, body := e.do(e.login("viewer", viewerPass), "GET", "/hosts", nil, "Accept: text/html")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /hosts: %d", res.StatusCode)
	}
	doc := parse(t, body)
	row := one(t, doc, "host-row")
	if attr(row, "data-host") != "testhost" || attr(row, "data-state") != "missing" {
		t.Fatalf("row host=%q state=%q, want testhost missing", attr(row, "data-host"), attr(row, "data-state"))
	}
	one(t, row, "missing")
}

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

func TestHostDetail(t *testing.T) {
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
	if got := attr(one(t, doc, "host-detail"), "data-host"); got != "testhost" {
		t.Errorf("host-detail data-host %q", got)
	}
	panel := one(t, doc, "host-panel")
	if got := attr(panel, "hx-get"); got != "/hosts/testhost?fragment=host-panel" {
		t.Errorf("panel polls %q", got)
	}
	one(t, panel, "live")
	if navCurrent(doc) != "hosts" {
		t.Errorf("current nav item %q, want hosts", navCurrent(doc))
	}
	picker := one(t, doc, "range-picker")
	var current []string
	for d := range picker.Descendants() {
		if attr(d, "aria-current") == "true" && attr(d, "data-range-key") != "" {
			current = append(current, attr(d, "data-range-key"))
		}
	}
	if !slices.Equal(current, []string{"1h"}) {
		t.Errorf("range picker current %q, want 1h", current)
	}

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
		if _, ok := attrOK(d, "data-chart"); ok {
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
		if _, fixed := attrOK(ch, "data-start"); fixed {
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

	// The range comes from the URL: a preset, or a fixed custom span.
	res, body = e.do(c, "GET", "/hosts/testhost?range=6h", nil, "Accept: text/html")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("?range=6h: %d", res.StatusCode)
	}
	if got := attr(one(t, parse(t, body), "chart-cpu"), "data-range"); got != "21600" {
		t.Errorf("?range=6h: data-range %q, want 21600", got)
	}
	from, to := now.Add(-3*time.Hour).Unix(), now.Add(-time.Hour).Unix()
	res, body = e.do(c, "GET", "/hosts/testhost?from="+strconv.FormatInt(from, 10)+"&to="+strconv.FormatInt(to, 10), nil, "Accept: text/html")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("custom range: %d", res.StatusCode)
	}
	ch := one(t, parse(t, body), "chart-net-rx")
	if attr(ch, "data-start") != strconv.FormatInt(from, 10) || attr(ch, "data-end") != strconv.FormatInt(to, 10) || attr(ch, "data-range") != "7200" {
		t.Errorf("custom range chart: start=%q end=%q range=%q", attr(ch, "data-start"), attr(ch, "data-end"), attr(ch, "data-range"))
	}

	// The panel poll answers with only the panel.
	res, body = e.do(c, "GET", "/hosts/testhost?fragment=host-panel", nil, "HX-Request: true")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("panel poll: %d", res.StatusCode)
	}
	assertFragment(t, body, "host-panel")

	// A bad range is a 400 naming the parameter; an unknown host a 404.
	for _, bad := range []string{"range=2w", "from=yesterday", "from=200&to=100"} {
		res, body = e.do(c, "GET", "/hosts/testhost?"+bad, nil)
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("?%s: %d, want 400", bad, res.StatusCode)
		}
		if bad == "range=2w" && !strings.Contains(body, "range") {
			t.Errorf("?%s: the reason does not name the parameter: %s", bad, body)
		}
	}
	for _, accept := range []string{"text/html", "application/json"} {
		res, body = e.do(c, "GET", "/hosts/nope", nil, "Accept: "+accept)
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("unknown host (%s): %d, want 404", accept, res.StatusCode)
		}
		if accept == "text/html" {
			one(t, parse(t, body), "error-page")
		}
	}
	res, _ = e.do(c, "GET", "/hosts/nope?fragment=host-panel", nil, "HX-Request: true")
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("panel poll of an unknown host: %d, want 404", res.StatusCode)
	}
}

// TestHostDetailOddNames opens the pages of hosts whose names need escaping in a path.
func TestHostDetailOddNames(t *testing.T) {
	e := newEnv(t)
	now := time.Now()
	names := []string{hostileKey, "web 1/eu?x=1#y", `quote"back\slash`}
	for _, h := range names {
		e.writeHost(h, now, 2)
	}
	c := e.login("viewer", viewerPass)
	for _, h := range names {
		res, body := e.do(c, "GET", "/hosts/"+url.PathEscape(h), nil, "Accept: text/html")
		if res.StatusCode != http.StatusOK {
			t.Errorf("host %q: %d", h, res.StatusCode)
			continue
		}
		if strings.Contains(body, hostileKey) {
			t.Errorf("host %q: the hostile name is rendered as markup", h)
		}
		doc := parse(t, body)
		if got := text(one(t, doc, "host-title")); got != h {
			t.Errorf("title %q, want %q", got, h)
		}
		// The chart selector still selects exactly this host.
		sel, err := tsdb.ParseSelector(attr(one(t, doc, "chart-load"), "data-query"))
		if err != nil {
			t.Errorf("host %q: chart selector: %s", h, err)
			continue
		}
		if !sel.Matches("host_load5", []tsdb.Label{{Name: "host", Value: h}}) || sel.Matches("host_load5", []tsdb.Label{{Name: "host", Value: "testhost"}}) || sel.Matches("host_cpu_usage_percent", []tsdb.Label{{Name: "host", Value: h}}) {
			t.Errorf("host %q: chart selector %s selects the wrong series", h, sel)
		}
	}
}

// navCurrent is the data-nav of the nav link marked as the current page.
func navCurrent(doc *html.Node) string {
	for d := range doc.Descendants() {
		if attr(d, "aria-current") == "page" && attr(d, "data-nav") != "" {
			return attr(d, "data-nav")
		}
	}
	return ""
}

func attrOK(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}
