package web

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
)

// TestRedisInstanceCharts checks each chart of /redis/{name}: its selector and aggregate, and
// that the chart API answers them from storage.
func TestRedisInstanceCharts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.fill()
	c, _, doc := viewCache(t, e)
	// Every chart asks for this instance's series over the default range (1 h, live).
	for id, want := range map[string][2]string{
		"ops-chart":       {`redis_ops_per_second{instance="cache"}`, ""},
		"memory-chart":    {`{__name__=~"redis_memory_used_bytes|redis_memory_max_bytes",instance="cache"}`, ""},
		"clients-chart":   {`{__name__=~"redis_connected_clients|redis_blocked_clients",instance="cache"}`, ""},
		"hit-ratio-chart": {`redis_keyspace_hit_ratio{instance="cache"}`, ""},
		"network-chart":   {`{__name__=~"redis_net_input_bytes_total|redis_net_output_bytes_total",instance="cache"}`, "rate"},
		"keys-chart":      {`{__name__=~"redis_expired_keys_total|redis_evicted_keys_total",instance="cache"}`, "rate"},
	} {
		ch := one(t, doc, id)
		if got := attr(ch, "data-query"); got != want[0] {
			t.Errorf("%s data-query = %q, want %q", id, got, want[0])
		}
		if got := attr(ch, "data-agg"); got != want[1] {
			t.Errorf("%s data-agg = %q, want %q", id, got, want[1])
		}
		if got := attr(ch, "data-range"); got != "3600" {
			t.Errorf("%s data-range = %q, want 3600", id, got)
		}
		if _, fixed := lookupAttr(ch, "data-start"); fixed {
			t.Errorf("%s has data-start on a live range", id)
		}
	}
	// The selectors parse, and the chart API answers them.
	for _, ch := range findAttr(doc, "data-chart") {
		q := attr(ch, "data-query")
		res, body := e.do(c, "GET", "/api/v1/query_range?step=60&agg="+attr(ch, "data-agg")+"&query="+url.QueryEscape(q), nil)
		if res.StatusCode != 200 || decode(t, body)["status"] != "success" {
			t.Errorf("query_range %s: %d %s", q, res.StatusCode, body)
		}
	}
	if got := attr(one(t, doc, "hit-ratio-chart"), "data-scale"); got != "100" {
		t.Errorf("hit ratio chart scale %q", got)
	}
	if got := attr(one(t, doc, "hit-ratio-chart"), "data-unit"); got != "percent" {
		t.Errorf("hit ratio chart unit %q", got)
	}
}

func TestRedisInstanceRange(t *testing.T) {
	t.Parallel()
	e, _ := newLatestEnv(t)
	e.fill()
	c := e.login("viewer", viewerPass)
	charts := func(doc *html.Node) []*html.Node {
		t.Helper()
		cs := findAttr(doc, "data-chart")
		if len(cs) < 5 {
			t.Fatalf("%d charts, want at least 5", len(cs))
		}
		return cs
	}

	// A preset: every chart shows it, live.
	res, body := e.do(c, "GET", "/redis/cache?range=7d&client=api&sort=age", nil, "Accept: text/html")
	if res.StatusCode != 200 {
		t.Fatalf("?range=7d: %d", res.StatusCode)
	}
	doc := parse(t, body)
	for _, ch := range charts(doc) {
		if got := attr(ch, "data-range"); got != "604800" {
			t.Errorf("%s data-range %q, want 604800", attr(ch, "data-testid"), got)
		}
		if _, ok := lookupAttr(ch, "data-end"); ok {
			t.Errorf("%s has data-end on a live range", attr(ch, "data-testid"))
		}
	}
	// The picker marks 7d and its links keep the filter and the sort.
	links := map[string]string{}
	for _, a := range findAttr(one(t, doc, "range-picker"), "data-range-key") {
		links[attr(a, "data-range-key")] = attr(a, "href")
		if cur := attr(a, "aria-current") == "true"; cur != (attr(a, "data-range-key") == "7d") {
			t.Errorf("range option %s current=%v", attr(a, "data-range-key"), cur)
		}
	}
	for _, k := range []string{"15m", "1h", "6h", "24h", "7d", "30d"} {
		u, err := url.Parse(links[k])
		if err != nil || u.Path != "/redis/cache" || u.Query().Get("range") != k || u.Query().Get("client") != "api" || u.Query().Get("sort") != "age" {
			t.Errorf("range link %s = %q: want the page with range, client and sort", k, links[k])
		}
	}

	// A custom span: fixed charts with data-start/data-end; the picker shows it.
	from, to := time.Now().Add(-3*time.Hour).Unix(), time.Now().Add(-time.Hour).Unix()
	res, body = e.do(c, "GET", fmt.Sprintf("/redis/cache?from=%d&to=%d&client=api", from, to), nil, "Accept: text/html")
	if res.StatusCode != 200 {
		t.Fatalf("custom range: %d", res.StatusCode)
	}
	doc = parse(t, body)
	for _, ch := range charts(doc) {
		if attr(ch, "data-start") != fmt.Sprint(from) || attr(ch, "data-end") != fmt.Sprint(to) || attr(ch, "data-range") != "7200" {
			t.Errorf("%s: start %q end %q range %q; want %d %d 7200", attr(ch, "data-testid"), attr(ch, "data-start"), attr(ch, "data-end"), attr(ch, "data-range"), from, to)
		}
	}
	picker := one(t, doc, "range-picker")
	var unix []string
	for _, in := range findTag(picker, "input") {
		if attr(in, "type") == "datetime-local" {
			unix = append(unix, attr(in, "data-unix"))
		}
		if attr(in, "type") == "hidden" && attr(in, "name") == "client" && attr(in, "value") != "api" {
			t.Errorf("custom form carries client=%q", attr(in, "value"))
		}
	}
	if !slices.Equal(unix, []string{fmt.Sprint(from), fmt.Sprint(to)}) {
		t.Errorf("custom inputs data-unix %v", unix)
	}
	// The clients poll keeps the span (the sort links built from it keep it too).
	if got := attr(one(t, doc, "clients-body"), "hx-get"); got != fmt.Sprintf("/redis/cache?fragment=redis-clients&from=%d&to=%d", from, to) {
		t.Errorf("clients poll %q", got)
	}

	// A custom start without an end is live up to now.
	res, body = e.do(c, "GET", fmt.Sprintf("/redis/cache?from=%d", from), nil, "Accept: text/html")
	if res.StatusCode != 200 {
		t.Fatalf("open custom range: %d", res.StatusCode)
	}
	for _, ch := range charts(parse(t, body)) {
		if _, ok := lookupAttr(ch, "data-start"); ok || attr(ch, "data-range") != "10800" {
			t.Errorf("open custom range chart: start %q range %q", attr(ch, "data-start"), attr(ch, "data-range"))
		}
	}

	// A bad range is a 400 naming the reason, for the page and its fragments.
	for _, q := range []string{"range=2w", "from=yesterday", fmt.Sprintf("from=%d&to=%d", to, from), "from=&to=5"} {
		res, body := e.do(c, "GET", "/redis/cache?"+q, nil, "Accept: text/html")
		if res.StatusCode != 400 {
			t.Errorf("?%s: %d, want 400", q, res.StatusCode)
		}
		if doc := parse(t, body); !strings.Contains(text(one(t, doc, "error-message")), "range") && !strings.Contains(text(one(t, doc, "error-message")), "from") {
			t.Errorf("?%s: message %q does not name the parameter", q, text(one(t, doc, "error-message")))
		}
		res, _ = e.do(c, "GET", "/redis/cache?fragment=redis-clients&"+q, nil, "HX-Request: true")
		if res.StatusCode != 400 {
			t.Errorf("fragment ?%s: %d, want 400", q, res.StatusCode)
		}
	}
}
