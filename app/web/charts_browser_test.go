package web

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/redwatch/redwatch/tsdb"
)

// writeRedisSeries stores an hour of samples every 10 s for e's "cache" instance: every series
// the instance page charts. The expired/evicted counters stop 10 minutes ago, so that chart
// goes stale.
func writeRedisSeries(t *testing.T, e *env, now time.Time) {
	t.Helper()
	lbl := []tsdb.Label{{Name: "instance", Value: "cache"}}
	var samples []tsdb.Sample
	add := func(name string, ts time.Time, v float64) {
		samples = append(samples, tsdb.Sample{Name: name, Labels: lbl, Timestamp: ts.UnixMilli(), Value: v})
	}
	i := 0.0
	for ts := now.Add(-time.Hour); !ts.After(now); ts = ts.Add(10 * time.Second) {
		add("redis_ops_per_second", ts, 1000+500*math.Sin(i/20))
		add("redis_memory_used_bytes", ts, 300<<20+i*1e5)
		add("redis_memory_max_bytes", ts, 1<<30)
		add("redis_connected_clients", ts, 20+math.Mod(i, 7))
		add("redis_blocked_clients", ts, math.Mod(i, 3))
		add("redis_keyspace_hit_ratio", ts, 0.9+0.05*math.Sin(i/10))
		add("redis_net_input_bytes_total", ts, i*20000)
		add("redis_net_output_bytes_total", ts, i*80000)
		if ts.Before(now.Add(-10 * time.Minute)) {
			add("redis_expired_keys_total", ts, i*3)
			add("redis_evicted_keys_total", ts, i)
		}
		i++
	}
	if err := e.db.Write(samples); err != nil {
		t.Fatal(err)
	}
	e.db.Flush()
}

// TestChartsInBrowser drives the Redis instance page in headless chromium: charts load with
// points at a step that fits their width, the range picker's presets and custom form put the
// range in the URL (the custom times as unix seconds, read in the browser's time zone), a drag
// zooms every chart and writes ?from=&to=, double-click goes back, a stale series is marked,
// the client filter keeps focus across polls, polling pauses while the tab is hidden, and the
// page fits a phone.
func TestChartsInBrowser(t *testing.T) {
	t.Parallel()
	tab := newBrowserTab(t, 60*time.Second)
	e := newEnvWith(t, envOptions{mod: func(o *Options) { o.Refresh = browserRefresh }})
	e.fill()
	now := time.Now()
	writeRedisSeries(t, e, now)
	base := e.ts.URL
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	eval, location := tab.eval, tab.location
	waitJS := func(what, js string, timeout time.Duration) {
		t.Helper()
		tab.waitJS(what, js, timeout, `JSON.stringify({url: location.href, charts: [...document.querySelectorAll('[data-chart]')].map(c => [c.dataset.testid, c.dataset.chartReady, c.dataset.points, c.dataset.step, c.dataset.chartError, c.dataset.stale])})`)
	}
	allReady := `[...document.querySelectorAll('[data-chart]')].length >= 5 && [...document.querySelectorAll('[data-chart]')].every(c => c.dataset.chartReady === 'true' && c.dataset.step)`
	// checkSteps asserts every chart's request step covers its span in at most one point per
	// pixel of its plot.
	checkSteps := func(what string) {
		t.Helper()
		var s string
		eval(what, `JSON.stringify(redwatch.charts().map(c => ({id: c.el.dataset.testid, step: +c.el.dataset.step, width: c.plotWidth(), span: c.span().end - c.span().start})))`, &s)
		var bad []string
		for _, c := range strings.Split(strings.Trim(s, "[]"), "},{") {
			var id string
			var step, width, span float64
			for _, kv := range strings.Split(strings.Trim(c, "{}"), ",") {
				k, v, _ := strings.Cut(kv, ":")
				switch strings.Trim(k, `"`) {
				case "id":
					id = strings.Trim(v, `"`)
				case "step":
					step, _ = strconv.ParseFloat(v, 64)
				case "width":
					width, _ = strconv.ParseFloat(v, 64)
				case "span":
					span, _ = strconv.ParseFloat(v, 64)
				}
			}
			if step <= 0 || width <= 0 || step*width < span {
				bad = append(bad, fmt.Sprintf("%s: step %v × width %v < span %v", id, step, width, span))
			}
		}
		if len(bad) > 0 || s == "[]" {
			t.Fatalf("%s: steps give more points than pixels: %v (%s)", what, bad, s)
		}
	}

	// The instance page: every chart loads its hour with points.
	tab.login(base+"/login?next=/redis/cache", "viewer", viewerPass, `[data-testid="ops-chart"] canvas`)
	waitJS("charts ready", allReady, 10*time.Second)
	var points float64
	eval("points", `+document.querySelector('[data-testid="ops-chart"]').dataset.points`, &points)
	if points < 100 {
		t.Errorf("ops chart has %v points for an hour of 10 s samples", points)
	}
	for _, id := range []string{"memory-chart", "clients-chart", "network-chart"} {
		var series float64
		eval(id, `document.querySelector('[data-testid="`+id+`"]').__redwatchChart.order.length`, &series)
		if series != 2 {
			t.Errorf("%s draws %v series, want 2", id, series)
		}
	}
	var legend string
	eval("legend", `[...document.querySelectorAll('[data-testid="memory-chart"] .u-legend .u-label')].map(l => l.textContent).join(",")`, &legend)
	if legend != "maxmemory 1.0 GiB,used" {
		t.Errorf("memory legend %q, want the renamed series", legend)
	}
	var hit float64
	eval("hit ratio", `Math.max(...document.querySelector('[data-testid="hit-ratio-chart"]').__redwatchChart.plot.data[1].filter(v => v != null))`, &hit)
	if hit < 90 || hit > 100 {
		t.Errorf("hit ratio drawn as %v; want percent (0.9..0.95 × 100)", hit)
	}
	checkSteps("1h")
	// A 30-day range on a 600-px chart asks for a step of at least 30 d / 600 px.
	var step30d float64
	eval("stepFor", `redwatch.stepFor(30*86400, 600)`, &step30d)
	if step30d < 4320 {
		t.Errorf("30 d on 600 px: step %v s, want >= 4320", step30d)
	}
	// The expired/evicted series ended 10 minutes ago: that chart says it is stale, the others
	// do not.
	waitJS("stale marker", `document.querySelector('[data-testid="keys-chart"]').dataset.stale === 'true'`, 5*time.Second)
	var staleText string
	eval("stale text", `document.querySelector('[data-testid="keys-chart"] .chart-stale').textContent + '|' + document.querySelectorAll('[data-chart][data-stale]').length`, &staleText)
	if !strings.HasPrefix(staleText, "stale") || !strings.HasSuffix(staleText, "|1") {
		t.Errorf("stale marker %q: want one stale chart", staleText)
	}

	// Hovering shows the time and every series' value with its unit.
	var box string
	eval("plot box", `(() => { const o = document.querySelector('[data-testid="network-chart"] .u-over'); o.scrollIntoView({block: 'center'}); const r = o.getBoundingClientRect(); return [r.left, r.top, r.width, r.height].join(',') })()`, &box)
	var bx [4]float64
	for i, f := range strings.Split(box, ",") {
		bx[i], _ = strconv.ParseFloat(f, 64)
	}
	tab.run("hover", chromedp.MouseEvent("mouseMoved", bx[0]+bx[2]*0.6, bx[1]+bx[3]/2))
	waitJS("tooltip", `(() => { const t = document.querySelector('[data-testid="network-chart"] .chart-tip'); return t && !t.hidden && /B\/s/.test(t.textContent) && /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/.test(t.textContent) })()`, 3*time.Second)
	var tip string
	eval("tooltip text", `document.querySelector('[data-testid="network-chart"] .chart-tip').textContent`, &tip)
	if !strings.Contains(tip, "in") || !strings.Contains(tip, "out") {
		t.Errorf("tooltip %q lacks a series", tip)
	}
	tab.screenshot("redis-instance")
	eval("dark", `document.querySelector('[data-theme-toggle]').click(); 1`, nil)
	tab.screenshot("redis-instance-toggled-theme")

	// Drag to zoom: every chart shows the span, fetched again at a step that fits, and the
	// address bar says ?from=&to= (other parameters kept) without reloading the page.
	tab.run("marker", chromedp.Navigate(base+"/redis/cache?sort=age"))
	waitJS("charts ready", allReady, 10*time.Second)
	eval("marker", `window.__noReload = 1; window.__urls = []; const f = window.fetch; window.fetch = function (u) { window.__urls.push(String(u)); return f.apply(this, arguments) }; 1`, nil)
	eval("plot box", `(() => { const o = document.querySelector('[data-testid="ops-chart"] .u-over'); o.scrollIntoView({block: 'center'}); const r = o.getBoundingClientRect(); return [r.left, r.top, r.width, r.height].join(',') })()`, &box)
	for i, f := range strings.Split(box, ",") {
		bx[i], _ = strconv.ParseFloat(f, 64)
	}
	y := bx[1] + bx[3]/2
	tab.run("drag", chromedp.DragAndDropXY(bx[0]+bx[2]*0.25, y, bx[0]+bx[2]*0.75, y, 8))
	waitJS("zoomed", `document.querySelectorAll('[data-chart][data-zoomed="true"]').length >= 5 && new URLSearchParams(location.search).has('from')`, 5*time.Second)
	u := location()
	from, _ := strconv.ParseInt(u.Query().Get("from"), 10, 64)
	to, _ := strconv.ParseInt(u.Query().Get("to"), 10, 64)
	if u.Query().Has("range") || u.Query().Get("sort") != "age" || to-from < 20*60 || to-from > 40*60 || to > now.Unix()+60 || from < now.Add(-time.Hour).Unix()-60 {
		t.Errorf("after a drag over the middle half of the hour: %s", u.RawQuery)
	}
	waitJS("zoomed charts ready", allReady+` && window.__urls.length >= 5`, 5*time.Second)
	checkSteps("zoomed")
	var urls string
	eval("requests", `window.__urls.join('\n')`, &urls)
	for _, line := range strings.Split(urls, "\n") {
		q, err := url.Parse(line)
		if err != nil || q.Path != "/api/v1/query_range" {
			continue
		}
		s, _ := strconv.ParseFloat(q.Query().Get("step"), 64)
		st, _ := strconv.ParseFloat(q.Query().Get("start"), 64)
		en, _ := strconv.ParseFloat(q.Query().Get("end"), 64)
		if s <= 0 || en-st > s*1400 || en > float64(to) || st > float64(from) {
			t.Errorf("zoomed request %s: want the span %d..%d at a step fitting the chart", line, from, to)
		}
	}
	// Double-click: back to the page's range and URL.
	tab.run("double-click", chromedp.MouseClickXY(bx[0]+bx[2]/2, y), chromedp.MouseClickXY(bx[0]+bx[2]/2, y, chromedp.ClickCount(2)))
	waitJS("reset", `document.querySelectorAll('[data-chart][data-zoomed]').length === 0 && location.search === '?sort=age'`, 5*time.Second)
	var marker float64
	eval("no reload", `window.__noReload || 0`, &marker)
	if marker != 1 {
		t.Errorf("zooming reloaded the page")
	}

	// The range picker: 7d navigates, the URL says so and every chart shows 7 days.
	tab.run("7d", chromedp.Click(css(`[data-testid="range-opt"][data-range-key="7d"]`)))
	waitJS("7d page", `new URLSearchParams(location.search).get('range') === '7d' && document.querySelector('[data-chart]') && document.querySelector('[data-chart]').dataset.range === '604800'`, 5*time.Second)
	if u := location(); u.Query().Get("sort") != "age" {
		t.Errorf("7d link dropped sort: %s", u.RawQuery)
	}
	waitJS("7d charts ready", allReady, 10*time.Second)
	checkSteps("7d")
	tab.run("30d", chromedp.Click(css(`[data-testid="range-opt"][data-range-key="30d"]`)))
	waitJS("30d page", `new URLSearchParams(location.search).get('range') === '30d' && document.querySelector('[data-chart]') && document.querySelector('[data-chart]').dataset.range === '2592000'`, 5*time.Second)
	waitJS("30d charts ready", allReady, 10*time.Second)
	checkSteps("30d")

	// The custom form: times typed in the browser's time zone go out as unix seconds.
	ny, err := time.LoadLocation(browserTZ)
	if err != nil {
		t.Fatal(err)
	}
	f0 := now.In(ny).Add(-5 * time.Hour).Truncate(time.Minute)
	t0 := f0.Add(2 * time.Hour)
	tab.run("custom form",
		chromedp.Click(css(`[data-testid="range-custom-toggle"]`)),
		chromedp.WaitVisible(css(`[data-testid="range-from"]`)),
		chromedp.SetValue(css(`[data-testid="range-from"]`), f0.Format("2006-01-02T15:04")),
		chromedp.SetValue(css(`[data-testid="range-to"]`), t0.Format("2006-01-02T15:04")),
		chromedp.Click(css(`[data-testid="range-apply"]`)),
	)
	waitJS("custom page", `new URLSearchParams(location.search).has('from') && document.querySelector('[data-chart]') && document.querySelector('[data-chart]').dataset.start`, 5*time.Second)
	u = location()
	if got, want := u.Query().Get("from"), strconv.FormatInt(f0.Unix(), 10); got != want {
		t.Errorf("custom from=%q, want %s (%s read in %s)", got, want, f0.Format("15:04"), browserTZ)
	}
	if got, want := u.Query().Get("to"), strconv.FormatInt(t0.Unix(), 10); got != want {
		t.Errorf("custom to=%q, want %s", got, want)
	}
	if u.Query().Has("range") || u.Query().Get("sort") != "age" {
		t.Errorf("custom URL %s: want sort kept and no range", u.RawQuery)
	}
	waitJS("custom charts ready", allReady, 10*time.Second)
	var shown string
	eval("custom inputs", `document.querySelector('[data-testid="range-from"]').value + '|' + document.querySelector('[data-chart]').dataset.start + '|' + document.querySelector('[data-chart]').dataset.end`, &shown)
	if want := f0.Format("2006-01-02T15:04") + "|" + strconv.FormatInt(f0.Unix(), 10) + "|" + strconv.FormatInt(t0.Unix(), 10); shown != want {
		t.Errorf("custom page: from input|data-start|data-end = %q, want %q (local time)", shown, want)
	}
	checkSteps("custom")
	tab.screenshot("redis-instance-custom-range")
	// A fixed span is loaded once: no requests after that, though every chart's refresh timer
	// fires.
	eval("count requests", `window.__fixedUrls = 0; const g = window.fetch; window.fetch = function () { window.__fixedUrls++; return g.apply(this, arguments) };
		window.__ticked = new Set(); redwatch.charts().forEach(c => { const tick = c.tick; c.tick = function () { window.__ticked.add(c); return tick.apply(this, arguments) } }); 1`, nil)
	waitJS("a refresh of every chart", `redwatch.charts().every(c => window.__ticked.has(c))`, 5*time.Second)
	var fixedReqs float64
	eval("fixed requests", `window.__fixedUrls`, &fixedReqs)
	if fixedReqs != 0 {
		t.Errorf("a fixed span made %v chart requests after loading", fixedReqs)
	}

	// The client filter narrows the table as one types and keeps focus while polls refresh it.
	tab.run("filter",
		chromedp.Navigate(base+"/redis/cache"),
		chromedp.WaitVisible(css(`[data-testid="client-row"]`)),
	)
	eval("count swaps", `window.__swaps = 0; document.addEventListener('htmx:afterSwap', e => { if (e.detail.target.id === 'redis-clients') window.__swaps++ }); 1`, nil)
	tab.run("type filter", chromedp.SendKeys(css(`[data-testid="client-filter"]`), "api"))
	waitJS("filtered", `document.querySelectorAll('[data-testid="client-row"]').length === 1 && window.__swaps >= 1`, 5*time.Second)
	waitJS("a poll after typing", `window.__swaps >= 2`, 5*time.Second)
	var focus string
	eval("focus", `document.activeElement.id + '|' + document.querySelectorAll('[data-testid="client-row"]').length + '|' + document.activeElement.value`, &focus)
	if focus != "client-filter|1|api" {
		t.Errorf("after a poll: active element|rows|value = %q, want client-filter|1|api", focus)
	}

	// Hidden tab: polls stop (each polled panel's timer fires, its request is not sent); shown
	// again: every polled panel refreshes at once.
	eval("hide", `window.__sent = 0; document.addEventListener('htmx:beforeSend', () => window.__sent++);
		window.__polled = new Set(); document.addEventListener('htmx:beforeRequest', e => { if (document.hidden) window.__polled.add(e.detail.elt.id) });
		Object.defineProperty(document, 'hidden', {configurable: true, get: () => window.__hidden});
		window.__hidden = true; document.dispatchEvent(new Event('visibilitychange')); 1`, nil)
	waitJS("a poll of every panel while hidden", `[...document.querySelectorAll('[hx-trigger*="every"]')].every(el => el.id && window.__polled.has(el.id))`, 5*time.Second)
	var sent float64
	eval("sent while hidden", `window.__sent`, &sent)
	if sent != 0 {
		t.Errorf("%v htmx requests while the tab was hidden", sent)
	}
	// The refresh is sent while the page handles the event, before any timer could fire.
	eval("show", `window.__hidden = false; document.dispatchEvent(new Event('visibilitychange')); window.__sent`, &sent)
	if sent < 3 {
		t.Errorf("%v htmx requests when the tab showed again, want a refresh of the 3 polled panels at once", sent)
	}

	// A phone: no page-wide horizontal scroll; the nav wraps.
	tab.run("phone", chromedp.EmulateViewport(375, 800), chromedp.Navigate(base+"/redis/cache"), chromedp.WaitVisible(css(`[data-testid="client-row"]`)))
	waitJS("phone charts", allReady, 10*time.Second)
	var overflow string
	eval("overflow", `document.documentElement.scrollWidth + '/' + window.innerWidth`, &overflow)
	if w, vw, _ := strings.Cut(overflow, "/"); w != vw {
		t.Errorf("page is %s px wide on a 375 px phone", overflow)
	}
	tab.screenshot("redis-instance-phone")
}
